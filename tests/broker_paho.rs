//! Scripted QoS 1/2 redelivery with the paho-mqtt Python client.

mod common;

use common::*;
use std::process::Command;

#[test]
fn paho_client_gets_unacked_qos1_again_with_dup_and_qos2_exactly_once() {
    if !require(&[Peer::Paho]) {
        return;
    }
    let b = TestBroker::mq(Conf::new());
    let port = b.port();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/scripts/paho_redelivery.py"
    );
    let out = Command::new("timeout")
        .args(["30", "python3", script, &port.to_string()])
        .output()
        .expect("python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("OK"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
