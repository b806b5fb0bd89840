//! Outgoing QoS 1 and 2 publications between PUBLISH and their last acknowledgement, in the
//! order they were sent, within an inflight window (MQTT 5.0 section 4.9 flow control; 3.1.1
//! section 4.3). Broker sessions, the client and bench publishers all keep theirs here, each
//! with its own payload per entry: a broker [`super::Delivery`], a client's reply channel.
//!
//! ```text
//!  QoS 1:  start ─PUBLISH─▶ Published ──PUBACK──▶ done
//!  QoS 2:  start ─PUBLISH─▶ Published ──PUBREC──▶ Released ─PUBREL─▶ ──PUBCOMP──▶ done
//!                                        (v5 PUBREC with an error reason ends it at once)
//! ```

use super::ids::PacketIds;
use super::lazy::Lazy;
use crate::protocol::{PacketId, QoS};
use std::collections::VecDeque;

/// Where an outgoing publication is in its handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// PUBLISH sent, awaiting PUBACK (QoS 1) or PUBREC (QoS 2). Resent with DUP on a new
    /// connection of the session.
    Published,
    /// PUBREC received and PUBREL sent, awaiting PUBCOMP. PUBREL is resent on a new connection.
    Released,
}

/// One entry of the window.
#[derive(Debug)]
struct Entry<T> {
    id: PacketId,
    qos: QoS,
    stage: Stage,
    value: T,
}

/// What a PUBREC did.
#[derive(Debug, PartialEq, Eq)]
pub enum PubRec<T> {
    /// The publication moved to [`Stage::Released`]: answer PUBREL.
    Release,
    /// A v5 PUBREC with an error reason: the publication ended unsent here, with its value.
    Refused(T),
    /// Not one of ours (or not at that stage, e.g. a PUBREC repeated after a reconnect): the
    /// caller still answers PUBREL, so that the peer can complete its side.
    Unknown,
}

/// The inflight window of one connection or session.
#[derive(Debug)]
pub struct Outbound<T> {
    /// Held only once something was in flight: an idle session's window takes one pointer.
    entries: Lazy<VecDeque<Entry<T>>>,
    ids: PacketIds,
    /// Most entries at once; 0 is no limit.
    window: u16,
}

impl<T> Default for Outbound<T> {
    fn default() -> Self {
        Outbound::new(0)
    }
}

impl<T> Outbound<T> {
    /// An empty window of `window` entries (0: unlimited).
    pub fn new(window: u16) -> Outbound<T> {
        Outbound {
            entries: Lazy::default(),
            ids: PacketIds::default(),
            window,
        }
    }

    /// The window: `ours` narrowed by the peer's Receive Maximum (0 means none on either side).
    pub fn set_window(&mut self, ours: u16, peer_receive_maximum: u16) {
        self.window = match (ours, peer_receive_maximum) {
            (0, r) | (r, 0) => r,
            (a, b) => a.min(b),
        };
    }

    /// Starts identifiers after `last` (tests use it to reach the wrap-around).
    pub fn set_last_id(&mut self, last: u16) {
        self.ids = PacketIds::starting_after(last);
    }

    /// Whether another publication may start now.
    pub fn has_room(&self) -> bool {
        self.window == 0 || self.entries.len() < usize::from(self.window)
    }

    /// Publications in flight.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is in flight.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether `id` is taken by a publication in flight.
    pub fn contains(&self, id: PacketId) -> bool {
        self.entries.iter().any(|e| e.id == id)
    }

    /// An identifier that is neither in flight here nor `taken` elsewhere (a client's pending
    /// SUBSCRIBE, say); `None` when none is free. Record the publication with
    /// [`Outbound::push`] once it is sent.
    pub fn next_id(&mut self, taken: impl Fn(PacketId) -> bool) -> Option<PacketId> {
        let entries = &self.entries;
        self.ids
            .next(|id| taken(id) || entries.iter().any(|e| e.id == id))
    }

    /// Records a QoS 1 or 2 publication sent with `id` (from [`Outbound::next_id`]).
    pub fn push(&mut self, id: PacketId, qos: QoS, value: T) {
        debug_assert!(qos != QoS::AtMostOnce, "QoS 0 has no handshake");
        self.entries.push_back(Entry {
            id,
            qos,
            stage: Stage::Published,
            value,
        });
    }

    /// [`Outbound::next_id`] and [`Outbound::push`] at once; gives `value` back when no
    /// identifier is free. The caller checks [`Outbound::has_room`] first where the window
    /// matters.
    pub fn start(
        &mut self,
        qos: QoS,
        value: T,
        taken: impl Fn(PacketId) -> bool,
    ) -> Result<PacketId, T> {
        match self.next_id(taken) {
            Some(id) => {
                self.push(id, qos, value);
                Ok(id)
            }
            None => Err(value),
        }
    }

    fn position(&self, id: PacketId) -> Option<usize> {
        self.entries.iter().position(|e| e.id == id)
    }

    fn remove(&mut self, pos: usize) -> Option<T> {
        self.entries.remove(pos).map(|e| e.value)
    }

    /// The QoS and stage of the publication in flight under `id`, if any.
    pub fn state_of(&self, id: PacketId) -> Option<(QoS, Stage)> {
        self.position(id)
            .map(|pos| (self.entries[pos].qos, self.entries[pos].stage))
    }

