//! MQTT over WebSockets: `mq broker`'s websockets listeners (ws and wss) with `mq pub/sub`,
//! paho-mqtt's WebSockets transport, and bad input at every layer (HTTP upgrade, frames).
//!
//! Debian's mosquitto 2.0.11 is built without WebSockets (a `protocol websockets` listener
//! makes it exit with "Unable to start any listening sockets"), so `mq sub -L ws://` is tested
//! against `mq broker`, with paho-mqtt as the independent peer.

mod common;

use common::PATIENCE;
use common::pki::Pki;
use common::web::{
    RawWs, UPGRADE, http, http_raw, logged, masked_frame, password_file, web_broker,
};
use common::{ChildGuard, mq, mq_process, publish_packet};
use common::{Peer, require};
use mq::protocol::{Packet, QoS};
use std::time::Duration;

const MQTT: &str = "";
const WS: &str = "protocol websockets";

/// `mq sub ARGS -v`, its output collected line by line.
fn sub(args: &[&str]) -> ChildGuard {
    let mut cmd = mq_process();
    cmd.arg("sub").args(args).args(["-v", "-W", "20"]);
    ChildGuard::spawn(&mut cmd)
}

/// The first `n` lines `child` printed, once there are that many.
fn lines(child: &ChildGuard, n: usize) -> Vec<String> {
    let enough = child.stdout.wait_until(PATIENCE, |l| l.len() >= n);
    assert!(enough, "{n} lines expected, got {:?}", child.stdout.lines());
    child.stdout.lines()[..n].to_vec()
}

#[test]
fn pub_and_sub_speak_mqtt_over_ws_urls_and_the_ws_flag() {
    let b = web_broker(&[MQTT, WS], "allow_anonymous true\n");
    let (tcp, ws) = (b.ports()[0].to_string(), b.ports()[1]);
    // Retained first: once it arrives the subscriber is known to be subscribed.
    mq().args(["pub", "-p", &tcp, "-t", "t/ready", "-m", "r", "-r"])
        .assert()
        .success();
    let url = format!("ws://127.0.0.1:{ws}/mqtt/t/#");
    let sub = sub(&["-L", &url]);
    assert_eq!(lines(&sub, 1), ["t/ready r"]);
    // Over TCP, over --ws with -h -p, over a ws:// URL with QoS 2: all reach the WS subscriber.
    mq().args(["pub", "-p", &tcp, "-t", "t/tcp", "-m", "1"])
        .assert()
        .success();
    mq().args(["pub", "--ws", "-h", "127.0.0.1", "-p", &ws.to_string()])
        .args(["-t", "t/flag", "-m", "2", "-q", "1"])
        .assert()
        .success();
    let url = format!("ws://127.0.0.1:{ws}/any/t/url");
    mq().args(["pub", "-L", &url, "--ws-path", "/any", "-m", "3", "-q", "2"])
        .assert()
        .success();
    assert_eq!(lines(&sub, 4)[1..], ["t/tcp 1", "t/flag 2", "t/url 3"]);
    assert!(logged(&b, &["New client connected from 127.0.0.1"]));
}

