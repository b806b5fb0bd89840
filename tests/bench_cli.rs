//! `mq bench` refuses impossible plans before connecting and fails fast on an unreachable broker.

mod common;

use common::{free_port, mq};
use predicates::prelude::*;
use std::net::TcpListener;
use std::time::{Duration, Instant};

#[test]
fn unbounded_run_is_refused_before_connecting() {
    let port = free_port().to_string();
    mq().args(["bench", "pub", "-h", "127.0.0.1", "-p", &port, "-c", "5"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("every run must be bounded"));
    mq().args(["bench", "conn", "-h", "127.0.0.1", "-p", &port, "-d", "0"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("-d must be greater than zero"));
}

#[test]
fn more_clients_than_the_file_limit_are_refused() {
    let port = free_port().to_string();
    mq().args([
        "bench",
        "conn",
        "-h",
        "127.0.0.1",
        "-p",
        &port,
        "-c",
        "4000000",
        "-d",
        "1",
    ])
    .assert()
    .code(1)
    .stderr(predicate::str::contains(
        "file descriptors but the limit is",
    ))
    .stderr(predicate::str::contains("ulimit -n"));
}

#[test]
fn invalid_topic_template_is_refused() {
    let port = free_port().to_string();
    mq().args(["bench", "pub", "-p", &port, "-d", "1", "-t", "a/+/b"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("invalid topic"));
}

#[test]
fn unreachable_broker_fails_fast_with_a_clear_message() {
    let port = free_port().to_string();
    let started = Instant::now();
    mq().args([
        "bench",
        "conn",
        "-h",
        "127.0.0.1",
        "-p",
        &port,
        "-c",
        "100",
        "-d",
        "30",
    ])
    .timeout(Duration::from_secs(20))
    .assert()
    .code(1)
    .stderr(predicate::str::contains(format!(
        "cannot connect to 127.0.0.1:{port}: connection refused"
    )));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn silent_broker_times_out_within_the_connect_timeout() {
    // Accepts TCP connections and never answers CONNECT.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port().to_string();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    let started = Instant::now();
    mq().args([
        "bench",
        "conn",
        "-h",
        "127.0.0.1",
        "-p",
        &port,
        "-c",
        "10",
        "-d",
        "30",
    ])
    .args(["--connect-timeout", "500ms"])
    .timeout(Duration::from_secs(20))
    .assert()
    .code(1)
    .stderr(predicate::str::contains("no answer within 500ms"));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}
