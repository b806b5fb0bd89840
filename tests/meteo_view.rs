//! `mq meteo --dry-run` on a terminal draws tables (run under a pseudo-terminal from Python's
//! `pty` module); piped, it prints `topic payload` lines. And the log: one start line,
//! one line per product, `--quiet` and `-v`, no colours when not on a terminal.

mod common;
mod meteo_support;
use common::{Peer, require};
use meteo_support::meteogalicia::STATION_NOW;
use meteo_support::*;

/// Runs `ARGV` (through `sh -c`) under a pseudo-terminal made by Python's `pty` module.
const PTY: &str = "import os, pty, sys
status = pty.spawn(['sh', '-c', sys.argv[1]])
sys.exit(os.waitstatus_to_exitcode(status))";

/// Runs `mq ARGS` under a pseudo-terminal and returns what it drew, or `None` when python3 is
/// missing (a failure under `CI=true`).
fn on_a_terminal(args: &[std::ffi::OsString]) -> Option<String> {
    if !require(&[Peer::Python3]) {
        return None;
    }
    let quote = |a: &std::ffi::OsStr| format!("'{}'", a.to_string_lossy().replace('\'', "'\\''"));
    let mut line = quote(common::mq_path().as_os_str());
    for a in args {
        line.push(' ');
        line.push_str(&quote(a));
    }
    // stderr to /dev/null: the drawing is on stdout, the log is checked elsewhere.
    line.push_str(" 2>/dev/null");
    let o = std::process::Command::new("python3")
        .args(["-c", PTY, &line])
        .env_remove("AEMET_API_KEY")
        .env("TERM", "dumb")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("python3");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    Some(String::from_utf8_lossy(&o.stdout).replace("\r\n", "\n"))
}

/// `mq meteo --once --dry-run EXTRA` against `server`, drawn on a pseudo-terminal.
fn drawn(server: &AemetServer, extra: &[&str]) -> Option<String> {
    let cache = tempfile::tempdir().unwrap();
    let mut a = vec!["--once", "--dry-run"];
    a.extend(extra);
    on_a_terminal(&meteo_args(server, cache.path(), &a))
}

#[test]
fn a_terminal_gets_a_table_per_station_and_municipality() {
    let s = AemetServer::start();
    let Some(out) = drawn(&s, &["--station", "3195", "--municipality", "28065"]) else {
        return;
    };
    eprintln!("{out}");
    for want in [
        "Station 3195 · MADRID RETIRO",
        "© AEMET",
        "observed 2021-01-09 12:00 UTC · 30 min ago",
        "temperature                -0.7 °C",
        "humidity                     99 %",
        "Getafe (28065), Madrid",
        "forecast issued 2021-01-09 11:54 +01:00 · 96 min ago",
        "today      max    2 °C · min   -1 °C · rain 100 % · Cubierto con nieve",
        "tomorrow   max    4 °C · min   -4 °C · rain 30 % · Intervalos nubosos",
        "at 40.411804, -3.678095, 667 m",
        "next 42 h",
    ] {
        assert!(out.contains(want), "{want:?} in\n{out}");
    }
    let spark = out.lines().find(|l| l.contains("next 42 h")).unwrap();
    assert!(spark.chars().any(|c| ('▁'..='█').contains(&c)), "{spark}");
    assert!(
        !out.contains("meteo/aemet/"),
        "no topic lines on a terminal"
    );
    assert!(!out.contains('\x1b'), "no colours or cursor moves");
}

#[test]
fn a_stale_meteogalicia_reading_is_drawn_as_not_current() {
    let s = AemetServer::meteogalicia();
    let now = "2026-09-27T23:30:00Z";
    let args = [
        "--station",
        "10124",
        "--municipality",
        "15078",
        "--now",
        now,
    ];
    let Some(out) = drawn(&s, &args) else {
        return;
    };
    eprintln!("{out}");
    for want in [
        "Station 10124 · Santiago-EOAS",
        "MeteoGalicia · Xunta de Galicia",
        "observed 2026-09-27 21:30 UTC · 2 h ago · STALE: last known values, not current",
        "Santiago de Compostela (15078)",
        "forecast from 2026-09-26 · STALE: not renewed today",
        "last       15.8 °C (feels like 15.8 °C) · Cuberto",
        "today      max   22 °C · min   15 °C · rain 55 % · Chuvasco 75%",
    ] {
        assert!(out.contains(want), "{want:?} in\n{out}");
    }
}

#[test]
fn piped_output_stays_topic_payload_lines() {
    let s = AemetServer::start();
    let cache = tempfile::tempdir().unwrap();
    let o = meteo_with(
        &s,
        cache.path(),
        &["--once", "--dry-run", "--station", "3195"],
    )
    .output()
    .unwrap();
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.lines().all(|l| l.starts_with("meteo/")), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("meteo/aemet/station/3195 {"))
    );
}

fn log_of(server: &AemetServer, extra: &[&str]) -> (i32, String) {
    let r = dry_run(server, extra);
    (r.code, r.err)
}

#[test]
fn the_log_has_a_start_line_and_one_line_per_product() {
    let s = AemetServer::start();
    let (code, err) = log_of(&s, &["--station", "3195", "--municipality", "28065"]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines,
        [
            "mq meteo 0.1.0: source AEMET, stations 3195, municipalities 28065, broker none (dry run), once",
            "station 3195: fetched (observed 2021-01-09T12:00:00Z), published",
            "daily forecast 28065: fetched (issued 2021-01-09T11:54:00+01:00), published",
            "hourly forecast 28065: fetched (issued 2021-01-09T11:47:45+01:00), published",
        ]
    );
    let (_, err) = log_of(&s, &["--station", "3195", "--now", "2021-01-09T15:00:00Z"]);
    assert!(
        err.contains("station 3195: fetched (observed 2021-01-09T12:00:00Z), stale, published"),
        "{err}"
    );
}

#[test]
fn quiet_keeps_only_errors_and_verbose_shows_requests() {
    let s = AemetServer::start();
    let (code, err) = log_of(&s, &["--station", "3195", "--quiet"]);
    assert_eq!((code, err.as_str()), (0, ""));
    s.route(
        "prediccion/especifica/municipio/diaria/28065",
        vec![Reply::Body(503, "text/html", b"<h1>503</h1>".to_vec())],
    );
    let (code, err) = log_of(&s, &["--municipality", "28065", "-q", "--retries", "1"]);
    assert_eq!(code, 3);
    assert_eq!(
        err.lines().collect::<Vec<_>>(),
        ["Error: daily forecast 28065: server error: HTTP 503"],
        "no retry warnings, no product lines"
    );
    let (_, err) = log_of(&s, &["--station", "3195", "-v"]);
    assert!(err.contains("GET http://127.0.0.1:"), "{err}");
    assert!(
        err.contains("/opendata/api/observacion/convencional/datos/estacion/3195"),
        "{err}"
    );
    let (code, _) = log_of(&s, &["--station", "3195", "-v", "--quiet"]);
    assert_eq!(code, 1, "-v and --quiet contradict each other");
}

#[test]
fn the_log_has_no_colours_or_progress_when_piped() {
    let s = AemetServer::meteogalicia();
    let mut args = vec!["--now", STATION_NOW, "--station", "10124"];
    for ine in ["15078", "15079", "15080", "15081"] {
        args.extend(["--municipality", ine]);
    }
    let (_, err) = log_of(&s, &args);
    assert!(!err.contains('\x1b'), "{err}");
    assert!(!err.contains('\r'), "{err}");
    assert!(!err.contains("requests"), "no progress bar: {err}");
}
