//! What one check found: a verdict, the figure a person reads and the value a program reads,
//! rendered as one line of text or one JSON object.

use crate::protocol::Version;
use serde::Serialize;
use serde_json::Value;
use std::fmt;

/// A check's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Status {
    /// Supported, allowed, or no limit in the way.
    #[serde(rename = "OK")]
    Ok,
    /// Refused, unavailable, or limited (the figure says how).
    #[serde(rename = "NO")]
    No,
    /// The check does not apply (plain TCP has no certificate; a feature the broker announced
    /// as unavailable is not tried).
    #[serde(rename = "N/A")]
    NotApplicable,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Ok => "OK",
            Status::No => "NO",
            Status::NotApplicable => "N/A",
        })
    }
}

/// Declares [`Check`] with each check's stable id and its label.
macro_rules! checks {
    ($($variant:ident => $id:literal, $label:literal;)*) => {
        /// Every check `mq test` runs.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Check {
            $(
                #[doc = $label]
                $variant,
            )*
        }

        impl Check {
            /// Every check, in report order.
            pub const ALL: &'static [Check] = &[$(Check::$variant),*];

            /// The stable identifier in `--json` output.
            pub fn id(self) -> &'static str {
                match self { $(Check::$variant => $id,)* }
            }

            /// What is checked, for people.
            pub fn label(self) -> &'static str {
                match self { $(Check::$variant => $label,)* }
            }
        }
    };
}

checks! {
    Protocol => "protocol", "protocol version accepted";
    Anonymous => "anonymous", "anonymous access";
    Tls => "tls", "TLS";
    Certificate => "certificate", "server certificate";
    MaximumQos => "maximum_qos", "maximum QoS";
    RetainAvailable => "retain_available", "retain available";
    WildcardAvailable => "wildcard_subscription_available", "wildcard subscriptions";
    SharedAvailable => "shared_subscription_available", "shared subscriptions";
    SubscriptionIds => "subscription_identifier_available", "subscription identifiers";
    ReceiveMaximum => "receive_maximum", "receive maximum";
    MaximumPacketSize => "maximum_packet_size", "maximum packet size";
    TopicAliasMaximum => "topic_alias_maximum", "topic alias maximum";
    ServerKeepAlive => "server_keep_alive", "server keep alive";
    SessionExpiry => "session_expiry_interval", "session expiry interval";
    AssignedClientId => "assigned_client_identifier", "assigned client identifier";
    EmptyClientId => "empty_client_id", "zero-length client id";
    Qos0 => "qos0", "QoS 0 round trip";
    Qos1 => "qos1", "QoS 1 round trip";
    Qos2 => "qos2", "QoS 2 round trip";
    Retained => "retained", "retained messages";
    WildcardPlus => "wildcard_plus", "+ wildcard";
    WildcardHash => "wildcard_hash", "# wildcard";
    Shared => "shared_subscription", "$share/ subscriptions";
    Will => "will", "will on abrupt close";
    Sys => "sys", "$SYS readable";
    TopicCharacters => "topic_characters", "characters refused in topics";
    TopicLength => "topic_length", "longest topic";
    ClientIdLength => "client_id_length", "longest client id";
    PayloadSize => "payload_size", "largest payload";
    Skipped => "skipped", "checks of this version";
}

impl Serialize for Check {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

/// The result of one check.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Outcome {
    /// Which check.
    pub check: Check,
    /// The protocol version the check spoke, if it is about one version.
    #[serde(serialize_with = "version_name")]
    pub version: Option<Version>,
    /// The verdict.
    pub status: Status,
    /// What was checked, for people.
    pub label: &'static str,
    /// What was found, for people.
    pub figure: String,
    /// What was found, for programs (a number, a flag, an object; `null` when nothing).
    pub value: Value,
}

/// The version as people write it: `3.1`, `3.1.1`, `5.0`.
pub fn version_label(v: Version) -> &'static str {
    match v {
        Version::V31 => "3.1",
        Version::V311 => "3.1.1",
        Version::V5 => "5.0",
    }
}

fn version_name<S: serde::Serializer>(v: &Option<Version>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.serialize_str(version_label(*v)),
        None => s.serialize_none(),
    }
}

impl Outcome {
    /// An outcome of `check` for `version`.
    pub fn new(
        check: Check,
        version: Option<Version>,
        status: Status,
        figure: impl Into<String>,
        value: Value,
    ) -> Outcome {
        Outcome {
            check,
            version,
            status,
            label: check.label(),
            figure: figure.into(),
            value,
        }
    }

    /// The line printed on a terminal or into a pipe without `--json`.
    pub fn line(&self) -> String {
        let version = self.version.map_or("", version_label);
        format!(
            "{version:<6}{:<34}{:<4} {}",
            self.label,
            self.status.to_string(),
            self.figure
        )
        .trim_end()
        .to_string()
    }

    /// The line printed under `--json`: one object.
    pub fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// `1.2 ms`, `850 µs`, `2.50 s`.
pub fn fmt_duration(d: std::time::Duration) -> String {
    let us = d.as_micros();
    match us {
        0..1_000 => format!("{us} µs"),
        1_000..1_000_000 => format!("{:.1} ms", us as f64 / 1e3),
        _ => format!("{:.2} s", us as f64 / 1e6),
    }
}

/// `1,048,576` style grouping for byte counts.
pub fn fmt_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn line_and_json_carry_the_same_verdict() {
        let o = Outcome::new(
            Check::Qos1,
            Some(Version::V5),
            Status::Ok,
            "10 of 10 received in 1.2 ms",
            json!({"received": 10}),
        );
        assert_eq!(
            o.line(),
            "5.0   QoS 1 round trip                  OK   10 of 10 received in 1.2 ms"
        );
        let v: Value = serde_json::from_str(&o.json()).unwrap();
        assert_eq!(v["check"], "qos1");
        assert_eq!(v["version"], "5.0");
        assert_eq!(v["status"], "OK");
        assert_eq!(v["value"]["received"], 10);
        let na = Outcome::new(Check::Tls, None, Status::NotApplicable, "", Value::Null);
        assert!(na.line().ends_with("N/A"), "{}", na.line());
        let v: Value = serde_json::from_str(&na.json()).unwrap();
        assert_eq!(
            (v["version"].is_null(), &v["status"]),
            (true, &json!("N/A"))
        );
    }

    #[test]
    fn check_ids_are_unique() {
        let ids: std::collections::BTreeSet<_> = Check::ALL.iter().map(|c| c.id()).collect();
        assert_eq!(ids.len(), Check::ALL.len());
    }

    #[test]
    fn figures_are_readable() {
        assert_eq!(fmt_count(268_435_455), "268,435,455");
        assert_eq!(fmt_count(999), "999");
        assert_eq!(fmt_count(1000), "1,000");
        let ms = std::time::Duration::from_micros;
        assert_eq!(fmt_duration(ms(850)), "850 µs");
        assert_eq!(fmt_duration(ms(1_250)), "1.2 ms");
        assert_eq!(fmt_duration(ms(2_500_000)), "2.50 s");
    }
}
