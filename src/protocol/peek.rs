//! The head of a PUBLISH read before its body has arrived, so a receiver can refuse a payload
//! over its limit while the bytes are still streaming in, without ever holding them.
//!
//! ```text
//!  fixed header | topic len | topic | packet id (QoS > 0) | v5: property length | properties | payload
//!  └─────────────────── read here (at most 5 + 2 + 65,535 + 2 + 4 bytes) ──────┘  skipped ───────────▶
//! ```

use super::header::{self, PacketType};
use super::primitives::{Varint, parse_varint};
use super::{DecodeError, PacketId, QoS, Version};

/// What the front of a PUBLISH says about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishHead {
    /// Bytes of the whole packet, fixed header included.
    pub total: usize,
    /// Bytes of the payload.
    pub payload_len: usize,
    /// Its QoS.
    pub qos: QoS,
    /// Its packet identifier (QoS 1 and 2).
    pub packet_id: Option<PacketId>,
    /// Its topic, for log lines (invalid UTF-8 replaced).
    pub topic: String,
}

/// What [`peek_publish`] found at the front of a buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Peek {
    /// Decode it as usual: not a PUBLISH, a payload within the limit, a packet over the
    /// maximum packet size (which the decoder refuses), or not even a complete fixed header.
    Decode,
    /// A PUBLISH with a payload over the limit, but its head is not complete yet.
    NeedMore,
    /// A PUBLISH with a payload over the limit.
    TooLarge(PublishHead),
}

/// Looks at the packet at the front of `buf`: a PUBLISH whose payload exceeds `limit` bytes
/// is reported from its head, before its payload arrives. Packets over `max_packet_size` are
/// left to [`super::decode`], which refuses them from the fixed header.
pub fn peek_publish(
    buf: &[u8],
    version: Version,
    max_packet_size: u32,
    limit: usize,
) -> Result<Peek, DecodeError> {
    let Some(h) = header::parse(buf, version)? else {
        return Ok(Peek::Decode);
    };
    let total = h.header_len + h.remaining;
    // The payload is at most the remaining length: nothing to check below the limit.
    if h.kind != PacketType::Publish || h.remaining <= limit || total > max_packet_size as usize {
        return Ok(Peek::Decode);
    }
    let Some(qos) = QoS::from_u8((h.flags >> 1) & 0b11) else {
        return Ok(Peek::Decode); // QoS 3: the decoder says why it is malformed.
    };
    let body = &buf[h.header_len..];
    if body.len() < 2 {
        return Ok(Peek::NeedMore);
    }
    let topic_len = usize::from(u16::from_be_bytes([body[0], body[1]]));
    let id_len = if qos == QoS::AtMostOnce { 0 } else { 2 };
    let Some(after) = body.get(2 + topic_len..2 + topic_len + id_len) else {
        return Ok(Peek::NeedMore);
    };
    let packet_id = match after {
        [a, b] => PacketId::new(u16::from_be_bytes([*a, *b])),
        _ => None,
    };
    let mut head_len = 2 + topic_len + id_len;
    if version.is_v5() {
        match parse_varint(&body[head_len..])? {
            Varint::Done(props, n) => head_len += n + props as usize,
            Varint::Incomplete => return Ok(Peek::NeedMore),
        }
    }
    let Some(payload_len) = h.remaining.checked_sub(head_len) else {
        return Ok(Peek::Decode); // Fields longer than the packet: malformed, the decoder says.
    };
    if payload_len <= limit {
        return Ok(Peek::Decode);
    }
    let topic = String::from_utf8_lossy(&body[2..2 + topic_len]).into_owned();
    Ok(Peek::TooLarge(PublishHead {
        total,
        payload_len,
        qos,
        packet_id,
        topic,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: u32 = 268_435_460;

    #[test]
    fn payload_over_the_limit_is_seen_from_the_head() {
        // QoS 1, topic "a/b", id 7, remaining length 1,000,000 (0xC0 0x84 0x3D): body absent.
        let head = b"\x32\xc0\x84\x3d\x00\x03a/b\x00\x07";
        let got = peek_publish(head, Version::V311, MAX, 1000).unwrap();
        assert_eq!(
            got,
            Peek::TooLarge(PublishHead {
                total: 4 + 1_000_000,
                payload_len: 1_000_000 - 7,
                qos: QoS::AtLeastOnce,
                packet_id: PacketId::new(7),
                topic: "a/b".into(),
            })
        );
        for cut in 4..head.len() {
            assert_eq!(
                peek_publish(&head[..cut], Version::V311, MAX, 1000),
                Ok(Peek::NeedMore)
            );
        }
    }

    #[test]
    fn v5_properties_do_not_count_as_payload() {
        // QoS 0, topic "t", 5 bytes of properties (payload format, topic alias), payload 2.
        let p = b"\x30\x0b\x00\x01t\x05\x01\x01\x23\x00\x05xy";
        assert_eq!(peek_publish(p, Version::V5, MAX, 2), Ok(Peek::Decode));
        let Peek::TooLarge(h) = peek_publish(p, Version::V5, MAX, 1).unwrap() else {
            panic!()
        };
        assert_eq!((h.payload_len, h.packet_id), (2, None));
        assert_eq!(
            peek_publish(&p[..5], Version::V5, MAX, 1),
            Ok(Peek::NeedMore)
        );
    }

    #[test]
    fn other_packets_and_small_or_huge_ones_are_left_to_the_decoder() {
        assert_eq!(
            peek_publish(b"\xc0\x00", Version::V311, MAX, 0),
            Ok(Peek::Decode)
        );
        assert_eq!(
            peek_publish(b"\x30\x05\x00\x01tab", Version::V311, MAX, 5),
            Ok(Peek::Decode)
        );
        assert_eq!(
            peek_publish(b"\x30\xc0\x84\x3d", Version::V311, 1000, 10),
            Ok(Peek::Decode),
            "over max_packet_size: the decoder refuses it"
        );
        assert_eq!(
            peek_publish(b"\x30", Version::V311, MAX, 0),
            Ok(Peek::Decode)
        );
    }
}
