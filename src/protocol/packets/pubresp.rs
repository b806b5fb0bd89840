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
