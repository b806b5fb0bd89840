//! Topic names, topic filters and matching (MQTT 3.1.1 and 5.0 section 4.7, shared
//! subscriptions in 5.0 section 4.8.2).
//!
//! ```text
//! name:    sport/tennis/player1        no wildcards, never empty
//! filter:  sport/+/player1  sport/#    '+' a whole level, '#' a whole last level
//! shared:  $share/{group}/{filter}     group: no '/', '+' or '#'
//! ```

use crate::protocol::ByteStr;
use bytes::Bytes;
use std::fmt;

/// The longest topic a two-byte length prefix can carry.
pub const MAX_TOPIC_LEN: usize = 65_535;

/// Why a string is not a valid topic name or filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TopicError {
    /// Zero-length topic names and filters are not allowed.
    Empty,
    /// Longer than 65,535 bytes.
    TooLong,
    /// Contains U+0000.
    Null,
    /// Not valid UTF-8.
    InvalidUtf8,
    /// A topic name with `+` or `#`.
    WildcardInName,
    /// `#` not alone in the last level.
    MultiLevelPlacement,
    /// `+` not alone in its level.
    SingleLevelPlacement,
    /// A `$share/` filter without a valid group name or filter.
    InvalidShare,
}

impl TopicError {
    /// The normative statement the error enforces.
    pub fn rule(self) -> &'static str {
        match self {
            TopicError::Empty => "MQTT-4.7.3-1",
            TopicError::TooLong => "MQTT-4.7.3-3",
            TopicError::Null => "MQTT-4.7.3-2",
            TopicError::InvalidUtf8 => "MQTT-1.5.3-1",
            TopicError::WildcardInName => "MQTT-3.3.2-2",
            TopicError::MultiLevelPlacement => "MQTT-4.7.1-2",
            TopicError::SingleLevelPlacement => "MQTT-4.7.1-3",
            TopicError::InvalidShare => "MQTT-4.8.2-1",
        }
    }

    /// A short description.
    pub fn message(self) -> &'static str {
        match self {
            TopicError::Empty => "empty topic",
            TopicError::TooLong => "topic longer than 65535 bytes",
            TopicError::Null => "U+0000 in topic",
            TopicError::InvalidUtf8 => "topic is not valid UTF-8",
            TopicError::WildcardInName => "wildcard in topic name",
            TopicError::MultiLevelPlacement => "'#' must be the whole last level",
            TopicError::SingleLevelPlacement => "'+' must be a whole level",
            TopicError::InvalidShare => "invalid shared subscription ($share/{group}/{filter})",
        }
    }
}

impl fmt::Display for TopicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.rule(), self.message())
    }
}

impl std::error::Error for TopicError {}

fn check_common(s: &str) -> Result<(), TopicError> {
    if s.is_empty() {
        return Err(TopicError::Empty);
    }
    if s.len() > MAX_TOPIC_LEN {
        return Err(TopicError::TooLong);
    }
    if s.as_bytes().contains(&0) {
        return Err(TopicError::Null);
    }
    Ok(())
}

/// True when `s` holds a U+0000, `+` or `#` byte; eight bytes at a time (the classic
/// "has zero byte" trick: `(x - 0x01..) & !x & 0x80..` is non-zero exactly when a byte of `x`
/// is zero).
#[inline]
fn has_nul_or_wildcard(s: &[u8]) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const fn zero_byte(x: u64) -> u64 {
        x.wrapping_sub(LO) & !x & HI
    }
    let mut chunks = s.chunks_exact(8);
    let mut acc = 0;
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let x = u64::from_le_bytes(w);
        acc |= zero_byte(x) | zero_byte(x ^ (LO * b'+' as u64)) | zero_byte(x ^ (LO * b'#' as u64));
    }
    acc != 0
        || chunks
            .remainder()
            .iter()
            .any(|&b| matches!(b, 0 | b'+' | b'#'))
}

