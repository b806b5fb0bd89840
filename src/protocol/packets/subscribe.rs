//! SUBSCRIBE (3.8) and SUBACK (3.9).
//!
//! ```text
//! SUBSCRIBE: packet id | v5 properties | (topic filter (string), options (1))+
//! options:   bits 7-6 reserved | 5-4 retain handling | 3 retain as published | 2 no local | 1-0 QoS
//!            (3.x: bits 7-2 reserved)
//! SUBACK:    packet id | v5 properties | reason code (1) per filter
//! ```

use super::{check_reason, read_packet_id, read_reason};
use crate::protocol::primitives::{put_binary, read_binary, read_u8};
use crate::protocol::property_wire::{self, PropCtx};
use crate::protocol::{
    DecodeError, EncodeError, PacketType, Props, QoS, ReasonCode, RetainHandling, SubAck,
    Subscribe, Subscription, SubscriptionOptions, Version,
};
use crate::topic::{TopicError, TopicFilter};
use bytes::{BufMut, Bytes, BytesMut};

/// Decodes a topic filter of SUBSCRIBE or UNSUBSCRIBE.
pub(crate) fn read_filter(b: &mut Bytes) -> Result<TopicFilter, DecodeError> {
    TopicFilter::from_bytes(read_binary(b)?).map_err(|e| match e {
        TopicError::InvalidUtf8 | TopicError::Null => DecodeError::malformed(e.rule(), e.message()),
        _ => DecodeError {
            rule: e.rule(),
            message: e.message(),
            reason: ReasonCode::TopicFilterInvalid,
        },
    })
}

/// Decodes a subscription options byte.
fn read_options(b: &mut Bytes, version: Version) -> Result<SubscriptionOptions, DecodeError> {
    let o = read_u8(b)?;
    let reserved = if version.is_v5() { 0xC0 } else { 0xFC };
    if o & reserved != 0 {
        let rule = if version.is_v5() {
            "MQTT-3.8.3-5"
        } else {
            "MQTT-3.8.3-4"
        };
        return Err(DecodeError::malformed(
            rule,
            "reserved subscription option bits set",
        ));
    }
    let qos = QoS::from_u8(o & 0b11).ok_or(if version.is_v5() {
        DecodeError::protocol("3.8.3.1", "subscription with QoS 3")
    } else {
        DecodeError::malformed("MQTT-3.8.3-4", "subscription with QoS 3")
    })?;
    let retain_handling = match (o >> 4) & 0b11 {
        0 => RetainHandling::SendOnSubscribe,
        1 => RetainHandling::SendIfNew,
        2 => RetainHandling::DoNotSend,
        _ => return Err(DecodeError::protocol("3.8.3.1", "retain handling 3")),
    };
    Ok(SubscriptionOptions {
        qos,
        no_local: o & 0b100 != 0,
        retain_as_published: o & 0b1000 != 0,
        retain_handling,
    })
}

/// The options byte of a subscription (3.x: the QoS alone).
fn options_byte(o: &SubscriptionOptions, version: Version) -> u8 {
    let qos = o.qos as u8;
    if !version.is_v5() {
        return qos;
    }
    qos | (u8::from(o.no_local) << 2)
        | (u8::from(o.retain_as_published) << 3)
        | ((o.retain_handling as u8) << 4)
}

/// Decodes a SUBSCRIBE body.
pub(crate) fn decode(mut b: Bytes, version: Version) -> Result<Subscribe, DecodeError> {
    let packet_id = read_packet_id(&mut b)?;
    let properties = if version.is_v5() {
        property_wire::decode(&mut b, PropCtx::Subscribe)?
    } else {
        Props::default()
    };
    let mut subscriptions = Vec::new();
    while !b.is_empty() {
        let filter = read_filter(&mut b)?;
        let options = read_options(&mut b, version)?;
        if options.no_local && filter.share().is_some() {
            return Err(DecodeError::protocol(
                "MQTT-3.8.3-4",
                "No Local set on a shared subscription",
            ));
        }
        subscriptions.push(Subscription { filter, options });
    }
    if subscriptions.is_empty() {
        return Err(DecodeError::protocol(
            "MQTT-3.8.3-3",
            "SUBSCRIBE without topic filters",
        ));
    }
    Ok(Subscribe {
        packet_id,
        subscriptions,
        properties,
    })
}

/// The remaining length of a SUBSCRIBE.
pub(crate) fn body_len(s: &Subscribe, version: Version) -> usize {
    let props = if version.is_v5() {
        property_wire::wire_len(&s.properties)
    } else {
        0
    };
    2 + props
        + s.subscriptions
            .iter()
            .map(|f| 3 + f.filter.len())
            .sum::<usize>()
}

/// Writes a SUBSCRIBE body.
pub(crate) fn encode(
    s: &Subscribe,
    version: Version,
    buf: &mut BytesMut,
) -> Result<(), EncodeError> {
    if s.subscriptions.is_empty() {
        return Err(EncodeError::Invalid("SUBSCRIBE without topic filters"));
    }
    buf.put_u16(s.packet_id.get());
    if version.is_v5() {
        property_wire::encode(&s.properties, PropCtx::Subscribe, buf)?;
    }
    for sub in &s.subscriptions {
        if version.is_v5() && sub.options.no_local && sub.filter.share().is_some() {
            return Err(EncodeError::Invalid("No Local on a shared subscription"));
        }
        put_binary(buf, sub.filter.as_str().as_bytes())?;
        buf.put_u8(options_byte(&sub.options, version));
    }
    Ok(())
}

