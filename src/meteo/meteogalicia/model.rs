//! Serde types for MeteoGalicia's JSON services. Every field is optional; `-9999` is "no
//! data" wherever a number goes; an unknown id answers HTTP 200 with `null` or an empty list.

use serde::{Deserialize, Deserializer};

/// A number that may be missing, `null`, `-9999` ("sen dato") or, defensively, a numeric
/// string.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Num(pub Option<f64>);

/// MeteoGalicia's "no data".
const NO_DATA: f64 = -9999.0;

impl Num {
    /// The value, unless it is absent or "no data".
    pub fn get(self) -> Option<f64> {
        self.0.filter(|v| *v != NO_DATA && v.is_finite())
    }
}

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde_json::Value;
        Ok(Num(match Value::deserialize(d)? {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }))
    }
}

/// One measure of a station reading.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Measure {
    /// `TA_AVG_1.5m`, `HR_AVG_1.5m`, …: the key (names carry odd spaces).
    pub codigo_parametro: String,
    /// 0 not validated, 1 valid, 5 interpolated; 2 suspect, 3 erroneous, 9 not recorded.
    pub ln_codigo_validacion: Option<i64>,
    /// The value.
    pub valor: Num,
}

impl Measure {
    /// The value when it is usable: present, not `-9999`, and not suspect, erroneous or
    /// unrecorded.
    pub fn usable(&self) -> Option<f64> {
        match self.ln_codigo_validacion {
            Some(2 | 3 | 9) => None,
            _ => self.valor.get(),
        }
    }
}

/// A station's latest 10-minute reading.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct StationReading {
    /// Station name.
    pub estacion: Option<String>,
    /// Station id.
    #[serde(rename = "idEstacion")]
    pub id_estacion: Num,
    /// UTC, without a zone: `2026-09-27T21:30:00`.
    #[serde(rename = "instanteLecturaUTC")]
    pub instante_lectura_utc: Option<String>,
    /// The measures, in any order.
    #[serde(rename = "listaMedidas")]
    pub lista_medidas: Vec<Measure>,
}

/// `ultimos10minEstacionsMeteo`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct StationResponse {
    /// The readings (one per station asked).
    #[serde(rename = "listUltimos10min")]
    pub list: Option<Vec<StationReading>>,
}

/// A municipality's current conditions.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ConcelloObservation {
    /// UTC, without a zone.
    #[serde(rename = "dataUTC")]
    pub data_utc: Option<String>,
    /// Sky icon code.
    pub ico_estado_ceo: Num,
    /// Wind icon code.
    pub ico_vento: Num,
    /// INE code.
    pub id_concello: Num,
    /// Name.
    pub nome_concello: Option<String>,
    /// Feels-like temperature, °C.
    pub sensacion_termica: Num,
    /// Temperature, °C.
    pub temperatura: Num,
}

/// `observacionConcellos`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ConcelloObservationResponse {
    /// One entry per municipality asked.
    pub lista_observacion_concellos: Option<Vec<ConcelloObservation>>,
}

/// Morning, afternoon and night values of a day.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(default)]
pub struct Bands {
    /// Morning.
    pub manha: Num,
    /// Afternoon.
    pub tarde: Num,
    /// Night.
    pub noite: Num,
}

impl Bands {
    /// The usable values, afternoon first (the part of the day a daily summary speaks for).
    pub fn values(&self) -> impl Iterator<Item = f64> {
        [self.tarde, self.manha, self.noite]
            .into_iter()
            .filter_map(Num::get)
    }
}

/// One day of the short-term forecast (days 0–3).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PredDia {
    /// Local midnight of the day, without a zone.
    pub data_predicion: Option<String>,
    /// Sky of the whole day.
    pub ceo_dia: Num,
    /// Sky per part of the day.
    pub ceo: Bands,
    /// Precipitation probability per part of the day, %.
    pub pchoiva: Bands,
    /// Wind per part of the day.
    pub vento: Bands,
    /// °C.
    #[serde(rename = "tMax")]
    pub t_max: Num,
    /// °C.
    #[serde(rename = "tMin")]
    pub t_min: Num,
    /// UV index.
    pub uv_max: Num,
}

/// `jsonPredConcellos`: `predConcello` is `null` for an unknown id.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DailyResponse {
    /// The forecast.
    pub pred_concello: Option<DailyForecast>,
}

