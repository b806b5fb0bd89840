//! Entry points of the codec: streaming decode, encode and the encoded length.

use super::header::{self, FixedHeader};
use super::packets::{connack, connect, control, publish, pubresp, subscribe, unsubscribe};
use super::primitives::{put_varint, varint_len};
use super::{
    DecodeError, EncodeError, MAX_REMAINING_LENGTH, Packet, PacketType, Publish, ReasonCode,
    Version,
};
use bytes::{Buf, BufMut, Bytes, BytesMut};

/// The error for a packet over the receiver's maximum size (3.1.2.11.4, 3.2.2.3.6).
const TOO_LARGE: DecodeError = DecodeError {
    rule: "3.1.2.11.4",
    message: "packet exceeds the maximum packet size",
    reason: ReasonCode::PacketTooLarge,
};

/// Decodes one packet from the front of `buf`.
///
/// `Ok(None)` means more bytes are needed; nothing is consumed then. `version` is the
/// connection's version; CONNECT carries its own. A packet whose total size (fixed header
/// included) exceeds `max_packet_size` is refused from its fixed header, before its body is
/// buffered. Topics and payloads are slices of `buf`'s storage, not copies. After an error the
/// buffer's contents are unspecified: the connection is to be closed.
#[inline]
pub fn decode(
    buf: &mut BytesMut,
    version: Version,
    max_packet_size: u32,
) -> Result<Option<Packet>, DecodeError> {
    let Some(h) = header::parse(buf, version)? else {
        return Ok(None);
    };
    let total = h.header_len + h.remaining;
    if total > max_packet_size as usize {
        return Err(TOO_LARGE);
    }
    if buf.len() < total {
        return Ok(None);
    }
    buf.advance(h.header_len);
    let body = buf.split_to(h.remaining).freeze();
    decode_body(h, body, version)
}

/// Decodes the body of a packet whose fixed header is `h`.
///
/// PUBLISH, the hot path, writes the final `Ok(Some(..))` itself (see `publish::decode`).
#[inline]
fn decode_body(
    h: FixedHeader,
    body: Bytes,
    version: Version,
) -> Result<Option<Packet>, DecodeError> {
    Ok(Some(match h.kind {
        PacketType::Publish => return publish::decode(body, h.flags, version),
        PacketType::Connect => Packet::Connect(Box::new(connect::decode(body)?)),
        PacketType::ConnAck => Packet::ConnAck(connack::decode(body, version)?),
        PacketType::PubAck => Packet::PubAck(pubresp::decode(body, h.kind, version)?),
        PacketType::PubRec => Packet::PubRec(pubresp::decode(body, h.kind, version)?),
        PacketType::PubRel => Packet::PubRel(pubresp::decode(body, h.kind, version)?),
        PacketType::PubComp => Packet::PubComp(pubresp::decode(body, h.kind, version)?),
        PacketType::Subscribe => Packet::Subscribe(subscribe::decode(body, version)?),
        PacketType::SubAck => Packet::SubAck(subscribe::decode_ack(body, version)?),
        PacketType::Unsubscribe => Packet::Unsubscribe(unsubscribe::decode(body, version)?),
        PacketType::UnsubAck => Packet::UnsubAck(unsubscribe::decode_ack(body, version)?),
        PacketType::PingReq => {
            super::packets::expect_end(&body)?;
            Packet::PingReq
        }
        PacketType::PingResp => {
            super::packets::expect_end(&body)?;
            Packet::PingResp
        }
        PacketType::Disconnect => Packet::Disconnect(control::decode_disconnect(body, version)?),
        PacketType::Auth => Packet::Auth(control::decode_auth(body)?),
    }))
}

/// The first byte of the fixed header and the remaining length of `packet`.
#[inline]
fn frame(packet: &Packet, version: Version) -> (u8, usize) {
    let kind = packet.packet_type();
    let fixed = ((kind as u8) << 4) | kind.fixed_flags();
    let len = match packet {
        Packet::Publish(p) => return (publish::first_byte(p), publish::body_len(p, version)),
        Packet::Connect(c) => connect::body_len(c),
        Packet::ConnAck(c) => connack::body_len(c, version),
        Packet::PubAck(p) | Packet::PubRec(p) | Packet::PubRel(p) | Packet::PubComp(p) => {
            pubresp::body_len(p, version)
        }
        Packet::Subscribe(s) => subscribe::body_len(s, version),
        Packet::SubAck(s) => subscribe::ack_len(s, version),
        Packet::Unsubscribe(u) => unsubscribe::body_len(u, version),
        Packet::UnsubAck(u) => unsubscribe::ack_len(u, version),
        Packet::PingReq | Packet::PingResp => 0,
        Packet::Disconnect(d) => control::disconnect_len(d, version),
        Packet::Auth(a) => control::auth_len(a),
    };
    (fixed, len)
}

