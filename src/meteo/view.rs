//! `--dry-run` on a terminal: instead of `topic payload` lines, a table per station and per
//! municipality, drawn from the JSON documents about to be published (so it shows every source
//! the same way): current values with their age, today's and tomorrow's max/min, and the
//! next 48 hours of temperature as a sparkline. Plain text, no colours.

use super::model::Quantity;
use super::publish::Message;
use super::sink::{Sink, SinkError};
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

/// Draws the documents published in a cycle as tables.
pub struct TableView<W: Write> {
    out: W,
    now: Option<DateTime<Utc>>,
    docs: BTreeMap<String, Value>,
    dirty: bool,
}

impl<W: Write> TableView<W> {
    /// Draws to `out`; `now` fixes the time ages are measured from (else the clock).
    pub fn new(out: W, now: Option<DateTime<Utc>>) -> Self {
        TableView {
            out,
            now,
            docs: BTreeMap::new(),
            dirty: false,
        }
    }

    fn draw(&mut self) -> Result<(), SinkError> {
        if std::mem::take(&mut self.dirty) {
            let now = self.now.unwrap_or_else(Utc::now);
            self.out.write_all(render(&self.docs, now).as_bytes())?;
            self.out.flush()?;
        }
        Ok(())
    }
}

impl<W: Write> Sink for TableView<W> {
    async fn open(&mut self) -> Result<(), SinkError> {
        Ok(())
    }

    async fn publish(&mut self, messages: &[Message]) -> Result<(), SinkError> {
        for m in messages {
            // The documents are the JSON objects that carry an attribution; the bare values
            // and discovery configs repeat what they hold.
            if let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(&m.payload) {
                if v.get("attribution").is_some() {
                    self.docs.insert(m.topic.clone(), v);
                    self.dirty = true;
                }
            }
        }
        Ok(())
    }

    async fn end_cycle(&mut self) -> Result<(), SinkError> {
        self.draw()
    }

    async fn close(&mut self) -> Result<(), SinkError> {
        self.draw()
    }
}

/// The documents of one municipality.
#[derive(Default)]
struct Town<'a> {
    current: Option<&'a Value>,
    daily: Option<&'a Value>,
    hourly: Option<&'a Value>,
}

/// Every table, stations first, then municipalities.
pub fn render(docs: &BTreeMap<String, Value>, now: DateTime<Utc>) -> String {
    let mut s = String::new();
    let mut towns: BTreeMap<String, Town> = BTreeMap::new();
    for (topic, doc) in docs {
        if doc.get("station").is_some() {
            station(&mut s, doc, now);
            continue;
        }
        let Some(ine) = doc.get("municipality").and_then(Value::as_str) else {
            continue;
        };
        let root = topic.split("/forecast/").next().unwrap_or(topic);
        let root = root.split("/municipality/").next().unwrap_or(root);
        let t = towns.entry(format!("{root} {ine}")).or_default();
        if doc.get("days").is_some() {
            t.daily = Some(doc);
        } else if doc.get("hours").is_some() {
            t.hourly = Some(doc);
        } else {
            t.current = Some(doc);
        }
    }
    for t in towns.values() {
        town(&mut s, t, now);
    }
    s
}

fn text<'a>(doc: &'a Value, key: &str) -> Option<&'a str> {
    doc.get(key).and_then(Value::as_str)
}

fn num(doc: &Value, key: &str) -> Option<f64> {
    doc.get(key).and_then(Value::as_f64)
}

fn heading(s: &mut String, title: &str, doc: &Value) {
    let attribution = text(doc, "attribution").unwrap_or("");
    let pad = 72usize.saturating_sub(title.chars().count() + attribution.chars().count());
    let _ = writeln!(s, "{title}{}{attribution}", " ".repeat(pad.max(2)));
}

