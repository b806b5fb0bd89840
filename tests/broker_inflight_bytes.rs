//! `max_inflight_bytes`: outgoing QoS 1/2 messages in flight to a client are bounded by their
//! payload bytes as well as by their count; the others wait in the queue, in order, and go out
//! as acknowledgements come. A raw subscriber that does not acknowledge shows the window.
//!
//! "Everything the broker sends now" is found without waiting: two PINGREQs in a row. A link
//! handles the first, then moves what its window allows from the queue to the wire before it
//! reads the second, so whatever the window lets out is on the wire before the second PINGRESP.

mod common;

use common::{RawClient, TestBroker, publish_packet, test_config};
use mq::protocol::{Packet, PubResp, Publish, QoS};
use std::time::Duration;

async fn broker(max_inflight_bytes: u32) -> TestBroker {
    let mut config = test_config();
    config.max_inflight_bytes = max_inflight_bytes;
    TestBroker::in_process(config).await
}

/// Publishes one QoS 1 message per payload on `t` and waits for every PUBACK: by then each is
/// in the subscriber's session.
async fn publish_all(b: &TestBroker, payloads: &[Vec<u8>]) {
    let mut p = RawClient::connect(b.addr, "publisher", true).await;
    for (i, payload) in payloads.iter().enumerate() {
        let id = i as u16 + 1;
        p.send(&publish_packet("t", payload, QoS::AtLeastOnce, false, id))
            .await;
    }
    for _ in payloads {
        match p.recv().await {
            Some(Packet::PubAck(_)) => {}
            other => panic!("expected PUBACK, got {other:?}"),
        }
    }
}

/// The PUBLISHes the broker sends `sub` before it would wait for an acknowledgement.
async fn sent_now(sub: &mut RawClient) -> Vec<Publish> {
    sub.ping().await;
    sub.ping().await;
    let mut got = Vec::new();
    while let Some(p) = sub.recv_within(Duration::ZERO).await {
        match p {
            Packet::Publish(p) => got.push(p),
            other => panic!("unexpected {other:?}"),
        }
    }
    got
}

async fn puback(sub: &mut RawClient, p: &Publish) {
    let id = p.packet_id.expect("QoS 1 has an id");
    sub.send(&Packet::PubAck(PubResp::new(id))).await;
}

/// Acknowledges the oldest message in flight each round and checks what the window holds:
/// the payload sizes in flight after each round, until all arrived in order.
async fn window_rounds(sub: &mut RawClient, total: usize) -> Vec<Vec<usize>> {
    let mut inflight: Vec<Publish> = Vec::new();
    let mut received = 0;
    let mut rounds = Vec::new();
    loop {
        let new = sent_now(sub).await;
        for p in &new {
            assert_eq!(p.payload[0] as usize, received, "in publication order");
            received += 1;
        }
        inflight.extend(new);
        rounds.push(inflight.iter().map(|p| p.payload.len()).collect());
        if inflight.is_empty() {
            break;
        }
        let oldest = inflight.remove(0);
        puback(sub, &oldest).await;
    }
    assert_eq!(received, total, "every message arrived: none was dropped");
    rounds
}

/// `n`-th payload of `len` bytes, numbered in its first byte.
fn payload(n: usize, len: usize) -> Vec<u8> {
    let mut p = vec![b'x'; len];
    p[0] = n as u8;
    p
}

#[tokio::test]
async fn messages_in_flight_stay_within_the_byte_limit_and_the_rest_follow_acks() {
    let b = broker(100).await;
    let mut sub = RawClient::connect(b.addr, "slow", true).await;
    sub.subscribe("t", QoS::AtLeastOnce).await;
    let payloads: Vec<Vec<u8>> = (0..10).map(|n| payload(n, 30)).collect();
    publish_all(&b, &payloads).await;
    let rounds = window_rounds(&mut sub, 10).await;
    // Three of 30 bytes fit in 100; a fourth would make 120.
    let mut expected: Vec<Vec<usize>> = (0..8).map(|_| vec![30; 3]).collect();
    expected.extend([vec![30; 2], vec![30], vec![]]);
    assert_eq!(rounds, expected);
}

#[tokio::test]
async fn a_message_larger_than_the_limit_goes_alone() {
    let b = broker(100).await;
    let mut sub = RawClient::connect(b.addr, "slow", true).await;
    sub.subscribe("t", QoS::AtLeastOnce).await;
    let sizes = [150, 150, 10, 60, 40];
    let payloads: Vec<Vec<u8>> = (sizes.iter().enumerate())
        .map(|(n, len)| payload(n, *len))
        .collect();
    publish_all(&b, &payloads).await;
    let rounds = window_rounds(&mut sub, sizes.len()).await;
    assert_eq!(
        rounds,
        [
            vec![150],
            vec![150],
            vec![10, 60],
            vec![60, 40],
            vec![40],
            vec![]
        ]
    );
}

#[tokio::test]
async fn without_a_byte_limit_the_message_count_is_the_window() {
    let b = broker(0).await;
    let mut sub = RawClient::connect(b.addr, "slow", true).await;
    sub.subscribe("t", QoS::AtLeastOnce).await;
    // max_inflight_messages is 20 by default.
    let payloads: Vec<Vec<u8>> = (0..22).map(|n| payload(n, 1000)).collect();
    publish_all(&b, &payloads).await;
    let first = sent_now(&mut sub).await;
    assert_eq!(first.len(), 20);
}
