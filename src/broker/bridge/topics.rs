//! `topic PATTERN [[[out|in|both] QOS] LOCAL-PREFIX REMOTE-PREFIX]`: which topics cross a
//! bridge, and how their names change on the way.
//!
//! ```text
//!  topic sensors/# both 1 site1/ hub/site1/
//!
//!  local  site1/sensors/t ──out──▶ strip "site1/", add "hub/site1/" ──▶ remote hub/site1/sensors/t
//!  local  site1/sensors/t ◀──in─── add "site1/", strip "hub/site1/" ◀── remote hub/site1/sensors/t
//! ```
//!
//! Prefixes are joined to the pattern as they stand (no `/` is added: `local4/top` and `ic/+`
//! make `local4/topic/+`). `""` stands for an empty prefix, and for an empty pattern when both
//! prefixes are given (one local topic mapped to one remote topic). As in mosquitto, a message
//! is remapped by the first topic line with a prefix whose filter matches it; a message that no
//! such line matches keeps its name.

use crate::protocol::QoS;
use crate::topic::{TopicFilter, TopicName};

/// Which way a topic crosses the bridge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Local messages go to the remote.
    Out,
    /// Remote messages come to the local broker.
    In,
    /// Both.
    Both,
}

impl Direction {
    /// Parses `out`, `in` or `both`, in any case as mosquitto does.
    pub fn parse(s: &str) -> Result<Direction, String> {
        match s.to_ascii_lowercase().as_str() {
            "out" => Ok(Direction::Out),
            "in" => Ok(Direction::In),
            "both" => Ok(Direction::Both),
            _ => Err(format!(
                "invalid bridge topic direction '{s}' (expected out, in or both)"
            )),
        }
    }

    /// Local messages cross to the remote.
    pub fn outgoing(self) -> bool {
        self != Direction::In
    }

    /// Remote messages cross to the local broker.
    pub fn incoming(self) -> bool {
        self != Direction::Out
    }
}

/// One `topic` line, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BridgeTopic {
    /// Direction.
    pub direction: Direction,
    /// QoS of the subscription on the side messages come from.
    pub qos: QoS,
    /// Local prefix, empty for none.
    pub local_prefix: String,
    /// Remote prefix, empty for none.
    pub remote_prefix: String,
    /// The local filter: local prefix and pattern (what the bridge subscribes to locally).
    pub local: TopicFilter,
    /// The remote filter: remote prefix and pattern (what it subscribes to on the remote).
    pub remote: TopicFilter,
}

/// `""` is the empty prefix (or pattern).
fn unquote(s: &str) -> &str {
    if s == "\"\"" { "" } else { s }
}

impl BridgeTopic {
    /// Checks one `topic` line: prefixes are topic names (no wildcards), prefix and pattern
    /// together are filters, and an empty pattern needs both prefixes.
    pub fn new(
        pattern: &str,
        direction: Direction,
        qos: QoS,
        local_prefix: &str,
        remote_prefix: &str,
    ) -> Result<BridgeTopic, String> {
        let (pattern, local_prefix, remote_prefix) = (
            unquote(pattern),
            unquote(local_prefix),
            unquote(remote_prefix),
        );
        if pattern.is_empty() && (local_prefix.is_empty() || remote_prefix.is_empty()) {
            return Err(
                "an empty bridge topic pattern needs both a local and a remote prefix".into(),
            );
        }
        for (side, prefix) in [("local", local_prefix), ("remote", remote_prefix)] {
            if !prefix.is_empty() && TopicName::new(prefix).is_err() {
                return Err(format!(
                    "invalid bridge topic {side} prefix '{prefix}' (no wildcards allowed)"
                ));
            }
        }
        let filter = |side: &str, prefix: &str| {
            let full = format!("{prefix}{pattern}");
            TopicFilter::new(full.as_str())
                .map_err(|e| format!("invalid bridge topic {side} filter '{full}': {e}"))
        };
        Ok(BridgeTopic {
            direction,
            qos,
            local: filter("local", local_prefix)?,
            remote: filter("remote", remote_prefix)?,
            local_prefix: local_prefix.to_string(),
            remote_prefix: remote_prefix.to_string(),
        })
    }

    fn remaps(&self) -> bool {
        !self.local_prefix.is_empty() || !self.remote_prefix.is_empty()
    }
}

/// Replaces `from` at the start of `topic` (when it is there) with `to`.
fn swap_prefix(topic: &str, from: &str, to: &str) -> Result<TopicName, String> {
    let rest = topic.strip_prefix(from).unwrap_or(topic);
    let mapped = format!("{to}{rest}");
    TopicName::new(mapped.as_str()).map_err(|e| format!("remapped topic '{mapped}': {e}"))
}

