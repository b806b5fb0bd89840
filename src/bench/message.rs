//! Benchmark payloads: a magic tag and the send time, so that a subscriber measures end-to-end
//! latency from the payload alone, and a PUBLISH encoded once per publisher and then patched
//! (packet id, timestamp) for every message instead of re-encoded.
//!
//! ```text
//! -s SIZE:     | "mqb1" | send time, ns since the Unix epoch, u64 big endian | zeros ...       |
//!                0..4     4..12                                                12..size
//! -m/--payload-file TEMPLATE:
//!              | "mqb1" | send time                                           | expanded text   |
//! ```
//!
//! A template (`-m TEXT` or `--payload-file FILE`) is expanded per publisher: `%i` becomes the
//! client number (as in topics), `%n` the message's sequence number from 1, `%%` a `%`; any
//! other `%` stays as it is. Its payload always starts with the 12-byte stamp, so latency is
//! measured as with `-s`. A template without `%n` is encoded once per publisher like a sized
//! payload; with `%n`, each message is encoded anew.

use crate::protocol::{self, EncodeError, Packet, Props, Publish, QoS, Version};
use crate::topic::TopicName;
use bytes::Bytes;
use std::num::NonZeroU16;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Tag that marks a payload as ours.
pub const MAGIC: &[u8; 4] = b"mqb1";
/// Smallest payload that carries a timestamp.
pub const STAMP_LEN: usize = 12;

/// Wall-clock nanoseconds since the Unix epoch (wall clock, so that separate generator
/// processes on one host agree).
pub fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// The latency of a received payload, if it carries our stamp and the stamp is not in the future.
pub fn latency_of(payload: &[u8], now: u64) -> Option<Duration> {
    if payload.len() < STAMP_LEN || &payload[..4] != MAGIC {
        return None;
    }
    let mut ts = [0u8; 8];
    ts.copy_from_slice(&payload[4..12]);
    let sent = u64::from_be_bytes(ts);
    now.checked_sub(sent).map(Duration::from_nanos)
}

/// One piece of a payload template.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    /// Bytes sent as they are.
    Text(Vec<u8>),
    /// `%i`: the client number.
    Client,
    /// `%n`: the message's sequence number, from 1.
    Sequence,
}

/// A payload template, parsed once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayloadTemplate(Vec<Piece>);

impl PayloadTemplate {
    /// Parses `%i`, `%n` and `%%` out of `text` (any other `%` is kept).
    pub fn parse(text: &[u8]) -> PayloadTemplate {
        let mut pieces = Vec::new();
        let mut literal = Vec::new();
        let mut bytes = text.iter().copied().peekable();
        while let Some(b) = bytes.next() {
            let special = match (b, bytes.peek()) {
                (b'%', Some(b'i')) => Some(Piece::Client),
                (b'%', Some(b'n')) => Some(Piece::Sequence),
                (b'%', Some(b'%')) => {
                    bytes.next();
                    literal.push(b'%');
                    continue;
                }
                _ => None,
            };
            match special {
                Some(piece) => {
                    bytes.next();
                    if !literal.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut literal)));
                    }
                    pieces.push(piece);
                }
                None => literal.push(b),
            }
        }
        if !literal.is_empty() {
            pieces.push(Piece::Text(literal));
        }
        PayloadTemplate(pieces)
    }

    /// True when the template uses `%n`, so that each message differs.
    pub fn per_message(&self) -> bool {
        self.0.contains(&Piece::Sequence)
    }

    /// Appends the expansion for client number `client` and message `seq` to `out`.
    pub fn expand(&self, client: u32, seq: u64, out: &mut Vec<u8>) {
        for piece in &self.0 {
            match piece {
                Piece::Text(t) => out.extend_from_slice(t),
                Piece::Client => out.extend_from_slice(client.to_string().as_bytes()),
                Piece::Sequence => out.extend_from_slice(seq.to_string().as_bytes()),
            }
        }
    }
}

/// What a publisher's payloads are made of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// `-s SIZE`: the stamp (when there is room for it), then zeros.
    Sized(usize),
    /// `-m` or `--payload-file`: the stamp, then the expanded template.
    Template(PayloadTemplate),
}

impl Body {
    /// The payload of message `seq` of client number `client`, stamp left blank.
    pub fn payload(&self, client: u32, seq: u64) -> Vec<u8> {
        match self {
            Body::Sized(size) => {
                let mut p = vec![0u8; *size];
                if *size >= STAMP_LEN {
                    p[..4].copy_from_slice(MAGIC);
                }
                p
            }
            Body::Template(t) => {
                let mut p = Vec::with_capacity(64);
                p.extend_from_slice(MAGIC);
                p.extend_from_slice(&[0; 8]);
                t.expand(client, seq, &mut p);
                p
            }
        }
    }
}

/// One publisher's PUBLISH, encoded once (or once per message for a `%n` template).
#[derive(Debug)]
pub struct PubTemplate {
    bytes: Vec<u8>,
    pid_at: Option<usize>,
    stamp_at: Option<usize>,
    /// For a `%n` template: the packet to encode anew for each message.
    per_message: Option<(Publish, PayloadTemplate, u32, Version)>,
}

