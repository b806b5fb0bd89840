//! `mq meteo --source meteogalicia --dry-run` against the fake MeteoGalicia: every topic and
//! value from the fixtures, no data (`-9999`, validation codes), staleness, unknown ids, outages
//! and flags that do not apply.

mod common;
mod meteo_support;
use meteo_support::meteogalicia::{self as mg, STATION_NOW};
use meteo_support::*;

fn ok(server: &AemetServer, extra: &[&str]) -> Vec<(String, String)> {
    let r = dry_run(server, extra);
    assert_eq!(r.code, 0, "{}", r.err);
    r.out
}

const ST: &str = "meteo/meteogalicia/station/10124";
const FC: &str = "meteo/meteogalicia/forecast/15078";
const OBS: &str = "meteo/meteogalicia/municipality/15078";

#[test]
fn station_topics_carry_the_fixture_reading_keyed_on_codes() {
    let s = AemetServer::meteogalicia();
    let out = ok(&s, &["--station", "10124", "--now", STATION_NOW]);
    let doc = json(&out, ST);
    assert_eq!(doc["station"], "10124");
    assert_eq!(doc["name"], "Santiago-EOAS");
    assert_eq!(doc["time"], "2026-09-27T21:30:00Z", "UTC, with the Z added");
    assert_eq!(doc["stale"], false);
    assert_eq!(doc["attribution"], "MeteoGalicia · Xunta de Galicia");
    let pairs = [
        ("temperature", "TA_AVG_1.5m", "°C"),
        ("humidity", "HR_AVG_1.5m", "%"),
        ("pressure", "PR_AVG_1.5m", "hPa"),
        ("pressure_sea_level", "PRED_AVG_1.5m", "hPa"),
        ("precipitation", "PP_SUM_1.5m", "mm"),
        ("wind_speed", "VV_AVG_10m", "m/s"),
        ("wind_direction", "DV_AVG_10m", "°"),
        ("gust_speed", "VV_RACHA_10m", "m/s"),
        ("dew_point", "TO_AVG_1.5m", "°C"),
        ("solar_radiation", "RS_AVG_1.5m", "W/m²"),
    ];
    for (key, code, unit) in pairs {
        let want = mg::station_value(code).unwrap_or_else(|| panic!("fixture has {code}"));
        assert_eq!(doc[key].as_f64(), Some(want), "{key}");
        assert_eq!(doc["units"][key], unit, "{key}");
        assert_eq!(num(&out, &format!("{ST}/{key}")), want, "{key}");
    }
    assert_eq!(num(&out, &format!("{ST}/temperature")), 17.51);
    // The location comes from the station list.
    assert_eq!(doc["latitude"], 42.87596);
    assert_eq!(doc["longitude"], -8.559434);
    assert_eq!(doc["altitude"], 255.0);
    // The 30 m mast's -9999 (validation 9) never becomes a value: 17.51 is the 1.5 m one.
    assert!(out.iter().all(|(_, p)| !p.contains("-9999")));
    assert_eq!(
        s.mg_count(mg::LIST),
        1,
        "the list is fetched once for the coordinates"
    );
}

#[test]
fn suspect_erroneous_and_unrecorded_measures_are_no_data() {
    for code in [2, 3, 9] {
        let s = AemetServer::meteogalicia();
        let body = mg::station_with_validation("TA_AVG_1.5m", code);
        s.mg_route(mg::STATION, vec![Reply::Body(200, mg::JSON, body)]);
        let out = ok(&s, &["--station", "10124", "--now", STATION_NOW]);
        let doc = json(&out, ST);
        assert!(doc.get("temperature").is_none(), "validation {code}: {doc}");
        assert!(payload(&out, &format!("{ST}/temperature")).is_none());
        assert_eq!(doc["humidity"], 97.0, "the other measures stay");
    }
}

