//! Keep alive (MQTT 3.1.1 section 3.1.2.10, 5.0 section 3.1.2.10): a client that has sent
//! nothing for its keep-alive interval sends PINGREQ, and gives the connection up when the
//! PINGRESP does not come within another interval; a server closes a connection silent for one
//! and a half times the interval. Time is passed in, so this is tested without clocks.

use std::time::{Duration, Instant};

/// How long a server waits for a packet from a client with keep alive `secs` before closing
/// the connection: one and a half times the interval ([MQTT-3.1.2-24]); `None` for 0 (off).
pub fn server_grace(secs: u16) -> Option<Duration> {
    (secs > 0).then(|| Duration::from_millis(u64::from(secs) * 1500))
}

/// What is due at a client's keep-alive deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Due {
    /// Send PINGREQ now.
    Ping,
    /// The PINGRESP to the last PINGREQ never came: the connection is dead.
    Expired,
}

/// A client's side of keep alive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeepAlive {
    interval: Option<Duration>,
    last_sent: Instant,
    ping_sent: Option<Instant>,
}

impl KeepAlive {
    /// Keep alive of `secs` seconds (0: off), counted from `now`.
    pub fn new(secs: u16, now: Instant) -> KeepAlive {
        KeepAlive {
            interval: (secs > 0).then(|| Duration::from_secs(u64::from(secs))),
            last_sent: now,
            ping_sent: None,
        }
    }

    /// When something is next due; `None` with keep alive off.
    pub fn deadline(&self) -> Option<Instant> {
        let every = self.interval?;
        Some(self.ping_sent.unwrap_or(self.last_sent) + every)
    }

    /// Something was written to the broker at `now`.
    pub fn sent(&mut self, now: Instant) {
        self.last_sent = now;
    }

    /// The deadline passed at `now`: what to do about it.
    pub fn due(&mut self, now: Instant) -> Due {
        if self.ping_sent.is_some() {
            return Due::Expired;
        }
        self.ping_sent = Some(now);
        Due::Ping
    }

    /// PINGRESP arrived.
    pub fn pong(&mut self) {
        self.ping_sent = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_after_an_idle_interval_then_expire_without_pong() {
        let t0 = Instant::now();
        let mut k = KeepAlive::new(10, t0);
        assert_eq!(k.deadline(), Some(t0 + Duration::from_secs(10)));
        k.sent(t0 + Duration::from_secs(4));
        assert_eq!(k.deadline(), Some(t0 + Duration::from_secs(14)));
        let t1 = t0 + Duration::from_secs(14);
        assert_eq!(k.due(t1), Due::Ping);
        assert_eq!(k.deadline(), Some(t1 + Duration::from_secs(10)));
        assert_eq!(k.due(t1 + Duration::from_secs(10)), Due::Expired);
        k.pong();
        assert_eq!(k.due(t1), Due::Ping);
    }

    #[test]
    fn zero_is_off_and_the_server_waits_one_and_a_half_intervals() {
        assert_eq!(KeepAlive::new(0, Instant::now()).deadline(), None);
        assert_eq!(server_grace(0), None);
        assert_eq!(server_grace(60), Some(Duration::from_secs(90)));
    }
}
