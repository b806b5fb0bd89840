//! One module per packet kind: decoding of the body (everything after the fixed header),
//! the body length and the encoding of the body. Each module carries byte-literal tests.

pub(crate) mod connack;
pub(crate) mod connect;
pub(crate) mod control;
pub(crate) mod publish;
pub(crate) mod pubresp;
pub(crate) mod subscribe;
pub(crate) mod unsubscribe;

use super::{DecodeError, PacketId, PacketType, ReasonCode};
use bytes::Bytes;

/// Reads a packet identifier, which is never 0 ([MQTT-2.3.1-1]).
#[inline]
pub(crate) fn read_packet_id(b: &mut Bytes) -> Result<PacketId, DecodeError> {
    PacketId::new(super::primitives::read_u16(b)?)
        .ok_or(DecodeError::protocol("MQTT-2.3.1-1", "packet identifier 0"))
}

/// Refuses bytes after the last field: the remaining length promised more than the packet holds.
#[inline]
pub(crate) fn expect_end(b: &Bytes) -> Result<(), DecodeError> {
    if b.is_empty() {
        Ok(())
    } else {
        Err(DecodeError::malformed(
            "2.2.3",
            "remaining length longer than the packet's fields",
        ))
    }
}

/// The normative statement listing the reason codes of `kind`.
fn reason_rule(kind: PacketType) -> &'static str {
    match kind {
        PacketType::ConnAck => "MQTT-3.2.2-8",
        PacketType::PubAck => "MQTT-3.4.2-1",
        PacketType::PubRec => "MQTT-3.5.2-1",
        PacketType::PubRel => "MQTT-3.6.2-1",
        PacketType::PubComp => "MQTT-3.7.2-1",
        PacketType::SubAck => "MQTT-3.9.3-1",
        PacketType::UnsubAck => "MQTT-3.11.3-1",
        PacketType::Disconnect => "MQTT-3.14.2-1",
        _ => "MQTT-3.15.2-1",
    }
}

/// Reads a v5 reason code, refusing one the packet's table does not list.
pub(crate) fn read_reason(b: &mut Bytes, kind: PacketType) -> Result<ReasonCode, DecodeError> {
    let v = super::primitives::read_u8(b)?;
    ReasonCode::from_u8(v)
        .filter(|r| r.is_valid_for(kind))
        .ok_or(DecodeError::protocol(
            reason_rule(kind),
            "reason code not allowed in this packet",
        ))
}

/// Refuses to encode a reason code the receiver would reject.
pub(crate) fn check_reason(r: ReasonCode, kind: PacketType) -> Result<(), super::EncodeError> {
    if r.is_valid_for(kind) {
        Ok(())
    } else {
        Err(super::EncodeError::Invalid(
            "reason code not allowed in this packet",
        ))
    }
}

/// Decodes `bytes` as one whole packet and checks that it encodes back to the same bytes.
#[cfg(test)]
pub(crate) fn wire(bytes: &[u8], version: super::Version) -> super::Packet {
    let mut buf = bytes::BytesMut::from(bytes);
    let p = super::decode(&mut buf, version, u32::MAX)
        .unwrap_or_else(|e| panic!("{e}"))
        .expect("a whole packet");
    assert!(buf.is_empty(), "bytes left after the packet");
    let mut out = bytes::BytesMut::new();
    super::encode(&p, version, &mut out).unwrap();
    assert_eq!(&out[..], bytes, "{p:?}");
    p
}

/// Encodes `p` for `version`.
#[cfg(test)]
pub(crate) fn encoded(p: &super::Packet, version: super::Version) -> Vec<u8> {
    let mut out = bytes::BytesMut::new();
    super::encode(p, version, &mut out).unwrap();
    out.to_vec()
}
