//! The command line checked into a [`Plan`], before any network I/O: which source with which
//! settings, what to fetch, where to publish, how loud to be. A flag that does not apply to the
//! chosen source is a usage error naming it.

use super::aemet;
use super::cache::{Cache, default_dir};
use super::discovery::Cadence;
use super::http::HttpConfig;
use super::log::Level;
use super::meteogalicia;
use super::mqtt::client_options;
use super::publish::Layout;
use super::source::Targets;
use crate::cli::meteo::{MeteoArgs, SourceName};
use crate::client::ClientOptions;
use crate::protocol::QoS;
use chrono::{DateTime, Utc};
use std::io::IsTerminal;
use std::time::Duration;

/// The source and its client settings.
#[derive(Debug, Clone)]
pub enum SourcePlan {
    /// AEMET OpenData.
    Aemet(aemet::Config),
    /// MeteoGalicia.
    MeteoGalicia(meteogalicia::Config),
}

/// Where messages go.
#[derive(Debug, Clone)]
pub enum Output {
    /// Printed: tables for a person at a terminal, else `topic payload` lines.
    DryRun {
        /// Draw tables.
        table: bool,
    },
    /// Published to a broker.
    Broker {
        /// Connection settings, with the will.
        opts: Box<ClientOptions>,
        /// QoS of the publishes.
        qos: QoS,
    },
}

/// Everything a run needs, checked.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The source.
    pub source: SourcePlan,
    /// What to fetch (before `--near`).
    pub targets: Targets,
    /// `--near LAT,LON`.
    pub near: Option<(f64, f64)>,
    /// `--max-distance`, km.
    pub max_distance: f64,
    /// Topic layout.
    pub layout: Layout,
    /// The cache.
    pub cache: Cache,
    /// A fixed "now", for reproducible runs.
    pub now: Option<DateTime<Utc>>,
    /// Fetch, publish and exit.
    pub once: bool,
    /// Publish even what has not changed.
    pub force: bool,
    /// Where messages go.
    pub output: Output,
    /// Polling intervals.
    pub cadence: Cadence,
    /// Where the publish state is kept: another broker, prefix or discovery setting has not
    /// seen what this one was sent.
    pub scope: String,
    /// The broker, for the start line.
    pub broker: String,
    /// How much is logged.
    pub level: Level,
}

impl Plan {
    /// The current time (or the fixed one).
    pub fn now(&self) -> DateTime<Utc> {
        self.now.unwrap_or_else(Utc::now)
    }

    /// True for `--dry-run`.
    pub fn dry_run(&self) -> bool {
        matches!(self.output, Output::DryRun { .. })
    }
}

fn api_key(args: &MeteoArgs) -> Result<String, String> {
    let key = if let Some(k) = &args.api_key {
        k.clone()
    } else if let Some(path) = &args.api_key_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read API key file {}: {e}", path.display()))?;
        text.lines().next().unwrap_or("").to_owned()
    } else {
        std::env::var("AEMET_API_KEY").unwrap_or_default()
    };
    let key = key.trim().to_owned();
    if key.is_empty() {
        return Err(
            "no AEMET API key: use --api-key-file FILE, the AEMET_API_KEY environment \
                    variable or --api-key (get one at https://opendata.aemet.es)"
                .into(),
        );
    }
    Ok(key)
}

/// The flags given that `source` has no use for.
fn foreign_flags(args: &MeteoArgs) -> Vec<&'static str> {
    match args.source {
        SourceName::Aemet => Vec::new(),
        SourceName::Meteogalicia => [
            ("--api-key", args.api_key.is_some()),
            ("--api-key-file", args.api_key_file.is_some()),
            ("--all-stations", args.all_stations),
        ]
        .into_iter()
        .filter_map(|(flag, given)| given.then_some(flag))
        .collect(),
    }
}

