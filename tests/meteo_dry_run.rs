//! `mq meteo --dry-run` against the fake AEMET: topics and payloads from the fixtures.

mod meteo_support;
use meteo_support::*;

#[test]
fn dry_run_prints_fixture_values() {
    let server = AemetServer::start();
    let cache = tempfile::tempdir().unwrap();
    let out = meteo(&server, cache.path())
        .args([
            "--once",
            "--dry-run",
            "--station",
            "3195",
            "--municipality",
            "28065",
        ])
        .output()
        .unwrap();
    println!("{}", String::from_utf8_lossy(&out.stdout));
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success());
}
