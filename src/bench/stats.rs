//! Counters shared by every client task, failure causes, and the latency histograms.
//!
//! Counters are relaxed atomics: each is a tally read once a second, so no ordering between
//! them is needed. Histograms sit behind a mutex held for one `record`.

use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Why a connection failed or was lost.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cause {
    /// TCP connection refused.
    Refused,
    /// No TCP connection or CONNACK/SUBACK within the timeout.
    Timeout,
    /// Reset by the peer.
    Reset,
    /// Closed by the peer.
    Closed,
    /// CONNACK with this (v5 or 3.x) code.
    ConnAck(u8),
    /// SUBACK refusing the subscription.
    SubAckRefused,
    /// DISCONNECT from the server with this reason code.
    Disconnected(u8),
    /// The peer sent something that does not decode.
    Protocol,
    /// TLS failed (handshake, certificate, record).
    Tls(String),
    /// The WebSocket upgrade was answered with this HTTP status instead of 101.
    WebSocket(u16),
    /// Any other I/O error, by kind.
    Io(String),
}

impl Cause {
    /// Classifies an I/O error.
    pub fn of_io(e: &io::Error) -> Cause {
        match e.kind() {
            io::ErrorKind::ConnectionRefused => Cause::Refused,
            io::ErrorKind::TimedOut => Cause::Timeout,
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe => Cause::Reset,
            io::ErrorKind::UnexpectedEof => Cause::Closed,
            _ => Cause::Io(e.to_string()),
        }
    }

    /// The key under which reports count this cause.
    pub fn key(&self) -> String {
        match self {
            Cause::Refused => "refused".into(),
            Cause::Timeout => "timeout".into(),
            Cause::Reset => "reset".into(),
            Cause::Closed => "closed".into(),
            Cause::ConnAck(c) => format!("connack_{c}"),
            Cause::SubAckRefused => "suback_refused".into(),
            Cause::Disconnected(c) => format!("disconnect_{c}"),
            Cause::Protocol => "protocol_error".into(),
            Cause::Tls(_) => "tls".into(),
            Cause::WebSocket(status) => format!("websocket_http_{status}"),
            Cause::Io(s) => format!("io: {s}"),
        }
    }
}

/// Latency percentiles in microseconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Percentiles {
    /// Samples recorded.
    pub count: u64,
    /// Smallest.
    pub min: u64,
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Largest.
    pub max: u64,
}

/// An HDR histogram of microseconds from 1 µs to one hour, three significant digits.
#[derive(Debug)]
pub struct Latency(Mutex<Histogram<u64>>);

impl Default for Latency {
    fn default() -> Self {
        Self::new()
    }
}

impl Latency {
    /// An empty histogram.
    pub fn new() -> Latency {
        // Constant, valid bounds: low >= 1, high >= 2 * low, 3 significant figures.
        let h = Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds");
        Latency(Mutex::new(h))
    }

    /// Records one sample; out-of-range samples are clamped.
    pub fn record(&self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1);
        self.lock().saturating_record(us);
    }

    /// The percentiles so far.
    pub fn percentiles(&self) -> Percentiles {
        Percentiles::of(&self.lock())
    }

    /// A copy of the histogram so far (for the percentile distribution file).
    pub fn snapshot(&self) -> Histogram<u64> {
        self.lock().clone()
    }

    /// The histogram; a recorder that panicked mid-record left it whole, so poisoning is moot.
    fn lock(&self) -> std::sync::MutexGuard<'_, Histogram<u64>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Percentiles {
    /// The percentiles of `h` (all zero when it is empty).
    pub fn of(h: &Histogram<u64>) -> Percentiles {
        if h.is_empty() {
            return Percentiles::default();
        }
        Percentiles {
            count: h.len(),
            min: h.min(),
            mean: (h.mean() * 10.0).round() / 10.0,
            p50: h.value_at_quantile(0.50),
            p90: h.value_at_quantile(0.90),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
        }
    }
}