/// The short-term forecast of a municipality.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DailyForecast {
    /// INE code (0 for an unknown id).
    pub id_concello: Num,
    /// Name.
    pub nome: Option<String>,
    /// The days.
    pub lista_pred_dia_concello: Vec<PredDia>,
}

/// One day of the medium-term forecast (days 4–7).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PredDiaMPrazo {
    /// Local midnight of the day.
    pub data_predicion: Option<String>,
    /// Three possible skies with their probabilities.
    pub ico_ceo1: Num,
    /// Second sky.
    pub ico_ceo2: Num,
    /// Third sky.
    pub ico_ceo3: Num,
    /// Probability of the first sky, %.
    pub prob_ico_ceo1: Num,
    /// Probability of the second sky, %.
    pub prob_ico_ceo2: Num,
    /// Probability of the third sky, %.
    pub prob_ico_ceo3: Num,
    /// Wind icon code.
    pub ico_vento: Num,
    /// °C.
    #[serde(rename = "tMax")]
    pub t_max: Num,
    /// °C.
    #[serde(rename = "tMin")]
    pub t_min: Num,
}

/// `jsonPredMedioPrazo`: an unknown id gives an empty list with `idConcello` 0.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct MediumResponse {
    /// The forecast.
    pub pred_m_prazo: Option<MediumForecast>,
}

/// The medium-term forecast of a municipality.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct MediumForecast {
    /// INE code (0 for an unknown id).
    pub id_concello: Num,
    /// Name.
    pub nome: Option<String>,
    /// The days.
    pub lista_pred_dia_m_prazo: Vec<PredDiaMPrazo>,
}

/// One hour of the hourly forecast.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PredHora {
    /// Local time, without a zone.
    pub data_predicion: Option<String>,
    /// Sky icon code.
    pub ico_ceo: Num,
    /// Wind icon code.
    pub ico_vento: Num,
    /// °C.
    #[serde(rename = "tMedia")]
    pub t_media: Num,
}

/// One day of the hourly forecast.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PredDiaHoraria {
    /// The hours.
    pub lista_pred_hora: Vec<PredHora>,
}

/// The hourly forecast of a municipality.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct HourlyForecast {
    /// INE code (0 for an unknown id).
    pub id_concello: Num,
    /// Name.
    pub nome: Option<String>,
    /// The days.
    pub lista_pred_dia_horaria: Vec<PredDiaHoraria>,
}

/// `jsonPredHorariaConcellos`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct HourlyResponse {
    /// The forecast.
    pub pred_horaria: Option<HourlyForecast>,
}

/// One station of `listaEstacionsMeteo`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct StationEntry {
    /// Station id.
    pub id_estacion: Num,
    /// Name (one has a trailing space).
    pub estacion: Option<String>,
    /// Latitude.
    pub lat: Num,
    /// Longitude.
    pub lon: Num,
    /// Altitude, m.
    pub altitude: Num,
}

/// `listaEstacionsMeteo`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct StationListResponse {
    /// The stations.
    pub lista_estacions_meteo: Option<Vec<StationEntry>>,
}

/// A number as an id: `10124.0` → `10124`.
pub fn id(n: Num) -> Option<String> {
    let v = n.get()?;
    (v.fract() == 0.0 && v > 0.0).then(|| format!("{v:.0}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_data_and_bad_validation_are_not_values() {
        let m = |j: &str| serde_json::from_str::<Measure>(j).unwrap().usable();
        assert_eq!(
            m(r#"{"codigoParametro":"TA","lnCodigoValidacion":1,"valor":17.51}"#),
            Some(17.51)
        );
        assert_eq!(
            m(r#"{"codigoParametro":"TA","lnCodigoValidacion":5,"valor":3}"#),
            Some(3.0)
        );
        assert_eq!(
            m(r#"{"codigoParametro":"TA","lnCodigoValidacion":9,"valor":-9999.0}"#),
            None
        );
        assert_eq!(
            m(r#"{"codigoParametro":"TA","lnCodigoValidacion":1,"valor":-9999}"#),
            None
        );
        for bad in [2, 3, 9] {
            let j =
                format!(r#"{{"codigoParametro":"TA","lnCodigoValidacion":{bad},"valor":12.0}}"#);
            assert_eq!(m(&j), None, "validation code {bad}");
        }
    }

    #[test]
    fn ids_print_without_decimals() {
        assert_eq!(id(Num(Some(10124.0))), Some("10124".into()));
        assert_eq!(id(Num(Some(0.0))), None);
        assert_eq!(id(Num(None)), None);
    }
}