impl PubTemplate {
    /// Encodes a PUBLISH of `body` to `topic` for client number `client`.
    pub fn new(
        topic: TopicName,
        qos: QoS,
        body: &Body,
        client: u32,
        version: Version,
    ) -> Result<PubTemplate, EncodeError> {
        let payload = body.payload(client, 1);
        let size = payload.len();
        let publish = Publish {
            dup: false,
            qos,
            retain: false,
            topic,
            packet_id: (qos != QoS::AtMostOnce).then_some(NonZeroU16::MIN),
            properties: Props::default(),
            payload: Bytes::from(payload),
        };
        let mut buf = bytes::BytesMut::new();
        protocol::encode(&Packet::Publish(publish.clone()), version, &mut buf)?;
        let payload_at = buf.len() - size;
        // Empty v5 properties are one zero byte between the packet id and the payload.
        let props_len = usize::from(version.is_v5());
        let pid_at = (qos != QoS::AtMostOnce).then(|| payload_at - props_len - 2);
        let per_message = match body {
            Body::Template(t) if t.per_message() => Some((publish, t.clone(), client, version)),
            _ => None,
        };
        Ok(PubTemplate {
            bytes: buf.to_vec(),
            pid_at,
            stamp_at: (size >= STAMP_LEN).then_some(payload_at),
            per_message,
        })
    }

    /// Message `seq` with `packet_id` and the send time `now` (ns) filled in.
    pub fn stamp(&mut self, packet_id: Option<u16>, now: u64, seq: u64) -> &[u8] {
        if let Some((publish, template, client, version)) = &mut self.per_message {
            let mut payload = Vec::with_capacity(publish.payload.len() + 8);
            payload.extend_from_slice(MAGIC);
            payload.extend_from_slice(&now.to_be_bytes());
            template.expand(*client, seq, &mut payload);
            publish.payload = Bytes::from(payload);
            publish.packet_id = packet_id.and_then(NonZeroU16::new);
            let mut buf = bytes::BytesMut::with_capacity(self.bytes.len() + 8);
            // The first message encoded, so this one (a few digits longer at most) does too.
            if protocol::encode(&Packet::Publish(publish.clone()), *version, &mut buf).is_ok() {
                self.bytes = buf.to_vec();
            }
            return &self.bytes;
        }
        if let (Some(at), Some(id)) = (self.pid_at, packet_id) {
            self.bytes[at..at + 2].copy_from_slice(&id.to_be_bytes());
        }
        if let Some(at) = self.stamp_at {
            self.bytes[at + 4..at + 12].copy_from_slice(&now.to_be_bytes());
        }
        &self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;

    fn roundtrip(version: Version, qos: QoS, size: usize) {
        let topic = TopicName::new("bench/7").unwrap();
        let mut t = PubTemplate::new(topic, qos, &Body::Sized(size), 7, version).unwrap();
        let sent = now_nanos();
        let mut buf = BytesMut::from(t.stamp(Some(0x1234), sent, 1));
        let Ok(Some(Packet::Publish(p))) = protocol::decode(&mut buf, version, u32::MAX) else {
            panic!("the patched template does not decode");
        };
        assert_eq!(p.topic.as_str(), "bench/7");
        assert_eq!(p.payload.len(), size);
        let expect_id = (qos != QoS::AtMostOnce).then(|| NonZeroU16::new(0x1234).unwrap());
        assert_eq!(p.packet_id, expect_id);
        let lat = latency_of(&p.payload, sent + 1500);
        if size >= STAMP_LEN {
            assert_eq!(lat, Some(Duration::from_nanos(1500)));
        } else {
            assert_eq!(lat, None);
        }
    }

    #[test]
    fn patched_templates_decode_in_every_version() {
        for v in [Version::V31, Version::V311, Version::V5] {
            for q in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
                roundtrip(v, q, 64);
                roundtrip(v, q, 4);
            }
        }
    }

    #[test]
    fn templates_expand_client_number_and_sequence() {
        let t = PayloadTemplate::parse(br#"{"dev":%i,"seq":%n,"pct":"50%%","x":"%z"}"#);
        assert!(t.per_message());
        let mut out = Vec::new();
        t.expand(42, 7, &mut out);
        assert_eq!(out, br#"{"dev":42,"seq":7,"pct":"50%","x":"%z"}"#);
        let fixed = PayloadTemplate::parse(b"client %i%");
        assert!(!fixed.per_message());
        let mut out = Vec::new();
        fixed.expand(3, 99, &mut out);
        assert_eq!(out, b"client 3%");
    }

    #[test]
    fn template_payloads_carry_the_stamp_then_the_text() {
        for version in [Version::V311, Version::V5] {
            for (text, per_message) in [(&b"n=%n i=%i"[..], true), (b"i=%i", false)] {
                let body = Body::Template(PayloadTemplate::parse(text));
                let topic = TopicName::new("bench/3").unwrap();
                let mut t = PubTemplate::new(topic, QoS::AtLeastOnce, &body, 3, version).unwrap();
                for seq in [1, 10, 1000] {
                    let sent = now_nanos();
                    let mut buf = BytesMut::from(t.stamp(Some(9), sent, seq));
                    let Ok(Some(Packet::Publish(p))) =
                        protocol::decode(&mut buf, version, u32::MAX)
                    else {
                        panic!("the message does not decode");
                    };
                    assert_eq!(p.packet_id, NonZeroU16::new(9));
                    assert_eq!(
                        latency_of(&p.payload, sent + 5),
                        Some(Duration::from_nanos(5))
                    );
                    let text = String::from_utf8_lossy(&p.payload[STAMP_LEN..]).into_owned();
                    let want = if per_message {
                        format!("n={seq} i=3")
                    } else {
                        "i=3".to_string()
                    };
                    assert_eq!(text, want);
                }
            }
        }
    }

    #[test]
    fn foreign_payloads_have_no_latency() {
        assert_eq!(latency_of(b"hello world, not ours", now_nanos()), None);
        let mut p = [0u8; 16];
        p[..4].copy_from_slice(MAGIC);
        p[4..12].copy_from_slice(&u64::MAX.to_be_bytes());
        assert_eq!(latency_of(&p, 5), None, "a stamp in the future is ignored");
    }
}
