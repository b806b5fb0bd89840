//! What an attacker or a careless operator meets, with the real binary: `$SYS` belongs to the
//! broker, oversize publishes are refused from their head and never held, password files are
//! read line by line as mosquitto reads them, and config errors name value, line and reason.

mod common;

use common::*;
use mq::broker::security::password::{DEFAULT_ITERATIONS, Hash, HashKind};
use mq::protocol::{Packet, QoS, ReasonCode, Version};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

fn addr(b: &TestBroker) -> SocketAddr {
    b.addr
}

async fn v5(addr: SocketAddr, id: &str) -> RawClient {
    let (c, ack) = RawClient::connect_with(addr, connect_packet(id, true, 60, Version::V5)).await;
    assert_eq!(ack.reason, ReasonCode::Success);
    c
}

/// Writes a store holding what an older broker let in: a client's retained `$SYS` message.
async fn store_with_sys_message(path: &std::path::Path) {
    use mq::broker::store::{self, StoreOp};
    let (db, _) = store::open(path).expect("store");
    let log = mq::broker::log::Log(Default::default());
    let (tx, writer) = store::start(db, path.to_path_buf(), log);
    for (topic, payload) in [
        ("$SYS/broker/uptime", "999999 seconds"),
        ("keep/me", "kept"),
    ] {
        tx.send(StoreOp::Retain(std::sync::Arc::new(
            mq::session::Message::new(
                topic.parse().unwrap(),
                payload.as_bytes().to_vec().into(),
                QoS::AtLeastOnce,
                true,
                Default::default(),
            ),
        )));
    }
    tx.barrier().await.expect("committed");
    tx.close().await;
    writer.join().unwrap();
}

#[tokio::test]
async fn sys_topics_belong_to_the_broker() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    store_with_sys_message(&data.join("mq.db")).await;
    let extra = format!(
        "persistence true\npersistence_location {}\nsys_interval 0",
        data.display()
    );
    let mut b = TestBroker::mq(Conf::new().line(&extra));
    assert!(
        b.log().contains("removed 1 retained $SYS messages"),
        "{}",
        b.log()
    );
    let mut watcher = RawClient::connect(addr(&b), "watcher", true).await;
    watcher.subscribe("$SYS/#", QoS::AtLeastOnce).await;
    let mut v5c = v5(addr(&b), "intruder5").await;
    for qos in [QoS::AtLeastOnce, QoS::AtMostOnce, QoS::AtLeastOnce] {
        let p = publish_packet("$SYS/broker/uptime", b"999999 seconds", qos, true, 3);
        v5c.send(&p).await;
        if qos == QoS::AtLeastOnce {
            match v5c.recv().await {
                Some(Packet::PubAck(a)) => assert_eq!(a.reason, ReasonCode::NotAuthorized),
                other => panic!("expected PUBACK 0x87, got {other:?}"),
            }
        }
    }
    // A will cannot write there either.
    let mut with_will = match connect_packet("willing", true, 60, Version::V311) {
        Packet::Connect(c) => c,
        _ => unreachable!(),
    };
    with_will.will = Some(mq::protocol::Will {
        topic: "$SYS/broker/version".parse().unwrap(),
        payload: bytes::Bytes::from_static(b"pwned"),
        qos: QoS::AtLeastOnce,
        retain: true,
        properties: Default::default(),
    });
    let (willing, _) = RawClient::connect_with(addr(&b), Packet::Connect(with_will)).await;
    drop(willing);
    let mut v3c = RawClient::connect(addr(&b), "intruder3", true).await;
    v3c.publish(
        "$SYS/broker/clients/connected",
        b"0",
        QoS::AtLeastOnce,
        true,
    )
    .await;
    assert!(matches!(v3c.recv().await, Some(Packet::PubAck(_))));
    let got = watcher.recv_within(Duration::from_millis(500)).await;
    assert!(
        got.is_none(),
        "a $SYS message reached a subscriber: {got:?}"
    );
    let log = b.log();
    assert_eq!(
        log.matches("intruder5 published to '$SYS").count(),
        1,
        "{log}"
    );
    assert_eq!(
        log.matches("intruder3 published to '$SYS").count(),
        1,
        "{log}"
    );
    // Nothing of it was stored; what else the store held is still there.
    b.restart();
    let mut watcher = RawClient::connect(addr(&b), "watcher", true).await;
    watcher.subscribe("$SYS/#", QoS::AtLeastOnce).await;
    watcher.subscribe("#", QoS::AtLeastOnce).await;
    let kept = watcher.next_publish().await.expect("keep/me");
    assert_eq!(
        (kept.topic.as_str(), &kept.payload[..]),
        ("keep/me", &b"kept"[..])
    );
    let got = watcher.recv_within(Duration::from_millis(500)).await;
    assert!(got.is_none(), "{got:?}");
    assert!(!b.log().contains("removed"), "{}", b.log());
}

