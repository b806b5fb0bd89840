//! `mq pub`: mosquitto_pub. Arguments are checked and the message loaded before connecting;
//! `-l` streams stdin line by line and survives a lost connection by reconnecting and sending
//! again every QoS 1/2 message not yet acknowledged (or exits non-zero).

use super::{Error, Tool};
use crate::cli::connect::{self, ConnectPlan, Usage, is_lost};
use crate::cli::properties::{self, PropertyArgs};
use crate::cli::publish::PubArgs;
use crate::client::{Client, ClientError, ClientOptions, PendingPublish};
use crate::protocol::{Disconnect, Props, Publish, QoS};
use crate::topic::TopicName;
use bytes::Bytes;
use std::collections::VecDeque;
use std::io::Read;
use std::time::Duration;
use tokio::io::AsyncBufReadExt;

/// Unacknowledged messages kept before `-l` waits for the oldest.
const LINE_WINDOW: usize = 1000;
/// Reconnection attempts in `-l` mode, one second apart.
const RECONNECT_TRIES: u32 = 60;

/// Where the payload comes from.
#[derive(Debug)]
enum Source {
    /// `-m`, `-f`, `-s`, `-n`: one payload, sent `repeat` times.
    Once(Bytes),
    /// `-l`.
    Lines,
}

/// The checked command.
#[derive(Debug)]
struct Plan {
    conn: ConnectPlan,
    topic: TopicName,
    source: Source,
    qos: QoS,
    retain: bool,
    repeat: u64,
    delay: Duration,
    hex: bool,
    props: PropertyArgs,
}

/// `--hex`: `48656c6c6f` is `Hello`; whitespace between bytes is allowed.
pub fn decode_hex(s: &[u8]) -> Option<Vec<u8>> {
    let digits: Vec<u8> = s
        .iter()
        .copied()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    if digits.len() % 2 != 0 {
        return None;
    }
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
        .collect()
}

fn load_source(a: &PubArgs) -> Result<Option<Source>, Usage> {
    let n = usize::from(a.message.is_some())
        + usize::from(a.file.is_some())
        + usize::from(a.stdin_file)
        + usize::from(a.stdin_line)
        + usize::from(a.null_message);
    if n > 1 {
        return Err(Usage(
            "Only one type of message can be sent at once.\n".into(),
        ));
    }
    Ok(if let Some(m) = &a.message {
        if a.hex {
            let bytes = decode_hex(m.as_bytes())
                .ok_or_else(|| Usage(format!("Invalid hexadecimal message '{m}'.")))?;
            Some(Source::Once(Bytes::from(bytes)))
        } else {
            Some(Source::Once(Bytes::from(m.clone())))
        }
    } else if a.null_message {
        Some(Source::Once(Bytes::new()))
    } else if a.stdin_line {
        Some(Source::Lines)
    } else {
        None
    })
}

/// Reads `-f FILE` or `-s` (after the argument checks, as mosquitto does); errors are its two
/// lines. Shared by pub and rr.
pub(super) fn load_payload(
    file: Option<&std::path::Path>,
    stdin_file: bool,
) -> Result<Option<Bytes>, String> {
    if let Some(f) = file {
        return std::fs::read(f).map(|d| Some(Bytes::from(d))).map_err(|_| {
            let f = f.display();
            format!("Error: Unable to open file \"{f}\".\nError loading input file \"{f}\".")
        });
    }
    if stdin_file {
        let mut data = Vec::new();
        let _ = std::io::stdin().lock().read_to_end(&mut data);
        if data.is_empty() {
            return Err("Error: Zero length input.\nError loading input from stdin.".into());
        }
        return Ok(Some(Bytes::from(data)));
    }
    Ok(None)
}