/// Encodes `packet` for `version` at the end of `buf`.
///
/// CONNECT is encoded in its own `version`. On error `buf` is left as it was.
#[inline]
pub fn encode(packet: &Packet, version: Version, buf: &mut BytesMut) -> Result<(), EncodeError> {
    let (first, len) = frame(packet, version);
    if len > MAX_REMAINING_LENGTH as usize {
        return Err(EncodeError::PacketTooLarge(len));
    }
    let start = buf.len();
    buf.reserve(1 + varint_len(len) + len);
    buf.put_u8(first);
    put_varint(buf, len);
    let body_start = buf.len();
    let written = encode_body(packet, version, buf);
    if written.is_err() {
        buf.truncate(start);
    }
    debug_assert!(written.is_err() || buf.len() - body_start == len);
    written
}

fn encode_body(packet: &Packet, version: Version, buf: &mut BytesMut) -> Result<(), EncodeError> {
    match packet {
        Packet::Publish(p) => publish::encode(p, version, buf),
        Packet::Connect(c) => connect::encode(c, buf),
        Packet::ConnAck(c) => connack::encode(c, version, buf),
        Packet::PubAck(p) => pubresp::encode(p, PacketType::PubAck, version, buf),
        Packet::PubRec(p) => pubresp::encode(p, PacketType::PubRec, version, buf),
        Packet::PubRel(p) => pubresp::encode(p, PacketType::PubRel, version, buf),
        Packet::PubComp(p) => pubresp::encode(p, PacketType::PubComp, version, buf),
        Packet::Subscribe(s) => subscribe::encode(s, version, buf),
        Packet::SubAck(s) => subscribe::encode_ack(s, version, buf),
        Packet::Unsubscribe(u) => unsubscribe::encode(u, version, buf),
        Packet::UnsubAck(u) => unsubscribe::encode_ack(u, version, buf),
        Packet::PingReq | Packet::PingResp => Ok(()),
        Packet::Disconnect(d) => control::encode_disconnect(d, version, buf),
        Packet::Auth(a) => control::encode_auth(a, version, buf),
    }
}

/// The number of bytes [`encode`] writes for `packet` (when it succeeds).
pub fn encoded_len(packet: &Packet, version: Version) -> usize {
    let (_, len) = frame(packet, version);
    1 + varint_len(len) + len
}

/// Encodes the fixed header and variable header of `publish` as if its payload were
/// `payload_len` bytes long (its own payload must be empty), for a writer that streams a payload
/// too large to hold in memory right after these bytes.
pub fn encode_publish_head(
    publish: &Publish,
    payload_len: usize,
    version: Version,
    buf: &mut BytesMut,
) -> Result<(), EncodeError> {
    if !publish.payload.is_empty() {
        return Err(EncodeError::Invalid("streamed PUBLISH with a payload"));
    }
    let len = publish::body_len(publish, version).saturating_add(payload_len);
    if len > MAX_REMAINING_LENGTH as usize {
        return Err(EncodeError::PacketTooLarge(len));
    }
    let start = buf.len();
    buf.put_u8(publish::first_byte(publish));
    put_varint(buf, len);
    let written = publish::encode(publish, version, buf);
    if written.is_err() {
        buf.truncate(start);
    }
    written
}

