//! From AEMET's shapes to MQTT messages: topics, JSON payloads, bare values and Home Assistant
//! discovery. Pure functions of the parsed data and an explicit `now`.
//!
//! ```text
//! {prefix}/aemet/station/{idema}                     JSON of the latest record
//! {prefix}/aemet/station/{idema}/{field}             bare number per field
//! {prefix}/aemet/forecast/{ine}/daily                JSON, 7 days
//! {prefix}/aemet/forecast/{ine}/hourly               JSON, about 48 hours
//! {prefix}/aemet/forecast/{ine}/{today|tomorrow}/temperature/{max|min}
//! ```

use super::model::{Loose, Observation};
use super::time::{parse_fint, rfc3339_utc};
use chrono::{DateTime, Duration, Utc};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

pub use super::forecast::{daily_product, hourly_product};

/// The attribution AEMET requires on reuse.
pub const ATTRIBUTION: &str = "© AEMET";
/// Observations older than this are flagged `stale`.
pub const STATION_MAX_AGE: Duration = Duration::hours(2);

/// One retained MQTT message.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Full topic name.
    pub topic: String,
    /// UTF-8 payload.
    pub payload: String,
}

/// Every message of one product (a station, a daily or an hourly forecast) with the stamp that
/// decides whether it changed since the last publish.
#[derive(Debug, Clone)]
pub struct Product {
    /// Stable key in the publish state, e.g. `station/3195`.
    pub key: String,
    /// Source timestamp plus whatever else changes the messages (the stale flag, the date).
    pub stamp: String,
    /// The messages, data first, discovery configs after.
    pub messages: Vec<Message>,
}

/// How topics are built.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Topic prefix, `meteo` by default.
    pub prefix: String,
    /// Home Assistant discovery prefix, when discovery is on.
    pub discovery: Option<String>,
    /// Whether discovery configs name `{prefix}/status` as the availability topic. Only a
    /// long-running service keeps it `online`; a cron run leaves it `offline` between runs,
    /// which would show every sensor as unavailable.
    pub availability: bool,
}

impl Layout {
    /// The availability topic, `{prefix}/status`.
    pub fn status_topic(&self) -> String {
        format!("{}/status", self.prefix)
    }
}

/// A JSON object that keeps its keys in insertion order (serde_json's map sorts them).
#[derive(Debug, Default)]
pub struct Ordered(pub Vec<(&'static str, Node)>);

/// A value inside an [`Ordered`] object.
#[derive(Debug)]
pub enum Node {
    /// A plain JSON value.
    Value(Value),
    /// A nested ordered object.
    Object(Ordered),
    /// An array of ordered objects.
    List(Vec<Ordered>),
}

impl<T: Into<Value>> From<T> for Node {
    fn from(v: T) -> Self {
        Node::Value(v.into())
    }
}

impl Ordered {
    /// Adds a key.
    pub fn put(&mut self, k: &'static str, v: impl Into<Node>) {
        self.0.push((k, v.into()));
    }
    /// Adds a nested object.
    pub fn object(&mut self, k: &'static str, v: Ordered) {
        self.0.push((k, Node::Object(v)));
    }
    /// Adds an array of objects.
    pub fn list(&mut self, k: &'static str, v: Vec<Ordered>) {
        self.0.push((k, Node::List(v)));
    }
    /// Adds a number if there is one.
    pub fn num(&mut self, k: &'static str, v: Option<f64>) {
        if let Some(n) = v.and_then(serde_json::Number::from_f64) {
            self.put(k, Value::Number(n));
        }
    }
    /// Adds a string if there is one.
    pub fn text(&mut self, k: &'static str, v: Option<&str>) {
        if let Some(s) = v {
            self.put(k, s);
        }
    }
    /// Serialises to compact JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Value(v) => v.serialize(s),
            Node::Object(o) => o.serialize(s),
            Node::List(l) => l.serialize(s),
        }
    }
}

