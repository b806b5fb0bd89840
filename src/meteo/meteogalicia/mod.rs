//! MeteoGalicia, the Galician weather service (Xunta de Galicia): station readings every 10
//! minutes, municipality observations, daily (days 0–3 and 4–7) and hourly municipal forecasts,
//! and the station list for `--near`. Open data, no key, CC BY-SA 4.0.
//!
//! | module | what it holds |
//! |---|---|
//! | [`client`] | the HTTP client: retries of outages, HTML and empty answers |
//! | [`model`] | serde types; `-9999` and bad validation codes are no data |
//! | [`map`] | responses → the model |
//! | [`codes`] | sky and wind icon codes |

pub mod client;
pub mod codes;
pub mod map;
pub mod model;

pub use client::{Client, Config, DEFAULT_BASE_URL};

use super::cache::Cache;
use super::http::FetchError;
use super::log;
use super::model::Snapshot;
use super::places::{StationInfo, nearest_station};
use super::source::{Failure, Near, Refresh, Source, SourceInfo, Targets, progress};
use chrono::{DateTime, Utc};
use model::{
    ConcelloObservation, ConcelloObservationResponse, DailyForecast, DailyResponse, HourlyForecast,
    HourlyResponse, MediumForecast, MediumResponse, StationListResponse, StationReading,
    StationResponse, id,
};
use std::collections::BTreeMap;
use std::time::Duration;

/// MeteoGalicia's facts.
pub static SOURCE: SourceInfo = SourceInfo {
    name: "meteogalicia",
    label: "MeteoGalicia",
    attribution: "MeteoGalicia · Xunta de Galicia",
    // Three times the stations' 10-minute interval.
    station_max_age: Duration::from_secs(30 * 60),
    current_max_age: Duration::from_secs(3 * 3600),
    forecast_max_age: Duration::from_secs(24 * 3600),
};

/// The cached station list.
const STATIONS_FILE: &str = "meteogalicia-stations.json";

/// The last good data of every product.
#[derive(Debug, Default)]
pub struct Held {
    /// Latest reading per station.
    pub stations: BTreeMap<String, StationReading>,
    /// Current conditions per municipality.
    pub current: BTreeMap<String, ConcelloObservation>,
    /// Short- and medium-term forecasts per municipality.
    pub daily: BTreeMap<String, (DailyForecast, MediumForecast)>,
    /// Hourly forecast per municipality.
    pub hourly: BTreeMap<String, HourlyForecast>,
    /// The station list, for the stations' coordinates.
    pub station_list: Vec<StationInfo>,
}

fn parse<T: for<'de> serde::Deserialize<'de>>(product: &str, text: &str) -> Result<T, Failure> {
    serde_json::from_str(text)
        .map_err(|e| Failure::new(product, format!("invalid data: invalid JSON: {e}")))
}

/// The failure for an id MeteoGalicia does not know (it answers 200 with `null` or `[]`).
fn unknown(product: &str, what: &str, id: &str) -> Failure {
    let e = FetchError::NotFound(format!(
        "unknown {what} {id}: MeteoGalicia answered with no data for it"
    ));
    Failure::new(product, e.to_string())
}

impl Client {
    async fn get<T>(&self, product: &str, path: &str) -> Result<T, Failure>
    where
        T: for<'de> serde::Deserialize<'de>,
    {
        let text = self
            .fetch(path)
            .await
            .map_err(|e| Failure::new(product, e.to_string()))?;
        parse(product, &text)
    }

    async fn station(&self, sid: &str) -> Result<StationReading, Failure> {
        let product = format!("station {sid}");
        let path = format!("observacion/ultimos10minEstacionsMeteo.action?idEst={sid}");
        let resp: StationResponse = self.get(&product, &path).await?;
        let list = resp.list.unwrap_or_default();
        let found = list
            .iter()
            .find(|r| id(r.id_estacion).as_deref() == Some(sid));
        found
            .or(list.first().filter(|_| list.len() == 1))
            .cloned()
            .ok_or_else(|| unknown(&product, "station", sid))
    }

    async fn observation(&self, ine: &str) -> Result<ConcelloObservation, Failure> {
        let product = format!("observation {ine}");
        let path = format!("observacion/observacionConcellos.action?idConcello={ine}");
        let resp: ConcelloObservationResponse = self.get(&product, &path).await?;
        resp.lista_observacion_concellos
            .unwrap_or_default()
            .into_iter()
            .find(|o| id(o.id_concello).as_deref() == Some(ine))
            .ok_or_else(|| unknown(&product, "municipality", ine))
    }

    async fn daily(&self, ine: &str) -> Result<(DailyForecast, MediumForecast), Failure> {
        let product = format!("daily forecast {ine}");
        let path = format!("predicion/jsonPredConcellos.action?idConc={ine}");
        let short: DailyResponse = self.get(&product, &path).await?;
        let short = short
            .pred_concello
            .filter(|f| id(f.id_concello).is_some() && !f.lista_pred_dia_concello.is_empty())
            .ok_or_else(|| unknown(&product, "municipality", ine))?;
        let path = format!("predicion/jsonPredMedioPrazo.action?idConc={ine}&dia=-1");
        let medium: MediumResponse = self.get(&product, &path).await?;
        let medium = medium
            .pred_m_prazo
            .filter(|f| id(f.id_concello).is_some())
            .ok_or_else(|| unknown(&product, "municipality", ine))?;
        Ok((short, medium))
    }

