//! `mq bench` against Debian's mosquitto: small, bounded runs (tens of clients, a few seconds).

mod common;

use common::{Conf, Peer, TestBroker, peers, require};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A quiet mosquitto (these runs make hundreds of connections) with no connection limit and
/// `extra` config lines, or `None` when it is not installed and the test may skip.
fn mosquitto(extra: &str) -> Option<TestBroker> {
    if !require(&[Peer::Mosquitto]) {
        return None;
    }
    Some(TestBroker::mosquitto(
        Conf::bare().quiet().line("max_connections -1").line(extra),
    ))
}

fn bench(port: u16, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mq"));
    cmd.args(["bench"])
        .args(args)
        .args(["-h", "127.0.0.1", "-p", &port.to_string()]);
    cmd
}

fn run_json(port: u16, args: &[&str]) -> (Output, Value) {
    let out = bench(port, args)
        .arg("--json")
        .output()
        .expect("run mq bench");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let v = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {text}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out, v)
}

#[test]
fn pubsub_qos1_delivers_everything_and_measures_latency() {
    let Some(m) = mosquitto("allow_anonymous true") else {
        return;
    };
    let (out, v) = run_json(
        m.port(),
        &[
            "pubsub",
            "-c",
            "50",
            "-q",
            "1",
            "--msg-rate",
            "500",
            "-d",
            "2",
        ],
    );
    assert!(out.status.success(), "{v}");
    assert_eq!(v["connections"]["connected"], 100, "{v}");
    let msgs = &v["messages"];
    let sent = msgs["sent"].as_u64().unwrap();
    assert!(sent >= 900, "500/s for 2 s: {sent}");
    assert_eq!(msgs["acked"].as_u64(), Some(sent), "{v}");
    assert_eq!(msgs["received"].as_u64(), Some(sent), "{v}");
    assert_eq!(msgs["rate_held"], true, "{v}");
    assert_eq!(msgs["latency_valid"], true, "{v}");
    assert_eq!(msgs["latency_us"]["count"].as_u64(), Some(sent));
    assert!(msgs["latency_us"]["p50"].as_u64().unwrap() > 0);
}

#[test]
fn limit_bounds_a_fan_in_run_to_a_wildcard_subscriber() {
    let Some(m) = mosquitto("allow_anonymous true") else {
        return;
    };
    let args = [
        "pubsub",
        "-c",
        "20",
        "--subscribers",
        "1",
        "--sub-topic",
        "bench/#",
        "-L",
        "400",
        "-I",
        "0",
    ];
    let started = Instant::now();
    let (out, v) = run_json(m.port(), &args);
    // The run ends when the last publisher is done, not at a keepalive or a timeout.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert!(out.status.success(), "{v}");
    assert_eq!(v["messages"]["sent"], 400, "{v}");
    assert_eq!(v["messages"]["received"], 400, "{v}");
    // Unpaced runs have no target, so their latency is not claimed meaningful.
    assert_eq!(v["messages"]["latency_valid"], false, "{v}");
}

#[test]
fn json_every_second_streams_lines_then_a_summary_line() {
    let Some(m) = mosquitto("allow_anonymous true") else {
        return;
    };
    let out = bench(
        m.port(),
        &["conn", "-c", "50", "-d", "2", "--json-every-second"],
    )
    .output()
    .expect("run mq bench");
    assert!(out.status.success());
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(lines.len() >= 3, "{lines:?}");
    let last = lines.last().unwrap();
    assert_eq!(last["phase"], "summary");
    assert_eq!(last["connections"]["held"], 50);
    assert!(
        lines[..lines.len() - 1]
            .iter()
            .all(|l| l["connected"].is_u64())
    );
    assert!(lines.iter().any(|l| l["connected"] == 50));
}

#[test]
fn refused_connect_exits_with_the_connack_code() {
    let Some(m) = mosquitto("allow_anonymous false") else {
        return;
    };
    let out = bench(m.port(), &["conn", "-c", "10", "-d", "1"])
        .output()
        .expect("run mq bench");
    assert_eq!(out.status.code(), Some(5));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refused the connection: Connection Refused: not authorised."),
        "{err}"
    );
}

