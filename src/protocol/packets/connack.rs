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
    let session_present = flags & 1 != 0;
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
    buf.put_u8(u8::from(c.session_present));
    if version.is_v5() {
        check_reason(c.reason, PacketType::ConnAck)?;
        buf.put_u8(c.reason.as_u8());
        property_wire::encode(&c.properties, PropCtx::ConnAck, buf)
    } else {
        buf.put_u8(c.reason.to_v3_connack());
        Ok(())
    }
}
