//! CONNECT (3.1). It names its own protocol version, so it decodes the same on any connection.
//!
//! ```text
//! protocol name ("MQTT" / "MQIsdp") | level (3, 4, 5; +0x80 from a 3.x bridge) | connect flags
//! | keep alive (2)
//! | v5 properties | client id | [v5 will properties, will topic, will payload]
//! | [user name] | [password]
//! flags: 7 user name | 6 password | 5 will retain | 4-3 will QoS | 2 will | 1 clean | 0 reserved
//! ```

use super::expect_end;
use crate::protocol::primitives::{
    put_binary, put_str, read_binary, read_string, read_u8, read_u16,
};
use crate::protocol::property_wire::{self, PropCtx};
use crate::protocol::{Connect, DecodeError, EncodeError, Props, QoS, ReasonCode, Version, Will};
use crate::topic::TopicName;
use bytes::{BufMut, Bytes, BytesMut};

const USERNAME: u8 = 0x80;
const PASSWORD: u8 = 0x40;
const WILL_RETAIN: u8 = 0x20;
const WILL_QOS: u8 = 0x18;
const WILL: u8 = 0x04;
const CLEAN: u8 = 0x02;
const RESERVED: u8 = 0x01;

/// Bit 7 of the protocol level: a 3.x bridge (mosquitto's `try_private`, also RSMB's).
const BRIDGE_BIT: u8 = 0x80;

/// The version named by a protocol name and level (bit 7 masked), or the CONNACK-worthy
/// refusal.
fn protocol(name: &[u8], level: u8) -> Result<Version, DecodeError> {
    const fn unsupported(rule: &'static str, message: &'static str) -> DecodeError {
        DecodeError {
            rule,
            message,
            reason: ReasonCode::UnsupportedProtocolVersion,
        }
    }
    match (name, level) {
        (b"MQTT", 4) => Ok(Version::V311),
        (b"MQTT", 5) => Ok(Version::V5),
        (b"MQIsdp", 3) => Ok(Version::V31),
        (b"MQTT" | b"MQIsdp", _) => Err(unsupported("MQTT-3.1.2-2", "unsupported protocol level")),
        _ => Err(unsupported("MQTT-3.1.2-1", "protocol name is not MQTT")),
    }
}

/// Checks the connect flags byte (3.1.2.3).
fn check_flags(flags: u8, version: Version) -> Result<(), DecodeError> {
    if flags & RESERVED != 0 {
        return Err(DecodeError::malformed(
            "MQTT-3.1.2-3",
            "reserved connect flag set",
        ));
    }
    if flags & WILL == 0 && flags & WILL_QOS != 0 {
        return Err(DecodeError::malformed(
            "MQTT-3.1.2-13",
            "will QoS set without the will flag",
        ));
    }
    if flags & WILL == 0 && flags & WILL_RETAIN != 0 {
        return Err(DecodeError::malformed(
            "MQTT-3.1.2-15",
            "will retain set without the will flag",
        ));
    }
    if flags & WILL_QOS == WILL_QOS {
        return Err(DecodeError::malformed("MQTT-3.1.2-14", "will QoS 3"));
    }
    if version == Version::V311 && flags & PASSWORD != 0 && flags & USERNAME == 0 {
        return Err(DecodeError::malformed(
            "MQTT-3.1.2-22",
            "password without a user name",
        ));
    }
    Ok(())
}

/// Decodes a CONNECT body.
pub(crate) fn decode(mut b: Bytes) -> Result<Connect, DecodeError> {
    let name = read_binary(&mut b)?;
    let level = read_u8(&mut b)?;
    let version = protocol(&name, level & !BRIDGE_BIT)?;
    // The bridge bit means nothing in 5.0 (mosquitto accepts and ignores it there too).
    let bridge = level & BRIDGE_BIT != 0 && !version.is_v5();
    let flags = read_u8(&mut b)?;
    check_flags(flags, version)?;
    let keep_alive = read_u16(&mut b)?;
    let properties = if version.is_v5() {
        property_wire::decode(&mut b, PropCtx::Connect)?
    } else {
        Props::default()
    };
    let client_id = read_string(&mut b)?;
    let will = if flags & WILL != 0 {
        Some(decode_will(&mut b, flags, version)?)
    } else {
        None
    };
    let username = if flags & USERNAME != 0 {
        Some(read_string(&mut b)?)
    } else {
        None
    };
    let password = if flags & PASSWORD != 0 {
        Some(read_binary(&mut b)?)
    } else {
        None
    };
    expect_end(&b)?;
    Ok(Connect {
        version,
        client_id,
        clean_start: flags & CLEAN != 0,
        keep_alive,
        username,
        password,
        will,
        properties,
        bridge,
    })
}