#[test]
fn clients_over_the_broker_limit_are_counted_by_cause() {
    let Some(m) = mosquitto("allow_anonymous true\nmax_connections 10") else {
        return;
    };
    let (out, v) = run_json(
        m.port(),
        &["conn", "-c", "30", "-d", "1", "--connect-timeout", "3s"],
    );
    assert!(out.status.success(), "{v}");
    let c = &v["connections"];
    let connected = c["connected"].as_u64().unwrap();
    // mosquitto lets in one client more than max_connections says.
    assert!((10..=11).contains(&connected), "{v}");
    let failures = c["failures"].as_object().unwrap();
    let counted: u64 = failures.values().filter_map(Value::as_u64).sum();
    assert_eq!(counted + connected, 30, "{v}");
    assert!(
        failures.keys().all(|k| k == "reset" || k == "closed"),
        "{v}"
    );
}

#[test]
fn broker_dying_mid_run_is_reported_as_drops() {
    let Some(mut m) = mosquitto("allow_anonymous true") else {
        return;
    };
    let mut child = bench(m.port(), &["conn", "-c", "40", "-d", "10", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mq bench");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    // Plain progress lines on the piped stderr: wait for the run to start.
    while let Some(Ok(line)) = lines.next() {
        if line.contains("running") {
            break;
        }
    }
    m.kill();
    let started = Instant::now();
    let status = child.wait().expect("wait");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the bench outlived its clients"
    );
    let mut text = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut text)
        .expect("read");
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert!(status.success());
    assert_eq!(v["connections"]["connected"], 40, "{v}");
    assert_eq!(v["connections"]["held"], 0, "{v}");
    let drops: u64 = v["connections"]["drops"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(Value::as_u64)
        .sum();
    assert_eq!(drops, 40, "{v}");
}

#[test]
fn ctrl_c_prints_the_summary_so_far() {
    let Some(m) = mosquitto("allow_anonymous true") else {
        return;
    };
    let mut child = bench(
        m.port(),
        &[
            "pubsub",
            "-c",
            "5",
            "--msg-rate",
            "100",
            "-d",
            "30",
            "--json",
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("spawn mq bench");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    while let Some(Ok(line)) = lines.next() {
        if line.contains("running") {
            break;
        }
    }
    let pid = i32::try_from(child.id()).expect("pid");
    // SAFETY: signalling our own child by its pid.
    unsafe { libc::kill(pid, libc::SIGINT) };
    let started = Instant::now();
    let status = child.wait().expect("wait");
    assert!(started.elapsed() < Duration::from_secs(5));
    let mut text = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut text)
        .expect("read");
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert!(status.success());
    assert_eq!(v["interrupted"], true, "{v}");
    assert!(v["messages"]["sent"].as_u64().unwrap() > 0, "{v}");
    assert!(v["duration_s"].as_f64().unwrap() < 29.0, "{v}");
}

#[test]
fn separate_pub_and_sub_processes_measure_latency_across_processes() {
    let Some(m) = mosquitto("allow_anonymous true") else {
        return;
    };
    let mut sub = bench(
        m.port(),
        &[
            "sub", "-c", "5", "-t", "bench/x", "-L", "500", "-d", "20", "--json",
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("spawn the subscribers");
    let mut lines = BufReader::new(sub.stderr.take().expect("stderr")).lines();
    while let Some(Ok(line)) = lines.next() {
        if line.contains("running") {
            break;
        }
    }
    let out = bench(
        m.port(),
        &[
            "pub",
            "-c",
            "2",
            "-t",
            "bench/x",
            "-L",
            "100",
            "--msg-rate",
            "200",
            "--json",
        ],
    )
    .output()
    .expect("run the publishers");
    assert!(out.status.success());
    let status = sub.wait().expect("wait");
    let mut text = String::new();
    sub.stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut text)
        .expect("read");
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert!(status.success());
    assert_eq!(
        v["messages"]["received"], 500,
        "5 subscribers x 100 messages: {v}"
    );
    assert_eq!(v["messages"]["latency_us"]["count"], 500, "{v}");
    assert!(
        v["duration_s"].as_f64().unwrap() < 19.0,
        "-L ended the run: {v}"
    );
}

#[test]
fn connection_rate_ramps_and_ifaddr_spreads_sources() {
    let Some(m) = mosquitto("allow_anonymous true") else {
        return;
    };
    let args = [
        "conn",
        "-c",
        "20",
        "--rate",
        "20",
        "-d",
        "1",
        "--ifaddr",
        "127.0.0.1,127.0.0.2",
    ];
    let (out, v) = run_json(m.port(), &args);
    assert!(out.status.success(), "{v}");
    assert_eq!(v["connections"]["connected"], 20, "{v}");
    let took = v["connections"]["connect_time_s"].as_f64().unwrap();
    // 20 connections at 20 per second: the last starts 0.95 s after the first.
    assert!((0.9..3.0).contains(&took), "{v}");
}

/// A CA and a server certificate for 127.0.0.1, written as PEM files into `dir`.
fn write_certs(dir: &Path) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("ca key"))
        .expect("ca cert");
    let key = KeyPair::generate().expect("server key");
    let server = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .expect("server params")
        .signed_by(&key, &ca)
        .expect("server cert");
    std::fs::write(dir.join("ca.pem"), ca.pem()).expect("write ca");
    std::fs::write(dir.join("server.pem"), server.pem()).expect("write cert");
    std::fs::write(dir.join("server.key"), key.serialize_pem()).expect("write key");
}

#[test]
fn tls_pubsub_against_a_tls_listener() {
    let certs = tempfile::tempdir().expect("tempdir");
    write_certs(certs.path());
    let d = certs.path().display();
    let conf = format!(
        "allow_anonymous true\ncafile {d}/ca.pem\ncertfile {d}/server.pem\nkeyfile {d}/server.key"
    );
    let Some(m) = mosquitto(&conf) else {
        return;
    };
    let ca = format!("{d}/ca.pem");
    let (out, v) = run_json(
        m.port(),
        &[
            "pubsub",
            "-c",
            "20",
            "-q",
            "1",
            "--msg-rate",
            "400",
            "-d",
            "1",
            "--cafile",
            &ca,
        ],
    );
    assert!(out.status.success(), "{v}");
    assert_eq!(v["connections"]["connected"], 40, "{v}");
    let sent = v["messages"]["sent"].as_u64().unwrap();
    assert!(sent > 300, "{v}");
    assert_eq!(v["messages"]["received"].as_u64(), Some(sent), "{v}");
    // A client that does not trust the server's CA fails fast, naming TLS.
    let other = tempfile::tempdir().expect("tempdir");
    write_certs(other.path());
    let wrong = format!("{}/ca.pem", other.path().display());
    let out = bench(
        m.port(),
        &["conn", "-c", "5", "-d", "1", "--cafile", &wrong],
    )
    .output()
    .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("TLS: "), "{err}");
}

