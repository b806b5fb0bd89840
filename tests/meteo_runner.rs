//! The service cycle through the library: an AEMET outage keeps the last good values, which
//! are republished marked stale once they age, and come back fresh when AEMET does.

mod common;
mod meteo_support;
use chrono::{DateTime, Utc};
use meteo_support::*;
use mq::meteo::aemet::{Client, Config};
use mq::meteo::cache::PublishState;
use mq::meteo::publish::Layout;
use mq::meteo::runner::{Runner, Targets, publish_changed};
use mq::meteo::sink::{DryRun, Sink};
use std::time::Duration;

const STATION: &str = "observacion/convencional/datos/estacion/3195";

fn client(server: &AemetServer) -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::new(Config {
        base_url: server.base_url(),
        api_key: "test-key".into(),
        request_interval: Duration::ZERO,
        timeout: Duration::from_secs(2),
        retries: 1,
        backoff: Duration::from_millis(10),
        backoff_429: Duration::from_millis(10),
    })
    .unwrap()
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[tokio::test]
async fn outage_keeps_last_good_values_and_marks_them_stale() {
    let server = AemetServer::start();
    let client = client(&server);
    let layout = Layout {
        prefix: "meteo".into(),
        discovery: None,
        availability: true,
    };
    let targets = Targets {
        stations: vec!["3195".into()],
        ..Targets::default()
    };
    let mut runner = Runner::new(&client, targets, layout, None);
    let mut state = PublishState::default();
    let mut out = Vec::new();

    assert!(runner.refresh_observations().await.is_empty());
    let products = runner.products(at(NOW));
    let n = publish_changed(
        &mut DryRun::new(&mut out, "s".into()),
        &products,
        &mut state,
        "meteo",
        false,
    )
    .await
    .unwrap();
    assert_eq!(n, 1);

    // AEMET goes down.
    server.route(
        STATION,
        vec![Reply::Body(503, "text/html", b"<h1>503</h1>".to_vec())],
    );
    let failures = runner.refresh_observations().await;
    assert_eq!(failures.len(), 1);
    assert!(failures[0].to_string().contains("server error: HTTP 503"));
    assert_eq!(
        server.count(STATION),
        3,
        "first fetch, then a try and one retry"
    );

    // Same time: nothing new to say.
    let products = runner.products(at(NOW));
    let mut sink = DryRun::new(&mut out, "s".into());
    assert_eq!(
        publish_changed(&mut sink, &products, &mut state, "meteo", false)
            .await
            .unwrap(),
        0
    );

    // Three hours on, the held record is published again, flagged stale.
    let later = at("2021-01-09T15:00:00Z");
    let products = runner.products(later);
    let mut out2 = Vec::new();
    let mut sink = DryRun::new(&mut out2, "s".into());
    assert_eq!(
        publish_changed(&mut sink, &products, &mut state, "meteo", false)
            .await
            .unwrap(),
        1
    );
    sink.close().await.unwrap();
    let printed = lines(&out2);
    let doc = payload(&printed, "meteo/aemet/station/3195").unwrap();
    assert!(doc.contains("\"stale\":true"), "{doc}");
    assert_eq!(
        payload(&printed, "meteo/aemet/station/3195/temperature"),
        Some("-0.7")
    );

    // AEMET is back: fresh data replaces the held data.
    server.route(
        STATION,
        vec![Reply::Envelope(
            "envelope-observation-station-3195.json",
            "station-3195",
        )],
    );
    assert!(runner.refresh_observations().await.is_empty());
    assert_eq!(runner.held.obs["3195"].len(), 23);
}

/// The same through MeteoGalicia: during an outage of its station service the last reading
/// stays, and is published again marked stale once it is older than three 10-minute intervals.
#[tokio::test]
async fn meteogalicia_outage_keeps_the_last_reading_and_marks_it_stale() {
    use meteo_support::meteogalicia::{self as mg, STATION_NOW};
    let _ = rustls::crypto::ring::default_provider().install_default();
    let server = AemetServer::meteogalicia();
    let client = mq::meteo::meteogalicia::Client::new(mq::meteo::meteogalicia::Config {
        base_url: server.base_url(),
        http: mq::meteo::http::HttpConfig {
            request_interval: Duration::ZERO,
            timeout: Duration::from_secs(2),
            retries: 1,
            backoff: Duration::from_millis(10),
            backoff_429: Duration::from_millis(10),
        },
    })
    .unwrap();
    let layout = Layout {
        prefix: "meteo".into(),
        discovery: None,
        availability: true,
    };
    let targets = Targets {
        stations: vec!["10124".into()],
        ..Targets::default()
    };
    let mut runner = Runner::new(&client, targets, layout, None);
    let mut state = PublishState::default();
    assert!(runner.refresh_observations().await.is_empty());
    let mut out = Vec::new();
    let mut sink = DryRun::new(&mut out, "s".into());
    let products = runner.products(at(STATION_NOW));
    let n = publish_changed(&mut sink, &products, &mut state, "m", false);
    assert_eq!(n.await.unwrap(), 1);

    server.mg_route(
        mg::STATION,
        vec![Reply::Body(502, "text/html", b"<h1>502</h1>".to_vec())],
    );
    let failures = runner.refresh_observations().await;
    assert_eq!(failures.len(), 1);
    assert_eq!(
        failures[0].to_string(),
        "station 10124: server error: HTTP 502"
    );

    let later = at("2026-09-27T22:10:00Z");
    let mut out = Vec::new();
    let mut sink = DryRun::new(&mut out, "s".into());
    let products = runner.products(later);
    let n = publish_changed(&mut sink, &products, &mut state, "m", false);
    assert_eq!(n.await.unwrap(), 1, "the stale flag is a change");
    let printed = lines(&out);
    let doc = payload(&printed, "meteo/meteogalicia/station/10124").unwrap();
    assert!(doc.contains("\"stale\":true"), "{doc}");
    assert!(doc.contains("\"time\":\"2026-09-27T21:30:00Z\""), "{doc}");
    assert_eq!(
        payload(&printed, "meteo/meteogalicia/station/10124/temperature"),
        Some("17.51")
    );
}