#[test]
fn a_reading_older_than_three_intervals_is_stale() {
    let s = AemetServer::meteogalicia();
    let at = |now| json(&ok(&s, &["--station", "10124", "--now", now]), ST)["stale"].clone();
    assert_eq!(at("2026-09-27T22:00:00Z"), false, "30 minutes old");
    assert_eq!(at("2026-09-27T22:00:01Z"), true, "over 3 × 10 minutes");
}

#[test]
fn daily_forecast_merges_short_and_medium_term_days() {
    let s = AemetServer::meteogalicia();
    let out = ok(&s, &["--municipality", "15078"]);
    let daily = json(&out, &format!("{FC}/daily"));
    assert_eq!(daily["municipality"], "15078");
    assert_eq!(daily["name"], "Santiago de Compostela");
    assert_eq!(daily["stale"], false);
    assert_eq!(daily["attribution"], "MeteoGalicia · Xunta de Galicia");
    let days = daily["days"].as_array().unwrap();
    let dates: Vec<&str> = days.iter().map(|d| d["date"].as_str().unwrap()).collect();
    assert_eq!(
        dates,
        [
            "2026-09-26",
            "2026-09-27",
            "2026-09-28",
            "2026-09-29",
            "2026-09-30",
            "2026-10-01",
            "2026-10-02",
            "2026-10-03"
        ]
    );
    let d0 = &days[0];
    assert_eq!(d0["temperature_max"], 28.0);
    assert_eq!(d0["temperature_min"], 13.0);
    assert_eq!(
        d0["precipitation_probability"], 10.0,
        "the day's highest band"
    );
    assert_eq!(d0["sky"], "Anubrado 75%", "ceoDia 104");
    assert_eq!(d0["condition"], "cloudy");
    assert_eq!(d0["wind_direction"], 270.0, "afternoon 307: west");
    assert_eq!(d0["uv_max"], 5.0);
    assert_eq!(days[3]["precipitation_probability"], 95.0);
    assert_eq!(days[3]["condition"], "rainy", "111: rain");
    // Day 4 is medium-term: the likeliest of three skies (117 at 90 %).
    assert_eq!(days[4]["temperature_max"], 19.0);
    assert_eq!(days[4]["temperature_min"], 13.0);
    assert_eq!(days[4]["sky"], "Choiva débil");
    assert!(days[4].get("precipitation_probability").is_none());
    assert_eq!(
        days[5]["condition"], "sunny",
        "101 and 117 both at 45 %: the first wins"
    );
    for (day, max, min, prob, cond) in [
        ("today", 28.0, 13.0, 10.0, "cloudy"),
        ("tomorrow", 24.0, 15.0, 55.0, "rainy"),
    ] {
        assert_eq!(
            num(&out, &format!("{FC}/{day}/temperature/max")),
            max,
            "{day}"
        );
        assert_eq!(
            num(&out, &format!("{FC}/{day}/temperature/min")),
            min,
            "{day}"
        );
        assert_eq!(
            num(&out, &format!("{FC}/{day}/precipitation_probability")),
            prob,
            "{day}"
        );
        assert_eq!(
            payload(&out, &format!("{FC}/{day}/condition")),
            Some(cond),
            "{day}"
        );
    }
    assert_eq!(
        payload(&out, &format!("{FC}/tomorrow/sky")),
        Some("Choiva débil"),
        "ceoDia 117"
    );
    assert!(out.iter().all(|(_, p)| !p.contains("-9999")));
}

#[test]
fn hourly_forecast_has_every_local_hour() {
    let s = AemetServer::meteogalicia();
    let out = ok(&s, &["--municipality", "15078"]);
    let hourly = json(&out, &format!("{FC}/hourly"));
    let hours = hourly["hours"].as_array().unwrap();
    assert_eq!(hours.len(), 96);
    let h0 = &hours[0];
    assert_eq!(
        h0["time"], "2026-09-26T00:00:00+02:00",
        "Madrid summer time"
    );
    assert_eq!(h0["temperature"], 16.0);
    assert_eq!(h0["sky"], "Despexado");
    assert_eq!(h0["condition"], "clear-night", "201: clear, by night");
    assert_eq!(h0["wind_direction"], 45.0, "302: north-east");
    assert_eq!(hours[95]["time"], "2026-09-29T23:00:00+02:00");
    assert_eq!(hourly["units"]["temperature"], "°C");
}

