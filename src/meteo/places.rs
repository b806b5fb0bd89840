//! `--near`: stations and municipalities with their coordinates, and the nearest of each.

use serde::{Deserialize, Serialize};

/// A station of a source's network, with what `--near` and the attributes need.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StationInfo {
    /// The source's station id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Latitude, decimal degrees.
    pub lat: f64,
    /// Longitude, decimal degrees.
    pub lon: f64,
    /// Altitude, m.
    #[serde(default)]
    pub altitude: Option<f64>,
    /// Whether it reports air temperature.
    pub temperature: bool,
}

/// A municipality, with what `--near` needs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MunicipalityInfo {
    /// INE code, 5 digits.
    pub ine: String,
    /// Name.
    pub name: String,
    /// Latitude, decimal degrees.
    pub lat: f64,
    /// Longitude, decimal degrees.
    pub lon: f64,
}

/// Great-circle distance in km.
pub fn haversine_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6371.0 * a.sqrt().asin()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haversine_madrid_getafe() {
        let d = haversine_km(40.411804, -3.678095, 40.304, -3.729);
        assert!((d - 12.7).abs() < 0.5, "{d}");
    }

    #[test]
    fn nearest_skips_stations_without_temperature_and_respects_the_cap() {
        let s = |id: &str, lat, temperature| StationInfo {
            id: id.into(),
            name: id.into(),
            lat,
            lon: 0.0,
            altitude: None,
            temperature,
        };
        let list = [s("a", 0.01, false), s("b", 0.1, true), s("c", 0.05, true)];
        assert_eq!(nearest_station(&list, 0.0, 0.0, 40.0).unwrap().0.id, "c");
        assert!(nearest_station(&list, 10.0, 0.0, 40.0).is_none());
    }
}
