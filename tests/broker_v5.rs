//! MQTT 5.0 features of `mq broker`: exact reason codes and properties through a raw client
//! built on the codec, then real v5 clients (mosquitto_pub/sub, `mq pub`, paho-mqtt).

mod common;

use bytes::Bytes;
use common::*;
use mq::protocol::{
    Disconnect, Packet, Properties, Props, PubResp, Publish, QoS, ReasonCode, RetainHandling,
    Subscribe, Subscription, SubscriptionOptions, UnsubAck, Unsubscribe, Version, Will,
};
use std::time::{Duration, Instant};

/// Connects a v5 client; returns it with its CONNACK.
async fn v5(
    addr: std::net::SocketAddr,
    id: &str,
    clean: bool,
    props: Properties,
) -> (RawClient, mq::protocol::ConnAck) {
    let (c, ack) = RawClient::connect_with(addr, common::raw::connect_v5(id, clean, props)).await;
    assert_eq!(ack.reason, ReasonCode::Success);
    (c, ack)
}

fn publish5(topic: &str, payload: &[u8], qos: QoS, id: u16, props: Properties) -> Packet {
    Packet::Publish(Publish {
        dup: false,
        qos,
        retain: false,
        topic: if topic.is_empty() {
            mq::topic::TopicName::empty()
        } else {
            topic.parse().expect("topic")
        },
        packet_id: (qos != QoS::AtMostOnce).then(|| pid(id)),
        properties: Props::new(props),
        payload: Bytes::copy_from_slice(payload),
    })
}

/// Subscribes with full options and a subscription identifier (0 = none); returns the reasons.
async fn subscribe5(c: &mut RawClient, filter: &str, opts: SubscriptionOptions, sub_id: u32) {
    let properties = Properties {
        subscription_identifiers: if sub_id == 0 { vec![] } else { vec![sub_id] },
        ..Properties::default()
    };
    c.send(&Packet::Subscribe(Subscribe {
        packet_id: pid(9),
        subscriptions: vec![Subscription {
            filter: filter.parse().expect("filter"),
            options: opts,
        }],
        properties: Props::new(properties),
    }))
    .await;
    match c.recv().await {
        Some(Packet::SubAck(_)) => {}
        other => panic!("expected SUBACK, got {other:?}"),
    }
}

fn qos_opts(qos: QoS) -> SubscriptionOptions {
    SubscriptionOptions {
        qos,
        ..Default::default()
    }
}

