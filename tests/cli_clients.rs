//! `mq pub`/`mq sub` behaviour beyond the differential table: extensions (`--json`,
//! `--pw-file`, `MQ_PASSWORD`, `mq/` options files), TLS, `-l` surviving a broker restart,
//! broken pipes.

mod common;

use common::pki::Pki;
use common::{ChildGuard, Conf, Peer, TestBroker, require};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn mq(home: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mq"));
    c.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env_remove("MQ_PASSWORD");
    c
}

fn sub_output(port: u16, args: &[&str]) -> Output {
    Command::new("mosquitto_sub")
        .args(["-p", &port.to_string()])
        .args(args)
        .output()
        .expect("mosquitto_sub")
}

#[test]
fn json_lines_embed_json_keep_text_and_base64_binary() {
    if !require(&[Peer::Mosquitto]) {
        return;
    }
    let b = TestBroker::mosquitto(Conf::new());
    let home = tempfile::tempdir().unwrap();
    let p = b.port().to_string();
    let bin = home.path().join("bin");
    std::fs::write(&bin, b"\x00\xff").unwrap();
    for args in [
        vec!["-t", "j/1", "-m", "{\"t\": 21.5}", "-r"],
        vec!["-t", "j/2", "-m", "plain text", "-r"],
        vec!["-t", "j/3", "-f", bin.to_str().unwrap(), "-r"],
    ] {
        assert!(
            mq(home.path())
                .arg("pub")
                .args(["-p", &p])
                .args(&args)
                .status()
                .unwrap()
                .success()
        );
    }
    let out = mq(home.path())
        .args(["sub", "-p", &p, "-t", "j/#", "-C", "3", "--json"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("{\"tst\":\""));
    assert!(
        lines[0].ends_with(
            "\"topic\":\"j/1\",\"qos\":0,\"retain\":1,\"payloadlen\":11,\"payload\":{\"t\":21.5}}"
        ),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].ends_with("\"payload\":\"plain text\"}"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].ends_with("\"payloadlen\":2,\"encoding\":\"base64\",\"payload\":\"AP8=\"}"),
        "{}",
        lines[2]
    );
}

#[test]
fn options_file_is_read_before_the_command_line() {
    if !require(&[Peer::Mosquitto]) {
        return;
    }
    let b = TestBroker::mosquitto(Conf::new());
    let home = tempfile::tempdir().unwrap();
    let cfg = home.path().join(".config");
    std::fs::create_dir_all(cfg.join("mq")).unwrap();
    std::fs::write(
        cfg.join("mq/pub"),
        format!("# defaults\n-p {}\n-t opt/topic\n-r\n", b.port()),
    )
    .unwrap();
    // mosquitto's own file name works too.
    std::fs::write(
        cfg.join("mosquitto_sub"),
        format!("-p {}\n-t opt/#\n", b.port()),
    )
    .unwrap();
    assert!(
        mq(home.path())
            .args(["pub", "-m", "from options"])
            .status()
            .unwrap()
            .success()
    );
    // The command line still wins over the file.
    assert!(
        mq(home.path())
            .args(["pub", "-m", "other", "-t", "opt/cli"])
            .status()
            .unwrap()
            .success()
    );
    let out = mq(home.path())
        .args(["sub", "-C", "2", "-v"])
        .output()
        .unwrap();
    let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect();
    lines.sort();
    assert_eq!(lines, ["opt/cli other", "opt/topic from options"]);
}

#[test]
fn help_exits_1_like_mosquitto() {
    let home = tempfile::tempdir().unwrap();
    for tool in ["pub", "sub", "rr"] {
        let out = mq(home.path()).args([tool, "--help"]).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stdout).contains("--topic"));
        let out = mq(home.path()).args([tool, "--version"]).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stdout).starts_with(&format!("mq {tool} version ")));
    }
}

