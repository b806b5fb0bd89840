//! Persistence across broker restarts, in-process on the same store (the `kill -9` case with
//! the real binary is in broker_mosquitto.rs).

mod common;

use common::*;
use mq::protocol::{Packet, PubResp, QoS, Version};
use std::time::Duration;

fn persistent_config(dir: &std::path::Path) -> mq::broker::config::Config {
    let mut c = test_config();
    c.persistence = true;
    c.persistence_location = dir.to_path_buf();
    c
}

#[tokio::test]
async fn incoming_qos2_state_sessions_and_retained_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let b = TestBroker::in_process(persistent_config(dir.path())).await;
    let mut s = RawClient::connect(b.addr, "sub", false).await;
    s.subscribe("t/#", QoS::ExactlyOnce).await;
    s.send(&Packet::Disconnect(Default::default())).await;
    let mut p = RawClient::connect(b.addr, "pub", false).await;
    p.send(&publish_packet(
        "t/once",
        b"exactly once",
        QoS::ExactlyOnce,
        false,
        7,
    ))
    .await;
    assert!(matches!(p.recv().await, Some(Packet::PubRec(r)) if r.packet_id == pid(7)));
    p.publish("keep/r", b"retained", QoS::AtLeastOnce, true)
        .await;
    assert!(matches!(p.recv().await, Some(Packet::PubAck(_))));
    drop(p);
    b.stop().await;

    let b = TestBroker::in_process(persistent_config(dir.path())).await;
    let (mut p, ack) =
        RawClient::connect_with(b.addr, connect_packet("pub", false, 60, Version::V311)).await;
    assert!(ack.session_present);
    // The publisher missed the PUBREC and sends the PUBLISH again: not routed a second time.
    let mut again = publish_packet("t/once", b"exactly once", QoS::ExactlyOnce, false, 7);
    if let Packet::Publish(p) = &mut again {
        p.dup = true;
    }
    p.send(&again).await;
    assert!(matches!(p.recv().await, Some(Packet::PubRec(_))));
    p.send(&Packet::PubRel(PubResp::new(pid(7)))).await;
    assert!(matches!(p.recv().await, Some(Packet::PubComp(_))));

    let (mut s, ack) =
        RawClient::connect_with(b.addr, connect_packet("sub", false, 60, Version::V311)).await;
    assert!(ack.session_present, "session restored");
    let m = s.next_publish().await.expect("queued message restored");
    assert_eq!(
        (m.topic.as_str(), &m.payload[..]),
        ("t/once", &b"exactly once"[..])
    );
    s.send(&Packet::PubRec(PubResp::new(m.packet_id.unwrap())))
        .await;
    assert!(matches!(s.recv().await, Some(Packet::PubRel(_))));
    s.send(&Packet::PubComp(PubResp::new(m.packet_id.unwrap())))
        .await;
    assert!(
        s.recv_within(Duration::from_millis(300)).await.is_none(),
        "delivered once"
    );
    // The subscription itself was restored too: live messages arrive.
    p.publish("t/live", b"live", QoS::AtMostOnce, false).await;
    assert_eq!(s.next_publish().await.unwrap().topic.as_str(), "t/live");

    let mut r = RawClient::connect(b.addr, "reader", true).await;
    r.subscribe("keep/#", QoS::AtMostOnce).await;
    assert_eq!(r.next_publish().await.unwrap().payload, &b"retained"[..]);
    b.stop().await;
}

#[tokio::test]
async fn clean_session_leaves_nothing_in_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let b = TestBroker::in_process(persistent_config(dir.path())).await;
    let mut s = RawClient::connect(b.addr, "gone", false).await;
    s.subscribe("x", QoS::AtLeastOnce).await;
    s.hang_up().await;
    let (_s, ack) =
        RawClient::connect_with(b.addr, connect_packet("gone", true, 60, Version::V311)).await;
    assert!(!ack.session_present);
    b.stop().await;
    let b = TestBroker::in_process(persistent_config(dir.path())).await;
    let (_s, ack) =
        RawClient::connect_with(b.addr, connect_packet("gone", false, 60, Version::V311)).await;
    assert!(
        !ack.session_present,
        "the discarded session did not come back"
    );
    b.stop().await;
}
