//! AEMET's station and municipality lists, for `--near`.

use super::model::{Municipality, Observation};
use crate::meteo::places::{MunicipalityInfo, StationInfo};
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
            altitude: r.alt.num(),
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
