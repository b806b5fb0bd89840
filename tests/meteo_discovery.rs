//! Every Home Assistant discovery config `mq meteo` publishes, for both sources, in cron and
//! service mode, checked against Home Assistant's MQTT sensor discovery schema (written down
//! here from `homeassistant/components/mqtt/{sensor,schemas,config}.py` and
//! `homeassistant/components/sensor/const.py`): the allowed keys and their types, the sensor
//! device classes with their units and state classes, the availability and device blocks; and
//! against what was actually published: every state and attribute topic exists, templates name
//! keys the payload has, states parse as their device class demands.

mod common;
mod meteo_support;
#[path = "meteo_support/ha_schema.rs"]
mod schema;
use meteo_support::meteogalicia::STATION_NOW;
use meteo_support::*;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The JSON value a `{{ value_json.a.b[0].c }}` template reads, if the payload has it.
fn resolve<'a>(template: &str, payload: &'a Value) -> Option<&'a Value> {
    let path = template
        .trim()
        .strip_prefix("{{")?
        .strip_suffix("}}")?
        .trim()
        .strip_prefix("value_json")?;
    let mut v = payload;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, index) = match part.split_once('[') {
            Some((k, i)) => (k, Some(i.trim_end_matches(']').parse::<usize>().ok()?)),
            None => (part, None),
        };
        v = v.get(key)?;
        if let Some(i) = index {
            v = v.get(i)?;
        }
    }
    Some(v)
}

