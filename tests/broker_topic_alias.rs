//! Topic aliases `mq broker` assigns to what it sends MQTT 5 clients that allow them
//! (Topic Alias Maximum in their CONNECT): checked on the wire with a raw client, then with
//! clients that resolve them (`mq sub`, paho-mqtt). mosquitto_sub 2.0 is not among them: it
//! sends the Topic Alias Maximum it is given with `-D connect`, then takes the first PUBLISH
//! with an alias alone for a protocol error (see docs/compatibility.md).

mod common;

use bytes::Bytes;
use common::*;
use mq::protocol::{Packet, Properties, Props, PubResp, Publish, QoS};
use std::collections::HashMap;

const TOPICS: [&str; 3] = ["ta/one", "ta/two", "ta/three"];

/// A v5 CONNECT with a topic alias maximum (0: the property left out).
fn connect5(id: &str, clean: bool, alias_max: u16, expiry: u32) -> Packet {
    let props = Properties {
        topic_alias_maximum: (alias_max > 0).then_some(alias_max),
        session_expiry_interval: (expiry > 0).then_some(expiry),
        ..Properties::default()
    };
    common::raw::connect_v5(id, clean, props)
}

async fn v5(addr: std::net::SocketAddr, id: &str, clean: bool, max: u16, exp: u32) -> RawClient {
    let (c, ack) = RawClient::connect_with(addr, connect5(id, clean, max, exp)).await;
    assert_eq!(ack.reason, mq::protocol::ReasonCode::Success);
    c
}

/// The next PUBLISH, acknowledged when `ack` (QoS 1).
async fn next(c: &mut RawClient, ack: bool) -> Publish {
    let p = c.next_publish().await.expect("a PUBLISH");
    if let (true, Some(id)) = (ack, p.packet_id) {
        c.send(&Packet::PubAck(PubResp::new(id))).await;
    }
    p
}

/// The topic a PUBLISH stands for, resolving (and defining) aliases with `table`.
fn resolve(table: &mut HashMap<u16, String>, p: &Publish) -> String {
    match (p.properties.topic_alias, p.topic.as_str()) {
        (None, t) => t.to_string(),
        (Some(a), "") => table.get(&a).cloned().expect("a known alias"),
        (Some(a), t) => {
            table.insert(a, t.to_string());
            t.to_string()
        }
    }
}

/// Three topics, three rounds, to a client allowing two aliases: the first two topics get
/// aliases 1 and 2 (the topic once, then the alias alone), the third goes out in full.
async fn three_topics_two_aliases(qos: QoS) {
    let b = TestBroker::in_process(test_config()).await;
    let mut s = v5(b.addr, "ta-sub", true, 2, 0).await;
    s.subscribe("ta/#", qos).await;
    let mut p = RawClient::connect(b.addr, "ta-pub", true).await;
    let mut table = HashMap::new();
    for round in 0..3 {
        for (i, topic) in TOPICS.iter().enumerate() {
            let payload = format!("{round}:{i}");
            p.send(&publish_packet(topic, payload.as_bytes(), qos, false, 1))
                .await;
            let m = next(&mut s, true).await;
            let alias = m.properties.topic_alias;
            assert!(alias.is_none_or(|a| (1..=2).contains(&a)), "{m:?}");
            let (want_topic, want_alias) = match (round, i) {
                (_, 2) => (*topic, None),
                (0, _) => (*topic, Some(i as u16 + 1)),
                _ => ("", Some(i as u16 + 1)),
            };
            assert_eq!((m.topic.as_str(), alias), (want_topic, want_alias));
            assert_eq!(resolve(&mut table, &m), *topic);
            assert_eq!(&m.payload[..], payload.as_bytes());
        }
    }
}

#[tokio::test]
async fn qos0_deliveries_get_aliases_up_to_the_client_maximum() {
    three_topics_two_aliases(QoS::AtMostOnce).await;
}

#[tokio::test]
async fn qos1_deliveries_get_aliases_up_to_the_client_maximum() {
    three_topics_two_aliases(QoS::AtLeastOnce).await;
}

#[tokio::test]
async fn a_client_allowing_no_alias_gets_full_topics() {
    let b = TestBroker::in_process(test_config()).await;
    let mut s = v5(b.addr, "ta0-sub", true, 0, 0).await;
    s.subscribe("ta/#", QoS::AtMostOnce).await;
    let mut p = RawClient::connect(b.addr, "ta0-pub", true).await;
    for _ in 0..2 {
        for topic in TOPICS {
            p.publish(topic, b"x", QoS::AtMostOnce, false).await;
            let m = next(&mut s, false).await;
            assert_eq!((m.topic.as_str(), m.properties.topic_alias), (topic, None));
        }
    }
}

