//! Test support for `mq meteo`: a local HTTP/1.1 server that plays AEMET OpenData (from the
//! fixture files in `../shared/aemet`) or MeteoGalicia (from `../shared/meteogalicia`), and
//! helpers to run the command against it.
#![allow(dead_code)]

pub mod meteogalicia;
pub mod mqtt;
mod server;

pub use server::*;

use std::path::PathBuf;
use std::time::Duration;

/// The fixture directory: `../shared/aemet` beside the repository, or `AEMET_FIXTURES` when a
/// checkout lives elsewhere.
pub fn fixtures() -> PathBuf {
    match std::env::var_os("AEMET_FIXTURES") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/aemet"),
    }
}

/// MeteoGalicia's fixture directory: `../shared/meteogalicia` beside the repository, or
/// `METEOGALICIA_FIXTURES`.
pub fn mg_fixtures() -> PathBuf {
    match std::env::var_os("METEOGALICIA_FIXTURES") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/meteogalicia"),
    }
}

/// A MeteoGalicia fixture's bytes.
pub fn mg_fixture(name: &str) -> Vec<u8> {
    let p = mg_fixtures().join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("fixture {}: {e}", p.display()))
}

/// A fixture's bytes.
pub fn fixture(name: &str) -> Vec<u8> {
    let p = fixtures().join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("fixture {}: {e}", p.display()))
}

/// A derived case under `tests/data`.
pub fn data(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The fixed "now" of the fixtures: half an hour after the last observation (12:00 UTC on
/// 2021-01-09), after both forecasts were issued.
pub const NOW: &str = "2021-01-09T12:30:00Z";

/// The fast settings the tests use: no rate limit, short backoffs and timeouts, the fixtures'
/// "now".
const FAST: [(&str, &str); 7] = [
    ("--request-interval", "0"),
    ("--backoff", "10ms"),
    ("--backoff-429", "10ms"),
    ("--timeout", "2s"),
    ("--retries", "2"),
    ("--now", NOW),
    ("--api-key", "test-key"),
];

/// The same for MeteoGalicia: no key, and the "now" of its forecast fixtures.
const FAST_MG: [(&str, &str); 6] = [
    ("--request-interval", "0"),
    ("--backoff", "10ms"),
    ("--backoff-429", "10ms"),
    ("--timeout", "2s"),
    ("--retries", "2"),
    ("--now", meteogalicia::NOW),
];

/// The arguments of `mq meteo` against `server` with a private cache dir, the fast settings
/// (unless `extra` sets them) and then `extra`.
pub fn meteo_args(
    server: &AemetServer,
    cache: &std::path::Path,
    extra: &[&str],
) -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = vec!["meteo".into()];
    let fast: &[(&str, &str)] = match server.kind {
        Plays::Aemet => &FAST,
        Plays::MeteoGalicia => {
            args.extend(["--source".into(), "meteogalicia".into()]);
            &FAST_MG
        }
    };
    args.push("--base-url".into());
    args.push(server.base_url().into());
    args.push("--cache-dir".into());
    args.push(cache.into());
    for (flag, value) in fast {
        if !extra.contains(flag) {
            args.push(flag.into());
            args.push(value.into());
        }
    }
    args.extend(extra.iter().map(Into::into));
    args
}

/// `mq meteo` with [`meteo_args`], as an assert_cmd command.
pub fn meteo_with(
    server: &AemetServer,
    cache: &std::path::Path,
    extra: &[&str],
) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_mq"));
    cmd.env_remove("AEMET_API_KEY")
        .env_remove("MQ_METEO_NOW")
        .args(meteo_args(server, cache, extra))
        .timeout(Duration::from_secs(60));
    cmd
}

/// `mq meteo` with [`meteo_args`], started in the background with its output collected.
pub fn spawn_meteo(
    server: &AemetServer,
    cache: &std::path::Path,
    extra: &[&str],
) -> mqtt::Background {
    let child = crate::common::ChildGuard::spawn(
        std::process::Command::new(env!("CARGO_BIN_EXE_mq"))
            .env_remove("AEMET_API_KEY")
            .env_remove("MQ_METEO_NOW")
            .args(meteo_args(server, cache, extra)),
    );
    mqtt::Background { child }
}

/// [`meteo_with`] without extra arguments.
pub fn meteo(server: &AemetServer, cache: &std::path::Path) -> assert_cmd::Command {
    meteo_with(server, cache, &[])
}

/// Parses dry-run output into (topic, payload) pairs.
pub fn lines(stdout: &[u8]) -> Vec<(String, String)> {
    String::from_utf8(stdout.to_vec())
        .expect("utf-8 output")
        .lines()
        .map(|l| {
            let (t, p) = l.split_once(' ').unwrap_or((l, ""));
            (t.to_owned(), p.to_owned())
        })
        .collect()
}

/// One finished `mq meteo --once --dry-run`: its exit status, printed messages and log.
pub struct Run {
    /// Exit status (-1 when killed).
    pub code: i32,
    /// The printed messages, as (topic, payload).
    pub out: Vec<(String, String)>,
    /// Everything it logged.
    pub err: String,
}

/// `mq meteo` with [`meteo_args`] for `extra`, then `--once --dry-run`, with a private cache;
/// its log is echoed for failing tests.
pub fn dry_run(server: &AemetServer, extra: &[&str]) -> Run {
    let cache = tempfile::tempdir().unwrap();
    let o = meteo_with(server, cache.path(), extra)
        .args(["--once", "--dry-run"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    eprintln!("{err}");
    Run {
        code: o.status.code().unwrap_or(-1),
        out: lines(&o.stdout),
        err,
    }
}

/// The JSON payload of `topic`; panics when it was not published.
pub fn json(out: &[(String, String)], topic: &str) -> serde_json::Value {
    let p = payload(out, topic).unwrap_or_else(|| panic!("{topic} not published"));
    serde_json::from_str(p).unwrap()
}

/// The bare number published on `topic`; panics when there is none.
pub fn num(out: &[(String, String)], topic: &str) -> f64 {
    let p = payload(out, topic).unwrap_or_else(|| panic!("{topic} not published"));
    p.parse()
        .unwrap_or_else(|_| panic!("{topic}: not a number: {p}"))
}

/// The payload of `topic` in dry-run output.
pub fn payload<'a>(out: &'a [(String, String)], topic: &str) -> Option<&'a str> {
    out.iter()
        .find(|(t, _)| t == topic)
        .map(|(_, p)| p.as_str())
}
