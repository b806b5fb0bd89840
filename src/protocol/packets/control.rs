//! PINGREQ, PINGRESP (3.12, 3.13: no body), DISCONNECT (3.14) and AUTH (3.15, v5 only).
//!
//! ```text
//! DISCONNECT, AUTH (v5): reason code (1) | properties
//! remaining length 0 means Success / Normal disconnection; 1 means no properties.
//! ```

use super::{check_reason, expect_end, read_reason};
use crate::protocol::property_wire::{self, PropCtx};
use crate::protocol::{
    Auth, DecodeError, Disconnect, EncodeError, PacketType, Props, ReasonCode, Version,
};
use bytes::{BufMut, Bytes, BytesMut};

/// Decodes the reason code and properties shared by DISCONNECT and AUTH.
fn decode_reason_props(
    mut b: Bytes,
    kind: PacketType,
    ctx: PropCtx,
) -> Result<(ReasonCode, Props), DecodeError> {
    if b.is_empty() {
        return Ok((ReasonCode::Success, Props::default()));
    }
    let reason = read_reason(&mut b, kind)?;
    let props = if b.is_empty() {
        Props::default()
    } else {
        property_wire::decode(&mut b, ctx)?
    };
    expect_end(&b)?;
    Ok((reason, props))
}

/// Decodes a DISCONNECT body (empty in 3.x).
pub(crate) fn decode_disconnect(b: Bytes, version: Version) -> Result<Disconnect, DecodeError> {
    if !version.is_v5() {
        expect_end(&b)?;
        return Ok(Disconnect::default());
    }
    let (reason, properties) = decode_reason_props(b, PacketType::Disconnect, PropCtx::Disconnect)?;
    Ok(Disconnect { reason, properties })
}

/// Decodes an AUTH body (the caller has refused AUTH before v5).
pub(crate) fn decode_auth(b: Bytes) -> Result<Auth, DecodeError> {
    let (reason, properties) = decode_reason_props(b, PacketType::Auth, PropCtx::Auth)?;
    Ok(Auth { reason, properties })
}

/// Remaining length of a v5 reason + properties body, 0 for the short form.
fn reason_props_len(reason: ReasonCode, props: &Props) -> usize {
    if props.is_empty() {
        usize::from(reason != ReasonCode::Success)
    } else {
        1 + property_wire::wire_len(props)
    }
}

fn encode_reason_props(
    reason: ReasonCode,
    props: &Props,
    kind: PacketType,
    ctx: PropCtx,
    buf: &mut BytesMut,
) -> Result<(), EncodeError> {
    check_reason(reason, kind)?;
    if reason == ReasonCode::Success && props.is_empty() {
        return Ok(());
    }
    buf.put_u8(reason.as_u8());
    if !props.is_empty() {
        property_wire::encode(props, ctx, buf)?;
    }
    Ok(())
}

/// Remaining length of a DISCONNECT.
pub(crate) fn disconnect_len(d: &Disconnect, version: Version) -> usize {
    if version.is_v5() {
        reason_props_len(d.reason, &d.properties)
    } else {
        0
    }
}

/// Writes a DISCONNECT body (nothing in 3.x).
pub(crate) fn encode_disconnect(
    d: &Disconnect,
    version: Version,
    buf: &mut BytesMut,
) -> Result<(), EncodeError> {
    if !version.is_v5() {
        return Ok(());
    }
    encode_reason_props(
        d.reason,
        &d.properties,
        PacketType::Disconnect,
        PropCtx::Disconnect,
        buf,
    )
}

/// Remaining length of an AUTH.
pub(crate) fn auth_len(a: &Auth) -> usize {
    reason_props_len(a.reason, &a.properties)
}

/// Writes an AUTH body.
pub(crate) fn encode_auth(
    a: &Auth,
    version: Version,
    buf: &mut BytesMut,
) -> Result<(), EncodeError> {
    if !version.is_v5() {
        return Err(EncodeError::NotInVersion("AUTH"));
    }
    encode_reason_props(
        a.reason,
        &a.properties,
        PacketType::Auth,
        PropCtx::Auth,
        buf,
    )
}

#[cfg(test)]
mod tests {
    use crate::protocol::packets::{encoded, wire};
    use crate::protocol::{Disconnect, Packet, ReasonCode, Version};

    #[test]
    fn pings() {
        assert_eq!(wire(b"\xc0\x00", Version::V311), Packet::PingReq);
        assert_eq!(wire(b"\xd0\x00", Version::V5), Packet::PingResp);
    }

    #[test]
    fn disconnect_forms() {
        assert_eq!(
            wire(b"\xe0\x00", Version::V311),
            Packet::Disconnect(Disconnect::default())
        );
        assert_eq!(
            wire(b"\xe0\x00", Version::V5),
            Packet::Disconnect(Disconnect::default())
        );
        let Packet::Disconnect(d) = wire(b"\xe0\x01\x04", Version::V5) else {
            panic!()
        };
        assert_eq!(d.reason, ReasonCode::DisconnectWithWillMessage);
        // Session Expiry Interval 0 with Normal disconnection: the reason byte must be sent.
        let Packet::Disconnect(d) = wire(b"\xe0\x07\x00\x05\x11\x00\x00\x00\x00", Version::V5)
        else {
            panic!()
        };
        assert_eq!(d.properties.session_expiry_interval, Some(0));
        // 3.1.1 DISCONNECT has no body whatever the reason.
        assert_eq!(encoded(&Packet::Disconnect(d), Version::V311), b"\xe0\x00");
    }

    #[test]
    fn auth_forms() {
        let Packet::Auth(a) = wire(b"\xf0\x00", Version::V5) else {
            panic!()
        };
        assert_eq!(a.reason, ReasonCode::Success);
        let Packet::Auth(a) = wire(b"\xf0\x0a\x18\x08\x15\x00\x01m\x16\x00\x01d", Version::V5)
        else {
            panic!()
        };
        assert_eq!(a.reason, ReasonCode::ContinueAuthentication);
        assert_eq!(a.properties.authentication_method.as_deref(), Some("m"));
        assert_eq!(a.properties.authentication_data.as_deref(), Some(&b"d"[..]));
    }
}