#[test]
fn municipality_observation_is_current_conditions() {
    let s = AemetServer::meteogalicia();
    let out = ok(&s, &["--municipality", "15078"]);
    let doc = json(&out, OBS);
    assert_eq!(doc["municipality"], "15078");
    assert_eq!(doc["name"], "Santiago de Compostela");
    assert_eq!(
        doc["time"], "2026-09-26T08:56:00Z",
        "dataUTC, not dataLocal"
    );
    assert_eq!(doc["temperature"], 15.8);
    assert_eq!(doc["feels_like"], 15.8);
    assert_eq!(doc["sky"], "Cuberto");
    assert_eq!(doc["condition"], "cloudy");
    assert_eq!(doc["stale"], false);
    assert_eq!(num(&out, &format!("{OBS}/temperature")), 15.8);
    assert_eq!(payload(&out, &format!("{OBS}/condition")), Some("cloudy"));
}

#[test]
fn a_forecast_not_renewed_today_is_stale() {
    let s = AemetServer::meteogalicia();
    let out = ok(
        &s,
        &["--municipality", "15078", "--now", "2026-09-27T08:00:00Z"],
    );
    assert_eq!(json(&out, &format!("{FC}/daily"))["stale"], true);
    assert_eq!(json(&out, &format!("{FC}/hourly"))["stale"], true);
    // Today and tomorrow follow the date all the same.
    assert_eq!(num(&out, &format!("{FC}/today/temperature/max")), 24.0);
}

#[test]
fn unknown_ids_are_errors_naming_them_and_nothing_is_published_for_them() {
    let s = AemetServer::meteogalicia();
    let r = dry_run(
        &s,
        &[
            "--station",
            "99999",
            "--municipality",
            "99999",
            "--municipality",
            "15078",
        ],
    );
    assert_eq!(r.code, 3, "{}", r.err);
    for product in [
        "station",
        "observation",
        "daily forecast",
        "hourly forecast",
    ] {
        let what = if product == "station" {
            "station"
        } else {
            "municipality"
        };
        let line = format!("Error: {product} 99999: not found: unknown {what} 99999");
        assert!(r.err.contains(&line), "{line} in {}", r.err);
    }
    assert!(
        r.out.iter().all(|(t, _)| !t.contains("99999")),
        "{:?}",
        r.out
    );
    assert!(
        payload(&r.out, &format!("{FC}/daily")).is_some(),
        "the known one is published"
    );
    assert_eq!(
        s.mg_count("predicion/jsonPredConcellos.action?idConc=99999"),
        1,
        "an answer, not an outage: not retried"
    );
}

#[test]
fn html_empty_and_5xx_answers_are_retried_then_succeed() {
    for bad in [
        Reply::Body(
            200,
            "text/html",
            b"<!DOCTYPE html><h1>Mantemento</h1>".to_vec(),
        ),
        Reply::Body(200, mg::JSON, Vec::new()),
        Reply::Body(503, "text/html", b"<h1>503</h1>".to_vec()),
        Reply::Body(404, "text/html", b"<h1>404</h1>".to_vec()),
    ] {
        let s = AemetServer::meteogalicia();
        let good = Reply::Body(
            200,
            mg::JSON,
            mg_fixture("jsonPredHorariaConcellos_idConc-15078_Santiago_2026-09-26.json"),
        );
        s.mg_route(mg::HOURLY, vec![bad.clone(), good]);
        let r = dry_run(&s, &["--municipality", "15078"]);
        assert_eq!(r.code, 0, "{bad:?}: {}", r.err);
        assert_eq!(s.mg_count(mg::HOURLY), 2, "{bad:?}");
        assert!(r.err.contains("retrying in"), "{}", r.err);
        assert!(payload(&r.out, &format!("{FC}/hourly")).is_some());
    }
}

