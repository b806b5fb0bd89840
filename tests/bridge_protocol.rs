//! A bridge of an in-process `mq broker`, packet by packet, against a fake remote broker made
//! of raw packets: what it sends on connecting, what it sends again after a reconnection, and
//! how it falls back or stops.

mod common;

use common::bridge::{Mq, wait_for};
use common::*;
use mq::broker::bridge::config::hostname;
use mq::broker::bridge::status::State;
use mq::client::{Client, ClientOptions};
use mq::protocol::{
    ConnAck, Packet, PacketId, Props, PubResp, QoS, ReasonCode, SubAck, UnsubAck, Version,
};
use tokio::net::TcpListener;

async fn fake_remote() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

fn connack(present: bool, reason: ReasonCode) -> Packet {
    Packet::ConnAck(ConnAck {
        session_present: present,
        reason,
        properties: Props::default(),
    })
}

async fn next(r: &mut RawClient) -> Packet {
    r.recv().await.expect("a packet from the bridge")
}

/// Accepts the bridge's connection and answers its CONNECT; returns the CONNECT.
async fn accept(l: &TcpListener, present: bool) -> (RawClient, mq::protocol::Connect) {
    let mut r = RawClient::accept(l, Version::V311).await;
    let Packet::Connect(c) = next(&mut r).await else {
        panic!("CONNECT first");
    };
    r.send(&connack(present, ReasonCode::Success)).await;
    (r, *c)
}

/// Answers the bridge's SUBSCRIBE (granted QoS 2).
async fn subscribed(r: &mut RawClient) {
    let Packet::Subscribe(s) = next(r).await else {
        panic!("SUBSCRIBE");
    };
    r.send(&Packet::SubAck(SubAck {
        packet_id: s.packet_id,
        reasons: vec![ReasonCode::GrantedQoS2],
        properties: Props::default(),
    }))
    .await;
}