fn check_targets(args: &MeteoArgs) -> Result<(), String> {
    if args.stations.is_empty()
        && args.municipalities.is_empty()
        && args.near.is_none()
        && !args.all_stations
    {
        return Err(
            "nothing to fetch: give --station, --municipality, --near or --all-stations".into(),
        );
    }
    if let Some(flag) = foreign_flags(args).first() {
        return Err(format!(
            "{flag} does not apply to --source {}",
            args.source.as_str()
        ));
    }
    if args.prefix.is_empty() || args.prefix.contains(['+', '#']) {
        return Err(format!("invalid --prefix '{}'", args.prefix));
    }
    for id in args.stations.iter().chain(&args.municipalities) {
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(format!("invalid station or municipality code '{id}'"));
        }
    }
    Ok(())
}

fn source_plan(args: &MeteoArgs) -> Result<SourcePlan, String> {
    let http = |default_interval| HttpConfig {
        request_interval: args.request_interval.unwrap_or(default_interval),
        timeout: args.timeout,
        retries: args.retries,
        backoff: args.backoff,
        backoff_429: args.backoff_429,
    };
    Ok(match args.source {
        SourceName::Aemet => {
            let h = http(Duration::from_secs(2));
            SourcePlan::Aemet(aemet::Config {
                base_url: base_url(args, aemet::DEFAULT_BASE_URL),
                api_key: api_key(args)?,
                request_interval: h.request_interval,
                timeout: h.timeout,
                retries: h.retries,
                backoff: h.backoff,
                backoff_429: h.backoff_429,
            })
        }
        SourceName::Meteogalicia => SourcePlan::MeteoGalicia(meteogalicia::Config {
            base_url: base_url(args, meteogalicia::DEFAULT_BASE_URL),
            http: http(Duration::from_millis(500)),
        }),
    })
}

fn base_url(args: &MeteoArgs, default: &str) -> String {
    args.base_url.clone().unwrap_or_else(|| default.to_owned())
}

fn output(args: &MeteoArgs, status_topic: &str) -> Result<Output, String> {
    if args.dry_run {
        return Ok(Output::DryRun {
            table: std::io::stdout().is_terminal(),
        });
    }
    let opts = client_options(
        &args.server,
        args.version.protocol_version,
        &args.tls,
        args.id.as_deref(),
        args.keepalive,
        args.qos,
        status_topic,
    )?;
    Ok(Output::Broker {
        opts: Box::new(opts),
        qos: args.qos,
    })
}

/// Checks the arguments into a plan, before any network I/O.
pub fn plan(args: &MeteoArgs) -> Result<Plan, String> {
    check_targets(args)?;
    let now = match &args.now {
        Some(s) => Some(
            DateTime::parse_from_rfc3339(s)
                .map_err(|e| format!("invalid --now '{s}': {e}"))?
                .with_timezone(&Utc),
        ),
        None => None,
    };
    let dir = match &args.cache_dir {
        Some(d) => d.clone(),
        None => {
            default_dir().ok_or("no cache directory: set --cache-dir, XDG_CACHE_HOME or HOME")?
        }
    };
    let source = source_plan(args)?;
    let layout = Layout {
        prefix: args.prefix.trim_end_matches('/').to_owned(),
        discovery: args.discovery.then(|| args.discovery_prefix.clone()),
        availability: !args.once,
    };
    let output = output(args, &layout.status_topic())?;
    let port = args.server.port.unwrap_or(0);
    let scope = format!(
        "{}:{port} {} {}",
        args.server.host,
        layout.prefix,
        layout.discovery.as_deref().unwrap_or("-")
    );
    let broker = match &output {
        Output::DryRun { .. } => "none (dry run)".to_owned(),
        Output::Broker { opts, .. } => format!("{}:{}", opts.host, opts.port),
    };
    Ok(Plan {
        source,
        targets: Targets {
            stations: args.stations.clone(),
            municipalities: args.municipalities.clone(),
            all_stations: args.all_stations,
        },
        near: args.near,
        max_distance: args.max_distance,
        layout,
        cache: Cache::new(dir),
        now,
        once: args.once,
        force: args.force,
        output,
        cadence: Cadence {
            observations: args.interval,
            forecasts: args.forecast_interval,
        },
        scope,
        broker,
        level: match (args.quiet, args.verbose) {
            (true, _) => Level::Quiet,
            (_, true) => Level::Verbose,
            _ => Level::Normal,
        },
    })
}