/// Checks a topic name: not empty, at most 65,535 bytes, no U+0000, no wildcard.
#[inline]
pub fn validate_name(s: &str) -> Result<(), TopicError> {
    if s.is_empty() {
        return Err(TopicError::Empty);
    }
    if s.len() > MAX_TOPIC_LEN {
        return Err(TopicError::TooLong);
    }
    // This runs for every PUBLISH received: one quick scan, and only the rare failure finds
    // out which rule broke.
    if has_nul_or_wildcard(s.as_bytes()) {
        check_common(s)?;
        return Err(TopicError::WildcardInName);
    }
    Ok(())
}

/// Checks the wildcard placement of a filter (without any `$share/` prefix).
fn validate_filter_levels(s: &str) -> Result<(), TopicError> {
    let mut levels = s.split('/').peekable();
    while let Some(level) = levels.next() {
        if level.contains('#') && (level != "#" || levels.peek().is_some()) {
            return Err(TopicError::MultiLevelPlacement);
        }
        if level.contains('+') && level != "+" {
            return Err(TopicError::SingleLevelPlacement);
        }
    }
    Ok(())
}

/// Checks a topic filter, including `$share/{group}/{filter}`.
pub fn validate_filter(s: &str) -> Result<(), TopicError> {
    check_common(s)?;
    match split_share(s) {
        Some(Ok((_, filter))) => validate_filter_levels(filter),
        Some(Err(e)) => Err(e),
        None => validate_filter_levels(s),
    }
}

/// `Some(Ok((group, filter)))` for a well-formed `$share/` filter, `Some(Err)` for a malformed
/// one, `None` for an ordinary filter.
fn split_share(s: &str) -> Option<Result<(&str, &str), TopicError>> {
    let rest = s.strip_prefix("$share/")?;
    Some(match rest.split_once('/') {
        Some((group, filter))
            if !group.is_empty() && !group.contains(['+', '#']) && !filter.is_empty() =>
        {
            Ok((group, filter))
        }
        _ => Err(TopicError::InvalidShare),
    })
}

