//! `$SYS`: every topic Debian's mosquitto publishes, `mq broker` publishes too, with a payload
//! of the same shape (integer, two-decimal average, "N seconds", version text).

mod common;

use common::*;
use std::collections::BTreeMap;
use std::process::Command;

/// The shape of a `$SYS` payload, which clients parse.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Shape {
    Integer,
    Decimal,
    Seconds,
    Version,
    Other,
}

fn is_integer(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn shape(payload: &str) -> Shape {
    let decimal = payload
        .split_once('.')
        .is_some_and(|(i, f)| is_integer(i) && f.len() == 2 && is_integer(f));
    let version = payload
        .split_once(" version ")
        .is_some_and(|(name, v)| !name.is_empty() && !v.is_empty() && !v.contains(' '));
    if is_integer(payload) {
        Shape::Integer
    } else if decimal {
        Shape::Decimal
    } else if payload.strip_suffix(" seconds").is_some_and(is_integer) {
        Shape::Seconds
    } else if version {
        Shape::Version
    } else {
        Shape::Other
    }
}

/// Publishes a retained message, then collects `$SYS/#` for a few updates (`sys_interval 1`):
/// the last payload seen of each topic.
fn sys_topics(broker: &TestBroker) -> BTreeMap<String, String> {
    let port = broker.port().to_string();
    let host = ["-h", "127.0.0.1", "-p", port.as_str()];
    let st = Command::new("mosquitto_pub")
        .args(host)
        .args(["-t", "kept", "-m", "value", "-r", "-q", "1"])
        .status()
        .expect("mosquitto_pub");
    assert!(st.success(), "mosquitto_pub: {st}");
    // -W bounds the collection: mosquitto republishes only what changed, so no count fits.
    let out = Command::new("timeout")
        .args(["20", "mosquitto_sub"])
        .args(host)
        .args(["-t", "$SYS/#", "-v", "-W", "4"])
        .output()
        .expect("mosquitto_sub");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("$SYS/broker/")?;
            let (topic, payload) = split_topic(rest)?;
            Some((format!("$SYS/broker/{topic}"), payload.to_string()))
        })
        .collect()
}

/// Splits "levels payload": topics may hold spaces ("retained messages/count"), so the payload
/// is the last word, but for `uptime` and `version`, whose payloads hold spaces.
fn split_topic(line: &str) -> Option<(&str, &str)> {
    match line.split_once(' ')? {
        (t @ ("uptime" | "version"), payload) => Some((t, payload)),
        _ => line.rsplit_once(' '),
    }
}

#[test]
fn split_topic_handles_spaces_in_topics_and_payloads() {
    assert_eq!(
        split_topic("retained messages/count 3"),
        Some(("retained messages/count", "3"))
    );
    assert_eq!(
        split_topic("uptime 12 seconds"),
        Some(("uptime", "12 seconds"))
    );
    assert_eq!(
        split_topic("version mosquitto version 2.0.11"),
        Some(("version", "mosquitto version 2.0.11"))
    );
    assert_eq!(
        split_topic("publish/messages/sys refused 0"),
        Some(("publish/messages/sys refused", "0"))
    );
    assert_eq!(shape("0.00"), Shape::Decimal);
    assert_eq!(shape("12"), Shape::Integer);
    assert_eq!(shape("3 seconds"), Shape::Seconds);
    assert_eq!(shape("mq version 0.1.0"), Shape::Version);
    assert_eq!(shape("1.5"), Shape::Other);
}

#[test]
fn mq_publishes_every_sys_topic_mosquitto_does_in_the_same_shape() {
    if !require(&[Peer::Mosquitto, Peer::MosquittoClients]) {
        return;
    }
    let conf = || Conf::new().line("sys_interval 1");
    let mosquitto = TestBroker::mosquitto(conf());
    let theirs = sys_topics(&mosquitto);
    assert!(
        theirs.len() >= 38,
        "mosquitto published only {} $SYS topics: {theirs:?}",
        theirs.len()
    );
    let mq = TestBroker::mq(conf());
    let ours = sys_topics(&mq);
    let mut wrong = Vec::new();
    for (topic, payload) in &theirs {
        let want = shape(payload);
        match ours.get(topic) {
            None => wrong.push(format!("{topic}: missing (mosquitto says {payload:?})")),
            Some(p) if shape(p) != want => {
                wrong.push(format!("{topic}: {p:?}, mosquitto says {payload:?}"))
            }
            Some(_) => {}
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(ours["$SYS/broker/version"].starts_with("mq version "));
    // The retained message published above is counted.
    let retained: u64 = ours["$SYS/broker/retained messages/count"].parse().unwrap();
    assert!(retained >= 1, "{ours:?}");
    let sockets = ours["$SYS/broker/load/sockets/1min"]
        .parse::<f64>()
        .unwrap();
    assert!(sockets > 0.0, "two connections opened: {ours:?}");
    // Our own extras stay.
    for extra in [
        "packets/oversize",
        "store/refused",
        "publish/messages/sys refused",
    ] {
        assert!(
            ours.contains_key(&format!("$SYS/broker/{extra}")),
            "{extra}"
        );
    }
}
