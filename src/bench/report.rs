//! What a run reports: the per-second line (plain or JSON) and the final summary (a human table
//! or one JSON object).

use super::stats::{Percentiles, Rates, Snapshot};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One second of a run.
#[derive(Clone, Debug, Serialize)]
pub struct Tick {
    /// Seconds since the run started.
    pub t: f64,
    /// `connecting` or `running`.
    pub phase: &'static str,
    /// Counters.
    #[serde(flatten)]
    pub counts: Snapshot,
    /// Rates over the last second.
    #[serde(flatten)]
    pub rates: Rates,
    /// End-to-end latency of the messages received over the last second, microseconds.
    pub latency_us: Percentiles,
    /// Acknowledgement latency of the QoS 1/2 messages acknowledged over the last second.
    pub ack_latency_us: Percentiles,
}

impl Tick {
    /// The line printed when output is not a terminal; `conn_only` for a `conn` run, which
    /// has no messages.
    pub fn plain(&self, conn_only: bool) -> String {
        if conn_only {
            return format!(
                "{:6.1}s {:<10} conn {} fail {} drop {} | {} connects/s",
                self.t,
                self.phase,
                self.counts.connected,
                self.counts.failed,
                self.counts.dropped,
                self.rates.connects_per_s,
            );
        }
        format!(
            "{:6.1}s {:<10} conn {} fail {} drop {} | sent {} ({}/s) acked {} ({}/s) recv {} ({}/s)",
            self.t,
            self.phase,
            self.counts.connected,
            self.counts.failed,
            self.counts.dropped,
            self.counts.sent,
            self.rates.sent_per_s,
            self.counts.acked,
            self.rates.acked_per_s,
            self.counts.received,
            self.rates.received_per_s,
        )
    }

    /// The line printed under `--json-every-second`.
    pub fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Connection outcome of a run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Connections {
    /// Clients the plan asked for.
    pub requested: u64,
    /// Clients that got a CONNACK (and SUBACK).
    pub connected: u64,
    /// Still connected at the end.
    pub held: u64,
    /// Seconds until every client had connected or failed.
    pub connect_time_s: f64,
    /// Failed attempts by cause.
    pub failures: BTreeMap<String, u64>,
    /// Connections lost mid-run by cause.
    pub drops: BTreeMap<String, u64>,
    /// TCP connect to CONNACK, microseconds.
    pub latency_us: Percentiles,
}

/// Message outcome of a run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Messages {
    /// Payload size in bytes.
    pub size: usize,
    /// QoS.
    pub qos: u8,
    /// Requested total publish rate, messages per second (`None`: unpaced).
    pub target_rate: Option<f64>,
    /// Whether at least 95% of the scheduled messages went out.
    pub rate_held: bool,
    /// PUBLISH packets written.
    pub sent: u64,
    /// Acknowledgements received.
    pub acked: u64,
    /// PUBLISH packets received.
    pub received: u64,
    /// Deliveries owed to this process's subscribers (pubsub), from the topic matches.
    pub expected: u64,
    /// Owed deliveries that never arrived.
    pub lost: u64,
    /// Sent per second over the measured period.
    pub sent_per_s: f64,
    /// Acked per second.
    pub acked_per_s: f64,
    /// Received per second.
    pub received_per_s: f64,
    /// End-to-end latency in microseconds, from the timestamp in the payload.
    pub latency_us: Percentiles,
    /// QoS 1/2: from each message's due time to its PUBACK (QoS 1) or PUBCOMP (QoS 2),
    /// microseconds.
    pub ack_latency_us: Percentiles,
    /// Latency is meaningful only if the run held its target rate and samples exist.
    pub latency_valid: bool,
    /// What the slow subscribers got (`--slow-subscribers`), apart from the figures above.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slow: Option<SlowSubscribers>,
}

/// The slow subscribers' share of a run: what they received while publishers ran.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SlowSubscribers {
    /// Slow subscribers.
    pub subscribers: u32,
    /// Bytes per second each one reads.
    pub read_rate: u64,
    /// PUBLISH packets they received during the measured period.
    pub received: u64,
    /// Those per second, over all slow subscribers.
    pub received_per_s: f64,
    /// Bytes they read per second during the measured period, over all slow subscribers.
    pub bytes_per_s: f64,
}