/// Decodes a SUBACK body.
pub(crate) fn decode_ack(mut b: Bytes, version: Version) -> Result<SubAck, DecodeError> {
    let packet_id = read_packet_id(&mut b)?;
    let properties = if version.is_v5() {
        property_wire::decode(&mut b, PropCtx::SubAck)?
    } else {
        Props::default()
    };
    let mut reasons = Vec::with_capacity(b.len());
    while !b.is_empty() {
        let r = if version.is_v5() {
            read_reason(&mut b, PacketType::SubAck)?
        } else {
            match read_u8(&mut b)? {
                0 => ReasonCode::GrantedQoS0,
                1 => ReasonCode::GrantedQoS1,
                2 => ReasonCode::GrantedQoS2,
                0x80 => ReasonCode::UnspecifiedError,
                _ => {
                    return Err(DecodeError::protocol(
                        "MQTT-3.9.3-2",
                        "invalid SUBACK return code",
                    ));
                }
            }
        };
        reasons.push(r);
    }
    if reasons.is_empty() {
        return Err(DecodeError::protocol(
            "3.9.3",
            "SUBACK without return codes",
        ));
    }
    Ok(SubAck {
        packet_id,
        reasons,
        properties,
    })
}

/// The remaining length of a SUBACK.
pub(crate) fn ack_len(s: &SubAck, version: Version) -> usize {
    let props = if version.is_v5() {
        property_wire::wire_len(&s.properties)
    } else {
        0
    };
    2 + props + s.reasons.len()
}

/// Writes a SUBACK body; 3.x sends every failure as 0x80.
pub(crate) fn encode_ack(
    s: &SubAck,
    version: Version,
    buf: &mut BytesMut,
) -> Result<(), EncodeError> {
    if s.reasons.is_empty() {
        return Err(EncodeError::Invalid("SUBACK without return codes"));
    }
    buf.put_u16(s.packet_id.get());
    if version.is_v5() {
        property_wire::encode(&s.properties, PropCtx::SubAck, buf)?;
    }
    for r in &s.reasons {
        if version.is_v5() {
            check_reason(*r, PacketType::SubAck)?;
            buf.put_u8(r.as_u8());
        } else {
            buf.put_u8(match r {
                ReasonCode::Success | ReasonCode::GrantedQoS1 | ReasonCode::GrantedQoS2 => {
                    r.as_u8()
                }
                _ => 0x80,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::protocol::packets::{encoded, wire};
    use crate::protocol::{Packet, QoS, ReasonCode, RetainHandling, SubAck, Version};
    use std::num::NonZeroU16;

    #[test]
    fn subscribe_3_1_1_two_filters() {
        let bytes = b"\x82\x0c\x00\x0a\x00\x03a/+\x01\x00\x01#\x02";
        let Packet::Subscribe(s) = wire(bytes, Version::V311) else {
            panic!()
        };
        assert_eq!(s.packet_id.get(), 10);
        assert_eq!(s.subscriptions[0].filter.as_str(), "a/+");
        assert_eq!(s.subscriptions[0].options.qos, QoS::AtLeastOnce);
        assert_eq!(s.subscriptions[1].options.qos, QoS::ExactlyOnce);
    }

    #[test]
    fn subscribe_v5_options_and_subscription_identifier() {
        // Subscription Identifier 200 (varint c8 01); options: QoS 1, No Local, RAP, handling 2.
        let bytes = b"\x82\x0b\x00\x01\x03\x0b\xc8\x01\x00\x02a/\x2d";
        let Packet::Subscribe(s) = wire(bytes, Version::V5) else {
            panic!()
        };
        assert_eq!(s.properties.subscription_identifiers, vec![200]);
        let o = s.subscriptions[0].options;
        assert!(o.no_local && o.retain_as_published);
        assert_eq!(
            (o.qos, o.retain_handling),
            (QoS::AtLeastOnce, RetainHandling::DoNotSend)
        );
    }

    #[test]
    fn suback_failure_is_0x80_in_3_1_1() {
        let Packet::SubAck(s) = wire(b"\x90\x05\x00\x01\x00\x02\x80", Version::V311) else {
            panic!()
        };
        assert_eq!(
            s.reasons,
            [
                ReasonCode::GrantedQoS0,
                ReasonCode::GrantedQoS2,
                ReasonCode::UnspecifiedError
            ]
        );
        let p = Packet::SubAck(SubAck {
            packet_id: NonZeroU16::new(1).unwrap(),
            reasons: vec![ReasonCode::NotAuthorized, ReasonCode::GrantedQoS1],
            properties: Default::default(),
        });
        assert_eq!(encoded(&p, Version::V311), b"\x90\x04\x00\x01\x80\x01");
        assert_eq!(encoded(&p, Version::V5), b"\x90\x05\x00\x01\x00\x87\x01");
    }
}
