//! `mq broker` protocol behaviour, driven byte-exactly by a raw client against an in-process
//! broker on port 0.

mod common;

use common::*;
use mq::protocol::{
    self, ConnAck, Connect, Packet, Props, PubResp, QoS, ReasonCode, Version, Will,
};
use std::time::Duration;

fn will_connect(id: &str, keep_alive: u16, topic: &str) -> Packet {
    Packet::Connect(Box::new(Connect {
        version: Version::V311,
        client_id: id.into(),
        clean_start: true,
        keep_alive,
        username: None,
        password: None,
        will: Some(Will {
            topic: topic.parse().unwrap(),
            payload: bytes::Bytes::from_static(b"gone"),
            qos: QoS::AtLeastOnce,
            retain: false,
            properties: Props::default(),
        }),
        properties: Props::default(),
    }))
}

#[tokio::test]
async fn zero_length_client_id_is_generated_with_clean_session_and_refused_without() {
    let b = TestBroker::in_process(test_config()).await;
    let (_c, ack) =
        RawClient::connect_with(b.addr, connect_packet("", true, 60, Version::V311)).await;
    assert_eq!(ack.reason, ReasonCode::Success);
    let (_c, ack) =
        RawClient::connect_with(b.addr, connect_packet("", false, 60, Version::V311)).await;
    assert_eq!(
        ack.reason,
        ReasonCode::ClientIdentifierNotValid,
        "3.1.1 return code 2"
    );
    let (_c, ack) =
        RawClient::connect_with(b.addr, connect_packet("", true, 60, Version::V5)).await;
    assert_eq!(ack.reason, ReasonCode::Success);
    assert!(
        ack.properties
            .assigned_client_identifier
            .as_deref()
            .is_some_and(|id| id.starts_with("auto-"))
    );
}

/// paho and other clients pipeline SUBSCRIBE behind CONNECT without waiting for CONNACK: bytes
/// that arrive in the same segment as CONNECT must be handled at once.
#[tokio::test]
async fn packets_pipelined_behind_connect_are_handled_without_more_input() {
    let b = TestBroker::in_process(test_config()).await;
    let mut c = RawClient::open(b.addr, Version::V311).await;
    let mut wire = bytes::BytesMut::new();
    let connect = connect_packet("pipelined", true, 60, Version::V311);
    protocol::encode(&connect, Version::V311, &mut wire).unwrap();
    let subscribe = Packet::Subscribe(protocol::Subscribe {
        packet_id: pid(7),
        subscriptions: vec![protocol::Subscription {
            filter: "pipe/#".parse().unwrap(),
            options: protocol::SubscriptionOptions::default(),
        }],
        properties: Props::default(),
    });
    protocol::encode(&subscribe, Version::V311, &mut wire).unwrap();
    c.send_raw(&wire).await;
    assert!(matches!(c.recv().await, Some(Packet::ConnAck(_))));
    match c.recv().await {
        Some(Packet::SubAck(a)) => assert_eq!(a.packet_id, pid(7)),
        other => panic!("expected SUBACK for the pipelined SUBSCRIBE, got {other:?}"),
    }
}

#[tokio::test]
async fn second_connect_closes_the_connection() {
    let b = TestBroker::in_process(test_config()).await;
    let mut c = RawClient::connect(b.addr, "twice", true).await;
    c.send(&connect_packet("twice", true, 60, Version::V311))
        .await;
    assert!(c.closed_within(Duration::from_secs(3)).await);
}

#[tokio::test]
async fn packet_before_connect_closes_the_connection() {
    let b = TestBroker::in_process(test_config()).await;
    let mut c = RawClient::open(b.addr, Version::V311).await;
    c.send(&Packet::PingReq).await;
    assert!(c.closed_within(Duration::from_secs(3)).await);
}

#[tokio::test]
async fn silent_socket_is_closed_after_the_connect_timeout() {
    let mut config = test_config();
    config.connect_timeout = Duration::from_millis(300);
    let b = TestBroker::in_process(config).await;
    let mut c = RawClient::open(b.addr, Version::V311).await;
    assert!(c.closed_within(Duration::from_secs(3)).await);
}