/// Memory of the generator itself (this process, not the broker).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Memory {
    /// VmRSS before connecting, bytes.
    pub rss_start: u64,
    /// VmRSS once every client was connected, bytes.
    pub rss_connected: u64,
    /// The difference divided by the connected clients, bytes.
    pub per_connection: u64,
}

/// The summary of a run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    /// Scenario name.
    pub scenario: String,
    /// `host:port`.
    pub broker: String,
    /// Ended by Ctrl-C before its bound.
    pub interrupted: bool,
    /// Seconds of the measured phase (after connecting).
    pub duration_s: f64,
    /// Connections.
    pub connections: Connections,
    /// Messages.
    pub messages: Messages,
    /// Generator memory.
    pub memory: Memory,
}

impl Summary {
    /// Pretty JSON for `--json`.
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Compact JSON on one line, closing a `--json-every-second` stream.
    pub fn json_line(&self) -> String {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(obj) = v.as_object_mut() {
            obj.insert("phase".into(), "summary".into());
        }
        v.to_string()
    }

    /// The human table.
    pub fn table(&self, with_messages: bool) -> String {
        let c = &self.connections;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "mq bench {} against {}{}",
            self.scenario,
            self.broker,
            if self.interrupted {
                " (interrupted)"
            } else {
                ""
            }
        );
        let _ = writeln!(
            s,
            "  connections   {} of {} connected, {} held at the end, in {:.2} s",
            c.connected, c.requested, c.held, c.connect_time_s
        );
        let _ = writeln!(s, "  connect time  {}", fmt_percentiles(&c.latency_us));
        write_causes(&mut s, "  failures     ", &c.failures);
        write_causes(&mut s, "  dropped      ", &c.drops);
        let m = &self.memory;
        let _ = writeln!(
            s,
            "  mq bench RSS  {:.1} MiB resident in this load generator (not the broker), {} bytes per connection",
            m.rss_connected as f64 / 1048576.0,
            m.per_connection
        );
        if with_messages {
            self.write_messages(&mut s);
        }
        s
    }

    fn write_messages(&self, s: &mut String) {
        let m = &self.messages;
        let target = m
            .target_rate
            .map_or("unpaced".to_string(), |r| format!("{r:.0} msg/s"));
        let _ = writeln!(
            s,
            "  measured      {:.2} s, qos {}, {} B payloads, target {target}{}",
            self.duration_s,
            m.qos,
            m.size,
            if m.target_rate.is_some() && !m.rate_held {
                " (NOT held)"
            } else {
                ""
            }
        );
        let _ = writeln!(s, "  sent          {} ({:.1}/s)", m.sent, m.sent_per_s);
        if m.qos > 0 {
            let _ = writeln!(s, "  acked         {} ({:.1}/s)", m.acked, m.acked_per_s);
        }
        let _ = writeln!(
            s,
            "  received      {} ({:.1}/s)",
            m.received, m.received_per_s
        );
        if let Some(w) = &m.slow {
            let _ = writeln!(
                s,
                "  slow subs     {} at {} B/s: received {} ({:.1}/s, {:.0} B/s)",
                w.subscribers, w.read_rate, w.received, w.received_per_s, w.bytes_per_s
            );
        }
        let note = if m.latency_valid {
            ""
        } else {
            " (target rate not held: not meaningful)"
        };
        if m.latency_us.count > 0 {
            let _ = writeln!(
                s,
                "  latency       {}{note}",
                fmt_percentiles(&m.latency_us)
            );
        }
        if m.ack_latency_us.count > 0 {
            let _ = writeln!(
                s,
                "  ack latency   {}{note}",
                fmt_percentiles(&m.ack_latency_us)
            );
        }
    }
}

fn write_causes(s: &mut String, label: &str, causes: &BTreeMap<String, u64>) {
    if causes.is_empty() {
        return;
    }
    let list: Vec<String> = causes.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let _ = writeln!(s, "{label} {}", list.join(", "));
}

