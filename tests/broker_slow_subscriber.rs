//! A subscriber that stops reading must not stop delivery to the others: its queue fills to
//! `max_queued_messages`, further QoS 0 deliveries to it are dropped and counted in
//! `$SYS/broker/publish/messages/dropped`, and another subscriber of the same topics keeps
//! receiving. Run against mosquitto and `mq broker` alike (`MQ_TEST_BROKERS`).

mod common;

use common::*;
use mq::protocol::QoS;
use std::net::SocketAddr;

/// Enough 32 KiB messages to fill a stalled reader's socket buffers on both sides (a few
/// megabytes on loopback) and then its queue.
const BURST: usize = 400;
const SIZE: usize = 32 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_subscriber_does_not_stop_delivery_to_another_and_its_drops_are_counted() {
    let kinds = Kind::under_test();
    let peers: Vec<Peer> = kinds.iter().flat_map(|k| k.peers()).copied().collect();
    if !require(&peers) {
        return;
    }
    for kind in kinds {
        let conf = Conf::new().line("max_queued_messages 10\nsys_interval 1");
        let b = TestBroker::start(kind, conf);
        let addr: SocketAddr = ([127, 0, 0, 1], b.port()).into();
        check_isolation(kind, addr).await;
        b.stop().await;
    }
}

async fn check_isolation(kind: Kind, addr: SocketAddr) {
    // Subscribes, then never reads again.
    let mut stalled = RawClient::connect(addr, "stalled", true).await;
    stalled.subscribe("slow/#", QoS::AtMostOnce).await;
    let mut fast = RawClient::connect(addr, "fast", true).await;
    fast.subscribe("slow/#", QoS::AtMostOnce).await;

    // The burst goes out from its own task while the fast subscriber reads it.
    let publisher = tokio::spawn(async move {
        let mut p = RawClient::connect(addr, "source", true).await;
        let payload = vec![b'x'; SIZE];
        for _ in 0..BURST {
            p.publish("slow/burst", &payload, QoS::AtMostOnce, false)
                .await;
        }
        p.ping().await;
        p
    });
    let mut burst = 0;
    while burst < BURST {
        let Some(m) = fast.next_publish().await else {
            break;
        };
        assert_eq!(m.topic.as_str(), "slow/burst", "[{kind:?}]");
        burst += 1;
    }
    let mut p = publisher.await.expect("publisher task");
    assert!(
        burst > 0,
        "[{kind:?}] the fast subscriber got none of the burst"
    );

    // The stalled subscriber's queue is full now; delivery to the other one goes on, each
    // message as it is published.
    for i in 0..5 {
        let text = format!("after {i}");
        p.publish("slow/after", text.as_bytes(), QoS::AtMostOnce, false)
            .await;
        let got = loop {
            let m = fast.next_publish().await;
            let m = m.unwrap_or_else(|| panic!("[{kind:?}] '{text}' never reached 'fast'"));
            if m.topic.as_str() == "slow/after" {
                break m;
            }
        };
        assert_eq!(&got.payload[..], text.as_bytes(), "[{kind:?}]");
    }

    // What the stalled subscriber could not take was dropped, and counted.
    fast.subscribe("$SYS/broker/publish/messages/dropped", QoS::AtMostOnce)
        .await;
    let mut dropped = 0u64;
    for _ in 0..5 {
        let Some(m) = fast.next_publish().await else {
            break;
        };
        if m.topic.as_str() != "$SYS/broker/publish/messages/dropped" {
            continue;
        }
        dropped = String::from_utf8_lossy(&m.payload).parse().unwrap_or(0);
        if dropped > 0 {
            break;
        }
    }
    assert!(
        dropped > 0,
        "[{kind:?}] no drop counted for the stalled subscriber"
    );
    drop(stalled);
}
