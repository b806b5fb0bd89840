//! Incoming QoS 2 publications between PUBLISH and PUBREL: their identifiers are remembered so
//! that a PUBLISH sent again before PUBREL (its PUBREC was lost) is acknowledged but not passed
//! on twice ([MQTT-4.3.3-2] in 3.1.1, 4.3.3 in 5.0). Broker sessions and the client share it.

use crate::protocol::PacketId;
use std::collections::BTreeSet;

/// The identifiers of incoming QoS 2 publications awaiting PUBREL. Boxed, and only while
/// there are any: most sessions never receive QoS 2 and each would carry an empty set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Inbound {
    #[allow(clippy::box_collection)] // One pointer wide, where a set is three.
    awaiting_release: Option<Box<BTreeSet<PacketId>>>,
}

impl Inbound {
    /// A QoS 2 PUBLISH arrived: true when it is new and must be delivered, false for a resend
    /// of one delivered and not yet released.
    pub fn publish(&mut self, id: PacketId) -> bool {
        self.awaiting_release
            .get_or_insert_with(Box::default)
            .insert(id)
    }

    /// PUBREL arrived: forgets `id`; false when it was not known (v5 answers PUBCOMP with
    /// "packet identifier not found" then, 3.1.1 simply completes).
    pub fn release(&mut self, id: PacketId) -> bool {
        let Some(set) = &mut self.awaiting_release else {
            return false;
        };
        let known = set.remove(&id);
        if set.is_empty() {
            self.awaiting_release = None;
        }
        known
    }

    /// Publications awaiting PUBREL, not counting `id` itself (a resend takes no new slot of
    /// the Receive Maximum).
    pub fn count_besides(&self, id: PacketId) -> usize {
        self.awaiting_release
            .as_ref()
            .map_or(0, |s| s.len() - usize::from(s.contains(&id)))
    }

    /// The identifiers awaiting PUBREL, for the store.
    pub fn ids(&self) -> impl Iterator<Item = PacketId> + '_ {
        self.awaiting_release.iter().flat_map(|s| s.iter().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resend_before_pubrel_is_not_new() {
        let mut i = Inbound::default();
        let id = PacketId::new(5).unwrap();
        assert!(i.publish(id));
        assert!(!i.publish(id), "resent PUBLISH before PUBREL");
        assert_eq!(i.count_besides(id), 0);
        assert!(i.release(id));
        assert!(!i.release(id));
        assert!(i.publish(id), "a new message may reuse the id");
    }
}