/// True when `filter` (without `$share/`) matches `topic`.
///
/// A filter starting with a wildcard does not match a topic starting with `$` ([MQTT-4.7.2-1]).
pub fn matches(filter: &str, topic: &str) -> bool {
    if topic.starts_with('$') && filter.starts_with(['+', '#']) {
        return false;
    }
    let mut t = topic.split('/');
    let mut f = filter.split('/');
    loop {
        match (f.next(), t.next()) {
            (Some("#"), _) => return true,
            (Some("+"), Some(_)) => {}
            (Some(fl), Some(tl)) if fl == tl => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// A validated topic name: what PUBLISH and a will carry.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TopicName(ByteStr);

impl TopicName {
    /// Validates and wraps a topic name.
    #[inline]
    pub fn new(s: impl Into<ByteStr>) -> Result<TopicName, TopicError> {
        let s = s.into();
        validate_name(&s)?;
        Ok(TopicName(s))
    }

    /// Validates UTF-8 and the name rules over bytes sliced from a receive buffer.
    ///
    /// Inlined: returned from a call, the `Result` is split around its niche and copied in odd
    /// pieces that stall store forwarding on the PUBLISH hot path.
    #[inline]
    pub fn from_bytes(b: Bytes) -> Result<TopicName, TopicError> {
        let s = match ByteStr::from_ascii(b) {
            Ok(s) => s,
            Err(b) => ByteStr::from_utf8(b).map_err(|_| TopicError::InvalidUtf8)?,
        };
        TopicName::new(s)
    }

    /// The decoder's fast path: a plain ASCII name without U+0000 or wildcards is valid as it
    /// stands; anything else is given back for [`TopicName::from_bytes`] to judge.
    ///
    /// (`Result<TopicName, TopicError>` stores the error byte inside the name's first word, and
    /// copying that `Result` out in pieces stalls store forwarding on the PUBLISH hot path.)
    #[inline]
    pub(crate) fn from_plain_ascii(b: Bytes) -> Result<TopicName, Bytes> {
        if b.is_empty() || b.len() > MAX_TOPIC_LEN || has_nul_or_wildcard(&b) {
            return Err(b);
        }
        ByteStr::from_ascii(b).map(TopicName)
    }

    /// The empty name of a v5 PUBLISH that uses a topic alias instead.
    pub fn empty() -> TopicName {
        TopicName(ByteStr::default())
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The name as shared bytes.
    pub fn as_bytestr(&self) -> &ByteStr {
        &self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True only for the alias placeholder.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True for `$SYS/...` and every other topic reserved for the server.
    pub fn is_dollar(&self) -> bool {
        self.0.starts_with('$')
    }
}

impl std::ops::Deref for TopicName {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for TopicName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for TopicName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for TopicName {
    type Err = TopicError;
    fn from_str(s: &str) -> Result<TopicName, TopicError> {
        TopicName::new(s)
    }
}

/// A validated topic filter: what SUBSCRIBE and UNSUBSCRIBE carry.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicFilter(ByteStr);

impl TopicFilter {
    /// Validates and wraps a filter.
    pub fn new(s: impl Into<ByteStr>) -> Result<TopicFilter, TopicError> {
        let s = s.into();
        validate_filter(&s)?;
        Ok(TopicFilter(s))
    }

    /// Validates UTF-8 and the filter rules over bytes sliced from a receive buffer.
    pub fn from_bytes(b: Bytes) -> Result<TopicFilter, TopicError> {
        let s = ByteStr::from_utf8(b).map_err(|_| TopicError::InvalidUtf8)?;
        TopicFilter::new(s)
    }

    /// The filter as written, with any `$share/{group}/` prefix.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The group and the inner filter of a shared subscription.
    pub fn share(&self) -> Option<(&str, &str)> {
        split_share(self.as_str()).and_then(Result::ok)
    }

    /// The filter that topics are matched against (without `$share/{group}/`).
    pub fn pattern(&self) -> &str {
        self.share().map_or(self.as_str(), |(_, f)| f)
    }

    /// True when the pattern holds `+` or `#`.
    pub fn has_wildcards(&self) -> bool {
        self.pattern().contains(['+', '#'])
    }

    /// True when this filter matches `topic`.
    pub fn matches(&self, topic: &str) -> bool {
        matches(self.pattern(), topic)
    }
}

impl std::ops::Deref for TopicFilter {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for TopicFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for TopicFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for TopicFilter {
    type Err = TopicError;
    fn from_str(s: &str) -> Result<TopicFilter, TopicError> {
        TopicFilter::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_and_wildcard_scan_finds_every_position() {
        for len in 1..40 {
            for pos in 0..len {
                for bad in [0u8, b'+', b'#'] {
                    let mut s = vec![0xC3u8; len];
                    s.iter_mut().step_by(2).for_each(|b| *b = b'a');
                    s[pos] = bad;
                    assert!(has_nul_or_wildcard(&s), "{len} {pos} {bad}");
                }
            }
            // Bytes one away from the special ones, and high bytes, are not flagged.
            let clean: Vec<u8> = (0..len)
                .map(|i| [1, b'*', b',', b'"', b'$', 0x80, 0xFF][i % 7])
                .collect();
            assert!(!has_nul_or_wildcard(&clean), "{len}");
        }
    }

    #[test]
    fn matching_table() {
        let cases = [
            ("sport/tennis/player1/#", "sport/tennis/player1", true),
            (
                "sport/tennis/player1/#",
                "sport/tennis/player1/ranking",
                true,
            ),
            (
                "sport/tennis/player1/#",
                "sport/tennis/player1/score/wimbledon",
                true,
            ),
            ("sport/#", "sport", true),
            ("#", "sport/tennis", true),
            ("#", "/", true),
            ("sport/tennis/+", "sport/tennis/player1", true),
            ("sport/tennis/+", "sport/tennis/player1/ranking", false),
            ("sport/+", "sport", false),
            ("sport/+", "sport/", true),
            ("+/+", "/finance", true),
            ("/+", "/finance", true),
            ("+", "/finance", false),
            ("+", "", true),
            ("a/b", "a/b", true),
            ("a/b", "a/b/c", false),
            ("a/b/c", "a/b", false),
            ("a//b", "a//b", true),
            ("a/+/b", "a//b", true),
            ("+/#", "a", true),
        ];
        for (f, t, want) in cases {
            assert_eq!(matches(f, t), want, "{f} vs {t}");
        }
    }

    #[test]
    fn mqtt_4_7_2_1_dollar_topics_not_matched_by_leading_wildcards() {
        assert!(!matches("#", "$SYS/broker/uptime"));
        assert!(!matches("+/monitor/Clients", "$SYS/monitor/Clients"));
        assert!(matches("$SYS/#", "$SYS/monitor/Clients"));
        assert!(matches("$SYS/monitor/+", "$SYS/monitor/Clients"));
    }

    #[test]
    fn names_are_validated() {
        assert_eq!(validate_name(""), Err(TopicError::Empty));
        assert_eq!(validate_name("a/+"), Err(TopicError::WildcardInName));
        assert_eq!(validate_name("a/#"), Err(TopicError::WildcardInName));
        assert_eq!(validate_name("a\0b"), Err(TopicError::Null));
        assert_eq!(validate_name(&"x".repeat(65_536)), Err(TopicError::TooLong));
        assert!(validate_name(&"x".repeat(65_535)).is_ok());
        assert!(validate_name("/").is_ok());
        assert!(validate_name("a b/ü").is_ok());
    }

    #[test]
    fn filters_are_validated() {
        for ok in [
            "#",
            "+",
            "a/#",
            "+/+/#",
            "a/+/b",
            "/",
            "$share/g/a/#",
            "$share/g/#",
        ] {
            assert!(validate_filter(ok).is_ok(), "{ok}");
        }
        let bad = [
            ("", TopicError::Empty),
            ("a#", TopicError::MultiLevelPlacement),
            ("a/#/b", TopicError::MultiLevelPlacement),
            ("a/b#", TopicError::MultiLevelPlacement),
            ("a+", TopicError::SingleLevelPlacement),
            ("a/+b/c", TopicError::SingleLevelPlacement),
            ("$share/g", TopicError::InvalidShare),
            ("$share//a", TopicError::InvalidShare),
            ("$share/g+/a", TopicError::InvalidShare),
            ("$share/g/", TopicError::InvalidShare),
            ("$share/g/a#", TopicError::MultiLevelPlacement),
        ];
        for (f, e) in bad {
            assert_eq!(validate_filter(f), Err(e), "{f}");
        }
    }

    #[test]
    fn shared_subscription_parts() {
        let f = TopicFilter::new("$share/grp/meteo/#").unwrap();
        assert_eq!(f.share(), Some(("grp", "meteo/#")));
        assert_eq!(f.pattern(), "meteo/#");
        assert!(f.matches("meteo/aemet/station/3195"));
        let plain = TopicFilter::new("meteo/+").unwrap();
        assert_eq!(plain.share(), None);
        assert!(plain.has_wildcards());
    }

    #[test]
    fn topic_name_from_bytes_checks_utf8() {
        assert_eq!(
            TopicName::from_bytes(Bytes::from_static(b"\xff\xfe")),
            Err(TopicError::InvalidUtf8)
        );
        assert_eq!(
            TopicName::from_bytes(Bytes::from_static(b"a/b"))
                .unwrap()
                .as_str(),
            "a/b"
        );
    }
}
