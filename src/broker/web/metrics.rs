//! `GET /metrics`: the broker's counters and gauges in Prometheus' text exposition format
//! (version 0.0.4), named by its conventions: an `mq_` prefix, `_total` on counters, base
//! units (`_bytes`, `_seconds`).
//!
//! ```text
//! # HELP mq_clients_connected Clients connected now.
//! # TYPE mq_clients_connected gauge
//! mq_clients_connected 3
//! # HELP mq_listener_connections Connections open now, per listener.
//! # TYPE mq_listener_connections gauge
//! mq_listener_connections{listener="0",port="1883",protocol="mqtt"} 2
//! ```
//!
//! Everything is read from the router's atomics and the listeners' counts at scrape time;
//! nothing here writes broker state.

use super::{ListenerInfo, Web};
use crate::broker::bridge::status::{BridgeStatus, State as BridgeState};
use std::fmt::Write;
use std::sync::atomic::Ordering;

/// The `Content-Type` of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What a family is.
#[derive(Clone, Copy)]
enum Kind {
    Counter,
    Gauge,
}

/// Builds the exposition text, one family at a time.
#[derive(Default)]
struct Text(String);

impl Text {
    /// One family with one unlabelled sample.
    fn one(&mut self, name: &str, kind: Kind, help: &str, value: f64) {
        self.family(name, kind, help, &[(String::new(), value)]);
    }

    /// One family; each sample is its rendered label set (`{a="b"}` or empty) and value.
    fn family(&mut self, name: &str, kind: Kind, help: &str, samples: &[(String, f64)]) {
        let kind = match kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
        };
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(self.0, "{name}{labels} {value}");
        }
    }
}

/// A label set, values escaped as the format requires.
fn labels(pairs: &[(&str, &str)]) -> String {
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| {
            let v = v
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            format!("{k}=\"{v}\"")
        })
        .collect();
    format!("{{{}}}", inner.join(","))
}

fn listener_labels(l: &ListenerInfo) -> String {
    labels(&[
        ("listener", &l.index.to_string()),
        ("port", &l.port.to_string()),
        ("protocol", l.protocol),
    ])
}

/// The exposition text of everything the broker counts.
pub fn render(web: &Web) -> String {
    let r = &web.router;
    let s = &r.stats;
    let get = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed) as f64;
    let (inflight, queued) = r.queue_totals();
    let mut t = Text::default();
    use Kind::{Counter, Gauge};
    t.family(
        "mq_build_info",
        Gauge,
        "The broker's version, as a label; always 1.",
        &[(labels(&[("version", env!("CARGO_PKG_VERSION"))]), 1.0)],
    );
    let families: &[(&str, Kind, &str, f64)] = &[
        (
            "mq_uptime_seconds",
            Gauge,
            "Seconds since the broker started.",
            r.now_ms() as f64 / 1000.0,
        ),
        (
            "mq_start_time_seconds",
            Gauge,
            "When the broker started, in seconds since the Unix epoch.",
            web.started_unix,
        ),
        (
            "mq_clients_connected",
            Gauge,
            "Clients connected now.",
            get(&s.connected),
        ),
        (
            "mq_clients_maximum",
            Gauge,
            "Most clients connected at once since the broker started.",
            get(&s.connected_max),
        ),
        (
            "mq_sessions",
            Gauge,
            "Sessions held, connected or persistent.",
            r.session_count() as f64,
        ),
        (
            "mq_messages_received_total",
            Counter,
            "PUBLISH packets received from clients.",
            get(&s.msgs_received),
        ),
        (
            "mq_messages_sent_total",
            Counter,
            "PUBLISH packets sent to clients.",
            get(&s.msgs_sent),
        ),
        (
            "mq_messages_dropped_total",
            Counter,
            "Deliveries dropped because a session's queue was full.",
            get(&s.dropped),
        ),
        (
            "mq_received_bytes_total",
            Counter,
            "Bytes read from client connections.",
            get(&s.bytes_received),
        ),
        (
            "mq_sent_bytes_total",
            Counter,
            "Bytes written to client connections.",
            get(&s.bytes_sent),
        ),
        (
            "mq_subscriptions",
            Gauge,
            "Subscriptions held.",
            r.subscription_count() as f64,
        ),
        (
            "mq_retained_messages",
            Gauge,
            "Retained messages held.",
            r.retained_count() as f64,
        ),
        (
            "mq_inflight_messages",
            Gauge,
            "QoS 1 and 2 messages sent and not yet acknowledged, over all sessions.",
            inflight as f64,
        ),
        (
            "mq_queued_messages",
            Gauge,
            "Messages queued behind the inflight windows, over all sessions.",
            queued as f64,
        ),
        (
            "mq_bridges_connected",
            Gauge,
            "Bridges connected to their remote broker now.",
            get(&s.bridges_connected),
        ),
    ];
    for (name, kind, help, value) in families {
        t.one(name, *kind, help, *value);
    }
    if let Some(path) = &web.store_path {
        let size = std::fs::metadata(path).map_or(0, |m| m.len());
        t.one(
            "mq_store_size_bytes",
            Gauge,
            "Size of the persistence store file.",
            size as f64,
        );
    }
    listeners(&mut t, &web.listeners);
    bridges(&mut t, &web.bridges.list());
    t.0
}

