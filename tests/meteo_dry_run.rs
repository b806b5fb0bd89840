//! `mq meteo --dry-run` against the fake AEMET: every topic and payload from the fixtures,
//! `--all-stations`, `--near` with the cache, discovery, staleness and the Madrid calendar.

mod common;
mod meteo_support;
use meteo_support::*;
use serde_json::Value;

fn run(server: &AemetServer, cache: &std::path::Path, extra: &[&str]) -> Vec<(String, String)> {
    let o = meteo_with(server, cache, extra)
        .args(["--once", "--dry-run"])
        .output()
        .unwrap();
    eprintln!("{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "exit {:?}", o.status.code());
    lines(&o.stdout)
}

/// The fixture record with the largest `fint`.
/// Asserts municipality 28065's (max, min) temperatures for today and tomorrow.
fn assert_temperatures(out: &[(String, String)], today: (f64, f64), tomorrow: (f64, f64)) {
    for (day, (max, min)) in [("today", today), ("tomorrow", tomorrow)] {
        let topic = |m: &str| format!("meteo/aemet/forecast/28065/{day}/temperature/{m}");
        assert_eq!(num(out, &topic("max")), max, "{day} max");
        assert_eq!(num(out, &topic("min")), min, "{day} min");
    }
}

fn latest_fixture_record() -> Value {
    let v: Vec<Value> = serde_json::from_slice(&fixture("observation-station-3195.json")).unwrap();
    v.into_iter()
        .max_by_key(|r| r["fint"].as_str().unwrap().to_owned())
        .unwrap()
}

#[test]
fn station_topics_carry_the_latest_fixture_record() {
    let s = AemetServer::start();
    let cache = tempfile::tempdir().unwrap();
    let out = run(&s, cache.path(), &["--station", "3195"]);
    let rec = latest_fixture_record();
    let doc = json(&out, "meteo/aemet/station/3195");
    assert_eq!(doc["station"], "3195");
    assert_eq!(doc["name"], "MADRID RETIRO");
    assert_eq!(doc["time"], format!("{}Z", rec["fint"].as_str().unwrap()));
    assert_eq!(doc["stale"], false);
    assert_eq!(doc["attribution"], "© AEMET");
    let pairs = [
        ("temperature", "ta", "°C"),
        ("temperature_max", "tamax", "°C"),
        ("temperature_min", "tamin", "°C"),
        ("humidity", "hr", "%"),
        ("pressure", "pres", "hPa"),
        ("pressure_sea_level", "pres_nmar", "hPa"),
        ("precipitation", "prec", "mm"),
        ("dew_point", "tpr", "°C"),
        ("latitude", "lat", "°"),
        ("longitude", "lon", "°"),
        ("altitude", "alt", "m"),
    ];
    for (key, src, unit) in pairs {
        let want = rec[src].as_f64().unwrap();
        assert_eq!(doc[key].as_f64(), Some(want), "{key}");
        assert_eq!(doc["units"][key], unit, "{key}");
        assert_eq!(
            num(&out, &format!("meteo/aemet/station/3195/{key}")),
            want,
            "{key}"
        );
    }
    assert_eq!(num(&out, "meteo/aemet/station/3195/temperature"), -0.7);
    // This station has no wind sensor: the fields are absent, not null or zero.
    for key in ["wind_speed", "wind_direction", "gust_speed"] {
        assert!(doc.get(key).is_none(), "{key}");
        assert!(payload(&out, &format!("meteo/aemet/station/3195/{key}")).is_none());
    }
    assert_eq!(
        out.first().unwrap(),
        &("meteo/status".into(), "online".into())
    );
    assert_eq!(
        out.last().unwrap(),
        &("meteo/status".into(), "offline".into())
    );
}

#[test]
fn forecast_topics_follow_the_fixtures() {
    let s = AemetServer::start();
    let cache = tempfile::tempdir().unwrap();
    let out = run(&s, cache.path(), &["--municipality", "28065"]);
    let daily = json(&out, "meteo/aemet/forecast/28065/daily");
    assert_eq!(daily["municipality"], "28065");
    assert_eq!(daily["name"], "Getafe");
    assert_eq!(daily["province"], "Madrid");
    assert_eq!(daily["issued"], "2021-01-09T11:54:00+01:00");
    let days = daily["days"].as_array().unwrap();
    assert_eq!(days.len(), 7);
    let d0 = &days[0];
    assert_eq!(d0["date"], "2021-01-09");
    assert_eq!(d0["temperature_max"], 2.0);
    assert_eq!(d0["temperature_min"], -1.0);
    assert_eq!(d0["humidity_max"], 100.0);
    assert_eq!(d0["humidity_min"], 75.0);
    assert_eq!(d0["precipitation_probability"], 100.0, "the day's maximum");
    // 00-24 is past (""), so the 12-24 period speaks for the day.
    assert_eq!(d0["sky"], "Cubierto con nieve");
    assert_eq!(d0["wind_direction"], 90.0, "E");
    assert_eq!(d0["wind_speed"], 4.2, "15 km/h in m/s");
    assert_eq!(d0["uv_max"], 1.0);
    // Day 5 has single entries without periodo, and calm wind.
    assert_eq!(days[4]["sky"], "Despejado");
    assert_eq!(days[4]["wind_speed"], 0.0);
    assert!(
        days[4].get("wind_direction").is_none(),
        "calm has no direction"
    );
    assert!(
        days[6].get("uv_max").is_none(),
        "uvMax missing on later days"
    );
    assert_temperatures(&out, (2.0, -1.0), (4.0, -4.0));

    let hourly = json(&out, "meteo/aemet/forecast/28065/hourly");
    assert_eq!(hourly["issued"], "2021-01-09T11:47:45+01:00");
    let hours = hourly["hours"].as_array().unwrap();
    assert_eq!(hours.len(), 17 + 24 + 7);
    let h0 = &hours[0];
    assert_eq!(h0["time"], "2021-01-09T07:00:00+01:00");
    assert_eq!(h0["temperature"], -1.0);
    assert_eq!(h0["feels_like"], -8.0);
    assert_eq!(h0["humidity"], 96.0);
    assert_eq!(h0["precipitation"], 1.4);
    assert_eq!(h0["sky"], "Cubierto con nieve");
    assert_eq!(h0["wind_direction"], 45.0);
    assert_eq!(h0["wind_speed"], 7.8, "28 km/h");
    assert_eq!(h0["gust_speed"], 11.4, "41 km/h");
    // Midnight is covered by the previous day's wrapping 1901 band.
    let midnight = hours
        .iter()
        .find(|h| h["time"] == "2021-01-10T00:00:00+01:00")
        .unwrap();
    assert_eq!(midnight["precipitation_probability"], 100.0);
    let one = hours
        .iter()
        .find(|h| h["time"] == "2021-01-10T01:00:00+01:00")
        .unwrap();
    assert_eq!(one["precipitation_probability"], 10.0);
    // "Ip" (inapreciable) is 0 mm, never dropped.
    assert!(hours.iter().all(|h| h["precipitation"].is_number()));
}

#[test]
fn today_and_tomorrow_follow_the_madrid_date() {
    let s = AemetServer::start();
    let cache = tempfile::tempdir().unwrap();
    // 23:30 UTC is already the 10th in Madrid.
    let out = run(
        &s,
        cache.path(),
        &["--municipality", "28065", "--now", "2021-01-09T23:30:00Z"],
    );
    assert_temperatures(&out, (4.0, -4.0), (3.0, -7.0));
}

#[test]
fn old_data_is_flagged_stale() {
    let s = AemetServer::start();
    let cache = tempfile::tempdir().unwrap();
    let args = [
        "--station",
        "3195",
        "--municipality",
        "28065",
        "--now",
        "2021-01-10T02:00:00Z",
    ];
    let out = run(&s, cache.path(), &args);
    assert_eq!(json(&out, "meteo/aemet/station/3195")["stale"], true);
    assert_eq!(
        json(&out, "meteo/aemet/forecast/28065/daily")["stale"],
        true
    );
    let out = run(
        &s,
        cache.path(),
        &["--station", "3195", "--now", "2021-01-09T13:59:00Z"],
    );
    assert_eq!(json(&out, "meteo/aemet/station/3195")["stale"], false);
}

#[test]
fn records_later_than_now_are_ignored() {
    let s = AemetServer::start();
    let cache = tempfile::tempdir().unwrap();
    let out = run(
        &s,
        cache.path(),
        &["--station", "3195", "--now", "2021-01-09T08:10:00Z"],
    );
    assert_eq!(
        json(&out, "meteo/aemet/station/3195")["time"],
        "2021-01-09T08:00:00Z"
    );
}

#[test]
fn all_stations_publishes_each_with_its_own_fields() {
    let s = AemetServer::start();
    let cache = tempfile::tempdir().unwrap();
    let out = run(
        &s,
        cache.path(),
        &["--all-stations", "--now", "2021-01-08T14:30:00Z"],
    );
    for id in ["3194U", "3194Y", "3195"] {
        assert!(
            payload(&out, &format!("meteo/aemet/station/{id}")).is_some(),
            "{id}"
        );
    }
    assert_eq!(num(&out, "meteo/aemet/station/3194U/temperature"), 0.9);
    // 3194Y reports no dew point and no pressure.
    assert!(payload(&out, "meteo/aemet/station/3194Y/dew_point").is_none());
    assert!(payload(&out, "meteo/aemet/station/3194Y/pressure").is_none());
    assert_eq!(s.count("observacion/convencional/todas"), 1);
}

#[test]
fn near_picks_station_and_municipality_and_caches_the_lists() {
    let s = AemetServer::start();
    let cache = tempfile::tempdir().unwrap();
    let o = meteo_with(
        &s,
        cache.path(),
        &["--once", "--dry-run", "--near", "40.31,-3.73"],
    )
    .output()
    .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    // The ISO-8859-15 list decodes without replacement characters.
    assert!(err.contains("Nearest municipality: 28065 Getafe"), "{err}");
    assert!(err.contains("Nearest station: 3195 MADRID RETIRO"), "{err}");
    let out = lines(&o.stdout);
    assert!(payload(&out, "meteo/aemet/station/3195").is_some());
    assert!(payload(&out, "meteo/aemet/forecast/28065/daily").is_some());
    assert!(cache.path().join("stations.json").exists());
    assert!(cache.path().join("municipalities.json").exists());
    // A second run reads both lists from the cache.
    let o = meteo_with(
        &s,
        cache.path(),
        &["--once", "--dry-run", "--near", "40.33,-3.77"],
    )
    .output()
    .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("Nearest municipality: 28074 Leganés"), "{err}");
    assert_eq!(s.count("observacion/convencional/todas"), 1);
    assert_eq!(s.count("maestro/municipios"), 1);
}

