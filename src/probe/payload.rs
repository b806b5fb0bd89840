//! The largest payload the broker delivers: doubling from 1 KiB up to what MQTT can carry
//! (or the maximum packet size the broker announced), then bisection, within the check's time.
//!
//! One trial is one fresh connection that subscribes to its own topic at QoS 0, publishes the
//! payload at QoS 1 (streamed, see [`super::raw`]) and then a three-byte marker to the same
//! topic. A broker forwards the messages of one topic in the order it received them
//! ([MQTT-4.6.0-6]), so when the marker comes back the verdict is in: the large message came
//! first, or it was dropped (mosquitto's `message_size_limit` acknowledges and drops). A broker
//! that closes the connection instead (mosquitto's `max_packet_size`) fails the trial at once.

use super::outcome::{Check, Outcome, Status, fmt_count};
use super::raw::{Incoming, RawLink};
use super::search::{Found, Search, Trials};
use super::target::{Caps, Target, why};
use crate::protocol::{
    Disconnect, MAX_REMAINING_LENGTH, Packet, Props, Publish, QoS, Subscribe, Subscription,
    SubscriptionOptions, Version,
};
use crate::topic::{TopicFilter, TopicName};
use bytes::Bytes;
use serde_json::json;
use std::num::NonZeroU16;

/// The first size tried.
const START: u64 = 1024;
/// The marker's payload.
const MARKER: &[u8] = b"end";

/// Bytes of a QoS 1 PUBLISH's variable header on `topic` (no properties).
fn head_len(topic: &TopicName, version: Version) -> u64 {
    2 + topic.len() as u64 + 2 + u64::from(version.is_v5())
}

/// Bytes of the variable byte integer that encodes `n`.
fn varint_len(n: u64) -> u64 {
    match n {
        0..128 => 1,
        128..16_384 => 2,
        16_384..2_097_152 => 3,
        _ => 4,
    }
}

/// The largest payload whose whole PUBLISH (fixed header included) fits in `packet_limit`.
pub fn largest_within(packet_limit: u64, head: u64) -> u64 {
    (1..=4)
        .filter_map(|l| {
            let remaining = packet_limit.checked_sub(1 + l)?;
            (varint_len(remaining) <= l).then_some(remaining)
        })
        .max()
        .map_or(0, |r| r.saturating_sub(head))
}

/// Searches the largest payload delivered on one connection of `version`.
pub async fn largest_payload(t: &Target, version: Version, caps: Caps) -> Outcome {
    let deadline = t.deadline();
    let outcome = |status, figure: String, value| {
        Outcome::new(Check::PayloadSize, Some(version), status, figure, value)
    };
    let Ok(topic) = TopicName::new(t.topic("payload")) else {
        return outcome(Status::No, "invalid topic prefix".into(), json!(null));
    };
    let head = head_len(&topic, version);
    let protocol_max = u64::from(MAX_REMAINING_LENGTH) - head;
    let ceiling = caps
        .max_packet_size
        .map_or(protocol_max, |m| largest_within(u64::from(m), head))
        .min(protocol_max);
    let mut trials = Trials::new(Search::new(START, ceiling), deadline);
    while let Some(size) = trials.search.next() {
        if !trials.run(size, trial(t, version, &topic, size)).await {
            break;
        }
    }
    let found = trials.search.found();
    let note = match caps.max_packet_size {
        Some(m) => format!(
            "the announced maximum packet size is {}",
            fmt_count(m.into())
        ),
        None => "every size MQTT can carry".into(),
    };
    let figure = trials.figure("bytes", &note);
    let status = if matches!(found, Found::Below(_)) {
        Status::No
    } else {
        Status::Ok
    };
    let mut value = found.json();
    value["announced_max_packet_size"] = json!(caps.max_packet_size);
    value["topic"] = json!(topic.as_str());
    outcome(status, figure, value)
}

fn publish(topic: &TopicName, id: u16, payload: &'static [u8]) -> Publish {
    Publish {
        dup: false,
        qos: QoS::AtLeastOnce,
        retain: false,
        topic: topic.clone(),
        packet_id: NonZeroU16::new(id),
        properties: Props::default(),
        payload: Bytes::from_static(payload),
    }
}

/// One trial of `size` bytes: `Ok` when the message came back whole, else how it was refused.
async fn trial(t: &Target, version: Version, topic: &TopicName, size: u64) -> Result<(), String> {
    let size = usize::try_from(size).map_err(|_| "too large for this machine".to_string())?;
    let opts = t.options(version);
    let (mut link, _) = RawLink::connect(&opts).await.map_err(|e| why(&e))?;
    let filter = TopicFilter::new(topic.as_str()).map_err(|e| e.to_string())?;
    let subscribe = Packet::Subscribe(Subscribe {
        packet_id: NonZeroU16::MIN,
        subscriptions: vec![Subscription {
            filter,
            options: SubscriptionOptions::default(),
        }],
        properties: Props::default(),
    });
    let closed = |e| why(&e);
    link.send(&subscribe).await.map_err(closed)?;
    loop {
        match link.recv().await.map_err(closed)? {
            Incoming::Packet(Packet::SubAck(ack)) => match ack.reasons.first() {
                Some(r) if r.is_error() => return Err(format!("subscription refused: {r}")),
                _ => break,
            },
            Incoming::Packet(Packet::Disconnect(d)) => {
                return Err(format!("disconnected: {}", d.reason));
            }
            _ => {}
        }
    }
    link.send_streamed(&publish(topic, 2, b""), size)
        .await
        .map_err(closed)?;
    link.send(&Packet::Publish(publish(topic, 3, MARKER)))
        .await
        .map_err(closed)?;
    let verdict = await_marker(&mut link, size).await;
    let _ = link.send(&Packet::Disconnect(Disconnect::default())).await;
    verdict
}

/// Reads until the marker comes back; `Ok` if the large message arrived before it.
async fn await_marker(link: &mut RawLink, size: usize) -> Result<(), String> {
    let mut delivered = false;
    loop {
        match link.recv().await.map_err(|e| why(&e))? {
            Incoming::Large(remaining) => delivered |= remaining >= size,
            Incoming::Packet(Packet::Publish(p)) if p.payload.as_ref() == MARKER => {
                return if delivered {
                    Ok(())
                } else {
                    Err("acknowledged but not delivered".into())
                };
            }
            Incoming::Packet(Packet::Publish(p)) => delivered |= p.payload.len() >= size,
            Incoming::Packet(Packet::PubAck(r))
                if r.packet_id.get() == 2 && r.reason.is_error() =>
            {
                return Err(format!("refused: {}", r.reason));
            }
            Incoming::Packet(Packet::Disconnect(d)) => {
                return Err(format!("disconnected: {}", d.reason));
            }
            Incoming::Packet(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn largest_payload_within_a_packet_limit() {
        // 1 + 1 length byte + 10 head + 116 payload = 128.
        assert_eq!(largest_within(128, 10), 116);
        // 200 bytes need two length bytes: 1 + 2 + 10 + 187.
        assert_eq!(largest_within(200, 10), 187);
        let max = u64::from(MAX_REMAINING_LENGTH);
        assert_eq!(largest_within(max + 5, 12), max - 12);
        assert_eq!(largest_within(3, 10), 0);
    }
}