fn bridges(t: &mut Text, list: &[std::sync::Arc<BridgeStatus>]) {
    if list.is_empty() {
        return;
    }
    let per = |f: &dyn Fn(&BridgeStatus) -> f64| -> Vec<(String, f64)> {
        list.iter()
            .map(|b| (labels(&[("bridge", &b.name)]), f(b)))
            .collect()
    };
    let count = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed) as f64;
    t.family(
        "mq_bridge_up",
        Kind::Gauge,
        "1 while the bridge is connected to its remote broker, else 0.",
        &per(&|b| f64::from(u8::from(b.state() == BridgeState::Connected))),
    );
    t.family(
        "mq_bridge_connects_total",
        Kind::Counter,
        "Connections of the bridge that reached CONNACK.",
        &per(&|b| count(&b.connects)),
    );
    t.family(
        "mq_bridge_failures_total",
        Kind::Counter,
        "Failed connection attempts and lost connections of the bridge.",
        &per(&|b| count(&b.failures)),
    );
    t.family(
        "mq_bridge_messages_sent_total",
        Kind::Counter,
        "PUBLISH packets the bridge sent to its remote broker.",
        &per(&|b| count(&b.sent)),
    );
    t.family(
        "mq_bridge_messages_received_total",
        Kind::Counter,
        "PUBLISH packets the bridge received from its remote broker.",
        &per(&|b| count(&b.received)),
    );
}

fn listeners(t: &mut Text, list: &[ListenerInfo]) {
    let per = |f: &dyn Fn(&ListenerInfo) -> f64| -> Vec<(String, f64)> {
        list.iter().map(|l| (listener_labels(l), f(l))).collect()
    };
    t.family(
        "mq_listener_connections",
        Kind::Gauge,
        "Connections open now, per listener.",
        &per(&|l| l.stats.connections.load(Ordering::Relaxed) as f64),
    );
    t.family(
        "mq_listener_connections_accepted_total",
        Kind::Counter,
        "Connections accepted, per listener.",
        &per(&|l| l.stats.accepted.load(Ordering::Relaxed) as f64),
    );
    t.family(
        "mq_listener_connections_refused_total",
        Kind::Counter,
        "Connections refused by max_connections, per listener.",
        &per(&|l| l.stats.refused.load(Ordering::Relaxed) as f64),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_and_labels_follow_the_text_format() {
        let mut t = Text::default();
        t.family(
            "mq_x_total",
            Kind::Counter,
            "A \\ help\nline.",
            &[(labels(&[("a", "q\"\\\n")]), 2.0)],
        );
        assert_eq!(
            t.0,
            "# HELP mq_x_total A \\\\ help\\nline.\n# TYPE mq_x_total counter\n\
             mq_x_total{a=\"q\\\"\\\\\\n\"} 2\n"
        );
        t.0.clear();
        t.one("mq_y_seconds", Kind::Gauge, "Y.", 1.5);
        assert!(t.0.ends_with("mq_y_seconds 1.5\n"), "{}", t.0);
    }
}