/// `p50 1.2 ms, p90 ..., max ...` from microseconds.
pub fn fmt_percentiles(p: &Percentiles) -> String {
    if p.count == 0 {
        return "no samples".into();
    }
    format!(
        "p50 {} p90 {} p99 {} p99.9 {} max {} ({} samples)",
        fmt_us(p.p50),
        fmt_us(p.p90),
        fmt_us(p.p99),
        fmt_us(p.p999),
        fmt_us(p.max),
        p.count
    )
}

fn fmt_us(us: u64) -> String {
    match us {
        0..1_000 => format!("{us} µs"),
        1_000..1_000_000 => format!("{:.2} ms", us as f64 / 1e3),
        _ => format!("{:.2} s", us as f64 / 1e6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn summary() -> Summary {
        let mut failures = BTreeMap::new();
        failures.insert("refused".to_string(), 3);
        Summary {
            scenario: "pubsub".into(),
            broker: "127.0.0.1:1883".into(),
            duration_s: 2.0,
            connections: Connections {
                requested: 10,
                connected: 7,
                held: 7,
                failures,
                ..Connections::default()
            },
            messages: Messages {
                qos: 1,
                sent: 2000,
                acked: 1990,
                received: 2000,
                latency_us: Percentiles {
                    count: 2000,
                    p50: 850,
                    p99: 1500,
                    max: 2_500_000,
                    ..Percentiles::default()
                },
                target_rate: Some(1000.0),
                rate_held: true,
                latency_valid: true,
                ..Messages::default()
            },
            ..Summary::default()
        }
    }

    #[test]
    fn summary_json_has_the_documented_shape() {
        let v: Value = serde_json::from_str(&summary().json()).unwrap();
        assert_eq!(v["scenario"], "pubsub");
        assert_eq!(v["interrupted"], false);
        assert_eq!(v["connections"]["requested"], 10);
        assert_eq!(v["connections"]["failures"]["refused"], 3);
        assert_eq!(v["messages"]["latency_us"]["p99"], 1500);
        assert_eq!(v["messages"]["target_rate"], 1000.0);
        assert_eq!(v["messages"]["rate_held"], true);
        assert!(v["memory"]["per_connection"].is_u64());
        let line = summary().json_line();
        assert!(!line.contains('\n'));
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["phase"], "summary");
        assert_eq!(v["messages"]["sent"], 2000);
    }

    #[test]
    fn tick_json_is_one_flat_line() {
        let t = Tick {
            t: 1.0,
            phase: "running",
            counts: Snapshot {
                connected: 5,
                sent: 10,
                ..Snapshot::default()
            },
            rates: Rates {
                sent_per_s: 10.0,
                connects_per_s: 3.0,
                ..Rates::default()
            },
            latency_us: Percentiles {
                count: 4,
                p99: 900,
                ..Percentiles::default()
            },
            ack_latency_us: Percentiles::default(),
        };
        let line = t.json();
        assert!(!line.contains('\n'));
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["connected"], 5);
        assert_eq!(v["sent_per_s"], 10.0);
        assert_eq!(v["phase"], "running");
        assert_eq!(v["latency_us"]["p99"], 900);
        assert!(t.plain(false).contains("conn 5"));
        assert!(t.plain(false).contains("sent 10"));
        let conn = t.plain(true);
        assert!(
            conn.contains("conn 5") && conn.contains("3 connects/s"),
            "{conn}"
        );
        assert!(!conn.contains("sent") && !conn.contains("recv"), "{conn}");
    }

    #[test]
    fn table_names_failures_and_flags_unheld_rates() {
        let mut s = summary();
        let table = s.table(true);
        assert!(table.contains("7 of 10 connected"), "{table}");
        assert!(table.contains("refused 3"), "{table}");
        assert!(table.contains("p50 850 µs"), "{table}");
        assert!(table.contains("max 2.50 s"), "{table}");
        s.messages.rate_held = false;
        s.messages.latency_valid = false;
        let table = s.table(true);
        assert!(table.contains("NOT held"), "{table}");
        assert!(table.contains("not meaningful"), "{table}");
        assert!(!s.table(false).contains("received"));
        assert!(
            s.table(false)
                .contains("this load generator (not the broker)")
        );
        assert!(!table.contains("ack latency"), "no ack samples, no line");
        s.messages.ack_latency_us.count = 3;
        assert!(s.table(true).contains("ack latency"));
    }
}
