//! Home Assistant MQTT discovery: one sensor config per value worth an entity, retained at
//! `{dp}/sensor/mq_{source}/{object}/config`.
//!
//! * Station values are measurements (`state_class`), wind direction with the angle class; the
//!   observation time is a `timestamp` sensor. Latitude, longitude and altitude, with the
//!   reading's time and stale flag, are attributes of every station sensor, not sensors.
//! * Forecast values (today's and tomorrow's max/min and precipitation probability) carry no
//!   `state_class`, so Home Assistant keeps no long-term statistics of predictions. The sky is
//!   an `enum` sensor of Home Assistant's weather conditions with the source's text as the
//!   `sky` attribute. The daily and hourly forecasts are the attributes of two forecast
//!   sensors, for a template weather entity or a chart card.
//! * Every sensor expires (`expire_after`) a few polls after the source's own staleness limit,
//!   so Home Assistant shows it unavailable when the data stops. A service names
//!   `{prefix}/status` as availability; a cron run (`--once`) does not, as the status is
//!   `offline` between runs.

use super::json::{Ordered, level};
use super::model::{Condition, Current, ForecastHeader, Quantity, Reading};
use super::publish::{Layout, Message};
use super::source::SourceInfo;
use std::time::Duration;

/// How often the service polls, which sets how long Home Assistant trusts a value.
#[derive(Debug, Clone, Copy)]
pub struct Cadence {
    /// Observation polling interval.
    pub observations: Duration,
    /// Forecast polling interval.
    pub forecasts: Duration,
}

impl Default for Cadence {
    fn default() -> Self {
        Cadence {
            observations: Duration::from_secs(600),
            forecasts: Duration::from_secs(3600),
        }
    }
}

/// Polls a value may miss before Home Assistant marks it unavailable.
const MISSED_POLLS: u32 = 3;

