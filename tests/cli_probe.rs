//! `mq test` against Debian's mosquitto and `mq broker`, each started here on a free port with
//! its own config: the figures it reports must be the brokers' real ones (defaults, and the
//! limits a config sets), it leaves no retained message or session behind, and it exits 1 when
//! it cannot get in.

mod common;

use common::pki::Pki;
use common::{Conf, Peer, TestBroker, free_port, mq, mq_path, require};
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

/// A quiet broker of either kind (a run of `mq test` makes hundreds of connections), with
/// anonymous clients allowed and `extra` config lines.
fn conf(extra: &str) -> Conf {
    Conf::new().quiet().line(extra)
}

/// mosquitto with `extra` config lines, if it is installed (under CI=true it must be).
fn mosquitto(extra: &str) -> Option<TestBroker> {
    require(&[Peer::Mosquitto, Peer::MosquittoClients]).then(|| TestBroker::mosquitto(conf(extra)))
}

fn mq_broker(extra: &str) -> TestBroker {
    TestBroker::mq(conf(extra))
}

/// `mq test --json` with `args`; the exit status and the outcomes keyed by `version/check`.
fn probe(port: u16, args: &[&str]) -> (Option<i32>, BTreeMap<String, Value>, String) {
    let out = mq()
        .args(["test", "-h", "127.0.0.1", "-p", &port.to_string(), "--json"])
        .args(args)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut outcomes = BTreeMap::new();
    for line in stdout.lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let version = v["version"].as_str().unwrap_or("any").to_string();
        let key = format!("{version}/{}", v["check"].as_str().unwrap());
        assert!(outcomes.insert(key.clone(), v).is_none(), "{key} twice");
    }
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code(), outcomes, stderr)
}

fn get<'a>(outcomes: &'a BTreeMap<String, Value>, key: &str) -> &'a Value {
    outcomes
        .get(key)
        .unwrap_or_else(|| panic!("no {key} in {:#?}", outcomes.keys()))
}

fn status(outcomes: &BTreeMap<String, Value>, key: &str) -> String {
    get(outcomes, key)["status"].as_str().unwrap().to_string()
}

/// The largest payload of a PUBLISH at QoS 1 on `topic` whose whole packet fits in `limit`.
fn payload_within(limit: u64, topic: &str, v5: bool) -> u64 {
    let head = 2 + topic.len() as u64 + 2 + u64::from(v5);
    let remaining = (1..=4u64)
        .filter_map(|l| {
            let r = limit.checked_sub(1 + l)?;
            let needs = match r {
                0..128 => 1,
                128..16_384 => 2,
                16_384..2_097_152 => 3,
                _ => 4,
            };
            (needs <= l).then_some(r)
        })
        .max()
        .unwrap();
    remaining - head
}

/// The checks every healthy broker passes, for `version`.
fn assert_delivery_works(o: &BTreeMap<String, Value>, version: &str) {
    for check in [
        "qos0",
        "qos1",
        "qos2",
        "retained",
        "wildcard_plus",
        "wildcard_hash",
        "shared_subscription",
        "will",
        "sys",
    ] {
        let key = format!("{version}/{check}");
        assert_eq!(status(o, &key), "OK", "{key}: {}", get(o, &key));
    }
    for q in ["qos0", "qos1", "qos2"] {
        assert_eq!(get(o, &format!("{version}/{q}"))["value"]["received"], 10);
    }
    let shared = &get(o, &format!("{version}/shared_subscription"))["value"];
    assert_eq!(
        shared["first"].as_u64().unwrap() + shared["second"].as_u64().unwrap(),
        10
    );
}

