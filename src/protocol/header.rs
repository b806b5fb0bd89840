//! The fixed header (section 2.1): packet type, flags and remaining length.

/// The control packet type in the high nibble of the first byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PacketType {
    /// 1
    Connect = 1,
    /// 2
    ConnAck = 2,
    /// 3
    Publish = 3,
    /// 4
    PubAck = 4,
    /// 5
    PubRec = 5,
    /// 6
    PubRel = 6,
    /// 7
    PubComp = 7,
    /// 8
    Subscribe = 8,
    /// 9
    SubAck = 9,
    /// 10
    Unsubscribe = 10,
    /// 11
    UnsubAck = 11,
    /// 12
    PingReq = 12,
    /// 13
    PingResp = 13,
    /// 14
    Disconnect = 14,
    /// 15 (v5 only)
    Auth = 15,
}

impl PacketType {
    /// The packet's name in capitals, as logs print it.
    pub fn name(self) -> &'static str {
        match self {
            PacketType::Connect => "CONNECT",
            PacketType::ConnAck => "CONNACK",
            PacketType::Publish => "PUBLISH",
            PacketType::PubAck => "PUBACK",
            PacketType::PubRec => "PUBREC",
            PacketType::PubRel => "PUBREL",
            PacketType::PubComp => "PUBCOMP",
            PacketType::Subscribe => "SUBSCRIBE",
            PacketType::SubAck => "SUBACK",
            PacketType::Unsubscribe => "UNSUBSCRIBE",
            PacketType::UnsubAck => "UNSUBACK",
            PacketType::PingReq => "PINGREQ",
            PacketType::PingResp => "PINGRESP",
            PacketType::Disconnect => "DISCONNECT",
            PacketType::Auth => "AUTH",
        }
    }
}

use super::primitives::{Varint, parse_varint};
use super::{DecodeError, Version};

impl PacketType {
    /// The packet type for the high nibble of the first byte; `None` for the reserved 0.
    pub fn from_u8(v: u8) -> Option<PacketType> {
        Some(match v {
            1 => PacketType::Connect,
            2 => PacketType::ConnAck,
            3 => PacketType::Publish,
            4 => PacketType::PubAck,
            5 => PacketType::PubRec,
            6 => PacketType::PubRel,
            7 => PacketType::PubComp,
            8 => PacketType::Subscribe,
            9 => PacketType::SubAck,
            10 => PacketType::Unsubscribe,
            11 => PacketType::UnsubAck,
            12 => PacketType::PingReq,
            13 => PacketType::PingResp,
            14 => PacketType::Disconnect,
            15 => PacketType::Auth,
            _ => return None,
        })
    }

    /// The flags nibble every packet but PUBLISH must carry (2.2.2).
    pub fn fixed_flags(self) -> u8 {
        match self {
            PacketType::PubRel | PacketType::Subscribe | PacketType::Unsubscribe => 0b0010,
            _ => 0,
        }
    }
}

/// A parsed fixed header.
///
/// ```text
///  bit    7  6  5  4   3  2  1  0
/// byte 1  packet type | flags
/// byte 2… remaining length, variable byte integer (1 to 4 bytes)
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FixedHeader {
    pub(crate) kind: PacketType,
    pub(crate) flags: u8,
    /// Bytes of the fixed header itself (2 to 5).
    pub(crate) header_len: usize,
    /// The remaining length.
    pub(crate) remaining: usize,
}

/// Parses the fixed header at the front of `buf`: `Ok(None)` when it is not complete yet.
///
/// Only the first byte and the remaining length are looked at, so a broken type or flag nibble
/// is refused before the body arrives.
#[inline]
pub(crate) fn parse(buf: &[u8], version: Version) -> Result<Option<FixedHeader>, DecodeError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    let kind = check_first_byte(first, version)?;
    match parse_varint(&buf[1..])? {
        Varint::Done(remaining, n) => Ok(Some(FixedHeader {
            kind,
            flags: first & 0x0F,
            header_len: 1 + n,
            remaining: remaining as usize,
        })),
        Varint::Incomplete => Ok(None),
    }
}

/// Checks the type nibble and the reserved flag bits ([MQTT-2.2.2-1]).
#[inline]
fn check_first_byte(first: u8, version: Version) -> Result<PacketType, DecodeError> {
    let kind = match PacketType::from_u8(first >> 4) {
        Some(PacketType::Auth) if !version.is_v5() => {
            return Err(DecodeError::malformed(
                "2.2.1",
                "AUTH (type 15) is reserved before MQTT 5.0",
            ));
        }
        Some(kind) => kind,
        None => return Err(DecodeError::malformed("2.2.1", "reserved packet type 0")),
    };
    let mut flags = first & 0x0F;
    if version == Version::V31 {
        // MQTT 3.1 defined DUP for every packet: a resent PUBREL, SUBSCRIBE or UNSUBSCRIBE
        // may carry it.
        flags &= !0x08;
    }
    if kind != PacketType::Publish && flags != kind.fixed_flags() {
        return Err(match kind {
            PacketType::PubRel => {
                DecodeError::malformed("MQTT-3.6.1-1", "PUBREL fixed header flags must be 0010")
            }
            PacketType::Subscribe => {
                DecodeError::malformed("MQTT-3.8.1-1", "SUBSCRIBE fixed header flags must be 0010")
            }
            PacketType::Unsubscribe => DecodeError::malformed(
                "MQTT-3.10.1-1",
                "UNSUBSCRIBE fixed header flags must be 0010",
            ),
            _ => DecodeError::malformed("MQTT-2.2.2-1", "reserved fixed header flags must be 0"),
        });
    }
    Ok(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incomplete_header_waits() {
        assert_eq!(parse(&[], Version::V311), Ok(None));
        assert_eq!(parse(&[0x30], Version::V311), Ok(None));
        assert_eq!(parse(&[0x30, 0x80], Version::V311), Ok(None));
    }

    #[test]
    fn parses_type_flags_and_length() {
        let h = parse(&[0x3B, 0xC1, 0x02, 9], Version::V5).unwrap().unwrap();
        assert_eq!(h.kind, PacketType::Publish);
        assert_eq!(h.flags, 0x0B);
        assert_eq!(h.header_len, 3);
        assert_eq!(h.remaining, 321);
    }

    #[test]
    fn reserved_flags_are_refused_before_the_body() {
        assert!(parse(&[0x62], Version::V311).unwrap().is_none());
        assert_eq!(
            parse(&[0x60], Version::V311).unwrap_err().rule,
            "MQTT-3.6.1-1"
        );
        assert_eq!(
            parse(&[0x80], Version::V311).unwrap_err().rule,
            "MQTT-3.8.1-1"
        );
        assert_eq!(
            parse(&[0xA0], Version::V311).unwrap_err().rule,
            "MQTT-3.10.1-1"
        );
        assert_eq!(
            parse(&[0xC1], Version::V311).unwrap_err().rule,
            "MQTT-2.2.2-1"
        );
        assert_eq!(parse(&[0x00], Version::V311).unwrap_err().rule, "2.2.1");
        assert_eq!(parse(&[0xF0], Version::V311).unwrap_err().rule, "2.2.1");
        assert_eq!(
            parse(&[0xF0, 0], Version::V5).unwrap().unwrap().kind,
            PacketType::Auth
        );
    }
}
