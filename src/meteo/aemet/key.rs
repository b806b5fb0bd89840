//! The AEMET API key is a JWT whose `exp` claim says when it stops working. Reading it lets
//! `mq meteo` warn before AEMET starts answering 401. The signature is AEMET's business.

use base64::Engine;
use chrono::{DateTime, Duration, Utc};

/// The key's expiry, if it is a JWT with an `exp` claim.
pub fn expiry(key: &str) -> Option<DateTime<Utc>> {
    let payload = key.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD_INDIFFERENT
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    DateTime::from_timestamp(claims.get("exp")?.as_i64()?, 0)
}

/// A warning when the key has expired or expires within a week.
pub fn warning(key: &str, now: DateTime<Utc>) -> Option<String> {
    let exp = expiry(key)?;
    let when = exp.format("%Y-%m-%d %H:%M UTC");
    if exp <= now {
        Some(format!(
            "the AEMET API key expired on {when}; get a new one at https://opendata.aemet.es"
        ))
    } else if exp - now < Duration::days(7) {
        Some(format!(
            "the AEMET API key expires on {when}; get a new one at https://opendata.aemet.es"
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> String {
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.sig",
            e.encode(r#"{"alg":"HS256"}"#),
            e.encode(claims)
        )
    }

    #[test]
    fn expiry_is_read_from_the_claims() {
        let k = jwt(r#"{"sub":"a@b.c","exp":1610000000}"#);
        assert_eq!(expiry(&k).map(|t| t.timestamp()), Some(1_610_000_000));
        assert_eq!(expiry("not-a-jwt"), None);
        assert_eq!(expiry(&jwt(r#"{"sub":"x"}"#)), None);
    }

    #[test]
    fn warns_when_expired_or_close() {
        let k = jwt(r#"{"exp":1610000000}"#);
        let t = |s| DateTime::from_timestamp(s, 0).unwrap();
        assert!(warning(&k, t(1_610_000_001)).unwrap().contains("expired"));
        assert!(
            warning(&k, t(1_610_000_000 - 3600))
                .unwrap()
                .contains("expires")
        );
        assert_eq!(warning(&k, t(1_600_000_000)), None);
    }
}
