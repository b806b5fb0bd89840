//! mosquitto_sub's `-F` output language, compiled once and rendered per message.
//!
//! Three introducers: `%` message fields (`%[-][0][width][.precision]X`), `@` strftime
//! conversions (`@Y`, `@@`, `@N` nanoseconds) and `\` character escapes (`\n \t \0 \e ...`).
//! Widths, truncation and the quirks (`%p` truncated to its width, `%x` width counting hex digits,
//! `0` ignored for strings, no width for `%q`/`%r`) follow mosquitto 2.0's `sub_client_output.c`.

mod json;
pub mod printer;

pub use json::{JsonMode, json_object, payload_is_json};

use crate::protocol::Publish;
use chrono::{DateTime, Local};
use std::fmt;
use std::io::Write;

/// Why a `-F` string is refused; the text is mosquitto's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormatError {
    /// `%` or `@` at the end of the string.
    IncompleteFormat,
    /// `\` at the end of the string.
    IncompleteEscape,
    /// `%c` with an unknown `c`.
    InvalidFormat(char),
    /// `\c` with an unknown `c`.
    InvalidEscape(char),
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatError::IncompleteFormat => write!(f, "Incomplete format specifier."),
            FormatError::IncompleteEscape => write!(f, "Incomplete escape specifier."),
            FormatError::InvalidFormat(c) => write!(f, "Invalid format specifier '{c}'."),
            FormatError::InvalidEscape(c) => write!(f, "Invalid escape specifier '{c}'."),
        }
    }
}

impl std::error::Error for FormatError {}

/// A message field named by a `%` conversion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    TopicAlias,
    ContentType,
    CorrelationData,
    ExpiryInterval,
    FormatIndicator,
    IsoTime,
    Json,
    JsonPayload,
    Length,
    Mid,
    UserProps,
    Payload,
    Qos,
    ResponseTopic,
    Retain,
    SubscriptionId,
    Topic,
    UnixTime,
    HexLower,
    HexUpper,
}

impl Field {
    fn from_char(c: char) -> Option<Field> {
        Some(match c {
            'A' => Field::TopicAlias,
            'C' => Field::ContentType,
            'D' => Field::CorrelationData,
            'E' => Field::ExpiryInterval,
            'F' => Field::FormatIndicator,
            'I' => Field::IsoTime,
            'j' => Field::Json,
            'J' => Field::JsonPayload,
            'l' => Field::Length,
            'm' => Field::Mid,
            'P' => Field::UserProps,
            'p' => Field::Payload,
            'q' => Field::Qos,
            'R' => Field::ResponseTopic,
            'r' => Field::Retain,
            'S' => Field::SubscriptionId,
            't' => Field::Topic,
            'U' => Field::UnixTime,
            'x' => Field::HexLower,
            'X' => Field::HexUpper,
            _ => return None,
        })
    }
}

/// Alignment and padding of a `%` conversion.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Spec {
    left: bool,
    zero: bool,
    width: usize,
    precision: Option<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Literal(Vec<u8>),
    Field(Field, Spec),
    /// A strftime conversion character (`@Y` → `Y`).
    Time(char),
    Nanos,
}

/// A compiled `-F` format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Format {
    pieces: Vec<Piece>,
    pretty: bool,
}

/// Reads `%[-][0][width][.precision]` after the `%`, mosquitto's way: each part optional.
fn parse_spec(chars: &[char], i: &mut usize) -> Spec {
    let mut spec = Spec::default();
    if chars.get(*i) == Some(&'-') {
        spec.left = true;
        *i += 1;
    }
    if chars.get(*i) == Some(&'0') {
        spec.zero = true;
        *i += 1;
    }
    while let Some(d) = chars.get(*i).and_then(|c| c.to_digit(10)) {
        spec.width = spec.width.saturating_mul(10).saturating_add(d as usize);
        *i += 1;
    }
    if chars.get(*i) == Some(&'.') {
        *i += 1;
        let mut p = 0usize;
        while let Some(d) = chars.get(*i).and_then(|c| c.to_digit(10)) {
            p = p.saturating_mul(10).saturating_add(d as usize);
            *i += 1;
        }
        spec.precision = Some(p);
    }
    spec
}

fn escape(c: char) -> Option<u8> {
    Some(match c {
        '\\' => b'\\',
        '0' => 0,
        'a' => 7,
        'e' => 0x1b,
        'n' => b'\n',
        'r' => b'\r',
        't' => b'\t',
        'v' => 0x0b,
        _ => return None,
    })
}

