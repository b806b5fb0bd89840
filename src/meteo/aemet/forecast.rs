//! AEMET daily and hourly municipal forecasts → the model's forecasts.
//!
//! Forecast times are Europe/Madrid civil time. Wind is converted from AEMET's km/h to m/s
//! (the unit of observations) and from Spanish compass letters to degrees. `periodo` comes as
//! `00-24`-style ranges (daily, nested: one is picked, never summed), absent (days 5–7), `HH`
//! (hourly) or `HHHH` 6-hour bands that may wrap past midnight.

use super::model::{DailyDay, DailyForecast, HourlyDay, HourlyForecast, HourlyWind, Loose, Period};
use super::sky;
use crate::meteo::model::{self as m, ForecastHeader, Sky};
use crate::meteo::time::{local, parse_date, parse_local};
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;

/// A forecast issued longer ago than this is flagged `stale` (AEMET issues four a day).
pub const FORECAST_MAX_AGE: Duration = Duration::hours(12);

/// True when the forecast was issued more than [`FORECAST_MAX_AGE`] ago, or when its issue
/// time is unreadable.
pub fn is_stale_forecast(issued: Option<&str>, now: DateTime<Utc>) -> bool {
    match issued.and_then(parse_local) {
        Some(t) => now - t.with_timezone(&Utc) > FORECAST_MAX_AGE,
        None => true,
    }
}

/// Preferred daily periods, widest first; `""` is the single entry of days 5–7.
const PERIOD_PREFERENCE: [&str; 8] = [
    "00-24", "", "12-24", "00-12", "18-24", "12-18", "06-12", "00-06",
];

/// km/h → m/s, one decimal.
fn kmh_to_ms(v: f64) -> f64 {
    (v / 3.6 * 10.0).round() / 10.0
}

/// Spanish 8-point compass letters → degrees; calm (`C`) and empty have no direction.
pub fn direction_degrees(s: &str) -> Option<f64> {
    Some(match s.trim() {
        "N" => 0.0,
        "NE" => 45.0,
        "E" => 90.0,
        "SE" => 135.0,
        "S" => 180.0,
        "SO" | "SW" => 225.0,
        "O" | "W" => 270.0,
        "NO" | "NW" => 315.0,
        _ => return None,
    })
}

/// The entry of the most preferred period among those `usable`.
fn pick<T>(items: &[T], periodo: fn(&T) -> &Loose, usable: fn(&T) -> bool) -> Option<&T> {
    PERIOD_PREFERENCE.iter().find_map(|want| {
        items
            .iter()
            .find(|i| periodo(i).text().unwrap_or("") == *want && usable(i))
    })
}

fn header<D>(ine: &str, f: &super::model::Forecast<D>, now: DateTime<Utc>) -> ForecastHeader {
    ForecastHeader {
        municipality: ine.to_owned(),
        name: f.nombre.text().map(str::to_owned),
        province: f.provincia.text().map(str::to_owned),
        issued: f.elaborado.text().and_then(parse_local),
        stale: is_stale_forecast(f.elaborado.text(), now),
    }
}

/// The sky of a period entry: its text, and its code as a condition.
fn sky_of(p: &Period) -> Option<Sky> {
    Some(Sky {
        text: p.descripcion.text()?.to_owned(),
        condition: p.value.text().and_then(sky::condition),
    })
}

fn day(d: &DailyDay) -> m::Day {
    let prob = d
        .prob_precipitacion
        .iter()
        .filter_map(|p| p.value.num())
        .reduce(f64::max);
    let sky = pick(
        &d.estado_cielo,
        |p| &p.periodo,
        |p| p.descripcion.text().is_some(),
    );
    // A wind entry with no direction is a past period ("" values), except calm.
    let wind = pick(&d.viento, |w| &w.periodo, |w| w.direccion.text().is_some());
    m::Day {
        date: d.fecha.text().and_then(parse_date),
        temperature_max: d.temperatura.maxima.num(),
        temperature_min: d.temperatura.minima.num(),
        humidity_max: d.humedad_relativa.maxima.num(),
        humidity_min: d.humedad_relativa.minima.num(),
        precipitation_probability: prob,
        sky: sky.and_then(sky_of),
        wind_speed: wind.and_then(|w| w.velocidad.num()).map(kmh_to_ms),
        wind_direction: wind.and_then(|w| direction_degrees(w.direccion.text()?)),
        uv_max: d.uv_max.num(),
    }
}

/// The daily forecast in the model.
pub fn daily(ine: &str, f: &DailyForecast, now: DateTime<Utc>) -> m::DailyForecast {
    m::DailyForecast {
        header: header(ine, f, now),
        days: f.prediccion.dia.iter().map(day).collect(),
    }
}

/// Values of an hourly series by hour (`periodo` `HH`).
fn by_hour(series: &[Period]) -> HashMap<u32, &Period> {
    series
        .iter()
        .filter_map(|p| Some((p.periodo.text()?.parse().ok()?, p)))
        .collect()
}

/// A 6-hour band `HHHH` as (start, end); `1901` wraps past midnight.
fn band(p: &Period) -> Option<(u32, u32)> {
    let s = p.periodo.text()?;
    if s.len() != 4 {
        return None;
    }
    Some((s.get(..2)?.parse().ok()?, s.get(2..)?.parse().ok()?))
}

/// The band value covering `hour` of `day`: a band of that day, or the wrapping band of the
/// day before (its `1901` covers this day's 00).
fn band_value(day: &[Period], prev: Option<&[Period]>, hour: u32) -> Option<f64> {
    let inside = |p: &&Period| match band(p) {
        Some((s, e)) if s < e => s <= hour && hour < e,
        Some((s, _)) => hour >= s,
        None => false,
    };
    let from_prev = |p: &&Period| matches!(band(p), Some((s, e)) if s >= e && hour < e);
    day.iter()
        .find(inside)
        .or_else(|| prev.and_then(|pv| pv.iter().find(from_prev)))
        .and_then(|p| p.value.num())
}

