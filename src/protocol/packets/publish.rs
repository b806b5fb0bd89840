//! PUBLISH (3.3).
//!
//! ```text
//! fixed header: 0011 DUP QoS(2) RETAIN
//! topic name (string) | packet id (QoS > 0) | v5 properties | payload (the rest)
//! ```

use super::read_packet_id;
use crate::protocol::primitives::{put_binary, read_binary};
use crate::protocol::property_wire::{self, PropCtx};
use crate::protocol::{DecodeError, EncodeError, Packet, Props, Publish, QoS, Version};
use crate::topic::{TopicError, TopicName};
use bytes::{BufMut, Bytes, BytesMut};

/// Decodes a PUBLISH body; `flags` is the low nibble of the first byte.
#[inline]
pub(crate) fn decode(
    mut b: Bytes,
    flags: u8,
    version: Version,
) -> Result<Option<Packet>, DecodeError> {
    let qos = QoS::from_u8((flags >> 1) & 0b11)
        .ok_or(DecodeError::malformed("MQTT-3.3.1-4", "PUBLISH with QoS 3"))?;
    let dup = flags & 0b1000 != 0;
    if dup && qos == QoS::AtMostOnce {
        return Err(DecodeError::malformed(
            "MQTT-3.3.1-2",
            "DUP flag set on a QoS 0 PUBLISH",
        ));
    }
    let raw_topic = read_binary(&mut b)?;
    let packet_id = match qos {
        QoS::AtMostOnce => None,
        _ => Some(read_packet_id(&mut b)?),
    };
    let properties = if version.is_v5() {
        property_wire::decode(&mut b, PropCtx::Publish)?
    } else {
        Props::default()
    };
    let topic = topic(raw_topic, version, &properties)?;
    // Built in place as the caller's return value: every move of a `Packet` through another
    // `Result` or `Option` copies the seven bytes beside its niche tag in two overlapping
    // pieces, and reading them back stalls store forwarding.
    Ok(Some(Packet::Publish(Publish {
        dup,
        qos,
        retain: flags & 1 != 0,
        topic,
        packet_id,
        properties,
        payload: b,
    })))
}

/// Validates the topic name; an empty one stands for a topic alias in v5 only.
#[inline]
fn topic(raw: Bytes, version: Version, props: &Props) -> Result<TopicName, DecodeError> {
    let raw = match TopicName::from_plain_ascii(raw) {
        Ok(t) => return Ok(t),
        Err(raw) => raw,
    };
    if raw.is_empty() {
        return if version.is_v5() && props.topic_alias.is_some() {
            Ok(TopicName::empty())
        } else if version.is_v5() {
            Err(DecodeError::protocol(
                "3.3.2.1",
                "empty topic name without a topic alias",
            ))
        } else {
            Err(DecodeError::protocol("MQTT-4.7.3-1", "empty topic name"))
        };
    }
    TopicName::from_bytes(raw).map_err(|e| match e {
        TopicError::InvalidUtf8 | TopicError::Null => DecodeError::malformed(e.rule(), e.message()),
        _ => DecodeError {
            rule: e.rule(),
            message: e.message(),
            reason: crate::protocol::ReasonCode::TopicNameInvalid,
        },
    })
}

/// The remaining length of `p`.
#[inline]
pub(crate) fn body_len(p: &Publish, version: Version) -> usize {
    let id = if p.qos == QoS::AtMostOnce { 0 } else { 2 };
    let props = if version.is_v5() {
        property_wire::wire_len(&p.properties)
    } else {
        0
    };
    2 + p.topic.len() + id + props + p.payload.len()
}

/// The first byte of the fixed header.
#[inline]
pub(crate) fn first_byte(p: &Publish) -> u8 {
    0x30 | (u8::from(p.dup) << 3) | ((p.qos as u8) << 1) | u8::from(p.retain)
}