fn decode_will(b: &mut Bytes, flags: u8, version: Version) -> Result<Will, DecodeError> {
    let properties = if version.is_v5() {
        property_wire::decode(b, PropCtx::Will)?
    } else {
        Props::default()
    };
    let raw = read_binary(b)?;
    let topic = TopicName::from_bytes(raw).map_err(|e| match e {
        crate::topic::TopicError::InvalidUtf8 | crate::topic::TopicError::Null => {
            DecodeError::malformed(e.rule(), e.message())
        }
        _ => DecodeError {
            rule: e.rule(),
            message: e.message(),
            reason: ReasonCode::TopicNameInvalid,
        },
    })?;
    let payload = read_binary(b)?;
    Ok(Will {
        topic,
        payload,
        // Checked by `check_flags`: never 3.
        qos: QoS::from_u8((flags & WILL_QOS) >> 3).unwrap_or_default(),
        retain: flags & WILL_RETAIN != 0,
        properties,
    })
}

fn protocol_name(version: Version) -> &'static [u8] {
    match version {
        Version::V31 => b"MQIsdp",
        _ => b"MQTT",
    }
}

/// The remaining length of a CONNECT (in its own version).
pub(crate) fn body_len(c: &Connect) -> usize {
    let v5 = c.version.is_v5();
    let props = |p: &Props| if v5 { property_wire::wire_len(p) } else { 0 };
    let will = c.will.as_ref().map_or(0, |w| {
        props(&w.properties) + 2 + w.topic.len() + 2 + w.payload.len()
    });
    2 + protocol_name(c.version).len()
        + 4
        + props(&c.properties)
        + 2
        + c.client_id.len()
        + will
        + c.username.as_ref().map_or(0, |u| 2 + u.len())
        + c.password.as_ref().map_or(0, |p| 2 + p.len())
}

fn flags(c: &Connect) -> u8 {
    let mut f = 0;
    if c.clean_start {
        f |= CLEAN;
    }
    if let Some(w) = &c.will {
        f |= WILL | ((w.qos as u8) << 3);
        if w.retain {
            f |= WILL_RETAIN;
        }
    }
    if c.username.is_some() {
        f |= USERNAME;
    }
    if c.password.is_some() {
        f |= PASSWORD;
    }
    f
}

