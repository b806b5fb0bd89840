//! `mq broker` stops when asked: SIGTERM and SIGINT end it with status 0 in every
//! configuration (with and without persistence, with TLS, with bridges connected or retrying,
//! with WebSockets and HTTP listeners), after publishing the wills of the
//! connections it closes and committing the store; a second signal cuts shutdown short.

mod common;

use common::pki::Pki;
use common::*;
use std::process::Command;
use std::time::Duration;

/// Shutdown's own bounds add up to 3 + 5 s; a healthy shutdown takes milliseconds.
const EXIT_BOUND: Duration = Duration::from_secs(10);

/// `mq sub` connected in the background as `id`, with a QoS 1 retained will on `will/<id>`.
fn client(port: u16, id: &str, extra: &[&str]) -> ChildGuard {
    let will = format!("will/{id}");
    let mut cmd = Command::new(mq_path());
    cmd.args(["sub", "-h", "127.0.0.1", "-p", &port.to_string(), "-i", id])
        .args([
            "-t",
            "idle/#",
            "--will-topic",
            &will,
            "--will-payload",
            "gone",
        ])
        .args(["--will-qos", "1", "--will-retain"])
        .args(extra);
    ChildGuard::spawn(&mut cmd)
}

/// Runs `mq sub` to completion (bounded by -C/-W/-E) and returns its output.
fn sub(port: u16, args: &[&str]) -> String {
    let out = mq()
        .args(["sub", "-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .timeout(Duration::from_secs(15))
        .output()
        .expect("mq sub");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Sends `sig` and asserts a clean exit within the bound.
fn stop_cleanly(b: &mut TestBroker, sig: i32, what: &str) {
    b.signal(sig);
    let Some(status) = b.wait_exit(EXIT_BOUND) else {
        panic!(
            "{what}: still running {EXIT_BOUND:?} after signal {sig}; log:\n{}",
            b.log()
        );
    };
    assert_eq!(
        status.code(),
        Some(0),
        "{what}: {status}; log:\n{}",
        b.log()
    );
    assert!(b.log().contains("terminating"), "{what}: {}", b.log());
}

#[test]
fn sigterm_and_sigint_exit_0_with_and_without_persistence_and_with_tls() {
    let pki = Pki::new();
    let tls = format!(
        "certfile {}\nkeyfile {}\n",
        pki.path("server.pem").display(),
        pki.path("server.key").display()
    );
    let ca = pki.path("ca.pem").display().to_string();
    let cases = [
        ("plain", false, false, libc::SIGTERM),
        ("persistence", true, false, libc::SIGTERM),
        ("persistence, SIGINT", true, false, libc::SIGINT),
        ("tls", false, true, libc::SIGTERM),
        ("tls, persistence", true, true, libc::SIGTERM),
    ];
    for (what, persistence, with_tls, sig) in cases {
        let dir = tempfile::tempdir().unwrap();
        let mut conf = Conf::new();
        if persistence {
            let store = dir.path().join("data");
            conf = conf.line(&format!(
                "persistence true\npersistence_location {}",
                store.display()
            ));
        }
        if with_tls {
            conf = conf.listener().line(&tls);
        }
        let mut b = TestBroker::mq(conf);
        let port = *b.ports().last().unwrap();
        let tls_args: &[&str] = if with_tls { &["--cafile", &ca] } else { &[] };
        let _clients = [
            client(port, "v311", tls_args),
            client(port, "v5", &[tls_args, &["-V", "5"]].concat()),
        ];
        b.wait_log("as v311 (");
        b.wait_log("as v5 (");
        stop_cleanly(&mut b, sig, what);
    }
}

#[test]
fn wills_of_closed_connections_are_published_and_stored_before_exit() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("data");
    let conf = format!("persistence true\npersistence_location {}", store.display());
    let mut b = TestBroker::mq(Conf::new().line(&conf));
    // A persistent session waiting offline for the will.
    let keeper = ["-c", "-i", "keeper", "-q", "1", "-t", "will/#"];
    assert_eq!(sub(b.port(), &[&keeper[..], &["-E"]].concat()), "");
    let _dying = client(b.port(), "dying", &[]);
    b.wait_log("as dying (");
    stop_cleanly(&mut b, libc::SIGTERM, "with a will pending");
    b.kill();
    b.start_again();
    let queued = sub(
        b.port(),
        &[&keeper[..], &["-C", "1", "-W", "5", "-v"]].concat(),
    );
    assert_eq!(queued, "will/dying gone\n", "{}", b.log());
    let retained = sub(b.port(), &["-t", "will/#", "-C", "1", "-W", "5", "-v"]);
    assert_eq!(retained, "will/dying gone\n");
}

#[test]
fn a_second_signal_exits_at_once() {
    let mut b = TestBroker::mq(Conf::new());
    // A subscriber that never reads: once its socket is full, the broker's goodbye to it
    // waits (for a bounded time) and shutdown with it.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let addr = b.addr;
    let _stuck = rt.block_on(async {
        let mut c = RawClient::connect(addr, "stuck", true).await;
        c.subscribe("flood", mq::protocol::QoS::AtMostOnce).await;
        let mut p = RawClient::connect(addr, "flooder", true).await;
        let big = vec![b'x'; 256 * 1024];
        for _ in 0..200 {
            p.publish("flood", &big, mq::protocol::QoS::AtMostOnce, false)
                .await;
        }
        p.send(&mq::protocol::Packet::PingReq).await;
        assert!(matches!(
            p.recv_within(Duration::from_secs(30)).await,
            Some(mq::protocol::Packet::PingResp)
        ));
        c
    });
    b.signal(libc::SIGTERM);
    b.wait_log("terminating");
    std::thread::sleep(Duration::from_millis(200));
    b.signal(libc::SIGTERM);
    let status = b.wait_exit(EXIT_BOUND).expect("exits");
    let log = b.log();
    assert!(log.contains("Second signal: exiting now"), "{log}");
    assert_eq!(status.code(), Some(1), "{log}");
}

#[test]
fn sigterm_exits_0_with_bridges_up_or_retrying_and_web_listeners() {
    if !require(&[Peer::Mosquitto]) {
        return;
    }
    let remote = TestBroker::mosquitto(Conf::new());
    // A port nothing listens on: that bridge sits in its reconnect wait when the signal comes.
    let nowhere = free_port();
    for (what, port) in [
        ("bridge connected", remote.port()),
        ("bridge retrying", nowhere),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let conf = Conf::new()
            .line(&format!(
                "persistence true\npersistence_location {}",
                dir.path().join("data").display()
            ))
            .listener()
            .line("protocol websockets")
            .listener()
            .line("protocol http_api")
            .line(&format!(
                "connection edge\naddress 127.0.0.1:{port}\ntopic sensors/# both 1\nrestart_timeout 30"
            ));
        let mut b = TestBroker::mq(conf);
        if port == remote.port() {
            b.wait_log("edge");
            assert!(
                remote
                    .log_lines()
                    .wait_until(PATIENCE, |l| l.iter().any(|l| l.contains("sensors/#"))),
                "the bridge subscribed on mosquitto"
            );
        }
        stop_cleanly(&mut b, libc::SIGTERM, what);
    }
}
