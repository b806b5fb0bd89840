//! `--near`: the station and municipality lists, and the nearest of each.

use super::cache::{MunicipalityInfo, StationInfo, haversine_km};
use super::model::{Municipality, Observation};
use std::collections::BTreeMap;

/// The station list from a `todas` dump: one entry per station, noting whether any of its
/// records reports air temperature.
pub fn station_list(records: &[Observation]) -> Vec<StationInfo> {
    let mut by_id: BTreeMap<String, StationInfo> = BTreeMap::new();
    for r in records {
        let (Some(id), Some(lat), Some(lon)) = (r.idema.text(), r.lat.num(), r.lon.num()) else {
            continue;
        };
        let e = by_id.entry(id.to_owned()).or_insert_with(|| StationInfo {
            id: id.to_owned(),
            name: r.ubi.text().unwrap_or(id).to_owned(),
            lat,
            lon,
            temperature: false,
        });
        e.temperature |= r.ta.num().is_some();
    }
    by_id.into_values().collect()
}

/// The municipality list from `maestro/municipios`.
pub fn municipality_list(list: &[Municipality]) -> Vec<MunicipalityInfo> {
    list.iter()
        .filter_map(|m| {
            Some(MunicipalityInfo {
                ine: m.ine()?.to_owned(),
                name: m.nombre.text().unwrap_or("").to_owned(),
                lat: m.latitud_dec.num()?,
                lon: m.longitud_dec.num()?,
            })
        })
        .collect()
}

/// The nearest station that reports temperature, within `max_km`, with its distance.
pub fn nearest_station(
    list: &[StationInfo],
    lat: f64,
    lon: f64,
    max_km: f64,
) -> Option<(&StationInfo, f64)> {
    list.iter()
        .filter(|s| s.temperature)
        .map(|s| (s, haversine_km(lat, lon, s.lat, s.lon)))
        .filter(|(_, d)| *d <= max_km)
        .min_by(|a, b| a.1.total_cmp(&b.1))
}

/// The nearest municipality within `max_km`, with its distance.
pub fn nearest_municipality(
    list: &[MunicipalityInfo],
    lat: f64,
    lon: f64,
    max_km: f64,
) -> Option<(&MunicipalityInfo, f64)> {
    list.iter()
        .map(|m| (m, haversine_km(lat, lon, m.lat, m.lon)))
        .filter(|(_, d)| *d <= max_km)
        .min_by(|a, b| a.1.total_cmp(&b.1))
}
