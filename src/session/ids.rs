//! Packet identifiers for QoS 1/2 PUBLISH, SUBSCRIBE and UNSUBSCRIBE ([MQTT-2.2.1-2] in
//! 3.1.1, 2.2.1 in 5.0): non-zero, and not reused while the exchange that took one is open.

use crate::protocol::PacketId;

/// Hands out packet identifiers in turn, 1 to 65535 and round again, skipping those in use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PacketIds {
    last: u16,
}

impl PacketIds {
    /// Starts after `last` (tests use it to reach the wrap-around).
    pub fn starting_after(last: u16) -> PacketIds {
        PacketIds { last }
    }

    /// The next identifier for which `in_use` is false; `None` when all 65535 are taken.
    pub fn next(&mut self, in_use: impl Fn(PacketId) -> bool) -> Option<PacketId> {
        // 65536 steps: every identifier once, plus the zero that is skipped on the way round.
        for _ in 0..=u16::MAX {
            self.last = self.last.wrapping_add(1);
            if let Some(id) = PacketId::new(self.last)
                && !in_use(id)
            {
                return Some(id);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_ids_skip_zero_and_ids_in_use() {
        let mut ids = PacketIds::starting_after(u16::MAX - 1);
        assert_eq!(ids.next(|_| false).map(|p| p.get()), Some(u16::MAX));
        assert_eq!(ids.next(|_| false).map(|p| p.get()), Some(1));
        assert_eq!(
            ids.next(|id| id.get() == 2 || id.get() == 3)
                .map(|p| p.get()),
            Some(4)
        );
        assert_eq!(ids.next(|_| true), None);
    }
}