impl Serialize for Ordered {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// Makes an id safe as one topic level (no separators or wildcards).
pub fn level(id: &str) -> String {
    id.trim()
        .chars()
        .map(|c| if matches!(c, '/' | '+' | '#') { '_' } else { c })
        .collect()
}

/// A bare number as published on the per-field topics: `0.1`, `97`, `-0.7`.
pub fn bare(v: f64) -> String {
    format!("{v}")
}

/// One numeric field of an observation.
pub struct Field {
    /// Key in the JSON and last topic level.
    pub name: &'static str,
    /// Where it is in the record.
    pub get: fn(&Observation) -> &Loose,
    /// Unit, as published in `units` and to Home Assistant.
    pub unit: &'static str,
    /// Home Assistant device class, if one fits.
    pub class: Option<&'static str>,
}

/// The observation fields published, in payload order.
pub const STATION_FIELDS: &[Field] = &[
    f("temperature", |o| &o.ta, "°C", Some("temperature")),
    f("temperature_max", |o| &o.tamax, "°C", Some("temperature")),
    f("temperature_min", |o| &o.tamin, "°C", Some("temperature")),
    f("humidity", |o| &o.hr, "%", Some("humidity")),
    f("pressure", |o| &o.pres, "hPa", Some("atmospheric_pressure")),
    f(
        "pressure_sea_level",
        |o| &o.pres_nmar,
        "hPa",
        Some("atmospheric_pressure"),
    ),
    f("precipitation", |o| &o.prec, "mm", Some("precipitation")),
    f("wind_speed", |o| &o.vv, "m/s", Some("wind_speed")),
    f("wind_direction", |o| &o.dv, "°", None),
    f("gust_speed", |o| &o.vmax, "m/s", Some("wind_speed")),
    f("dew_point", |o| &o.tpr, "°C", Some("temperature")),
    f("latitude", |o| &o.lat, "°", None),
    f("longitude", |o| &o.lon, "°", None),
    f("altitude", |o| &o.alt, "m", Some("distance")),
];

const fn f(
    name: &'static str,
    get: fn(&Observation) -> &Loose,
    unit: &'static str,
    class: Option<&'static str>,
) -> Field {
    Field {
        name,
        get,
        unit,
        class,
    }
}

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

/// The station product for the latest record of `idema`, if it has one.
pub fn station_product(
    layout: &Layout,
    records: &[Observation],
    idema: &str,
    now: DateTime<Utc>,
) -> Option<Product> {
    let (rec, time) = latest(records, idema, now)?;
    let stale = now - time > STATION_MAX_AGE;
    let base = format!("{}/aemet/station/{}", layout.prefix, level(idema));
    let mut doc = Ordered::default();
    // AEMET pads some names with double spaces ("MADRID  C. UNIVERSITARIA").
    let name = rec
        .ubi
        .text()
        .map(|n| n.split_whitespace().collect::<Vec<_>>().join(" "));
    doc.put("station", idema);
    doc.text("name", name.as_deref());
    doc.put("time", rfc3339_utc(time));
    let mut units = Ordered::default();
    let mut values = Vec::new();
    for field in STATION_FIELDS {
        if let Some(v) = (field.get)(rec).num() {
            doc.num(field.name, Some(v));
            units.put(field.name, field.unit);
            values.push((field, v));
        }
    }
    doc.put("stale", stale);
    doc.object("units", units);
    doc.put("attribution", ATTRIBUTION);
    let mut messages = vec![Message {
        topic: base.clone(),
        payload: doc.to_json(),
    }];
    for (field, v) in &values {
        messages.push(Message {
            topic: format!("{base}/{}", field.name),
            payload: bare(*v),
        });
    }
    if let Some(dp) = &layout.discovery {
        let fields: Vec<&Field> = values.iter().map(|(f, _)| *f).collect();
        let name = name.as_deref().unwrap_or(idema);
        messages.extend(station_discovery(layout, dp, idema, name, &fields));
    }
    Some(Product {
        key: format!("station/{idema}"),
        stamp: format!("{}|stale={stale}", rfc3339_utc(time)),
        messages,
    })
}

/// Discovery configs of a station's bare-value topics.
fn station_discovery(
    layout: &Layout,
    dp: &str,
    idema: &str,
    name: &str,
    fields: &[&Field],
) -> Vec<Message> {
    let base = format!("{}/aemet/station/{}", layout.prefix, level(idema));
    let device = Device {
        id: format!("mq_aemet_station_{}", level(idema)),
        name: format!("AEMET {name}"),
        model: "station",
    };
    fields
        .iter()
        .map(|field| {
            let s = Sensor {
                object: format!("{}_{}", level(idema), field.name),
                name: field.name,
                state_topic: format!("{base}/{}", field.name),
                unit: field.unit,
                class: field.class,
            };
            discovery(layout, dp, &device, &s)
        })
        .collect()
}

/// A Home Assistant device (a station or a municipality).
pub struct Device {
    /// Stable identifier.
    pub id: String,
    /// Display name.
    pub name: String,
    /// `station` or `forecast`.
    pub model: &'static str,
}

/// A Home Assistant sensor for one bare-value topic.
pub struct Sensor<'a> {
    /// Object id, unique under the device.
    pub object: String,
    /// Display name.
    pub name: &'a str,
    /// Where its value is published.
    pub state_topic: String,
    /// Unit of measurement.
    pub unit: &'static str,
    /// Device class, if any.
    pub class: Option<&'static str>,
}