/// The next packet that is not a PUBLISH-flow ack, expecting a server DISCONNECT.
async fn expect_disconnect(c: &mut RawClient) -> ReasonCode {
    loop {
        match c.recv().await {
            Some(Packet::Disconnect(d)) => return d.reason,
            Some(Packet::Publish(_)) | Some(Packet::PubAck(_)) | Some(Packet::PubRec(_)) => {}
            other => panic!("expected DISCONNECT, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn connack_tells_v5_clients_the_broker_limits() {
    let b = TestBroker::in_process(test_config()).await;
    let (_c, ack) = v5(b.addr, "limits", true, Properties::default()).await;
    assert_eq!(ack.properties.topic_alias_maximum, Some(10));
    assert_eq!(ack.properties.receive_maximum, Some(20));
    // Absent means available ([MQTT-3.2.2.3.11..13]); mosquitto leaves them out too.
    assert_eq!(ack.properties.wildcard_subscription_available, None);
    assert_eq!(ack.properties.shared_subscription_available, None);
    assert_eq!(ack.properties.subscription_identifier_available, None);
    assert_eq!(ack.properties.maximum_qos, None, "QoS 2 available");
    assert_eq!(
        ack.properties.server_keep_alive, None,
        "60 s is within the maximum"
    );
    let mut config = test_config();
    config.max_keepalive = 30;
    let b = TestBroker::in_process(config).await;
    let (_c, ack) = v5(b.addr, "limits", true, Properties::default()).await;
    assert_eq!(ack.properties.server_keep_alive, Some(30));
}

#[tokio::test]
async fn topic_alias_is_resolved_and_not_forwarded() {
    let b = TestBroker::in_process(test_config()).await;
    let (mut s, _) = v5(b.addr, "alias-sub", true, Properties::default()).await;
    subscribe5(&mut s, "al/#", qos_opts(QoS::AtLeastOnce), 0).await;
    let (mut p, _) = v5(b.addr, "alias-pub", true, Properties::default()).await;
    let alias = |n| Properties {
        topic_alias: Some(n),
        ..Properties::default()
    };
    p.send(&publish5("al/one", b"first", QoS::AtLeastOnce, 1, alias(1)))
        .await;
    p.send(&publish5("", b"second", QoS::AtLeastOnce, 2, alias(1)))
        .await;
    for want in [&b"first"[..], b"second"] {
        let m = s.next_publish().await.expect("delivery");
        assert_eq!(m.topic.as_str(), "al/one");
        assert_eq!(&m.payload[..], want);
        assert_eq!(m.properties.topic_alias, None, "alias is per connection");
        if let Some(id) = m.packet_id {
            s.send(&Packet::PubAck(PubResp::new(id))).await;
        }
    }
    // Beyond the topic alias maximum: DISCONNECT 0x94.
    p.send(&publish5("al/two", b"x", QoS::AtMostOnce, 0, alias(11)))
        .await;
    assert_eq!(
        expect_disconnect(&mut p).await,
        ReasonCode::TopicAliasInvalid
    );
    // An alias never defined on this connection: protocol error.
    let (mut q, _) = v5(b.addr, "alias-pub2", true, Properties::default()).await;
    q.send(&publish5("", b"x", QoS::AtMostOnce, 0, alias(3)))
        .await;
    assert_eq!(expect_disconnect(&mut q).await, ReasonCode::ProtocolError);
}

#[tokio::test]
async fn publish_properties_are_forwarded_to_subscribers() {
    let b = TestBroker::in_process(test_config()).await;
    let (mut s, _) = v5(b.addr, "fwd-sub", true, Properties::default()).await;
    subscribe5(&mut s, "fwd", qos_opts(QoS::AtMostOnce), 0).await;
    let (mut p, _) = v5(b.addr, "fwd-pub", true, Properties::default()).await;
    let props = Properties {
        payload_format_indicator: Some(1),
        content_type: Some("text/plain".into()),
        response_topic: Some("reply/here".into()),
        correlation_data: Some(Bytes::from_static(b"\x01\x02")),
        user_properties: vec![("k".into(), "v".into()), ("k".into(), "w".into())],
        ..Properties::default()
    };
    p.send(&publish5("fwd", b"hi", QoS::AtMostOnce, 0, props.clone()))
        .await;
    let m = s.next_publish().await.expect("delivery");
    assert_eq!(*m.properties, props);
}

#[tokio::test]
async fn subscription_identifiers_travel_with_deliveries() {
    let b = TestBroker::in_process(test_config()).await;
    let (mut p, _) = v5(b.addr, "sid-pub", true, Properties::default()).await;
    p.send(&Packet::Publish(Publish {
        retain: true,
        ..match publish5("sid/a", b"kept", QoS::AtMostOnce, 0, Properties::default()) {
            Packet::Publish(x) => x,
            _ => unreachable!(),
        }
    }))
    .await;
    let (mut s, _) = v5(b.addr, "sid-sub", true, Properties::default()).await;
    subscribe5(&mut s, "sid/+", qos_opts(QoS::AtMostOnce), 5).await;
    let retained = s.next_publish().await.expect("retained");
    assert!(retained.retain);
    assert_eq!(retained.properties.subscription_identifiers, vec![5]);
    let quiet = SubscriptionOptions {
        retain_handling: RetainHandling::DoNotSend,
        ..Default::default()
    };
    subscribe5(&mut s, "sid/#", quiet, 7).await;
    subscribe5(&mut s, "#", quiet, 0).await;
    p.send(&publish5(
        "sid/a",
        b"now",
        QoS::AtMostOnce,
        0,
        Properties::default(),
    ))
    .await;
    let m = s.next_publish().await.expect("delivery");
    let mut ids = m.properties.subscription_identifiers.clone();
    ids.sort();
    assert_eq!(ids, vec![5, 7], "one delivery, every matching identifier");
    assert!(s.recv_within(Duration::from_millis(200)).await.is_none());
    // A client may not send one.
    let own = Properties {
        subscription_identifiers: vec![3],
        ..Properties::default()
    };
    p.send(&publish5("sid/a", b"no", QoS::AtMostOnce, 0, own))
        .await;
    assert_eq!(expect_disconnect(&mut p).await, ReasonCode::ProtocolError);
}

/// The reason of the next PUBACK or PUBREC.
async fn ack_reason(c: &mut RawClient) -> ReasonCode {
    match c.recv().await {
        Some(Packet::PubAck(r)) | Some(Packet::PubRec(r)) => r.reason,
        other => panic!("expected PUBACK/PUBREC, got {other:?}"),
    }
}

#[tokio::test]
async fn puback_and_unsuback_reason_codes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let acl = dir.path().join("acl");
    std::fs::write(&acl, "topic readwrite open/#\n").expect("acl");
    let mut config = test_config();
    config.acl_file = Some(acl);
    config.allow_anonymous = true;
    let b = TestBroker::in_process(config).await;
    let (mut c, _) = v5(b.addr, "reasons", true, Properties::default()).await;
    c.send(&publish5(
        "open/a",
        b"x",
        QoS::AtLeastOnce,
        1,
        Properties::default(),
    ))
    .await;
    assert_eq!(ack_reason(&mut c).await, ReasonCode::NoMatchingSubscribers);
    c.send(&publish5(
        "closed",
        b"x",
        QoS::AtLeastOnce,
        2,
        Properties::default(),
    ))
    .await;
    assert_eq!(ack_reason(&mut c).await, ReasonCode::NotAuthorized);
    c.send(&publish5(
        "closed",
        b"x",
        QoS::ExactlyOnce,
        3,
        Properties::default(),
    ))
    .await;
    assert_eq!(ack_reason(&mut c).await, ReasonCode::NotAuthorized);
    subscribe5(&mut c, "open/#", qos_opts(QoS::AtLeastOnce), 0).await;
    c.send(&publish5(
        "open/a",
        b"x",
        QoS::AtLeastOnce,
        4,
        Properties::default(),
    ))
    .await;
    loop {
        match c.recv().await {
            Some(Packet::PubAck(r)) if r.packet_id == pid(4) => {
                assert_eq!(r.reason, ReasonCode::Success);
                break;
            }
            Some(_) => {}
            None => panic!("no PUBACK"),
        }
    }
    c.send(&Packet::Unsubscribe(Unsubscribe {
        packet_id: pid(5),
        filters: vec!["open/#".parse().expect("f"), "never/#".parse().expect("f")],
        properties: Props::default(),
    }))
    .await;
    loop {
        match c.recv().await {
            Some(Packet::UnsubAck(UnsubAck { reasons, .. })) => {
                assert_eq!(
                    reasons,
                    vec![ReasonCode::Success, ReasonCode::NoSubscriptionExisted]
                );
                break;
            }
            Some(_) => {}
            None => panic!("no UNSUBACK"),
        }
    }
}

#[tokio::test]
async fn subscription_options_no_local_retain_as_published_retain_handling() {
    let b = TestBroker::in_process(test_config()).await;
    let (mut c, _) = v5(b.addr, "opts", true, Properties::default()).await;
    let no_local = SubscriptionOptions {
        no_local: true,
        ..Default::default()
    };
    subscribe5(&mut c, "nl", no_local, 0).await;
    c.send(&publish5(
        "nl",
        b"own",
        QoS::AtMostOnce,
        0,
        Properties::default(),
    ))
    .await;
    assert!(
        c.recv_within(Duration::from_millis(300)).await.is_none(),
        "no-local: own message not delivered"
    );
    // Retain as published keeps the RETAIN flag on live deliveries; without it, cleared.
    let (mut other, _) = v5(b.addr, "opts2", true, Properties::default()).await;
    let rap = SubscriptionOptions {
        retain_as_published: true,
        retain_handling: RetainHandling::DoNotSend,
        ..Default::default()
    };
    subscribe5(&mut other, "rap/keep", rap, 0).await;
    subscribe5(&mut other, "rap/clear", qos_opts(QoS::AtMostOnce), 0).await;
    for t in ["rap/keep", "rap/clear"] {
        let mut p = publish5(t, b"r", QoS::AtMostOnce, 0, Properties::default());
        if let Packet::Publish(x) = &mut p {
            x.retain = true;
        }
        c.send(&p).await;
        let m = other.next_publish().await.expect("delivery");
        assert_eq!(m.retain, t == "rap/keep", "{t}");
    }
    // Retain handling: 0 sends retained on every subscribe, 1 only on a new one, 2 never.
    let (mut r, _) = v5(b.addr, "opts3", true, Properties::default()).await;
    let rh = |h| SubscriptionOptions {
        retain_handling: h,
        ..Default::default()
    };
    for (h, sends) in [
        (RetainHandling::SendOnSubscribe, true),
        (RetainHandling::SendOnSubscribe, true),
        (RetainHandling::SendIfNew, false),
    ] {
        subscribe5(&mut r, "rap/keep", rh(h), 0).await;
        let got = r.recv_within(Duration::from_millis(300)).await;
        assert_eq!(got.is_some(), sends, "{h:?}");
    }
    subscribe5(&mut r, "rap/clear", rh(RetainHandling::DoNotSend), 0).await;
    assert!(r.recv_within(Duration::from_millis(300)).await.is_none());
    subscribe5(&mut r, "rap/#", rh(RetainHandling::SendIfNew), 0).await;
    assert!(r.next_publish().await.is_some(), "new subscription: sent");
}

#[tokio::test]
async fn message_expiry_drops_expired_and_sends_the_remaining_interval() {
    let b = TestBroker::in_process(test_config()).await;
    let keep = Properties {
        session_expiry_interval: Some(60),
        ..Properties::default()
    };
    let (mut s, _) = v5(b.addr, "exp-sub", true, keep.clone()).await;
    subscribe5(&mut s, "exp", qos_opts(QoS::AtLeastOnce), 0).await;
    s.hang_up().await;
    let (mut p, _) = v5(b.addr, "exp-pub", true, Properties::default()).await;
    let expiry = |n| Properties {
        message_expiry_interval: Some(n),
        ..Properties::default()
    };
    p.send(&publish5("exp", b"short", QoS::AtLeastOnce, 1, expiry(1)))
        .await;
    p.send(&publish5("exp", b"long", QoS::AtLeastOnce, 2, expiry(30)))
        .await;
    p.recv().await;
    p.recv().await;
    // Time is the behaviour here: the 1 s message expiry runs out while the session waits.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let (mut s, ack) = v5(b.addr, "exp-sub", false, keep).await;
    assert!(ack.session_present);
    let m = s.next_publish().await.expect("the unexpired message");
    assert_eq!(&m.payload[..], b"long");
    let left = m
        .properties
        .message_expiry_interval
        .expect("remaining interval");
    assert!((27..30).contains(&left), "{left}");
    assert!(s.recv_within(Duration::from_millis(300)).await.is_none());
}

#[tokio::test]
async fn client_receive_maximum_bounds_unacknowledged_deliveries() {
    let b = TestBroker::in_process(test_config()).await;
    let props = Properties {
        receive_maximum: Some(2),
        ..Properties::default()
    };
    let (mut s, _) = v5(b.addr, "rm-sub", true, props).await;
    subscribe5(&mut s, "rm", qos_opts(QoS::AtLeastOnce), 0).await;
    let (mut p, _) = v5(b.addr, "rm-pub", true, Properties::default()).await;
    for i in 1..=5 {
        p.send(&publish5(
            "rm",
            &[i as u8],
            QoS::AtLeastOnce,
            i,
            Properties::default(),
        ))
        .await;
    }
    let a = s.next_publish().await.expect("first");
    let _b = s.next_publish().await.expect("second");
    assert!(
        s.recv_within(Duration::from_millis(300)).await.is_none(),
        "third held back until an acknowledgement"
    );
    s.send(&Packet::PubAck(PubResp::new(a.packet_id.expect("id"))))
        .await;
    let c = s.next_publish().await.expect("third after PUBACK");
    assert_eq!(&c.payload[..], &[3]);
}

#[tokio::test]
async fn our_receive_maximum_is_enforced_with_disconnect_0x93() {
    let mut config = test_config();
    config.max_inflight_messages = 2;
    let b = TestBroker::in_process(config).await;
    let (mut p, ack) = v5(b.addr, "rm-in", true, Properties::default()).await;
    assert_eq!(ack.properties.receive_maximum, Some(2));
    for i in 1..=3 {
        p.send(&publish5(
            "x",
            b"q2",
            QoS::ExactlyOnce,
            i,
            Properties::default(),
        ))
        .await;
    }
    assert_eq!(
        expect_disconnect(&mut p).await,
        ReasonCode::ReceiveMaximumExceeded
    );
}

/// The DISCONNECT reaches a client that kept sending after the PUBLISH over the limit: the
/// broker reads what was sent before closing, so the connection is not reset under it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_receive_maximum_the_disconnect_arrives_despite_what_followed() {
    let mut config = test_config();
    config.max_inflight_messages = 2;
    let b = TestBroker::in_process(config).await;
    let (mut p, _) = v5(b.addr, "rm-more", true, Properties::default()).await;
    let mut wire = bytes::BytesMut::new();
    for i in 1..=3 {
        let q2 = publish5("x", b"q2", QoS::ExactlyOnce, i, Properties::default());
        mq::protocol::encode(&q2, Version::V5, &mut wire).unwrap();
    }
    let filler = publish5(
        "x",
        &[b'f'; 1024],
        QoS::AtMostOnce,
        0,
        Properties::default(),
    );
    for _ in 0..300 {
        mq::protocol::encode(&filler, Version::V5, &mut wire).unwrap();
    }
    p.send_raw(&wire).await;
    assert_eq!(
        expect_disconnect(&mut p).await,
        ReasonCode::ReceiveMaximumExceeded
    );
}

#[tokio::test]
async fn packets_over_the_client_maximum_size_are_not_sent() {
    let b = TestBroker::in_process(test_config()).await;
    let props = Properties {
        maximum_packet_size: Some(64),
        ..Properties::default()
    };
    let (mut s, _) = v5(b.addr, "mps-sub", true, props).await;
    subscribe5(&mut s, "mps", qos_opts(QoS::AtLeastOnce), 0).await;
    let (mut p, _) = v5(b.addr, "mps-pub", true, Properties::default()).await;
    p.send(&publish5(
        "mps",
        &[b'x'; 200],
        QoS::AtLeastOnce,
        1,
        Properties::default(),
    ))
    .await;
    p.send(&publish5(
        "mps",
        &[b'y'; 200],
        QoS::AtMostOnce,
        0,
        Properties::default(),
    ))
    .await;
    p.send(&publish5(
        "mps",
        b"small",
        QoS::AtLeastOnce,
        2,
        Properties::default(),
    ))
    .await;
    let m = s.next_publish().await.expect("the small one");
    assert_eq!(&m.payload[..], b"small");
}

#[tokio::test]
async fn session_expiry_interval_is_enforced() {
    let b = TestBroker::in_process(test_config()).await;
    let expiry = |n| Properties {
        session_expiry_interval: Some(n),
        ..Properties::default()
    };
    // Interval 1 s: present right after, gone after it.
    let (c, _) = v5(b.addr, "se", true, expiry(1)).await;
    c.hang_up().await;
    let (c, ack) = v5(b.addr, "se", false, expiry(1)).await;
    assert!(ack.session_present);
    c.hang_up().await;
    // Time is the behaviour here: the 1 s session expiry runs out (a reconnection to check
    // earlier would resume the session).
    tokio::time::sleep(Duration::from_millis(1700)).await;
    let (_c, ack) = v5(b.addr, "se", false, expiry(1)).await;
    assert!(!ack.session_present, "expired after 1 s");
    // 0 (absent): ends at disconnect.
    let (c, _) = v5(b.addr, "se0", true, Properties::default()).await;
    c.hang_up().await;
    let (_c, ack) = v5(b.addr, "se0", false, Properties::default()).await;
    assert!(!ack.session_present);
    // DISCONNECT sets it to 0: the session ends.
    let (mut c, _) = v5(b.addr, "se-d", true, expiry(60)).await;
    c.send(&Packet::Disconnect(Disconnect {
        reason: ReasonCode::Success,
        properties: Props::new(expiry(0)),
    }))
    .await;
    assert!(c.closed_within(Duration::from_secs(2)).await);
    let (_c, ack) = v5(b.addr, "se-d", false, expiry(60)).await;
    assert!(!ack.session_present, "DISCONNECT set the interval to 0");
    // Raising it from 0 at DISCONNECT is a protocol error.
    let (mut c, _) = v5(b.addr, "se-r", true, Properties::default()).await;
    c.send(&Packet::Disconnect(Disconnect {
        reason: ReasonCode::Success,
        properties: Props::new(expiry(30)),
    }))
    .await;
    assert_eq!(expect_disconnect(&mut c).await, ReasonCode::ProtocolError);
}

/// A client that sends DISCONNECT (session expiry 0), hangs up and reconnects at once finds
/// its DISCONNECT applied: the new connection waits for the old one to handle what it had
/// sent, whichever worker thread reads first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disconnect_sent_before_reconnecting_is_applied_first() {
    let b = TestBroker::in_process(test_config()).await;
    let expiry = |s: u32| Properties {
        session_expiry_interval: Some(s),
        ..Properties::default()
    };
    for i in 0..30 {
        let id = format!("quick-{i}");
        let (mut c, _) = v5(b.addr, &id, true, expiry(60)).await;
        c.send(&Packet::Disconnect(Disconnect {
            reason: ReasonCode::Success,
            properties: Props::new(expiry(0)),
        }))
        .await;
        drop(c);
        let (_c, ack) = v5(b.addr, &id, false, expiry(60)).await;
        assert!(
            !ack.session_present,
            "round {i}: the DISCONNECT ended the session"
        );
    }
}

