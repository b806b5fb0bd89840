//! `mq meteo`: official weather observations and forecasts (AEMET OpenData, MeteoGalicia),
//! published over MQTT.

use super::common::{ServerArgs, TlsArgs, VersionArgs, parse_qos};
use crate::protocol::QoS;
use clap::{Args, ValueEnum};
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

/// Where the weather comes from.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SourceName {
    /// AEMET OpenData, the Spanish state weather service (needs a free API key).
    #[default]
    Aemet,
    /// MeteoGalicia, the Galician weather service of the Xunta de Galicia (no key).
    Meteogalicia,
}

impl SourceName {
    /// The name as given on the command line and used in topics.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceName::Aemet => "aemet",
            SourceName::Meteogalicia => "meteogalicia",
        }
    }
}

/// Publish official weather observations and forecasts (AEMET, MeteoGalicia) over MQTT.
///
/// Exit status: 0 all published (or unchanged), 1 usage error or missing API key, 2 API key
/// rejected (invalid or expired), 3 some products failed (the rest were published), 4 broker
/// unreachable or publishes not acknowledged.
#[derive(Args, Debug, Clone)]
#[command(after_help = "\
Sources: --source aemet (default; the API key comes from --api-key, --api-key-file or the
AEMET_API_KEY environment variable) or --source meteogalicia (no key).

Topics (under --prefix, default meteo; all retained; {source} is aemet or meteogalicia):
  meteo/status                                    online / offline (the Last Will)
  meteo/{source}/station/{id}                     latest observation, JSON
  meteo/{source}/station/{id}/{field}             temperature, humidity, pressure, ... bare numbers
  meteo/{source}/municipality/{ine}               current conditions, JSON (MeteoGalicia)
  meteo/{source}/forecast/{ine}/daily             daily forecast, JSON
  meteo/{source}/forecast/{ine}/hourly            hourly forecast, JSON
  meteo/{source}/forecast/{ine}/{today|tomorrow}/temperature/{max|min}
  meteo/{source}/forecast/{ine}/{today|tomorrow}/{precipitation_probability|condition|sky}

Exit status:
  0  everything published, or nothing changed since the last publish
  1  usage error, or no API key
  2  AEMET rejected the API key (invalid or expired)
  3  some products failed (unknown id, source down, bad data); the others were published
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
    #[arg(long = "qos", value_parser = parse_qos, default_value = "1")]
    pub qos: QoS,
    /// The weather service.
    #[arg(long = "source", value_enum, default_value_t = SourceName::Aemet)]
    pub source: SourceName,
    /// Station id (AEMET's IDEMA, MeteoGalicia's idEstacion) whose latest reading is
    /// published; repeatable.
    #[arg(long = "station", value_name = "ID")]
    pub stations: Vec<String>,
    /// Municipality INE code whose forecasts (and, from MeteoGalicia, current conditions)
    /// are published; repeatable.
    #[arg(long = "municipality", value_name = "INE")]
    pub municipalities: Vec<String>,
    /// Use the nearest station reporting temperature and the nearest municipality.
    #[arg(long = "near", value_name = "LAT,LON", value_parser = parse_lat_lon)]
    pub near: Option<(f64, f64)>,
    /// Maximum distance for --near, in km.
    #[arg(long = "max-distance", value_name = "KM", default_value = "40")]
    pub max_distance: f64,
    /// Publish every station of AEMET's observacion/convencional/todas.
    #[arg(long = "all-stations")]
    pub all_stations: bool,
    /// Read the AEMET API key from the first line of this file.
    #[arg(long = "api-key-file", value_name = "FILE")]
    pub api_key_file: Option<PathBuf>,
    /// AEMET API key (prefer --api-key-file or AEMET_API_KEY, which stay out of `ps`).
    #[arg(long = "api-key", value_name = "KEY")]
    pub api_key: Option<String>,
    /// The source's base URL (default: AEMET's https://opendata.aemet.es/opendata/api,
    /// MeteoGalicia's https://servizos.meteogalicia.gal/mgrss).
    #[arg(long = "base-url", value_name = "URL")]
    pub base_url: Option<String>,
    /// Topic prefix.
    #[arg(long = "prefix", default_value = "meteo")]
    pub prefix: String,
    /// Fetch, publish, wait for acknowledgements and exit (for cron).
    #[arg(long = "once")]
    pub once: bool,
    /// Print instead of publishing: tables on a terminal, `topic payload` lines when piped.
    #[arg(long = "dry-run")]
    pub dry_run: bool,
    /// Log more: every request, the retained-topic checks.
    #[arg(short = 'v', long = "verbose", conflicts_with = "quiet")]
    pub verbose: bool,
    /// Log errors only.
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// Publish even what has not changed since the last publish.
    #[arg(long = "force")]
    pub force: bool,
    /// Observation polling interval of the service mode (with --once: how often cron runs
    /// it, which sets how long Home Assistant trusts a value).
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
    /// Minimum spacing of requests to the source (default: 2s for AEMET, 500ms for
    /// MeteoGalicia).
    #[arg(long = "request-interval", value_parser = parse_duration)]
    pub request_interval: Option<Duration>,
    /// Timeout of one HTTP request.
    #[arg(long = "timeout", value_parser = parse_duration, default_value = "60s")]
    pub timeout: Duration,
    /// Retries of a failed request (429, 5xx, network errors; for MeteoGalicia also HTML and
    /// empty answers).
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
