//! The `%j`/`%J` JSON objects and the `--json` lines, printed the way mosquitto's cJSON does:
//! keys in insertion order, compact or tab-indented, strings escaped as cJSON escapes them.

use crate::protocol::{Properties, Publish};
use base64::Engine;
use chrono::{DateTime, Local};
use std::io::Write;

/// How the payload goes into the object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonMode {
    /// `%j`: a string, cut at the first NUL byte as mosquitto's C string is.
    Escaped,
    /// `%J`: the payload's own JSON (the caller checked it parses).
    Embedded,
    /// `--json`: JSON when it parses, else a string when UTF-8, else base64 with
    /// `"encoding":"base64"`.
    Auto,
}

/// A JSON value that keeps object keys in order.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    /// A number, kept as its source text (or formatted by us).
    Num(String),
    Str(Vec<u8>),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    fn str(s: &str) -> Json {
        Json::Str(s.as_bytes().to_vec())
    }

    fn num(n: impl ToString) -> Json {
        Json::Num(n.to_string())
    }
}

/// True when `payload` is one JSON value (surrounding whitespace allowed).
pub fn payload_is_json(payload: &[u8]) -> bool {
    parse(payload).is_some()
}

fn properties_json(p: &Properties) -> Option<Json> {
    let mut o = Vec::new();
    if !p.user_properties.is_empty() {
        let mut u: Vec<(String, Json)> = Vec::new();
        for (k, v) in &p.user_properties {
            // cJSON replaces a duplicate key's value in place.
            match u.iter_mut().find(|(kk, _)| kk == k) {
                Some(slot) => slot.1 = Json::str(v),
                None => u.push((k.clone(), Json::str(v))),
            }
        }
        o.push(("user-properties".to_string(), Json::Obj(u)));
    }
    if let Some(v) = &p.content_type {
        o.push(("content-type".into(), Json::str(v)));
    }
    if let Some(v) = p.payload_format_indicator {
        o.push(("payload-format-indicator".into(), Json::num(v)));
    }
    if let Some(v) = p.message_expiry_interval {
        o.push(("message-expiry-interval".into(), Json::num(v)));
    }
    if let Some(v) = &p.response_topic {
        o.push(("response-topic".into(), Json::str(v)));
    }
    if let Some(v) = &p.correlation_data {
        o.push(("correlation-data".into(), Json::Str(v.to_vec())));
    }
    if let Some(v) = p.subscription_identifiers.first() {
        o.push(("subscription-identifier".into(), Json::num(v)));
    }
    if let Some(v) = p.topic_alias {
        o.push(("topic-alias".into(), Json::num(v)));
    }
    (!o.is_empty()).then_some(Json::Obj(o))
}

/// Writes the message object: `tst`, `topic`, `qos`, `retain`, `payloadlen`, `mid` (QoS > 0),
/// `properties` (when present), `payload`.
pub fn json_object(
    msg: &Publish,
    now: DateTime<Local>,
    mode: JsonMode,
    pretty: bool,
    out: &mut Vec<u8>,
) {
    let tst = now.format("%Y-%m-%dT%H:%M:%S%.6f%z").to_string();
    let mut o = vec![
        ("tst".to_string(), Json::str(&tst)),
        ("topic".to_string(), Json::str(&msg.topic)),
        ("qos".to_string(), Json::num(msg.qos as u8)),
        ("retain".to_string(), Json::num(u8::from(msg.retain))),
        ("payloadlen".to_string(), Json::num(msg.payload.len())),
    ];
    if let Some(id) = msg.packet_id {
        o.push(("mid".into(), Json::num(id.get())));
    }
    if let Some(p) = properties_json(&msg.properties) {
        o.push(("properties".into(), p));
    }
    let payload = &msg.payload[..];
    let value = match mode {
        JsonMode::Escaped => {
            let end = payload
                .iter()
                .position(|b| *b == 0)
                .unwrap_or(payload.len());
            Json::Str(payload[..end].to_vec())
        }
        JsonMode::Embedded => parse(payload).unwrap_or(Json::Null),
        JsonMode::Auto => match parse(payload) {
            Some(v) => v,
            None if std::str::from_utf8(payload).is_ok() => Json::Str(payload.to_vec()),
            None => {
                o.push(("encoding".into(), Json::str("base64")));
                Json::str(&base64::engine::general_purpose::STANDARD.encode(payload))
            }
        },
    };
    o.push(("payload".into(), value));
    print(&Json::Obj(o), pretty, 0, out);
}

fn print_str(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in s {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            8 => out.extend_from_slice(b"\\b"),
            12 => out.extend_from_slice(b"\\f"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            c if c < 0x20 => {
                let _ = write!(out, "\\u{c:04x}");
            }
            c => out.push(c),
        }
    }
    out.push(b'"');
}

