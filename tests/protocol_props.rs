//! Property tests of the codec: every valid packet of every kind round-trips in every version,
//! and no byte sequence makes the decoder panic, loop or misbehave.

use bytes::{Bytes, BytesMut};
use mq::protocol::{
    Auth, ConnAck, Connect, Disconnect, Packet, Properties, PubResp, Publish, QoS, ReasonCode,
    RetainHandling, SubAck, Subscribe, Subscription, SubscriptionOptions, UnsubAck, Unsubscribe,
    Version, Will, decode, encode, encoded_len,
};
use mq::topic::{TopicFilter, TopicName};
use proptest::collection::vec;
use proptest::option::of;
use proptest::prelude::*;
use std::num::NonZeroU16;

const VERSIONS: [Version; 3] = [Version::V31, Version::V311, Version::V5];

fn version() -> impl Strategy<Value = Version> {
    prop::sample::select(&VERSIONS[..])
}

fn qos() -> impl Strategy<Value = QoS> {
    prop_oneof![
        Just(QoS::AtMostOnce),
        Just(QoS::AtLeastOnce),
        Just(QoS::ExactlyOnce)
    ]
}

fn packet_id() -> impl Strategy<Value = NonZeroU16> {
    (1u16..).prop_map(|v| NonZeroU16::new(v).unwrap())
}

/// Printable strings without U+0000 (or any other control character).
fn text() -> impl Strategy<Value = String> {
    "\\PC{0,8}"
}

fn binary() -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..24).prop_map(Bytes::from)
}

fn topic() -> impl Strategy<Value = TopicName> {
    "[a-z0-9/$é ]{1,16}".prop_map(|s| TopicName::new(s).unwrap())
}

fn filter(shared: bool) -> impl Strategy<Value = TopicFilter> {
    let level = prop_oneof![3 => "[a-z$]{0,3}", 1 => Just("+".to_string())];
    (vec(level, 1..4), any::<bool>()).prop_map(move |(levels, hash)| {
        let mut f = levels.join("/");
        if hash {
            f.push_str(if f.is_empty() { "#" } else { "/#" });
        }
        if f.is_empty() {
            f.push('x');
        }
        if shared {
            f = format!("$share/group/{f}");
        }
        TopicFilter::new(f).unwrap()
    })
}

/// Any property set; [`restrict`] keeps what a given packet allows.
fn any_props() -> impl Strategy<Value = Properties> {
    let flag = || of(0u8..=1);
    let a = (
        flag(),
        of(any::<u32>()),
        of(text()),
        of(topic().prop_map(|t| t.as_str().to_owned())),
        of(binary()),
        vec(1u32..=268_435_455, 0..3),
        of(any::<u32>()),
        of(text()),
        of(any::<u16>()),
        of(text()),
    );
    let b = (
        of(binary()),
        flag(),
        of(any::<u32>()),
        flag(),
        of(text()),
        of(text()),
        of(text()),
        of(1u16..),
        of(any::<u16>()),
        of(1u16..),
    );
    let c = (
        flag(),
        flag(),
        vec((text(), text()), 0..3),
        of(1u32..),
        flag(),
        flag(),
        flag(),
    );
    (a, b, c).prop_map(|(a, b, c)| Properties {
        payload_format_indicator: a.0,
        message_expiry_interval: a.1,
        content_type: a.2,
        response_topic: a.3,
        correlation_data: a.4,
        subscription_identifiers: a.5,
        session_expiry_interval: a.6,
        assigned_client_identifier: a.7,
        server_keep_alive: a.8,
        authentication_method: a.9,
        authentication_data: b.0,
        request_problem_information: b.1,
        will_delay_interval: b.2,
        request_response_information: b.3,
        response_information: b.4,
        server_reference: b.5,
        reason_string: b.6,
        receive_maximum: b.7,
        topic_alias_maximum: b.8,
        topic_alias: b.9,
        maximum_qos: c.0,
        retain_available: c.1,
        user_properties: c.2,
        maximum_packet_size: c.3,
        wildcard_subscription_available: c.4,
        subscription_identifier_available: c.5,
        shared_subscription_available: c.6,
        order: Default::default(),
    })
}

/// The packets of MQTT 5.0 section 2.2.2.2, restated here independently of the codec's table.
#[derive(Clone, Copy)]
enum Ctx {
    Connect,
    Will,
    ConnAck,
    Publish,
    Ack,
    Subscribe,
    Unsubscribe,
    Disconnect,
    Auth,
}

