//! Tolerant serde types for AEMET's payloads.
//!
//! AEMET's shapes drift: numbers arrive as strings (`"-0"`, `"Ip"`, `""`), `id` and `version`
//! switch between number and string, most observation fields may be missing and `periodo`
//! comes in four forms. So every leaf is a [`Loose`] value and every field has a default;
//! unknown fields are ignored.

use serde::{Deserialize, Deserializer};

/// A scalar that may be a number, a string, empty or null. It keeps the text form and
/// parses numbers on demand.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Loose(pub Option<String>);

impl Loose {
    /// The value as a number: `"Ip"` ("inapreciable", under 0.1 mm) is 0, `""` is none, a
    /// decimal comma is accepted.
    pub fn num(&self) -> Option<f64> {
        let s = self.0.as_deref()?.trim();
        if s.eq_ignore_ascii_case("ip") {
            return Some(0.0);
        }
        let v: f64 = s.replace(',', ".").parse().ok()?;
        // "-0" is a real AEMET value; publish it as 0.
        Some(if v == 0.0 { 0.0 } else { v })
    }

    /// The value as non-empty text.
    pub fn text(&self) -> Option<&str> {
        self.0.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }
}

impl<'de> Deserialize<'de> for Loose {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde_json::Value;
        Ok(Loose(match Value::deserialize(d)? {
            Value::String(s) => Some(s),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            // A one-element array (the hourly wind's `["NE"]`) stands for its element.
            Value::Array(a) if a.len() == 1 => match &a[0] {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            },
            _ => None,
        }))
    }
}

/// One hourly observation record (`observacion/convencional/...`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Observation {
    /// Station id, e.g. `3195`.
    pub idema: Loose,
    /// Station name.
    pub ubi: Loose,
    /// End of the observed hour, UTC, with or without `+0000`.
    pub fint: Loose,
    /// Latitude, decimal degrees.
    pub lat: Loose,
    /// Longitude, decimal degrees.
    pub lon: Loose,
    /// Altitude, m.
    pub alt: Loose,
    /// Air temperature, °C.
    pub ta: Loose,
    /// Max temperature over the hour, °C.
    pub tamax: Loose,
    /// Min temperature over the hour, °C.
    pub tamin: Loose,
    /// Relative humidity, %.
    pub hr: Loose,
    /// Station-level pressure, hPa.
    pub pres: Loose,
    /// Sea-level pressure, hPa.
    pub pres_nmar: Loose,
    /// Precipitation over the hour, mm.
    pub prec: Loose,
    /// Mean wind speed, m/s.
    pub vv: Loose,
    /// Wind direction, degrees.
    pub dv: Loose,
    /// Max gust, m/s.
    pub vmax: Loose,
    /// Dew point, °C.
    pub tpr: Loose,
}

/// A value tied to a `periodo` (`"00-24"`, `"0713"`, `"07"` or absent).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Period {
    /// The value (number or text).
    pub value: Loose,
    /// The period it covers, if any.
    pub periodo: Loose,
    /// A description (sky state).
    pub descripcion: Loose,
}

/// The daily forecast's wind entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DailyWind {
    /// N, NE, E, SE, S, SO, O, NO, C (calm) or empty.
    pub direccion: Loose,
    /// km/h.
    pub velocidad: Loose,
    /// The period it covers, if any.
    pub periodo: Loose,
}

/// Max/min of a daily quantity.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct MaxMin {
    /// The day's maximum.
    pub maxima: Loose,
    /// The day's minimum.
    pub minima: Loose,
}

/// One day of the daily forecast.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DailyDay {
    /// Local date, `2021-01-09T00:00:00`.
    pub fecha: Loose,
    /// Precipitation probability per period, %.
    pub prob_precipitacion: Vec<Period>,
    /// Sky state per period.
    pub estado_cielo: Vec<Period>,
    /// Wind per period.
    pub viento: Vec<DailyWind>,
    /// Temperature, °C.
    pub temperatura: MaxMin,
    /// Relative humidity, %.
    pub humedad_relativa: MaxMin,
    /// UV index; missing on later days.
    pub uv_max: Loose,
}

/// One entry of the hourly `vientoAndRachaMax`: a wind (`direccion`, `velocidad`) or a gust
/// (`value`), told apart by which keys are present.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct HourlyWind {
    /// Direction letters (wind entries).
    pub direccion: Loose,
    /// Speed, km/h (wind entries).
    pub velocidad: Loose,
    /// Gust, km/h (gust entries).
    pub value: Loose,
    /// Hour, `HH`.
    pub periodo: Loose,
}