/// The discovery config of one sensor, at `{dp}/sensor/mq_aemet/{object}/config`.
pub fn discovery(layout: &Layout, dp: &str, device: &Device, s: &Sensor) -> Message {
    let mut c = Ordered::default();
    c.put("name", s.name.replace('_', " "));
    c.put("unique_id", format!("mq_aemet_{}", level(&s.object)));
    c.put("state_topic", s.state_topic.clone());
    c.put("unit_of_measurement", s.unit);
    c.text("device_class", s.class);
    c.put("state_class", "measurement");
    if layout.availability {
        c.put("availability_topic", layout.status_topic());
        c.put("payload_available", "online");
        c.put("payload_not_available", "offline");
    }
    c.put(
        "device",
        serde_json::json!({
            "identifiers": [device.id],
            "name": device.name,
            "manufacturer": "AEMET",
            "model": device.model,
        }),
    );
    Message {
        topic: format!("{dp}/sensor/mq_aemet/{}/config", level(&s.object)),
        payload: c.to_json(),
    }
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

/// A `units` object from (field, unit) pairs.
pub fn units(pairs: &[(&'static str, &'static str)]) -> Ordered {
    let mut u = Ordered::default();
    for (k, v) in pairs {
        u.put(k, *v);
    }
    u
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

    fn layout() -> Layout {
        Layout {
            prefix: "meteo".into(),
            discovery: None,
            availability: true,
        }
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
        let at = |now| station_product(&layout(), &recs, "1", t(now)).unwrap();
        assert!(
            at("2024-06-25T21:00:00").messages[0]
                .payload
                .contains("\"stale\":false")
        );
        assert!(
            at("2024-06-25T21:00:01").messages[0]
                .payload
                .contains("\"stale\":true")
        );
        assert_ne!(
            at("2024-06-25T21:00:00").stamp,
            at("2024-06-25T21:00:01").stamp
        );
    }

    #[test]
    fn missing_field_is_left_out_and_names_are_tidied() {
        let recs = [obs("1", "2024-06-25T19:00:00", "\"\"")];
        let p = station_product(&layout(), &recs, "1", t("2024-06-25T19:30:00")).unwrap();
        assert!(!p.messages[0].payload.contains("temperature"));
        assert!(p.messages[0].payload.contains("\"name\":\"A B\""));
        assert_eq!(p.messages.len(), 1, "no bare topics without values");
    }

    #[test]
    fn topic_levels_are_sanitised() {
        assert_eq!(level("a/b+c#"), "a_b_c_");
        assert_eq!(bare(99.0), "99");
        assert_eq!(bare(-0.7), "-0.7");
    }
}