/// Keeps the properties `ctx` allows.
fn restrict(p: Properties, ctx: Ctx) -> Properties {
    let mut r = Properties {
        user_properties: p.user_properties.clone(),
        ..Properties::default()
    };
    let auth = |r: &mut Properties, p: &Properties| {
        r.authentication_method = p.authentication_method.clone();
        if r.authentication_method.is_some() {
            r.authentication_data = p.authentication_data.clone();
        }
    };
    match ctx {
        Ctx::Connect => {
            r.session_expiry_interval = p.session_expiry_interval;
            auth(&mut r, &p);
            r.request_problem_information = p.request_problem_information;
            r.request_response_information = p.request_response_information;
            r.receive_maximum = p.receive_maximum;
            r.topic_alias_maximum = p.topic_alias_maximum;
            r.maximum_packet_size = p.maximum_packet_size;
        }
        Ctx::Will | Ctx::Publish => {
            r.payload_format_indicator = p.payload_format_indicator;
            r.message_expiry_interval = p.message_expiry_interval;
            r.content_type = p.content_type;
            r.response_topic = p.response_topic;
            r.correlation_data = p.correlation_data;
            if let Ctx::Will = ctx {
                r.will_delay_interval = p.will_delay_interval;
            } else {
                r.subscription_identifiers = p.subscription_identifiers;
                r.topic_alias = p.topic_alias;
            }
        }
        Ctx::ConnAck => {
            let user = r.user_properties;
            r = Properties {
                will_delay_interval: None,
                ..p.clone()
            };
            r.user_properties = user;
            for clear in [
                &mut r.payload_format_indicator,
                &mut r.request_problem_information,
                &mut r.request_response_information,
            ] {
                *clear = None;
            }
            r.message_expiry_interval = None;
            r.content_type = None;
            r.response_topic = None;
            r.correlation_data = None;
            r.subscription_identifiers.clear();
            r.topic_alias = None;
            if r.authentication_method.is_none() {
                r.authentication_data = None;
            }
        }
        Ctx::Ack => r.reason_string = p.reason_string,
        Ctx::Subscribe => r
            .subscription_identifiers
            .extend(p.subscription_identifiers.first()),
        Ctx::Unsubscribe => {}
        Ctx::Disconnect => {
            r.session_expiry_interval = p.session_expiry_interval;
            r.server_reference = p.server_reference;
            r.reason_string = p.reason_string;
        }
        Ctx::Auth => {
            auth(&mut r, &p);
            r.reason_string = p.reason_string;
        }
    }
    r
}

/// Properties for `ctx`, empty before 5.0.
fn props(version: Version, ctx: Ctx) -> BoxedStrategy<Properties> {
    if version.is_v5() {
        any_props().prop_map(move |p| restrict(p, ctx)).boxed()
    } else {
        Just(Properties::default()).boxed()
    }
}

/// A reason code from `codes`, or Success before 5.0.
fn reason(version: Version, codes: &'static [u8]) -> BoxedStrategy<ReasonCode> {
    if version.is_v5() {
        prop::sample::select(codes)
            .prop_map(|c| ReasonCode::from_u8(c).unwrap())
            .boxed()
    } else {
        Just(ReasonCode::Success).boxed()
    }
}

const CONNACK: &[u8] = &[
    0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90, 0x95, 0x97,
    0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F,
];
const V3_CONNACK: &[u8] = &[0x00, 0x84, 0x85, 0x88, 0x86, 0x87];
const PUBACK: &[u8] = &[0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99];
const PUBREL: &[u8] = &[0x00, 0x92];
const SUBACK: &[u8] = &[
    0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2,
];
const V3_SUBACK: &[u8] = &[0x00, 0x01, 0x02, 0x80];
const UNSUBACK: &[u8] = &[0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91];
const DISCONNECT: &[u8] = &[
    0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E, 0x8F, 0x90, 0x93, 0x94, 0x95,
    0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2,
];
const AUTH: &[u8] = &[0x00, 0x18, 0x19];

fn connect(version: Version) -> impl Strategy<Value = Packet> {
    let will = (
        topic(),
        binary(),
        qos(),
        any::<bool>(),
        props(version, Ctx::Will),
    )
        .prop_map(|(topic, payload, qos, retain, p)| Will {
            topic,
            payload,
            qos,
            retain,
            properties: p.into(),
        });
    (
        text(),
        any::<bool>(),
        any::<u16>(),
        of(text()),
        of(binary()),
        of(will),
        props(version, Ctx::Connect),
    )
        .prop_map(
            move |(client_id, clean_start, keep_alive, username, password, will, p)| {
                // 3.1.1 forbids a password without a user name [MQTT-3.1.2-22].
                let password = if version == Version::V311 && username.is_none() {
                    None
                } else {
                    password
                };
                Packet::Connect(Box::new(Connect {
                    version,
                    client_id,
                    clean_start,
                    keep_alive,
                    username,
                    password,
                    will,
                    properties: p.into(),
                    bridge: false,
                }))
            },
        )
}