#[tokio::test]
async fn takeover_closes_the_old_connection_and_sends_its_will() {
    let b = TestBroker::in_process(test_config()).await;
    let mut watcher = RawClient::connect(b.addr, "watcher", true).await;
    watcher.subscribe("will/#", QoS::AtLeastOnce).await;
    let (mut old, _) = RawClient::connect_with(b.addr, will_connect("dup", 60, "will/dup")).await;
    let _new = RawClient::connect(b.addr, "dup", true).await;
    assert!(old.closed_within(Duration::from_secs(3)).await);
    let p = watcher.next_publish().await.expect("will");
    assert_eq!(p.topic.as_str(), "will/dup");
}

#[tokio::test]
async fn keepalive_timeout_after_one_and_a_half_times_sends_the_will() {
    let b = TestBroker::in_process(test_config()).await;
    let mut watcher = RawClient::connect(b.addr, "watcher", true).await;
    watcher.subscribe("will/#", QoS::AtMostOnce).await;
    let (mut silent, _) =
        RawClient::connect_with(b.addr, will_connect("silent", 1, "will/silent")).await;
    let start = std::time::Instant::now();
    assert!(silent.closed_within(Duration::from_secs(4)).await);
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(1400),
        "closed after {waited:?}"
    );
    assert_eq!(
        watcher.next_publish().await.expect("will").payload,
        &b"gone"[..]
    );
}

#[tokio::test]
async fn clean_disconnect_never_sends_the_will() {
    let b = TestBroker::in_process(test_config()).await;
    let mut watcher = RawClient::connect(b.addr, "watcher", true).await;
    watcher.subscribe("will/#", QoS::AtMostOnce).await;
    let (mut c, _) =
        RawClient::connect_with(b.addr, will_connect("polite", 60, "will/polite")).await;
    c.send(&Packet::Disconnect(Default::default())).await;
    assert!(c.closed_within(Duration::from_secs(3)).await);
    assert!(
        watcher
            .recv_within(Duration::from_millis(500))
            .await
            .is_none()
    );
}

#[tokio::test]
async fn wildcards_dollar_rule_and_overlaps_deliver_once_at_the_highest_qos() {
    let b = TestBroker::in_process(test_config()).await;
    let mut s = RawClient::connect(b.addr, "s", true).await;
    s.subscribe("a/+", QoS::AtMostOnce).await;
    s.subscribe("a/#", QoS::AtLeastOnce).await;
    s.subscribe("#", QoS::AtMostOnce).await;
    let mut p = RawClient::connect(b.addr, "p", true).await;
    p.publish("$SYS/x", b"hidden", QoS::AtMostOnce, false).await;
    p.publish("a/b", b"one", QoS::ExactlyOnce, false).await;
    let got = s.next_publish().await.expect("delivery");
    assert_eq!(got.topic.as_str(), "a/b");
    assert_eq!(
        got.qos,
        QoS::AtLeastOnce,
        "downgraded to the highest granted QoS"
    );
    assert!(
        s.recv_within(Duration::from_millis(300)).await.is_none(),
        "delivered once, no $SYS"
    );
}

#[tokio::test]
async fn shared_subscriptions_round_robin() {
    let b = TestBroker::in_process(test_config()).await;
    let mut a = RawClient::connect(b.addr, "a", true).await;
    let mut c = RawClient::connect(b.addr, "c", true).await;
    a.subscribe("$share/g/jobs/#", QoS::AtMostOnce).await;
    c.subscribe("$share/g/jobs/#", QoS::AtMostOnce).await;
    let mut p = RawClient::connect(b.addr, "p", true).await;
    for i in 0..4u8 {
        p.publish("jobs/x", &[i], QoS::AtMostOnce, false).await;
    }
    let mut got_a = Vec::new();
    while let Some(m) = a.recv_within(Duration::from_millis(300)).await {
        if let Packet::Publish(m) = m {
            got_a.push(m.payload[0]);
        }
    }
    let mut got_c = Vec::new();
    while let Some(Packet::Publish(m)) = c.recv_within(Duration::from_millis(300)).await {
        got_c.push(m.payload[0]);
    }
    assert_eq!(got_a.len(), 2, "{got_a:?} {got_c:?}");
    assert_eq!(got_c.len(), 2, "{got_a:?} {got_c:?}");
}