/// `observed 2021-01-09 12:00 UTC · 30 min ago`, and the stale warning.
fn when(s: &mut String, what: &str, doc: &Value, key: &str, now: DateTime<Utc>) {
    let Some(t) = text(doc, key) else {
        return;
    };
    let parsed = DateTime::parse_from_rfc3339(t).ok();
    let shown = parsed.map_or_else(
        || t.to_owned(),
        |p| p.format("%Y-%m-%d %H:%M %:z").to_string(),
    );
    let shown = shown.replace("+00:00", "UTC");
    let age = parsed.map(|p| age(now - p.with_timezone(&Utc)));
    let stale = doc.get("stale").and_then(Value::as_bool) == Some(true);
    let _ = write!(s, "  {what} {shown}");
    if let Some(a) = age {
        let _ = write!(s, " · {a}");
    }
    if stale {
        let _ = write!(s, " · STALE: last known values, not current");
    }
    s.push('\n');
}

/// A person's reading of an age.
pub fn age(d: Duration) -> String {
    let m = d.num_minutes();
    let span = |m: i64| match m {
        m if m < 120 => format!("{m} min"),
        m if m < 48 * 60 => format!("{} h", m / 60),
        m => format!("{} days", m / (24 * 60)),
    };
    match m {
        m if m < -1 => format!("{} in the future", span(-m)),
        m if m < 1 => "just now".into(),
        m => format!("{} ago", span(m)),
    }
}

fn station(s: &mut String, doc: &Value, now: DateTime<Utc>) {
    let id = text(doc, "station").unwrap_or("?");
    let title = match text(doc, "name") {
        Some(n) => format!("Station {id} · {n}"),
        None => format!("Station {id}"),
    };
    heading(s, &title, doc);
    when(s, "observed", doc, "time", now);
    let unit = |k: &str| doc["units"].get(k).and_then(Value::as_str).unwrap_or("");
    for q in Quantity::ALL.iter().filter(|q| !q.is_location()) {
        if let Some(v) = num(doc, q.name()) {
            let name = q.name().replace('_', " ");
            let _ = writeln!(s, "  {name:<22}{v:>9} {}", unit(q.name()));
        }
    }
    if let (Some(lat), Some(lon)) = (num(doc, "latitude"), num(doc, "longitude")) {
        let _ = write!(s, "  at {lat}, {lon}");
        if let Some(alt) = num(doc, "altitude") {
            let _ = write!(s, ", {alt} m");
        }
        s.push('\n');
    }
    s.push('\n');
}

fn town(s: &mut String, t: &Town, now: DateTime<Utc>) {
    let Some(any) = t.daily.or(t.hourly).or(t.current) else {
        return;
    };
    let ine = text(any, "municipality").unwrap_or("?");
    let name = [t.daily, t.hourly, t.current]
        .iter()
        .flatten()
        .find_map(|d| text(d, "name"));
    let mut title = match name {
        Some(n) => format!("{n} ({ine})"),
        None => format!("Municipality {ine}"),
    };
    if let Some(p) = any.get("province").and_then(Value::as_str) {
        let _ = write!(title, ", {p}");
    }
    heading(s, &title, any);
    if let Some(c) = t.current {
        current(s, c, now);
    }
    if let Some(d) = t.daily {
        if d.get("issued").is_some() {
            when(s, "forecast issued", d, "issued", now);
        } else {
            forecast_start(s, d);
        }
        days(s, d, now);
    }
    if let Some(h) = t.hourly {
        sparkline_row(s, h, now);
    }
    s.push('\n');
}

/// For a source that gives no issue time: the first day, and whether it is stale.
fn forecast_start(s: &mut String, d: &Value) {
    let first = d
        .get("days")
        .and_then(|l| l.get(0))
        .and_then(|x| text(x, "date"))
        .unwrap_or("?");
    let _ = write!(s, "  forecast from {first}");
    if d.get("stale").and_then(Value::as_bool) == Some(true) {
        let _ = write!(s, " · STALE: not renewed today");
    }
    s.push('\n');
}

fn current(s: &mut String, c: &Value, now: DateTime<Utc>) {
    when(s, "observed", c, "time", now);
    let stale = c.get("stale").and_then(Value::as_bool) == Some(true);
    let mut line = String::from(if stale {
        "  last      "
    } else {
        "  now       "
    });
    if let Some(v) = num(c, "temperature") {
        let _ = write!(line, " {v} °C");
    }
    if let Some(v) = num(c, "feels_like") {
        let _ = write!(line, " (feels like {v} °C)");
    }
    if let Some(sky) = text(c, "sky") {
        let _ = write!(line, " · {sky}");
    }
    let _ = writeln!(s, "{line}");
}

