//! AEMET's times: observation `fint` is UTC (`2021-01-08T14:00:00`, or since 2024
//! `2024-06-25T19:00:00+0000`), forecast `elaborado`/`fecha` are Europe/Madrid civil time
//! without an offset.

use chrono::{DateTime, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::{Europe::Madrid, Tz};

/// Parses a `fint`: UTC with no offset, `+0000`, `+00:00` or `Z`.
pub fn parse_fint(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%z") {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S")
        .ok()
        .map(|n| n.and_utc())
}

/// Parses a Madrid civil time without offset. In the autumn overlap the earlier instant is
/// taken; a time in the spring gap moves one hour on.
pub fn parse_local(s: &str) -> Option<DateTime<Tz>> {
    let n = NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S").ok()?;
    local(n)
}

/// A Madrid civil time as an instant (see [`parse_local`] for the DST edges).
pub fn local(n: NaiveDateTime) -> Option<DateTime<Tz>> {
    match Madrid.from_local_datetime(&n) {
        LocalResult::Single(t) => Some(t),
        LocalResult::Ambiguous(a, _) => Some(a),
        LocalResult::None => Madrid
            .from_local_datetime(&(n + chrono::Duration::hours(1)))
            .earliest(),
    }
}

/// The date part of a forecast `fecha`.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim().get(..10)?, "%Y-%m-%d").ok()
}

/// The Madrid calendar date of an instant.
pub fn madrid_date(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&Madrid).date_naive()
}

/// RFC 3339 in UTC with a `Z`, seconds precision.
pub fn rfc3339_utc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// RFC 3339 with the Madrid offset, seconds precision.
pub fn rfc3339_local(t: DateTime<Tz>) -> String {
    let fixed: DateTime<FixedOffset> = t.fixed_offset();
    fixed.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_fint_formats() {
        let a = parse_fint("2021-01-08T14:00:00").unwrap();
        let b = parse_fint("2021-01-08T14:00:00+0000").unwrap();
        assert_eq!(a, b);
        assert_eq!(rfc3339_utc(a), "2021-01-08T14:00:00Z");
        assert!(parse_fint("yesterday").is_none());
    }

    #[test]
    fn madrid_offsets_winter_and_summer() {
        let w = parse_local("2021-01-09T11:54:00").unwrap();
        assert_eq!(rfc3339_local(w), "2021-01-09T11:54:00+01:00");
        let s = parse_local("2021-07-09T11:54:00").unwrap();
        assert_eq!(rfc3339_local(s), "2021-07-09T11:54:00+02:00");
    }

    #[test]
    fn madrid_date_turns_before_utc_midnight() {
        let t = parse_fint("2021-01-09T23:30:00").unwrap();
        assert_eq!(madrid_date(t).to_string(), "2021-01-10");
    }

    #[test]
    fn dst_gap_and_overlap_resolve() {
        assert!(parse_local("2021-03-28T02:30:00").is_some());
        assert!(parse_local("2021-10-31T02:30:00").is_some());
    }
}
