//! Station readings and municipality observations → messages.

use super::{Ctx, Product};
use crate::meteo::json::{Ordered, bare, level};
use crate::meteo::model::{Current, Reading};
use crate::meteo::time::rfc3339_utc;

/// The station product: its JSON, one bare number per value, discovery configs.
pub(super) fn reading(ctx: &Ctx, r: &Reading) -> Product {
    let base = format!(
        "{}/station/{}",
        ctx.layout.source_root(ctx.source),
        level(&r.station)
    );
    let time = rfc3339_utc(r.time);
    let mut doc = Ordered::default();
    doc.put("station", r.station.as_str());
    doc.text("name", r.name.as_deref());
    doc.put("time", time.as_str());
    let mut units = Ordered::default();
    for (q, v) in &r.values {
        doc.num(q.name(), Some(*v));
        units.put(q.name(), q.unit());
    }
    doc.put("stale", r.stale);
    doc.object("units", units);
    doc.put("attribution", ctx.source.attribution);
    let mut p = Product::new(
        format!("{}/station/{}", ctx.source.name, r.station),
        format!("station {}", r.station),
        r.stale,
        Some(format!("observed {time}")),
    );
    p.push(base.clone(), doc.to_json());
    for (q, v) in &r.values {
        p.push(format!("{base}/{}", q.name()), bare(*v));
    }
    if let Some(d) = &ctx.discovery {
        p.messages.extend(d.station(r, &base));
    }
    p.sealed()
}

/// Units of a municipality observation.
const CURRENT_UNITS: &[(&str, &str)] = &[
    ("temperature", "°C"),
    ("feels_like", "°C"),
    ("wind_direction", "°"),
];

/// A municipality's current conditions: JSON, bare values, discovery configs.
pub(super) fn current(ctx: &Ctx, c: &Current) -> Product {
    let base = format!(
        "{}/municipality/{}",
        ctx.layout.source_root(ctx.source),
        level(&c.municipality)
    );
    let time = rfc3339_utc(c.time);
    let sky = c.sky.as_ref();
    let condition = sky.and_then(|s| s.condition).map(|c| c.as_str());
    let mut doc = Ordered::default();
    doc.put("municipality", c.municipality.as_str());
    doc.text("name", c.name.as_deref());
    doc.put("time", time.as_str());
    doc.num("temperature", c.temperature);
    doc.num("feels_like", c.feels_like);
    doc.text("sky", sky.map(|s| s.text.as_str()));
    doc.text("condition", condition);
    doc.num("wind_direction", c.wind_direction);
    doc.put("stale", c.stale);
    doc.object("units", crate::meteo::json::units(CURRENT_UNITS));
    doc.put("attribution", ctx.source.attribution);
    let mut p = Product::new(
        format!("{}/municipality/{}", ctx.source.name, c.municipality),
        format!("observation {}", c.municipality),
        c.stale,
        Some(format!("observed {time}")),
    );
    p.push(base.clone(), doc.to_json());
    for (field, v) in [("temperature", c.temperature), ("feels_like", c.feels_like)] {
        if let Some(v) = v {
            p.push(format!("{base}/{field}"), bare(v));
        }
    }
    if let Some(cond) = condition {
        p.push(format!("{base}/condition"), cond.to_owned());
    }
    if let Some(s) = sky {
        p.push(format!("{base}/sky"), s.text.clone());
    }
    if let Some(d) = &ctx.discovery {
        p.messages.extend(d.current(c, &base));
    }
    p.sealed()
}
