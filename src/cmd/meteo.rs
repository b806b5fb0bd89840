//! `mq meteo`: fetch AEMET products and publish them retained over MQTT.
//!
//! Exit statuses (documented in `--help`): 0 everything published or unchanged; 1 usage
//! error or no API key; 2 the key was rejected (invalid or expired); 3 some products failed
//! while the rest were published; 4 the broker was unreachable or did not acknowledge.

use crate::cli::meteo::MeteoArgs;
use crate::meteo::aemet::{self, Client};
use crate::meteo::cache::{Cache, PublishState, default_dir};
use crate::meteo::model::{Municipality, Observation, parse_list};
use crate::meteo::mqtt::{MqttSink, client_options};
use crate::meteo::places;
use crate::meteo::publish::Layout;
use crate::meteo::runner::{Failure, Runner, Targets, publish_changed};
use crate::meteo::sink::{DryRun, Sink};
use chrono::{DateTime, Utc};
use std::time::Duration;

/// Everything published or nothing changed.
pub const EXIT_OK: u8 = 0;
/// Usage error, missing API key, nothing near the given point.
pub const EXIT_USAGE: u8 = 1;
/// AEMET rejected the API key (invalid or expired).
pub const EXIT_KEY_REJECTED: u8 = 2;
/// Some products failed; the others were published.
pub const EXIT_PARTIAL: u8 = 3;
/// The broker was unreachable or did not acknowledge.
pub const EXIT_BROKER: u8 = 4;

/// The checked arguments.
pub struct Plan {
    /// The arguments as given.
    pub args: MeteoArgs,
    /// AEMET client settings.
    pub aemet: aemet::Config,
    /// Topic layout.
    pub layout: Layout,
    /// The cache.
    pub cache: Cache,
    /// A fixed "now", for reproducible runs.
    pub now: Option<DateTime<Utc>>,
}

impl Plan {
    /// The current time (or the fixed one).
    pub fn now(&self) -> DateTime<Utc> {
        self.now.unwrap_or_else(Utc::now)
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

/// Checks the arguments into a plan, before any network I/O.
pub fn plan(args: MeteoArgs) -> Result<Plan, String> {
    if args.stations.is_empty()
        && args.municipalities.is_empty()
        && args.near.is_none()
        && !args.all_stations
    {
        return Err(
            "nothing to fetch: give --station, --municipality, --near or --all-stations".into(),
        );
    }
    if args.prefix.is_empty() || args.prefix.contains(['+', '#']) {
        return Err(format!("invalid --prefix '{}'", args.prefix));
    }
    for id in args.stations.iter().chain(&args.municipalities) {
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(format!("invalid station or municipality code '{id}'"));
        }
    }
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
    let aemet = aemet::Config {
        base_url: args.base_url.clone(),
        api_key: api_key(&args)?,
        request_interval: args.request_interval,
        timeout: args.timeout,
        retries: args.retries,
        backoff: args.backoff,
        backoff_429: args.backoff_429,
    };
    let layout = Layout {
        prefix: args.prefix.trim_end_matches('/').to_owned(),
        discovery: args.discovery.then(|| args.discovery_prefix.clone()),
        availability: !args.once,
    };
    Ok(Plan {
        args,
        aemet,
        layout,
        cache: Cache::new(dir),
        now,
    })
}

/// Runs `mq meteo`.
pub async fn run(args: MeteoArgs) -> Result<(), super::Error> {
    let plan = plan(args).map_err(|e| super::Error::Failed(format!("Error: {e}")))?;
    match run_plan(plan).await {
        EXIT_OK => Ok(()),
        status => Err(super::Error::Meteo(status)),
    }
}

async fn run_plan(plan: Plan) -> u8 {
    if let Some(w) = crate::meteo::key::warning(&plan.aemet.api_key, plan.now()) {
        eprintln!("Warning: {w}");
    }
    let client = match Client::new(plan.aemet.clone()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("Error: {e}");
            return EXIT_USAGE;
        }
    };
    let mut targets = Targets {
        stations: plan.args.stations.clone(),
        municipalities: plan.args.municipalities.clone(),
        all_stations: plan.args.all_stations,
    };
    if let Some((lat, lon)) = plan.args.near {
        if let Err(code) = resolve_near(&plan, &client, lat, lon, &mut targets).await {
            return code;
        }
    }
    let status_topic = plan.layout.status_topic();
    if plan.args.dry_run {
        let mut sink = DryRun::new(std::io::stdout().lock(), status_topic);
        return execute(&plan, &client, targets, &mut sink).await;
    }
    let a = &plan.args;
    let opts = match client_options(
        &a.server,
        a.version.protocol_version,
        &a.tls,
        a.id.as_deref(),
        a.keepalive,
        a.qos,
        &status_topic,
    ) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("Error: {e}");
            return EXIT_USAGE;
        }
    };
    let mut sink = MqttSink::new(opts, a.qos, status_topic);
    execute(&plan, &client, targets, &mut sink).await
}