/// A v5 CONNECT with a will delayed by `delay` seconds and the given session expiry.
fn with_will(id: &str, delay: u32, expiry: u32) -> Packet {
    let mut p = common::raw::connect_v5(
        id,
        true,
        Properties {
            session_expiry_interval: Some(expiry),
            ..Properties::default()
        },
    );
    if let Packet::Connect(c) = &mut p {
        c.will = Some(Will {
            topic: "will/t".parse().expect("topic"),
            payload: Bytes::from_static(b"gone"),
            qos: QoS::AtMostOnce,
            retain: false,
            properties: Props::new(Properties {
                will_delay_interval: Some(delay),
                ..Properties::default()
            }),
        });
    }
    p
}

#[tokio::test]
async fn will_delay_interval_holds_the_will_unless_the_client_returns() {
    let b = TestBroker::in_process(test_config()).await;
    let (mut s, _) = v5(b.addr, "will-watch", true, Properties::default()).await;
    subscribe5(&mut s, "will/#", qos_opts(QoS::AtMostOnce), 0).await;
    let (c, _) = RawClient::connect_with(b.addr, with_will("wd", 1, 30)).await;
    let start = Instant::now();
    drop(c);
    let m = s.next_publish().await.expect("will after the delay");
    assert_eq!(&m.payload[..], b"gone");
    assert_eq!(m.properties.will_delay_interval, None);
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "{:?}",
        start.elapsed()
    );
    // Back within the delay: no will.
    let (c, _) = RawClient::connect_with(b.addr, with_will("wd2", 1, 30)).await;
    c.hang_up().await;
    let (_back, ack) = v5(
        b.addr,
        "wd2",
        false,
        Properties {
            session_expiry_interval: Some(30),
            ..Properties::default()
        },
    )
    .await;
    assert!(ack.session_present);
    assert!(s.recv_within(Duration::from_millis(1500)).await.is_none());
    // Session expiry 0: the session ends at once and so does the delay.
    let (c, _) = RawClient::connect_with(b.addr, with_will("wd3", 5, 0)).await;
    drop(c);
    assert!(s.recv_within(Duration::from_millis(1000)).await.is_some());
    // A clean start ends the waiting session: its will goes at once.
    let (c, _) = RawClient::connect_with(b.addr, with_will("wd4", 5, 30)).await;
    c.hang_up().await;
    assert!(s.recv_within(Duration::from_millis(300)).await.is_none());
    let (_again, _) = v5(b.addr, "wd4", true, Properties::default()).await;
    let m = s.next_publish().await.expect("will when the session ended");
    assert_eq!(&m.payload[..], b"gone");
    // Taken over by a connection resuming the session: no will.
    let (mut c, _) = RawClient::connect_with(b.addr, with_will("wd5", 1, 30)).await;
    let keep = Properties {
        session_expiry_interval: Some(30),
        ..Properties::default()
    };
    let (_new, ack) = v5(b.addr, "wd5", false, keep).await;
    assert!(ack.session_present);
    assert_eq!(
        expect_disconnect(&mut c).await,
        ReasonCode::SessionTakenOver
    );
    assert!(s.recv_within(Duration::from_millis(1600)).await.is_none());
}