/// Peak resident memory of a process, in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

/// Sends the head of a QoS 1 PUBLISH announcing `size` bytes of payload, then the payload in
/// 1 MiB pieces.
async fn stream_publish(c: &mut RawClient, topic: &str, size: usize) {
    let mut head = bytes::BytesMut::new();
    let id_len = 2;
    let props = usize::from(c.version == Version::V5);
    let remaining = 2 + topic.len() + id_len + props + size;
    head.extend_from_slice(&[0x32]);
    let mut n = remaining;
    loop {
        let byte = (n % 128) as u8;
        n /= 128;
        head.extend_from_slice(&[if n > 0 { byte | 0x80 } else { byte }]);
        if n == 0 {
            break;
        }
    }
    head.extend_from_slice(&(topic.len() as u16).to_be_bytes());
    head.extend_from_slice(topic.as_bytes());
    head.extend_from_slice(&5u16.to_be_bytes());
    if props == 1 {
        head.extend_from_slice(&[0]);
    }
    c.stream.write_all(&head).await.unwrap();
    let piece = vec![0u8; 1 << 20];
    for sent in (0..size).step_by(piece.len()) {
        let n = piece.len().min(size - sent);
        c.stream.write_all(&piece[..n]).await.unwrap();
    }
}

async fn still_connected(c: &mut RawClient) -> bool {
    c.send(&Packet::PingReq).await;
    matches!(c.recv().await, Some(Packet::PingResp))
}

#[tokio::test]
async fn oversize_publish_is_skipped_unread_and_answered() {
    let b = TestBroker::mq(Conf::new().line("message_size_limit 1048576\nsys_interval 1"));
    let mut sub = RawClient::connect(addr(&b), "sub", true).await;
    sub.subscribe("big/#", QoS::AtLeastOnce).await;
    let before = peak_rss(b.pid());
    const BIG: usize = 96 << 20;
    let mut c5 = v5(addr(&b), "big5").await;
    stream_publish(&mut c5, "big/v5", BIG).await;
    match c5.recv_within(Duration::from_secs(30)).await {
        Some(Packet::PubAck(a)) => assert_eq!(a.reason, ReasonCode::QuotaExceeded),
        other => panic!("expected PUBACK 0x97, got {other:?}; log:\n{}", b.log()),
    }
    assert!(still_connected(&mut c5).await);
    // One byte over, arriving with its head or just after it: the same answer.
    for size in [1048577, 1048577 + 4096] {
        stream_publish(&mut c5, "big/edge", size).await;
        let ack = c5.recv().await;
        assert!(
            matches!(&ack, Some(Packet::PubAck(a)) if a.reason == ReasonCode::QuotaExceeded),
            "{ack:?}"
        );
    }
    let mut c3 = RawClient::connect(addr(&b), "big3", true).await;
    stream_publish(&mut c3, "big/v3", BIG / 4).await;
    assert!(matches!(
        c3.recv_within(Duration::from_secs(30)).await,
        Some(Packet::PubAck(_))
    ));
    assert!(still_connected(&mut c3).await);
    // The broker stayed responsive, delivered nothing oversize, and held none of it.
    c3.publish("big/small", b"fits", QoS::AtLeastOnce, false)
        .await;
    let got = sub.next_publish().await.expect("the small message");
    assert_eq!(got.topic.as_str(), "big/small");
    let grew = peak_rss(b.pid()).saturating_sub(before);
    assert!(grew < 32 << 20, "the broker grew by {} MiB", grew >> 20);
    let log = b.log();
    assert!(
        log.contains("big5 sent a PUBLISH to 'big/v5' with"),
        "{log}"
    );
    assert!(
        log.contains("over message_size_limit 1048576: dropped unread"),
        "{log}"
    );
    sub.subscribe("$SYS/broker/packets/oversize", QoS::AtMostOnce)
        .await;
    let mut counted = false;
    while let Some(p) = sub.next_publish().await {
        if p.payload[..] == b"4"[..] {
            counted = true;
            break;
        }
    }
    assert!(counted, "$SYS/broker/packets/oversize never said 4");
}

#[tokio::test]
async fn packets_over_max_packet_size_are_refused_before_their_body() {
    let b = TestBroker::mq(Conf::new().line("max_packet_size 65536"));
    let mut c5 = v5(addr(&b), "huge5").await;
    // Only the fixed header of a 1 MB PUBLISH: the broker answers without waiting for more.
    c5.send_raw(&[0x30, 0x80, 0x80, 0x40]).await;
    match c5.recv().await {
        Some(Packet::Disconnect(d)) => assert_eq!(d.reason, ReasonCode::PacketTooLarge),
        other => panic!("expected DISCONNECT 0x95, got {other:?}"),
    }
    let mut c3 = RawClient::connect(addr(&b), "huge3", true).await;
    c3.send_raw(&[0x30, 0x80, 0x80, 0x40]).await;
    assert!(c3.closed_within(Duration::from_secs(3)).await);
    let mut ok = RawClient::connect(addr(&b), "after", true).await;
    assert!(still_connected(&mut ok).await);
    // With message_size_limit, a CONNECT far larger than any will it allows is refused from
    // its fixed header too: before authentication, nobody gets the broker to hold megabytes.
    let b = TestBroker::mq(Conf::new().line("message_size_limit 1000"));
    let mut anon = RawClient::open(addr(&b), Version::V311).await;
    anon.send_raw(&[0x10, 0x80, 0x80, 0x80, 0x02]).await; // a 4 MiB CONNECT
    assert!(anon.closed_within(Duration::from_secs(3)).await);
}

