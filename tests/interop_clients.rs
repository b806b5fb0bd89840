//! The shared client library against Debian's mosquitto broker: QoS 0/1/2, inflight window,
//! keep-alive, will, credentials, persistent sessions, v5 properties, refusals.

mod common;

use bytes::Bytes;
use common::{Conf, Peer, TestBroker, require};
use mq::client::{Client, ClientError, ClientOptions};
use mq::protocol::{Properties, Props, Publish, QoS, ReasonCode, Version, Will};
use mq::topic::TopicName;
use std::time::Duration;

fn opts(broker: &TestBroker, id: &str) -> ClientOptions {
    let mut o = ClientOptions::new("127.0.0.1", broker.port());
    o.client_id = id.into();
    o
}

async fn recv(c: &Client) -> Publish {
    tokio::time::timeout(Duration::from_secs(5), c.recv())
        .await
        .expect("message within 5 s")
        .expect("message")
}

#[tokio::test]
async fn publish_each_qos_and_receive_it_back() {
    if !require(&[Peer::Mosquitto]) {
        return;
    }
    let b = TestBroker::mosquitto(Conf::new());
    let (c, connack) = Client::connect(opts(&b, "qos")).await.unwrap();
    assert!(!connack.session_present);
    let ack = c.subscribe(&[("t/#", QoS::ExactlyOnce)]).await.unwrap();
    assert_eq!(ack.reasons, vec![ReasonCode::GrantedQoS2]);
    for (i, qos) in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce]
        .into_iter()
        .enumerate()
    {
        c.publish(&format!("t/{i}"), format!("m{i}"), qos, false)
            .await
            .unwrap();
        let m = recv(&c).await;
        assert_eq!(m.topic.as_str(), format!("t/{i}"));
        assert_eq!(m.payload, Bytes::from(format!("m{i}")));
        assert_eq!(m.qos, qos);
        assert_eq!(m.packet_id.is_some(), qos != QoS::AtMostOnce);
    }
    c.unsubscribe(&["t/#"]).await.unwrap();
    c.publish("t/x", "after", QoS::AtLeastOnce, false)
        .await
        .unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(300), c.recv())
            .await
            .is_err()
    );
    c.disconnect().await.unwrap();
    assert!(matches!(c.recv().await, Err(ClientError::Closed)));
}

#[tokio::test]
async fn many_publications_in_flight_are_all_acknowledged_and_delivered() {
    if !require(&[Peer::Mosquitto]) {
        return;
    }
    let b = TestBroker::mosquitto(Conf::new());
    let (sub, _) = Client::connect(opts(&b, "many-sub")).await.unwrap();
    sub.subscribe(&[("load/#", QoS::AtLeastOnce)])
        .await
        .unwrap();
    let mut o = opts(&b, "many-pub");
    o.max_inflight = 10;
    o.message_buffer = 0;
    let (publ, _) = Client::connect(o).await.unwrap();
    let mut pending = Vec::new();
    for i in 0..500u32 {
        let qos = if i % 2 == 0 {
            QoS::AtLeastOnce
        } else {
            QoS::ExactlyOnce
        };
        pending.push(
            publ.start_publish("load/x", i.to_string(), qos, false)
                .await
                .unwrap(),
        );
    }
    for p in pending {
        p.wait().await.unwrap();
    }
    // QoS 1 and QoS 2 flows finish in different orders: compare as sets.
    let mut got: Vec<u32> = Vec::new();
    for _ in 0..500 {
        let m = recv(&sub).await;
        got.push(std::str::from_utf8(&m.payload).unwrap().parse().unwrap());
    }
    got.sort_unstable();
    assert_eq!(got, (0..500).collect::<Vec<_>>());
    publ.disconnect().await.unwrap();
}

#[tokio::test]
async fn will_is_published_when_the_connection_drops() {
    if !require(&[Peer::Mosquitto]) {
        return;
    }
    let b = TestBroker::mosquitto(Conf::new());
    let (watch, _) = Client::connect(opts(&b, "watcher")).await.unwrap();
    watch
        .subscribe(&[("status/#", QoS::AtLeastOnce)])
        .await
        .unwrap();
    let mut o = opts(&b, "dying");
    o.will = Some(Will {
        topic: TopicName::new("status/dying").unwrap(),
        payload: Bytes::from_static(b"offline"),
        qos: QoS::AtLeastOnce,
        retain: false,
        properties: Props::default(),
    });
    let (dying, _) = Client::connect(o.clone()).await.unwrap();
    drop(dying);
    let m = recv(&watch).await;
    assert_eq!(
        (m.topic.as_str(), &m.payload[..]),
        ("status/dying", &b"offline"[..])
    );
    // A clean DISCONNECT discards the will.
    let (polite, _) = Client::connect(o).await.unwrap();
    polite.disconnect().await.unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(500), watch.recv())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn persistent_session_keeps_subscriptions_and_queues_messages() {
    if !require(&[Peer::Mosquitto]) {
        return;
    }
    let b = TestBroker::mosquitto(Conf::new());
    let mut o = opts(&b, "durable");
    o.clean_start = false;
    let (c, connack) = Client::connect(o.clone()).await.unwrap();
    assert!(!connack.session_present);
    c.subscribe(&[("q/#", QoS::AtLeastOnce)]).await.unwrap();
    c.disconnect().await.unwrap();
    let (p, _) = Client::connect(opts(&b, "sender")).await.unwrap();
    p.publish("q/1", "while away", QoS::AtLeastOnce, false)
        .await
        .unwrap();
    let (c, connack) = Client::connect(o).await.unwrap();
    assert!(connack.session_present);
    assert_eq!(&recv(&c).await.payload[..], b"while away");
}

