//! Daily and hourly forecasts → messages. Today and tomorrow follow the Europe/Madrid date.

use super::{Ctx, Product};
use crate::meteo::discovery::DaySensors;
use crate::meteo::json::{Ordered, bare, level, units};
use crate::meteo::model::{DailyForecast, Day, ForecastHeader, Hour, HourlyForecast, Sky};
use crate::meteo::time::{madrid_date, rfc3339_local};
use chrono::Duration;

fn header(doc: &mut Ordered, h: &ForecastHeader) {
    doc.put("municipality", h.municipality.as_str());
    doc.text("name", h.name.as_deref());
    doc.text("province", h.province.as_deref());
    doc.text("issued", h.issued.map(rfc3339_local).as_deref());
    doc.put("stale", h.stale);
}

fn sky(o: &mut Ordered, sky: Option<&Sky>) {
    o.text("sky", sky.map(|s| s.text.as_str()));
    o.text(
        "condition",
        sky.and_then(|s| s.condition).map(|c| c.as_str()),
    );
}

fn day_json(d: &Day) -> Ordered {
    let mut o = Ordered::default();
    o.text("date", d.date.map(|d| d.to_string()).as_deref());
    o.num("temperature_max", d.temperature_max);
    o.num("temperature_min", d.temperature_min);
    o.num("humidity_max", d.humidity_max);
    o.num("humidity_min", d.humidity_min);
    o.num("precipitation_probability", d.precipitation_probability);
    sky(&mut o, d.sky.as_ref());
    o.num("wind_speed", d.wind_speed);
    o.num("wind_direction", d.wind_direction);
    o.num("uv_max", d.uv_max);
    o
}

const DAILY_UNITS: &[(&str, &str)] = &[
    ("temperature", "°C"),
    ("humidity", "%"),
    ("precipitation_probability", "%"),
    ("wind_speed", "m/s"),
    ("wind_direction", "°"),
    ("uv_max", "UV index"),
];

fn base(ctx: &Ctx, h: &ForecastHeader) -> String {
    format!(
        "{}/forecast/{}",
        ctx.layout.source_root(ctx.source),
        level(&h.municipality)
    )
}

fn issued(h: &ForecastHeader) -> Option<String> {
    h.issued.map(|t| format!("issued {}", rfc3339_local(t)))
}

/// The daily product: the JSON of every day, and today's and tomorrow's max/min, precipitation
/// probability and sky as separate topics.
pub(super) fn daily(ctx: &Ctx, f: &DailyForecast) -> Product {
    let h = &f.header;
    let base = base(ctx, h);
    let mut doc = Ordered::default();
    header(&mut doc, h);
    doc.list("days", f.days.iter().map(day_json).collect());
    doc.object("units", units(DAILY_UNITS));
    doc.put("attribution", ctx.source.attribution);
    let mut p = Product::new(
        format!("{}/daily/{}", ctx.source.name, h.municipality),
        format!("daily forecast {}", h.municipality),
        h.stale,
        issued(h).or_else(|| Some(format!("from {}", f.days.first()?.date?))),
    );
    p.push(format!("{base}/daily"), doc.to_json());
    let today = madrid_date(ctx.now);
    let mut sensors = DaySensors {
        has_days: !f.days.is_empty(),
        ..DaySensors::default()
    };
    for (label, date) in [("today", today), ("tomorrow", today + Duration::days(1))] {
        let Some(day) = f.days.iter().find(|d| d.date == Some(date)) else {
            continue;
        };
        day_topics(&mut p, &mut sensors, &base, label, day);
    }
    if let Some(d) = &ctx.discovery {
        p.messages.extend(d.daily(h, &base, &sensors));
    }
    p.sealed()
}

/// Today's or tomorrow's separate topics, noting each in `sensors` for discovery.
fn day_topics(
    p: &mut Product,
    sensors: &mut DaySensors,
    base: &str,
    label: &'static str,
    day: &Day,
) {
    for (which, v) in [("max", day.temperature_max), ("min", day.temperature_min)] {
        if let Some(v) = v {
            let topic = format!("{base}/{label}/temperature/{which}");
            sensors.temperature.push((label, which, topic.clone()));
            p.push(topic, bare(v));
        }
    }
    if let Some(v) = day.precipitation_probability {
        let topic = format!("{base}/{label}/precipitation_probability");
        sensors.precipitation.push((label, topic.clone()));
        p.push(topic, bare(v));
    }
    if let Some(s) = &day.sky {
        let sky_topic = format!("{base}/{label}/sky");
        if let Some(c) = s.condition {
            let topic = format!("{base}/{label}/condition");
            sensors
                .condition
                .push((label, topic.clone(), sky_topic.clone()));
            p.push(topic, c.as_str().to_owned());
        }
        p.push(sky_topic, s.text.clone());
    }
}

fn hour_json(h: &Hour) -> Ordered {
    let mut o = Ordered::default();
    o.put("time", rfc3339_local(h.time));
    o.num("temperature", h.temperature);
    o.num("feels_like", h.feels_like);
    o.num("humidity", h.humidity);
    o.num("precipitation", h.precipitation);
    o.num("precipitation_probability", h.precipitation_probability);
    sky(&mut o, h.sky.as_ref());
    o.num("wind_speed", h.wind_speed);
    o.num("wind_direction", h.wind_direction);
    o.num("gust_speed", h.gust_speed);
    o
}

const HOURLY_UNITS: &[(&str, &str)] = &[
    ("temperature", "°C"),
    ("feels_like", "°C"),
    ("humidity", "%"),
    ("precipitation", "mm"),
    ("precipitation_probability", "%"),
    ("wind_speed", "m/s"),
    ("wind_direction", "°"),
    ("gust_speed", "m/s"),
];

/// The hourly product: one JSON document with every forecast hour.
pub(super) fn hourly(ctx: &Ctx, f: &HourlyForecast) -> Product {
    let h = &f.header;
    let base = base(ctx, h);
    let mut doc = Ordered::default();
    header(&mut doc, h);
    doc.list("hours", f.hours.iter().map(hour_json).collect());
    doc.object("units", units(HOURLY_UNITS));
    doc.put("attribution", ctx.source.attribution);
    let mut p = Product::new(
        format!("{}/hourly/{}", ctx.source.name, h.municipality),
        format!("hourly forecast {}", h.municipality),
        h.stale,
        issued(h).or_else(|| Some(format!("from {}", rfc3339_local(f.hours.first()?.time)))),
    );
    let topic = format!("{base}/hourly");
    p.push(topic.clone(), doc.to_json());
    if let (Some(d), false) = (&ctx.discovery, f.hours.is_empty()) {
        p.messages.extend(d.hourly(h, &topic));
    }
    p.sealed()
}
