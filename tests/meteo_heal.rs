//! Self-healing: after a broker restart without persistence, `mq meteo` publishes again
//! everything the broker lost, without waiting for the source to change, for both sources,
//! against Debian's mosquitto and `mq broker`; and the service says so in its log.

mod common;
mod meteo_support;
use meteo_support::broker::{Mosquitto, skip};
use meteo_support::*;
use std::io::BufRead;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn args(m: &Mosquitto, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ["-h", "127.0.0.1", "-p"].map(String::from).to_vec();
    v.push(m.port.to_string());
    v.extend(extra.iter().map(|s| s.to_string()));
    v
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

fn assert_all_retained(broker: &Mosquitto, want: &[(String, String)]) {
    let got = broker.retained("#");
    for (topic, p) in want {
        assert_eq!(payload(&got, topic), Some(p.as_str()), "{topic}");
    }
    assert_eq!(payload(&got, "meteo/status"), Some("offline"));
}

fn once_heals_after_restart(mut broker: Mosquitto, server: AemetServer, targets: &[&str]) {
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
    let live = broker.live("#");
    meteo_with(&server, cache.path(), &strs(&a))
        .assert()
        .code(0);
    let seen = live.finish();
    assert!(seen.iter().all(|(t, _)| t == "meteo/status"), "{seen:?}");

    // A restart without persistence loses every retained message; the next run sees that
    // the broker lacks them (its publish state alone would say "unchanged").
    broker.restart();
    assert!(broker.retained("#").is_empty());
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
    if skip() {
        return;
    }
    once_heals_after_restart(Mosquitto::start(), AemetServer::start(), &AEMET);
}

#[test]
fn once_after_an_mq_broker_restart_publishes_every_aemet_topic_again() {
    if skip() {
        return;
    }
    once_heals_after_restart(Mosquitto::start_mq(), AemetServer::start(), &AEMET);
}

#[test]
fn once_after_a_mosquitto_restart_publishes_every_meteogalicia_topic_again() {
    if skip() {
        return;
    }
    once_heals_after_restart(Mosquitto::start(), AemetServer::meteogalicia(), &MG);
}

#[test]
fn once_after_an_mq_broker_restart_publishes_every_meteogalicia_topic_again() {
    if skip() {
        return;
    }
    once_heals_after_restart(Mosquitto::start_mq(), AemetServer::meteogalicia(), &MG);
}

#[test]
fn a_retained_topic_removed_by_hand_comes_back_alone() {
    if skip() {
        return;
    }
    let broker = Mosquitto::start();
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
        .args(["-h", "127.0.0.1", "-p", &broker.port.to_string()])
        .args(["-t", topic, "-r", "-n"])
        .status()
        .unwrap();
    assert!(cleared.success());
    let live = broker.live("meteo/#");
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

/// `mq meteo` as a service with its stderr collected line by line.
struct Service {
    child: std::process::Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl Service {
    fn start(server: &AemetServer, cache: &std::path::Path, extra: &[&str]) -> Service {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mq"))
            .env_remove("AEMET_API_KEY")
            .env_remove("MQ_METEO_NOW")
            .args(meteo_args(server, cache, extra))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start mq meteo");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (err, sink) = (child.stderr.take().unwrap(), Arc::clone(&log));
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Service { child, log }
    }

    /// Waits up to 20 s for a log line containing every one of `parts`, after line `from`.
    fn wait_for(&self, from: usize, parts: &[&str]) -> usize {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            {
                let log = self.log.lock().unwrap();
                if let Some(i) = log
                    .iter()
                    .skip(from)
                    .position(|l| parts.iter().all(|p| l.contains(p)))
                {
                    return from + i + 1;
                }
            }
            if Instant::now() > deadline {
                let log = self.log.lock().unwrap().clone();
                panic!("no line with {parts:?}: {log:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_service_logs_its_start_every_cycle_and_the_republish_after_a_restart() {
    if skip() {
        return;
    }
    let mut broker = Mosquitto::start_mq();
    let server = AemetServer::meteogalicia();
    let cache = tempfile::tempdir().unwrap();
    let mut extra = vec!["--interval", "1s"];
    extra.extend(MG);
    let a = args(&broker, &extra);
    let svc = Service::start(&server, cache.path(), &strs(&a));
    let port = broker.port.to_string();
    let mut at = svc.wait_for(
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
    let station = svc.wait_for(
        at,
        &["station 10124: fetched (observed 2026-09-27T21:30:00Z), published"],
    );
    let daily = svc.wait_for(
        at,
        &["daily forecast 15078: fetched (from 2026-09-26), published"],
    );
    at = station.max(daily);
    // The next poll finds the same reading.
    at = svc.wait_for(at, &["station 10124: fetched", "unchanged"]);
    let mut once = vec!["--once"];
    once.extend(MG);
    let want = expected(&server, &once);
    assert!(broker.wait_retained("meteo/status", |p| p == "online", 5));

    let fetched = server.mg_count(meteo_support::meteogalicia::HOURLY);
    broker.restart();
    at = svc.wait_for(at, &["connected to the broker"]);
    svc.wait_for(
        at,
        &[
            "hourly forecast 15078: held",
            "published again (the broker had lost it)",
        ],
    );
    let got = broker.retained("#");
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
    let svc = Service::start(&server, cache.path(), &extra);
    let at = svc.wait_for(
        0,
        &["daily forecast 15078: fetched (from 2026-09-26), published"],
    );
    server.mg_route(
        meteo_support::meteogalicia::DAILY,
        vec![Reply::Body(503, "text/html", b"<h1>503</h1>".to_vec())],
    );
    svc.wait_for(
        at,
        &["Error: daily forecast 15078: server error: HTTP 503; keeping the last good data (from 2026-09-26)"],
    );
}