#[tokio::test]
async fn qos2_incoming_is_delivered_once_when_publish_is_resent_before_pubrel() {
    let b = TestBroker::in_process(test_config()).await;
    let mut s = RawClient::connect(b.addr, "s", true).await;
    s.subscribe("t", QoS::AtMostOnce).await;
    let mut p = RawClient::connect(b.addr, "p", true).await;
    p.publish("t", b"x", QoS::ExactlyOnce, false).await;
    assert!(matches!(p.recv().await, Some(Packet::PubRec(r)) if r.packet_id == pid(1)));
    p.publish("t", b"x", QoS::ExactlyOnce, false).await;
    assert!(matches!(p.recv().await, Some(Packet::PubRec(_))));
    p.send(&Packet::PubRel(PubResp::new(pid(1)))).await;
    assert!(matches!(p.recv().await, Some(Packet::PubComp(r)) if r.packet_id == pid(1)));
    assert!(s.next_publish().await.is_some());
    assert!(
        s.recv_within(Duration::from_millis(300)).await.is_none(),
        "exactly once"
    );
}

#[tokio::test]
async fn qos1_and_qos2_outgoing_handshakes() {
    let b = TestBroker::in_process(test_config()).await;
    let mut s = RawClient::connect(b.addr, "s", true).await;
    s.subscribe("t", QoS::ExactlyOnce).await;
    let mut p = RawClient::connect(b.addr, "p", true).await;
    p.publish("t", b"1", QoS::AtLeastOnce, false).await;
    assert!(matches!(p.recv().await, Some(Packet::PubAck(_))));
    let m = s.next_publish().await.unwrap();
    assert_eq!(m.qos, QoS::AtLeastOnce);
    s.send(&Packet::PubAck(PubResp::new(m.packet_id.unwrap())))
        .await;
    p.send(&publish_packet("t", b"2", QoS::ExactlyOnce, false, 2))
        .await;
    let m = s.next_publish().await.unwrap();
    assert_eq!(m.qos, QoS::ExactlyOnce);
    let id = m.packet_id.unwrap();
    s.send(&Packet::PubRec(PubResp::new(id))).await;
    assert!(matches!(s.recv().await, Some(Packet::PubRel(r)) if r.packet_id == id));
    s.send(&Packet::PubComp(PubResp::new(id))).await;
}

#[tokio::test]
async fn persistent_session_queues_while_away_and_redelivers_unacked_with_dup() {
    let b = TestBroker::in_process(test_config()).await;
    let mut s = RawClient::connect(b.addr, "keep", false).await;
    s.subscribe("q/#", QoS::AtLeastOnce).await;
    let mut p = RawClient::connect(b.addr, "p", true).await;
    p.publish("q/1", b"first", QoS::AtLeastOnce, false).await;
    let first = s.next_publish().await.unwrap();
    assert!(!first.dup);
    s.hang_up().await; // never acknowledged
    p.send(&publish_packet(
        "q/2",
        b"second",
        QoS::AtLeastOnce,
        false,
        2,
    ))
    .await;
    p.publish("q/3", b"qos0 dropped while away", QoS::AtMostOnce, false)
        .await;
    p.ping().await;
    let (mut s, ack) =
        RawClient::connect_with(b.addr, connect_packet("keep", false, 60, Version::V311)).await;
    assert!(ack.session_present);
    let again = s.next_publish().await.unwrap();
    assert_eq!((again.topic.as_str(), again.dup), ("q/1", true));
    let queued = s.next_publish().await.unwrap();
    assert_eq!(queued.topic.as_str(), "q/2");
    assert!(s.recv_within(Duration::from_millis(300)).await.is_none());
    // A clean session discards it all.
    s.hang_up().await;
    let (_s, ack) =
        RawClient::connect_with(b.addr, connect_packet("keep", true, 60, Version::V311)).await;
    assert!(!ack.session_present);
}

