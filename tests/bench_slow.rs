//! `mq bench pubsub --slow-subscribers`: the slow readers are counted apart from the other
//! subscribers and are owed nothing, so they never show up as lost deliveries; the option is
//! refused where it has no meaning.

mod common;

use common::{Conf, TestBroker, mq};
use serde_json::Value;
use std::time::Duration;

#[test]
fn slow_subscribers_are_counted_apart_and_owed_nothing() {
    let broker = TestBroker::mq(Conf::new());
    let port = broker.port().to_string();
    let out = mq()
        .args(["bench", "pubsub", "-h", "127.0.0.1", "-p", &port])
        .args(["-c", "2", "--subscribers", "1", "--sub-topic", "bench/#"])
        .args([
            "-q", "0", "-s", "64", "-I", "0", "-d", "1", "--json", "--quiet",
        ])
        .args(["--slow-subscribers", "1", "--slow-read-rate", "20000"])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["connections"]["connected"], 4,
        "2 publishers, 1 + 1 subscribers"
    );
    let m = &v["messages"];
    let slow = &m["slow"];
    assert_eq!(slow["subscribers"], 1);
    assert_eq!(slow["read_rate"], 20000);
    assert!(slow["received"].as_u64().unwrap() > 0, "{slow}");
    assert!(m["received"].as_u64().unwrap() > 0, "{m}");
    assert_eq!(m["lost"], 0, "the slow subscriber is owed nothing: {m}");
}

#[test]
fn slow_subscribers_are_refused_outside_pubsub_and_at_rate_zero() {
    for args in [
        "bench sub -c 1 -d 1 --slow-subscribers 1",
        "bench pubsub -c 1 -d 1 --slow-subscribers 1 --slow-read-rate 0",
    ] {
        let out = mq().args(args.split(' ')).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--slow-"), "{args}: {err}");
    }
}

#[test]
fn without_slow_subscribers_the_summary_has_no_slow_figures() {
    let broker = TestBroker::mq(Conf::new());
    let port = broker.port().to_string();
    let out = mq()
        .args(["bench", "pubsub", "-h", "127.0.0.1", "-p", &port])
        .args(["-c", "1", "-L", "10", "-I", "0", "--json", "--quiet"])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["messages"].get("slow").is_none(), "{v}");
}
