//! Names and their limits: the longest topic and client id the broker accepts (searched by
//! doubling, then bisection, up to the 65,535 bytes an MQTT string can hold), and which
//! characters it refuses in a topic.

use super::access::try_connect;
use super::outcome::{Check, Outcome, Status, fmt_count};
use super::search::{Search, Trials};
use super::target::{Target, recv_until, refused, why};
use crate::client::{Client, ClientError};
use crate::protocol::{QoS, Version};
use serde_json::json;
use std::collections::BTreeSet;
use std::time::Duration;
use tokio::time::Instant;

/// The longest string MQTT can carry.
const MAX_STRING: u64 = 65_535;
/// How long one trial waits for its message before calling it dropped.
const TRIAL_WAIT: Duration = Duration::from_secs(2);

/// True when `e` means the connection is gone rather than one request refused.
fn lost(e: &ClientError) -> bool {
    crate::cli::connect::is_lost(e)
}

/// A long name: `prefix` then `x` up to `len` bytes (cut to `len` if the prefix is longer).
fn long_name(prefix: &str, len: u64) -> String {
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    let mut s: String = prefix.chars().take(len).collect();
    s.extend(std::iter::repeat_n('x', len.saturating_sub(s.len())));
    s
}

/// The figure of a length search.
fn length_outcome(check: Check, v: Version, s: Trials) -> Outcome {
    let found = s.search.found();
    let figure = s.figure("bytes", "the longest an MQTT string can be");
    let status = if found.largest_passed().is_some() {
        Status::Ok
    } else {
        Status::No
    };
    Outcome::new(check, Some(v), status, figure, found.json())
}

/// The longest topic a client can subscribe to and publish on, with the message delivered.
pub async fn topic_length(t: &Target, v: Version) -> Outcome {
    let deadline = t.deadline();
    let root = t.topic("len/");
    let mut s = Trials::new(
        Search::new((root.len() as u64 + 1).max(128), MAX_STRING),
        deadline,
    );
    let mut conn: Option<Client> = None;
    while let Some(n) = s.search.next() {
        let topic = long_name(&root, n);
        if !s
            .run(n, topic_trial(t, v, &mut conn, &topic, deadline))
            .await
        {
            break;
        }
    }
    if let Some(c) = conn {
        let _ = c.disconnect().await;
    }
    length_outcome(Check::TopicLength, v, s)
}

/// One topic length trial on the kept connection (reopened after the broker closed it).
async fn topic_trial(
    t: &Target,
    v: Version,
    conn: &mut Option<Client>,
    topic: &str,
    deadline: Instant,
) -> Result<(), String> {
    let c = match conn.take() {
        Some(c) => c,
        None => t.connect(v).await.map_err(|e| why(&e))?,
    };
    let result = async {
        let ack = c.subscribe(&[(topic, QoS::AtLeastOnce)]).await?;
        if let Some(r) = refused(&ack) {
            return Ok(Err(format!("subscription refused: {r}")));
        }
        c.publish(topic, "mq test", QoS::AtLeastOnce, false).await?;
        let until = deadline.min(Instant::now() + TRIAL_WAIT);
        while let Some(m) = recv_until(&c, until).await {
            if m.topic.as_str() == topic {
                return Ok(Ok(()));
            }
        }
        Ok(Err("acknowledged but not delivered".into()))
    }
    .await;
    match result {
        Ok(verdict) => {
            *conn = Some(c);
            verdict
        }
        Err(e) if lost(&e) => Err(why(&e)),
        Err(e) => {
            *conn = Some(c);
            Err(why(&e))
        }
    }
}

/// The longest client id the broker accepts in CONNECT.
pub async fn client_id_length(t: &Target, v: Version) -> Outcome {
    let deadline = t.deadline();
    let mut s = Trials::new(Search::new(23, MAX_STRING), deadline);
    while let Some(n) = s.search.next() {
        let mut opts = t.options(v);
        opts.client_id = long_name(t.id_prefix(), n);
        if !s
            .run(n, async { try_connect(opts).await.map_err(|e| why(&e)) })
            .await
        {
            break;
        }
    }
    length_outcome(Check::ClientIdLength, v, s)
}

