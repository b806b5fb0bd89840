//! mosquitto's own TLS broker tests (test/broker/08-*.py of v2.0.11) against `mq broker`,
//! with certificates made fresh by the suite's gen.sh (the shipped ones expired in 2025).
//! docs/compatibility.md lists the ones that do not pass and why.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};

/// The tests that must pass: every one but TLS-PSK (rustls has no PSK).
const MUST_PASS: &[&str] = &[
    "08-ssl-bridge",
    "08-ssl-connect-cert-auth-crl",
    "08-ssl-connect-cert-auth-expired",
    "08-ssl-connect-cert-auth-revoked",
    "08-ssl-connect-cert-auth-without",
    "08-ssl-connect-cert-auth",
    "08-ssl-connect-identity",
    "08-ssl-connect-no-auth-wrong-ca",
    "08-ssl-connect-no-auth",
    "08-ssl-connect-no-identity",
    "08-ssl-hup-disconnect",
];

#[test]
fn mosquitto_tls_tests_pass_against_mq_broker() {
    if !common::require(&[common::Peer::Openssl, common::Peer::Python3]) {
        return;
    }
    let Some(suite) = common::suite::dir() else {
        common::peers::host_lacks(
            "mosquitto's test suite (shared/conformance beside the checkout, or MQ_CONFORMANCE_DIR)",
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let wrapper = common::suite::wrapper(dir.path());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/mosquitto-tls-suite.sh");
    let out = Command::new(script)
        .arg(&suite)
        .arg(&wrapper)
        .arg(common::suite::three_free_ports().to_string())
        .env("MOSQ_SUITE_LOGDIR", dir.path().join("logs"))
        .stdin(Stdio::null())
        .output()
        .expect("run the suite");
    let report = String::from_utf8_lossy(&out.stdout);
    eprintln!("{report}{}", String::from_utf8_lossy(&out.stderr));
    let passed: BTreeSet<&str> = report
        .lines()
        .filter_map(|l| l.strip_prefix("PASS "))
        .map(str::trim)
        .collect();
    let missing: Vec<&&str> = MUST_PASS.iter().filter(|t| !passed.contains(**t)).collect();
    assert!(
        missing.is_empty(),
        "mosquitto TLS tests that no longer pass: {missing:?}"
    );
}
