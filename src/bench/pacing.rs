//! Pacing: open-loop schedules for publishers and connections. (The closed-loop window of
//! outstanding QoS 1/2 messages is the shared [`crate::session::Outbound`].)
//!
//! Open loop means message `n` is due at `start + phase + n * interval` whatever happened to
//! message `n - 1`: a slow broker makes us late, and late messages go out at once, so the offered
//! load stays the requested one. The window caps what is outstanding, so that a saturated broker
//! shows up as a lower acknowledged rate instead of growing socket buffers.

use std::time::{Duration, Instant};

/// How often one publisher sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pace {
    /// One message per interval.
    Every(Duration),
    /// As fast as the inflight window allows.
    Unpaced,
}

impl Pace {
    /// The per-publisher interval giving `total` messages per second over `publishers`.
    pub fn from_total_rate(total: f64, publishers: u32) -> Pace {
        let secs = f64::from(publishers.max(1)) / total;
        match Duration::try_from_secs_f64(secs) {
            Ok(d) if !d.is_zero() => Pace::Every(d),
            _ => Pace::Unpaced,
        }
    }
}

/// The open-loop schedule of one sender.
#[derive(Clone, Debug)]
pub struct Schedule {
    start: Instant,
    interval: Duration,
    next: u64,
}

impl Schedule {
    /// A schedule starting at `start`, shifted by `phase` so that many senders spread over one
    /// interval rather than firing together.
    pub fn new(start: Instant, interval: Duration, phase: Duration) -> Schedule {
        Schedule {
            start: start + phase,
            interval,
            next: 0,
        }
    }

    /// The phase of sender `index` of `count`: evenly spread over one interval.
    pub fn phase(interval: Duration, index: u32, count: u32) -> Duration {
        let count = count.max(1);
        interval.mul_f64(f64::from(index % count) / f64::from(count))
    }

    /// When the `n`th event (from 0) is due.
    pub fn due(&self, n: u64) -> Instant {
        let nanos = self.interval.as_nanos().saturating_mul(u128::from(n));
        let offset = Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX));
        self.start + offset
    }

    /// When the next event is due.
    pub fn next_due(&self) -> Instant {
        self.due(self.next)
    }

    /// Records that the next event happened and moves on; missed slots are not skipped.
    pub fn advance(&mut self) {
        self.next += 1;
    }

    /// Events that should have happened by `now` but have not.
    pub fn behind(&self, now: Instant) -> u64 {
        if now < self.start {
            return 0;
        }
        let elapsed = (now - self.start).as_nanos();
        let interval = self.interval.as_nanos().max(1);
        let due = u64::try_from(elapsed / interval + 1).unwrap_or(u64::MAX);
        due.saturating_sub(self.next)
    }
}

/// Whether a run held its target: at least 95% of the messages the schedule asked for went out.
pub fn held_rate(target_per_s: f64, elapsed: Duration, sent: u64) -> bool {
    let expected = target_per_s * elapsed.as_secs_f64();
    expected <= 0.0 || (sent as f64) >= 0.95 * expected
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_rate_divides_over_publishers() {
        assert_eq!(
            Pace::from_total_rate(1000.0, 10),
            Pace::Every(Duration::from_millis(10))
        );
        assert_eq!(Pace::from_total_rate(1e30, 1), Pace::Unpaced);
    }

    #[test]
    fn schedule_is_open_loop_and_phased() {
        let t0 = Instant::now();
        let iv = Duration::from_millis(100);
        let phase = Schedule::phase(iv, 1, 4);
        assert_eq!(phase, Duration::from_millis(25));
        let mut s = Schedule::new(t0, iv, phase);
        assert_eq!(s.next_due(), t0 + Duration::from_millis(25));
        // Late by three slots: the missed ones are still due, not skipped.
        let now = t0 + Duration::from_millis(25 + 250);
        assert_eq!(s.behind(now), 3);
        s.advance();
        s.advance();
        assert_eq!(s.next_due(), t0 + Duration::from_millis(225));
        assert_eq!(s.behind(now), 1);
        assert_eq!(s.behind(t0), 0);
    }

    #[test]
    fn held_rate_needs_95_percent() {
        let d = Duration::from_secs(10);
        assert!(held_rate(100.0, d, 960));
        assert!(!held_rate(100.0, d, 900));
        assert!(held_rate(0.0, d, 0));
    }
}