/// One day of the hourly forecast.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct HourlyDay {
    /// Local date.
    pub fecha: Loose,
    /// Sky per hour.
    pub estado_cielo: Vec<Period>,
    /// Precipitation per hour, mm.
    pub precipitacion: Vec<Period>,
    /// Precipitation probability per 6-h band, %.
    pub prob_precipitacion: Vec<Period>,
    /// Temperature per hour, °C.
    pub temperatura: Vec<Period>,
    /// Feels-like temperature per hour, °C.
    pub sens_termica: Vec<Period>,
    /// Relative humidity per hour, %.
    pub humedad_relativa: Vec<Period>,
    /// Wind and gust entries, alternating.
    pub viento_and_racha_max: Vec<HourlyWind>,
}

/// `prediccion` of a forecast.
#[derive(Debug, Clone, Deserialize)]
#[serde(bound = "D: Deserialize<'de> + Default")]
pub struct Prediction<D> {
    /// The days.
    #[serde(default)]
    pub dia: Vec<D>,
}

impl<D> Default for Prediction<D> {
    fn default() -> Self {
        Prediction { dia: Vec::new() }
    }
}

/// A municipal forecast document (the one element of the daily or hourly array).
#[derive(Debug, Clone, Deserialize)]
#[serde(bound = "D: Deserialize<'de> + Default")]
pub struct Forecast<D> {
    /// Issue time, local, no offset.
    #[serde(default)]
    pub elaborado: Loose,
    /// Municipality name.
    #[serde(default)]
    pub nombre: Loose,
    /// Province name.
    #[serde(default)]
    pub provincia: Loose,
    /// The days.
    #[serde(default)]
    pub prediccion: Prediction<D>,
}

/// The daily forecast document.
pub type DailyForecast = Forecast<DailyDay>;
/// The hourly forecast document.
pub type HourlyForecast = Forecast<HourlyDay>;

/// One entry of `maestro/municipios`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Municipality {
    /// `id28065`.
    pub id: Loose,
    /// Name.
    pub nombre: Loose,
    /// Latitude, decimal degrees (a string in the list).
    pub latitud_dec: Loose,
    /// Longitude, decimal degrees.
    pub longitud_dec: Loose,
}

impl Municipality {
    /// The bare INE code (`28065`), without AEMET's `id` prefix.
    pub fn ine(&self) -> Option<&str> {
        let id = self.id.text()?;
        Some(id.strip_prefix("id").unwrap_or(id))
    }
}

/// Why a payload could not be understood.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// Not JSON, or truncated JSON.
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// JSON, but an empty list where one document was expected.
    #[error("empty list")]
    Empty,
}

/// Parses a forecast: a one-element array (or, defensively, the bare object).
pub fn parse_forecast<D>(text: &str) -> Result<Forecast<D>, ParseError>
where
    D: for<'de> Deserialize<'de> + Default,
{
    let v: serde_json::Value = serde_json::from_str(text)?;
    let doc = match v {
        serde_json::Value::Array(mut a) if !a.is_empty() => a.swap_remove(0),
        serde_json::Value::Array(_) => return Err(ParseError::Empty),
        other => other,
    };
    Ok(serde_json::from_value(doc)?)
}

/// Parses a list, skipping entries that do not fit so one odd record cannot hide the rest.
pub fn parse_list<T>(text: &str) -> Result<Vec<T>, ParseError>
where
    T: for<'de> Deserialize<'de>,
{
    let v: Vec<serde_json::Value> = serde_json::from_str(text)?;
    Ok(v.into_iter()
        .filter_map(|e| serde_json::from_value(e).ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loose(j: &str) -> Loose {
        serde_json::from_str(j).unwrap()
    }

    #[test]
    fn loose_numbers_in_every_form() {
        assert_eq!(loose("1.5").num(), Some(1.5));
        assert_eq!(loose("\"-1\"").num(), Some(-1.0));
        assert_eq!(
            loose("\"-0\"").num().map(f64::to_bits),
            Some(0.0f64.to_bits())
        );
        assert_eq!(loose("\"Ip\"").num(), Some(0.0));
        assert_eq!(loose("\"\"").num(), None);
        assert_eq!(loose("null").num(), None);
        assert_eq!(loose("\"2,5\"").num(), Some(2.5));
        assert_eq!(loose("[\"28\"]").num(), Some(28.0));
    }

    #[test]
    fn missing_observation_fields_default_to_none() {
        let o: Observation = serde_json::from_str(r#"{"idema":"1495","fint":"x"}"#).unwrap();
        assert_eq!(o.idema.text(), Some("1495"));
        assert_eq!(o.ta.num(), None);
    }

    #[test]
    fn forecast_id_as_number_or_string() {
        for id in ["28065", "\"28065\""] {
            let t = format!(r#"[{{"id":{id},"version":1.0,"nombre":"Getafe"}}]"#);
            let f: DailyForecast = parse_forecast(&t).unwrap();
            assert_eq!(f.nombre.text(), Some("Getafe"));
        }
    }

    #[test]
    fn truncated_json_is_an_error() {
        assert!(parse_forecast::<DailyDay>("[{\"nombre\":").is_err());
        assert!(parse_list::<Observation>("[{\"idema\":").is_err());
    }
}