    /// PUBACK: completes a QoS 1 publication. A PUBACK for anything else is ignored.
    pub fn puback(&mut self, id: PacketId) -> Option<T> {
        let pos = self.position(id)?;
        let e = &self.entries[pos];
        if e.qos != QoS::AtLeastOnce || e.stage != Stage::Published {
            return None;
        }
        self.remove(pos)
    }

    /// PUBREC: a QoS 2 publication was received by the peer (or, with an error reason,
    /// refused by it).
    pub fn pubrec(&mut self, id: PacketId, refused: bool) -> PubRec<T> {
        let Some(pos) = self.position(id) else {
            return PubRec::Unknown;
        };
        let e = &mut self.entries[pos];
        if e.qos != QoS::ExactlyOnce || e.stage != Stage::Published {
            return PubRec::Unknown;
        }
        if refused {
            return match self.remove(pos) {
                Some(v) => PubRec::Refused(v),
                None => PubRec::Unknown,
            };
        }
        e.stage = Stage::Released;
        PubRec::Release
    }

    /// PUBCOMP: completes a released QoS 2 publication. Anything else is ignored.
    pub fn pubcomp(&mut self, id: PacketId) -> Option<T> {
        let pos = self.position(id)?;
        if self.entries[pos].stage != Stage::Released {
            return None;
        }
        self.remove(pos)
    }

    /// Removes and returns the publications for which `drop` says so (for example those
    /// whose message expired before a resend).
    pub fn remove_where(&mut self, drop: impl Fn(Stage, &T) -> bool) -> Vec<T> {
        let mut gone = Vec::new();
        if self.entries.is_empty() {
            return gone;
        }
        let mut kept = VecDeque::with_capacity(self.entries.len());
        for e in self.entries.drain(..) {
            if drop(e.stage, &e.value) {
                gone.push(e.value);
            } else {
                kept.push_back(e);
            }
        }
        self.entries = kept.into();
        gone
    }

    /// Every publication in flight, oldest first, for a resend on a new connection.
    pub fn iter(&self) -> impl Iterator<Item = (PacketId, Stage, &T)> + '_ {
        self.entries.iter().map(|e| (e.id, e.stage, &e.value))
    }

    /// Empties the window, oldest first (the connection ended for good).
    pub fn drain(&mut self) -> impl Iterator<Item = T> + '_ {
        self.entries.take().into_iter().map(|e| e.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u16) -> PacketId {
        PacketId::new(n).unwrap()
    }

    #[test]
    fn qos1_completes_on_puback_and_qos2_on_pubcomp_after_pubrec() {
        let mut o = Outbound::new(0);
        let a = o.start(QoS::AtLeastOnce, "a", |_| false).unwrap();
        let b = o.start(QoS::ExactlyOnce, "b", |_| false).unwrap();
        assert_eq!(o.puback(b), None, "PUBACK for a QoS 2 publication");
        assert_eq!(o.pubcomp(b), None, "PUBCOMP before PUBREC");
        assert_eq!(o.pubrec(b, false), PubRec::Release);
        assert_eq!(o.pubrec(b, false), PubRec::Unknown, "a second PUBREC");
        assert_eq!(o.puback(a), Some("a"));
        assert_eq!(o.pubcomp(b), Some("b"));
        assert!(o.is_empty());
    }

    #[test]
    fn a_refusing_pubrec_ends_the_publication() {
        let mut o = Outbound::new(0);
        let a = o.start(QoS::ExactlyOnce, 1, |_| false).unwrap();
        assert_eq!(o.pubrec(a, true), PubRec::Refused(1));
        assert_eq!(o.pubrec(id(9), false), PubRec::Unknown);
    }

    #[test]
    fn the_window_is_ours_narrowed_by_the_peers_receive_maximum() {
        let mut o = Outbound::new(0);
        o.set_window(20, 2);
        assert!(o.has_room());
        let _ = o.start(QoS::AtLeastOnce, (), |_| false);
        let _ = o.start(QoS::AtLeastOnce, (), |_| false);
        assert!(!o.has_room());
        o.set_window(0, 0);
        assert!(o.has_room(), "no limit on either side");
        o.set_window(0, 3);
        assert!(o.has_room());
    }

    #[test]
    fn identifiers_skip_those_in_flight_and_those_taken_elsewhere() {
        let mut o = Outbound::new(0);
        o.set_last_id(u16::MAX - 1);
        let ids: Vec<u16> = (0..3)
            .map(|_| {
                o.start(QoS::AtLeastOnce, (), |i| i == id(1))
                    .ok()
                    .unwrap()
                    .get()
            })
            .collect();
        assert_eq!(ids, vec![u16::MAX, 2, 3]);
    }

    #[test]
    fn resend_order_is_send_order_with_stages() {
        let mut o = Outbound::new(0);
        let a = o.start(QoS::ExactlyOnce, 'a', |_| false).unwrap();
        let b = o.start(QoS::AtLeastOnce, 'b', |_| false).unwrap();
        o.pubrec(a, false);
        let seen: Vec<_> = o.iter().map(|(i, s, v)| (i, s, *v)).collect();
        assert_eq!(
            seen,
            vec![(a, Stage::Released, 'a'), (b, Stage::Published, 'b')]
        );
        assert_eq!(o.drain().collect::<String>(), "ab");
    }
}