#[test]
fn passwords_come_from_a_file_or_the_environment() {
    if !require(&[Peer::Mosquitto, Peer::MosquittoPasswd]) {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let pw = home.path().join("passwd");
    assert!(
        Command::new("mosquitto_passwd")
            .args(["-c", "-b"])
            .arg(&pw)
            .args(["alice", "s3cret"])
            .status()
            .unwrap()
            .success()
    );
    let b = TestBroker::mosquitto(Conf::bare().line(&format!(
        "allow_anonymous false\npassword_file {}",
        pw.display()
    )));
    let p = b.port().to_string();
    let secret = home.path().join("secret");
    std::fs::write(&secret, "s3cret\n").unwrap();
    let base = ["pub", "-p", &p, "-t", "a", "-m", "x", "-u", "alice"];
    let st = mq(home.path())
        .args(base)
        .arg("--pw-file")
        .arg(&secret)
        .status()
        .unwrap();
    assert_eq!(st.code(), Some(0));
    let st = mq(home.path())
        .args(base)
        .env("MQ_PASSWORD", "s3cret")
        .status()
        .unwrap();
    assert_eq!(st.code(), Some(0));
    let out = mq(home.path())
        .args(base)
        .env("MQ_PASSWORD", "wrong")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Connection error: Connection Refused: not authorised.\n"
    );
}