    async fn hourly(&self, ine: &str) -> Result<HourlyForecast, Failure> {
        let product = format!("hourly forecast {ine}");
        let path = format!("predicion/jsonPredHorariaConcellos.action?idConc={ine}");
        let resp: HourlyResponse = self.get(&product, &path).await?;
        resp.pred_horaria
            .filter(|f| id(f.id_concello).is_some() && !f.lista_pred_dia_horaria.is_empty())
            .ok_or_else(|| unknown(&product, "municipality", ine))
    }

    /// The station list, from the cache or fetched (and cached).
    async fn station_list(&self, cache: Option<&Cache>) -> Result<Vec<StationInfo>, Failure> {
        if let Some(list) = cache.and_then(|c| c.list(STATIONS_FILE)) {
            return Ok(list);
        }
        let product = "station list";
        let resp: StationListResponse = self
            .get(product, "observacion/listaEstacionsMeteo.action")
            .await?;
        let list: Vec<StationInfo> = resp
            .lista_estacions_meteo
            .unwrap_or_default()
            .iter()
            .filter_map(|s| {
                let sid = id(s.id_estacion)?;
                Some(StationInfo {
                    name: s
                        .estacion
                        .as_deref()
                        .map_or(sid.clone(), |n| n.trim().to_owned()),
                    id: sid,
                    lat: s.lat.get()?,
                    lon: s.lon.get()?,
                    altitude: s.altitude.get(),
                    // The list does not say; MeteoGalicia's stations all measure it.
                    temperature: true,
                })
            })
            .collect();
        if let Some(c) = cache {
            let _ = c.store_list(STATIONS_FILE, &list);
        }
        Ok(list)
    }
}

impl Source for Client {
    type Held = Held;

    fn info(&self) -> &'static SourceInfo {
        &SOURCE
    }

    async fn refresh_observations(
        &self,
        targets: &Targets,
        held: &mut Held,
        cache: Option<&Cache>,
    ) -> Refresh {
        let mut out = Refresh::default();
        if !targets.stations.is_empty() && held.station_list.is_empty() {
            // Only for the coordinates: a reading is published without them.
            match self.station_list(cache).await {
                Ok(list) => held.station_list = list,
                Err(f) => log::warn(format_args!("{f}; publishing readings without coordinates")),
            }
        }
        let total = targets.stations.len() + targets.municipalities.len();
        let pb = progress(total as u64, "MeteoGalicia");
        for sid in &targets.stations {
            let label = format!("station {sid}");
            if let Some(r) = out.record(&label, self.station(sid).await) {
                held.stations.insert(sid.clone(), r);
            }
            pb.inc(1);
        }
        for ine in &targets.municipalities {
            let label = format!("observation {ine}");
            if let Some(o) = out.record(&label, self.observation(ine).await) {
                held.current.insert(ine.clone(), o);
            }
            pb.inc(1);
        }
        pb.finish_and_clear();
        out
    }

    async fn refresh_forecasts(&self, targets: &Targets, held: &mut Held) -> Refresh {
        let mut out = Refresh::default();
        let pb = progress(3 * targets.municipalities.len() as u64, "MeteoGalicia");
        for ine in &targets.municipalities {
            let label = format!("daily forecast {ine}");
            if let Some(f) = out.record(&label, self.daily(ine).await) {
                held.daily.insert(ine.clone(), f);
            }
            pb.inc(2);
            let label = format!("hourly forecast {ine}");
            if let Some(f) = out.record(&label, self.hourly(ine).await) {
                held.hourly.insert(ine.clone(), f);
            }
            pb.inc(1);
        }
        pb.finish_and_clear();
        out
    }

    fn snapshot(&self, held: &Held, now: DateTime<Utc>) -> Snapshot {
        let max_age = |d: Duration| chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX);
        let info = |sid: &str| held.station_list.iter().find(|s| s.id == sid);
        Snapshot {
            readings: held
                .stations
                .iter()
                .filter_map(|(sid, r)| {
                    map::reading(r, sid, info(sid), max_age(SOURCE.station_max_age), now)
                })
                .collect(),
            current: held
                .current
                .iter()
                .filter_map(|(ine, o)| map::current(o, ine, max_age(SOURCE.current_max_age), now))
                .collect(),
            daily: held
                .daily
                .iter()
                .map(|(ine, (s, m))| map::daily(s, m, ine, now))
                .collect(),
            hourly: held
                .hourly
                .iter()
                .map(|(ine, h)| map::hourly(h, ine, now))
                .collect(),
        }
    }

    async fn near(&self, cache: &Cache, lat: f64, lon: f64, max_km: f64) -> Result<Near, Failure> {
        let stations = self.station_list(Some(cache)).await?;
        log::info(
            "MeteoGalicia publishes no municipality coordinates: --near picks the station; \
             add --municipality INE for forecasts",
        );
        Ok(Near {
            station: nearest_station(&stations, lat, lon, max_km).map(|(s, d)| (s.clone(), d)),
            municipality: None,
        })
    }
}