#[tokio::test]
async fn offline_queue_is_bounded() {
    let mut config = test_config();
    config.max_queued_messages = 3;
    let b = TestBroker::in_process(config).await;
    let mut s = RawClient::connect(b.addr, "bounded", false).await;
    s.subscribe("b", QoS::AtLeastOnce).await;
    s.send(&Packet::Disconnect(Default::default())).await;
    assert!(s.closed_within(Duration::from_secs(3)).await);
    let mut p = RawClient::connect(b.addr, "p", true).await;
    for i in 1..=10u16 {
        p.send(&publish_packet("b", &[i as u8], QoS::AtLeastOnce, false, i))
            .await;
        assert!(matches!(p.recv().await, Some(Packet::PubAck(_))));
    }
    let mut s = RawClient::connect(b.addr, "bounded", false).await;
    let mut got = Vec::new();
    while let Some(Packet::Publish(m)) = s.recv_within(Duration::from_millis(300)).await {
        got.push(m.payload[0]);
    }
    assert_eq!(got, vec![1, 2, 3], "the first three kept, the rest dropped");
}

#[tokio::test]
async fn inflight_window_limits_unacknowledged_messages() {
    let mut config = test_config();
    config.max_inflight_messages = 2;
    let b = TestBroker::in_process(config).await;
    let mut s = RawClient::connect(b.addr, "slow", true).await;
    s.subscribe("w", QoS::AtLeastOnce).await;
    let mut p = RawClient::connect(b.addr, "p", true).await;
    for i in 1..=4u16 {
        p.send(&publish_packet("w", &[i as u8], QoS::AtLeastOnce, false, i))
            .await;
    }
    let a = s.next_publish().await.unwrap();
    let _b2 = s.next_publish().await.unwrap();
    assert!(
        s.recv_within(Duration::from_millis(300)).await.is_none(),
        "window of 2"
    );
    s.send(&Packet::PubAck(PubResp::new(a.packet_id.unwrap())))
        .await;
    assert_eq!(s.next_publish().await.unwrap().payload[0], 3, "order kept");
}

#[tokio::test]
async fn retained_messages_are_sent_on_subscribe_and_deleted_by_empty_payload() {
    let b = TestBroker::in_process(test_config()).await;
    let mut p = RawClient::connect(b.addr, "p", true).await;
    p.publish("r/1", b"kept", QoS::AtMostOnce, true).await;
    p.publish("r/2", b"gone", QoS::AtMostOnce, true).await;
    p.publish("r/2", b"", QoS::AtMostOnce, true).await;
    p.ping().await;
    let mut s = RawClient::connect(b.addr, "s", true).await;
    s.subscribe("r/#", QoS::AtLeastOnce).await;
    let m = s.next_publish().await.unwrap();
    assert!(m.retain);
    assert_eq!(m.qos, QoS::AtMostOnce);
    assert_eq!((m.topic.as_str(), &m.payload[..]), ("r/1", &b"kept"[..]));
    assert!(s.recv_within(Duration::from_millis(300)).await.is_none());
    p.publish("r/1", b"live", QoS::AtMostOnce, true).await;
    assert!(
        !s.next_publish().await.unwrap().retain,
        "live delivery clears the retain flag"
    );
}

#[tokio::test]
async fn wildcard_topic_in_publish_closes_only_that_connection() {
    let b = TestBroker::in_process(test_config()).await;
    let mut good = RawClient::connect(b.addr, "good", true).await;
    let mut bad = RawClient::connect(b.addr, "bad", true).await;
    // PUBLISH QoS 0, topic "a/#", payload "x" (the codec refuses to encode it, so raw bytes).
    bad.send_raw(&[0x30, 0x06, 0x00, 0x03, b'a', b'/', b'#', b'x'])
        .await;
    assert!(bad.closed_within(Duration::from_secs(3)).await);
    good.send(&Packet::PingReq).await;
    assert_eq!(good.recv().await, Some(Packet::PingResp));
}