#[test]
fn near_outside_the_distance_cap_is_an_error() {
    let s = AemetServer::start();
    let cache = tempfile::tempdir().unwrap();
    meteo_with(
        &s,
        cache.path(),
        &["--once", "--dry-run", "--near", "28.1,-15.4"],
    )
    .assert()
    .code(1)
    .stderr(predicates::str::contains(
        "no station or municipality within 40 km",
    ));
}

#[test]
fn discovery_configs_name_unit_class_and_availability() {
    let s = AemetServer::start();
    let cache = tempfile::tempdir().unwrap();
    let args = [
        "--station",
        "3195",
        "--municipality",
        "28065",
        "--discovery",
    ];
    let out = run(&s, cache.path(), &args);
    let c = json(
        &out,
        "homeassistant/sensor/mq_aemet/3195_temperature/config",
    );
    assert_eq!(c["state_topic"], "meteo/aemet/station/3195/temperature");
    assert_eq!(c["unit_of_measurement"], "°C");
    assert_eq!(c["device_class"], "temperature");
    // A cron run leaves the status offline between runs: no availability topic then.
    assert!(c.get("availability_topic").is_none());
    assert_eq!(c["unique_id"], "mq_aemet_3195_temperature");
    assert_eq!(c["device"]["name"], "AEMET MADRID RETIRO");
    let p = json(&out, "homeassistant/sensor/mq_aemet/3195_pressure/config");
    assert_eq!(p["device_class"], "atmospheric_pressure");
    assert_eq!(p["unit_of_measurement"], "hPa");
    let t = json(
        &out,
        "homeassistant/sensor/mq_aemet/28065_today_temperature_max/config",
    );
    assert_eq!(
        t["state_topic"],
        "meteo/aemet/forecast/28065/today/temperature/max"
    );
    // Every bare-value topic has a config, except the station's location: latitude,
    // longitude and altitude are attributes of its sensors, not sensors.
    let state_topics: Vec<String> = out
        .iter()
        .filter(|(t, _)| t.starts_with("homeassistant/"))
        .map(|(_, p)| serde_json::from_str::<Value>(p).unwrap()["state_topic"].to_string())
        .collect();
    let location = ["/latitude", "/longitude", "/altitude"];
    for (topic, _) in out
        .iter()
        .filter(|(t, p)| t.starts_with("meteo/aemet/") && p.parse::<f64>().is_ok())
    {
        let n = state_topics
            .iter()
            .filter(|s| **s == format!("\"{topic}\""))
            .count();
        let want = usize::from(!location.iter().any(|l| topic.ends_with(l)));
        assert_eq!(n, want, "configs with state_topic {topic}");
    }
}

