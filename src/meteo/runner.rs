//! The fetch → map → publish cycle shared by `--once` and the service mode.
//!
//! The runner holds the last good data of every product. A failed fetch leaves the held data
//! in place, so the values stay published and their `stale` flag turns on with age; a
//! broker restart is answered by publishing everything held again.

use super::aemet::{Client, FetchError};
use super::cache::PublishState;
use super::model::{DailyForecast, HourlyForecast, Observation, parse_forecast, parse_list};
use super::publish::{Layout, Product, station_ids, station_product};
use super::sink::{Sink, SinkError};
use super::{forecast, places};
use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::BTreeMap;

/// What to fetch.
#[derive(Debug, Clone, Default)]
pub struct Targets {
    /// Station ids.
    pub stations: Vec<String>,
    /// Municipality INE codes.
    pub municipalities: Vec<String>,
    /// Every station of `observacion/convencional/todas`.
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

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.product, self.reason)
    }
}

/// The last good data of every product.
#[derive(Debug, Default)]
pub struct Held {
    /// Observation records per station.
    pub obs: BTreeMap<String, Vec<Observation>>,
    /// Daily forecasts per municipality.
    pub daily: BTreeMap<String, DailyForecast>,
    /// Hourly forecasts per municipality.
    pub hourly: BTreeMap<String, HourlyForecast>,
}

/// Fetches products and keeps the last good data.
pub struct Runner<'a> {
    client: &'a Client,
    targets: Targets,
    layout: Layout,
    cache: Option<&'a super::cache::Cache>,
    /// Held data.
    pub held: Held,
    auth_failed: bool,
}

/// Requests at or above this count get a progress bar (on a terminal only).
const PROGRESS_MIN: u64 = 4;
/// Products at or above this count get a progress bar while they are published.
const PROGRESS_PUBLISH_MIN: usize = 50;

fn progress(total: u64) -> ProgressBar {
    if total < PROGRESS_MIN {
        return ProgressBar::hidden();
    }
    // Draws to stderr, and only when stderr is a terminal.
    let pb = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} AEMET requests {msg}") {
        pb.set_style(style);
    }
    pb
}

impl<'a> Runner<'a> {
    /// A runner with nothing held yet. The cache, if given, receives the station list from
    /// every `todas` dump.
    pub fn new(
        client: &'a Client,
        targets: Targets,
        layout: Layout,
        cache: Option<&'a super::cache::Cache>,
    ) -> Self {
        Runner {
            client,
            targets,
            layout,
            cache,
            held: Held::default(),
            auth_failed: false,
        }
    }

    /// True once AEMET has rejected the key.
    pub fn auth_failed(&self) -> bool {
        self.auth_failed
    }

    /// Fetches `path`, unless the key was already rejected (no point hammering AEMET).
    async fn get(&mut self, product: &str, path: &str) -> Result<String, Failure> {
        if self.auth_failed {
            return Err(Failure {
                product: product.into(),
                reason: "skipped: the API key was rejected".into(),
                auth: true,
            });
        }
        self.client.fetch(path).await.map_err(|e| {
            let auth = matches!(e, FetchError::Auth(_));
            self.auth_failed |= auth;
            Failure {
                product: product.into(),
                reason: e.to_string(),
                auth,
            }
        })
    }

    /// Refreshes the observations; returns what failed.
    pub async fn refresh_observations(&mut self) -> Vec<Failure> {
        let mut failures = Vec::new();
        let stations = self.targets.stations.clone();
        let pb = progress(stations.len() as u64 + u64::from(self.targets.all_stations));
        if self.targets.all_stations {
            // One slow request (several MB): a spinner shows it is alive.
            let spin = ProgressBar::new_spinner();
            spin.set_message("downloading every station's observations");
            spin.enable_steady_tick(std::time::Duration::from_millis(120));
            if let Err(f) = self.fetch_all().await {
                failures.push(f);
            }
            spin.finish_and_clear();
            pb.inc(1);
        }
        for id in stations {
            pb.set_message(format!("station {id}"));
            let product = format!("station {id}");
            let path = format!("observacion/convencional/datos/estacion/{id}");
            let result = self.get(&product, &path).await.and_then(|text| {
                let records: Vec<Observation> = parse_list(&text).map_err(|e| Failure {
                    product: product.clone(),
                    reason: format!("invalid data: {e}"),
                    auth: false,
                })?;
                if station_ids(&records).iter().any(|r| r == &id) {
                    Ok(records)
                } else {
                    Err(Failure {
                        product: product.clone(),
                        reason: "no records for this station".into(),
                        auth: false,
                    })
                }
            });
            match result {
                Ok(records) => {
                    self.held.obs.insert(id.clone(), records);
                }
                Err(f) => failures.push(f),
            }
            pb.inc(1);
        }
        pb.finish_and_clear();
        failures
    }

