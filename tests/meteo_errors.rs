//! Every AEMET error shape against the fake server: the right message, the right number of
//! requests (retries only for 429, 5xx and network errors), nothing printed for what failed
//! and the rest still published. Runs with `--dry-run`, so no broker is needed.

mod common;
mod meteo_support;
use meteo_support::*;

const STATION: &str = "observacion/convencional/datos/estacion/3195";
const DAILY: &str = "prediccion/especifica/municipio/diaria/28065";
const HOURLY: &str = "prediccion/especifica/municipio/horaria/28065";

fn run(server: &AemetServer, extra: &[&str]) -> Run {
    let mut args = extra.to_vec();
    args.extend(["--station", "3195", "--municipality", "28065"]);
    dry_run(server, &args)
}

fn has_station(r: &Run) -> bool {
    payload(&r.out, "meteo/aemet/station/3195").is_some()
}

fn has_forecasts(r: &Run) -> bool {
    payload(&r.out, "meteo/aemet/forecast/28065/daily").is_some()
        && payload(&r.out, "meteo/aemet/forecast/28065/hourly").is_some()
}

fn status_only(r: &Run) -> bool {
    r.out.iter().all(|(t, _)| t == "meteo/status")
}

#[test]
fn invalid_key_is_final_and_stops_all_requests() {
    let s = AemetServer::start();
    s.route(
        STATION,
        vec![Reply::fixture(
            401,
            JSON_LATIN9,
            "error-401-invalid-key.json",
        )],
    );
    let r = run(&s, &[]);
    assert_eq!(r.code, 2);
    assert!(
        r.err.contains("API key rejected (401): API key invalido"),
        "{}",
        r.err
    );
    assert_eq!(s.count(STATION), 1, "401 must not be retried");
    assert_eq!(
        s.count(DAILY) + s.count(HOURLY),
        0,
        "no point asking with a rejected key"
    );
    assert!(status_only(&r));
}

#[test]
fn expired_key_names_the_cause() {
    let s = AemetServer::start();
    for p in [STATION, DAILY, HOURLY] {
        s.route(
            p,
            vec![Reply::fixture(
                401,
                JSON_LATIN9,
                "error-401-expired-key.json",
            )],
        );
    }
    let r = run(&s, &[]);
    assert_eq!(r.code, 2);
    assert!(r.err.contains("La API Key ha expirado"), "{}", r.err);
    assert_eq!(s.count(STATION), 1);
}

#[test]
fn estado_404_in_a_200_reports_unknown_station_and_publishes_the_rest() {
    let s = AemetServer::start();
    s.route(
        STATION,
        vec![Reply::fixture(200, JSON_LATIN9, "error-404-no-data.json")],
    );
    let r = run(&s, &[]);
    assert_eq!(r.code, 3);
    assert!(
        r.err
            .contains("station 3195: not found: No hay datos que satisfagan esos criterios"),
        "{}",
        r.err
    );
    assert_eq!(s.count(STATION), 1, "404 must not be retried");
    assert!(!has_station(&r));
    assert!(has_forecasts(&r));
}

