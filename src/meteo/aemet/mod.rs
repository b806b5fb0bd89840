//! AEMET OpenData, the Spanish state weather service: station observations
//! (`observacion/convencional`), daily and hourly municipal forecasts
//! (`prediccion/especifica/municipio`), and the station and municipality lists for `--near`.
//!
//! | module | what it holds |
//! |---|---|
//! | [`client`] | the HTTP client: two-step envelope, rate limit, timeouts, retries |
//! | [`model`] | tolerant serde types for AEMET's payloads |
//! | [`observation`] | records → the model's reading |
//! | [`forecast`] | daily and hourly forecasts → the model's forecasts |
//! | [`sky`] | sky codes → Home Assistant conditions |
//! | [`places`] | station and municipality lists |
//! | [`key`] | the API key's expiry (a JWT claim), warned about early |

pub mod client;
pub mod forecast;
pub mod key;
pub mod model;
pub mod observation;
pub mod places;
pub mod sky;

pub use super::http::FetchError;
pub use client::{Client, Config, DEFAULT_BASE_URL};

use super::cache::Cache;
use super::model::Snapshot;
use super::places::{nearest_municipality, nearest_station};
use super::source::{Failure, Near, Refresh, Source, SourceInfo, Targets, progress};
use chrono::{DateTime, Utc};
use indicatif::ProgressBar;
use model::{DailyForecast, HourlyForecast, Municipality, Observation, parse_forecast, parse_list};
use std::collections::BTreeMap;
use std::time::Duration;

/// AEMET's facts.
pub static SOURCE: SourceInfo = SourceInfo {
    name: "aemet",
    label: "AEMET",
    attribution: "© AEMET",
    station_max_age: Duration::from_secs(2 * 3600),
    // AEMET has no municipality observations.
    current_max_age: Duration::from_secs(2 * 3600),
    forecast_max_age: Duration::from_secs(12 * 3600),
};

/// The attribution AEMET requires on reuse.
pub const ATTRIBUTION: &str = "© AEMET";

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

impl Client {
    /// Fetches `path`, unless the key was already rejected (no point hammering AEMET).
    async fn get(&self, product: &str, path: &str) -> Result<String, Failure> {
        if self.key_rejected.get() {
            return Err(Failure {
                product: product.into(),
                reason: "skipped: the API key was rejected".into(),
                auth: true,
            });
        }
        self.fetch(path).await.map_err(|e| {
            let auth = matches!(e, FetchError::Auth(_));
            if auth {
                self.key_rejected.set(true);
            }
            Failure {
                product: product.into(),
                reason: e.to_string(),
                auth,
            }
        })
    }

    async fn station(&self, id: &str) -> Result<Vec<Observation>, Failure> {
        let product = format!("station {id}");
        let path = format!("observacion/convencional/datos/estacion/{id}");
        let text = self.get(&product, &path).await?;
        let records: Vec<Observation> =
            parse_list(&text).map_err(|e| Failure::new(&product, format!("invalid data: {e}")))?;
        if observation::station_ids(&records).iter().any(|r| r == id) {
            Ok(records)
        } else {
            Err(Failure::new(&product, "no records for this station"))
        }
    }

    /// Every station's records (`todas`, several MB), grouped by station.
    async fn all(
        &self,
        cache: Option<&Cache>,
    ) -> Result<BTreeMap<String, Vec<Observation>>, Failure> {
        let product = "all stations";
        let text = self.get(product, "observacion/convencional/todas").await?;
        let records: Vec<Observation> =
            parse_list(&text).map_err(|e| Failure::new(product, format!("invalid data: {e}")))?;
        if let Some(cache) = cache {
            // Best effort: the list only speeds up a later --near.
            let _ = cache.store_list(STATIONS_FILE, &places::station_list(&records));
        }
        let mut by_station: BTreeMap<String, Vec<Observation>> = BTreeMap::new();
        for r in records {
            if let Some(id) = r.idema.text().map(str::to_owned) {
                by_station.entry(id).or_default().push(r);
            }
        }
        Ok(by_station)
    }

    async fn forecast<D>(&self, product: &str, path: &str) -> Result<model::Forecast<D>, Failure>
    where
        D: for<'de> serde::Deserialize<'de> + Default,
    {
        let text = self.get(product, path).await?;
        parse_forecast(&text).map_err(|e| Failure::new(product, format!("invalid data: {e}")))
    }