fn hours_of(day: &HourlyDay, prev: Option<&HourlyDay>) -> Vec<m::Hour> {
    let Some(date) = day.fecha.text().and_then(parse_date) else {
        return Vec::new();
    };
    let temp = by_hour(&day.temperatura);
    let feels = by_hour(&day.sens_termica);
    let hum = by_hour(&day.humedad_relativa);
    let prec = by_hour(&day.precipitacion);
    let sky = by_hour(&day.estado_cielo);
    let (wind, gust) = winds(day);
    let mut hours: Vec<u32> = temp.keys().copied().collect();
    hours.sort_unstable();
    let num = |m: &HashMap<u32, &Period>, h| m.get(&h).and_then(|p| p.value.num());
    let prev_bands = prev.map(|p| p.prob_precipitacion.as_slice());
    hours
        .into_iter()
        .filter_map(|h| {
            let t = local(date.and_hms_opt(0, 0, 0)? + Duration::hours(i64::from(h)))?;
            let w = wind.get(&h);
            Some(m::Hour {
                time: t,
                temperature: num(&temp, h),
                feels_like: num(&feels, h),
                humidity: num(&hum, h),
                precipitation: num(&prec, h),
                precipitation_probability: band_value(&day.prob_precipitacion, prev_bands, h),
                sky: sky.get(&h).and_then(|p| sky_of(p)),
                wind_speed: w.and_then(|w| w.velocidad.num()).map(kmh_to_ms),
                wind_direction: w.and_then(|w| direction_degrees(w.direccion.text()?)),
                gust_speed: gust.get(&h).and_then(|g| g.value.num()).map(kmh_to_ms),
            })
        })
        .collect()
}

/// The wind and the gust entries of `vientoAndRachaMax` by hour, told apart by their keys.
fn winds(day: &HourlyDay) -> (HashMap<u32, &HourlyWind>, HashMap<u32, &HourlyWind>) {
    let mut wind = HashMap::new();
    let mut gust = HashMap::new();
    for w in &day.viento_and_racha_max {
        let Some(h) = w.periodo.text().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if w.velocidad.text().is_some() || w.direccion.text().is_some() {
            wind.insert(h, w);
        } else if w.value.text().is_some() {
            gust.insert(h, w);
        }
    }
    (wind, gust)
}

/// The hourly forecast in the model.
pub fn hourly(ine: &str, f: &HourlyForecast, now: DateTime<Utc>) -> m::HourlyForecast {
    let dia = &f.prediccion.dia;
    m::HourlyForecast {
        header: header(ine, f, now),
        hours: dia
            .iter()
            .enumerate()
            .flat_map(|(i, d)| hours_of(d, i.checked_sub(1).map(|p| &dia[p])))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn periods(json: &str) -> Vec<Period> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn compass_letters_to_degrees() {
        assert_eq!(direction_degrees("O"), Some(270.0));
        assert_eq!(direction_degrees("SO"), Some(225.0));
        assert_eq!(direction_degrees("NO"), Some(315.0));
        assert_eq!(direction_degrees("C"), None);
        assert_eq!(direction_degrees(""), None);
    }

    #[test]
    fn bands_wrap_past_midnight() {
        let today = periods(
            r#"[{"value":"","periodo":"0107"},{"value":"20","periodo":"0713"},
                {"value":"30","periodo":"1319"},{"value":"40","periodo":"1901"}]"#,
        );
        let tomorrow = periods(r#"[{"value":"50","periodo":"0107"}]"#);
        assert_eq!(band_value(&today, None, 7), Some(20.0));
        assert_eq!(band_value(&today, None, 12), Some(20.0));
        assert_eq!(band_value(&today, None, 19), Some(40.0));
        assert_eq!(band_value(&today, None, 23), Some(40.0));
        assert_eq!(band_value(&today, None, 3), None, "past band is empty");
        assert_eq!(band_value(&tomorrow, Some(&today), 0), Some(40.0));
        assert_eq!(band_value(&tomorrow, Some(&today), 1), Some(50.0));
        // 2023-style bands.
        let b = periods(r#"[{"value":"5","periodo":"0814"},{"value":"6","periodo":"2002"}]"#);
        assert_eq!(band_value(&b, None, 21), Some(6.0));
        assert_eq!(band_value(&[], Some(&b), 1), Some(6.0));
    }

    #[test]
    fn widest_usable_period_wins() {
        let p = periods(
            r#"[{"value":"","periodo":"00-24","descripcion":""},
                {"value":"12","periodo":"00-12","descripcion":"Poco nuboso"},
                {"value":"15","periodo":"12-24","descripcion":"Muy nuboso"}]"#,
        );
        let got = pick(&p, |p| &p.periodo, |p| p.descripcion.text().is_some());
        assert_eq!(got.and_then(|p| p.descripcion.text()), Some("Muy nuboso"));
    }

    #[test]
    fn kmh_converts_to_ms() {
        assert_eq!(kmh_to_ms(36.0), 10.0);
        assert_eq!(kmh_to_ms(15.0), 4.2);
    }

    #[test]
    fn forecast_staleness() {
        let now = parse_local("2021-01-09T12:00:00")
            .unwrap()
            .with_timezone(&Utc);
        assert!(!is_stale_forecast(Some("2021-01-09T11:54:00"), now));
        assert!(is_stale_forecast(Some("2021-01-08T23:00:00"), now));
        assert!(is_stale_forecast(None, now));
    }
}