/// Keys an attributes template reads as `value_json.KEY` (not through `.get(…)`, which
/// tolerates absence).
fn required_keys(template: &str) -> Vec<&str> {
    template
        .match_indices("value_json.")
        .map(|(i, m)| {
            let rest = &template[i + m.len()..];
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .filter(|k| *k != "get")
        .collect()
}

/// Checks the state a sensor will get from what was published on its state topic.
fn check_state(c: &Map<String, Value>, published: &BTreeMap<String, String>) -> Vec<String> {
    let topic = c["state_topic"].as_str().unwrap_or_default();
    let Some(raw) = published.get(topic) else {
        return vec![format!("nothing published on state_topic {topic}")];
    };
    let state = match c.get("value_template").and_then(Value::as_str) {
        Some(t) => {
            let doc: Value = serde_json::from_str(raw).unwrap_or(Value::Null);
            match resolve(t, &doc) {
                Some(Value::String(s)) => s.clone(),
                Some(v) => v.to_string(),
                None => return vec![format!("{t} finds nothing in {topic}")],
            }
        }
        None => raw.clone(),
    };
    let class = c.get("device_class").and_then(Value::as_str);
    let ok = match class {
        Some("timestamp") => chrono::DateTime::parse_from_rfc3339(&state).is_ok(),
        Some("date") => chrono::NaiveDate::parse_from_str(&state, "%Y-%m-%d").is_ok(),
        Some("enum") => c["options"]
            .as_array()
            .is_some_and(|o| o.iter().any(|x| x == &state)),
        _ if c.contains_key("unit_of_measurement") => state.parse::<f64>().is_ok(),
        _ => true,
    };
    if ok {
        Vec::new()
    } else {
        vec![format!("state {state:?} of {topic} does not fit {class:?}")]
    }
}

fn check_attributes(c: &Map<String, Value>, published: &BTreeMap<String, String>) -> Vec<String> {
    let Some(topic) = c.get("json_attributes_topic").and_then(Value::as_str) else {
        return Vec::new();
    };
    let Some(raw) = published.get(topic) else {
        return vec![format!(
            "nothing published on json_attributes_topic {topic}"
        )];
    };
    match c.get("json_attributes_template").and_then(Value::as_str) {
        // Without a template the payload itself must be a JSON object.
        None => match serde_json::from_str::<Value>(raw) {
            Ok(Value::Object(_)) => Vec::new(),
            _ => vec![format!("{topic} is not a JSON object")],
        },
        Some(t) => {
            let doc: Value = serde_json::from_str(raw).unwrap_or(Value::Null);
            required_keys(t)
                .into_iter()
                .filter(|k| doc.get(k).is_none())
                .map(|k| format!("{topic} has no {k} for {t}"))
                .collect()
        }
    }
}

/// Validates every config of one run's output; returns the configs by topic.
fn validate(out: &[(String, String)], service: bool) -> BTreeMap<String, Map<String, Value>> {
    let published: BTreeMap<String, String> = out.iter().cloned().collect();
    let mut configs = BTreeMap::new();
    let mut ids = BTreeSet::new();
    let mut errors = Vec::new();
    for (topic, payload) in out.iter().filter(|(t, _)| t.starts_with("homeassistant/")) {
        let parts: Vec<&str> = topic.split('/').collect();
        let ok_id = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-".contains(c))
        };
        if !(parts.len() == 5
            && parts[1] == "sensor"
            && ok_id(parts[2])
            && ok_id(parts[3])
            && parts[4] == "config")
        {
            errors.push(format!(
                "{topic}: not <prefix>/sensor/<node>/<object>/config"
            ));
        }
        let Ok(Value::Object(c)) = serde_json::from_str::<Value>(payload) else {
            errors.push(format!("{topic}: not a JSON object"));
            continue;
        };
        let mut e = schema::check(&c);
        e.extend(check_state(&c, &published));
        e.extend(check_attributes(&c, &published));
        let state_topic = c["state_topic"].as_str().unwrap_or_default();
        if state_topic.contains("/forecast/") && c.contains_key("state_class") {
            e.push("a forecast must not have a state_class".into());
        }
        if state_topic.contains("/station/")
            && c.get("device_class") != Some(&"timestamp".into())
            && !c.contains_key("state_class")
        {
            e.push("a station measurement needs a state_class".into());
        }
        if !c.contains_key("expire_after") {
            e.push("every sensor expires".into());
        }
        if c["origin"]["sw_version"].as_str().is_none()
            || c["device"]["sw_version"].as_str().is_none()
        {
            e.push("origin and device carry sw_version".into());
        }
        let availability = c.get("availability_topic").and_then(Value::as_str);
        if availability != service.then_some("meteo/status") {
            e.push(format!(
                "availability {availability:?} in {} mode",
                if service { "service" } else { "cron" }
            ));
        }
        if !ids.insert(c["unique_id"].to_string()) {
            e.push(format!("duplicate unique_id {}", c["unique_id"]));
        }
        errors.extend(e.into_iter().map(|m| format!("{topic}: {m}")));
        configs.insert(topic.clone(), c);
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    configs
}

fn once(server: &AemetServer, extra: &[&str]) -> Vec<(String, String)> {
    let cache = tempfile::tempdir().unwrap();
    let mut a = vec!["--once", "--dry-run", "--discovery"];
    a.extend(extra);
    let o = meteo_with(server, cache.path(), &a).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    lines(&o.stdout)
}

/// A dry-run service's output until every topic of `until` was printed.
fn service(server: &AemetServer, extra: &[&str], until: &[&str]) -> Vec<(String, String)> {
    let cache = tempfile::tempdir().unwrap();
    let mut a = vec!["--dry-run", "--discovery", "--interval", "1s"];
    a.extend(extra);
    let svc = spawn_meteo(server, cache.path(), &a);
    let printed = |lines: &[String], t: &str| lines.iter().any(|l| l.starts_with(&format!("{t} ")));
    let out = &svc.child.stdout;
    let all = out.wait_until(common::PATIENCE, |lines| {
        until.iter().all(|t| printed(lines, t))
    });
    assert!(all, "not all of {until:?} printed:\n{}", out.text());
    lines(out.text().as_bytes())
}

const AEMET: [&str; 4] = ["--station", "3195", "--municipality", "28065"];
const AEMET_LAST: [&str; 2] = [
    "homeassistant/sensor/mq_aemet/3195_time/config",
    "homeassistant/sensor/mq_aemet/28065_hourly_forecast/config",
];
const MG: [&str; 6] = [
    "--station",
    "10124",
    "--municipality",
    "15078",
    "--now",
    STATION_NOW,
];
const MG_LAST: [&str; 3] = [
    "homeassistant/sensor/mq_meteogalicia/10124_time/config",
    "homeassistant/sensor/mq_meteogalicia/15078_current_condition/config",
    "homeassistant/sensor/mq_meteogalicia/15078_hourly_forecast/config",
];

#[test]
fn every_aemet_config_fits_the_schema_in_cron_and_service_mode() {
    let s = AemetServer::start();
    let c = validate(&once(&s, &AEMET), false);
    assert!(c.len() >= 15, "{}", c.len());
    validate(&service(&s, &AEMET, &AEMET_LAST), true);
}

#[test]
fn every_meteogalicia_config_fits_the_schema_in_cron_and_service_mode() {
    let s = AemetServer::meteogalicia();
    let c = validate(&once(&s, &MG), false);
    assert!(c.len() >= 20, "{}", c.len());
    validate(&service(&s, &MG, &MG_LAST), true);
}

#[test]
fn the_entities_people_need_are_there() {
    let s = AemetServer::start();
    let c = validate(&once(&s, &AEMET), false);
    let get = |o: &str| &c[&format!("homeassistant/sensor/mq_aemet/{o}/config")];
    let dir = get("3195_humidity");
    assert_eq!(dir["state_class"], "measurement");
    assert_eq!(
        dir["expire_after"],
        7200 + 3 * 600,
        "2 h staleness + 3 polls"
    );
    assert_eq!(dir["json_attributes_topic"], "meteo/aemet/station/3195");
    let time = get("3195_time");
    assert_eq!(time["device_class"], "timestamp");
    assert!(time.get("state_class").is_none());
    for o in ["3195_latitude", "3195_longitude", "3195_altitude"] {
        assert!(
            !c.contains_key(&format!("homeassistant/sensor/mq_aemet/{o}/config")),
            "{o}"
        );
    }
    let cond = get("28065_today_condition");
    assert_eq!(cond["device_class"], "enum");
    assert_eq!(
        cond["state_topic"],
        "meteo/aemet/forecast/28065/today/condition"
    );
    assert_eq!(
        cond["json_attributes_topic"],
        "meteo/aemet/forecast/28065/today/sky"
    );
    let daily = get("28065_daily_forecast");
    assert_eq!(
        daily["json_attributes_topic"],
        "meteo/aemet/forecast/28065/daily"
    );
    assert!(
        daily.get("json_attributes_template").is_none(),
        "the whole forecast"
    );
    assert!(get("28065_hourly_forecast").get("state_class").is_none());
    assert!(
        get("28065_today_precipitation_probability")
            .get("state_class")
            .is_none()
    );
    assert_eq!(
        get("28065_today_temperature_max")["origin"]["name"],
        "mq meteo"
    );
    let out = once(&s, &AEMET);
    assert_eq!(
        payload(&out, "meteo/aemet/forecast/28065/today/condition"),
        Some("snowy")
    );
    assert_eq!(
        payload(&out, "meteo/aemet/forecast/28065/today/sky"),
        Some("Cubierto con nieve")
    );
    let mg = AemetServer::meteogalicia();
    let c = validate(&once(&mg, &MG), false);
    let wind = &c["homeassistant/sensor/mq_meteogalicia/10124_wind_direction/config"];
    assert_eq!(wind["device_class"], "wind_direction");
    assert_eq!(wind["state_class"], "measurement_angle");
    assert_eq!(wind["device"]["manufacturer"], "MeteoGalicia");
}

#[test]
fn the_schema_check_catches_what_home_assistant_would_refuse() {
    let bad: Map<String, Value> = serde_json::from_str(
        r#"{"state_topic":"a/#/b","device_class":"temp","unit_of_measurement":"°C",
            "state_class":"average","stat_t":"x","expire_after":-5,
            "origin":{"sw_version":"1"},"device":{"name":"x"}}"#,
    )
    .unwrap();
    let e = schema::check(&bad).join("\n");
    for want in [
        "unknown key stat_t",
        "state_topic missing or invalid",
        "unknown device_class temp",
        "unknown state_class average",
        "expire_after must be a positive integer",
        "origin needs a name",
        "device needs identifiers",
    ] {
        assert!(e.contains(want), "{want} in {e}");
    }
    let mismatch: Map<String, Value> = serde_json::from_str(
        r#"{"state_topic":"a","device_class":"wind_direction","unit_of_measurement":"°",
            "state_class":"measurement"}"#,
    )
    .unwrap();
    assert!(
        schema::check(&mismatch)
            .join(" ")
            .contains("does not go with wind_direction")
    );
    let ts: Map<String, Value> =
        serde_json::from_str(r#"{"state_topic":"a","device_class":"timestamp","state_class":"measurement","options":["x"]}"#)
            .unwrap();
    let e = schema::check(&ts).join(" ");
    assert!(
        e.contains("does not go with timestamp") && e.contains("options need device_class enum"),
        "{e}"
    );
    assert_eq!(
        required_keys("{{ {'a': value_json.get('b'), 'c': value_json.time} }}"),
        ["time"]
    );
}