fn plan(a: &PubArgs) -> Result<Plan, Error> {
    let usage = Error::usage(Tool::Pub);
    let props = properties::parse(&a.client.property).map_err(usage)?;
    let conn = connect::plan(
        &a.server,
        a.version.protocol_version,
        &a.client,
        &a.tls,
        &a.will,
        &props,
        false,
    )
    .map_err(usage)?;
    let source = load_source(a).map_err(usage)?;
    if let Some(r) = a.repeat
        && r < 1
    {
        return Err(usage(Usage("--repeat argument must be >0.\n".into())));
    }
    if let Some(d) = a.repeat_delay
        && !(d >= 0.0 && d.is_finite())
    {
        return Err(usage(Usage(
            "--repeat-delay argument must be >=0.0.\n".into(),
        )));
    }
    let topic = a.topic.clone().or_else(|| conn.url_topic.clone());
    let has_payload = source.is_some() || a.file.is_some() || a.stdin_file;
    let Some(topic) = topic.filter(|_| has_payload) else {
        return Err(Error::Failed(
            "Error: Both topic and message must be supplied.\nUse 'mq pub --help' to see usage."
                .into(),
        ));
    };
    let topic = TopicName::new(topic.as_str()).map_err(|_| {
        usage(Usage(format!(
            "Invalid publish topic '{topic}', does it contain '+' or '#'?"
        )))
    })?;
    let source = match source {
        Some(s) => s,
        None => match load_payload(a.file.as_deref(), a.stdin_file) {
            Ok(Some(p)) => Source::Once(p),
            Ok(None) => Source::Once(Bytes::new()),
            Err(e) => return Err(Error::Failed(e)),
        },
    };
    Ok(Plan {
        conn,
        topic,
        source,
        qos: a.qos,
        retain: a.retain,
        repeat: a.repeat.unwrap_or(1) as u64,
        delay: Duration::from_secs_f64(a.repeat_delay.unwrap_or(0.0)),
        hex: a.hex,
        props,
    })
}

/// Runs `mq pub`.
pub async fn run(args: PubArgs) -> Result<(), Error> {
    let mut plan = plan(&args)?;
    plan.conn.options.message_buffer = 0;
    let quiet = plan.conn.quiet;
    let (client, _) = Client::connect(plan.conn.options.clone())
        .await
        .map_err(|e| Error::Connect(e).quiet_if(quiet))?;
    let result = match &plan.source {
        Source::Once(payload) => publish_repeated(&client, &plan, payload.clone()).await,
        Source::Lines => publish_lines(client, &plan).await,
    };
    result.map_err(|e| Error::Lost(e).quiet_if(quiet))
}

fn message(plan: &Plan, topic: TopicName, payload: Bytes) -> Publish {
    Publish {
        dup: false,
        qos: plan.qos,
        retain: plan.retain,
        topic,
        packet_id: None,
        properties: if plan.conn.options.version.is_v5() {
            Props::new(plan.props.publish.clone())
        } else {
            Props::default()
        },
        payload,
    }
}

/// A v5 acknowledgement with an error reason is a warning, not a failure (as mosquitto_pub).
fn settle(r: Result<(), ClientError>, mid: u64, quiet: bool) -> Result<(), ClientError> {
    match r {
        Err(ClientError::Rejected(reason)) => {
            if !quiet {
                eprintln!("Warning: Publish {mid} failed: {}.", reason.description());
            }
            Ok(())
        }
        other => other,
    }
}

fn disconnect_packet(plan: &Plan) -> Disconnect {
    Disconnect {
        properties: Props::new(plan.props.disconnect.clone()),
        ..Disconnect::default()
    }
}

async fn publish_repeated(client: &Client, plan: &Plan, payload: Bytes) -> Result<(), ClientError> {
    let alias = plan.conn.options.version.is_v5() && plan.props.publish.topic_alias.is_some();
    for i in 0..plan.repeat {
        // With a topic alias, mosquitto_pub sends the topic only the first time.
        let topic = if alias && i > 0 {
            TopicName::empty()
        } else {
            plan.topic.clone()
        };
        // As mosquitto_pub: the next repetition starts once the previous one is delivered.
        let r = client
            .publish_message(message(plan, topic, payload.clone()))
            .await;
        settle(r, i + 1, plan.conn.quiet)?;
        if i + 1 < plan.repeat && !plan.delay.is_zero() {
            tokio::time::sleep(plan.delay).await;
        }
    }
    client.disconnect_with(disconnect_packet(plan)).await
}

/// `-l`: the connection, the unacknowledged messages, and how to get both back.
struct LineSender<'a> {
    plan: &'a Plan,
    opts: ClientOptions,
    client: Client,
    pending: VecDeque<(Publish, PendingPublish)>,
}