#[test]
fn rate_limit_429_is_retried_then_succeeds() {
    let s = AemetServer::start();
    let ok = Reply::Envelope("envelope-observation-station-3195.json", "station-3195");
    s.route(
        STATION,
        vec![
            Reply::fixture(429, "text/plain; charset=UTF-8", "error-429-limit.json"),
            ok,
        ],
    );
    let r = run(&s, &[]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(s.count(STATION), 2);
    assert!(
        r.err.contains("límites de uso"),
        "UTF-8 429 body decoded: {}",
        r.err
    );
    assert!(has_station(&r) && has_forecasts(&r));
}

#[test]
fn persistent_429_gives_up_after_the_retries() {
    let s = AemetServer::start();
    s.route(
        STATION,
        vec![Reply::fixture(
            429,
            "text/plain; charset=UTF-8",
            "error-429-global-limit.json",
        )],
    );
    let r = run(&s, &["--retries", "3"]);
    assert_eq!(r.code, 3);
    assert_eq!(s.count(STATION), 4, "first try plus 3 retries");
    assert!(
        r.err
            .contains("station 3195: rate limited: Se ha alcanzado uno de los límites globales"),
        "{}",
        r.err
    );
    assert!(!has_station(&r));
    assert!(has_forecasts(&r));
}

#[test]
fn html_500_saying_429_counts_as_429() {
    let s = AemetServer::start();
    s.route(DAILY, vec![html_500_429()]);
    let r = run(&s, &[]);
    assert_eq!(r.code, 3);
    assert_eq!(s.count(DAILY), 3, "retried like a 429");
    assert!(
        r.err
            .contains("daily forecast 28065: rate limited: HTTP 500 page saying 429"),
        "{}",
        r.err
    );
    assert!(payload(&r.out, "meteo/aemet/forecast/28065/daily").is_none());
    assert!(payload(&r.out, "meteo/aemet/forecast/28065/today/temperature/max").is_none());
    assert!(payload(&r.out, "meteo/aemet/forecast/28065/hourly").is_some());
    assert!(has_station(&r));
}

#[test]
fn plain_5xx_is_retried_then_succeeds() {
    let s = AemetServer::start();
    let ok = Reply::Envelope("envelope-forecast-hourly-28065.json", "hourly-28065");
    s.route(
        HOURLY,
        vec![Reply::Body(503, "text/html", b"<h1>down</h1>".to_vec()), ok],
    );
    let r = run(&s, &[]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(s.count(HOURLY), 2);
    assert!(has_forecasts(&r));
}

#[test]
fn empty_200_body_is_reported_not_retried() {
    let s = AemetServer::start();
    s.route(STATION, vec![Reply::Body(200, "text/plain", Vec::new())]);
    let r = run(&s, &[]);
    assert_eq!(r.code, 3);
    assert_eq!(s.count(STATION), 1);
    assert!(r.err.contains("station 3195: empty response"), "{}", r.err);
    assert!(!has_station(&r) && has_forecasts(&r));
}

#[test]
fn missing_key_header_gets_the_empty_200_and_the_key_is_sent_only_on_step_1() {
    let s = AemetServer::start();
    let r = run(&s, &[]);
    assert_eq!(r.code, 0, "{}", r.err);
    let reqs = s.requests();
    assert_eq!(reqs.len(), 6);
    for (path, key) in reqs {
        if path.starts_with(API) {
            assert_eq!(key.as_deref(), Some("test-key"), "{path}");
        } else {
            assert_eq!(key, None, "datos must be fetched without the key: {path}");
        }
    }
}

#[test]
fn html_404_unknown_route_is_final() {
    let s = AemetServer::start();
    s.route(DAILY, vec![html_404()]);
    let r = run(&s, &[]);
    assert_eq!(r.code, 3);
    assert_eq!(s.count(DAILY), 1);
    assert!(
        r.err.contains("daily forecast 28065: not found: HTTP 404"),
        "{}",
        r.err
    );
    assert!(payload(&r.out, "meteo/aemet/forecast/28065/daily").is_none());
    assert!(has_station(&r));
}

#[test]
fn truncated_json_is_an_invalid_data_error() {
    let s = AemetServer::start();
    s.datos("daily-28065", data("forecast-daily-28065-truncated.json"));
    let r = run(&s, &[]);
    assert_eq!(r.code, 3);
    assert_eq!(s.count(DAILY), 1);
    assert!(
        r.err
            .contains("daily forecast 28065: invalid data: invalid JSON"),
        "{}",
        r.err
    );
    assert!(payload(&r.out, "meteo/aemet/forecast/28065/daily").is_none());
    assert!(payload(&r.out, "meteo/aemet/forecast/28065/hourly").is_some());
}

#[test]
fn datos_answering_404_is_final() {
    let s = AemetServer::start();
    s.raw_route("/opendata/sh/station-3195", vec![html_404()]);
    let r = run(&s, &[]);
    assert_eq!(r.code, 3);
    assert_eq!(s.count(STATION), 1);
    assert_eq!(s.raw_count("/opendata/sh/station-3195"), 1);
    assert!(
        r.err
            .contains("station 3195: not found: the datos URL answered 404"),
        "{}",
        r.err
    );
    assert!(!has_station(&r) && has_forecasts(&r));
}

#[test]
fn connection_reset_is_retried() {
    let s = AemetServer::start();
    let ok = Reply::Envelope("envelope-observation-station-3195.json", "station-3195");
    s.route(STATION, vec![Reply::Reset, ok]);
    let r = run(&s, &[]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(s.count(STATION), 2);
    assert!(has_station(&r));
}

#[test]
fn persistent_connection_reset_fails_after_retries() {
    let s = AemetServer::start();
    s.route(STATION, vec![Reply::Reset]);
    let r = run(&s, &[]);
    assert_eq!(r.code, 3);
    assert_eq!(s.count(STATION), 3);
    assert!(r.err.contains("station 3195: network error"), "{}", r.err);
    assert!(!has_station(&r) && has_forecasts(&r));
}

#[test]
fn timeout_is_retried_then_reported() {
    let s = AemetServer::start();
    s.route(HOURLY, vec![Reply::Hang]);
    let r = run(&s, &["--timeout", "300ms", "--retries", "1"]);
    assert_eq!(r.code, 3);
    assert_eq!(s.count(HOURLY), 2);
    assert!(
        r.err
            .contains("hourly forecast 28065: timed out after 300ms"),
        "{}",
        r.err
    );
    assert!(payload(&r.out, "meteo/aemet/forecast/28065/hourly").is_none());
    assert!(has_station(&r));
}

#[test]
fn missing_key_is_a_usage_error_before_any_request() {
    let s = AemetServer::start();
    let cache = tempfile::tempdir().unwrap();
    let mut cmd = assert_cmd::Command::cargo_bin("mq").unwrap();
    let o = cmd
        .env_remove("AEMET_API_KEY")
        .args([
            "meteo",
            "--once",
            "--dry-run",
            "--station",
            "3195",
            "--base-url",
        ])
        .arg(s.base_url())
        .arg("--cache-dir")
        .arg(cache.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no AEMET API key"));
    assert!(s.requests().is_empty());
}

#[test]
fn key_from_file_and_environment() {
    let s = AemetServer::start();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key");
    std::fs::write(&key, "file-key\n").unwrap();
    for (env, file) in [(Some("env-key"), None), (None, Some(&key))] {
        let mut cmd = assert_cmd::Command::cargo_bin("mq").unwrap();
        cmd.env_remove("AEMET_API_KEY")
            .args([
                "meteo",
                "--once",
                "--dry-run",
                "--station",
                "3195",
                "--request-interval",
                "0",
            ])
            .args(["--now", NOW, "--base-url"])
            .arg(s.base_url())
            .arg("--cache-dir")
            .arg(dir.path());
        if let Some(e) = env {
            cmd.env("AEMET_API_KEY", e);
        }
        if let Some(f) = file {
            cmd.arg("--api-key-file").arg(f);
        }
        cmd.assert().success();
    }
    let keys: Vec<_> = s.requests().into_iter().filter_map(|(_, k)| k).collect();
    assert_eq!(keys, ["env-key", "file-key"]);
}

#[test]
fn low_quota_header_is_warned_about() {
    let s = AemetServer::start();
    let env = "envelope-observation-station-3195.json";
    s.route(
        STATION,
        vec![Reply::EnvelopeWithHeader(
            env,
            "station-3195",
            "Remaining-request-count",
            "3",
        )],
    );
    s.route(
        DAILY,
        vec![Reply::EnvelopeWithHeader(
            "envelope-forecast-daily-28065.json",
            "daily-28065",
            "Remaining-request-endpoint",
            "30",
        )],
    );
    let r = run(&s, &[]);
    assert_eq!(r.code, 0);
    assert_eq!(
        r.err.matches("AEMET quota nearly used up").count(),
        1,
        "{}",
        r.err
    );
    assert!(r.err.contains("3 requests left"));
}
