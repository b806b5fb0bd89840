//! Self-healing: after a broker restart without persistence, `mq meteo` publishes again
//! everything the broker lost, without waiting for the source to change, for both sources,
//! against Debian's mosquitto and `mq broker`; and the service says so in its log.

mod common;
mod meteo_support;
use common::{Conf, Peer, TestBroker, require};
use meteo_support::mqtt::{Background, live, retained, wait_retained};
use meteo_support::*;

fn args(m: &TestBroker, extra: &[&str]) -> Vec<String> {
    let mut v = m.client_args();
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

/// The peers of a test against `kind`: mosquitto and its clients, or only `mq` itself.
fn peers(kind: common::Kind) -> bool {
    match kind {
        common::Kind::Mosquitto => require(&[Peer::Mosquitto, Peer::MosquittoClients]),
        _ => true,
    }
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// What a dry run prints for `extra`: every topic a real run must leave retained.
fn expected(server: &AemetServer, extra: &[&str]) -> Vec<(String, String)> {
    let dry = tempfile::tempdir().unwrap();
    let mut a = extra.to_vec();
    a.push("--dry-run");
    let o = meteo_with(server, dry.path(), &a).output().unwrap();
    assert!(o.status.success());
    lines(&o.stdout)
        .into_iter()
        .filter(|(t, _)| t != "meteo/status")
        .collect()
}

fn assert_all_retained(broker: &TestBroker, want: &[(String, String)]) {
    let got = retained(broker, "#");
    for (topic, p) in want {
        assert_eq!(payload(&got, topic), Some(p.as_str()), "{topic}");
    }
    assert_eq!(payload(&got, "meteo/status"), Some("offline"));
}

fn once_heals_after_restart(kind: common::Kind, server: AemetServer, targets: &[&str]) {
    if !peers(kind) {
        return;
    }
    let mut broker = TestBroker::start(kind, Conf::new());
    let cache = tempfile::tempdir().unwrap();
    let mut extra = vec!["--once", "--discovery"];
    extra.extend(targets);
    let want = expected(&server, &extra);
    assert!(want.len() > 10, "{want:?}");
    let a = args(&broker, &extra);
    meteo_with(&server, cache.path(), &strs(&a))
        .assert()
        .code(0);
    assert_all_retained(&broker, &want);

    // Nothing changed and the broker has it all: only the status is sent.
    let live = live(&broker, "meteo/#");
    meteo_with(&server, cache.path(), &strs(&a))
        .assert()
        .code(0);
    let seen = live.finish();
    assert!(seen.iter().all(|(t, _)| t == "meteo/status"), "{seen:?}");

    // A restart without persistence loses every retained message; the next run sees that
    // the broker lacks them (its publish state alone would say "unchanged").
    broker.restart();
    assert!(retained(&broker, "#").is_empty());
    let o = meteo_with(&server, cache.path(), &strs(&a))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("published again (the broker had lost it)"),
        "{err}"
    );
    assert_all_retained(&broker, &want);
}

const AEMET: [&str; 4] = ["--station", "3195", "--municipality", "28065"];
const MG: [&str; 4] = ["--station", "10124", "--municipality", "15078"];

#[test]
fn once_after_a_mosquitto_restart_publishes_every_aemet_topic_again() {
    once_heals_after_restart(common::Kind::Mosquitto, AemetServer::start(), &AEMET);
}

#[test]
fn once_after_an_mq_broker_restart_publishes_every_aemet_topic_again() {
    once_heals_after_restart(common::Kind::Mq, AemetServer::start(), &AEMET);
}

#[test]
fn once_after_a_mosquitto_restart_publishes_every_meteogalicia_topic_again() {
    once_heals_after_restart(common::Kind::Mosquitto, AemetServer::meteogalicia(), &MG);
}

#[test]
fn once_after_an_mq_broker_restart_publishes_every_meteogalicia_topic_again() {
    once_heals_after_restart(common::Kind::Mq, AemetServer::meteogalicia(), &MG);
}

#[test]
fn a_retained_topic_removed_by_hand_comes_back_alone() {
    if !require(&[Peer::Mosquitto, Peer::MosquittoClients]) {
        return;
    }
    let broker = TestBroker::mosquitto(Conf::new());
    let server = AemetServer::start();
    let cache = tempfile::tempdir().unwrap();
    let mut extra = vec!["--once"];
    extra.extend(AEMET);
    let a = args(&broker, &extra);
    meteo_with(&server, cache.path(), &strs(&a))
        .assert()
        .code(0);
    let topic = "meteo/aemet/forecast/28065/today/temperature/max";
    let cleared = std::process::Command::new("mosquitto_pub")
        .args(broker.client_args())
        .args(["-t", topic, "-r", "-n"])
        .status()
        .unwrap();
    assert!(cleared.success());
    let live = live(&broker, "meteo/#");
    meteo_with(&server, cache.path(), &strs(&a))
        .assert()
        .code(0);
    let seen = live.finish();
    assert_eq!(payload(&seen, topic), Some("2"), "restored: {seen:?}");
    assert!(
        payload(&seen, "meteo/aemet/forecast/28065/daily").is_some(),
        "its product"
    );
    assert!(
        seen.iter()
            .all(|(t, _)| !t.starts_with("meteo/aemet/station/") && !t.ends_with("/hourly")),
        "what the broker kept is not sent again: {seen:?}"
    );
}

/// Waits for a log line of `svc` containing every one of `parts`, from line `from` on;
/// returns the index after it.
fn wait_for(svc: &Background, from: usize, parts: &[&str]) -> usize {
    let log = &svc.child.stderr;
    let hit = |l: &str| parts.iter().all(|p| l.contains(p));
    let found = log.wait_after(from, hit);
    let Some(line) = found else {
        panic!("no line with {parts:?} in:\n{}", log.text());
    };
    from + log.lines()[from..]
        .iter()
        .position(|l| *l == line)
        .unwrap_or(0)
        + 1
}

#[test]
fn the_service_logs_its_start_every_cycle_and_the_republish_after_a_restart() {
    let mut broker = TestBroker::mq(Conf::new());
    let server = AemetServer::meteogalicia();
    let cache = tempfile::tempdir().unwrap();
    let mut extra = vec!["--interval", "1s"];
    extra.extend(MG);
    let a = args(&broker, &extra);
    let svc = spawn_meteo(&server, cache.path(), &strs(&a));
    let port = broker.port().to_string();
    let mut at = wait_for(
        &svc,
        0,
        &[
            "mq meteo",
            "source MeteoGalicia",
            "stations 10124",
            "municipalities 15078",
            &port,
            "every 1s",
        ],
    );
    // The first two cycles poll observations and forecasts, in either order.
    let station = wait_for(
        &svc,
        at,
        &["station 10124: fetched (observed 2026-09-27T21:30:00Z), published"],
    );
    let daily = wait_for(
        &svc,
        at,
        &["daily forecast 15078: fetched (from 2026-09-26), published"],
    );
    at = station.max(daily);
    // The next poll finds the same reading.
    at = wait_for(&svc, at, &["station 10124: fetched", "unchanged"]);
    let mut once = vec!["--once"];
    once.extend(MG);
    let want = expected(&server, &once);
    assert!(wait_retained(&broker, "meteo/status", |p| p == "online", 5));

    let fetched = server.mg_count(meteo_support::meteogalicia::HOURLY);
    broker.restart();
    at = wait_for(&svc, at, &["connected to the broker"]);
    wait_for(
        &svc,
        at,
        &[
            "hourly forecast 15078: held",
            "published again (the broker had lost it)",
        ],
    );
    let got = retained(&broker, "#");
    for (topic, p) in &want {
        assert_eq!(payload(&got, topic), Some(p.as_str()), "{topic}");
    }
    assert_eq!(payload(&got, "meteo/status"), Some("online"));
    assert_eq!(
        server.mg_count(meteo_support::meteogalicia::HOURLY),
        fetched,
        "republished from what it held"
    );
}

#[test]
fn a_service_keeps_the_last_good_data_through_an_outage_and_says_so() {
    let server = AemetServer::meteogalicia();
    let cache = tempfile::tempdir().unwrap();
    let extra = [
        "--dry-run",
        "--municipality",
        "15078",
        "--interval",
        "1s",
        "--forecast-interval",
        "1s",
        "--retries",
        "0",
    ];
    let svc = spawn_meteo(&server, cache.path(), &extra);
    let at = wait_for(
        &svc,
        0,
        &["daily forecast 15078: fetched (from 2026-09-26), published"],
    );
    server.mg_route(
        meteo_support::meteogalicia::DAILY,
        vec![Reply::Body(503, "text/html", b"<h1>503</h1>".to_vec())],
    );
    wait_for(
        &svc,
        at,
        &[
            "Error: daily forecast 15078: server error: HTTP 503; keeping the last good data (from 2026-09-26)",
        ],
    );
}
