//! UNSUBSCRIBE (3.10) and UNSUBACK (3.11).
//!
//! ```text
//! UNSUBSCRIBE: packet id | v5 properties | topic filter (string)+
//! UNSUBACK:    packet id | v5: properties | v5: reason code (1) per filter   (3.x: packet id only)
//! ```

use super::subscribe::read_filter;
use super::{check_reason, expect_end, read_packet_id, read_reason};
use crate::protocol::primitives::put_binary;
use crate::protocol::property_wire::{self, PropCtx};
use crate::protocol::{
    DecodeError, EncodeError, PacketType, Props, UnsubAck, Unsubscribe, Version,
};
use bytes::{BufMut, Bytes, BytesMut};

/// Decodes an UNSUBSCRIBE body.
pub(crate) fn decode(mut b: Bytes, version: Version) -> Result<Unsubscribe, DecodeError> {
    let packet_id = read_packet_id(&mut b)?;
    let properties = if version.is_v5() {
        property_wire::decode(&mut b, PropCtx::Unsubscribe)?
    } else {
        Props::default()
    };
    let mut filters = Vec::new();
    while !b.is_empty() {
        filters.push(read_filter(&mut b)?);
    }
    if filters.is_empty() {
        return Err(DecodeError::protocol(
            "MQTT-3.10.3-2",
            "UNSUBSCRIBE without topic filters",
        ));
    }
    Ok(Unsubscribe {
        packet_id,
        filters,
        properties,
    })
}

/// The remaining length of an UNSUBSCRIBE.
pub(crate) fn body_len(u: &Unsubscribe, version: Version) -> usize {
    let props = if version.is_v5() {
        property_wire::wire_len(&u.properties)
    } else {
        0
    };
    2 + props + u.filters.iter().map(|f| 2 + f.len()).sum::<usize>()
}

/// Writes an UNSUBSCRIBE body.
pub(crate) fn encode(
    u: &Unsubscribe,
    version: Version,
    buf: &mut BytesMut,
) -> Result<(), EncodeError> {
    if u.filters.is_empty() {
        return Err(EncodeError::Invalid("UNSUBSCRIBE without topic filters"));
    }
    buf.put_u16(u.packet_id.get());
    if version.is_v5() {
        property_wire::encode(&u.properties, PropCtx::Unsubscribe, buf)?;
    }
    for f in &u.filters {
        put_binary(buf, f.as_str().as_bytes())?;
    }
    Ok(())
}

/// Decodes an UNSUBACK body.
pub(crate) fn decode_ack(mut b: Bytes, version: Version) -> Result<UnsubAck, DecodeError> {
    let packet_id = read_packet_id(&mut b)?;
    if !version.is_v5() {
        expect_end(&b)?;
        return Ok(UnsubAck {
            packet_id,
            reasons: Vec::new(),
            properties: Props::default(),
        });
    }
    let properties = property_wire::decode(&mut b, PropCtx::UnsubAck)?;
    let mut reasons = Vec::with_capacity(b.len());
    while !b.is_empty() {
        reasons.push(read_reason(&mut b, PacketType::UnsubAck)?);
    }
    Ok(UnsubAck {
        packet_id,
        reasons,
        properties,
    })
}

/// The remaining length of an UNSUBACK.
pub(crate) fn ack_len(u: &UnsubAck, version: Version) -> usize {
    if version.is_v5() {
        2 + property_wire::wire_len(&u.properties) + u.reasons.len()
    } else {
        2
    }
}

/// Writes an UNSUBACK body (3.x: the packet id alone).
pub(crate) fn encode_ack(
    u: &UnsubAck,
    version: Version,
    buf: &mut BytesMut,
) -> Result<(), EncodeError> {
    buf.put_u16(u.packet_id.get());
    if !version.is_v5() {
        return Ok(());
    }
    property_wire::encode(&u.properties, PropCtx::UnsubAck, buf)?;
    for r in &u.reasons {
        check_reason(*r, PacketType::UnsubAck)?;
        buf.put_u8(r.as_u8());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::protocol::packets::{encoded, wire};
    use crate::protocol::{Packet, ReasonCode, UnsubAck, Version};
    use std::num::NonZeroU16;

    #[test]
    fn unsubscribe_3_1_1() {
        let Packet::Unsubscribe(u) = wire(b"\xa2\x0a\x00\x05\x00\x01a\x00\x03b/#", Version::V311)
        else {
            panic!()
        };
        assert_eq!(
            u.filters.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
            ["a", "b/#"]
        );
    }

    #[test]
    fn unsuback_has_no_payload_in_3_1_1() {
        let p = Packet::UnsubAck(UnsubAck {
            packet_id: NonZeroU16::new(5).unwrap(),
            reasons: vec![ReasonCode::Success, ReasonCode::NoSubscriptionExisted],
            properties: Default::default(),
        });
        assert_eq!(encoded(&p, Version::V311), b"\xb0\x02\x00\x05");
        assert_eq!(encoded(&p, Version::V5), b"\xb0\x05\x00\x05\x00\x00\x11");
        let Packet::UnsubAck(u) = wire(b"\xb0\x05\x00\x05\x00\x00\x11", Version::V5) else {
            panic!()
        };
        assert_eq!(
            u.reasons,
            [ReasonCode::Success, ReasonCode::NoSubscriptionExisted]
        );
    }
}