/// Fills `targets` with the station and municipality nearest to (lat, lon).
async fn resolve_near(
    plan: &Plan,
    client: &Client,
    lat: f64,
    lon: f64,
    targets: &mut Targets,
) -> Result<(), u8> {
    let max = plan.args.max_distance;
    let stations = match plan.cache.stations() {
        Some(s) => s,
        None => {
            let text = client
                .fetch("observacion/convencional/todas")
                .await
                .map_err(|e| fail_list("station list", &e))?;
            let records: Vec<Observation> = parse_list(&text).map_err(|e| {
                eprintln!("Error: station list: invalid data: {e}");
                EXIT_PARTIAL
            })?;
            let list = places::station_list(&records);
            let _ = plan.cache.store_stations(&list);
            list
        }
    };
    let towns = match plan.cache.municipalities() {
        Some(m) => m,
        None => {
            let text = client
                .fetch("maestro/municipios")
                .await
                .map_err(|e| fail_list("municipality list", &e))?;
            let raw: Vec<Municipality> = parse_list(&text).map_err(|e| {
                eprintln!("Error: municipality list: invalid data: {e}");
                EXIT_PARTIAL
            })?;
            let list = places::municipality_list(&raw);
            let _ = plan.cache.store_municipalities(&list);
            list
        }
    };
    let station = places::nearest_station(&stations, lat, lon, max);
    let town = places::nearest_municipality(&towns, lat, lon, max);
    if station.is_none() && town.is_none() {
        eprintln!("Error: no station or municipality within {max} km of {lat},{lon}");
        return Err(EXIT_USAGE);
    }
    if let Some((s, d)) = station {
        eprintln!("Nearest station: {} {} ({d:.1} km)", s.id, s.name);
        targets.stations.push(s.id.clone());
    }
    if let Some((m, d)) = town {
        eprintln!("Nearest municipality: {} {} ({d:.1} km)", m.ine, m.name);
        targets.municipalities.push(m.ine.clone());
    }
    Ok(())
}

fn fail_list(what: &str, e: &aemet::FetchError) -> u8 {
    eprintln!("Error: {what}: {e}");
    if matches!(e, aemet::FetchError::Auth(_)) {
        EXIT_KEY_REJECTED
    } else {
        EXIT_PARTIAL
    }
}

fn report(failures: &[Failure]) {
    for f in failures {
        eprintln!("Error: {f}");
    }
}

fn exit_for(failures: &[Failure]) -> u8 {
    if failures.iter().any(|f| f.auth) {
        EXIT_KEY_REJECTED
    } else if failures.is_empty() {
        EXIT_OK
    } else {
        EXIT_PARTIAL
    }
}

async fn execute<S: Sink>(plan: &Plan, client: &Client, targets: Targets, sink: &mut S) -> u8 {
    let mut runner = Runner::new(client, targets, plan.layout.clone(), Some(&plan.cache));
    let mut state = plan.cache.state();
    if let Err(e) = sink.open().await {
        if plan.args.once {
            eprintln!("Error: {e}");
            return EXIT_BROKER;
        }
        // A service outlives broker restarts, including one under way as it starts.
        eprintln!("Warning: {e}; retrying at the next poll");
    }
    if plan.args.once {
        once(plan, &mut runner, sink, &mut state).await
    } else {
        service(plan, &mut runner, sink, &mut state).await
    }
}