fn connack(version: Version) -> impl Strategy<Value = Packet> {
    let codes = if version.is_v5() { CONNACK } else { V3_CONNACK };
    let r = prop::sample::select(codes).prop_map(|c| ReasonCode::from_u8(c).unwrap());
    (any::<bool>(), r, props(version, Ctx::ConnAck)).prop_map(move |(sp, reason, p)| {
        Packet::ConnAck(ConnAck {
            // MQTT 3.1 has no session present flag.
            session_present: sp && reason == ReasonCode::Success && version != Version::V31,
            reason,
            properties: p.into(),
        })
    })
}

fn publish(version: Version) -> impl Strategy<Value = Packet> {
    let alias_only = version.is_v5();
    (
        qos(),
        any::<bool>(),
        any::<bool>(),
        topic(),
        packet_id(),
        props(version, Ctx::Publish),
        binary(),
        any::<bool>(),
    )
        .prop_map(
            move |(qos, dup, retain, topic, id, p, payload, drop_topic)| {
                let qos0 = qos == QoS::AtMostOnce;
                let topic = if alias_only && drop_topic && p.topic_alias.is_some() {
                    TopicName::empty()
                } else {
                    topic
                };
                Packet::Publish(Publish {
                    dup: dup && !qos0,
                    qos,
                    retain,
                    topic,
                    packet_id: (!qos0).then_some(id),
                    properties: p.into(),
                    payload,
                })
            },
        )
}

fn pub_resp(version: Version) -> impl Strategy<Value = Packet> {
    let acks = || {
        (
            packet_id(),
            reason(version, PUBACK),
            props(version, Ctx::Ack),
        )
    };
    let rels = || {
        (
            packet_id(),
            reason(version, PUBREL),
            props(version, Ctx::Ack),
        )
    };
    let make = |(packet_id, reason, p): (NonZeroU16, ReasonCode, Properties)| PubResp {
        packet_id,
        reason,
        properties: p.into(),
    };
    prop_oneof![
        acks().prop_map(move |a| Packet::PubAck(make(a))),
        acks().prop_map(move |a| Packet::PubRec(make(a))),
        rels().prop_map(move |a| Packet::PubRel(make(a))),
        rels().prop_map(move |a| Packet::PubComp(make(a))),
    ]
}

fn subscribe(version: Version) -> impl Strategy<Value = Packet> {
    let v5 = version.is_v5();
    let handling = prop_oneof![
        Just(RetainHandling::SendOnSubscribe),
        Just(RetainHandling::SendIfNew),
        Just(RetainHandling::DoNotSend)
    ];
    let sub = (any::<bool>(), qos(), any::<bool>(), any::<bool>(), handling).prop_flat_map(
        move |(shared, qos, nl, rap, rh)| {
            filter(shared).prop_map(move |filter| Subscription {
                filter,
                options: if v5 {
                    SubscriptionOptions {
                        qos,
                        no_local: nl && !shared,
                        retain_as_published: rap,
                        retain_handling: rh,
                    }
                } else {
                    SubscriptionOptions {
                        qos,
                        ..Default::default()
                    }
                },
            })
        },
    );
    (packet_id(), vec(sub, 1..4), props(version, Ctx::Subscribe)).prop_map(
        |(packet_id, subscriptions, p)| {
            Packet::Subscribe(Subscribe {
                packet_id,
                subscriptions,
                properties: p.into(),
            })
        },
    )
}

fn suback(version: Version) -> impl Strategy<Value = Packet> {
    let codes = if version.is_v5() { SUBACK } else { V3_SUBACK };
    let r = prop::sample::select(codes).prop_map(|c| ReasonCode::from_u8(c).unwrap());
    (packet_id(), vec(r, 1..5), props(version, Ctx::Ack)).prop_map(|(packet_id, reasons, p)| {
        Packet::SubAck(SubAck {
            packet_id,
            reasons,
            properties: p.into(),
        })
    })
}

fn unsubscribe(version: Version) -> impl Strategy<Value = Packet> {
    let f = any::<bool>().prop_flat_map(filter);
    (packet_id(), vec(f, 1..4), props(version, Ctx::Unsubscribe)).prop_map(
        |(packet_id, filters, p)| {
            Packet::Unsubscribe(Unsubscribe {
                packet_id,
                filters,
                properties: p.into(),
            })
        },
    )
}