/// The characters tried in a topic: the C0 controls, printable ASCII but for the separator and
/// the wildcards (which the protocol forbids in topic names), DEL and the C1 controls, and a
/// few others (two- to four-byte UTF-8, the byte order mark, a non-character).
pub fn candidates() -> Vec<char> {
    let controls = (0x01u32..=0x1F).chain(0x7F..=0x9F);
    let printable =
        (0x20u32..=0x7E).filter(|&c| !matches!(char::from_u32(c), Some('/' | '+' | '#')));
    let others = [0xE9u32, 0x20AC, 0x4E2D, 0x1F600, 0xFEFF, 0xFFFF];
    let mut all: Vec<char> = controls
        .chain(printable)
        .chain(others)
        .filter_map(char::from_u32)
        .collect();
    all.sort_unstable();
    all
}

/// Which candidate characters the broker refuses inside a topic level: publishes
/// `ROOT/chars/<code>/a<char>b` for each, pipelined; a rejected acknowledgement or a closed
/// connection marks that character (the connection is reopened for the rest), and with a `#`
/// subscriber, an accepted message that never arrives does too.
pub async fn topic_characters(t: &Target, v: Version) -> Outcome {
    let deadline = t.deadline();
    let chars = candidates();
    let topics: Vec<String> = chars
        .iter()
        .map(|c| t.topic(&format!("chars/{:04X}/a{c}b", u32::from(*c))))
        .collect();
    let watcher = match t.connect(v).await {
        Ok(c) => c
            .subscribe(&[(t.topic("chars/#").as_str(), QoS::AtLeastOnce)])
            .await
            .ok()
            .filter(|ack| refused(ack).is_none())
            .map(|_| c),
        Err(e) => return chars_outcome(v, Err(why(&e)), &chars),
    };
    let mut refused_at: BTreeSet<usize> = BTreeSet::new();
    let mut accepted: BTreeSet<usize> = BTreeSet::new();
    let (mut next, mut pipelined) = (0, true);
    while next < topics.len() && Instant::now() < deadline {
        let p = match publish_from(t, v, &topics, next, pipelined, deadline).await {
            Ok(p) => p,
            Err(why) => return chars_outcome(v, Err(why), &chars),
        };
        accepted.extend(p.acked);
        refused_at.extend(p.rejected);
        next = match p.lost_at {
            // The first publication of a connection, or one sent alone, is the one that
            // closed it.
            Some(i) if i == next || !pipelined => {
                refused_at.insert(i);
                pipelined = true;
                i + 1
            }
            // The broker may close before sending the acknowledgements of what came before
            // the culprit: go on one at a time until it is found.
            Some(i) => {
                pipelined = false;
                i
            }
            None => p.stopped_at.unwrap_or(topics.len()),
        };
    }
    if let Some(w) = watcher {
        let arrived = collect_arrivals(&w, &topics, &accepted, deadline).await;
        let _ = w.disconnect().await;
        refused_at.extend(accepted.difference(&arrived));
    }
    let incomplete = next < topics.len();
    chars_outcome(v, Ok((refused_at, incomplete)), &chars)
}

/// What one connection's run of publications gave.
#[derive(Debug, Default)]
struct Published {
    /// Indices acknowledged.
    acked: Vec<usize>,
    /// Indices refused in their acknowledgement (v5 reason codes).
    rejected: Vec<usize>,
    /// The index at which the connection was lost (the rest were not judged).
    lost_at: Option<usize>,
    /// The index at which time ran out (it and the rest were not judged).
    stopped_at: Option<usize>,
}

/// Publishes `topics[from..]` on one connection, all at once (`pipelined`) or each after the
/// acknowledgement of the one before, until the connection is lost.
async fn publish_from(
    t: &Target,
    v: Version,
    topics: &[String],
    from: usize,
    pipelined: bool,
    deadline: Instant,
) -> Result<Published, String> {
    let c = t.connect(v).await.map_err(|e| why(&e))?;
    let mut out = Published::default();
    let mut pending = Vec::new();
    for (i, topic) in topics.iter().enumerate().skip(from) {
        match c
            .start_publish(topic, "mq test", QoS::AtLeastOnce, false)
            .await
        {
            Ok(p) => pending.push((i, p)),
            Err(_) => break,
        }
        if !pipelined && !judge(&mut out, std::mem::take(&mut pending), deadline).await {
            return Ok(out);
        }
    }
    if judge(&mut out, pending, deadline).await {
        let _ = c.disconnect().await;
    }
    Ok(out)
}

