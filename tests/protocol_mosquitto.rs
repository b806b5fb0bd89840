//! The codec against a real peer: Debian's mosquitto broker. Every packet a client sends is
//! encoded by `mq::protocol` and every answer decoded by it, in MQTT 3.1, 3.1.1 and 5.0.

mod common;

use bytes::{Bytes, BytesMut};
use common::{Conf, Peer, TestBroker, require};
use mq::protocol::{
    Connect, Disconnect, Packet, Properties, PubResp, Publish, QoS, ReasonCode, Subscribe,
    Subscription, SubscriptionOptions, Unsubscribe, Version, Will, decode, encode,
};
use mq::topic::{TopicFilter, TopicName};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::num::NonZeroU16;
use std::time::Duration;

/// Debian's mosquitto on a free loopback port, or `None` when it is missing and the test may
/// skip.
fn start_broker() -> Option<TestBroker> {
    require(&[Peer::Mosquitto]).then(|| TestBroker::mosquitto(Conf::new()))
}

/// One client connection speaking `version` through the codec.
struct Client {
    stream: TcpStream,
    version: Version,
    buf: BytesMut,
}

impl Client {
    fn connect(port: u16, version: Version) -> Client {
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        Client {
            stream,
            version,
            buf: BytesMut::new(),
        }
    }

    fn send(&mut self, p: &Packet) {
        let mut out = BytesMut::new();
        encode(p, self.version, &mut out).unwrap();
        self.stream.write_all(&out).unwrap();
    }

    fn recv(&mut self) -> Packet {
        loop {
            if let Some(p) = decode(&mut self.buf, self.version, 1 << 20).unwrap() {
                return p;
            }
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk).expect("read from mosquitto");
            assert!(n > 0, "mosquitto closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

fn id(v: u16) -> NonZeroU16 {
    NonZeroU16::new(v).unwrap()
}

fn props(version: Version, p: Properties) -> mq::protocol::Props {
    if version.is_v5() {
        p.into()
    } else {
        Default::default()
    }
}

fn session(port: u16, version: Version) {
    let mut c = Client::connect(port, version);
    c.send(&Packet::Connect(Box::new(Connect {
        version,
        client_id: format!("codec-{}", version.level()),
        clean_start: true,
        keep_alive: 30,
        username: None,
        password: None,
        will: Some(Will {
            topic: TopicName::new("codec/will").unwrap(),
            payload: Bytes::from_static(b"bye"),
            qos: QoS::AtLeastOnce,
            retain: false,
            properties: props(
                version,
                Properties {
                    will_delay_interval: Some(0),
                    ..Default::default()
                },
            ),
        }),
        properties: props(
            version,
            Properties {
                session_expiry_interval: Some(0),
                ..Default::default()
            },
        ),
    })));
    let Packet::ConnAck(ack) = c.recv() else {
        panic!("expected CONNACK")
    };
    assert_eq!(ack.reason, ReasonCode::Success);

    let topic = format!("codec/{}/x", version.level());
    c.send(&Packet::Subscribe(Subscribe {
        packet_id: id(1),
        subscriptions: vec![Subscription {
            filter: TopicFilter::new(format!("codec/{}/#", version.level())).unwrap(),
            options: SubscriptionOptions {
                qos: QoS::ExactlyOnce,
                ..Default::default()
            },
        }],
        properties: props(
            version,
            Properties {
                subscription_identifiers: vec![7],
                ..Default::default()
            },
        ),
    }));
    let Packet::SubAck(sub) = c.recv() else {
        panic!("expected SUBACK")
    };
    assert_eq!(
        (sub.packet_id, sub.reasons.as_slice()),
        (id(1), &[ReasonCode::GrantedQoS2][..])
    );

    for (n, qos) in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce]
        .into_iter()
        .enumerate()
    {
        c.send(&Packet::Publish(Publish {
            dup: false,
            qos,
            retain: false,
            topic: TopicName::new(topic.as_str()).unwrap(),
            packet_id: (qos != QoS::AtMostOnce).then(|| id(10 + n as u16)),
            properties: props(
                version,
                Properties {
                    content_type: Some("text/plain".into()),
                    user_properties: vec![("k".into(), "v".into())],
                    ..Default::default()
                },
            ),
            payload: Bytes::from(vec![b'0' + n as u8; 100 * n + 1]),
        }));
    }
    exchange(&mut c, &topic);

    c.send(&Packet::Unsubscribe(Unsubscribe {
        packet_id: id(20),
        filters: vec![TopicFilter::new(format!("codec/{}/#", version.level())).unwrap()],
        properties: Default::default(),
    }));
    let Packet::UnsubAck(u) = c.recv() else {
        panic!("expected UNSUBACK")
    };
    assert_eq!(u.packet_id, id(20));
    if version.is_v5() {
        assert_eq!(u.reasons, [ReasonCode::Success]);
    }
    c.send(&Packet::PingReq);
    assert_eq!(c.recv(), Packet::PingResp);
    c.send(&Packet::Disconnect(Disconnect::default()));
}

/// Completes our QoS 1 and 2 publications and the broker's three deliveries to us.
fn exchange(c: &mut Client, topic: &str) {
    let (mut puback, mut pubcomp, mut received, mut inbound_done) = (false, false, Vec::new(), 0);
    while !(puback && pubcomp && received.len() == 3 && inbound_done == 1) {
        match c.recv() {
            Packet::PubAck(a) => puback = a.packet_id == id(11),
            Packet::PubRec(a) => c.send(&Packet::PubRel(PubResp::new(a.packet_id))),
            Packet::PubComp(a) => pubcomp = a.packet_id == id(12),
            Packet::PubRel(a) => {
                c.send(&Packet::PubComp(PubResp::new(a.packet_id)));
                inbound_done += 1;
            }
            Packet::Publish(p) => {
                assert_eq!(p.topic.as_str(), topic);
                if c.version.is_v5() {
                    assert_eq!(p.properties.subscription_identifiers, [7]);
                    assert_eq!(p.properties.content_type.as_deref(), Some("text/plain"));
                    assert_eq!(
                        p.properties.user_properties,
                        [("k".to_string(), "v".to_string())]
                    );
                }
                match (p.qos, p.packet_id) {
                    (QoS::AtLeastOnce, Some(i)) => c.send(&Packet::PubAck(PubResp::new(i))),
                    (QoS::ExactlyOnce, Some(i)) => c.send(&Packet::PubRec(PubResp::new(i))),
                    _ => {}
                }
                received.push((p.qos, p.payload.len()));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    received.sort();
    let want = [
        (QoS::AtMostOnce, 1),
        (QoS::AtLeastOnce, 101),
        (QoS::ExactlyOnce, 201),
    ];
    assert_eq!(received, want);
}

#[test]
fn mosquitto_speaks_every_version_through_the_codec() {
    let Some(broker) = start_broker() else { return };
    for version in [Version::V31, Version::V311, Version::V5] {
        session(broker.port(), version);
    }
}

#[test]
fn mosquitto_refuses_an_unknown_level_with_connack_1() {
    let Some(broker) = start_broker() else { return };
    let mut c = Client::connect(broker.port(), Version::V311);
    // MQTT level 6 does not exist: mosquitto answers with the 3.1.1 return code 1.
    c.stream
        .write_all(b"\x10\x0d\x00\x04MQTT\x06\x02\x00\x3c\x00\x01c")
        .unwrap();
    let Packet::ConnAck(ack) = c.recv() else {
        panic!("expected CONNACK")
    };
    assert_eq!(ack.reason, ReasonCode::UnsupportedProtocolVersion);
}
