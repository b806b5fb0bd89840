//! CONNACK (3.2).
//!
//! ```text
//! acknowledge flags (bit 0: session present) | return code (3.x) / reason code (v5) | v5 properties
//! ```

use super::{check_reason, expect_end, read_reason};
use crate::protocol::primitives::read_u8;
use crate::protocol::property_wire::{self, PropCtx};
use crate::protocol::{ConnAck, DecodeError, EncodeError, PacketType, Props, ReasonCode, Version};
use bytes::{BufMut, Bytes, BytesMut};

/// Decodes a CONNACK body.
pub(crate) fn decode(mut b: Bytes, version: Version) -> Result<ConnAck, DecodeError> {
    let flags = read_u8(&mut b)?;
    if flags & 0xFE != 0 {
        return Err(DecodeError::malformed(
            "MQTT-3.2.2-1",
            "reserved CONNACK acknowledge flags must be 0",
        ));
    }
    // In 3.1 the byte is reserved: no session present there (the encoder never sets it).
    let session_present = flags & 1 != 0 && version != Version::V31;
    let (reason, properties) = if version.is_v5() {
        let r = read_reason(&mut b, PacketType::ConnAck)?;
        (r, property_wire::decode(&mut b, PropCtx::ConnAck)?)
    } else {
        let code = read_u8(&mut b)?;
        let r = ReasonCode::from_v3_connack(code).ok_or(DecodeError::protocol(
            "3.2.2.3",
            "CONNACK return code above 5",
        ))?;
        (r, Props::default())
    };
    if session_present && reason != ReasonCode::Success {
        return Err(DecodeError::protocol(
            "MQTT-3.2.2-4",
            "session present set on a refused connection",
        ));
    }
    expect_end(&b)?;
    Ok(ConnAck {
        session_present,
        reason,
        properties,
    })
}

/// The remaining length.
pub(crate) fn body_len(c: &ConnAck, version: Version) -> usize {
    if version.is_v5() {
        2 + property_wire::wire_len(&c.properties)
    } else {
        2
    }
}

/// Writes the body; 3.x maps the reason with [`ReasonCode::to_v3_connack`].
pub(crate) fn encode(c: &ConnAck, version: Version, buf: &mut BytesMut) -> Result<(), EncodeError> {
    if c.session_present && c.reason != ReasonCode::Success {
        return Err(EncodeError::Invalid(
            "session present on a refused connection",
        ));
    }
    // MQTT 3.1 has no session present flag: its byte is reserved.
    buf.put_u8(u8::from(c.session_present && version != Version::V31));
    if version.is_v5() {
        check_reason(c.reason, PacketType::ConnAck)?;
        buf.put_u8(c.reason.as_u8());
        property_wire::encode(&c.properties, PropCtx::ConnAck, buf)
    } else {
        buf.put_u8(c.reason.to_v3_connack());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::protocol::packets::{encoded, wire};
    use crate::protocol::{ConnAck, Packet, ReasonCode, Version};

    #[test]
    fn v3_connack_return_codes_map_to_reasons() {
        let Packet::ConnAck(c) = wire(b"\x20\x02\x01\x00", Version::V311) else {
            panic!()
        };
        assert!(c.session_present && c.reason == ReasonCode::Success);
        let Packet::ConnAck(c) = wire(b"\x20\x02\x00\x05", Version::V311) else {
            panic!()
        };
        assert_eq!(c.reason, ReasonCode::NotAuthorized);
        let Packet::ConnAck(c) = wire(b"\x20\x02\x00\x01", Version::V31) else {
            panic!()
        };
        assert_eq!(c.reason, ReasonCode::UnsupportedProtocolVersion);
    }

    #[test]
    fn v5_reasons_are_sent_as_v3_return_codes() {
        let p = Packet::ConnAck(ConnAck {
            session_present: false,
            reason: ReasonCode::Banned,
            properties: Default::default(),
        });
        assert_eq!(encoded(&p, Version::V311), b"\x20\x02\x00\x05");
        assert_eq!(encoded(&p, Version::V5), b"\x20\x03\x00\x8a\x00");
    }

    #[test]
    fn v5_connack_with_properties() {
        // Maximum QoS 1, Assigned Client Identifier "x".
        let Packet::ConnAck(c) = wire(b"\x20\x09\x00\x00\x06\x12\x00\x01x\x24\x01", Version::V5)
        else {
            panic!()
        };
        assert_eq!(c.properties.maximum_qos, Some(1));
        assert_eq!(
            c.properties.assigned_client_identifier.as_deref(),
            Some("x")
        );
    }
}