/// Waits for the acknowledgements of `pending` in order; false once the connection is lost or
/// time ran out.
async fn judge(
    out: &mut Published,
    pending: Vec<(usize, crate::client::PendingPublish)>,
    deadline: Instant,
) -> bool {
    for (i, p) in pending {
        match tokio::time::timeout_at(deadline, p.wait()).await {
            Ok(Ok(())) => out.acked.push(i),
            Ok(Err(e)) if !lost(&e) => out.rejected.push(i),
            Ok(Err(_)) => {
                out.lost_at = Some(i);
                return false;
            }
            Err(_) => {
                out.stopped_at = Some(i);
                return false;
            }
        }
    }
    true
}

/// The accepted topics that reached the `#` subscriber before the deadline (or a short wait
/// once the deliveries stop).
async fn collect_arrivals(
    w: &Client,
    topics: &[String],
    accepted: &BTreeSet<usize>,
    deadline: Instant,
) -> BTreeSet<usize> {
    let mut arrived = BTreeSet::new();
    while arrived.len() < accepted.len() {
        let until = deadline.min(Instant::now() + TRIAL_WAIT);
        let Some(m) = recv_until(w, until).await else {
            break;
        };
        if let Some(i) = topics.iter().position(|t| t == m.topic.as_str()) {
            arrived.insert(i);
        }
    }
    arrived
}

/// `U+0001–U+001F, U+007F–U+009F, U+FFFF` from sorted characters.
pub fn ranges(chars: &[char]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let mut j = i;
        while j + 1 < chars.len() && u32::from(chars[j + 1]) == u32::from(chars[j]) + 1 {
            j += 1;
        }
        let name = |c: char| {
            if c.is_ascii_graphic() {
                format!("U+{:04X} '{c}'", u32::from(c))
            } else {
                format!("U+{:04X}", u32::from(c))
            }
        };
        parts.push(if i == j {
            name(chars[i])
        } else {
            format!("{}–{}", name(chars[i]), name(chars[j]))
        });
        i = j + 1;
    }
    parts.join(", ")
}

fn chars_outcome(
    v: Version,
    result: Result<(BTreeSet<usize>, bool), String>,
    chars: &[char],
) -> Outcome {
    let say = |status, figure: String, value| {
        Outcome::new(Check::TopicCharacters, Some(v), status, figure, value)
    };
    let (refused_at, incomplete) = match result {
        Ok(r) => r,
        Err(why) => return say(Status::No, why, json!(null)),
    };
    let refused: Vec<char> = refused_at.iter().map(|&i| chars[i]).collect();
    let codes: Vec<String> = refused
        .iter()
        .map(|c| format!("U+{:04X}", u32::from(*c)))
        .collect();
    let value = json!({"tested": chars.len(), "refused": codes, "complete": !incomplete});
    let mut figure = if refused.is_empty() {
        format!("none of {} tried", fmt_count(chars.len() as u64))
    } else {
        ranges(&refused)
    };
    if incomplete {
        figure.push_str(" (time limit reached before the end)");
    }
    let status = if refused.is_empty() {
        Status::Ok
    } else {
        Status::No
    };
    say(status, figure, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_skip_what_topic_names_cannot_hold() {
        let c = candidates();
        assert!(!c.contains(&'/') && !c.contains(&'+') && !c.contains(&'#'));
        assert!(!c.contains(&'\0'));
        assert!(c.contains(&'\u{1}') && c.contains(&'\u{9F}') && c.contains(&'😀'));
        assert!(c.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(c.len(), 31 + 92 + 33 + 6);
    }

    #[test]
    fn refused_characters_read_as_ranges() {
        let cs: Vec<char> = (0x01u32..=0x1F)
            .chain([0x24, 0x7F, 0x80, 0xFFFF])
            .filter_map(char::from_u32)
            .collect();
        assert_eq!(
            ranges(&cs),
            "U+0001–U+001F, U+0024 '$', U+007F–U+0080, U+FFFF"
        );
    }

    #[test]
    fn long_names_have_the_asked_length() {
        assert_eq!(long_name("ab-", 6), "ab-xxx");
        assert_eq!(long_name("abcdef", 3), "abc");
        assert_eq!(long_name("p/", 65_535).len(), 65_535);
    }
}