#[tokio::test]
async fn server_disconnect_reasons_takeover_keepalive_shutdown() {
    let b = TestBroker::in_process(test_config()).await;
    let (mut first, _) = v5(b.addr, "twice", true, Properties::default()).await;
    let (_second, _) = v5(b.addr, "twice", true, Properties::default()).await;
    assert_eq!(
        expect_disconnect(&mut first).await,
        ReasonCode::SessionTakenOver
    );
    let mut quiet = common::raw::connect_v5("quiet", true, Properties::default());
    if let Packet::Connect(c) = &mut quiet {
        c.keep_alive = 1;
    }
    let (mut q, _) = RawClient::connect_with(b.addr, quiet).await;
    assert_eq!(
        expect_disconnect(&mut q).await,
        ReasonCode::KeepAliveTimeout
    );
    let (mut last, _) = v5(b.addr, "last", true, Properties::default()).await;
    b.stop().await;
    assert_eq!(
        expect_disconnect(&mut last).await,
        ReasonCode::ServerShuttingDown
    );
}

/// A v5 `mosquitto_sub` on `<base>/#` with output `format`, started once the broker has
/// logged its subscription; its lines are read in order with [`Sub::next`].
struct Sub {
    child: ChildGuard,
    read: std::cell::Cell<usize>,
}

