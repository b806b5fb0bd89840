//! The fake MeteoGalicia: the `../shared/meteogalicia` fixtures under `/mgrss`, routed by path
//! and query as the real service is (its ids are query parameters), and the answers for an
//! unknown id.

use super::{AemetServer, Plays, Reply, data, mg_fixture};

/// The path prefix of MeteoGalicia's services on the fake server.
pub const MGRSS: &str = "/mgrss";

/// The "now" of the forecast fixtures: the morning they were captured, just after the
/// municipality observation (08:56 UTC on 2026-09-26).
pub const NOW: &str = "2026-09-26T09:00:00Z";

/// The "now" of the station fixture: ten minutes after its reading (21:30 UTC on 2026-09-27).
pub const STATION_NOW: &str = "2026-09-27T21:40:00Z";

/// JSON as MeteoGalicia labels it.
pub const JSON: &str = "application/json;charset=UTF-8";

/// The station of the fixture.
pub const STATION: &str = "observacion/ultimos10minEstacionsMeteo.action?idEst=10124";
/// The municipality observation of the fixture.
pub const OBSERVATION: &str = "observacion/observacionConcellos.action?idConcello=15078";
/// The short-term forecast of the fixture.
pub const DAILY: &str = "predicion/jsonPredConcellos.action?idConc=15078";
/// The medium-term forecast of the fixture.
pub const MEDIUM: &str = "predicion/jsonPredMedioPrazo.action?idConc=15078&dia=-1";
/// The hourly forecast of the fixture.
pub const HOURLY: &str = "predicion/jsonPredHorariaConcellos.action?idConc=15078";
/// The station list.
pub const LIST: &str = "observacion/listaEstacionsMeteo.action";

/// The station reading fixture's file name.
pub const STATION_FILE: &str =
    "ultimos10minEstacionsMeteo_idEst-10124_Santiago-EOAS_2026-09-27T2130.json";

const ROUTES: [(&str, &str); 6] = [
    (STATION, STATION_FILE),
    (
        OBSERVATION,
        "observacionConcellos_idConcello-15078_Santiago_2026-09-26T0856Z.json",
    ),
    (
        DAILY,
        "jsonPredConcellos_idConc-15078_Santiago_2026-09-26.json",
    ),
    (
        MEDIUM,
        "jsonPredMedioPrazo_idConc-15078_Santiago_days4-7_2026-09-26.json",
    ),
    (
        HOURLY,
        "jsonPredHorariaConcellos_idConc-15078_Santiago_2026-09-26.json",
    ),
    (LIST, "listaEstacionsMeteo_155-stations_2026-09.json"),
];

/// Id 99999 is unknown everywhere. The forecasts answer with MeteoGalicia's real "unknown"
/// bodies; the station, observation and hourly answers follow the same pattern (`null` or an
/// empty list under HTTP 200) and live in `tests/data`.
fn unknown_routes(s: &AemetServer) {
    let body = |b: Vec<u8>| vec![Reply::Body(200, JSON, b)];
    s.mg_route(
        "predicion/jsonPredConcellos.action?idConc=99999",
        body(mg_fixture("jsonPredConcellos_unknown-idConc_response.json")),
    );
    s.mg_route(
        "predicion/jsonPredMedioPrazo.action?idConc=99999&dia=-1",
        body(mg_fixture(
            "jsonPredMedioPrazo_unknown-idConc_response.json",
        )),
    );
    s.mg_route(
        "predicion/jsonPredHorariaConcellos.action?idConc=99999",
        body(data("meteogalicia-hourly-unknown.json")),
    );
    s.mg_route(
        "observacion/observacionConcellos.action?idConcello=99999",
        body(data("meteogalicia-observation-unknown.json")),
    );
    s.mg_route(
        "observacion/ultimos10minEstacionsMeteo.action?idEst=99999",
        body(data("meteogalicia-station-unknown.json")),
    );
}

impl AemetServer {
    /// A fake MeteoGalicia with the fixture routes (station 10124, municipality 15078, the
    /// station list) and id 99999 unknown.
    pub fn meteogalicia() -> Self {
        let mut s = Self::empty();
        s.kind = Plays::MeteoGalicia;
        for (path, file) in ROUTES {
            s.mg_route(path, vec![Reply::Body(200, JSON, mg_fixture(file))]);
        }
        unknown_routes(&s);
        s
    }

    /// Sets the replies of a MeteoGalicia path (after `/mgrss/`, with its query).
    pub fn mg_route(&self, path: &str, replies: Vec<Reply>) {
        self.raw_route(&format!("{MGRSS}/{path}"), replies);
    }

    /// Requests seen on a MeteoGalicia path (with its query).
    pub fn mg_count(&self, path: &str) -> usize {
        self.raw_count(&format!("{MGRSS}/{path}"))
    }
}

/// The station fixture's usable value of a measure code: validation 0, 1 or 5, not -9999.
pub fn station_value(code: &str) -> Option<f64> {
    let v: serde_json::Value = serde_json::from_slice(&mg_fixture(STATION_FILE)).unwrap();
    v["listUltimos10min"][0]["listaMedidas"]
        .as_array()?
        .iter()
        .find(|m| m["codigoParametro"] == code)
        .filter(|m| matches!(m["lnCodigoValidacion"].as_i64(), Some(0 | 1 | 5)))
        .and_then(|m| m["valor"].as_f64())
        .filter(|v| *v != -9999.0)
}

/// The station fixture with one measure's validation code replaced.
pub fn station_with_validation(code: &str, validation: i64) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(&mg_fixture(STATION_FILE)).unwrap();
    for m in v["listUltimos10min"][0]["listaMedidas"]
        .as_array_mut()
        .unwrap()
    {
        if m["codigoParametro"] == code {
            m["lnCodigoValidacion"] = validation.into();
        }
    }
    v.to_string().into_bytes()
}