#[tokio::test]
async fn oversized_packet_closes_the_connection() {
    let mut config = test_config();
    config.max_packet_size = 100;
    let b = TestBroker::in_process(config).await;
    let mut c = RawClient::connect(b.addr, "big", true).await;
    c.publish("t", &[0u8; 200], QoS::AtMostOnce, false).await;
    assert!(c.closed_within(Duration::from_secs(3)).await);
}

#[tokio::test]
async fn malformed_bytes_from_many_connections_then_a_normal_client_works() {
    let b = TestBroker::in_process(test_config()).await;
    let garbage: Vec<Vec<u8>> = vec![
        vec![0xff; 64],
        vec![0x10, 0xff, 0xff, 0xff, 0xff, 0x01],
        vec![0x10, 0x04, 0x00, 0x04, b'M', b'Q'],
        b"GET / HTTP/1.1\r\n\r\n".to_vec(),
        vec![
            0x10, 0x0c, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x09, 0x02, 0x00, 0x3c, 0x00, 0x00,
        ],
        vec![0x30, 0x02, 0x00, 0x05],
    ];
    let mut tasks = Vec::new();
    for i in 0..120 {
        let bytes = garbage[i % garbage.len()].clone();
        let addr = b.addr;
        tasks.push(tokio::spawn(async move {
            let mut c = RawClient::open(addr, Version::V311).await;
            c.send_raw(&bytes).await;
            c.closed_within(Duration::from_secs(12)).await
        }));
    }
    let mut closed = 0;
    for t in tasks {
        if t.await.unwrap() {
            closed += 1;
        }
    }
    // Truncated packets wait for the connect timeout; everything else is closed at once.
    assert!(closed >= 80, "{closed} of 120 closed");
    let mut s = RawClient::connect(b.addr, "after", true).await;
    s.subscribe("ok", QoS::AtMostOnce).await;
    s.publish("ok", b"fine", QoS::AtMostOnce, false).await;
    assert_eq!(s.next_publish().await.unwrap().payload, &b"fine"[..]);
}

#[tokio::test]
async fn v5_client_connects_subscribes_publishes_and_gets_reason_codes() {
    let b = TestBroker::in_process(test_config()).await;
    let (mut c, ack) =
        RawClient::connect_with(b.addr, connect_packet("five", true, 30, Version::V5)).await;
    assert_eq!(
        ack,
        ConnAck {
            session_present: false,
            reason: ReasonCode::Success,
            properties: ack.properties.clone()
        }
    );
    assert_eq!(
        c.subscribe("v5/#", QoS::ExactlyOnce).await,
        vec![ReasonCode::GrantedQoS2]
    );
    c.publish("v5/x", b"hi", QoS::AtLeastOnce, false).await;
    let mut acked = false;
    let mut delivered = false;
    while let Some(p) = c.recv().await {
        match p {
            Packet::PubAck(r) => acked = r.reason == ReasonCode::Success,
            Packet::Publish(p) => delivered = p.payload == b"hi"[..],
            _ => {}
        }
        if acked && delivered {
            break;
        }
    }
    assert!(acked && delivered);
    let unsub = Packet::Unsubscribe(protocol::Unsubscribe {
        packet_id: pid(3),
        filters: vec!["nope".parse().unwrap()],
        properties: Props::default(),
    });
    c.send(&unsub).await;
    match c.recv().await {
        Some(Packet::UnsubAck(u)) => assert_eq!(u.reasons, vec![ReasonCode::NoSubscriptionExisted]),
        other => panic!("{other:?}"),
    }
    // A malformed packet gets DISCONNECT with the decoder's reason before the close.
    c.send_raw(&[0x30, 0x02, 0x00, 0x05]).await;
    match c.recv().await {
        Some(Packet::Disconnect(d)) => assert!(d.reason.is_error(), "{d:?}"),
        other => panic!("expected DISCONNECT, got {other:?}"),
    }
}