/// Writes a CONNECT body.
pub(crate) fn encode(c: &Connect, buf: &mut BytesMut) -> Result<(), EncodeError> {
    let v5 = c.version.is_v5();
    if c.version == Version::V311 && c.password.is_some() && c.username.is_none() {
        return Err(EncodeError::Invalid(
            "MQTT 3.1.1 password without a user name",
        ));
    }
    put_binary(buf, protocol_name(c.version))?;
    let bridge = if c.bridge && !v5 { BRIDGE_BIT } else { 0 };
    buf.put_u8(c.version.level() | bridge);
    buf.put_u8(flags(c));
    buf.put_u16(c.keep_alive);
    if v5 {
        property_wire::encode(&c.properties, PropCtx::Connect, buf)?;
    }
    put_str(buf, &c.client_id)?;
    if let Some(w) = &c.will {
        if w.topic.is_empty() {
            return Err(EncodeError::Invalid("empty will topic"));
        }
        if v5 {
            property_wire::encode(&w.properties, PropCtx::Will, buf)?;
        }
        put_binary(buf, w.topic.as_bytes())?;
        put_binary(buf, &w.payload)?;
    }
    if let Some(u) = &c.username {
        put_str(buf, u)?;
    }
    if let Some(p) = &c.password {
        put_binary(buf, p)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::protocol::packets::wire;
    use crate::protocol::{Packet, QoS, ReasonCode, Version};

    fn connect(p: Packet) -> crate::protocol::Connect {
        match p {
            Packet::Connect(c) => *c,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn minimal_3_1_1_connect_as_mosquitto_pub_sends_it() {
        let c = connect(wire(
            b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00",
            Version::V5,
        ));
        assert_eq!(c.version, Version::V311);
        assert!(c.clean_start && c.client_id.is_empty());
        assert_eq!(c.keep_alive, 60);
        assert!(c.will.is_none() && c.username.is_none() && c.password.is_none());
    }

    #[test]
    fn mqisdp_3_1_connect_with_will_user_and_password() {
        let bytes = b"\x10\x22\x00\x06MQIsdp\x03\xf6\x00\x0a\x00\x02id\x00\x03w/t\x00\x04gone\x00\x01u\x00\x02pw";
        let c = connect(wire(bytes, Version::V311));
        assert_eq!(c.version, Version::V31);
        let w = c.will.unwrap();
        assert_eq!((w.topic.as_str(), &w.payload[..]), ("w/t", &b"gone"[..]));
        assert_eq!((w.qos, w.retain), (QoS::ExactlyOnce, true));
        assert_eq!(c.username.as_deref(), Some("u"));
        assert_eq!(c.password.as_deref(), Some(&b"pw"[..]));
    }

    #[test]
    fn v5_connect_with_properties_and_will_properties() {
        // Session Expiry 10; will: Will Delay 3; password without user name is allowed in 5.0.
        let bytes = b"\x10\x23\x00\x04MQTT\x05\x46\x00\x00\x05\x11\x00\x00\x00\x0a\x00\x01c\
                      \x05\x18\x00\x00\x00\x03\x00\x01t\x00\x01x\x00\x02pw";
        let c = connect(wire(bytes, Version::V311));
        assert_eq!(c.version, Version::V5);
        assert_eq!(c.properties.session_expiry_interval, Some(10));
        let w = c.will.unwrap();
        assert_eq!(w.properties.will_delay_interval, Some(3));
        assert!(c.username.is_none() && c.password.is_some());
    }

    #[test]
    fn bridge_bit_of_the_level_marks_a_3_x_bridge_both_ways() {
        // mosquitto's try_private: level 0x84 is 3.1.1 from a bridge.
        let bytes = b"\x10\x0e\x00\x04MQTT\x84\x00\x00\x3c\x00\x02br";
        let c = connect(wire(bytes, Version::V311));
        assert_eq!((c.version, c.bridge), (Version::V311, true));
        let mut out = bytes::BytesMut::new();
        crate::protocol::encode(
            &Packet::Connect(Box::new(c.clone())),
            Version::V311,
            &mut out,
        )
        .unwrap();
        assert_eq!(&out[..], &bytes[..]);
        let v31 = b"\x10\x0e\x00\x06MQIsdp\x83\x02\x00\x3c\x00\x00";
        let c = connect(wire(v31, Version::V311));
        assert_eq!((c.version, c.bridge), (Version::V31, true));
        // 5.0 bridges use No Local; the bit is ignored there, and never sent.
        let mut v5 =
            bytes::BytesMut::from(&b"\x10\x0d\x00\x04MQTT\x85\x02\x00\x3c\x00\x00\x00"[..]);
        let mut c = connect(
            crate::protocol::decode(&mut v5, Version::V311, 1024)
                .unwrap()
                .unwrap(),
        );
        assert_eq!((c.version, c.bridge), (Version::V5, false));
        c.bridge = true;
        let mut out = bytes::BytesMut::new();
        crate::protocol::encode(&Packet::Connect(Box::new(c)), Version::V5, &mut out).unwrap();
        assert_eq!(out[8], 5);
    }

    #[test]
    fn unsupported_level_names_connack_0x84() {
        let mut buf = bytes::BytesMut::from(&b"\x10\x0c\x00\x04MQTT\x07\x02\x00\x3c\x00\x00"[..]);
        let e = crate::protocol::decode(&mut buf, Version::V311, 1024).unwrap_err();
        assert_eq!(e.reason, ReasonCode::UnsupportedProtocolVersion);
        assert_eq!(e.reason.to_v3_connack(), 1);
    }
}