/// The samples a [`Latency`] gained between two calls of [`Interval::next`]: the per-second
/// percentiles, from a copy of the whole histogram each second rather than a second histogram
/// on every record.
#[derive(Debug, Default)]
pub struct Interval {
    mark: Option<Histogram<u64>>,
}

impl Interval {
    /// The percentiles of what `latency` recorded since the previous call.
    pub fn next(&mut self, latency: &Latency) -> Percentiles {
        let now = latency.snapshot();
        let mut gained = now.clone();
        if let Some(mark) = &self.mark {
            // Same bounds and precision on both sides, and counts only grow: cannot fail.
            let _ = gained.subtract(mark);
        }
        self.mark = Some(now);
        Percentiles::of(&gained)
    }
}

/// Everything the clients count.
#[derive(Debug, Default)]
pub struct Stats {
    /// Clients connected right now.
    pub connected: AtomicU64,
    /// Successful connects so far.
    pub connects: AtomicU64,
    /// Failed connection attempts so far.
    pub failed: AtomicU64,
    /// Connections lost after CONNACK.
    pub dropped: AtomicU64,
    /// Subscriptions acknowledged.
    pub subscribed: AtomicU64,
    /// PUBLISH packets written.
    pub sent: AtomicU64,
    /// PUBACK/PUBCOMP received.
    pub acked: AtomicU64,
    /// PUBLISH packets received by subscribers.
    pub received: AtomicU64,
    /// PUBLISH packets received by slow subscribers (`--slow-subscribers`), not in `received`.
    pub slow_received: AtomicU64,
    /// Bytes slow subscribers read from their sockets.
    pub slow_bytes: AtomicU64,
    /// Connect failures by cause.
    pub failures: Mutex<BTreeMap<String, u64>>,
    /// Drops by cause.
    pub drops: Mutex<BTreeMap<String, u64>>,
    /// From TCP connect to CONNACK.
    pub connect_latency: Latency,
    /// From the timestamp in the payload to its arrival at a subscriber.
    pub latency: Latency,
    /// From a QoS 1/2 publication's due time to its PUBACK or PUBCOMP.
    pub ack_latency: Latency,
}

/// A moment's copy of the counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Snapshot {
    /// Clients connected right now.
    pub connected: u64,
    /// Successful connects so far.
    pub connects: u64,
    /// Failed connection attempts.
    pub failed: u64,
    /// Connections lost after CONNACK.
    pub dropped: u64,
    /// PUBLISH packets written.
    pub sent: u64,
    /// Acknowledgements received.
    pub acked: u64,
    /// PUBLISH packets received.
    pub received: u64,
}

/// Per-second rates between two snapshots.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Rates {
    /// Successful connects per second.
    pub connects_per_s: f64,
    /// Messages sent per second.
    pub sent_per_s: f64,
    /// Acknowledgements per second.
    pub acked_per_s: f64,
    /// Messages received per second.
    pub received_per_s: f64,
}

impl Rates {
    /// Rates from `prev` to `cur`, `elapsed` apart.
    pub fn between(prev: &Snapshot, cur: &Snapshot, elapsed: Duration) -> Rates {
        let secs = elapsed.as_secs_f64();
        let rate = |a: u64, b: u64| {
            if secs <= 0.0 {
                0.0
            } else {
                (b.saturating_sub(a) as f64 / secs * 10.0).round() / 10.0
            }
        };
        Rates {
            connects_per_s: rate(prev.connects, cur.connects),
            sent_per_s: rate(prev.sent, cur.sent),
            acked_per_s: rate(prev.acked, cur.acked),
            received_per_s: rate(prev.received, cur.received),
        }
    }
}

impl Stats {
    /// Counts a failed connection attempt.
    pub fn fail(&self, cause: &Cause) {
        self.failed.fetch_add(1, Relaxed);
        bump(&self.failures, cause);
    }