#[tokio::test]
async fn slow_subscriber_does_not_slow_others() {
    let mut config = test_config();
    config.max_queued_bytes = 256 * 1024;
    let b = TestBroker::in_process(config).await;
    let mut stuck = RawClient::connect(b.addr, "stuck", true).await;
    stuck.subscribe("f", QoS::AtMostOnce).await; // never reads again
    let mut fast = RawClient::connect(b.addr, "fast", true).await;
    fast.subscribe("f", QoS::AtMostOnce).await;
    let mut p = RawClient::connect(b.addr, "p", true).await;
    let payload = vec![7u8; 16 * 1024];
    let reader = tokio::spawn(async move {
        let mut n = 0;
        while let Some(Packet::Publish(_)) = fast.recv_within(Duration::from_secs(5)).await {
            n += 1;
            if n == 2000 {
                break;
            }
        }
        n
    });
    for i in 0..2000u16 {
        p.send(&publish_packet(
            "f",
            &payload,
            QoS::AtLeastOnce,
            false,
            i + 1,
        ))
        .await;
        assert!(
            matches!(p.recv().await, Some(Packet::PubAck(_))),
            "publisher never blocked"
        );
    }
    assert_eq!(
        reader.await.unwrap(),
        2000,
        "the reading subscriber got everything"
    );
    drop(stuck);
}

#[tokio::test]
async fn max_connections_refuses_extra_sockets() {
    let mut config = test_config();
    config.listeners[0].max_connections = Some(1);
    let b = TestBroker::in_process(config).await;
    let _first = RawClient::connect(b.addr, "first", true).await;
    let mut second = RawClient::open(b.addr, Version::V311).await;
    second
        .send(&connect_packet("second", true, 60, Version::V311))
        .await;
    assert!(second.closed_within(Duration::from_secs(3)).await);
}

#[tokio::test]
async fn retain_unavailable_closes_a_retained_publisher_and_size_limit_drops() {
    let mut config = test_config();
    config.retain_available = false;
    config.message_size_limit = 10;
    let b = TestBroker::in_process(config).await;
    let mut s = RawClient::connect(b.addr, "s", true).await;
    s.subscribe("l", QoS::AtMostOnce).await;
    let mut p = RawClient::connect(b.addr, "p", true).await;
    p.publish("l", b"this payload is too long", QoS::AtLeastOnce, false)
        .await;
    assert!(
        matches!(p.recv().await, Some(Packet::PubAck(_))),
        "flow completed"
    );
    p.publish("l", b"short", QoS::AtMostOnce, false).await;
    assert_eq!(
        s.next_publish().await.unwrap().payload,
        &b"short"[..],
        "only the short one"
    );
    p.publish("l", b"r", QoS::AtMostOnce, true).await;
    assert!(p.closed_within(Duration::from_secs(3)).await);
}

#[tokio::test]
async fn ipv6_loopback_listener() {
    let mut config = test_config();
    config.listeners = vec![mq::broker::config::ListenerConfig {
        bind: Some("::1".into()),
        ..mq::broker::config::ListenerConfig::any(0)
    }];
    let b = match TestBroker::try_in_process(config).await {
        Ok(b) => b,
        Err(e) => {
            peers::host_lacks(&format!("no IPv6 loopback here ({e})"));
            return;
        }
    };
    assert!(b.addr.is_ipv6());
    let mut c = RawClient::connect(b.addr, "six", true).await;
    c.send(&Packet::PingReq).await;
    assert_eq!(c.recv().await, Some(Packet::PingResp));
}

#[tokio::test]
async fn order_per_publisher_and_topic_is_preserved_across_qos_levels() {
    let b = TestBroker::in_process(test_config()).await;
    let mut s = RawClient::connect(b.addr, "ordered", true).await;
    s.subscribe("o", QoS::ExactlyOnce).await;
    let mut p = RawClient::connect(b.addr, "p", true).await;
    for i in 0..300u16 {
        let qos = QoS::from_u8((i % 3) as u8).unwrap();
        p.send(&publish_packet("o", &i.to_be_bytes(), qos, false, i + 1))
            .await;
    }
    let mut got = Vec::new();
    while got.len() < 300 {
        let Some(packet) = s.recv().await else { break };
        match packet {
            Packet::Publish(m) => {
                got.push(u16::from_be_bytes([m.payload[0], m.payload[1]]));
                match (m.qos, m.packet_id) {
                    (QoS::AtLeastOnce, Some(id)) => s.send(&Packet::PubAck(PubResp::new(id))).await,
                    (QoS::ExactlyOnce, Some(id)) => s.send(&Packet::PubRec(PubResp::new(id))).await,
                    _ => {}
                }
            }
            Packet::PubRel(r) => s.send(&Packet::PubComp(PubResp::new(r.packet_id))).await,
            _ => {}
        }
    }
    assert_eq!(got, (0..300).collect::<Vec<u16>>());
}

