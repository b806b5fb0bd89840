//! Benchmark payloads: a magic tag and the send time, so that a subscriber measures end-to-end
//! latency from the payload alone, and a PUBLISH encoded once per publisher and then patched
//! (packet id, timestamp) for every message instead of re-encoded.
//!
//! ```text
//! payload: | "mqb1" | send time, ns since the Unix epoch, u64 big endian | zeros ... |
//!            0..4     4..12                                                12..size
//! ```

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

/// One publisher's PUBLISH, encoded once.
#[derive(Debug)]
pub struct PubTemplate {
    bytes: Vec<u8>,
    pid_at: Option<usize>,
    stamp_at: Option<usize>,
}

impl PubTemplate {
    /// Encodes a PUBLISH of `size` bytes to `topic`.
    pub fn new(
        topic: TopicName,
        qos: QoS,
        size: usize,
        version: Version,
    ) -> Result<PubTemplate, EncodeError> {
        let packet = Packet::Publish(Publish {
            dup: false,
            qos,
            retain: false,
            topic,
            packet_id: (qos != QoS::AtMostOnce).then_some(NonZeroU16::MIN),
            properties: Props::default(),
            payload: Bytes::from(vec![0u8; size]),
        });
        let mut buf = bytes::BytesMut::new();
        protocol::encode(&packet, version, &mut buf)?;
        let payload_at = buf.len() - size;
        // Empty v5 properties are one zero byte between the packet id and the payload.
        let props_len = usize::from(version.is_v5());
        let pid_at = (qos != QoS::AtMostOnce).then(|| payload_at - props_len - 2);
        let stamp_at = (size >= STAMP_LEN).then_some(payload_at);
        let mut bytes = buf.to_vec();
        if let Some(at) = stamp_at {
            bytes[at..at + 4].copy_from_slice(MAGIC);
        }
        Ok(PubTemplate {
            bytes,
            pid_at,
            stamp_at,
        })
    }

    /// The packet with `packet_id` and the send time `now` (ns) filled in.
    pub fn stamp(&mut self, packet_id: Option<u16>, now: u64) -> &[u8] {
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
        let mut t = PubTemplate::new(topic, qos, size, version).unwrap();
        let sent = now_nanos();
        let mut buf = BytesMut::from(t.stamp(Some(0x1234), sent));
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
    fn foreign_payloads_have_no_latency() {
        assert_eq!(latency_of(b"hello world, not ours", now_nanos()), None);
        let mut p = [0u8; 16];
        p[..4].copy_from_slice(MAGIC);
        p[4..12].copy_from_slice(&u64::MAX.to_be_bytes());
        assert_eq!(latency_of(&p, 5), None, "a stamp in the future is ignored");
    }
}