#[test]
fn wss_listener_uses_the_listener_certificate_and_client_tls_options() {
    let pki = Pki::new();
    let cert = pki.path("server.pem").display().to_string();
    let key = pki.path("server.key").display().to_string();
    let wss = format!("protocol websockets\ncertfile {cert}\nkeyfile {key}");
    let b = web_broker(&[MQTT, &wss], "allow_anonymous true\n");
    let port = b.ports()[1];
    let ca = pki.path("ca.pem").display().to_string();
    mq().args([
        "pub",
        "-p",
        &b.ports()[0].to_string(),
        "-t",
        "s/1",
        "-m",
        "secure",
        "-r",
    ])
    .assert()
    .success();
    let url = format!("wss://localhost:{port}/mqtt/s/1");
    let sub = sub(&["-L", &url, "--cafile", &ca, "-C", "1"]);
    assert_eq!(lines(&sub, 1), ["s/1 secure"]);
    // Plain WebSockets on the wss port: a TLS handshake failure, logged, nothing served.
    let out = mq()
        .args(["pub", "--ws", "-p", &port.to_string(), "-t", "x", "-m", "y"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(logged(&b, &["TLS handshake"]), "{}", b.log());
    // Without the CA the client refuses the server, in words.
    let out = mq()
        .args([
            "pub",
            "-L",
            &format!("wss://localhost:{port}/mqtt/x"),
            "-m",
            "y",
        ])
        .args(["--cafile", &pki.path("ca2.pem").display().to_string()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("TLS") || err.contains("certificate"), "{err}");
}

#[test]
fn passwords_and_listener_limits_apply_over_websockets() {
    let dir = tempfile::tempdir().unwrap();
    let pw = password_file(dir.path(), "web", "web-pw");
    let b = web_broker(
        &[WS, "protocol websockets\nmax_connections 1"],
        &format!("allow_anonymous false\npassword_file {}\n", pw.display()),
    );
    let url = |cred: &str| format!("ws://{cred}127.0.0.1:{}/mqtt/a", b.ports()[0]);
    mq().args(["pub", "-L", &url("web:web-pw@"), "-m", "ok"])
        .assert()
        .success();
    let bad = mq()
        .args(["pub", "-L", &url("web:nope@"), "-m", "no"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(5), "bad password is CONNACK 5");
    let anon = mq()
        .args(["pub", "-L", &url(""), "-m", "no"])
        .output()
        .unwrap();
    assert_eq!(anon.status.code(), Some(5), "anonymous is CONNACK 5");
    // max_connections counts WebSocket connections like TCP ones.
    let held = RawWs::open(b.ports()[1], UPGRADE);
    assert!(held.is_ok());
    let port = b.ports()[1].to_string();
    let second = mq()
        .args(["pub", "--ws", "-p", &port, "-u", "web", "-P", "web-pw"])
        .args(["-t", "a", "-m", "b"])
        .output()
        .unwrap();
    assert!(!second.status.success());
    assert!(logged(&b, &["max_connections exceeded"]));
}

#[test]
fn paho_mqtt_websockets_transport_talks_to_mq_broker() {
    if !require(&[Peer::Paho]) {
        return;
    }
    let b = web_broker(&[MQTT, WS], "allow_anonymous true\n");
    let args = [
        b.ports()[1].to_string(),
        b.ports()[0].to_string(),
        common::mq_path().display().to_string(),
    ];
    common::run_paho_script("paho_websockets.py", 60, &args, &b.log());
}

#[test]
fn bad_upgrades_are_refused_with_their_status_and_a_log_line() {
    let b = web_broker(&[WS], "allow_anonymous true\n");
    let port = b.ports()[0];
    let mut bystander = bystander(port);

    let cases: &[(&str, u16, &str)] = &[
        // No key.
        (
            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n",
            400,
            "Sec-WebSocket-Key",
        ),
        // Another protocol version.
        (
            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
            426,
            "version 8",
        ),
        // A subprotocol that is not MQTT.
        (
            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: chat\r\n",
            400,
            "subprotocol chat",
        ),
    ];
    for (headers, status, words) in cases {
        let answer = RawWs::open(port, headers).err().expect("refused");
        assert_eq!(answer.status, *status, "{headers}");
        assert!(
            logged(&b, &["refused: WebSocket upgrade", words]),
            "{}",
            b.log()
        );
    }
    // POST with an upgrade: 405.
    let answer = http(port, "POST", "/mqtt", &[UPGRADE.trim_end()]);
    assert_eq!(answer.status, 405);
    // Plain GET without http_dir: 426 Upgrade Required, and it says what the port is.
    let answer = http(port, "GET", "/index.html", &[]);
    assert_eq!(answer.status, 426);
    assert!(
        answer.text().contains("MQTT over WebSockets"),
        "{}",
        answer.text()
    );
    assert!(logged(&b, &["HTTP GET /index.html answered 426"]));
    // Not HTTP at all: 400. Too large a head: 431.
    assert_eq!(
        http_raw(port, b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c").status,
        400
    );
    let big = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(9000));
    assert_eq!(http_raw(port, big.as_bytes()).status, 431);
    still_served(&mut bystander, port);
}

#[test]
fn bad_frames_close_with_their_code_and_a_log_line() {
    let b = web_broker(&[WS], "allow_anonymous true\nmax_packet_size 1000\n");
    let port = b.ports()[0];
    let mut bystander = bystander(port);

    let mut text = RawWs::mqtt(port, "texter");
    text.send(1, b"hello");
    assert_eq!(text.close_code(), Some(1003));
    assert!(
        logged(&b, &["Client texter", "[MQTT-6.0.0-1]"]),
        "{}",
        b.log()
    );

    let mut big = RawWs::mqtt(port, "big");
    big.send(2, &[0u8; 2000]);
    assert_eq!(big.close_code(), Some(1009));
    assert!(logged(&b, &["Client big", "1009"]), "{}", b.log());

    let mut unmasked = RawWs::mqtt(port, "unmasked");
    unmasked.send_raw(&[0x82, 0x02, 0xc0, 0x00]);
    assert_eq!(unmasked.close_code(), Some(1002));

    // A frame split in the middle of its header is put back together: PINGREQ, PINGRESP.
    let mut split = RawWs::mqtt(port, "split");
    let ping = masked_frame(2, &[0xc0, 0x00]);
    split.send_raw(&ping[..1]);
    std::thread::sleep(Duration::from_millis(200));
    split.send_raw(&ping[1..]);
    assert_eq!(split.frame(), Some((2, vec![0xd0, 0x00])));
    // Cut off mid-header for good: the connection ends, logged like any closed socket.
    split.send_raw(&masked_frame(2, &[0xc0, 0x00])[..3]);
    drop(split);
    assert!(logged(&b, &["Client split"]), "{}", b.log());
    still_served(&mut bystander, port);
}

fn subscribe(filter: &str) -> Packet {
    Packet::Subscribe(mq::protocol::Subscribe {
        packet_id: common::pid(1),
        subscriptions: vec![mq::protocol::Subscription {
            filter: mq::topic::TopicFilter::new(filter).unwrap(),
            options: Default::default(),
        }],
        properties: Default::default(),
    })
}

/// A client connected and subscribed to `b/#` before the bad input.
fn bystander(port: u16) -> RawWs {
    let mut c = RawWs::mqtt(port, "bystander");
    c.send_packet(&subscribe("b/#"));
    assert_eq!(c.frame().unwrap().1[0], 0x90, "SUBACK");
    c
}

/// The bystander, connected before the bad input, still gets what is published.
fn still_served(bystander: &mut RawWs, port: u16) {
    let mut publisher = RawWs::mqtt(port, "after");
    publisher.send_packet(&publish_packet(
        "b/x",
        b"still here",
        QoS::AtMostOnce,
        false,
        0,
    ));
    let (op, payload) = bystander.frame().expect("delivery to the bystander");
    assert_eq!(op, 2);
    assert!(payload.ends_with(b"still here"), "{payload:?}");
}

#[test]
fn http_dir_serves_files_and_nothing_outside() {
    let root = tempfile::tempdir().unwrap();
    let www = root.path().join("www");
    std::fs::create_dir(&www).unwrap();
    std::fs::write(www.join("index.html"), "<p>hello from http_dir</p>").unwrap();
    std::fs::write(root.path().join("secret.txt"), "top secret").unwrap();
    let ws = format!("protocol websockets\nhttp_dir {}", www.display());
    let b = web_broker(&[&ws], "allow_anonymous true\n");
    let port = b.ports()[0];
    let page = http(port, "GET", "/", &[]);
    assert_eq!(page.status, 200);
    assert!(page.head.contains("content-type: text/html"));
    assert_eq!(page.text(), "<p>hello from http_dir</p>");
    for path in [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/nope",
    ] {
        let a = http(port, "GET", path, &[]);
        assert_eq!(a.status, 404, "{path}");
        assert!(!a.text().contains("top secret"));
    }
    assert_eq!(http(port, "DELETE", "/", &[]).status, 405);
    // The same port still upgrades.
    let mut c = RawWs::mqtt(port, "web-and-mqtt");
    c.send_packet(&Packet::PingReq);
    assert_eq!(c.frame(), Some((2, vec![0xd0, 0x00])));
}
