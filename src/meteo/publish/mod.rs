//! From the model to MQTT messages: topics, JSON payloads, bare values and Home Assistant
//! discovery. Pure functions of a [`Snapshot`] and an explicit `now`; every source gets the
//! same layout under its own name.
//!
//! ```text
//! {prefix}/{source}/station/{id}                       JSON of the latest reading
//! {prefix}/{source}/station/{id}/{field}               bare number per field
//! {prefix}/{source}/municipality/{ine}                 JSON of the current conditions (if the source has them)
//! {prefix}/{source}/municipality/{ine}/{field}         temperature, feels_like, condition, sky
//! {prefix}/{source}/forecast/{ine}/daily               JSON, one entry per day
//! {prefix}/{source}/forecast/{ine}/hourly              JSON, one entry per hour
//! {prefix}/{source}/forecast/{ine}/{today|tomorrow}/temperature/{max|min}
//! {prefix}/{source}/forecast/{ine}/{today|tomorrow}/{precipitation_probability|condition|sky}
//! ```

mod forecast;
mod station;

use super::discovery::{Cadence, Discovery};
use super::model::Snapshot;
use super::source::SourceInfo;
use chrono::{DateTime, Utc};

pub use super::json::{Node, Ordered, bare, level, units};

/// One retained MQTT message.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Full topic name.
    pub topic: String,
    /// UTF-8 payload.
    pub payload: String,
}

/// Every message of one product (a station, a municipality's observation, a daily or an
/// hourly forecast), with what decides whether it changed since the last publish.
#[derive(Debug, Clone)]
pub struct Product {
    /// Stable key in the publish state, e.g. `aemet/station/3195`.
    pub key: String,
    /// What it is, for people: `station 3195`, `daily forecast 28065`.
    pub label: String,
    /// A digest of every message: a new source timestamp, a stale flag turning on or a new day
    /// all change a payload, and only then is the product published again.
    pub stamp: String,
    /// The data is older than the source's limit.
    pub stale: bool,
    /// The source's time of the data, for the log: `observed …` or `issued …`.
    pub time: Option<String>,
    /// The messages, data first, discovery configs after.
    pub messages: Vec<Message>,
}

impl Product {
    fn new(key: String, label: String, stale: bool, time: Option<String>) -> Self {
        Product {
            key,
            label,
            stamp: String::new(),
            stale,
            time,
            messages: Vec::new(),
        }
    }

    fn push(&mut self, topic: String, payload: String) {
        self.messages.push(Message { topic, payload });
    }

    /// Seals the product: computes the stamp from its messages.
    fn sealed(mut self) -> Self {
        self.stamp = digest(&self.messages);
        self
    }
}

/// FNV-1a over topics and payloads: stable across builds, unlike std's hasher.
fn digest(messages: &[Message]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for m in messages {
        for b in m
            .topic
            .bytes()
            .chain([0])
            .chain(m.payload.bytes())
            .chain([0])
        {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
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

    /// `{prefix}/{source}`, under which every topic of a source lives.
    pub fn source_root(&self, source: &SourceInfo) -> String {
        format!("{}/{}", self.prefix, source.name)
    }

    /// The filters that cover every topic published for `source`: read back after connecting
    /// to tell whether the broker still holds them.
    pub fn filters(&self, source: &SourceInfo) -> Vec<String> {
        let mut f = vec![
            format!("{}/#", self.source_root(source)),
            self.status_topic(),
        ];
        if let Some(dp) = &self.discovery {
            f.push(format!("{dp}/sensor/mq_{}/#", source.name));
        }
        f
    }
}

/// What every product builder needs.
pub(crate) struct Ctx<'a> {
    pub layout: &'a Layout,
    pub source: &'a SourceInfo,
    pub now: DateTime<Utc>,
    pub discovery: Option<Discovery<'a>>,
}

/// Every product of a snapshot, as of `now`.
pub fn products(
    layout: &Layout,
    source: &SourceInfo,
    cadence: &Cadence,
    snap: &Snapshot,
    now: DateTime<Utc>,
) -> Vec<Product> {
    let ctx = Ctx {
        layout,
        source,
        now,
        discovery: layout
            .discovery
            .as_deref()
            .map(|dp| Discovery::new(layout, dp, source, cadence)),
    };
    let mut out = Vec::new();
    out.extend(snap.readings.iter().map(|r| station::reading(&ctx, r)));
    out.extend(snap.current.iter().map(|c| station::current(&ctx, c)));
    out.extend(snap.daily.iter().map(|f| forecast::daily(&ctx, f)));
    out.extend(snap.hourly.iter().map(|f| forecast::hourly(&ctx, f)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_changes_with_any_byte_and_is_stable() {
        let m = |t: &str, p: &str| Message {
            topic: t.into(),
            payload: p.into(),
        };
        let a = digest(&[m("a/b", "1")]);
        assert_eq!(a, digest(&[m("a/b", "1")]));
        assert_ne!(a, digest(&[m("a/b", "2")]));
        assert_ne!(digest(&[m("a", "b1")]), digest(&[m("ab", "1")]));
        assert_eq!(digest(&[]), "cbf29ce484222325");
    }

    #[test]
    fn filters_cover_the_source_status_and_discovery() {
        let l = Layout {
            prefix: "wx".into(),
            discovery: Some("ha".into()),
            availability: false,
        };
        let src = &crate::meteo::aemet::SOURCE;
        assert_eq!(
            l.filters(src),
            ["wx/aemet/#", "wx/status", "ha/sensor/mq_aemet/#"]
        );
    }
}
