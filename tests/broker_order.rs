//! A SUBSCRIBE (or UNSUBSCRIBE) that reached `mq broker` before another client's PUBLISH applies
//! to that PUBLISH, also when the two connections are served by different worker threads.
//!
//! Each pair of clients repeats, on fresh topics: the subscriber sends SUBSCRIBE and, without
//! waiting for SUBACK, the publisher sends PUBLISH; the subscriber must get it. Then the
//! subscriber sends UNSUBSCRIBE and the publisher PUBLISH again; the subscriber must not get it
//! (checked with a marker message on a topic it keeps, sent once UNSUBACK came back).
//!
//! The order that counts is the order in which the kernel reports the sockets readable; the
//! test makes that the order the client sent in (see [`pin_to_cpu`] and [`settle`]).

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const PAIRS: usize = 4;
const ROUNDS: usize = 300;

fn remaining(mut n: usize, out: &mut Vec<u8>) {
    loop {
        let b = (n % 128) as u8;
        n /= 128;
        out.push(if n > 0 { b | 0x80 } else { b });
        if n == 0 {
            break;
        }
    }
}

fn packet(first: u8, body: &[u8]) -> Vec<u8> {
    let mut p = vec![first];
    remaining(body.len(), &mut p);
    p.extend_from_slice(body);
    p
}

fn string(s: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn subscribe(id: u16, filter: &str) -> Vec<u8> {
    let mut b = id.to_be_bytes().to_vec();
    string(filter, &mut b);
    b.push(0);
    packet(0x82, &b)
}

fn unsubscribe(id: u16, filter: &str) -> Vec<u8> {
    let mut b = id.to_be_bytes().to_vec();
    string(filter, &mut b);
    packet(0xa2, &b)
}

fn publish(topic: &str, payload: &str) -> Vec<u8> {
    let mut b = Vec::new();
    string(topic, &mut b);
    b.extend_from_slice(payload.as_bytes());
    packet(0x30, &b)
}

/// A blocking MQTT 3.1.1 client, connected.
fn client(port: u16, id: &str) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_nodelay(true).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut b = b"\x00\x04MQTT\x04\x02\x00\x3c".to_vec();
    string(id, &mut b);
    s.write_all(&packet(0x10, &b)).unwrap();
    let (kind, body) = read_packet(&mut s).expect("CONNACK");
    assert_eq!((kind, body), (0x20, vec![0, 0]), "{id}: CONNACK");
    s
}

/// The next packet's first byte and body; `None` when nothing came within the read timeout.
fn read_packet(s: &mut TcpStream) -> Option<(u8, Vec<u8>)> {
    let mut first = [0u8; 1];
    s.read_exact(&mut first).ok()?;
    let (mut len, mut shift) = (0usize, 0);
    loop {
        let mut b = [0u8; 1];
        s.read_exact(&mut b).expect("remaining length");
        len |= ((b[0] & 0x7f) as usize) << shift;
        shift += 7;
        if b[0] & 0x80 == 0 {
            break;
        }
    }
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).expect("packet body");
    Some((first[0], body))
}

/// A PUBLISH body's topic and payload.
fn topic_payload(body: &[u8]) -> (String, String) {
    let n = u16::from_be_bytes([body[0], body[1]]) as usize;
    let topic = String::from_utf8_lossy(&body[2..2 + n]).into_owned();
    let payload = String::from_utf8_lossy(&body[2 + n..]).into_owned();
    (topic, payload)
}

/// Keeps the calling thread on one CPU: loopback packets sent from two CPUs go through two
/// queues in the kernel, which can hand the broker the second one first.
fn pin_to_cpu(n: usize) {
    let cpus = std::thread::available_parallelism().map_or(1, |c| c.get());
    // SAFETY: a zeroed cpu_set_t is a valid empty set; the calls get valid pointers and sizes.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(n % cpus, &mut set);
        let r = libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
        assert_eq!(
            r,
            0,
            "sched_setaffinity: {}",
            std::io::Error::last_os_error()
        );
    }
}

/// Lets the broker's write of what the subscriber just read finish. While the broker is in
/// that write, the kernel holds bytes arriving on the same socket back until it returns: a
/// SUBSCRIBE sent at once could become readable after a PUBLISH sent behind it on another
/// socket, and the broker would rightly read the PUBLISH first.
fn settle() {
    std::thread::sleep(Duration::from_micros(500));
}

/// Runs one pair's rounds; returns what went wrong, one line each.
fn pair(port: u16, n: usize) -> Vec<String> {
    pin_to_cpu(n);
    let mut misses = Vec::new();
    let mut sub = client(port, &format!("order-sub-{n}"));
    let mut publ = client(port, &format!("order-pub-{n}"));
    let marker = format!("order/{n}/marker");
    sub.write_all(&subscribe(1, &marker)).unwrap();
    assert_eq!(read_packet(&mut sub).map(|p| p.0), Some(0x90), "SUBACK");
    for round in 0..ROUNDS {
        let topic = format!("order/{n}/{round}");
        let id = (round % 60000) as u16 + 2;
        // SUBSCRIBE, then PUBLISH: delivered.
        settle();
        sub.write_all(&subscribe(id, &topic)).unwrap();
        publ.write_all(&publish(&topic, "after-subscribe")).unwrap();
        assert_eq!(read_packet(&mut sub).map(|p| p.0), Some(0x90), "SUBACK");
        match read_packet(&mut sub) {
            Some((0x30, body)) => {
                assert_eq!(
                    topic_payload(&body),
                    (topic.clone(), "after-subscribe".into())
                );
            }
            other => misses.push(format!(
                "pair {n} round {round}: PUBLISH after SUBSCRIBE not delivered ({other:?})"
            )),
        }
        // UNSUBSCRIBE, then PUBLISH: not delivered.
        settle();
        sub.write_all(&unsubscribe(id, &topic)).unwrap();
        publ.write_all(&publish(&topic, "after-unsubscribe"))
            .unwrap();
        loop {
            match read_packet(&mut sub) {
                Some((0xb0, _)) => break,
                Some((0x30, body)) => misses.push(format!(
                    "pair {n} round {round}: delivered after UNSUBSCRIBE: {:?}",
                    topic_payload(&body)
                )),
                other => panic!("pair {n} round {round}: expected UNSUBACK, got {other:?}"),
            }
        }
        publ.write_all(&publish(&marker, "mark")).unwrap();
        loop {
            match read_packet(&mut sub) {
                Some((0x30, body)) => {
                    let (t, p) = topic_payload(&body);
                    if t == marker {
                        break;
                    }
                    misses.push(format!(
                        "pair {n} round {round}: delivered after UNSUBSCRIBE: {t} {p}"
                    ));
                }
                other => panic!("pair {n} round {round}: expected the marker, got {other:?}"),
            }
        }
    }
    misses
}

#[test]
fn subscribe_and_unsubscribe_apply_to_a_publish_read_after_them() {
    let broker = TestBroker::mq(Conf::new().quiet());
    let port = broker.port();
    let pairs: Vec<_> = (0..PAIRS)
        .map(|n| std::thread::spawn(move || pair(port, n)))
        .collect();
    let misses: Vec<String> = pairs
        .into_iter()
        .flat_map(|p| p.join().expect("pair thread"))
        .collect();
    assert!(
        misses.is_empty(),
        "{} of {} rounds out of order:\n{}",
        misses.len(),
        PAIRS * ROUNDS * 2,
        misses.join("\n")
    );
}