fn days(s: &mut String, d: &Value, now: DateTime<Utc>) {
    let today = super::time::madrid_date(now);
    let list = d.get("days").and_then(Value::as_array);
    for (label, date) in [("today", today), ("tomorrow", today + Duration::days(1))] {
        let date = date.to_string();
        let Some(day) = list.and_then(|l| l.iter().find(|x| text(x, "date") == Some(&date))) else {
            continue;
        };
        let mut line = format!("  {label:<10}");
        let t = |k| num(day, k).map_or("–".to_owned(), |v| format!("{v} °C"));
        let _ = write!(
            line,
            " max {:>7} · min {:>7}",
            t("temperature_max"),
            t("temperature_min")
        );
        if let Some(p) = num(day, "precipitation_probability") {
            let _ = write!(line, " · rain {p} %");
        }
        if let Some(sky) = text(day, "sky") {
            let _ = write!(line, " · {sky}");
        }
        let _ = writeln!(s, "{line}");
    }
}

/// The next 48 hours of temperature, from the hour under way.
fn sparkline_row(s: &mut String, h: &Value, now: DateTime<Utc>) {
    let temps: Vec<(DateTime<chrono::FixedOffset>, f64)> = h
        .get("hours")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|x| {
            let t = DateTime::parse_from_rfc3339(text(x, "time")?).ok()?;
            Some((t, num(x, "temperature")?))
        })
        .filter(|(t, _)| *t + Duration::hours(1) > now)
        .take(48)
        .collect();
    let values: Vec<f64> = temps.iter().map(|(_, v)| *v).collect();
    let (Some(first), Some(line)) = (temps.first(), sparkline(&values)) else {
        return;
    };
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let _ = writeln!(
        s,
        "  next {:<5} {line}  {lo}…{hi} °C from {}",
        format!("{} h", values.len()),
        first.0.format("%a %H:%M")
    );
}

/// Eight-level bars scaled between the series' minimum and maximum; `None` under two points.
pub fn sparkline(values: &[f64]) -> Option<String> {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    if values.len() < 2 {
        return None;
    }
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let span = (hi - lo).max(f64::EPSILON);
    Some(
        values
            .iter()
            .map(|v| {
                // Rounded to the nearest of the eight levels; in range by construction.
                let i = ((v - lo) / span * 7.0).round() as usize;
                BARS[i.min(7)]
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn sparkline_spans_the_range() {
        assert_eq!(sparkline(&[0.0, 7.0, 3.5]).unwrap(), "▁█▅");
        assert_eq!(sparkline(&[2.0, 2.0]).unwrap(), "▁▁");
        assert!(sparkline(&[1.0]).is_none());
    }

    #[test]
    fn ages_read_naturally() {
        assert_eq!(age(Duration::seconds(20)), "just now");
        assert_eq!(age(Duration::minutes(30)), "30 min ago");
        assert_eq!(age(Duration::hours(3)), "3 h ago");
        assert_eq!(age(Duration::days(3)), "3 days ago");
        assert_eq!(age(Duration::minutes(-10)), "10 min in the future");
        assert_eq!(age(Duration::hours(-35)), "35 h in the future");
    }

    #[test]
    fn a_stale_station_is_not_shown_as_current() {
        let doc: Value = serde_json::from_str(
            r#"{"station":"1","name":"X","time":"2021-01-09T12:00:00Z","temperature":-0.7,
                "stale":true,"units":{"temperature":"°C"},"attribution":"© AEMET"}"#,
        )
        .unwrap();
        let mut docs = BTreeMap::new();
        docs.insert("meteo/aemet/station/1".to_owned(), doc);
        let out = render(&docs, at("2021-01-09T15:00:00Z"));
        assert!(out.contains("Station 1 · X"), "{out}");
        assert!(
            out.contains("observed 2021-01-09 12:00 UTC · 3 h ago · STALE"),
            "{out}"
        );
        assert!(out.contains("temperature"), "{out}");
        assert!(out.contains("-0.7 °C"), "{out}");
    }
}