/// The topics of today's and tomorrow's separate values, as published by the daily product.
#[derive(Debug, Default)]
pub struct DaySensors {
    /// (`today`/`tomorrow`, `max`/`min`, topic).
    pub temperature: Vec<(&'static str, &'static str, String)>,
    /// (`today`/`tomorrow`, topic).
    pub precipitation: Vec<(&'static str, String)>,
    /// (`today`/`tomorrow`, condition topic, sky text topic).
    pub condition: Vec<(&'static str, String, String)>,
    /// The forecast has at least one day (the forecast sensor's state is its first date).
    pub has_days: bool,
}

/// A Home Assistant device: a station or a municipality.
struct Device {
    id: String,
    name: String,
    model: &'static str,
}

/// One sensor's config.
struct Sensor {
    object: String,
    name: String,
    state_topic: String,
    value_template: Option<&'static str>,
    unit: Option<&'static str>,
    device_class: Option<&'static str>,
    state_class: Option<&'static str>,
    /// An `enum` sensor of Home Assistant's weather conditions.
    conditions: bool,
    expire_after: u64,
    attributes: Option<(String, &'static str)>,
}

impl Sensor {
    fn new(object: String, name: String, state_topic: String, expire_after: u64) -> Self {
        Sensor {
            object,
            name,
            state_topic,
            value_template: None,
            unit: None,
            device_class: None,
            state_class: None,
            conditions: false,
            expire_after,
            attributes: None,
        }
    }
}

/// The reading's location, time and stale flag, as attributes of a station's sensors.
const STATION_ATTRIBUTES: &str = "{{ {\"latitude\": value_json.get(\"latitude\"), \
\"longitude\": value_json.get(\"longitude\"), \"altitude\": value_json.get(\"altitude\"), \
\"time\": value_json.time, \"stale\": value_json.stale} | tojson }}";

/// A plain-text sky as the `sky` attribute.
const SKY_ATTRIBUTE: &str = "{{ {\"sky\": value} | tojson }}";

/// Builds the configs of one source under one discovery prefix.
pub struct Discovery<'a> {
    layout: &'a Layout,
    dp: &'a str,
    source: &'a SourceInfo,
    cadence: &'a Cadence,
}

impl<'a> Discovery<'a> {
    /// Configs under `dp` for `source`, expiring after a few `cadence` polls.
    pub fn new(
        layout: &'a Layout,
        dp: &'a str,
        source: &'a SourceInfo,
        cadence: &'a Cadence,
    ) -> Self {
        Discovery {
            layout,
            dp,
            source,
            cadence,
        }
    }

    /// `expire_after`, in seconds: the staleness limit plus a few missed polls.
    fn expire(max_age: Duration, poll: Duration) -> u64 {
        (max_age + poll.saturating_mul(MISSED_POLLS))
            .as_secs()
            .max(1)
    }

    fn station_device(&self, r: &Reading) -> Device {
        Device {
            id: format!("mq_{}_station_{}", self.source.name, level(&r.station)),
            name: format!(
                "{} {}",
                self.source.label,
                r.name.as_deref().unwrap_or(&r.station)
            ),
            model: "station",
        }
    }

    fn municipality_device(&self, ine: &str, name: Option<&str>) -> Device {
        Device {
            id: format!("mq_{}_forecast_{}", self.source.name, level(ine)),
            name: format!("{} {}", self.source.label, name.unwrap_or(ine)),
            model: "municipality",
        }
    }

    /// A station's sensors: every value but the location, and the observation time.
    pub fn station(&self, r: &Reading, base: &str) -> Vec<Message> {
        let device = self.station_device(r);
        let expire = Self::expire(self.source.station_max_age, self.cadence.observations);
        let id = level(&r.station);
        let attrs = || Some((base.to_owned(), STATION_ATTRIBUTES));
        let mut out: Vec<Message> = r
            .values
            .iter()
            .filter(|(q, _)| !q.is_location())
            .map(|(q, _)| {
                let mut s = Sensor::new(
                    format!("{id}_{}", q.name()),
                    display(*q).to_owned(),
                    format!("{base}/{}", q.name()),
                    expire,
                );
                s.unit = Some(q.unit());
                s.device_class = q.device_class();
                s.state_class = Some(q.state_class());
                s.attributes = attrs();
                self.config(&device, &s)
            })
            .collect();
        let mut t = Sensor::new(
            format!("{id}_time"),
            "Observation time".into(),
            base.to_owned(),
            expire,
        );
        t.value_template = Some("{{ value_json.time }}");
        t.device_class = Some("timestamp");
        t.attributes = attrs();
        out.push(self.config(&device, &t));
        out
    }

    /// A municipality's current temperature, feels-like temperature and sky.
    pub fn current(&self, c: &Current, base: &str) -> Vec<Message> {
        let device = self.municipality_device(&c.municipality, c.name.as_deref());
        let expire = Self::expire(self.source.current_max_age, self.cadence.observations);
        let id = level(&c.municipality);
        let mut out = Vec::new();
        for (field, name, v) in [
            ("temperature", "Current temperature", c.temperature),
            ("feels_like", "Current feels-like temperature", c.feels_like),
        ] {
            if v.is_some() {
                let mut s = Sensor::new(
                    format!("{id}_current_{field}"),
                    name.into(),
                    format!("{base}/{field}"),
                    expire,
                );
                s.unit = Some("°C");
                s.device_class = Some("temperature");
                s.state_class = Some("measurement");
                out.push(self.config(&device, &s));
            }
        }
        if c.sky.as_ref().is_some_and(|s| s.condition.is_some()) {
            let mut s = Sensor::new(
                format!("{id}_current_condition"),
                "Current condition".into(),
                format!("{base}/condition"),
                expire,
            );
            s.conditions = true;
            s.attributes = Some((format!("{base}/sky"), SKY_ATTRIBUTE));
            out.push(self.config(&device, &s));
        }
        out
    }

    /// Today's and tomorrow's values, and the daily forecast sensor.
    pub fn daily(&self, h: &ForecastHeader, base: &str, days: &DaySensors) -> Vec<Message> {
        let device = self.municipality_device(&h.municipality, h.name.as_deref());
        let expire = Self::expire(self.source.forecast_max_age, self.cadence.forecasts);
        let id = level(&h.municipality);
        let mut out = Vec::new();
        for (day, which, topic) in &days.temperature {
            let mut s = Sensor::new(
                format!("{id}_{day}_temperature_{which}"),
                format!("{} {which} temperature", capital(day)),
                topic.clone(),
                expire,
            );
            s.unit = Some("°C");
            s.device_class = Some("temperature");
            out.push(self.config(&device, &s));
        }
        for (day, topic) in &days.precipitation {
            let mut s = Sensor::new(
                format!("{id}_{day}_precipitation_probability"),
                format!("{} precipitation probability", capital(day)),
                topic.clone(),
                expire,
            );
            s.unit = Some("%");
            out.push(self.config(&device, &s));
        }
        for (day, topic, sky) in &days.condition {
            let mut s = Sensor::new(
                format!("{id}_{day}_condition"),
                format!("{} condition", capital(day)),
                topic.clone(),
                expire,
            );
            s.conditions = true;
            s.attributes = Some((sky.clone(), SKY_ATTRIBUTE));
            out.push(self.config(&device, &s));
        }
        if days.has_days {
            out.push(self.forecast_sensor(&device, &id, "daily", base, expire));
        }
        out
    }

    /// The hourly forecast sensor.
    pub fn hourly(&self, h: &ForecastHeader, topic: &str) -> Vec<Message> {
        let device = self.municipality_device(&h.municipality, h.name.as_deref());
        let expire = Self::expire(self.source.forecast_max_age, self.cadence.forecasts);
        let id = level(&h.municipality);
        let base = topic.trim_end_matches("/hourly");
        vec![self.forecast_sensor(&device, &id, "hourly", base, expire)]
    }

    /// A sensor whose attributes are a whole forecast document, and whose state is where the
    /// forecast starts (a date for the daily one, a time for the hourly one).
    fn forecast_sensor(
        &self,
        device: &Device,
        id: &str,
        kind: &str,
        base: &str,
        expire: u64,
    ) -> Message {
        let topic = format!("{base}/{kind}");
        let mut s = Sensor::new(
            format!("{id}_{kind}_forecast"),
            format!("{} forecast", capital(kind)),
            topic.clone(),
            expire,
        );
        if kind == "daily" {
            s.value_template = Some("{{ value_json.days[0].date }}");
            s.device_class = Some("date");
        } else {
            s.value_template = Some("{{ value_json.hours[0].time }}");
            s.device_class = Some("timestamp");
        }
        s.attributes = Some((topic, ""));
        self.config(device, &s)
    }

    /// The config of one sensor.
    fn config(&self, device: &Device, s: &Sensor) -> Message {
        let mut c = Ordered::default();
        c.put("name", s.name.as_str());
        c.put(
            "unique_id",
            format!("mq_{}_{}", self.source.name, level(&s.object)),
        );
        c.put("state_topic", s.state_topic.as_str());
        c.text("value_template", s.value_template);
        c.text("unit_of_measurement", s.unit);
        if s.conditions {
            c.put("device_class", "enum");
            let options: Vec<&str> = Condition::ALL.iter().map(|c| c.as_str()).collect();
            c.put("options", options);
        } else {
            c.text("device_class", s.device_class);
        }
        c.text("state_class", s.state_class);
        c.put("expire_after", s.expire_after);
        if let Some((topic, template)) = &s.attributes {
            c.put("json_attributes_topic", topic.as_str());
            c.text(
                "json_attributes_template",
                (!template.is_empty()).then_some(*template),
            );
        }
        if self.layout.availability {
            c.put("availability_topic", self.layout.status_topic());
            c.put("payload_available", "online");
            c.put("payload_not_available", "offline");
        }
        c.put("device", self.device_json(device));
        c.put("origin", origin());
        Message {
            topic: format!(
                "{}/sensor/mq_{}/{}/config",
                self.dp,
                self.source.name,
                level(&s.object)
            ),
            payload: c.to_json(),
        }
    }

    fn device_json(&self, d: &Device) -> serde_json::Value {
        serde_json::json!({
            "identifiers": [d.id],
            "name": d.name,
            "manufacturer": self.source.label,
            "model": d.model,
            "sw_version": concat!("mq ", env!("CARGO_PKG_VERSION")),
        })
    }
}

/// Who published the config.
fn origin() -> serde_json::Value {
    serde_json::json!({
        "name": "mq meteo",
        "sw_version": env!("CARGO_PKG_VERSION"),
    })
}

/// A station value's entity name.
fn display(q: Quantity) -> &'static str {
    match q {
        Quantity::Temperature => "Temperature",
        Quantity::TemperatureMax => "Maximum temperature",
        Quantity::TemperatureMin => "Minimum temperature",
        Quantity::Humidity => "Humidity",
        Quantity::Pressure => "Pressure",
        Quantity::PressureSeaLevel => "Sea-level pressure",
        Quantity::Precipitation => "Precipitation",
        Quantity::WindSpeed => "Wind speed",
        Quantity::WindDirection => "Wind direction",
        Quantity::GustSpeed => "Gust speed",
        Quantity::DewPoint => "Dew point",
        Quantity::SolarRadiation => "Solar radiation",
        Quantity::Latitude => "Latitude",
        Quantity::Longitude => "Longitude",
        Quantity::Altitude => "Altitude",
    }
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_the_staleness_limit_plus_missed_polls() {
        let h = Duration::from_secs(3600);
        assert_eq!(Discovery::expire(2 * h, h / 6), 7200 + 1800);
        assert_eq!(capital("today"), "Today");
    }
}