async fn local_client(port: u16, id: &str) -> Client {
    let mut o = ClientOptions::new("127.0.0.1", port);
    o.client_id = id.into();
    Client::connect(o).await.expect("local client").0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_notification_and_subscriptions_are_mosquittos() {
    let (l, port) = fake_remote().await;
    let mq = Mq::with_bridges(&format!(
        "connection fake\naddress 127.0.0.1:{port}\nrestart_timeout 1\ntopic in/# in 1\n\
         topic out/# out 1\n"
    ))
    .await;
    let (mut r, c) = accept(&l, false).await;
    let id = format!("{}.fake", hostname());
    let state = format!("$SYS/broker/connection/{id}/state");
    // 3.1.1 with the bridge bit (level 0x84), a persistent session, mosquitto's keepalive,
    // and the state's Last Will.
    assert_eq!((c.version, c.bridge), (Version::V311, true));
    assert_eq!(
        (c.client_id.as_str(), c.clean_start, c.keep_alive),
        (id.as_str(), false, 60)
    );
    let will = c.will.expect("a will");
    assert_eq!(
        (will.topic.as_str(), &will.payload[..]),
        (state.as_str(), &b"0"[..])
    );
    assert!(will.retain && will.qos == QoS::AtLeastOnce);

    let Packet::Publish(up) = next(&mut r).await else {
        panic!("the state first");
    };
    assert_eq!(
        (up.topic.as_str(), &up.payload[..]),
        (state.as_str(), &b"1"[..])
    );
    assert!(up.retain && up.qos == QoS::AtLeastOnce);
    let Packet::Subscribe(s) = next(&mut r).await else {
        panic!("SUBSCRIBE of the in topic");
    };
    assert_eq!(s.subscriptions[0].filter.as_str(), "in/#");
    assert_eq!(s.subscriptions[0].options.qos, QoS::AtLeastOnce);
    let Packet::Unsubscribe(u) = next(&mut r).await else {
        panic!("UNSUBSCRIBE of the out topic");
    };
    assert_eq!(u.filters[0].as_str(), "out/#");
    let ids: Vec<u16> = [up.packet_id.unwrap(), s.packet_id, u.packet_id]
        .iter()
        .map(|p| p.get())
        .collect();
    assert_eq!(
        ids,
        vec![1, 2, 3],
        "one sequence of packet ids, as mosquitto numbers them"
    );
    assert_ne!(
        mq.state("fake"),
        State::Connected,
        "not before its packets are acknowledged"
    );

    r.send(&Packet::PubAck(PubResp::new(up.packet_id.unwrap())))
        .await;
    r.send(&Packet::SubAck(SubAck {
        packet_id: s.packet_id,
        reasons: vec![ReasonCode::GrantedQoS1],
        properties: Props::default(),
    }))
    .await;
    r.send(&Packet::UnsubAck(UnsubAck {
        packet_id: u.packet_id,
        reasons: vec![],
        properties: Props::default(),
    }))
    .await;
    mq.connected("fake").await;
    let p = local_client(mq.port, "producer").await;
    p.publish("out/1", "hello", QoS::AtLeastOnce, false)
        .await
        .unwrap();
    let m = r.next_publish().await.expect("forwarded");
    assert_eq!(
        (m.topic.as_str(), m.qos, m.packet_id.map(PacketId::get)),
        ("out/1", QoS::AtLeastOnce, Some(4))
    );
    mq.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unacknowledged_messages_go_again_with_their_ids_after_a_reconnection() {
    let (l, port) = fake_remote().await;
    let mq = Mq::with_bridges(&format!(
        "connection fake\naddress 127.0.0.1:{port}\nrestart_timeout 1\nnotifications false\n\
         bridge_attempt_unsubscribe false\ntopic out/# out 2\n"
    ))
    .await;
    let (mut r, _) = accept(&l, false).await;
    mq.connected("fake").await;
    let p = local_client(mq.port, "producer").await;
    p.publish("out/q1", "one", QoS::AtLeastOnce, false)
        .await
        .unwrap();
    p.publish("out/q2", "two", QoS::ExactlyOnce, false)
        .await
        .unwrap();
    let q1 = r.next_publish().await.expect("QoS 1");
    let q2 = r.next_publish().await.expect("QoS 2");
    let (id1, id2) = (q1.packet_id.unwrap(), q2.packet_id.unwrap());
    r.send(&Packet::PubRec(PubResp::new(id2))).await;
    assert_eq!(next(&mut r).await, Packet::PubRel(PubResp::new(id2)));
    // The remote goes away before acknowledging the QoS 1 message or completing the QoS 2 one.
    drop(r);

    let (mut r, c) = accept(&l, true).await;
    assert!(!c.clean_start);
    let again = r.next_publish().await.expect("the QoS 1 message again");
    assert_eq!(
        (again.topic.as_str(), again.dup, again.packet_id),
        ("out/q1", true, Some(id1))
    );
    assert_eq!(
        next(&mut r).await,
        Packet::PubRel(PubResp::new(id2)),
        "PUBREL again"
    );
    r.send(&Packet::PubAck(PubResp::new(id1))).await;
    r.send(&Packet::PubComp(PubResp::new(id2))).await;
    p.publish("out/q1", "three", QoS::AtLeastOnce, false)
        .await
        .unwrap();
    let third = r.next_publish().await.expect("a new message");
    assert!(!third.dup && third.packet_id != Some(id1) && third.packet_id != Some(id2));
    mq.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incoming_qos2_is_routed_once_across_a_reconnection() {
    let (l, port) = fake_remote().await;
    let mq = Mq::with_bridges(&format!(
        "connection fake\naddress 127.0.0.1:{port}\nrestart_timeout 1\nnotifications false\n\
         topic in/# in 2\n"
    ))
    .await;
    let sub = local_client(mq.port, "consumer").await;
    sub.subscribe(&[("in/#", QoS::ExactlyOnce)]).await.unwrap();
    let (mut r, _) = accept(&l, false).await;
    subscribed(&mut r).await;
    r.send(&publish_packet("in/x", b"once", QoS::ExactlyOnce, false, 7))
        .await;
    assert_eq!(next(&mut r).await, Packet::PubRec(PubResp::new(pid(7))));
    drop(r);

    let (mut r, _) = accept(&l, true).await;
    subscribed(&mut r).await;
    // The remote missed our PUBREC and sends the message again: acknowledged, not routed again.
    let mut dup = publish_packet("in/x", b"once", QoS::ExactlyOnce, false, 7);
    if let Packet::Publish(p) = &mut dup {
        p.dup = true;
    }
    r.send(&dup).await;
    assert_eq!(next(&mut r).await, Packet::PubRec(PubResp::new(pid(7))));
    r.send(&Packet::PubRel(PubResp::new(pid(7)))).await;
    assert_eq!(next(&mut r).await, Packet::PubComp(PubResp::new(pid(7))));
    r.send(&publish_packet("in/end", b"", QoS::AtMostOnce, false, 0))
        .await;
    let topics = [sub.recv().await.unwrap(), sub.recv().await.unwrap()];
    let topics: Vec<&str> = topics.iter().map(|p| p.topic.as_str()).collect();
    assert_eq!(topics, vec!["in/x", "in/end"]);
    mq.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_that_refuses_the_bridge_flag_gets_an_ordinary_client() {
    let (l, port) = fake_remote().await;
    let mq = Mq::with_bridges(&format!(
        "connection fake\naddress 127.0.0.1:{port}\nnotifications false\n\
         bridge_attempt_unsubscribe false\ntopic out/# out\n"
    ))
    .await;
    let mut r = RawClient::accept(&l, Version::V311).await;
    let Packet::Connect(c) = next(&mut r).await else {
        panic!("CONNECT");
    };
    assert!(c.bridge);
    // CONNACK return code 1: unacceptable protocol version.
    r.send(&connack(false, ReasonCode::UnsupportedProtocolVersion))
        .await;
    drop(r);
    let (_r, c) = accept(&l, false).await;
    assert_eq!((c.version, c.bridge), (Version::V311, false));
    mq.connected("fake").await;
    mq.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_once_bridge_stops_when_its_connection_ends() {
    let (l, port) = fake_remote().await;
    let mq = Mq::with_bridges(&format!(
        "connection fake\naddress 127.0.0.1:{port}\nstart_type once\nrestart_timeout 1\n\
         notifications false\nbridge_attempt_unsubscribe false\ntopic out/# out\n"
    ))
    .await;
    let (r, _) = accept(&l, false).await;
    mq.connected("fake").await;
    drop(r);
    assert!(wait_for(|| mq.state("fake") == State::Stopped).await);
    let status = mq.bridges.registry().get("fake").unwrap();
    assert_eq!(
        status.connects.load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    mq.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bridge_on_its_second_address_returns_to_the_first_when_it_answers() {
    let primary_port = free_port();
    let (secondary, secondary_port) = fake_remote().await;
    let mq = Mq::with_bridges(&format!(
        "connection fake\naddress 127.0.0.1:{primary_port} 127.0.0.1:{secondary_port}\n\
         restart_timeout 1\nnotifications false\nbridge_attempt_unsubscribe false\n\
         topic out/# out\n"
    ))
    .await;
    // The first address refuses: the bridge moves on to the second.
    let (_on_secondary, _) = accept(&secondary, false).await;
    mq.connected("fake").await;
    let status = mq.bridges.registry().get("fake").unwrap();
    assert_eq!(status.address(), format!("127.0.0.1:{secondary_port}"));
    // The first comes up: the bridge notices (it tries it every 5 s) and goes back to it. Its
    // probe is a bare TCP connection; the bridge's own comes with a CONNECT.
    let primary = TcpListener::bind(("127.0.0.1", primary_port))
        .await
        .unwrap();
    let _on_primary = loop {
        let mut r = RawClient::accept(&primary, Version::V311).await;
        if let Some(Packet::Connect(_)) = r.recv().await {
            r.send(&connack(false, ReasonCode::Success)).await;
            break r;
        }
    };
    mq.connected("fake").await;
    assert_eq!(status.address(), format!("127.0.0.1:{primary_port}"));
    mq.stop().await;
}