impl Sub {
    fn start(broker: &TestBroker, base: &str, format: &str) -> Sub {
        let filter = format!("{base}/#");
        let child = ChildGuard::spawn(std::process::Command::new("mosquitto_sub").args([
            "-V",
            "5",
            "-p",
            &broker.port().to_string(),
            "-t",
            &filter,
            "-F",
            format,
            "-W",
            "20",
        ]));
        broker.wait_subscribed(&filter);
        Sub {
            child,
            read: std::cell::Cell::new(0),
        }
    }

    fn next(&self) -> String {
        let i = self.read.get();
        let came = self
            .child
            .stdout
            .wait_until(PATIENCE, |lines| lines.len() > i);
        assert!(came, "no line {i} from mosquitto_sub");
        self.read.set(i + 1);
        self.child.stdout.lines()[i].clone()
    }
}

#[test]
fn mosquitto_pub_topic_alias_and_properties_reach_mosquitto_sub_v5() {
    if !require(&[Peer::MosquittoClients]) {
        return;
    }
    let b = TestBroker::mq(Conf::new());
    let port = b.port();
    let sub = Sub::start(&b, "cli", "%t|%P|%C|%R|%E|%p");
    let port_s = port.to_string();
    // With a topic alias, mosquitto_pub sends the topic once, then only the alias.
    let mut p = std::process::Command::new("mosquitto_pub")
        .args(["-V", "5", "-p", &port_s, "-t", "cli/alias", "-q", "1", "-l"])
        .args(["-D", "publish", "topic-alias", "1"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("mosquitto_pub");
    if let Some(mut stdin) = p.stdin.take() {
        std::io::Write::write_all(&mut stdin, b"one\ntwo\nthree\n").expect("stdin");
    }
    assert!(
        p.wait().expect("wait").success(),
        "mosquitto_pub -l with alias"
    );
    for want in ["one", "two", "three"] {
        assert_eq!(sub.next(), format!("cli/alias|||||{want}"));
    }
    let status = std::process::Command::new("mosquitto_pub")
        .args(["-V", "5", "-p", &port_s, "-t", "cli/props", "-m", "hi"])
        .args(["-D", "publish", "user-property", "k", "v"])
        .args(["-D", "publish", "content-type", "text/plain"])
        .args(["-D", "publish", "response-topic", "re/ply"])
        .args(["-D", "publish", "message-expiry-interval", "30"])
        .status()
        .expect("mosquitto_pub");
    assert!(status.success());
    let line = sub.next();
    let fields: Vec<&str> = line.split('|').collect();
    assert_eq!(
        fields[..4],
        ["cli/props", "k:v", "text/plain", "re/ply"],
        "{line}"
    );
    let left: u32 = fields[4].parse().expect("expiry");
    assert!((28..=30).contains(&left), "{line}");
    assert_eq!(fields[5], "hi");
}

#[test]
fn mq_pub_v5_properties_show_in_mosquitto_sub_json() {
    if !require(&[Peer::MosquittoClients]) {
        return;
    }
    let b = TestBroker::mq(Conf::new());
    let port = b.port();
    let sub = Sub::start(&b, "mqv5", "%j");
    mq().args([
        "pub",
        "-V",
        "mqttv5",
        "-p",
        &port.to_string(),
        "-t",
        "mqv5/x",
        "-m",
        "yo",
    ])
    .args(["-D", "publish", "user-property", "who", "mq"])
    .args(["-D", "publish", "content-type", "text/x"])
    .timeout(Duration::from_secs(10))
    .assert()
    .success();
    let line = sub.next();
    let v: serde_json::Value = serde_json::from_str(&line).expect("json");
    assert_eq!(v["topic"], "mqv5/x");
    assert_eq!(v["payload"], "yo");
    assert_eq!(v["properties"]["user-properties"]["who"], "mq", "{line}");
    assert_eq!(v["properties"]["content-type"], "text/x", "{line}");
}

#[test]
fn paho_v5_session_expiry_and_will_delay() {
    if !require(&[Peer::Paho]) {
        return;
    }
    let b = TestBroker::mq(Conf::new());
    let port = b.port();
    common::run_paho_script("paho_v5.py", 30, &[port.to_string()], "");
}

#[tokio::test]
async fn v5_properties_of_stored_messages_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = || {
        let mut c = test_config();
        c.persistence = true;
        c.persistence_location = dir.path().to_path_buf();
        c
    };
    let b = TestBroker::in_process(config()).await;
    let keep = Properties {
        session_expiry_interval: Some(300),
        ..Properties::default()
    };
    let (mut s, _) = v5(b.addr, "stored-sub", true, keep.clone()).await;
    subscribe5(&mut s, "st/#", qos_opts(QoS::AtLeastOnce), 4).await;
    drop(s);
    let short = Properties {
        session_expiry_interval: Some(1),
        ..Properties::default()
    };
    let (brief, _) = v5(b.addr, "stored-brief", true, short.clone()).await;
    drop(brief);
    let (mut p, _) = v5(b.addr, "stored-pub", true, Properties::default()).await;
    let props = Properties {
        content_type: Some("application/json".into()),
        user_properties: vec![("src".into(), "test".into())],
        ..Properties::default()
    };
    let mut retained = publish5("st/r", b"{}", QoS::AtLeastOnce, 1, props.clone());
    if let Packet::Publish(x) = &mut retained {
        x.retain = true;
    }
    p.send(&retained).await;
    assert_eq!(ack_reason(&mut p).await, ReasonCode::Success);
    b.stop().await;
    let b = TestBroker::in_process(config()).await;
    let (mut s, ack) = v5(b.addr, "stored-sub", false, keep).await;
    assert!(ack.session_present);
    let mut queued = s.next_publish().await.expect("queued message");
    assert_eq!(queued.properties.subscription_identifiers, vec![4]);
    queued.properties.subscription_identifiers.clear();
    assert_eq!(*queued.properties, props);
    // The 1 s session expiry was stored too: it runs again from the restart. Time is the
    // behaviour here (a reconnection to check earlier would resume the session).
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let (_brief, ack) = v5(b.addr, "stored-brief", false, short).await;
    assert!(!ack.session_present, "expired after the restart");
    let (mut r, _) = v5(b.addr, "stored-late", true, Properties::default()).await;
    subscribe5(&mut r, "st/r", qos_opts(QoS::AtMostOnce), 0).await;
    let m = r.next_publish().await.expect("retained message");
    assert_eq!(*m.properties, props);
}

#[tokio::test]
async fn configured_max_qos_and_topic_alias_maximum_apply() {
    let dir = tempfile::tempdir().expect("tempdir");
    let conf = dir.path().join("mq.conf");
    std::fs::write(
        &conf,
        "listener 1883 127.0.0.1\nallow_anonymous true\nmax_qos 1\nmax_topic_alias 2\n",
    )
    .expect("conf");
    let mut config = mq::broker::config::Config::from_file(&conf).expect("config parses");
    config.sys_interval = 0;
    config.listeners[0].port = 0;
    let b = TestBroker::in_process(config).await;
    let (mut c, ack) = v5(b.addr, "maxq", true, Properties::default()).await;
    assert_eq!(ack.properties.maximum_qos, Some(1));
    assert_eq!(ack.properties.topic_alias_maximum, Some(2));
    c.send(&Packet::Subscribe(Subscribe {
        packet_id: pid(3),
        subscriptions: vec![Subscription {
            filter: "mq/#".parse().expect("filter"),
            options: qos_opts(QoS::ExactlyOnce),
        }],
        properties: Props::default(),
    }))
    .await;
    match c.recv().await {
        Some(Packet::SubAck(a)) => assert_eq!(a.reasons, vec![ReasonCode::GrantedQoS1]),
        other => panic!("expected SUBACK, got {other:?}"),
    }
    let alias = Properties {
        topic_alias: Some(3),
        ..Properties::default()
    };
    c.send(&publish5("mq/a", b"x", QoS::AtMostOnce, 0, alias))
        .await;
    assert_eq!(
        expect_disconnect(&mut c).await,
        ReasonCode::TopicAliasInvalid
    );
    let (mut c, _) = v5(b.addr, "maxq2", true, Properties::default()).await;
    c.send(&publish5(
        "mq/a",
        b"x",
        QoS::ExactlyOnce,
        1,
        Properties::default(),
    ))
    .await;
    assert_eq!(expect_disconnect(&mut c).await, ReasonCode::QoSNotSupported);
    let mut will = with_will("maxq3", 0, 0);
    if let Packet::Connect(c) = &mut will {
        if let Some(w) = &mut c.will {
            w.qos = QoS::ExactlyOnce;
        }
    }
    let (_c, ack) = RawClient::connect_with(b.addr, will).await;
    assert_eq!(ack.reason, ReasonCode::QoSNotSupported);
}

#[tokio::test]
async fn puback_says_quota_exceeded_when_every_subscriber_queue_is_full() {
    let mut config = test_config();
    config.max_inflight_messages = 1;
    config.max_queued_messages = 1;
    let b = TestBroker::in_process(config).await;
    let (mut s, _) = v5(b.addr, "full-sub", true, Properties::default()).await;
    subscribe5(&mut s, "full", qos_opts(QoS::AtLeastOnce), 0).await;
    let (mut p, _) = v5(b.addr, "full-pub", true, Properties::default()).await;
    let mut reasons = Vec::new();
    for i in 1..=4 {
        p.send(&publish5(
            "full",
            b"x",
            QoS::AtLeastOnce,
            i,
            Properties::default(),
        ))
        .await;
        reasons.push(ack_reason(&mut p).await);
    }
    assert_eq!(
        reasons,
        vec![
            ReasonCode::Success,
            ReasonCode::Success,
            ReasonCode::QuotaExceeded,
            ReasonCode::QuotaExceeded
        ],
        "one in flight, one queued, then full"
    );
    drop(s);
}