/// The remote name of a local message, or why it has none (the remapped name is not a valid
/// topic, e.g. empty).
pub fn to_remote(topics: &[BridgeTopic], local: &TopicName) -> Result<TopicName, String> {
    let hit = topics
        .iter()
        .find(|t| t.direction.outgoing() && t.remaps() && t.local.matches(local));
    match hit {
        Some(t) => swap_prefix(local, &t.local_prefix, &t.remote_prefix),
        None => Ok(local.clone()),
    }
}

/// The local name of a remote message (see [`to_remote`]).
pub fn to_local(topics: &[BridgeTopic], remote: &TopicName) -> Result<TopicName, String> {
    let hit = topics
        .iter()
        .find(|t| t.direction.incoming() && t.remaps() && t.remote.matches(remote));
    match hit {
        Some(t) => swap_prefix(remote, &t.remote_prefix, &t.local_prefix),
        None => Ok(remote.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(pattern: &str, d: Direction, l: &str, r: &str) -> BridgeTopic {
        BridgeTopic::new(pattern, d, QoS::AtMostOnce, l, r).unwrap()
    }

    fn name(s: &str) -> TopicName {
        TopicName::new(s).unwrap()
    }

    #[test]
    fn the_man_page_table_of_prefixes() {
        use Direction::Both;
        let cases = [
            ("pattern", "L/", "R/", "L/pattern", "R/pattern"),
            ("pattern", "L/", "\"\"", "L/pattern", "pattern"),
            ("pattern", "\"\"", "R/", "pattern", "R/pattern"),
            ("pattern", "\"\"", "\"\"", "pattern", "pattern"),
            ("\"\"", "local", "remote", "local", "remote"),
        ];
        for (p, l, r, local, remote) in cases {
            let topic = t(p, Both, l, r);
            assert_eq!(
                (topic.local.as_str(), topic.remote.as_str()),
                (local, remote)
            );
            let topics = [topic];
            assert_eq!(to_remote(&topics, &name(local)).unwrap().as_str(), remote);
            assert_eq!(to_local(&topics, &name(remote)).unwrap().as_str(), local);
        }
        for (l, r) in [("local", "\"\""), ("\"\"", "remote"), ("\"\"", "\"\"")] {
            assert!(BridgeTopic::new("\"\"", Both, QoS::AtMostOnce, l, r).is_err());
        }
    }

    #[test]
    fn mosquittos_remapping_cases() {
        // From mosquitto's own bridge remapping test: prefixes are joined without a slash.
        use Direction::In;
        let topics = [
            t("#", In, "local/topic/", "remote/topic/"),
            t("prefix/#", In, "local2/topic/", "remote2/topic/"),
            t("+/value", In, "local3/topic/", "remote3/topic/"),
            t("ic/+", In, "local4/top", "remote4/tip"),
            t("clients/total", In, "test/mosquitto/org", "$SYS/broker/"),
        ];
        let cases = [
            ("remote/topic/something", "local/topic/something"),
            ("remote/topic/some/t/h/i/n/g", "local/topic/some/t/h/i/n/g"),
            (
                "remote2/topic/prefix/something",
                "local2/topic/prefix/something",
            ),
            (
                "remote3/topic/something/value",
                "local3/topic/something/value",
            ),
            ("remote4/tipic/something", "local4/topic/something"),
            (
                "$SYS/broker/clients/total",
                "test/mosquitto/orgclients/total",
            ),
            ("unrelated/topic", "unrelated/topic"),
        ];
        for (remote, local) in cases {
            assert_eq!(to_local(&topics, &name(remote)).unwrap().as_str(), local);
        }
        // `in` lines never remap outgoing messages.
        assert_eq!(
            to_remote(&topics, &name("local/topic/x")).unwrap().as_str(),
            "local/topic/x"
        );
    }

    #[test]
    fn bad_lines_are_refused_with_the_reason() {
        let e = BridgeTopic::new("a/#", Direction::Out, QoS::AtMostOnce, "x/+/", "").unwrap_err();
        assert!(e.contains("local prefix"), "{e}");
        let e = BridgeTopic::new("#/a", Direction::Out, QoS::AtMostOnce, "", "").unwrap_err();
        assert!(e.contains("filter '#/a'"), "{e}");
        assert!(Direction::parse("BOTH").is_ok());
        assert!(Direction::parse("sideways").is_err());
    }

    #[test]
    fn a_remap_to_an_empty_name_is_an_error_not_a_panic() {
        let topics = [t("#", Direction::Out, "a/", "\"\"")];
        assert!(to_remote(&topics, &name("a/")).is_err());
        // The parent level matches `a/#` without carrying the prefix: kept as it is.
        assert_eq!(to_remote(&topics, &name("a")).unwrap().as_str(), "a");
    }
}