    /// Counts a connection lost after it was established.
    pub fn drop_conn(&self, cause: &Cause) {
        self.dropped.fetch_add(1, Relaxed);
        self.connected.fetch_sub(1, Relaxed);
        bump(&self.drops, cause);
    }

    /// Counts a successful connect that took `took`.
    pub fn connect(&self, took: Duration) {
        self.connects.fetch_add(1, Relaxed);
        self.connected.fetch_add(1, Relaxed);
        self.connect_latency.record(took);
    }

    /// The counters now.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            connected: self.connected.load(Relaxed),
            connects: self.connects.load(Relaxed),
            failed: self.failed.load(Relaxed),
            dropped: self.dropped.load(Relaxed),
            sent: self.sent.load(Relaxed),
            acked: self.acked.load(Relaxed),
            received: self.received.load(Relaxed),
        }
    }

    /// Failures by cause.
    pub fn failures(&self) -> BTreeMap<String, u64> {
        self.failures.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// Drops by cause.
    pub fn drops(&self) -> BTreeMap<String, u64> {
        self.drops.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

fn bump(map: &Mutex<BTreeMap<String, u64>>, cause: &Cause) {
    if let Ok(mut m) = map.lock() {
        *m.entry(cause.key()).or_insert(0) += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_distribution() {
        let l = Latency::new();
        for us in 1..=1000u64 {
            l.record(Duration::from_micros(us));
        }
        let p = l.percentiles();
        assert_eq!(p.count, 1000);
        assert_eq!(p.min, 1);
        assert_eq!(p.max, 1000);
        assert_eq!(p.p50, 500);
        assert_eq!(p.p90, 900);
        assert_eq!(p.p99, 990);
        assert_eq!(p.p999, 999);
        assert!((p.mean - 500.5).abs() < 1.0);
    }

    #[test]
    fn intervals_hold_only_what_came_since_the_last_one() {
        let l = Latency::new();
        let mut i = Interval::default();
        for us in [100, 200, 300] {
            l.record(Duration::from_micros(us));
        }
        let first = i.next(&l);
        assert_eq!((first.count, first.max), (3, 300));
        assert_eq!(i.next(&l).count, 0, "nothing new");
        l.record(Duration::from_micros(1500));
        let third = i.next(&l);
        assert_eq!((third.count, third.min, third.max), (1, 1500, 1500));
        assert_eq!(l.percentiles().count, 4);
    }

    #[test]
    fn empty_histogram_reports_zeros() {
        assert_eq!(Latency::new().percentiles(), Percentiles::default());
    }

    #[test]
    fn failures_and_drops_are_counted_by_cause() {
        let s = Stats::default();
        s.fail(&Cause::Refused);
        s.fail(&Cause::Refused);
        s.fail(&Cause::ConnAck(5));
        s.connect(Duration::from_millis(2));
        s.connect(Duration::from_millis(4));
        s.drop_conn(&Cause::of_io(&io::Error::from(
            io::ErrorKind::ConnectionReset,
        )));
        let snap = s.snapshot();
        assert_eq!((snap.connected, snap.failed, snap.dropped), (1, 3, 1));
        let f = s.failures();
        assert_eq!(f.get("refused"), Some(&2));
        assert_eq!(f.get("connack_5"), Some(&1));
        assert_eq!(s.drops().get("reset"), Some(&1));
        assert_eq!(s.connect_latency.percentiles().count, 2);
    }

    #[test]
    fn rates_between_snapshots() {
        let a = Snapshot {
            sent: 100,
            acked: 50,
            received: 0,
            ..Snapshot::default()
        };
        let b = Snapshot {
            sent: 300,
            acked: 250,
            received: 1000,
            ..Snapshot::default()
        };
        let r = Rates::between(&a, &b, Duration::from_millis(500));
        assert_eq!(r.sent_per_s, 400.0);
        assert_eq!(r.acked_per_s, 400.0);
        assert_eq!(r.received_per_s, 2000.0);
        assert_eq!(Rates::between(&a, &b, Duration::ZERO).sent_per_s, 0.0);
    }
}
