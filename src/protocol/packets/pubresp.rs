//! PUBACK, PUBREC, PUBREL and PUBCOMP (3.4 to 3.7): a packet identifier, and in v5 an optional
//! reason code and properties.
//!
//! ```text
//! packet id (2) | v5: reason code (1) | v5: properties
//! remaining length 2 in v5 means Success without properties; 3 means no properties.
//! ```

use super::{check_reason, expect_end, read_packet_id, read_reason};
use crate::protocol::property_wire::{self, PropCtx};
use crate::protocol::{DecodeError, EncodeError, PacketType, Props, PubResp, ReasonCode, Version};
use bytes::{BufMut, Bytes, BytesMut};

/// Decodes the body of a PUBACK, PUBREC, PUBREL or PUBCOMP (`kind`).
pub(crate) fn decode(
    mut b: Bytes,
    kind: PacketType,
    version: Version,
) -> Result<PubResp, DecodeError> {
    let packet_id = read_packet_id(&mut b)?;
    let mut reason = ReasonCode::Success;
    let mut properties = Props::default();
    if version.is_v5() && !b.is_empty() {
        reason = read_reason(&mut b, kind)?;
        if !b.is_empty() {
            properties = property_wire::decode(&mut b, PropCtx::PubResp)?;
        }
    }
    expect_end(&b)?;
    Ok(PubResp {
        packet_id,
        reason,
        properties,
    })
}

/// True when the v5 short form (packet id only) carries `p` fully.
fn short_form(p: &PubResp) -> bool {
    p.reason == ReasonCode::Success && p.properties.is_empty()
}

/// The remaining length; 3.x ignores the reason and properties (they cannot be sent).
pub(crate) fn body_len(p: &PubResp, version: Version) -> usize {
    if !version.is_v5() || short_form(p) {
        2
    } else if p.properties.is_empty() {
        3
    } else {
        3 + property_wire::wire_len(&p.properties)
    }
}

/// Writes the body.
pub(crate) fn encode(
    p: &PubResp,
    kind: PacketType,
    version: Version,
    buf: &mut BytesMut,
) -> Result<(), EncodeError> {
    buf.put_u16(p.packet_id.get());
    if !version.is_v5() || short_form(p) {
        return Ok(());
    }
    check_reason(p.reason, kind)?;
    buf.put_u8(p.reason.as_u8());
    if !p.properties.is_empty() {
        property_wire::encode(&p.properties, PropCtx::PubResp, buf)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::protocol::packets::{encoded, wire};
    use crate::protocol::{Packet, PubResp, ReasonCode, Version};
    use std::num::NonZeroU16;

    #[test]
    fn short_forms() {
        let Packet::PubAck(a) = wire(b"\x40\x02\x00\x01", Version::V5) else {
            panic!()
        };
        assert_eq!(a, PubResp::new(NonZeroU16::new(1).unwrap()));
        let Packet::PubRel(a) = wire(b"\x62\x02\x12\x34", Version::V311) else {
            panic!()
        };
        assert_eq!(a.packet_id.get(), 0x1234);
        // A reason without properties (remaining length 3).
        let Packet::PubRec(a) = wire(b"\x50\x03\x00\x02\x10", Version::V5) else {
            panic!()
        };
        assert_eq!(a.reason, ReasonCode::NoMatchingSubscribers);
        let Packet::PubComp(a) = wire(b"\x70\x03\x00\x02\x92", Version::V5) else {
            panic!()
        };
        assert_eq!(a.reason, ReasonCode::PacketIdentifierNotFound);
    }

    #[test]
    fn success_with_reason_byte_decodes_to_the_short_form() {
        let mut buf = bytes::BytesMut::from(&b"\x40\x04\x00\x01\x00\x00"[..]);
        let p = crate::protocol::decode(&mut buf, Version::V5, 100)
            .unwrap()
            .unwrap();
        assert_eq!(encoded(&p, Version::V5), b"\x40\x02\x00\x01");
    }

    #[test]
    fn reason_string_on_puback() {
        let Packet::PubAck(a) = wire(b"\x40\x08\x00\x01\x80\x04\x1f\x00\x01e", Version::V5) else {
            panic!()
        };
        assert_eq!(a.properties.reason_string.as_deref(), Some("e"));
        // 3.1.1 cannot carry the reason: only the packet id is sent.
        assert_eq!(
            encoded(&Packet::PubAck(a), Version::V311),
            b"\x40\x02\x00\x01"
        );
    }
}
