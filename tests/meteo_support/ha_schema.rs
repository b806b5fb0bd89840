//! Home Assistant's MQTT sensor discovery schema, written down from
//! `homeassistant/components/mqtt/{sensor,schemas,config}.py` and
//! `homeassistant/components/sensor/const.py`: the keys a sensor config may have and their
//! types, the device and origin blocks, the sensor device classes with their units and state
//! classes. [`check`] lists every way a config breaks it.

use serde_json::{Map, Value};

/// Keys of an MQTT sensor (its own, the read-only base, the common entity schema).
const KEYS: &[&str] = &[
    // sensor
    "device_class",
    "expire_after",
    "force_update",
    "last_reset_value_template",
    "name",
    "options",
    "suggested_display_precision",
    "state_class",
    "unit_of_measurement",
    // read-only base
    "state_topic",
    "value_template",
    "qos",
    "encoding",
    // common entity schema and availability
    "availability",
    "availability_mode",
    "availability_template",
    "availability_topic",
    "payload_available",
    "payload_not_available",
    "device",
    "origin",
    "enabled_by_default",
    "entity_category",
    "icon",
    "json_attributes_template",
    "json_attributes_topic",
    "object_id",
    "unique_id",
];

const DEVICE_KEYS: &[&str] = &[
    "identifiers",
    "connections",
    "manufacturer",
    "model",
    "model_id",
    "name",
    "hw_version",
    "serial_number",
    "sw_version",
    "via_device",
    "suggested_area",
    "configuration_url",
];

const ORIGIN_KEYS: &[&str] = &["name", "sw_version", "support_url"];

/// `SensorDeviceClass`.
const DEVICE_CLASSES: &[&str] = &[
    "date",
    "enum",
    "timestamp",
    "apparent_power",
    "aqi",
    "area",
    "atmospheric_pressure",
    "battery",
    "blood_glucose_concentration",
    "carbon_monoxide",
    "carbon_dioxide",
    "conductivity",
    "current",
    "data_rate",
    "data_size",
    "distance",
    "duration",
    "energy",
    "energy_distance",
    "energy_storage",
    "frequency",
    "gas",
    "humidity",
    "illuminance",
    "irradiance",
    "moisture",
    "monetary",
    "nitrogen_dioxide",
    "nitrogen_monoxide",
    "nitrous_oxide",
    "ozone",
    "ph",
    "pm1",
    "pm10",
    "pm25",
    "power_factor",
    "power",
    "precipitation",
    "precipitation_intensity",
    "pressure",
    "reactive_power",
    "signal_strength",
    "sound_pressure",
    "speed",
    "sulphur_dioxide",
    "temperature",
    "volatile_organic_compounds",
    "volatile_organic_compounds_parts",
    "voltage",
    "volume",
    "volume_storage",
    "volume_flow_rate",
    "water",
    "weight",
    "wind_direction",
    "wind_speed",
];

/// `SensorStateClass`.
const STATE_CLASSES: &[&str] = &[
    "measurement",
    "measurement_angle",
    "total",
    "total_increasing",
];

const PRESSURE: &[&str] = &[
    "Pa", "hPa", "kPa", "bar", "cbar", "mbar", "mmHg", "inHg", "psi", "inH₂O", "mPa",
];
const SPEED: &[&str] = &[
    "Beaufort", "ft/s", "in/s", "m/s", "km/h", "kn", "mph", "mm/s",
];
const ALL_STATE_CLASSES: &[&str] = STATE_CLASSES;

/// `DEVICE_CLASS_UNITS` and `DEVICE_CLASS_STATE_CLASSES` for the classes a weather
/// publisher may use; a class outside this table is reported, so that using a new one
/// means writing its rules here first.
fn rules(class: &str) -> Option<(&'static [&'static str], &'static [&'static str])> {
    Some(match class {
        "temperature" => (&["°C", "°F", "K"], &["measurement"]),
        "humidity" => (&["%"], &["measurement"]),
        "atmospheric_pressure" | "pressure" => (PRESSURE, &["measurement"]),
        "precipitation" => (&["cm", "in", "mm"], ALL_STATE_CLASSES),
        "precipitation_intensity" => (&["in/d", "in/h", "mm/d", "mm/h"], &["measurement"]),
        "wind_speed" => (SPEED, &["measurement"]),
        "wind_direction" => (&["°"], &["measurement_angle"]),
        "irradiance" => (&["W/m²", "BTU/(h⋅ft²)"], &["measurement"]),
        "distance" => (
            &["km", "m", "cm", "mm", "mi", "nmi", "yd", "ft", "in"],
            ALL_STATE_CLASSES,
        ),
        // Non-numeric: no unit, no state class.
        "date" | "enum" | "timestamp" => (&[], &[]),
        _ => return None,
    })
}