/// The type, fixed-header length and remaining length of the packet at the front of `buf`,
/// from its fixed header alone (`Ok(None)` until that is complete), for a reader that skips a
/// body too large to buffer instead of decoding it.
pub fn peek_header(
    buf: &[u8],
    version: Version,
) -> Result<Option<(PacketType, usize, usize)>, DecodeError> {
    Ok(header::parse(buf, version)?.map(|h| (h.kind, h.header_len, h.remaining)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{
        Auth, ConnAck, Connect, Disconnect, Properties, PubResp, Publish, QoS, RetainHandling,
        SubAck, Subscribe, Subscription, SubscriptionOptions, UnsubAck, Unsubscribe, Will,
    };
    use crate::topic::{TopicFilter, TopicName};
    use std::num::NonZeroU16;

    fn id(v: u16) -> NonZeroU16 {
        NonZeroU16::new(v).unwrap()
    }

    fn v5_props() -> Properties {
        Properties {
            reason_string: Some("why".into()),
            user_properties: vec![("k".into(), "v".into()), ("k".into(), "w".into())],
            ..Properties::default()
        }
    }

    /// One packet of every kind valid in `version`.
    fn samples(version: Version) -> Vec<Packet> {
        let v5 = version.is_v5();
        let props = |p: Properties| if v5 { p.into() } else { Default::default() };
        let mut connect_props = Properties {
            session_expiry_interval: Some(30),
            ..v5_props()
        };
        connect_props.reason_string = None;
        let will_props = Properties {
            will_delay_interval: Some(5),
            ..Properties::default()
        };
        let mut v = vec![
            Packet::Connect(Box::new(Connect {
                version,
                client_id: "client-1".into(),
                clean_start: true,
                keep_alive: 60,
                username: Some("user".into()),
                password: Some(Bytes::from_static(b"pw")),
                will: Some(Will {
                    topic: TopicName::new("last/will").unwrap(),
                    payload: Bytes::from_static(b"gone"),
                    qos: QoS::AtLeastOnce,
                    retain: true,
                    properties: props(will_props),
                }),
                properties: props(connect_props),
                bridge: false,
            })),
            Packet::ConnAck(ConnAck {
                // MQTT 3.1 has no session present flag.
                session_present: version != Version::V31,
                reason: ReasonCode::Success,
                properties: props(Properties {
                    maximum_qos: Some(1),
                    ..Properties::default()
                }),
            }),
            Packet::ConnAck(ConnAck {
                session_present: false,
                reason: ReasonCode::NotAuthorized,
                properties: Default::default(),
            }),
            Packet::Publish(Publish {
                dup: false,
                qos: QoS::AtMostOnce,
                retain: false,
                topic: TopicName::new("a/b").unwrap(),
                packet_id: None,
                properties: Default::default(),
                payload: Bytes::from_static(b"hello"),
            }),
            Packet::Publish(Publish {
                dup: true,
                qos: QoS::ExactlyOnce,
                retain: true,
                topic: TopicName::new("a/b/c").unwrap(),
                packet_id: Some(id(7)),
                properties: props(Properties {
                    subscription_identifiers: vec![1, 300],
                    content_type: Some("text/plain".into()),
                    ..Properties::default()
                }),
                payload: Bytes::new(),
            }),
            Packet::PubAck(PubResp::new(id(1))),
            Packet::PubRec(PubResp::new(id(2))),
            Packet::PubRel(PubResp::new(id(3))),
            Packet::PubComp(PubResp::new(id(65535))),
            Packet::Subscribe(Subscribe {
                packet_id: id(9),
                subscriptions: vec![
                    Subscription {
                        filter: TopicFilter::new("a/+/c").unwrap(),
                        options: SubscriptionOptions {
                            qos: QoS::ExactlyOnce,
                            ..Default::default()
                        },
                    },
                    Subscription {
                        filter: TopicFilter::new("#").unwrap(),
                        options: SubscriptionOptions {
                            qos: QoS::AtLeastOnce,
                            no_local: v5,
                            retain_as_published: v5,
                            retain_handling: if v5 {
                                RetainHandling::DoNotSend
                            } else {
                                RetainHandling::SendOnSubscribe
                            },
                        },
                    },
                ],
                properties: props(Properties {
                    subscription_identifiers: vec![12],
                    ..Properties::default()
                }),
            }),
            Packet::SubAck(SubAck {
                packet_id: id(9),
                reasons: vec![
                    ReasonCode::GrantedQoS2,
                    ReasonCode::GrantedQoS0,
                    ReasonCode::UnspecifiedError,
                ],
                properties: props(v5_props()),
            }),
            Packet::Unsubscribe(Unsubscribe {
                packet_id: id(10),
                filters: vec![
                    TopicFilter::new("a/#").unwrap(),
                    TopicFilter::new("$share/g/x").unwrap(),
                ],
                properties: Default::default(),
            }),
            Packet::UnsubAck(UnsubAck {
                packet_id: id(10),
                reasons: if v5 {
                    vec![ReasonCode::Success, ReasonCode::NoSubscriptionExisted]
                } else {
                    vec![]
                },
                properties: props(v5_props()),
            }),
            Packet::PingReq,
            Packet::PingResp,
            Packet::Disconnect(Disconnect::default()),
        ];
        if v5 {
            v.extend([
                Packet::PubAck(PubResp {
                    packet_id: id(4),
                    reason: ReasonCode::NoMatchingSubscribers,
                    properties: Default::default(),
                }),
                Packet::PubRel(PubResp {
                    packet_id: id(4),
                    reason: ReasonCode::PacketIdentifierNotFound,
                    properties: v5_props().into(),
                }),
                Packet::Disconnect(Disconnect {
                    reason: ReasonCode::ServerShuttingDown,
                    properties: Default::default(),
                }),
                Packet::Disconnect(Disconnect {
                    reason: ReasonCode::Success,
                    properties: Properties {
                        session_expiry_interval: Some(0),
                        ..Properties::default()
                    }
                    .into(),
                }),
                Packet::Auth(Auth::default_success()),
                Packet::Auth(Auth {
                    reason: ReasonCode::ContinueAuthentication,
                    properties: Properties {
                        authentication_method: Some("SCRAM-SHA-1".into()),
                        authentication_data: Some(Bytes::from_static(b"\x00\x01")),
                        ..Properties::default()
                    }
                    .into(),
                }),
            ]);
        }
        v
    }

    #[test]
    fn every_packet_kind_round_trips_in_every_version() {
        for version in [Version::V31, Version::V311, Version::V5] {
            for p in samples(version) {
                let mut buf = BytesMut::new();
                encode(&p, version, &mut buf).unwrap_or_else(|e| panic!("{p:?}: {e}"));
                assert_eq!(buf.len(), encoded_len(&p, version), "{p:?}");
                let back = decode(&mut buf, version, u32::MAX).unwrap().unwrap();
                assert_eq!(back, p, "{version:?}");
                assert!(buf.is_empty());
            }
        }
    }

    #[test]
    fn decode_waits_for_a_whole_packet_without_consuming() {
        for version in [Version::V311, Version::V5] {
            let mut all = BytesMut::new();
            for p in samples(version) {
                encode(&p, version, &mut all).unwrap();
            }
            let whole = all.clone().freeze();
            // Feed one byte at a time: every packet appears exactly once, in order.
            let mut buf = BytesMut::new();
            let mut got = Vec::new();
            for &byte in whole.iter() {
                buf.put_u8(byte);
                let before = buf.len();
                match decode(&mut buf, version, u32::MAX).unwrap() {
                    Some(p) => got.push(p),
                    None => assert_eq!(buf.len(), before),
                }
            }
            assert_eq!(got, samples(version));
        }
    }

    #[test]
    fn oversize_is_refused_from_the_fixed_header_alone() {
        // PUBLISH announcing 200 bytes, only the fixed header buffered.
        let mut buf = BytesMut::from(&[0x30, 0xC8, 0x01][..]);
        let e = decode(&mut buf, Version::V311, 100).unwrap_err();
        assert_eq!(e.reason, ReasonCode::PacketTooLarge);
        // Exactly the limit is fine (2 header bytes + 98).
        let mut buf = BytesMut::from(&[0x30, 98][..]);
        assert_eq!(decode(&mut buf, Version::V311, 100), Ok(None));
    }

    #[test]
    fn payload_and_topic_share_the_receive_buffer() {
        let mut buf = BytesMut::from(&b"\x30\x0a\x00\x03a/bhello"[..]);
        let base = buf.as_ptr() as usize;
        let Some(Packet::Publish(p)) = decode(&mut buf, Version::V311, 1024).unwrap() else {
            panic!("not a publish");
        };
        assert_eq!(p.topic.as_str(), "a/b");
        assert_eq!(&p.payload[..], b"hello");
        assert_eq!(p.payload.as_ptr() as usize, base + 7);
        assert_eq!(p.topic.as_bytes().as_ptr() as usize, base + 4);
    }

    #[test]
    fn auth_is_not_in_3_1_1() {
        let mut buf = BytesMut::new();
        let e = encode(
            &Packet::Auth(Auth::default_success()),
            Version::V311,
            &mut buf,
        );
        assert_eq!(e, Err(EncodeError::NotInVersion("AUTH")));
        assert!(buf.is_empty());
    }

    #[test]
    fn streamed_publish_head_plus_payload_decodes_as_the_whole_packet() {
        for version in [Version::V311, Version::V5] {
            let mut publish = Publish {
                dup: false,
                qos: QoS::AtLeastOnce,
                retain: false,
                topic: TopicName::new("big/one").unwrap(),
                packet_id: Some(id(7)),
                properties: Default::default(),
                payload: Bytes::new(),
            };
            let mut buf = BytesMut::new();
            encode_publish_head(&publish, 300, version, &mut buf).unwrap();
            let (kind, header_len, remaining) = peek_header(&buf, version).unwrap().unwrap();
            assert_eq!(kind, PacketType::Publish);
            assert_eq!(header_len, 3, "300 + head needs two length bytes");
            assert_eq!(header_len + remaining, buf.len() + 300);
            buf.extend_from_slice(&[0xAB; 300]);
            let Some(Packet::Publish(p)) = decode(&mut buf, version, u32::MAX).unwrap() else {
                panic!("not a publish");
            };
            assert_eq!((p.topic.as_str(), p.payload.len()), ("big/one", 300));
            assert_eq!(p.packet_id, Some(id(7)));
            let mut buf = BytesMut::new();
            let too_big = MAX_REMAINING_LENGTH as usize;
            assert!(matches!(
                encode_publish_head(&publish, too_big, version, &mut buf),
                Err(EncodeError::PacketTooLarge(_))
            ));
            publish.payload = Bytes::from_static(b"x");
            assert!(encode_publish_head(&publish, 1, version, &mut buf).is_err());
            assert!(buf.is_empty());
        }
        assert_eq!(peek_header(&[0x30], Version::V311), Ok(None));
        assert_eq!(peek_header(&[0x30, 0x80], Version::V311), Ok(None));
    }
}