#[test]
fn a_persistent_outage_is_reported_and_nothing_is_published_for_that_product() {
    let s = AemetServer::meteogalicia();
    s.mg_route(
        mg::DAILY,
        vec![Reply::Body(
            200,
            "text/html",
            b"<html><body>Servizo non dispo\xc3\xb1ible</body></html>".to_vec(),
        )],
    );
    let r = dry_run(&s, &["--municipality", "15078", "--retries", "2"]);
    assert_eq!(r.code, 3);
    assert_eq!(s.mg_count(mg::DAILY), 3, "first try and two retries");
    assert!(
        r.err
            .contains("Error: daily forecast 15078: unexpected response: not JSON (an HTML page?)"),
        "{}",
        r.err
    );
    assert!(payload(&r.out, &format!("{FC}/daily")).is_none());
    assert!(payload(&r.out, &format!("{FC}/today/temperature/max")).is_none());
    assert!(
        payload(&r.out, &format!("{FC}/hourly")).is_some(),
        "the rest is published"
    );
    assert!(payload(&r.out, OBS).is_some());
}

#[test]
fn a_timeout_is_retried_then_reported() {
    let s = AemetServer::meteogalicia();
    s.mg_route(mg::OBSERVATION, vec![Reply::Hang]);
    let r = dry_run(
        &s,
        &[
            "--municipality",
            "15078",
            "--timeout",
            "300ms",
            "--retries",
            "1",
        ],
    );
    assert_eq!(r.code, 3);
    assert_eq!(s.mg_count(mg::OBSERVATION), 2);
    assert!(
        r.err.contains("observation 15078: timed out after 300ms"),
        "{}",
        r.err
    );
    assert!(payload(&r.out, OBS).is_none());
    assert!(payload(&r.out, &format!("{FC}/daily")).is_some());
}

#[test]
fn flags_that_do_not_apply_and_unknown_sources_are_usage_errors() {
    let s = AemetServer::meteogalicia();
    for (flags, name) in [
        (&["--api-key", "k"][..], "--api-key"),
        (&["--api-key-file", "/dev/null"][..], "--api-key-file"),
        (&["--all-stations"][..], "--all-stations"),
    ] {
        let mut args = vec!["--station", "10124"];
        args.extend(flags);
        let r = dry_run(&s, &args);
        assert_eq!(r.code, 1, "{name}");
        assert!(
            r.err
                .contains(&format!("{name} does not apply to --source meteogalicia")),
            "{}",
            r.err
        );
    }
    assert!(
        s.requests().is_empty(),
        "nothing asked before the arguments are checked"
    );
    let cache = tempfile::tempdir().unwrap();
    common::mq()
        .args([
            "meteo",
            "--source",
            "meteocat",
            "--station",
            "1",
            "--dry-run",
            "--once",
        ])
        .arg("--cache-dir")
        .arg(cache.path())
        .assert()
        .code(1)
        .stderr(predicates::str::contains("'meteocat'"))
        .stderr(predicates::str::contains("--source"));
}

#[test]
fn near_picks_the_nearest_station_from_the_cached_list() {
    let s = AemetServer::meteogalicia();
    let cache = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let args = [
            "--once",
            "--dry-run",
            "--near",
            "42.88,-8.56",
            "--now",
            STATION_NOW,
        ];
        let o = meteo_with(&s, cache.path(), &args).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{err}");
        assert!(
            err.contains("Nearest station: 10124 Santiago-EOAS"),
            "{err}"
        );
        assert!(err.contains("add --municipality"), "{err}");
        assert!(payload(&lines(&o.stdout), ST).is_some());
    }
    assert_eq!(
        s.mg_count(mg::LIST),
        1,
        "the second run reads the cached list"
    );
    assert!(cache.path().join("meteogalicia-stations.json").exists());
}

#[test]
fn no_key_is_asked_for() {
    let s = AemetServer::meteogalicia();
    let r = dry_run(&s, &["--municipality", "15078"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(!r.err.contains("API key"), "{}", r.err);
}