#[test]
fn mosquitto_defaults_are_reported_and_nothing_is_left_behind() {
    let Some(b) = mosquitto("sys_interval 1") else {
        return;
    };
    let (code, o, stderr) = probe(b.port(), &["-t", "10"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.is_empty(), "piped: no progress on stderr: {stderr}");
    for v in ["3.1", "3.1.1", "5.0"] {
        assert_eq!(status(&o, &format!("{v}/protocol")), "OK");
    }
    assert_eq!(status(&o, "any/anonymous"), "OK");
    assert_eq!(status(&o, "any/tls"), "N/A");
    for v in ["3.1.1", "5.0"] {
        assert_delivery_works(&o, v);
        let sys = &get(&o, &format!("{v}/sys"))["value"]["version"];
        assert!(
            sys.as_str().unwrap().starts_with("mosquitto version 2."),
            "{sys}"
        );
        // Without max_packet_size or message_size_limit, mosquitto takes what MQTT can carry.
        let p = &get(&o, &format!("{v}/payload_size"))["value"];
        let topic = p["topic"].as_str().unwrap();
        let ceiling = 268_435_455 - (2 + topic.len() as u64 + 2 + u64::from(v == "5.0"));
        assert_eq!(p["max"], ceiling, "{p}");
        assert_eq!(p["ceiling"], true);
        for check in ["topic_length", "client_id_length"] {
            assert_eq!(get(&o, &format!("{v}/{check}"))["value"]["max"], 65_535);
        }
        // mosquitto refuses the C0 and C1 control characters and U+FFFF.
        let refused = &get(&o, &format!("{v}/topic_characters"))["value"]["refused"];
        let refused: Vec<&str> = refused
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        for c in ["U+0001", "U+001F", "U+007F", "U+009F", "U+FFFF"] {
            assert!(refused.contains(&c), "{c} not in {refused:?}");
        }
        for c in ["U+0020", "U+0024", "U+00E9", "U+1F600"] {
            assert!(!refused.contains(&c), "{c} in {refused:?}");
        }
    }
    // mosquitto 2.0's CONNACK: no maximum packet size unless configured, receive maximum 20,
    // ten topic aliases, and an assigned id for the empty one.
    assert_eq!(get(&o, "5.0/maximum_packet_size")["value"], Value::Null);
    assert_eq!(get(&o, "5.0/receive_maximum")["value"], 20);
    assert_eq!(get(&o, "5.0/topic_alias_maximum")["value"], 10);
    assert_eq!(get(&o, "5.0/maximum_qos")["value"], 2);
    let assigned = get(&o, "5.0/assigned_client_identifier")["value"].clone();
    assert!(
        assigned.as_str().unwrap().starts_with("auto-"),
        "{assigned}"
    );
    assert_eq!(status(&o, "3.1.1/empty_client_id"), "OK");
    assert_nothing_left(b.port());
}

/// No retained message under the test prefix, and no session kept by mosquitto.
fn assert_nothing_left(port: u16) {
    let sub = |topic: &str| {
        let out = Command::new("mosquitto_sub")
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-t", topic])
            .args(["-v", "-W", "2", "--retained-only"])
            .output()
            .expect("mosquitto_sub");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(sub("mq-test/#"), "", "retained test messages were left");
    // $SYS is published every second here: wait for a fresh count of the sessions that stay.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        sub("$SYS/broker/clients/disconnected").trim(),
        "$SYS/broker/clients/disconnected 0",
        "sessions were left"
    );
}

#[test]
fn mosquitto_limits_from_its_config_are_found() {
    let Some(b) = mosquitto("max_packet_size 2000") else {
        return;
    };
    let (code, o, stderr) = probe(b.port(), &["-t", "10"]);
    assert_eq!(code, Some(0), "{stderr}");
    // 5.0 announces it; the search stays within it.
    assert_eq!(get(&o, "5.0/maximum_packet_size")["value"], 2000);
    let p = &get(&o, "5.0/payload_size")["value"];
    let topic = p["topic"].as_str().unwrap();
    assert_eq!(p["max"], payload_within(2000, topic, true), "{p}");
    // 3.1.1 hears nothing of it: the search finds where mosquitto starts closing connections
    // (it compares the remaining length plus one with the limit).
    let p = &get(&o, "3.1.1/payload_size")["value"];
    let head = 2 + topic.len() as u64 + 2;
    assert_eq!(p["max"], 2000 - 1 - head, "{p}");
    assert!(
        get(&o, "3.1.1/payload_size")["figure"]
            .as_str()
            .unwrap()
            .contains("larger: connection closed")
    );
    assert!(
        get(&o, "3.1.1/topic_length")["value"]["max"]
            .as_u64()
            .unwrap()
            < 2000
    );

    let Some(b) = mosquitto("message_size_limit 100000") else {
        return;
    };
    let (code, o, stderr) = probe(b.port(), &["-t", "10"]);
    assert_eq!(code, Some(0), "{stderr}");
    for v in ["3.1.1", "5.0"] {
        let p = get(&o, &format!("{v}/payload_size"));
        assert_eq!(p["value"]["max"], 100_000, "{p}");
    }
    assert!(
        get(&o, "3.1.1/payload_size")["figure"]
            .as_str()
            .unwrap()
            .contains("acknowledged but not delivered")
    );
}

#[test]
fn mq_broker_defaults_and_limits_are_reported() {
    let b = mq_broker("sys_interval 10");
    let (code, o, stderr) = probe(b.port(), &["-t", "10"]);
    assert_eq!(code, Some(0), "{stderr}");
    for v in ["3.1.1", "5.0"] {
        assert_delivery_works(&o, v);
        let p = &get(&o, &format!("{v}/payload_size"))["value"];
        assert_eq!(p["ceiling"], true, "{p}");
        assert_eq!(
            get(&o, &format!("{v}/topic_characters"))["status"],
            "OK",
            "mq broker takes any character a topic may hold"
        );
    }
    assert_eq!(get(&o, "5.0/receive_maximum")["value"], 20);
    assert_eq!(status(&o, "5.0/wildcard_subscription_available"), "OK");

    let b = mq_broker("message_size_limit 5000\nmax_qos 1\nretain_available false");
    let (code, o, stderr) = probe(b.port(), &["-t", "10", "-V", "mqttv5"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(get(&o, "5.0/payload_size")["value"]["max"], 5000);
    assert_eq!(get(&o, "5.0/maximum_qos")["value"], 1);
    assert_eq!(status(&o, "5.0/qos2"), "N/A");
    assert_eq!(status(&o, "5.0/qos1"), "OK");
    assert_eq!(status(&o, "5.0/retain_available"), "NO");
    assert_eq!(status(&o, "5.0/retained"), "N/A");
    assert!(
        !o.contains_key("3.1.1/qos0"),
        "-V mqttv5 runs the 5.0 checks only"
    );
}

#[test]
fn text_output_has_one_line_per_check() {
    let b = mq_broker("");
    let out = mq()
        .args(["test", "-h", "127.0.0.1", "-p", &b.port().to_string()])
        .args(["-V", "mqttv311", "-t", "5"])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("3.1.1 QoS 1 round trip") && l.contains("OK   10 of 10")),
        "{text}"
    );
    assert!(lines.iter().any(|l| l.contains("TLS") && l.contains("N/A")));
    // versions, anonymous, TLS, certificate, then the 3.1.1 checks.
    assert_eq!(lines.len(), 3 + 3 + 14, "{text}");
}

#[test]
fn tls_session_and_certificate_are_described() {
    if !require(&[Peer::Mosquitto]) {
        return;
    }
    let pki = Pki::new();
    let p = |n: &str| pki.path(n).display().to_string();
    let tls = format!("certfile {}\nkeyfile {}", p("server.pem"), p("server.key"));
    let b = TestBroker::mosquitto(conf(&tls));
    let (code, o, stderr) = probe(
        b.port(),
        &["--cafile", &p("ca.pem"), "-V", "mqttv311", "-t", "5"],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let tls = &get(&o, "any/tls")["value"];
    assert!(
        tls["version"].as_str().unwrap().starts_with("TLS 1."),
        "{tls}"
    );
    assert!(
        tls["cipher_suite"].as_str().unwrap().starts_with("TLS"),
        "{tls}"
    );
    let cert = &get(&o, "any/certificate")["value"];
    assert_eq!(cert["subject"], "CN=localhost");
    assert_eq!(cert["issuer"], "CN=mq test CA");
    assert_eq!(cert["names"], serde_json::json!(["localhost", "127.0.0.1"]));
    assert!(cert["days_left"].as_i64().unwrap() > 0);
    assert_eq!(status(&o, "3.1.1/qos1"), "OK");
}

#[test]
fn refused_credentials_exit_1_and_say_so() {
    if !require(&[Peer::Mosquitto]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("passwd");
    let made = Command::new(mq_path())
        .args(["passwd", "-c", "-b"])
        .arg(&pw)
        .args(["alice", "s3cret"])
        .status()
        .unwrap();
    assert!(made.success());
    let password_file = format!("password_file {}", pw.display());
    let b = TestBroker::mosquitto(Conf::bare().quiet().line(&password_file));
    let (code, o, stderr) = probe(b.port(), &["-t", "2"]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("accepted no connection: refused: Not authorized"),
        "{stderr}"
    );
    assert_eq!(status(&o, "any/anonymous"), "NO");
    assert_eq!(status(&o, "3.1.1/protocol"), "NO");

    let (code, o, stderr) = probe(
        b.port(),
        &["-u", "alice", "-P", "s3cret", "-V", "mqttv311", "-t", "5"],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(status(&o, "any/anonymous"), "NO");
    let why = get(&o, "any/anonymous")["figure"].as_str().unwrap();
    assert!(why.to_lowercase().contains("not authori"), "{why}");
    assert_eq!(status(&o, "3.1.1/qos2"), "OK");
}

#[test]
fn nothing_listening_exits_1_and_usage_errors_name_the_command() {
    let port = free_port().to_string();
    let out = mq()
        .args(["test", "-h", "127.0.0.1", "-p", &port])
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("Error: cannot connect to 127.0.0.1:{port}")),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
    let out = mq()
        .args(["test", "-p", &port, "-i", "fixed"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("give a prefix with -I"), "{stderr}");
    assert!(stderr.contains("Use 'mq test --help'"), "{stderr}");
    let out = mq().args(["test", "-V", "mqttv6"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    for prefix in ["a/+", "$SYS/x", "#"] {
        let out = mq()
            .args(["test", "-p", &port, "--topic-prefix", prefix])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{prefix}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("Invalid --topic-prefix"), "{stderr}");
    }
}

#[test]
fn a_terminal_gets_a_spinner_per_check() {
    if !require(&[Peer::Python3]) {
        return;
    }
    // python3's pty module gives mq test a real terminal on stdout and stderr.
    const SCRIPT: &str = r#"
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = b""
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode("utf-8", "replace") + "\nstatus=%d" % status)
"#;
    let b = mq_broker("");
    let out = Command::new("python3")
        .args(["-c", SCRIPT])
        .arg(mq_path())
        .args(["test", "-h", "127.0.0.1", "-p", &b.port().to_string()])
        .args(["-V", "mqttv311", "-t", "5"])
        .output()
        .expect("python3 runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.ends_with("status=0"), "{text}");
    // The spinner of the payload search (the longest check) is drawn, then cleared.
    let drawn = text.find("largest payload").expect("spinner or line");
    assert!(
        text.contains('\u{1b}'),
        "terminal control sequences: {text}"
    );
    assert!(
        text[drawn..].contains("3.1.1 largest payload"),
        "the result line follows: {text}"
    );
}

#[test]
fn a_silent_broker_costs_one_check_time_and_exits_1() {
    // The kernel completes the TCP handshakes; nothing ever answers CONNECT.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let started = std::time::Instant::now();
    let (code, o, stderr) = probe(port, &["-t", "1"]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("accepted no connection: timed out"),
        "{stderr}"
    );
    assert_eq!(status(&o, "5.0/protocol"), "NO");
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
}