#[tokio::test]
async fn aliases_start_afresh_on_reconnect_and_resends_carry_their_topic() {
    let b = TestBroker::in_process(test_config()).await;
    let mut s = v5(b.addr, "ta-re", true, 2, 300).await;
    s.subscribe("ta/#", QoS::AtLeastOnce).await;
    let mut p = RawClient::connect(b.addr, "ta-re-pub", true).await;
    for n in 1..=2u16 {
        p.send(&publish_packet(
            "ta/one",
            b"keep",
            QoS::AtLeastOnce,
            false,
            n,
        ))
        .await;
    }
    // Both unacknowledged: the second used the alias alone.
    assert_eq!(next(&mut s, false).await.topic.as_str(), "ta/one");
    assert_eq!(next(&mut s, false).await.topic.as_str(), "");
    s.hang_up().await;
    let mut s = v5(b.addr, "ta-re", false, 2, 300).await;
    // The new connection knows no alias: the first resend names its topic.
    let mut table = HashMap::new();
    for _ in 0..2 {
        let m = next(&mut s, true).await;
        assert!(m.dup, "{m:?}");
        assert_eq!(resolve(&mut table, &m), "ta/one");
    }
    // And with no alias allowed now, none is used.
    s.hang_up().await;
    p.send(&publish_packet(
        "ta/one",
        b"again",
        QoS::AtLeastOnce,
        false,
        3,
    ))
    .await;
    let mut s = v5(b.addr, "ta-re", false, 0, 300).await;
    let m = next(&mut s, true).await;
    assert_eq!(
        (m.topic.as_str(), m.properties.topic_alias),
        ("ta/one", None)
    );
}

#[tokio::test]
async fn an_alias_is_left_out_where_it_would_exceed_the_maximum_packet_size() {
    let b = TestBroker::in_process(test_config()).await;
    // "ta/one" + 1 byte of payload, QoS 0: 2 + 1 + (2 + 6) + 1 + 1 = 13 bytes without alias,
    // 16 with one: a client accepting 13 bytes gets the topic in full.
    let props = Properties {
        topic_alias_maximum: Some(2),
        maximum_packet_size: Some(13),
        ..Properties::default()
    };
    let mut connect = connect5("ta-mps", true, 2, 0);
    if let Packet::Connect(c) = &mut connect {
        c.properties = Props::new(props);
    }
    let (mut s, _) = RawClient::connect_with(b.addr, connect).await;
    s.subscribe("ta/#", QoS::AtMostOnce).await;
    let mut p = RawClient::connect(b.addr, "ta-mps-pub", true).await;
    for _ in 0..2 {
        p.publish("ta/one", b"x", QoS::AtMostOnce, false).await;
        let m = next(&mut s, false).await;
        assert_eq!(
            (m.topic.as_str(), m.properties.topic_alias),
            ("ta/one", None)
        );
    }
}

/// Publishes each of [`TOPICS`] `rounds` times, payload "topic:round", QoS 1.
fn publish_rounds(port: u16, rounds: usize) -> Vec<String> {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let mut p = RawClient::connect(addr, "ta-cli-pub", true).await;
        let mut sent = Vec::new();
        for r in 0..rounds {
            for (i, t) in TOPICS.iter().enumerate() {
                let id = (r * TOPICS.len() + i + 1) as u16;
                let payload = format!("{t}:{r}");
                let packet = Packet::Publish(Publish {
                    dup: false,
                    qos: QoS::AtLeastOnce,
                    retain: false,
                    topic: t.parse().expect("topic"),
                    packet_id: Some(pid(id)),
                    properties: Props::default(),
                    payload: Bytes::from(payload.clone()),
                });
                p.send(&packet).await;
                assert!(matches!(p.recv().await, Some(Packet::PubAck(_))));
                sent.push(format!("{t} {payload}"));
            }
        }
        sent
    })
}

/// A subscriber command allowing two aliases prints every message under its own topic.
fn check_subscriber(b: &TestBroker, cmd: &mut std::process::Command) {
    let sub = ChildGuard::spawn(cmd);
    b.wait_subscribed("ta/#");
    let sent = publish_rounds(b.port(), 3);
    let all = sub
        .stdout
        .wait_until(PATIENCE, |lines| lines.len() >= sent.len());
    assert!(all, "{}", sub.stdout.text());
    assert_eq!(sub.stdout.lines(), sent);
}

#[test]
fn mq_sub_resolves_the_aliases_it_allows() {
    let b = TestBroker::mq(Conf::new());
    let port = b.port().to_string();
    check_subscriber(
        &b,
        mq_process()
            .args(["sub", "-V", "mqttv5", "-p", &port, "-t", "ta/#", "-v"])
            .args(["-q", "1", "-D", "connect", "topic-alias-maximum", "2"]),
    );
}

#[test]
fn paho_v5_subscriber_gets_every_topic_through_its_aliases() {
    if !require(&[Peer::Paho]) {
        return;
    }
    let b = TestBroker::mq(Conf::new());
    common::run_paho_script("paho_topic_alias.py", 30, &[b.port().to_string()], "");
}
