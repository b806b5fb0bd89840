//! How long a bridge waits before reconnecting (`restart_timeout`).
//!
//! With a base and a cap it is mosquitto's "decorrelated jitter" (after the AWS architecture
//! blog's *Exponential Backoff And Jitter*): each wait is drawn between the base and three
//! times the previous wait, and never exceeds the cap, so a fleet of edge brokers that lost
//! their hub at the same moment does not come back at the same moment. A connection that
//! succeeds starts the sequence again from the base.

use super::config::Restart;
use std::time::Duration;

/// The reconnection delays of one bridge.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    restart: Restart,
    /// The last wait, in seconds.
    last: u32,
}

impl Backoff {
    /// A fresh sequence.
    pub fn new(restart: Restart) -> Backoff {
        let last = match restart {
            Restart::Constant(s) => s,
            Restart::Jitter { base, .. } => base,
        };
        Backoff { restart, last }
    }

    /// The next wait, drawing with `draw(low, high)`: a number in `low..high`.
    pub fn next_with(&mut self, draw: impl FnOnce(u32, u32) -> u32) -> Duration {
        let secs = match self.restart {
            Restart::Constant(s) => s,
            Restart::Jitter { base, cap } => {
                let high = self.last.saturating_mul(3).max(base + 1);
                draw(base, high).clamp(base, cap)
            }
        };
        self.last = secs;
        Duration::from_secs(secs.into())
    }

    /// The next wait, at random.
    pub fn next_wait(&mut self) -> Duration {
        self.next_with(|low, high| rand::random_range(low..high))
    }

    /// A connection succeeded: the next wait starts from the base again.
    pub fn reset(&mut self) {
        *self = Backoff::new(self.restart);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_waits_never_change() {
        let mut b = Backoff::new(Restart::Constant(7));
        for _ in 0..3 {
            assert_eq!(b.next_wait(), Duration::from_secs(7));
        }
    }

    #[test]
    fn jitter_grows_within_base_and_cap_and_resets() {
        let mut b = Backoff::new(Restart::Jitter { base: 5, cap: 30 });
        // Always the highest draw: 5 -> 14 (below 15) -> capped at 30.
        let top = |_: u32, high: u32| high - 1;
        assert_eq!(b.next_with(top), Duration::from_secs(14));
        assert_eq!(b.next_with(top), Duration::from_secs(30));
        assert_eq!(b.next_with(top), Duration::from_secs(30));
        b.reset();
        assert_eq!(b.next_with(|low, _| low), Duration::from_secs(5));
        for _ in 0..100 {
            let d = b.next_wait().as_secs();
            assert!((5..=30).contains(&d), "{d}");
        }
        let mut tight = Backoff::new(Restart::Jitter { base: 1, cap: 1 });
        assert_eq!(tight.next_wait(), Duration::from_secs(1));
    }
}