#[tokio::test]
async fn keepalive_pings_keep_an_idle_connection_open() {
    if !require(&[Peer::Mosquitto]) {
        return;
    }
    let b = TestBroker::mosquitto(Conf::new());
    let mut o = opts(&b, "idle");
    o.keep_alive = 1;
    let (c, _) = Client::connect(o).await.unwrap();
    // mosquitto drops a client silent for 1.5 keep-alive intervals. Time is the behaviour
    // here: the connection must outlive that while the client only pings.
    tokio::time::sleep(Duration::from_millis(3200)).await;
    c.publish("idle/x", "still here", QoS::AtLeastOnce, false)
        .await
        .unwrap();
}

#[tokio::test]
async fn anonymous_refused_is_reported_with_the_connack_reason() {
    if !require(&[Peer::Mosquitto]) {
        return;
    }
    let b = TestBroker::mosquitto(Conf::bare().line("allow_anonymous false"));
    for (version, code) in [(Version::V311, 5u8), (Version::V5, 135)] {
        let mut o = opts(&b, "anon");
        o.version = version;
        match Client::connect(o).await {
            Err(ClientError::Refused { version: v, reason }) => {
                assert_eq!(mq::client::refusal_code(v, reason), code);
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn username_and_password_are_checked_by_the_broker() {
    if !require(&[Peer::Mosquitto, Peer::MosquittoPasswd]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    let st = std::process::Command::new("mosquitto_passwd")
        .args(["-c", "-b"])
        .arg(&pw)
        .args(["alice", "secret"])
        .status()
        .unwrap();
    assert!(st.success());
    let conf = format!("allow_anonymous false\npassword_file {}", pw.display());
    let b = TestBroker::mosquitto(Conf::bare().line(&conf));
    let mut o = opts(&b, "alice");
    o.username = Some("alice".into());
    o.password = Some(Bytes::from_static(b"wrong"));
    match Client::connect(o.clone()).await {
        // mosquitto 2.0 answers "not authorised" (5) rather than "bad user name or password" (4).
        Err(ClientError::Refused { reason, .. }) => {
            assert!([4, 5].contains(&reason.to_v3_connack()), "{reason:?}")
        }
        other => panic!("expected bad password refusal, got {other:?}"),
    }
    o.password = Some(Bytes::from_static(b"secret"));
    let (c, _) = Client::connect(o).await.unwrap();
    c.disconnect().await.unwrap();
}

#[tokio::test]
async fn v5_properties_travel_and_the_broker_assigns_an_id() {
    if !require(&[Peer::Mosquitto]) {
        return;
    }
    let b = TestBroker::mosquitto(Conf::new());
    let mut o = opts(&b, "");
    o.version = Version::V5;
    let (c, _) = Client::connect(o).await.unwrap();
    assert!(c.client_id().starts_with("auto-"), "{}", c.client_id());
    c.subscribe(&[("v5/#", QoS::AtLeastOnce)]).await.unwrap();
    let props = Properties {
        content_type: Some("text/plain".into()),
        user_properties: vec![("k".into(), "v".into())],
        ..Properties::default()
    };
    let p = Publish {
        dup: false,
        qos: QoS::AtLeastOnce,
        retain: false,
        topic: TopicName::new("v5/a").unwrap(),
        packet_id: None,
        properties: props.into(),
        payload: Bytes::from_static(b"hi"),
    };
    c.publish_message(p).await.unwrap();
    let m = recv(&c).await;
    assert_eq!(m.properties.content_type.as_deref(), Some("text/plain"));
    assert_eq!(
        m.properties.user_properties,
        vec![("k".to_string(), "v".to_string())]
    );
    c.disconnect().await.unwrap();
}

#[tokio::test]
async fn connecting_to_a_closed_port_is_a_transport_error() {
    let port = common::free_port();
    let o = ClientOptions::new("127.0.0.1", port);
    assert!(matches!(
        Client::connect(o).await,
        Err(ClientError::Transport(_))
    ));
}

#[tokio::test]
async fn subscribe_returns_while_queued_messages_fill_the_buffer() {
    if !require(&[Peer::Mosquitto]) {
        return;
    }
    let b = TestBroker::mosquitto(Conf::new().line("max_queued_messages 0"));
    let mut o = opts(&b, "queued");
    o.clean_start = false;
    o.message_buffer = 8;
    let (c, _) = Client::connect(o.clone()).await.unwrap();
    c.subscribe(&[("qq/#", QoS::AtLeastOnce)]).await.unwrap();
    c.disconnect().await.unwrap();
    let mut po = opts(&b, "filler");
    po.message_buffer = 0;
    let (p, _) = Client::connect(po).await.unwrap();
    let mut pending = Vec::new();
    for i in 0..200u32 {
        pending.push(
            p.start_publish("qq/x", i.to_string(), QoS::AtLeastOnce, false)
                .await
                .unwrap(),
        );
    }
    for x in pending {
        x.wait().await.unwrap();
    }
    // The queued messages arrive before the SUBACK and overflow the 8-message buffer: the
    // SUBACK must still get through.
    let (c, connack) = Client::connect(o).await.unwrap();
    assert!(connack.session_present);
    tokio::time::timeout(
        Duration::from_secs(5),
        c.subscribe(&[("qq/#", QoS::AtLeastOnce)]),
    )
    .await
    .expect("SUBACK despite a full buffer")
    .unwrap();
    for i in 0..200u32 {
        assert_eq!(recv(&c).await.payload, Bytes::from(i.to_string()));
    }
}