fn unsuback(version: Version) -> impl Strategy<Value = Packet> {
    let n = if version.is_v5() { 0..5usize } else { 0..1 };
    let r = prop::sample::select(UNSUBACK).prop_map(|c| ReasonCode::from_u8(c).unwrap());
    (packet_id(), vec(r, n), props(version, Ctx::Ack)).prop_map(|(packet_id, reasons, p)| {
        Packet::UnsubAck(UnsubAck {
            packet_id,
            reasons,
            properties: p.into(),
        })
    })
}

fn disconnect(version: Version) -> impl Strategy<Value = Packet> {
    (reason(version, DISCONNECT), props(version, Ctx::Disconnect)).prop_map(|(reason, p)| {
        Packet::Disconnect(Disconnect {
            reason,
            properties: p.into(),
        })
    })
}

fn auth() -> impl Strategy<Value = Packet> {
    (reason(Version::V5, AUTH), props(Version::V5, Ctx::Auth)).prop_map(|(reason, p)| {
        Packet::Auth(Auth {
            reason,
            properties: p.into(),
        })
    })
}

/// Any valid packet of `version`.
fn packet(version: Version) -> BoxedStrategy<Packet> {
    let common = prop_oneof![
        connect(version),
        connack(version),
        publish(version),
        pub_resp(version),
        subscribe(version),
        suback(version),
        unsubscribe(version),
        unsuback(version),
        Just(Packet::PingReq),
        Just(Packet::PingResp),
        disconnect(version),
    ];
    if version.is_v5() {
        prop_oneof![10 => common, 1 => auth()].boxed()
    } else {
        common.boxed()
    }
}

fn versioned_packet() -> impl Strategy<Value = (Version, Packet)> {
    version().prop_flat_map(|v| (Just(v), packet(v)))
}

/// Decodes everything in `buf`, checking the streaming contract on the way.
fn drain(buf: &mut BytesMut, version: Version, max: u32) {
    loop {
        let before = buf.clone();
        match decode(buf, version, max) {
            Ok(None) => {
                assert_eq!(*buf, before, "Ok(None) consumed bytes");
                return;
            }
            Err(e) => {
                assert!(!e.rule.is_empty() && !e.message.is_empty());
                return;
            }
            Ok(Some(p)) => {
                assert!(buf.len() < before.len(), "a packet without consuming bytes");
                // Whatever decodes re-encodes and decodes to itself.
                let mut again = BytesMut::new();
                encode(&p, version, &mut again).unwrap_or_else(|e| panic!("{p:?}: {e}"));
                assert_eq!(again.len(), encoded_len(&p, version));
                let back = decode(&mut again, version, u32::MAX).unwrap().unwrap();
                assert_eq!(back, p);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn every_packet_round_trips((version, p) in versioned_packet(), split in any::<prop::sample::Index>()) {
        let mut buf = BytesMut::new();
        encode(&p, version, &mut buf).unwrap();
        prop_assert_eq!(buf.len(), encoded_len(&p, version));
        let wire = buf.clone().freeze();
        let back = decode(&mut buf, version, u32::MAX).unwrap().unwrap();
        prop_assert_eq!(&back, &p);
        prop_assert!(buf.is_empty());
        // Arriving in two pieces changes nothing.
        let cut = split.index(wire.len());
        let mut buf = BytesMut::from(&wire[..cut]);
        prop_assert_eq!(decode(&mut buf, version, u32::MAX).unwrap(), None);
        prop_assert_eq!(buf.len(), cut);
        buf.extend_from_slice(&wire[cut..]);
        prop_assert_eq!(decode(&mut buf, version, u32::MAX).unwrap(), Some(p));
    }

    #[test]
    fn arbitrary_bytes_never_panic(version in version(), max in 0u32..600, bytes in vec(any::<u8>(), 0..400)) {
        drain(&mut BytesMut::from(&bytes[..]), version, max);
    }

    #[test]
    fn mutated_packets_never_panic(
        (version, p) in versioned_packet(),
        edits in vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..4),
        max in prop_oneof![Just(u32::MAX), 0u32..300],
    ) {
        let mut bytes = BytesMut::new();
        encode(&p, version, &mut bytes).unwrap();
        let mut bytes = bytes.to_vec();
        for (at, value, kind) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = at.index(bytes.len());
            match kind {
                0 => bytes[i] = value,
                1 => bytes[i] ^= 1 << (value % 8),
                2 => bytes.truncate(i),
                _ => bytes.insert(i, value),
            }
        }
        drain(&mut BytesMut::from(&bytes[..]), version, max);
    }
}