impl Format {
    /// Compiles a format string; errors carry mosquitto's wording.
    pub fn parse(s: &str) -> Result<Format, FormatError> {
        let chars: Vec<char> = s.chars().collect();
        let mut pieces = Vec::new();
        let mut lit = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            i += 1;
            match c {
                '%' | '@' | '\\' if i >= chars.len() => {
                    return Err(if c == '\\' {
                        FormatError::IncompleteEscape
                    } else {
                        FormatError::IncompleteFormat
                    });
                }
                '%' => {
                    let spec = parse_spec(&chars, &mut i);
                    let Some(&conv) = chars.get(i) else {
                        return Err(FormatError::IncompleteFormat);
                    };
                    i += 1;
                    if conv == '%' {
                        lit.push(b'%');
                        continue;
                    }
                    let field = Field::from_char(conv).ok_or(FormatError::InvalidFormat(conv))?;
                    flush_lit(&mut pieces, &mut lit);
                    pieces.push(Piece::Field(field, spec));
                }
                '@' => {
                    let conv = chars[i];
                    i += 1;
                    if conv == '@' {
                        lit.push(b'@');
                        continue;
                    }
                    flush_lit(&mut pieces, &mut lit);
                    pieces.push(if conv == 'N' {
                        Piece::Nanos
                    } else {
                        Piece::Time(conv)
                    });
                }
                '\\' => {
                    let e = chars[i];
                    i += 1;
                    lit.push(escape(e).ok_or(FormatError::InvalidEscape(e))?);
                }
                other => {
                    let mut b = [0u8; 4];
                    lit.extend_from_slice(other.encode_utf8(&mut b).as_bytes());
                }
            }
        }
        flush_lit(&mut pieces, &mut lit);
        Ok(Format {
            pieces,
            pretty: false,
        })
    }

    /// Pretty-prints `%j`/`%J` (mosquitto's `--pretty`).
    pub fn pretty(mut self, pretty: bool) -> Format {
        self.pretty = pretty;
        self
    }

    /// True when rendering needs the clock (time conversions, JSON).
    fn needs_time(&self) -> bool {
        self.pieces.iter().any(|p| {
            matches!(
                p,
                Piece::Time(_)
                    | Piece::Nanos
                    | Piece::Field(
                        Field::IsoTime | Field::Json | Field::JsonPayload | Field::UnixTime,
                        _
                    )
            )
        })
    }

    /// Renders `msg` received at the current time into `out`. Returns false when `%J` met a
    /// payload that is not JSON (mosquitto prints an error and continues).
    pub fn render(&self, msg: &Publish, out: &mut Vec<u8>) -> bool {
        let now = if self.needs_time() {
            Local::now()
        } else {
            DateTime::<Local>::default()
        };
        self.render_at(msg, now, out)
    }

    /// Renders `msg` as received at `now`.
    pub fn render_at(&self, msg: &Publish, now: DateTime<Local>, out: &mut Vec<u8>) -> bool {
        let mut ok = true;
        for piece in &self.pieces {
            match piece {
                Piece::Literal(b) => out.extend_from_slice(b),
                Piece::Time(c) => {
                    let spec = format!("%{c}");
                    let items: Vec<_> = chrono::format::StrftimeItems::new(&spec).collect();
                    if !items
                        .iter()
                        .any(|i| matches!(i, chrono::format::Item::Error))
                    {
                        let _ = write!(out, "{}", now.format_with_items(items.into_iter()));
                    }
                }
                Piece::Nanos => {
                    let _ = write!(out, "{:09}", now.timestamp_subsec_nanos());
                }
                Piece::Field(f, spec) => ok &= self.field(*f, spec, msg, now, out),
            }
        }
        ok
    }

    fn field(
        &self,
        f: Field,
        spec: &Spec,
        msg: &Publish,
        now: DateTime<Local>,
        out: &mut Vec<u8>,
    ) -> bool {
        let props = &msg.properties;
        match f {
            Field::Topic => pad_str(out, &msg.topic, spec),
            Field::Payload => write_payload(out, &msg.payload, 0, spec),
            Field::HexLower => write_payload(out, &msg.payload, 1, spec),
            Field::HexUpper => write_payload(out, &msg.payload, 2, spec),
            Field::Length => pad_int(out, msg.payload.len() as u64, spec),
            Field::Mid => pad_int(out, msg.packet_id.map_or(0, |p| u64::from(p.get())), spec),
            Field::Qos => out.push(b'0' + msg.qos as u8),
            Field::Retain => out.push(if msg.retain { b'1' } else { b'0' }),
            Field::IsoTime => pad_str(out, &now.format("%Y-%m-%dT%H:%M:%S%z").to_string(), spec),
            Field::UnixTime => {
                let _ = write!(
                    out,
                    "{}.{:09}",
                    now.timestamp(),
                    now.timestamp_subsec_nanos()
                );
            }
            Field::TopicAlias => {
                if let Some(a) = props.topic_alias {
                    pad_int(out, u64::from(a), spec);
                }
            }
            Field::ContentType => {
                if let Some(s) = &props.content_type {
                    pad_str(out, s, spec);
                }
            }
            Field::CorrelationData => {
                if let Some(d) = &props.correlation_data {
                    out.extend_from_slice(d);
                }
            }
            Field::ExpiryInterval => {
                if let Some(e) = props.message_expiry_interval {
                    pad_int(out, u64::from(e), spec);
                }
            }
            Field::FormatIndicator => {
                if let Some(v) = props.payload_format_indicator {
                    pad_int(out, u64::from(v), spec);
                }
            }
            Field::ResponseTopic => {
                if let Some(s) = &props.response_topic {
                    pad_str(out, s, spec);
                }
            }
            Field::SubscriptionId => {
                if let Some(id) = props.subscription_identifiers.first() {
                    pad_int(out, u64::from(*id), spec);
                }
            }
            Field::UserProps => {
                let all: Vec<String> = props
                    .user_properties
                    .iter()
                    .map(|(k, v)| format!("{k}:{v}"))
                    .collect();
                out.extend_from_slice(all.join(" ").as_bytes());
            }
            Field::Json => json_object(msg, now, JsonMode::Escaped, self.pretty, out),
            Field::JsonPayload => {
                let mut tmp = Vec::new();
                if json::payload_is_json(&msg.payload) {
                    json_object(msg, now, JsonMode::Embedded, self.pretty, &mut tmp);
                    out.extend_from_slice(&tmp);
                } else {
                    return false;
                }
            }
        }
        true
    }
}