impl LineSender<'_> {
    async fn send(&mut self, p: Publish) -> Result<(), ClientError> {
        loop {
            match self.client.start_publish_message(p.clone()).await {
                Ok(pp) => {
                    if p.qos != QoS::AtMostOnce {
                        self.pending.push_back((p, pp));
                    }
                    return self.reap(false).await;
                }
                Err(e) if is_lost(&e) => self.reconnect(e).await?,
                Err(e) => return Err(e),
            }
        }
    }

    /// Drops acknowledged messages from the front; with `all`, waits for every one.
    async fn reap(&mut self, all: bool) -> Result<(), ClientError> {
        loop {
            let must_wait = all || self.pending.len() > LINE_WINDOW;
            let Some((_, front)) = self.pending.front_mut() else {
                return Ok(());
            };
            let r = if must_wait {
                front.acknowledged().await
            } else {
                match front.try_wait() {
                    Some(r) => r,
                    None => return Ok(()),
                }
            };
            match r {
                // Everything still pending is sent again on the new connection.
                Err(e) if is_lost(&e) => self.reconnect(e).await?,
                r => {
                    self.pending.pop_front();
                    settle(r, 0, self.plan.conn.quiet)?;
                }
            }
        }
    }

    /// Reconnects and sends again every unacknowledged message, or gives up with the error.
    async fn reconnect(&mut self, cause: ClientError) -> Result<(), ClientError> {
        let quiet = self.plan.conn.quiet;
        if !quiet {
            eprintln!("Warning: connection lost ({cause}), reconnecting.");
        }
        let mut last = cause;
        // Acknowledged before the loss (but not reaped yet): not sent again.
        let msgs: Vec<Publish> = self
            .pending
            .drain(..)
            .filter_map(|(p, mut pp)| match pp.try_wait() {
                Some(Ok(())) | Some(Err(ClientError::Rejected(_))) => None,
                _ => Some(p),
            })
            .collect();
        'attempt: for _ in 0..RECONNECT_TRIES {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let client = match Client::connect(self.opts.clone()).await {
                Ok((c, _)) => c,
                Err(e) => {
                    last = e;
                    continue;
                }
            };
            let mut fresh = VecDeque::with_capacity(msgs.len());
            for p in &msgs {
                match client.start_publish_message(p.clone()).await {
                    Ok(pp) => fresh.push_back((p.clone(), pp)),
                    Err(e) => {
                        last = e;
                        continue 'attempt;
                    }
                }
            }
            self.client = client;
            self.pending = fresh;
            return Ok(());
        }
        if !quiet {
            eprintln!(
                "Error: could not reconnect; {} message(s) not acknowledged.",
                msgs.len()
            );
        }
        Err(last)
    }
}

async fn publish_lines(client: Client, plan: &Plan) -> Result<(), ClientError> {
    let mut sender = LineSender {
        plan,
        opts: plan.conn.options.clone(),
        client,
        pending: VecDeque::new(),
    };
    let mut stdin = tokio::io::BufReader::with_capacity(64 * 1024, tokio::io::stdin());
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = stdin.read_until(b'\n', &mut line).await.unwrap_or(0);
        if n == 0 {
            break;
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        let payload = if plan.hex {
            match decode_hex(&line) {
                Some(b) => Bytes::from(b),
                None => {
                    if !plan.conn.quiet {
                        eprintln!("Error: Invalid hexadecimal line skipped.");
                    }
                    continue;
                }
            }
        } else {
            Bytes::copy_from_slice(&line)
        };
        sender
            .send(message(plan, plan.topic.clone(), payload))
            .await?;
    }
    sender.reap(true).await?;
    sender.client.disconnect_with(disconnect_packet(plan)).await
}

#[cfg(test)]
mod tests {
    use super::decode_hex;

    #[test]
    fn hex_payloads() {
        assert_eq!(decode_hex(b"48656c6C6f"), Some(b"Hello".to_vec()));
        assert_eq!(decode_hex(b"00 ff\t01"), Some(vec![0, 255, 1]));
        assert_eq!(decode_hex(b""), Some(vec![]));
        assert_eq!(decode_hex(b"abc"), None);
        assert_eq!(decode_hex(b"zz"), None);
    }
}