#[tokio::test]
async fn password_file_lines_are_judged_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("passwd");
    let hash = |p: &[u8]| Hash::new(HashKind::Sha512Pbkdf2, p, DEFAULT_ITERATIONS);
    let text = format!(
        "# users\nalice:{}\ncarol:plaintext\nerin:{}\nda:ve:$7$101$abc$def\nbob:{}\n",
        hash(b"secret"),
        hash(b""),
        hash(b"hunter2")
    );
    std::fs::write(&pw, text).unwrap();
    let b = TestBroker::mq(Conf::bare().line(&format!("password_file {}", pw.display())));
    let log = b.log();
    for needle in [
        "line 3: unknown hash type",
        "user 'carol' cannot log in",
        "line 5: unknown hash type",
        "user 'da' cannot log in",
    ] {
        assert!(log.contains(needle), "{needle}: {log}");
    }
    let at = addr(&b);
    let try_user = |user: &'static str, password: Option<&'static [u8]>| async move {
        let mut c = match connect_packet(user, true, 60, Version::V311) {
            Packet::Connect(c) => c,
            _ => unreachable!(),
        };
        c.username = Some(user.into());
        c.password = password.map(bytes::Bytes::from_static);
        RawClient::connect_with(at, Packet::Connect(c))
            .await
            .1
            .reason
    };
    assert_eq!(
        try_user("alice", Some(b"secret")).await,
        ReasonCode::Success
    );
    assert_eq!(try_user("bob", Some(b"hunter2")).await, ReasonCode::Success);
    for (user, password) in [
        ("carol", Some(&b"plaintext"[..])),
        ("erin", Some(&b""[..])),
        ("erin", None),
        ("da", Some(&b"ve:$7$101$abc$def"[..])),
    ] {
        let reason = try_user(user, password).await;
        assert!(reason.is_error(), "{user} {password:?} got in: {reason:?}");
    }
    // `mq passwd` refuses to write what the broker would refuse to accept.
    let out = mq()
        .args(["passwd", "-b"])
        .arg(&pw)
        .args(["erin", ""])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Empty password"));
}

/// Runs `mq broker -c FILE` on `text`; returns the exit status code and stderr.
fn broker_with(text: &[u8]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("bad.conf");
    std::fs::write(&conf, text).unwrap();
    let out = mq()
        .args(["broker", "-c"])
        .arg(&conf)
        .timeout(Duration::from_secs(10))
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn config_errors_name_the_value_the_line_and_the_reason() {
    let cases: [(&[u8], &str); 4] = [
        (
            b"# ports\nallow_anonymous true\n\nlistener 99999\n",
            "bad.conf:4: port 99999 is out of range 1-65535",
        ),
        (
            b"listener 1883 127.0.0.1\n#\n\n\nlistener 1883 300.1.2.3\n",
            "bad.conf:5: cannot listen on 300.1.2.3:1883: not an IPv4 or IPv6 address",
        ),
        (
            b"listener 0\n",
            "bad.conf:1: port 0 is out of range 1-65535",
        ),
        (
            b"# fine\nauto_id_prefix caf\xe9\n",
            "bad.conf:2: not valid UTF-8",
        ),
    ];
    for (text, expected) in cases {
        let (code, err) = broker_with(text);
        assert_eq!(code, Some(1), "{err}");
        assert!(err.contains(expected), "expected {expected:?} in {err:?}");
    }
}

#[test]
fn comments_may_hold_any_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let conf = dir.path().join("latin1.conf");
    let mut bytes = b"# caf\xe9, written in Latin-1 \xff\n".to_vec();
    bytes.extend(format!("listener {port} 127.0.0.1\n").as_bytes());
    std::fs::write(&conf, bytes).unwrap();
    let mut b = ChildGuard::spawn(mq_process().args(["broker", "-c"]).arg(&conf));
    assert!(
        b.stderr.wait_until(PATIENCE, |lines| lines
            .iter()
            .any(|l| l.ends_with(" running"))),
        "{}",
        b.stderr.text()
    );
    b.signal(libc::SIGTERM);
    assert_eq!(b.wait_timeout(PATIENCE).and_then(|s| s.code()), Some(0));
}
