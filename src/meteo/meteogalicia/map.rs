//! MeteoGalicia's responses → the model.
//!
//! Station measures are keyed on `codigoParametro` (the names hold non-breaking and double
//! spaces), in any order, each station with its own set. Station times are UTC without a zone;
//! forecast times are Europe/Madrid without a zone. MeteoGalicia gives no issue time: a
//! forecast whose first day is before today (Madrid) was not renewed today and is stale.

use super::codes;
use super::model::{
    ConcelloObservation, DailyForecast, HourlyForecast, MediumForecast, PredDia, PredDiaMPrazo,
    StationReading,
};
use crate::meteo::model::{self as m, Current, ForecastHeader, Quantity, Reading, Sky};
use crate::meteo::places::StationInfo;
use crate::meteo::time::{madrid_date, parse_date, parse_fint, parse_local};
use chrono::{DateTime, Duration, NaiveDate, Utc};

/// Which measure gives which quantity, preferred first (some stations measure wind at 2 m).
const CODES: &[(&str, Quantity)] = &[
    ("TA_AVG_1.5m", Quantity::Temperature),
    ("TA_MAX_1.5m", Quantity::TemperatureMax),
    ("TA_MIN_1.5m", Quantity::TemperatureMin),
    ("HR_AVG_1.5m", Quantity::Humidity),
    ("PR_AVG_1.5m", Quantity::Pressure),
    ("PRED_AVG_1.5m", Quantity::PressureSeaLevel),
    ("PP_SUM_1.5m", Quantity::Precipitation),
    ("VV_AVG_10m", Quantity::WindSpeed),
    ("VV_AVG_2m", Quantity::WindSpeed),
    ("DV_AVG_10m", Quantity::WindDirection),
    ("DV_AVG_2m", Quantity::WindDirection),
    ("VV_RACHA_10m", Quantity::GustSpeed),
    ("VV_RACHA_2m", Quantity::GustSpeed),
    ("TO_AVG_1.5m", Quantity::DewPoint),
    ("RS_AVG_1.5m", Quantity::SolarRadiation),
];

/// A station's reading: its usable measures, and its location from the station list.
pub fn reading(
    r: &StationReading,
    id: &str,
    info: Option<&StationInfo>,
    max_age: Duration,
    now: DateTime<Utc>,
) -> Option<Reading> {
    let time = parse_fint(r.instante_lectura_utc.as_deref()?)?;
    let mut values: Vec<(Quantity, f64)> = Vec::new();
    for (code, q) in CODES {
        if values.iter().any(|(k, _)| k == q) {
            continue;
        }
        let v = r
            .lista_medidas
            .iter()
            .filter(|m| m.codigo_parametro.trim() == *code)
            .find_map(|m| m.usable());
        if let Some(v) = v {
            values.push((*q, v));
        }
    }
    if let Some(s) = info {
        values.push((Quantity::Latitude, s.lat));
        values.push((Quantity::Longitude, s.lon));
        if let Some(a) = s.altitude {
            values.push((Quantity::Altitude, a));
        }
    }
    values.sort_by_key(|(q, _)| *q);
    let name = r
        .estacion
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned);
    Some(Reading {
        station: id.to_owned(),
        name,
        time,
        values,
        stale: now - time > max_age,
    })
}

/// A municipality's current conditions.
pub fn current(
    o: &ConcelloObservation,
    ine: &str,
    max_age: Duration,
    now: DateTime<Utc>,
) -> Option<Current> {
    let time = parse_fint(o.data_utc.as_deref()?)?;
    Some(Current {
        municipality: ine.to_owned(),
        name: o.nome_concello.clone(),
        time,
        temperature: o.temperatura.get(),
        feels_like: o.sensacion_termica.get(),
        sky: o.ico_estado_ceo.get().and_then(codes::sky),
        wind_direction: o.ico_vento.get().and_then(codes::wind_direction),
        stale: now - time > max_age,
    })
}

fn header(
    ine: &str,
    name: Option<&str>,
    first: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> ForecastHeader {
    ForecastHeader {
        municipality: ine.to_owned(),
        name: name.map(str::to_owned),
        province: None,
        issued: None,
        stale: first.is_none_or(|d| d < madrid_date(now)),
    }
}

fn short_day(d: &PredDia) -> m::Day {
    let sky = d
        .ceo_dia
        .get()
        .and_then(codes::sky)
        .or_else(|| d.ceo.values().find_map(codes::sky));
    m::Day {
        date: d.data_predicion.as_deref().and_then(parse_date),
        temperature_max: d.t_max.get(),
        temperature_min: d.t_min.get(),
        precipitation_probability: d.pchoiva.values().reduce(f64::max),
        sky,
        wind_direction: d.vento.values().find_map(codes::wind_direction),
        uv_max: d.uv_max.get(),
        ..m::Day::default()
    }
}

/// The most probable of a medium-term day's three skies.
fn likeliest_sky(d: &PredDiaMPrazo) -> Option<Sky> {
    [
        (d.ico_ceo1, d.prob_ico_ceo1),
        (d.ico_ceo2, d.prob_ico_ceo2),
        (d.ico_ceo3, d.prob_ico_ceo3),
    ]
    .into_iter()
    .filter_map(|(c, p)| Some((codes::sky(c.get()?)?, p.get().unwrap_or(0.0))))
    .reduce(|a, b| if b.1 > a.1 { b } else { a })
    .map(|(s, _)| s)
}

fn medium_day(d: &PredDiaMPrazo) -> m::Day {
    m::Day {
        date: d.data_predicion.as_deref().and_then(parse_date),
        temperature_max: d.t_max.get(),
        temperature_min: d.t_min.get(),
        sky: likeliest_sky(d),
        wind_direction: d.ico_vento.get().and_then(codes::wind_direction),
        ..m::Day::default()
    }
}

/// The daily forecast: days 0–3 from the short-term forecast, then the medium-term days.
pub fn daily(
    short: &DailyForecast,
    medium: &MediumForecast,
    ine: &str,
    now: DateTime<Utc>,
) -> m::DailyForecast {
    let mut days: Vec<m::Day> = short
        .lista_pred_dia_concello
        .iter()
        .map(short_day)
        .collect();
    for d in medium.lista_pred_dia_m_prazo.iter().map(medium_day) {
        if d.date.is_some() && !days.iter().any(|x| x.date == d.date) {
            days.push(d);
        }
    }
    let first = days.first().and_then(|d| d.date);
    m::DailyForecast {
        header: header(ine, short.nome.as_deref(), first, now),
        days,
    }
}

/// The hourly forecast.
pub fn hourly(h: &HourlyForecast, ine: &str, now: DateTime<Utc>) -> m::HourlyForecast {
    let hours: Vec<m::Hour> = h
        .lista_pred_dia_horaria
        .iter()
        .flat_map(|d| &d.lista_pred_hora)
        .filter_map(|x| {
            let mut hour = m::Hour::at(parse_local(x.data_predicion.as_deref()?)?);
            hour.temperature = x.t_media.get();
            hour.sky = x.ico_ceo.get().and_then(codes::sky);
            hour.wind_direction = x.ico_vento.get().and_then(codes::wind_direction);
            Some(hour)
        })
        .collect();
    let first = hours.first().map(|h| h.time.date_naive());
    m::HourlyForecast {
        header: header(ine, h.nome.as_deref(), first, now),
        hours,
    }
}