/// The publish state is kept per destination: another broker, prefix or discovery setting
/// has not seen what this one was sent.
fn scope(plan: &Plan) -> String {
    let a = &plan.args;
    format!(
        "{}:{} {} {}",
        a.server.host,
        a.server.port.unwrap_or(0),
        plan.layout.prefix,
        plan.layout.discovery.as_deref().unwrap_or("-")
    )
}

fn save_state(plan: &Plan, state: &PublishState) {
    if plan.args.dry_run {
        return;
    }
    if let Err(e) = plan.cache.store_state(state) {
        eprintln!("Warning: cannot write {}: {e}", plan.cache.dir().display());
    }
}

async fn once<S: Sink>(
    plan: &Plan,
    runner: &mut Runner<'_>,
    sink: &mut S,
    state: &mut PublishState,
) -> u8 {
    let mut failures = runner.refresh_observations().await;
    failures.extend(runner.refresh_forecasts().await);
    report(&failures);
    let products = runner.products(plan.now());
    let published = publish_changed(sink, &products, state, &scope(plan), plan.args.force).await;
    let closed = sink.close().await;
    match (published, closed) {
        (Ok(_), Ok(())) => {
            save_state(plan, state);
            exit_for(&failures)
        }
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("Error: {e}");
            EXIT_BROKER
        }
    }
}

/// How often the service checks the broker connection (a local check, no traffic) and
/// re-evaluates staleness between polls.
const CHECK_EVERY: Duration = Duration::from_secs(5);

/// The long-running mode's timers and flags.
struct Service {
    obs: tokio::time::Interval,
    fc: tokio::time::Interval,
    check: tokio::time::Interval,
    /// Everything held must be published again (after a reconnect or a failed publish).
    republish: bool,
    /// The broker is known to be away (warn once, not every check).
    broker_down: bool,
}

fn interval(every: Duration) -> tokio::time::Interval {
    let mut i = tokio::time::interval(every.max(Duration::from_secs(1)));
    i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    i
}

impl Service {
    /// Waits for the next timer, polls what is due, then publishes what changed.
    async fn step<S: Sink>(
        &mut self,
        plan: &Plan,
        runner: &mut Runner<'_>,
        sink: &mut S,
        state: &mut PublishState,
    ) {
        let failures = tokio::select! {
            _ = self.obs.tick() => runner.refresh_observations().await,
            _ = self.fc.tick() => runner.refresh_forecasts().await,
            _ = self.check.tick() => Vec::new(),
        };
        report(&failures);
        match sink.recover().await {
            Ok(reconnected) => {
                if self.broker_down || reconnected {
                    eprintln!("Connected to the broker again; republishing");
                }
                self.broker_down = false;
                self.republish |= reconnected;
            }
            Err(e) => {
                if !self.broker_down {
                    eprintln!("Warning: {e}; retrying every {}s", CHECK_EVERY.as_secs());
                }
                self.broker_down = true;
                return;
            }
        }
        let products = runner.products(plan.now());
        let force = plan.args.force || self.republish;
        match publish_changed(sink, &products, state, &scope(plan), force).await {
            Ok(_) => {
                self.republish = false;
                save_state(plan, state);
            }
            Err(e) => {
                eprintln!("Warning: {e}; will republish after reconnecting");
                self.republish = true;
            }
        }
    }
}

async fn service<S: Sink>(
    plan: &Plan,
    runner: &mut Runner<'_>,
    sink: &mut S,
    state: &mut PublishState,
) -> u8 {
    let mut svc = Service {
        obs: interval(plan.args.interval),
        fc: interval(plan.args.forecast_interval),
        check: {
            // Not immediate: the first two steps are the first polls.
            let every = CHECK_EVERY
                .min(plan.args.interval)
                .max(Duration::from_secs(1));
            let mut i = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            i
        },
        republish: false,
        broker_down: false,
    };
    // The first poll of each kind: a rejected key will not heal by itself.
    for _ in 0..2 {
        svc.step(plan, runner, sink, state).await;
        if runner.auth_failed() {
            let _ = sink.close().await;
            return EXIT_KEY_REJECTED;
        }
    }
    let shutdown = crate::process::terminated();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            _ = svc.step(plan, runner, sink, state) => {}
        }
    }
    match sink.close().await {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("Error: {e}");
            EXIT_BROKER
        }
    }
}
