//! What a weather source is to the rest of `mq meteo`: a module that fetches its products,
//! keeps the last good responses, and maps them into the [model](super::model).
//!
//! Adding a source means one module implementing [`Source`]; topics, payloads, Home Assistant
//! discovery, the service loop and the terminal view come from the core.

use super::cache::Cache;
use super::model::Snapshot;
use super::places::{MunicipalityInfo, StationInfo};
use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use std::time::Duration;

/// A source's fixed facts.
#[derive(Debug)]
pub struct SourceInfo {
    /// Name on the command line and in topics: `aemet`, `meteogalicia`.
    pub name: &'static str,
    /// Name for people: `AEMET`, `MeteoGalicia`.
    pub label: &'static str,
    /// The attribution its licence asks for, carried by every JSON payload.
    pub attribution: &'static str,
    /// A station reading older than this is stale.
    pub station_max_age: Duration,
    /// A municipality observation older than this is stale.
    pub current_max_age: Duration,
    /// How long a forecast stays good without a new one.
    pub forecast_max_age: Duration,
}

/// What to fetch.
#[derive(Debug, Clone, Default)]
pub struct Targets {
    /// Station ids.
    pub stations: Vec<String>,
    /// Municipality INE codes.
    pub municipalities: Vec<String>,
    /// Every station of the network.
    pub all_stations: bool,
}

/// A product that could not be fetched or understood.
#[derive(Debug, Clone)]
pub struct Failure {
    /// What it was, e.g. `station 3195`.
    pub product: String,
    /// Why.
    pub reason: String,
    /// The key was rejected (401): nothing else will work either.
    pub auth: bool,
}

impl Failure {
    /// A failure that is not about the key.
    pub fn new(product: impl Into<String>, reason: impl Into<String>) -> Self {
        Failure {
            product: product.into(),
            reason: reason.into(),
            auth: false,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.product, self.reason)
    }
}

/// The outcome of one refresh: products fetched (by label, e.g. `station 3195`) and failures.
#[derive(Debug, Default)]
pub struct Refresh {
    /// Labels of the products whose data was replaced by fresh data.
    pub fetched: Vec<String>,
    /// What failed.
    pub failures: Vec<Failure>,
}

impl Refresh {
    /// Records one product's outcome.
    pub fn record<T>(&mut self, label: &str, r: Result<T, Failure>) -> Option<T> {
        match r {
            Ok(v) => {
                self.fetched.push(label.to_owned());
                Some(v)
            }
            Err(f) => {
                self.failures.push(f);
                None
            }
        }
    }
}

/// What `--near` found.
#[derive(Debug, Default)]
pub struct Near {
    /// The nearest station reporting temperature, and its distance in km.
    pub station: Option<(StationInfo, f64)>,
    /// The nearest municipality, and its distance in km.
    pub municipality: Option<(MunicipalityInfo, f64)>,
}

/// A weather source.
// The futures need not be Send: the command runs on a current-thread runtime.
#[allow(async_fn_in_trait)]
pub trait Source {
    /// The last good responses, kept across failed fetches.
    type Held: Default;

    /// Name, attribution, staleness limits.
    fn info(&self) -> &'static SourceInfo;

    /// True once the source rejected the credentials: retrying will not help.
    fn key_rejected(&self) -> bool {
        false
    }

    /// Fetches the station readings (and any other observations) into `held`.
    async fn refresh_observations(
        &self,
        targets: &Targets,
        held: &mut Self::Held,
        cache: Option<&Cache>,
    ) -> Refresh;

    /// Fetches the forecasts into `held`.
    async fn refresh_forecasts(&self, targets: &Targets, held: &mut Self::Held) -> Refresh;

    /// Everything held, in the model, as of `now` (which decides staleness and the latest
    /// record).
    fn snapshot(&self, held: &Self::Held, now: DateTime<Utc>) -> Snapshot;

    /// The nearest station and municipality to a point, from the (cached) lists.
    async fn near(&self, cache: &Cache, lat: f64, lon: f64, max_km: f64) -> Result<Near, Failure>;
}

/// Requests at or above this count get a progress bar (on a terminal only).
const PROGRESS_MIN: u64 = 4;

/// A progress bar for `total` requests to `label`, drawn on stderr only when it is a terminal
/// and there are enough requests to be worth it.
pub fn progress(total: u64, label: &str) -> ProgressBar {
    if total < PROGRESS_MIN {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(total);
    let template = format!("{{bar:30}} {{pos}}/{{len}} {label} requests {{msg}}");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        pb.set_style(style);
    }
    pb
}
