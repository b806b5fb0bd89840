//! `mq meteo` publishing to real brokers (Debian's mosquitto, and `mq broker`), checked with
//! `mosquitto_sub` and `mq sub`:
//! every topic retained with the fixture values, publish only on change, the status topic and
//! its will, an unreachable broker, and a service that survives a broker restart.

mod common;
mod meteo_support;
use common::{Conf, Peer, TestBroker, require};
use meteo_support::mqtt::{live, retained, wait_retained};
use meteo_support::*;

fn with(m: &TestBroker, extra: &[&str]) -> Vec<String> {
    let mut v = m.client_args();
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

const BOTH: [&str; 4] = ["--station", "3195", "--municipality", "28065"];

#[test]
fn once_publishes_every_topic_retained_with_fixture_values() {
    if !require(&[Peer::Mosquitto, Peer::MosquittoClients]) {
        return;
    }
    let broker = TestBroker::mosquitto(Conf::new());
    let s = AemetServer::start();
    let cache = tempfile::tempdir().unwrap();
    let mut extra = vec!["--once"];
    extra.extend(BOTH);
    let args = with(&broker, &extra);
    meteo_with(&s, cache.path(), &strs(&args)).assert().code(0);

    // What a dry run prints is what must now be retained (the dry-run tests check those
    // values against the fixtures field by field).
    let dry = tempfile::tempdir().unwrap();
    let mut dry_args = extra.clone();
    dry_args.push("--dry-run");
    let o = meteo_with(&s, dry.path(), &dry_args).output().unwrap();
    let expected = lines(&o.stdout);
    let got = retained(&broker, "meteo/#");
    for (topic, payload) in expected.iter().filter(|(t, _)| t != "meteo/status") {
        assert_eq!(
            meteo_support::payload(&got, topic),
            Some(payload.as_str()),
            "{topic}"
        );
    }
    assert_eq!(
        meteo_support::payload(&got, "meteo/status"),
        Some("offline")
    );
    assert_eq!(
        meteo_support::payload(&got, "meteo/aemet/station/3195/temperature"),
        Some("-0.7")
    );
    assert_eq!(
        meteo_support::payload(&got, "meteo/aemet/forecast/28065/today/temperature/max"),
        Some("2")
    );
    assert_eq!(
        got.len(),
        expected.len() - 1,
        "status once, every other topic once"
    );
}

/// The end-to-end run, entirely with this crate: `mq meteo` to `mq broker`, read back
/// with `mq sub`.
#[test]
fn once_publishes_every_topic_to_mq_broker_seen_through_mq_sub() {
    let broker = TestBroker::mq(Conf::new());
    let s = AemetServer::start();
    let cache = tempfile::tempdir().unwrap();
    let mut extra = vec!["--once", "--discovery"];
    extra.extend(BOTH);
    let args = with(&broker, &extra);
    meteo_with(&s, cache.path(), &strs(&args)).assert().code(0);
    // An mq broker is read with `mq sub`.
    let got = retained(&broker, "#");
    let p = |t: &str| meteo_support::payload(&got, t).map(str::to_owned);
    for (topic, want) in [
        ("meteo/status", "offline"),
        ("meteo/aemet/station/3195/temperature", "-0.7"),
        ("meteo/aemet/station/3195/humidity", "99"),
        ("meteo/aemet/station/3195/pressure", "924.6"),
        ("meteo/aemet/forecast/28065/today/temperature/max", "2"),
        ("meteo/aemet/forecast/28065/today/temperature/min", "-1"),
        ("meteo/aemet/forecast/28065/tomorrow/temperature/max", "4"),
        ("meteo/aemet/forecast/28065/tomorrow/temperature/min", "-4"),
    ] {
        assert_eq!(p(topic).as_deref(), Some(want), "{topic}");
    }
    let station: serde_json::Value =
        serde_json::from_str(&p("meteo/aemet/station/3195").unwrap()).unwrap();
    assert_eq!(station["time"], "2021-01-09T12:00:00Z");
    let daily: serde_json::Value =
        serde_json::from_str(&p("meteo/aemet/forecast/28065/daily").unwrap()).unwrap();
    assert_eq!(daily["days"][0]["temperature_max"], 2.0);
    let hourly: serde_json::Value =
        serde_json::from_str(&p("meteo/aemet/forecast/28065/hourly").unwrap()).unwrap();
    assert_eq!(hourly["hours"][0]["temperature"], -1.0);
    assert!(p("homeassistant/sensor/mq_aemet/3195_temperature/config").is_some());
}

#[test]
fn unchanged_sources_are_not_published_again() {
    if !require(&[Peer::Mosquitto, Peer::MosquittoClients]) {
        return;
    }
    let broker = TestBroker::mosquitto(Conf::new());
    let s = AemetServer::start();
    let cache = tempfile::tempdir().unwrap();
    let mut extra = vec!["--once"];
    extra.extend(BOTH);
    let args = with(&broker, &extra);
    meteo_with(&s, cache.path(), &strs(&args)).assert().code(0);

    let watch = live(&broker, "meteo/#");
    meteo_with(&s, cache.path(), &strs(&args)).assert().code(0);
    let seen = watch.finish();
    assert!(
        seen.iter().all(|(t, _)| t == "meteo/status"),
        "nothing changed, only the status may be sent: {seen:?}"
    );
    assert_eq!(
        s.count("observacion/convencional/datos/estacion/3195"),
        2,
        "still fetched"
    );

    // A newer "now" makes the observation stale: that is a change.
    let later = with(
        &broker,
        &[
            "--once",
            "--station",
            "3195",
            "--now",
            "2021-01-09T15:00:00Z",
        ],
    );
    let watch = live(&broker, "meteo/#");
    meteo_with(&s, cache.path(), &strs(&later)).assert().code(0);
    let seen = watch.finish();
    let doc = meteo_support::payload(&seen, "meteo/aemet/station/3195").expect("republished");
    assert!(doc.contains("\"stale\":true"), "{doc}");

    // --force publishes regardless.
    let mut forced = args.clone();
    forced.push("--force".into());
    let watch = live(&broker, "meteo/#");
    meteo_with(&s, cache.path(), &strs(&forced))
        .assert()
        .code(0);
    let seen = watch.finish();
    assert!(meteo_support::payload(&seen, "meteo/aemet/forecast/28065/hourly").is_some());
}

#[test]
fn unreachable_broker_exits_4_before_asking_aemet() {
    let s = AemetServer::start();
    let cache = tempfile::tempdir().unwrap();
    let port = common::free_port().to_string();
    let args = [
        "--once",
        "-h",
        "127.0.0.1",
        "-p",
        &port,
        "--station",
        "3195",
    ];
    meteo_with(&s, cache.path(), &args)
        .assert()
        .code(4)
        .stderr(predicates::str::contains("Error: broker:"));
    assert!(
        s.requests().is_empty(),
        "no AEMET quota spent when the broker is down"
    );
}

#[test]
fn partial_failure_publishes_the_rest_and_exits_3() {
    if !require(&[Peer::Mosquitto, Peer::MosquittoClients]) {
        return;
    }
    let broker = TestBroker::mosquitto(Conf::new());
    let s = AemetServer::start();
    s.route(
        "observacion/convencional/datos/estacion/3195",
        vec![Reply::fixture(200, JSON_LATIN9, "error-404-no-data.json")],
    );
    let cache = tempfile::tempdir().unwrap();
    let mut extra = vec!["--once"];
    extra.extend(BOTH);
    let args = with(&broker, &extra);
    meteo_with(&s, cache.path(), &strs(&args)).assert().code(3);
    let got = retained(&broker, "meteo/#");
    assert!(meteo_support::payload(&got, "meteo/aemet/forecast/28065/daily").is_some());
    assert!(
        !got.iter()
            .any(|(t, _)| t.starts_with("meteo/aemet/station/"))
    );
}

#[test]
fn service_survives_a_mosquitto_restart() {
    if !require(&[Peer::Mosquitto, Peer::MosquittoClients]) {
        return;
    }
    service_survives_a_restart_of(TestBroker::mosquitto(Conf::new()));
}

#[test]
fn service_survives_an_mq_broker_restart() {
    service_survives_a_restart_of(TestBroker::mq(Conf::new()));
}

fn service_survives_a_restart_of(mut broker: TestBroker) {
    let s = AemetServer::start();
    let cache = tempfile::tempdir().unwrap();
    let mut extra = vec!["--interval", "1s"];
    extra.extend(BOTH);
    let args = with(&broker, &extra);
    let svc = spawn_meteo(&s, cache.path(), &strs(&args));
    let station = "meteo/aemet/station/3195/temperature";
    assert!(
        wait_retained(&broker, station, |p| p == "-0.7", 15),
        "first publish"
    );
    assert!(wait_retained(&broker, "meteo/status", |p| p == "online", 5));

    // The restarted broker has no retained messages: the service must notice, reconnect
    // and publish everything it holds again, without new data from AEMET.
    let fetched = s.count("prediccion/especifica/municipio/diaria/28065");
    broker.restart();
    assert!(
        wait_retained(&broker, station, |p| p == "-0.7", 15),
        "republished"
    );
    assert!(wait_retained(
        &broker,
        "meteo/aemet/forecast/28065/daily",
        |_| true,
        5
    ));
    assert!(wait_retained(&broker, "meteo/status", |p| p == "online", 5));
    assert_eq!(
        s.count("prediccion/especifica/municipio/diaria/28065"),
        fetched,
        "forecasts come from what it held"
    );

    assert_eq!(svc.terminate(), Some(0));
    assert!(wait_retained(
        &broker,
        "meteo/status",
        |p| p == "offline",
        5
    ));
}

#[test]
fn last_will_marks_the_service_offline() {
    if !require(&[Peer::Mosquitto, Peer::MosquittoClients]) {
        return;
    }
    let broker = TestBroker::mosquitto(Conf::new());
    let s = AemetServer::start();
    let cache = tempfile::tempdir().unwrap();
    let args = with(&broker, &["--station", "3195", "--prefix", "wx"]);
    let svc = spawn_meteo(&s, cache.path(), &strs(&args));
    assert!(wait_retained(&broker, "wx/status", |p| p == "online", 15));
    svc.kill();
    assert!(
        wait_retained(&broker, "wx/status", |p| p == "offline", 10),
        "the will"
    );
}

#[test]
fn service_started_before_the_broker_publishes_once_it_appears() {
    if !require(&[Peer::Mosquitto, Peer::MosquittoClients]) {
        return;
    }
    let s = AemetServer::start();
    let cache = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let p = port.to_string();
    let args = [
        "-h",
        "127.0.0.1",
        "-p",
        &p,
        "--interval",
        "1s",
        "--station",
        "3195",
    ];
    let svc = spawn_meteo(&s, cache.path(), &args);
    // It has tried the broker and found nobody there.
    svc.wait_stderr("retrying");
    let broker = TestBroker::mosquitto(Conf::new().port(port));
    let topic = "meteo/aemet/station/3195/temperature";
    assert!(wait_retained(&broker, topic, |p| p == "-0.7", 15));
    assert!(wait_retained(&broker, "meteo/status", |p| p == "online", 5));
    assert_eq!(svc.terminate(), Some(0));
}

#[test]
fn service_with_a_rejected_key_exits_2() {
    if !require(&[Peer::Mosquitto, Peer::MosquittoClients]) {
        return;
    }
    let broker = TestBroker::mosquitto(Conf::new());
    let s = AemetServer::start();
    s.route(
        "observacion/convencional/datos/estacion/3195",
        vec![Reply::fixture(
            401,
            JSON_LATIN9,
            "error-401-invalid-key.json",
        )],
    );
    let cache = tempfile::tempdir().unwrap();
    let args = with(&broker, &["--interval", "1s", "--station", "3195"]);
    meteo_with(&s, cache.path(), &strs(&args))
        .timeout(std::time::Duration::from_secs(20))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("API key invalido"));
    assert!(wait_retained(
        &broker,
        "meteo/status",
        |p| p == "offline",
        5
    ));
}

#[test]
fn qos_and_protocol_version_options_publish_retained() {
    if !require(&[Peer::Mosquitto, Peer::MosquittoClients]) {
        return;
    }
    let broker = TestBroker::mosquitto(Conf::new());
    let s = AemetServer::start();
    for (i, extra) in [
        ["--qos", "2", "-V", "mqttv5"],
        ["--qos", "0", "-V", "mqttv311"],
    ]
    .iter()
    .enumerate()
    {
        let cache = tempfile::tempdir().unwrap();
        let prefix = format!("q{i}");
        let mut a = vec!["--once", "--station", "3195", "--prefix", &prefix];
        a.extend(extra.iter().copied());
        let args = with(&broker, &a);
        meteo_with(&s, cache.path(), &strs(&args)).assert().code(0);
        let got = retained(&broker, &format!("{prefix}/#"));
        let t = format!("{prefix}/aemet/station/3195/temperature");
        assert_eq!(meteo_support::payload(&got, &t), Some("-0.7"), "{extra:?}");
    }
}