#[test]
fn a_closed_stdout_ends_sub_with_status_0() {
    if !require(&[Peer::Mosquitto, Peer::MosquittoClients]) {
        return;
    }
    let b = TestBroker::mosquitto(Conf::new());
    let home = tempfile::tempdir().unwrap();
    let p = b.port().to_string();
    let mut child = mq(home.path())
        .args(["sub", "-p", &p, "-t", "bp/#"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    b.wait_subscribed("bp/#");
    for _ in 0..3 {
        Command::new("mosquitto_pub")
            .args(["-p", &p, "-t", "bp/x", "-m", "hello"])
            .status()
            .unwrap();
    }
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "mq sub did not stop on a broken pipe"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
}

#[test]
fn wiping_retained_messages_exits_0_once_acknowledged() {
    if !require(&[Peer::Mosquitto, Peer::MosquittoClients]) {
        return;
    }
    let b = TestBroker::mosquitto(Conf::new());
    let home = tempfile::tempdir().unwrap();
    let p = b.port().to_string();
    for t in ["w/1", "w/2", "w/3"] {
        Command::new("mosquitto_pub")
            .args(["-p", &p, "-t", t, "-m", "old", "-r"])
            .status()
            .unwrap();
    }
    let out = mq(home.path())
        .args([
            "sub",
            "-p",
            &p,
            "-t",
            "w/#",
            "--remove-retained",
            "--retained-only",
            "-W",
            "5",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, b"old\nold\nold\n");
    assert_eq!(sub_output(b.port(), &["-t", "w/#", "-W", "1"]).stdout, b"");
}

#[test]
fn line_mode_reconnects_after_a_broker_restart() {
    if !require(&[Peer::Mosquitto, Peer::MosquittoClients]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut broker = TestBroker::mosquitto(Conf::new());
    let p = broker.port().to_string();
    // -d prints each acknowledgement the publisher gets.
    let mut publisher = ChildGuard::spawn(
        mq(dir.path())
            .args([
                "pub", "-p", &p, "-t", "lines/x", "-l", "-q", "1", "--quiet", "-d",
            ])
            .stdin(Stdio::piped()),
    );
    let mut stdin = publisher.stdin();
    writeln!(stdin, "before").unwrap();
    // Acknowledged before the broker goes away, so it is not sent again after the restart.
    publisher.stdout.wait_for("received PUBACK");
    broker.kill();
    // Lines written while the broker is down must not be lost.
    writeln!(stdin, "during").unwrap();
    assert!(
        common::wait_drained(&stdin),
        "the publisher never read the line"
    );
    broker.start_again();
    let observer = ChildGuard::spawn(
        Command::new("mosquitto_sub")
            .args(["-p", &p, "-t", "lines/#", "-C", "2", "-W", "8", "-q", "1"]),
    );
    // The observer subscribes before the publisher's next reconnection attempt (1 s).
    broker.wait_subscribed("lines/#");
    writeln!(stdin, "after").unwrap();
    drop(stdin);
    let (_, out) = observer.finish(Duration::from_secs(10));
    let status = publisher.wait_timeout(Duration::from_secs(10));
    drop(broker);
    assert_eq!(status.and_then(|s| s.code()), Some(0));
    assert_eq!(out, "during\nafter\n");
}

#[test]
fn tls_with_cafile_client_certificates_and_clear_errors() {
    if !require(&[Peer::Mosquitto]) {
        return;
    }
    let pki = Pki::new();
    let d = pki.dir.path();
    let conf = format!(
        "cafile {0}/ca.pem\ncertfile {0}/localhost.pem\nkeyfile {0}/localhost.key\nrequire_certificate true",
        d.display()
    );
    let b = TestBroker::mosquitto(Conf::new().line(&conf));
    let p = b.port().to_string();
    let f = |n: &str| d.join(n).display().to_string();
    let tls = [
        "--cafile",
        &f("ca.pem"),
        "--cert",
        &f("client.pem"),
        "--key",
        &f("client.key"),
    ];
    let sub = mq(d)
        .args([
            "sub",
            "-h",
            "localhost",
            "-p",
            &p,
            "-t",
            "tls/#",
            "-C",
            "1",
            "-W",
            "5",
        ])
        .args(tls)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    b.wait_subscribed("tls/#");
    let st = mq(d)
        .args([
            "pub",
            "-h",
            "localhost",
            "-p",
            &p,
            "-t",
            "tls/x",
            "-m",
            "secret",
            "-q",
            "1",
        ])
        .args(tls)
        .status()
        .unwrap();
    assert_eq!(st.code(), Some(0));
    assert_eq!(sub.wait_with_output().unwrap().stdout, b"secret\n");

    // By IP address the name does not match: refused, unless --insecure.
    let by_ip = ["pub", "-h", "127.0.0.1", "-p", &p, "-t", "tls/x", "-m", "x"];
    let out = mq(d).args(by_ip).args(tls).output().unwrap();
    // mosquitto_pub's MOSQ_ERR_TLS.
    assert_eq!(out.status.code(), Some(8));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("certificate for 'localhost' does not match host '127.0.0.1'"),
        "{:?}",
        out
    );
    assert_eq!(
        mq(d)
            .args(by_ip)
            .args(tls)
            .arg("--insecure")
            .status()
            .unwrap()
            .code(),
        Some(0)
    );

    // The wrong CA, and a missing file named in the error.
    let pub_trusting = |ca: &str| {
        mq(d)
            .args(["pub", "-h", "localhost", "-p", &p, "-t", "a", "-m", "x"])
            .args(["--cafile", &f(ca)])
            .output()
            .unwrap()
    };
    let out = pub_trusting("ca2.pem");
    assert_eq!(out.status.code(), Some(8));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("server certificate CN=localhost is not signed by a CA in")
            && err.contains("ca2.pem"),
        "{err}"
    );
    let out = pub_trusting("nope.crt");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("nope.crt") && err.contains("No such file"),
        "{err}"
    );
}

#[test]
fn sub_resubscribes_after_a_broker_restart() {
    if !require(&[Peer::Mosquitto, Peer::MosquittoClients]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut broker = TestBroker::mosquitto(Conf::new());
    let p = broker.port().to_string();
    let sub = ChildGuard::spawn(
        mq(dir.path()).args(["sub", "-p", &p, "-t", "rs/#", "-C", "2", "-W", "10"]),
    );
    broker.wait_subscribed("rs/#");
    Command::new("mosquitto_pub")
        .args(["-p", &p, "-t", "rs/1", "-m", "first", "-r", "-q", "1"])
        .status()
        .unwrap();
    // The broker has forwarded it before it dies.
    sub.stdout.wait_for("first");
    broker.restart();
    // The subscriber retries every second; then it subscribes again.
    broker.wait_subscribed("rs/#");
    Command::new("mosquitto_pub")
        .args(["-p", &p, "-t", "rs/2", "-m", "second"])
        .status()
        .unwrap();
    let out = sub.finish(Duration::from_secs(10));
    drop(broker);
    assert_eq!(out, (Some(0), "first\nsecond\n".to_string()));
}

#[test]
fn unix_socket_and_random_filter() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("mqtt.sock");
    if !require(&[Peer::Mosquitto]) {
        return;
    }
    let b = TestBroker::mosquitto(Conf::new().line(&format!("listener 0 {}", sock.display())));
    let p = b.port().to_string();
    let unix = sock.to_str().unwrap();
    for i in 0..50 {
        let m = format!("m{i}");
        let mut st = mq(dir.path());
        st.args([
            "pub", "--unix", unix, "-t", "u/x", "-m", &m, "-r", "-q", "1",
        ]);
        assert!(st.status().unwrap().success());
        // Each message is retained on its own topic so a late subscriber sees all 50.
        let t = format!("u/{i}");
        assert!(
            mq(dir.path())
                .args(["pub", "-p", &p, "-t", &t, "-m", &m, "-r"])
                .status()
                .unwrap()
                .success()
        );
    }
    let out = mq(dir.path())
        .args(["sub", "--unix", unix, "-t", "u/x", "-C", "1"])
        .output()
        .unwrap();
    assert_eq!(out.stdout, b"m49\n");
    // About a tenth of 51 retained messages is printed; all 51 count towards -C.
    let out = mq(dir.path())
        .args([
            "sub",
            "-p",
            &p,
            "-t",
            "u/#",
            "-C",
            "51",
            "--random-filter",
            "10",
            "-W",
            "5",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let n = out.stdout.iter().filter(|b| **b == b'\n').count();
    assert!(n < 30, "{n} of 51 printed at 10%");
}

#[test]
fn sigterm_ends_sub_with_a_clean_disconnect() {
    if !require(&[Peer::Mosquitto, Peer::MosquittoClients]) {
        return;
    }
    let b = TestBroker::mosquitto(Conf::new());
    let home = tempfile::tempdir().unwrap();
    let p = b.port().to_string();
    let watcher = Command::new("mosquitto_sub")
        .args(["-p", &p, "-t", "gone/#", "-W", "2"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // -d prints the SUBACK: `mq sub` handles SIGTERM from then on (it sets up its signal
    // handling once subscribed).
    let mut sub = ChildGuard::spawn(mq(home.path()).args([
        "sub",
        "-d",
        "-p",
        &p,
        "-t",
        "x",
        "--will-topic",
        "gone/sub",
        "--will-payload",
        "bye",
    ]));
    b.wait_subscribed("gone/#");
    sub.stdout.wait_for("Subscribed (mid:");
    sub.signal(libc::SIGTERM);
    let status = sub.wait_timeout(Duration::from_secs(10));
    assert_eq!(status.and_then(|s| s.code()), Some(0));
    // A normal DISCONNECT: the broker drops the will.
    assert_eq!(watcher.wait_with_output().unwrap().stdout, b"");
}

#[test]
fn hex_messages_publish_the_bytes_they_spell() {
    if !require(&[Peer::Mosquitto]) {
        return;
    }
    let b = TestBroker::mosquitto(Conf::new());
    let home = tempfile::tempdir().unwrap();
    let p = b.port().to_string();
    let st = mq(home.path())
        .args(["pub", "-p", &p, "-t", "hx/1", "--hex", "-m", "00ff41", "-r"])
        .status();
    assert_eq!(st.unwrap().code(), Some(0));
    let out = mq(home.path())
        .args(["pub", "-p", &p, "-t", "hx/2", "--hex", "-m", "zz"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let out = mq(home.path())
        .args(["sub", "-p", &p, "-t", "hx/#", "-C", "1", "-F", "%t %x"])
        .output()
        .unwrap();
    assert_eq!(out.stdout, b"hx/1 00ff41\n");
}