/// Home Assistant's `valid_subscribe_topic`.
pub fn valid_filter(t: &str) -> bool {
    if t.is_empty() || t.len() > 65535 || t.contains('\0') {
        return false;
    }
    let levels: Vec<&str> = t.split('/').collect();
    levels.iter().enumerate().all(|(i, l)| match *l {
        "#" => i == levels.len() - 1,
        "+" => true,
        l => !l.contains(['#', '+']),
    })
}

fn string(c: &Map<String, Value>, k: &str, errors: &mut Vec<String>) {
    if let Some(v) = c.get(k) {
        if !v.is_string() {
            errors.push(format!("{k} must be a string, not {v}"));
        }
    }
}

fn block(v: &Value, what: &str, keys: &[&str], errors: &mut Vec<String>) {
    let Some(o) = v.as_object() else {
        return errors.push(format!("{what} must be an object"));
    };
    for (k, v) in o {
        if !keys.contains(&k.as_str()) {
            errors.push(format!("unknown {what} key {k}"));
        } else if k == "identifiers" || k == "connections" {
            if v.as_array().is_none_or(|a| a.is_empty()) {
                errors.push(format!("{what}.{k} must be a non-empty list"));
            }
        } else if !v.is_string() {
            errors.push(format!("{what}.{k} must be a string"));
        }
    }
}

fn classes(c: &Map<String, Value>, errors: &mut Vec<String>) {
    let unit = c.get("unit_of_measurement").and_then(Value::as_str);
    let state_class = c.get("state_class").and_then(Value::as_str);
    if let Some(sc) = state_class {
        if !STATE_CLASSES.contains(&sc) {
            errors.push(format!("unknown state_class {sc}"));
        }
        if sc == "measurement_angle" && unit != Some("°") {
            errors.push("measurement_angle needs the unit °".into());
        }
    }
    let Some(dc) = c.get("device_class").and_then(Value::as_str) else {
        return;
    };
    if !DEVICE_CLASSES.contains(&dc) {
        return errors.push(format!("unknown device_class {dc}"));
    }
    let Some((units, state_classes)) = rules(dc) else {
        return errors.push(format!("no rules written down for device_class {dc}"));
    };
    match unit {
        Some(u) if !units.contains(&u) => {
            errors.push(format!("unit {u} is not one of {dc}'s {units:?}"))
        }
        None if !units.is_empty() => errors.push(format!("{dc} needs a unit")),
        _ => {}
    }
    if let Some(sc) = state_class {
        if !state_classes.contains(&sc) {
            errors.push(format!("state_class {sc} does not go with {dc}"));
        }
    }
    if c.contains_key("options") {
        if dc != "enum" {
            errors.push("options need device_class enum".into());
        }
        if unit.is_some() || state_class.is_some() {
            errors.push("options exclude unit and state_class".into());
        }
        let ok = c["options"]
            .as_array()
            .is_some_and(|a| !a.is_empty() && a.iter().all(Value::is_string));
        if !ok {
            errors.push("options must be a non-empty list of strings".into());
        }
    }
}

/// Every way `c` breaks the schema.
pub fn check(c: &Map<String, Value>) -> Vec<String> {
    let mut errors = Vec::new();
    for k in c.keys() {
        if !KEYS.contains(&k.as_str()) {
            errors.push(format!("unknown key {k}"));
        }
    }
    match c.get("state_topic").and_then(Value::as_str) {
        Some(t) if valid_filter(t) => {}
        other => errors.push(format!("state_topic missing or invalid: {other:?}")),
    }
    for k in [
        "name",
        "unique_id",
        "value_template",
        "unit_of_measurement",
        "json_attributes_topic",
        "json_attributes_template",
        "availability_topic",
        "payload_available",
        "payload_not_available",
        "object_id",
        "icon",
        "encoding",
    ] {
        string(c, k, &mut errors);
    }
    for k in ["json_attributes_topic", "availability_topic"] {
        if let Some(t) = c.get(k).and_then(Value::as_str) {
            if !valid_filter(t) {
                errors.push(format!("{k} invalid: {t}"));
            }
        }
    }
    if let Some(v) = c.get("expire_after") {
        if v.as_u64().is_none() {
            errors.push(format!("expire_after must be a positive integer, not {v}"));
        }
    }
    if c.contains_key("availability_topic") && c.contains_key("availability") {
        errors.push("availability_topic and availability exclude each other".into());
    }
    if let Some(d) = c.get("device") {
        block(d, "device", DEVICE_KEYS, &mut errors);
        if d.get("identifiers").is_none() && d.get("connections").is_none() {
            errors.push("device needs identifiers or connections".into());
        }
    }
    if let Some(o) = c.get("origin") {
        block(o, "origin", ORIGIN_KEYS, &mut errors);
        if o.get("name").is_none() {
            errors.push("origin needs a name".into());
        }
    }
    classes(c, &mut errors);
    errors
}