    async fn fetch_all(&mut self) -> Result<(), Failure> {
        let product = "all stations";
        let text = self.get(product, "observacion/convencional/todas").await?;
        let records: Vec<Observation> = parse_list(&text).map_err(|e| Failure {
            product: product.into(),
            reason: format!("invalid data: {e}"),
            auth: false,
        })?;
        if let Some(cache) = self.cache {
            // Best effort: the list only speeds up a later --near.
            let _ = cache.store_stations(&places::station_list(&records));
        }
        let mut by_station: BTreeMap<String, Vec<Observation>> = BTreeMap::new();
        for r in records {
            if let Some(id) = r.idema.text().map(str::to_owned) {
                by_station.entry(id).or_default().push(r);
            }
        }
        self.held.obs.extend(by_station);
        Ok(())
    }

    /// Refreshes the daily and hourly forecasts; returns what failed.
    pub async fn refresh_forecasts(&mut self) -> Vec<Failure> {
        let mut failures = Vec::new();
        let towns = self.targets.municipalities.clone();
        let pb = progress(2 * towns.len() as u64);
        for ine in towns {
            pb.set_message(format!("forecast {ine}"));
            let daily = format!("prediccion/especifica/municipio/diaria/{ine}");
            match self
                .get_forecast(&format!("daily forecast {ine}"), &daily)
                .await
            {
                Ok(f) => {
                    self.held.daily.insert(ine.clone(), f);
                }
                Err(f) => failures.push(f),
            }
            pb.inc(1);
            let hourly = format!("prediccion/especifica/municipio/horaria/{ine}");
            match self
                .get_forecast(&format!("hourly forecast {ine}"), &hourly)
                .await
            {
                Ok(f) => {
                    self.held.hourly.insert(ine.clone(), f);
                }
                Err(f) => failures.push(f),
            }
            pb.inc(1);
        }
        pb.finish_and_clear();
        failures
    }

    async fn get_forecast<D>(
        &mut self,
        product: &str,
        path: &str,
    ) -> Result<super::model::Forecast<D>, Failure>
    where
        D: for<'de> serde::Deserialize<'de> + Default,
    {
        let text = self.get(product, path).await?;
        parse_forecast(&text).map_err(|e| Failure {
            product: product.into(),
            reason: format!("invalid data: {e}"),
            auth: false,
        })
    }

    /// Every product that can be built from the held data, as of `now`.
    pub fn products(&self, now: DateTime<Utc>) -> Vec<Product> {
        let mut out = Vec::new();
        for (id, records) in &self.held.obs {
            out.extend(station_product(&self.layout, records, id, now));
        }
        for (ine, f) in &self.held.daily {
            out.push(forecast::daily_product(&self.layout, ine, f, now));
        }
        for (ine, f) in &self.held.hourly {
            out.push(forecast::hourly_product(&self.layout, ine, f, now));
        }
        out
    }
}

/// Publishes the products whose stamp changed (all of them with `force`) and records the
/// stamps of what was delivered. Returns how many products were published.
pub async fn publish_changed<S: Sink>(
    sink: &mut S,
    products: &[Product],
    state: &mut PublishState,
    scope: &str,
    force: bool,
) -> Result<usize, SinkError> {
    let todo: Vec<&Product> = products
        .iter()
        .filter(|p| force || state.changed(scope, &p.key, &p.stamp))
        .collect();
    let pb = if todo.len() >= PROGRESS_PUBLISH_MIN {
        ProgressBar::new(todo.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} products published") {
        pb.set_style(style);
    }
    for p in &todo {
        sink.publish(&p.messages).await?;
        state.record(scope, &p.key, &p.stamp);
        pb.inc(1);
    }
    pb.finish_and_clear();
    Ok(todo.len())
}