/// cJSON's printer: compact, or tabs and newlines with `"key":\tvalue` in objects.
pub(crate) fn print(v: &Json, pretty: bool, depth: usize, out: &mut Vec<u8>) {
    match v {
        Json::Null => out.extend_from_slice(b"null"),
        Json::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Json::Num(n) => out.extend_from_slice(n.as_bytes()),
        Json::Str(s) => print_str(s, out),
        Json::Arr(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(if pretty { b", " } else { b"," });
                }
                print(item, pretty, depth + 1, out);
            }
            out.push(b']');
        }
        Json::Obj(fields) => {
            out.push(b'{');
            if pretty {
                out.push(b'\n');
            }
            for (i, (k, item)) in fields.iter().enumerate() {
                if pretty {
                    out.extend(std::iter::repeat_n(b'\t', depth + 1));
                }
                print_str(k.as_bytes(), out);
                out.push(b':');
                if pretty {
                    out.push(b'\t');
                }
                print(item, pretty, depth + 1, out);
                if i + 1 < fields.len() {
                    out.push(b',');
                }
                if pretty {
                    out.push(b'\n');
                }
            }
            if pretty {
                out.extend(std::iter::repeat_n(b'\t', depth));
            }
            out.push(b'}');
        }
    }
}

/// Parses one JSON value (RFC 8259), keeping key order; `None` if it is not exactly one value.
pub(crate) fn parse(input: &[u8]) -> Option<Json> {
    let mut p = Parser {
        s: input,
        i: 0,
        depth: 0,
    };
    let v = p.value()?;
    p.ws();
    (p.i == input.len()).then_some(v)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while matches!(self.s.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, lit: &[u8]) -> bool {
        if self.s[self.i..].starts_with(lit) {
            self.i += lit.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Option<Json> {
        self.ws();
        // Deeply nested input must not overflow the stack.
        if self.depth > 512 {
            return None;
        }
        match *self.s.get(self.i)? {
            b'n' if self.eat(b"null") => Some(Json::Null),
            b't' if self.eat(b"true") => Some(Json::Bool(true)),
            b'f' if self.eat(b"false") => Some(Json::Bool(false)),
            b'"' => self.string().map(Json::Str),
            b'[' => {
                self.i += 1;
                self.depth += 1;
                let mut items = Vec::new();
                self.ws();
                if !self.eat(b"]") {
                    loop {
                        items.push(self.value()?);
                        self.ws();
                        if self.eat(b"]") {
                            break;
                        }
                        if !self.eat(b",") {
                            return None;
                        }
                    }
                }
                self.depth -= 1;
                Some(Json::Arr(items))
            }
            b'{' => {
                self.i += 1;
                self.depth += 1;
                let mut fields = Vec::new();
                self.ws();
                if !self.eat(b"}") {
                    loop {
                        self.ws();
                        if self.s.get(self.i) != Some(&b'"') {
                            return None;
                        }
                        let k = String::from_utf8(self.string()?).ok()?;
                        self.ws();
                        if !self.eat(b":") {
                            return None;
                        }
                        fields.push((k, self.value()?));
                        self.ws();
                        if self.eat(b"}") {
                            break;
                        }
                        if !self.eat(b",") {
                            return None;
                        }
                    }
                }
                self.depth -= 1;
                Some(Json::Obj(fields))
            }
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn number(&mut self) -> Option<Json> {
        let start = self.i;
        self.eat(b"-");
        let digits = |p: &mut Self| {
            let st = p.i;
            while matches!(p.s.get(p.i), Some(b'0'..=b'9')) {
                p.i += 1;
            }
            p.i > st
        };
        if !digits(self) {
            return None;
        }
        if self.eat(b".") && !digits(self) {
            return None;
        }
        if matches!(self.s.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if !self.eat(b"+") {
                self.eat(b"-");
            }
            if !digits(self) {
                return None;
            }
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).ok()?;
        Some(Json::Num(normalize_number(text)))
    }

    fn string(&mut self) -> Option<Vec<u8>> {
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let c = *self.s.get(self.i)?;
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let e = *self.s.get(self.i)?;
                    self.i += 1;
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let ch = self.unicode_escape()?;
                            let mut b = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
                        }
                        _ => return None,
                    }
                }
                c if c < 0x20 => return None,
                c => out.push(c),
            }
        }
        std::str::from_utf8(&out).ok()?;
        Some(out)
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = self.s.get(self.i..self.i + 4)?;
        self.i += 4;
        u32::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()
    }

    fn unicode_escape(&mut self) -> Option<char> {
        let hi = self.hex4()?;
        if (0xD800..0xDC00).contains(&hi) {
            if !self.eat(b"\\u") {
                return None;
            }
            let lo = self.hex4()?;
            if !(0xDC00..0xE000).contains(&lo) {
                return None;
            }
            return char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00));
        }
        char::from_u32(hi)
    }
}

/// cJSON reprints numbers: integral values as integers, others with up to 17 significant digits.
fn normalize_number(text: &str) -> String {
    match text.parse::<f64>() {
        Ok(d) if d.is_finite() => {
            if d.fract() == 0.0 && d.abs() <= f64::from(i32::MAX) {
                format!("{}", d as i64)
            } else {
                format!("{d}")
            }
        }
        _ => text.to_string(),
    }
}