#[tokio::test]
async fn a_publish_burst_reaches_every_subscriber_without_drops() {
    let b = TestBroker::in_process(test_config()).await;
    let mut subs = Vec::new();
    for i in 0..40 {
        let mut s = RawClient::connect(b.addr, &format!("burst{i}"), true).await;
        s.subscribe("burst", QoS::AtMostOnce).await;
        subs.push(s);
    }
    let mut p = RawClient::connect(b.addr, "p", true).await;
    // 3,000 messages, three times the default queue, in one write.
    let mut bytes = bytes::BytesMut::new();
    for i in 0..3000u16 {
        mq::protocol::encode(
            &publish_packet("burst", &i.to_be_bytes(), QoS::AtMostOnce, false, 1),
            Version::V311,
            &mut bytes,
        )
        .unwrap();
    }
    p.send_raw(&bytes).await;
    for mut s in subs {
        let mut n = 0u16;
        while let Some(Packet::Publish(m)) = s.recv().await {
            assert_eq!(m.payload[..], n.to_be_bytes());
            n += 1;
            if n == 3000 {
                break;
            }
        }
        assert_eq!(n, 3000);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fan_in_from_many_publishers_at_once_is_not_dropped() {
    let b = TestBroker::in_process(test_config()).await;
    let mut s = RawClient::connect(b.addr, "sink", true).await;
    s.subscribe("in/#", QoS::AtMostOnce).await;
    let mut tasks = Vec::new();
    for i in 0..20u16 {
        let addr = b.addr;
        tasks.push(tokio::spawn(async move {
            let mut p = RawClient::connect(addr, &format!("src{i}"), true).await;
            let mut bytes = bytes::BytesMut::new();
            for n in 0..200u16 {
                let packet = publish_packet(
                    &format!("in/{i}"),
                    &n.to_be_bytes(),
                    QoS::AtMostOnce,
                    false,
                    1,
                );
                mq::protocol::encode(&packet, Version::V311, &mut bytes).unwrap();
            }
            p.send_raw(&bytes).await;
            p
        }));
    }
    let mut publishers = Vec::new();
    for t in tasks {
        publishers.push(t.await.unwrap());
    }
    let mut next = [0u16; 20];
    let mut total = 0;
    while total < 4000 {
        let Some(m) = s.next_publish().await else {
            break;
        };
        let i: usize = m.topic.as_str()[3..].parse().unwrap();
        assert_eq!(m.payload[..], next[i].to_be_bytes(), "order per publisher");
        next[i] += 1;
        total += 1;
    }
    assert_eq!(total, 4000, "four times the queue limit, nothing dropped");
}

#[tokio::test]
async fn one_message_reaches_subscribers_of_every_version() {
    let b = TestBroker::in_process(test_config()).await;
    let mut subs = Vec::new();
    for (i, v) in [Version::V31, Version::V311, Version::V5, Version::V311]
        .into_iter()
        .enumerate()
    {
        let (mut s, _) =
            RawClient::connect_with(b.addr, connect_packet(&format!("v{i}"), true, 30, v)).await;
        s.subscribe("mixed", QoS::AtMostOnce).await;
        subs.push(s);
    }
    let mut p = RawClient::connect(b.addr, "p", true).await;
    p.publish("mixed", b"same bytes", QoS::AtMostOnce, false)
        .await;
    for s in &mut subs {
        let m = s.next_publish().await.expect("delivered");
        assert_eq!(
            (m.topic.as_str(), &m.payload[..], m.qos),
            ("mixed", &b"same bytes"[..], QoS::AtMostOnce)
        );
    }
}
