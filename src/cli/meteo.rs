//! `mq meteo`: AEMET OpenData forecasts and observations, published over MQTT.

use super::common::{ServerArgs, TlsArgs, VersionArgs, parse_qos};
use crate::protocol::QoS;
use clap::Args;
use std::path::PathBuf;
use std::time::Duration;

/// Parses a duration: `500ms`, `2s`, `10m`, `1h`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let v: f64 = num
        .parse()
        .map_err(|_| format!("invalid duration '{s}' (use e.g. 500ms, 2s, 10m, 1h)"))?;
    let secs = match unit {
        "" | "s" => v,
        "ms" => v / 1000.0,
        "m" | "min" => v * 60.0,
        "h" => v * 3600.0,
        _ => return Err(format!("invalid duration unit in '{s}' (ms, s, m or h)")),
    };
    Duration::try_from_secs_f64(secs).map_err(|_| format!("invalid duration '{s}'"))
}

/// Parses `LAT,LON` in decimal degrees.
pub fn parse_lat_lon(s: &str) -> Result<(f64, f64), String> {
    let bad = || format!("invalid coordinates '{s}' (use LAT,LON in decimal degrees)");
    let (a, b) = s.split_once(',').ok_or_else(bad)?;
    let lat: f64 = a.trim().parse().map_err(|_| bad())?;
    let lon: f64 = b.trim().parse().map_err(|_| bad())?;
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
        return Err(bad());
    }
    Ok((lat, lon))
}

/// Publish AEMET OpenData forecasts and current observations over MQTT.
///
/// Exit status: 0 all published (or unchanged), 1 usage error or missing API key, 2 API key
/// rejected (invalid or expired), 3 some products failed (the rest were published), 4 broker
/// unreachable or publishes not acknowledged.
#[derive(Args, Debug, Clone)]
#[command(after_help = "\
The API key comes from --api-key, --api-key-file or the AEMET_API_KEY environment variable.

Topics (under --prefix, default meteo; all retained):
  meteo/status                                    online / offline (the Last Will)
  meteo/aemet/station/{idema}                     latest observation, JSON
  meteo/aemet/station/{idema}/{field}             temperature, humidity, pressure, ... bare numbers
  meteo/aemet/forecast/{ine}/daily                7-day forecast, JSON
  meteo/aemet/forecast/{ine}/hourly               48-hour forecast, JSON
  meteo/aemet/forecast/{ine}/{today|tomorrow}/temperature/{max|min}

Exit status:
  0  everything published, or nothing changed since the last publish
  1  usage error, or no API key
  2  AEMET rejected the API key (invalid or expired)
  3  some products failed; the others were published
  4  the broker was unreachable or did not acknowledge")]
pub struct MeteoArgs {
    /// Broker connection.
    #[command(flatten)]
    pub server: ServerArgs,
    /// Protocol version.
    #[command(flatten)]
    pub version: VersionArgs,
    /// TLS to the broker.
    #[command(flatten)]
    pub tls: TlsArgs,
    /// Client id (default: mq-meteo-PID).
    #[arg(short = 'i', long = "id")]
    pub id: Option<String>,
    /// Keepalive in seconds.
    #[arg(short = 'k', long = "keepalive", default_value = "60")]
    pub keepalive: u16,
    /// QoS of the publishes.
    #[arg(short = 'q', long = "qos", value_parser = parse_qos, default_value = "1")]
    pub qos: QoS,
    /// Station id (IDEMA) whose current observation is published; repeatable.
    #[arg(long = "station", value_name = "IDEMA")]
    pub stations: Vec<String>,
    /// Municipality INE code whose daily and hourly forecast is published; repeatable.
    #[arg(long = "municipality", value_name = "INE")]
    pub municipalities: Vec<String>,
    /// Use the nearest station reporting temperature and the nearest municipality.
    #[arg(long = "near", value_name = "LAT,LON", value_parser = parse_lat_lon)]
    pub near: Option<(f64, f64)>,
    /// Maximum distance for --near, in km.
    #[arg(long = "max-distance", value_name = "KM", default_value = "40")]
    pub max_distance: f64,
    /// Publish every station of observacion/convencional/todas.
    #[arg(long = "all-stations")]
    pub all_stations: bool,
    /// Read the AEMET API key from the first line of this file.
    #[arg(long = "api-key-file", value_name = "FILE")]
    pub api_key_file: Option<PathBuf>,
    /// AEMET API key (prefer --api-key-file or AEMET_API_KEY, which stay out of `ps`).
    #[arg(long = "api-key", value_name = "KEY")]
    pub api_key: Option<String>,
    /// AEMET OpenData base URL.
    #[arg(long = "base-url", value_name = "URL", default_value = crate::meteo::aemet::DEFAULT_BASE_URL)]
    pub base_url: String,
    /// Topic prefix.
    #[arg(long = "prefix", default_value = "meteo")]
    pub prefix: String,
    /// Fetch, publish, wait for acknowledgements and exit (for cron).
    #[arg(long = "once")]
    pub once: bool,
    /// Print `topic payload` lines instead of publishing.
    #[arg(long = "dry-run")]
    pub dry_run: bool,
    /// Publish even what has not changed since the last publish.
    #[arg(long = "force")]
    pub force: bool,
    /// Observation polling interval of the service mode.
    #[arg(long = "interval", value_parser = parse_duration, default_value = "10m")]
    pub interval: Duration,
    /// Forecast polling interval of the service mode.
    #[arg(long = "forecast-interval", value_parser = parse_duration, default_value = "1h")]
    pub forecast_interval: Duration,
    /// Publish Home Assistant MQTT discovery configs.
    #[arg(long = "discovery")]
    pub discovery: bool,
    /// Home Assistant discovery prefix.
    #[arg(long = "discovery-prefix", default_value = "homeassistant")]
    pub discovery_prefix: String,
    /// Cache directory (default $XDG_CACHE_HOME/mq/meteo).
    #[arg(long = "cache-dir", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Minimum spacing of AEMET requests.
    #[arg(long = "request-interval", value_parser = parse_duration, default_value = "2s")]
    pub request_interval: Duration,
    /// Timeout of one HTTP request.
    #[arg(long = "timeout", value_parser = parse_duration, default_value = "60s")]
    pub timeout: Duration,
    /// Retries of a failed request (429, 5xx and network errors only).
    #[arg(long = "retries", default_value = "3")]
    pub retries: u32,
    /// First wait before retrying a 5xx or network error; doubled each time.
    #[arg(long = "backoff", value_parser = parse_duration, default_value = "5s")]
    pub backoff: Duration,
    /// Wait before retrying after a 429 (AEMET's quota is per minute).
    #[arg(long = "backoff-429", value_parser = parse_duration, default_value = "61s")]
    pub backoff_429: Duration,
    /// The current time, RFC 3339 (for reproducible runs).
    #[arg(long = "now", env = "MQ_METEO_NOW", hide = true)]
    pub now: Option<String>,
}