    /// A master list from the cache, else fetched (and cached).
    async fn list<T, R>(
        &self,
        cache: &Cache,
        file: &str,
        what: &str,
        path: &str,
        build: fn(&[R]) -> Vec<T>,
    ) -> Result<Vec<T>, Failure>
    where
        T: serde::Serialize + for<'de> serde::Deserialize<'de>,
        R: for<'de> serde::Deserialize<'de>,
    {
        if let Some(list) = cache.list(file) {
            return Ok(list);
        }
        let text = self.get(what, path).await?;
        let raw: Vec<R> =
            parse_list(&text).map_err(|e| Failure::new(what, format!("invalid data: {e}")))?;
        let list = build(&raw);
        let _ = cache.store_list(file, &list);
        Ok(list)
    }
}

/// The cached station list.
const STATIONS_FILE: &str = "stations.json";
/// The cached municipality list.
const MUNICIPALITIES_FILE: &str = "municipalities.json";

impl Source for Client {
    type Held = Held;

    fn info(&self) -> &'static SourceInfo {
        &SOURCE
    }

    fn key_rejected(&self) -> bool {
        self.key_rejected.get()
    }

    async fn refresh_observations(
        &self,
        targets: &Targets,
        held: &mut Held,
        cache: Option<&Cache>,
    ) -> Refresh {
        let mut out = Refresh::default();
        let pb = progress(
            targets.stations.len() as u64 + u64::from(targets.all_stations),
            "AEMET",
        );
        if targets.all_stations {
            // One slow request (several MB): a spinner shows it is alive.
            let spin = ProgressBar::new_spinner();
            spin.set_message("downloading every station's observations");
            spin.enable_steady_tick(Duration::from_millis(120));
            if let Some(all) = out.record("all stations", self.all(cache).await) {
                held.obs.extend(all);
            }
            spin.finish_and_clear();
            pb.inc(1);
        }
        for id in &targets.stations {
            pb.set_message(format!("station {id}"));
            let label = format!("station {id}");
            if let Some(records) = out.record(&label, self.station(id).await) {
                held.obs.insert(id.clone(), records);
            }
            pb.inc(1);
        }
        pb.finish_and_clear();
        out
    }

    async fn refresh_forecasts(&self, targets: &Targets, held: &mut Held) -> Refresh {
        let mut out = Refresh::default();
        let pb = progress(2 * targets.municipalities.len() as u64, "AEMET");
        for ine in &targets.municipalities {
            pb.set_message(format!("forecast {ine}"));
            let label = format!("daily forecast {ine}");
            let path = format!("prediccion/especifica/municipio/diaria/{ine}");
            if let Some(f) = out.record(&label, self.forecast(&label, &path).await) {
                held.daily.insert(ine.clone(), f);
            }
            pb.inc(1);
            let label = format!("hourly forecast {ine}");
            let path = format!("prediccion/especifica/municipio/horaria/{ine}");
            if let Some(f) = out.record(&label, self.forecast(&label, &path).await) {
                held.hourly.insert(ine.clone(), f);
            }
            pb.inc(1);
        }
        pb.finish_and_clear();
        out
    }

    fn snapshot(&self, held: &Held, now: DateTime<Utc>) -> Snapshot {
        Snapshot {
            readings: held
                .obs
                .iter()
                .filter_map(|(id, records)| observation::reading(records, id, now))
                .collect(),
            current: Vec::new(),
            daily: held
                .daily
                .iter()
                .map(|(ine, f)| forecast::daily(ine, f, now))
                .collect(),
            hourly: held
                .hourly
                .iter()
                .map(|(ine, f)| forecast::hourly(ine, f, now))
                .collect(),
        }
    }

    async fn near(&self, cache: &Cache, lat: f64, lon: f64, max_km: f64) -> Result<Near, Failure> {
        let stations = self
            .list(
                cache,
                STATIONS_FILE,
                "station list",
                "observacion/convencional/todas",
                places::station_list,
            )
            .await?;
        let towns = self
            .list(
                cache,
                MUNICIPALITIES_FILE,
                "municipality list",
                "maestro/municipios",
                |raw: &[Municipality]| places::municipality_list(raw),
            )
            .await?;
        Ok(Near {
            station: nearest_station(&stations, lat, lon, max_km).map(|(s, d)| (s.clone(), d)),
            municipality: nearest_municipality(&towns, lat, lon, max_km)
                .map(|(m, d)| (m.clone(), d)),
        })
    }
}
