//! AEMET observation records → the model's [`Reading`].
//!
//! A station's records cover about the last 24 hours; the latest one not later than now is the
//! reading. `fint` is UTC, with or without `+0000`.

use super::model::{Loose, Observation};
use crate::meteo::model::{Quantity, Reading};
use crate::meteo::time::parse_fint;
use chrono::{DateTime, Duration, Utc};

/// Observations older than this are flagged `stale`.
pub const STATION_MAX_AGE: Duration = Duration::hours(2);

/// Reads one field of a record.
type Field = fn(&Observation) -> &Loose;

/// Where each quantity is in a record.
const FIELDS: &[(Quantity, Field)] = &[
    (Quantity::Temperature, |o| &o.ta),
    (Quantity::TemperatureMax, |o| &o.tamax),
    (Quantity::TemperatureMin, |o| &o.tamin),
    (Quantity::Humidity, |o| &o.hr),
    (Quantity::Pressure, |o| &o.pres),
    (Quantity::PressureSeaLevel, |o| &o.pres_nmar),
    (Quantity::Precipitation, |o| &o.prec),
    (Quantity::WindSpeed, |o| &o.vv),
    (Quantity::WindDirection, |o| &o.dv),
    (Quantity::GustSpeed, |o| &o.vmax),
    (Quantity::DewPoint, |o| &o.tpr),
    (Quantity::Latitude, |o| &o.lat),
    (Quantity::Longitude, |o| &o.lon),
    (Quantity::Altitude, |o| &o.alt),
];

/// The latest record of `idema` not later than `now` (AEMET's list is not guaranteed to be in
/// order, and a clock ahead of ours must not win).
pub fn latest<'a>(
    records: &'a [Observation],
    idema: &str,
    now: DateTime<Utc>,
) -> Option<(&'a Observation, DateTime<Utc>)> {
    records
        .iter()
        .filter(|r| r.idema.text() == Some(idema))
        .filter_map(|r| Some((r, parse_fint(r.fint.text()?)?)))
        .filter(|(_, t)| *t <= now + Duration::minutes(5))
        .max_by_key(|(_, t)| *t)
}

/// The reading of `idema` as of `now`, from its latest record.
pub fn reading(records: &[Observation], idema: &str, now: DateTime<Utc>) -> Option<Reading> {
    let (rec, time) = latest(records, idema, now)?;
    // AEMET pads some names with double spaces ("MADRID  C. UNIVERSITARIA").
    let name = rec
        .ubi
        .text()
        .map(|n| n.split_whitespace().collect::<Vec<_>>().join(" "));
    let values = FIELDS
        .iter()
        .filter_map(|(q, get)| Some((*q, get(rec).num()?)))
        .collect();
    Some(Reading {
        station: idema.to_owned(),
        name,
        time,
        values,
        stale: now - time > STATION_MAX_AGE,
    })
}

/// Station ids present in a `todas` dump, sorted, each once.
pub fn station_ids(records: &[Observation]) -> Vec<String> {
    let mut ids: Vec<String> = records
        .iter()
        .filter_map(|r| r.idema.text().map(str::to_owned))
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(idema: &str, fint: &str, ta: &str) -> Observation {
        serde_json::from_str(&format!(
            r#"{{"idema":"{idema}","fint":"{fint}","ta":{ta},"ubi":"A  B"}}"#
        ))
        .unwrap()
    }

    fn t(s: &str) -> DateTime<Utc> {
        parse_fint(s).unwrap()
    }

    #[test]
    fn latest_is_the_largest_fint_not_in_the_future() {
        let recs = [
            obs("1", "2024-06-25T19:00:00+0000", "1"),
            obs("1", "2024-06-25T21:00:00+0000", "3"),
            obs("1", "2024-06-25T20:00:00", "2"),
            obs("2", "2024-06-25T20:30:00", "9"),
        ];
        let (r, _) = latest(&recs, "1", t("2024-06-25T20:30:00")).unwrap();
        assert_eq!(r.ta.num(), Some(2.0));
        let (r, _) = latest(&recs, "1", t("2024-06-26T00:00:00")).unwrap();
        assert_eq!(r.ta.num(), Some(3.0));
        assert!(latest(&recs, "3", t("2024-06-26T00:00:00")).is_none());
    }

    #[test]
    fn stale_after_two_hours() {
        let recs = [obs("1", "2024-06-25T19:00:00", "1")];
        let at = |now| reading(&recs, "1", t(now)).unwrap().stale;
        assert!(!at("2024-06-25T21:00:00"));
        assert!(at("2024-06-25T21:00:01"));
    }

    #[test]
    fn missing_field_is_left_out_and_names_are_tidied() {
        let recs = [obs("1", "2024-06-25T19:00:00", "\"\"")];
        let r = reading(&recs, "1", t("2024-06-25T19:30:00")).unwrap();
        assert_eq!(r.get(Quantity::Temperature), None);
        assert!(r.values.is_empty());
        assert_eq!(r.name.as_deref(), Some("A B"));
    }
}