#[test]
fn service_discovery_names_the_availability_topic() {
    let s = AemetServer::start();
    let cache = tempfile::tempdir().unwrap();
    let svc = spawn_meteo(
        &s,
        cache.path(),
        &[
            "--dry-run",
            "--discovery",
            "--station",
            "3195",
            "--interval",
            "1s",
        ],
    );
    let out = svc.read_until("homeassistant/sensor/mq_aemet/3195_temperature/config");
    let c: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(c["availability_topic"], "meteo/status");
    assert_eq!(c["payload_available"], "online");
    assert_eq!(c["payload_not_available"], "offline");
}

#[test]
fn prefix_moves_every_topic() {
    let s = AemetServer::start();
    let cache = tempfile::tempdir().unwrap();
    let out = run(
        &s,
        cache.path(),
        &["--station", "3195", "--prefix", "home/wx"],
    );
    assert!(out.iter().all(|(t, _)| t.starts_with("home/wx/")));
    assert!(payload(&out, "home/wx/status").is_some());
}

#[test]
fn requests_are_spaced_by_the_rate_limit() {
    let s = AemetServer::start();
    let cache = tempfile::tempdir().unwrap();
    let start = std::time::Instant::now();
    let args = [
        "--station",
        "3195",
        "--municipality",
        "28065",
        "--request-interval",
        "400ms",
    ];
    run(&s, cache.path(), &args);
    // Three step-1 requests: at least two gaps.
    assert!(start.elapsed() >= std::time::Duration::from_millis(800));
}

#[test]
fn nothing_to_fetch_is_a_usage_error() {
    let s = AemetServer::start();
    let cache = tempfile::tempdir().unwrap();
    meteo(&s, cache.path())
        .args(["--once", "--dry-run"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("nothing to fetch"));
}
