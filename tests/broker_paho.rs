//! Scripted QoS 1/2 redelivery with the paho-mqtt Python client (skipped when it is missing).

mod common;

use common::*;
use std::process::Command;

#[test]
fn paho_client_gets_unacked_qos1_again_with_dup_and_qos2_exactly_once() {
    let probe = Command::new("python3")
        .args(["-c", "import paho.mqtt.client"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("skipping: python3 with paho-mqtt is not installed (pip install paho-mqtt)");
        return;
    }
    let (_b, port) = spawn_mq_broker(&[]);
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