#[test]
fn idle_clients_keep_alive_past_the_keepalive() {
    let Some(m) = mosquitto("allow_anonymous true") else {
        return;
    };
    // mosquitto drops a client silent for 1.5 keepalives; these stay for three.
    let (out, v) = run_json(m.port(), &["conn", "-c", "20", "-k", "1", "-d", "3"]);
    assert!(out.status.success(), "{v}");
    assert_eq!(v["connections"]["held"], 20, "{v}");
    assert!(
        v["connections"]["drops"].as_object().unwrap().is_empty(),
        "{v}"
    );
}

#[test]
fn an_idle_connection_costs_the_generator_under_4_kib() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes only the struct we pass.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 || lim.rlim_max < 4096 {
        peers::host_lacks(&format!(
            "the open-file hard limit ({}) is too low for 3,000 connections",
            lim.rlim_max
        ));
        return;
    }
    let Some(m) = mosquitto("allow_anonymous true") else {
        return;
    };
    // 3,000 connections: with fewer, the generator's fixed costs (runtime threads, histograms)
    // weigh on the figure per connection.
    let (out, v) = run_json(m.port(), &["conn", "-c", "3000", "-d", "0.2"]);
    assert!(out.status.success(), "{v}");
    assert_eq!(v["connections"]["held"], 3000, "{v}");
    let per = v["memory"]["per_connection"].as_u64().unwrap();
    assert!(
        (1..4096).contains(&per),
        "{per} bytes per idle connection: {v}"
    );
}