fn flush_lit(pieces: &mut Vec<Piece>, lit: &mut Vec<u8>) {
    if !lit.is_empty() {
        pieces.push(Piece::Literal(std::mem::take(lit)));
    }
}

fn padding(out: &mut Vec<u8>, n: usize, c: u8) {
    out.extend(std::iter::repeat_n(c, n));
}

/// `printf("%-*.*s")`: the `0` flag does not apply to strings.
fn pad_str(out: &mut Vec<u8>, s: &str, spec: &Spec) {
    let s = match spec.precision {
        Some(p) => s.get(..p.min(s.len())).unwrap_or(s),
        None => s,
    };
    let pad = spec.width.saturating_sub(s.len());
    if !spec.left {
        padding(out, pad, b' ');
    }
    out.extend_from_slice(s.as_bytes());
    if spec.left {
        padding(out, pad, b' ');
    }
}

/// `printf("%0*d")` and friends: zero padding only when right-aligned.
fn pad_int(out: &mut Vec<u8>, v: u64, spec: &Spec) {
    let digits = v.to_string();
    let pad = spec.width.saturating_sub(digits.len());
    if spec.left {
        out.extend_from_slice(digits.as_bytes());
        padding(out, pad, b' ');
    } else {
        padding(out, pad, if spec.zero { b'0' } else { b' ' });
        out.extend_from_slice(digits.as_bytes());
    }
}

/// mosquitto's `write_payload`: a width also truncates; for hex it counts hex digits, so a
/// byte that would not fit whole is dropped. Precision is ignored.
fn write_payload(out: &mut Vec<u8>, payload: &[u8], hex: u8, spec: &Spec) {
    let mut len = payload.len();
    let pad;
    if spec.width > 0 {
        len = len.min(spec.width);
        if hex > 0 {
            len /= 2;
            pad = spec.width - len * 2;
        } else {
            pad = spec.width - len;
        }
    } else {
        pad = 0;
    }
    let fill = if spec.zero { b'0' } else { b' ' };
    if !spec.left {
        padding(out, pad, fill);
    }
    let body = &payload[..len];
    match hex {
        0 => out.extend_from_slice(body),
        1 => body.iter().for_each(|b| {
            let _ = write!(out, "{b:02x}");
        }),
        _ => body.iter().for_each(|b| {
            let _ = write!(out, "{b:02X}");
        }),
    }
    if spec.left {
        padding(out, pad, fill);
    }
}

#[cfg(test)]
mod tests;
