//! JSON payloads with their keys in a chosen order (serde_json's map sorts them), and the small
//! helpers every payload uses: bare numbers, topic-safe ids, `units` objects.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

/// A JSON object that keeps its keys in insertion order.
#[derive(Debug, Default, Clone)]
pub struct Ordered(pub Vec<(&'static str, Node)>);

/// A value inside an [`Ordered`] object.
#[derive(Debug, Clone)]
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

    #[test]
    fn keys_keep_their_order_and_absent_values_are_left_out() {
        let mut o = Ordered::default();
        o.put("z", 1);
        o.num("a", None);
        o.text("m", Some("x"));
        o.num("b", Some(2.5));
        assert_eq!(o.to_json(), r#"{"z":1,"m":"x","b":2.5}"#);
    }

    #[test]
    fn topic_levels_are_sanitised() {
        assert_eq!(level("a/b+c#"), "a_b_c_");
        assert_eq!(bare(99.0), "99");
        assert_eq!(bare(-0.7), "-0.7");
    }
}