/// Writes the body.
#[inline]
pub(crate) fn encode(p: &Publish, version: Version, buf: &mut BytesMut) -> Result<(), EncodeError> {
    if p.dup && p.qos == QoS::AtMostOnce {
        return Err(EncodeError::Invalid("DUP flag on a QoS 0 PUBLISH"));
    }
    if p.topic.is_empty() && !(version.is_v5() && p.properties.topic_alias.is_some()) {
        return Err(EncodeError::Invalid(
            "empty topic name without a topic alias",
        ));
    }
    put_binary(buf, p.topic.as_bytes())?;
    match (p.qos, p.packet_id) {
        (QoS::AtMostOnce, None) => {}
        (QoS::AtMostOnce, Some(_)) => {
            return Err(EncodeError::Invalid("packet identifier on a QoS 0 PUBLISH"));
        }
        (_, Some(id)) => buf.put_u16(id.get()),
        (_, None) => {
            return Err(EncodeError::Invalid(
                "QoS > 0 PUBLISH without packet identifier",
            ));
        }
    }
    if version.is_v5() {
        property_wire::encode(&p.properties, PropCtx::Publish, buf)?;
    }
    buf.put_slice(&p.payload);
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::protocol::packets::{encoded, wire};
    use crate::protocol::{Packet, Publish, QoS, Version};
    use crate::topic::TopicName;
    use bytes::Bytes;
    use std::num::NonZeroU16;

    #[test]
    fn qos1_retained_publish_3_1_1() {
        let p = wire(b"\x33\x0a\x00\x03a/b\x00\x07hi\x21", Version::V311);
        let Packet::Publish(p) = p else { panic!() };
        assert_eq!((p.qos, p.retain, p.dup), (QoS::AtLeastOnce, true, false));
        assert_eq!(p.packet_id, NonZeroU16::new(7));
        assert_eq!(p.topic.as_str(), "a/b");
        assert_eq!(&p.payload[..], b"hi!");
    }

    #[test]
    fn dup_qos2_publish_with_empty_payload() {
        let Packet::Publish(p) = wire(b"\x3c\x05\x00\x01x\x01\x00", Version::V311) else {
            panic!()
        };
        assert!(p.dup && p.payload.is_empty());
        assert_eq!(p.qos, QoS::ExactlyOnce);
    }

    #[test]
    fn v5_publish_with_topic_alias_and_empty_topic() {
        // Property length 3: Topic Alias (0x23) = 5.
        let Packet::Publish(p) = wire(b"\x30\x08\x00\x00\x03\x23\x00\x05ok", Version::V5) else {
            panic!()
        };
        assert!(p.topic.is_empty());
        assert_eq!(p.properties.topic_alias, Some(5));
        assert_eq!(&p.payload[..], b"ok");
    }

    #[test]
    fn v5_publish_without_properties_has_a_zero_property_length() {
        let p = Packet::Publish(Publish {
            dup: false,
            qos: QoS::AtMostOnce,
            retain: false,
            topic: TopicName::new("t").unwrap(),
            packet_id: None,
            properties: Default::default(),
            payload: Bytes::from_static(b"x"),
        });
        assert_eq!(encoded(&p, Version::V5), b"\x30\x05\x00\x01t\x00x");
        assert_eq!(encoded(&p, Version::V311), b"\x30\x04\x00\x01tx");
    }

    #[test]
    fn encode_refuses_inconsistent_packet_ids() {
        let mut p = Publish {
            dup: false,
            qos: QoS::AtLeastOnce,
            retain: false,
            topic: TopicName::new("t").unwrap(),
            packet_id: None,
            properties: Default::default(),
            payload: Bytes::new(),
        };
        let mut buf = bytes::BytesMut::new();
        assert!(
            crate::protocol::encode(&Packet::Publish(p.clone()), Version::V311, &mut buf).is_err()
        );
        p.qos = QoS::AtMostOnce;
        p.packet_id = NonZeroU16::new(1);
        assert!(crate::protocol::encode(&Packet::Publish(p), Version::V311, &mut buf).is_err());
        assert!(buf.is_empty());
    }
}
