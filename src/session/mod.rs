//! A client session's delivery state as a plain state machine, free of I/O.
//!
//! ```text
//!  router ──enqueue──▶ queue ──fill (window)──▶ inflight ──PUBACK/PUBCOMP──▶ gone
//!                      (bounded: messages, bytes)   │ PUBREC → PUBREL awaiting PUBCOMP
//!  incoming QoS 2: PUBLISH id → remembered until PUBREL, so a resent PUBLISH is not routed twice
//! ```
//!
//! Methods take what arrived and push the packets to send into a caller's vector; the link turns
//! them into bytes. The queue is shared by every QoS so that per-topic order is kept.
//!
//! The pieces every side of a connection needs live in sub-modules and are shared by the
//! broker's [`Session`], the [`crate::client`] and the load generator: packet identifiers
//! ([`ids`]), the outgoing QoS 1/2 window ([`outbound`]), incoming QoS 2 de-duplication
//! ([`inbound`]) and keep-alive deadlines ([`keepalive`]). A protocol fix to one of them lands
//! once. What stays here is the broker's alone: the bounded offline queue, store keys,
//! message expiry and the shared QoS 0 encoding.

pub mod ids;
pub mod inbound;
pub mod keepalive;
pub mod lazy;
pub mod outbound;

pub use ids::PacketIds;
pub use inbound::Inbound;
pub use keepalive::KeepAlive;
pub use outbound::{Outbound, PubRec, Stage};

use crate::protocol::{Packet, PacketId, Props, PubResp, Publish, QoS, Version};
use crate::topic::TopicName;
use bytes::Bytes;
use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// An application message as the router holds it: shared by every subscriber it goes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Topic it was published to.
    pub topic: TopicName,
    /// Payload, shared, never copied.
    pub payload: Bytes,
    /// QoS it was published with.
    pub qos: QoS,
    /// Retain flag as published.
    pub retain: bool,
    /// v5 properties to forward.
    pub properties: Props,
    /// This message as a QoS 0 PUBLISH without retain or DUP, encoded once and shared by
    /// every subscriber: `[0]` for 3.1/3.1.1, `[1]` for 5.0.
    pub wire: [OnceLock<Bytes>; 2],
    /// When the v5 message expiry interval runs out, counted from arrival.
    pub expires: Option<Instant>,
    /// Who published a retained message (for `check_retain_source`); `None` otherwise.
    pub origin: Option<Arc<Origin>>,
}

/// The client a retained message came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// Its client identifier.
    pub client_id: Arc<str>,
    /// The user name it acted as, if any.
    pub username: Option<Arc<str>>,
}

impl Message {
    /// A message without a cached encoding.
    pub fn new(
        topic: TopicName,
        payload: Bytes,
        qos: QoS,
        retain: bool,
        properties: Props,
    ) -> Message {
        let expires = properties
            .message_expiry_interval
            .map(|s| Instant::now() + std::time::Duration::from_secs(s.into()));
        Message {
            topic,
            payload,
            qos,
            retain,
            properties,
            wire: Default::default(),
            expires,
            origin: None,
        }
    }

    /// Seconds left before expiry (at least 1 while not expired), `None` without expiry,
    /// `Some(0)` once expired.
    pub fn remaining_secs(&self, now: Instant) -> Option<u32> {
        let at = self.expires?;
        let left = at.saturating_duration_since(now);
        if left.is_zero() {
            return Some(0);
        }
        Some(left.as_secs_f64().ceil() as u32)
    }
}

/// What a session hands its link to send.
#[derive(Clone, Debug)]
pub enum Outgoing {
    /// A packet of this session alone.
    Packet(Packet),
    /// A QoS 0 delivery without retain: the same bytes for every subscriber of a version,
    /// so the link encodes it once per message, not once per subscriber.
    Shared(Arc<Message>),
}

impl From<Packet> for Outgoing {
    fn from(p: Packet) -> Outgoing {
        Outgoing::Packet(p)
    }
}

/// One message on its way to one subscriber.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// The shared message.
    pub msg: Arc<Message>,
    /// Delivery QoS: the minimum of the published and granted QoS.
    pub qos: QoS,
    /// Retain flag as sent (set for retained-on-subscribe).
    pub retain: bool,
    /// Store key when the delivery is persisted, 0 otherwise.
    pub seq: u64,
    /// v5 subscription identifiers of the matching subscriptions.
    pub sub_ids: SubIds,
}

/// The v5 subscription identifiers of one delivery: one pointer wide, as most deliveries have
/// none and a queued delivery's size counts for every subscriber.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
// The box keeps the field one (thin) pointer wide; a bare Vec or boxed slice takes 16+ bytes.
#[allow(clippy::box_collection)]
pub struct SubIds(Option<Box<Vec<u32>>>);

impl SubIds {
    /// Identifiers from a list (no allocation when it is empty).
    pub fn new(ids: Vec<u32>) -> SubIds {
        SubIds((!ids.is_empty()).then(|| Box::new(ids)))
    }

    /// True without identifiers.
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// The identifiers.
    pub fn as_slice(&self) -> &[u32] {
        self.0.as_deref().map_or(&[], Vec::as_slice)
    }
}

impl Delivery {
    fn cost(&self) -> usize {
        self.msg.payload.len() + self.msg.topic.len()
    }

    /// Whether the shared QoS 0 encoding fits this delivery (no per-subscriber property).
    fn shareable(&self) -> bool {
        self.qos == QoS::AtMostOnce
            && !self.retain
            && self.sub_ids.is_empty()
            && self.msg.expires.is_none()
    }

    fn publish(&self, packet_id: Option<PacketId>, dup: bool, now: Instant) -> Packet {
        let mut properties = self.msg.properties.clone();
        if !self.sub_ids.is_empty() {
            properties.subscription_identifiers = self.sub_ids.as_slice().to_vec();
        }
        if let Some(left) = self.msg.remaining_secs(now) {
            properties.message_expiry_interval = Some(left.max(1));
        }
        Packet::Publish(Publish {
            dup,
            qos: self.qos,
            retain: self.retain,
            topic: self.msg.topic.clone(),
            packet_id,
            properties,
            payload: self.msg.payload.clone(),
        })
    }
}

/// A delivery's payload length (at most 256 MiB, the largest MQTT packet).
fn payload_u32(d: &Delivery) -> u32 {
    u32::try_from(d.msg.payload.len()).unwrap_or(u32::MAX)
}

/// What the connected client told us about itself (v5 CONNECT properties).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Peer {
    /// Its receive maximum: unacknowledged QoS 1/2 PUBLISHes it accepts (0 = no limit).
    pub receive_max: u16,
    /// Largest packet it accepts (0 = no limit).
    pub max_packet: u32,
}

/// Queue and window sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Outgoing QoS 1/2 messages awaiting acknowledgement (0 = no limit).
    pub max_inflight: u16,
    /// Messages waiting beyond the window (0 = no limit).
    pub max_queued: usize,
    /// Payload bytes waiting beyond the window (0 = no limit).
    pub max_queued_bytes: usize,
    /// Queue QoS 0 messages while the client is offline.
    pub queue_qos0: bool,
    /// Payload bytes of outgoing QoS 1/2 messages awaiting acknowledgement (0 = no limit): a
    /// message starts only if it keeps the total within this, or if nothing is in flight.
    pub max_inflight_bytes: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_inflight: 20,
            max_queued: 1000,
            max_queued_bytes: 0,
            queue_qos0: false,
            max_inflight_bytes: 0,
        }
    }
}

/// Why [`Session::enqueue`] did not take a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// The queue is at its message or byte limit: dropped and counted.
    QueueFull,
    /// QoS 0 for an offline client: not queued, as mosquitto does by default.
    Offline,
}

/// One client's session.
#[derive(Debug)]
pub struct Session {
    /// Shared by every session of a broker (one pointer each).
    limits: Arc<Limits>,
    online: bool,
    /// Held only once something was queued: an idle session's queue takes one pointer.
    queue: lazy::Lazy<VecDeque<Delivery>>,
    queued_bytes: usize,
    inflight: Outbound<Delivery>,
    /// Payload bytes in `inflight`, kept for `max_inflight_bytes`. Four bytes, beside `online`
    /// in what would be padding: with a limit set, at most the limit or one message is in
    /// flight, which fits; only without a limit could it saturate, where it is not looked at.
    inflight_bytes: u32,
    incoming: Inbound,
    peer: Peer,
    /// Store keys of deliveries dropped by [`Session::fill`] (expired or too large), to
    /// forget them; see [`Session::take_dropped_keys`]. Rarely any.
    dropped_keys: lazy::LazyVec<u64>,
}

impl Session {
    /// A new, offline session.
    pub fn new(limits: impl Into<Arc<Limits>>) -> Session {
        let limits: Arc<Limits> = limits.into();
        Session {
            inflight: Outbound::new(limits.max_inflight),
            limits,
            online: false,
            queue: Default::default(),
            queued_bytes: 0,
            inflight_bytes: 0,
            incoming: Inbound::default(),
            peer: Peer::default(),
            dropped_keys: Default::default(),
        }
    }

    /// Changes the limits (config reload); queued messages stay.
    pub fn set_limits(&mut self, limits: impl Into<Arc<Limits>>) {
        self.limits = limits.into();
        self.inflight
            .set_window(self.limits.max_inflight, self.peer.receive_max);
    }

    /// Whether a connection is attached.
    pub fn is_online(&self) -> bool {
        self.online
    }

    /// Number of messages waiting behind the inflight window.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        *self.limits
    }

    /// Number of messages waiting or in flight.
    pub fn pending(&self) -> usize {
        self.queue.len() + self.inflight.len()
    }

    /// Accepts a delivery into the queue, or refuses it (counted when full).
    pub fn enqueue(&mut self, d: Delivery) -> Result<(), Refused> {
        if !self.online && d.qos == QoS::AtMostOnce && !self.limits.queue_qos0 {
            return Err(Refused::Offline);
        }
        let full_count = self.limits.max_queued != 0 && self.queue.len() >= self.queued_cap();
        let full_bytes = self.limits.max_queued_bytes != 0
            && self.queued_bytes + d.cost() > self.limits.max_queued_bytes;
        if full_count || full_bytes {
            return Err(Refused::QueueFull);
        }
        self.queued_bytes += d.cost();
        self.queue.push_back(d);
        Ok(())
    }

    /// Messages that may wait: the queue limit plus the window not yet used, so that a client
    /// with a free window still gets `max_queued` messages buffered behind it.
    fn queued_cap(&self) -> usize {
        let window = self.limits.max_inflight as usize;
        let free = window.saturating_sub(self.inflight.len());
        self.limits.max_queued + if self.online { free } else { 0 }
    }

    /// Sets what the client connecting now accepts.
    pub fn set_peer(&mut self, peer: Peer) {
        self.peer = peer;
        self.inflight
            .set_window(self.limits.max_inflight, peer.receive_max);
    }

    /// Whether `p` exceeds the client's maximum packet size (only v5 clients set one).
    fn too_large(&self, p: &Packet) -> bool {
        self.peer.max_packet != 0
            && crate::protocol::encoded_len(p, Version::V5) > self.peer.max_packet as usize
    }

    /// Moves queued messages to the wire while the inflight window allows; QoS 0 ones always go.
    /// Expired messages and those larger than the client accepts are dropped.
    /// Does nothing while offline.
    pub fn fill(&mut self, out: &mut Vec<Outgoing>) {
        let now = Instant::now();
        while self.online {
            let Some(front) = self.queue.front() else {
                break;
            };
            if front.qos != QoS::AtMostOnce
                && !(self.inflight.has_room() && self.bytes_allow(front.msg.payload.len()))
            {
                break;
            }
            let Some(d) = self.queue.pop_front() else {
                break;
            };
            self.queued_bytes -= d.cost();
            if d.msg.remaining_secs(now) == Some(0) {
                if d.qos != QoS::AtMostOnce {
                    // Its identifier is used up all the same, so the ids a client sees follow
                    // the messages' arrival as mosquitto's do (it numbers them when queued).
                    let _ = self.inflight.next_id(|_| false);
                }
                self.dropped_keys.push(d.seq);
                continue;
            }
            if d.shareable() && self.peer.max_packet == 0 {
                out.push(Outgoing::Shared(d.msg));
                continue;
            }
            if d.qos == QoS::AtMostOnce {
                let p = d.publish(None, false, now);
                if self.too_large(&p) {
                    // [MQTT-3.1.2-25]: discarded as if it had been sent and completed.
                    continue;
                }
                out.push(p.into());
                continue;
            }
            let Some(id) = self.inflight.next_id(|_| false) else {
                // Every identifier is in use (65535 unacknowledged messages without a window
                // limit): the message waits for one.
                self.queued_bytes += d.cost();
                self.queue.push_front(d);
                break;
            };
            let p = d.publish(Some(id), false, now);
            if self.too_large(&p) {
                // [MQTT-3.1.2-25]: discarded as if it had been sent and completed.
                self.dropped_keys.push(d.seq);
                continue;
            }
            out.push(p.into());
            self.inflight_bytes = self.inflight_bytes.saturating_add(payload_u32(&d));
            self.inflight.push(id, d.qos, d);
        }
    }

    /// Whether `max_inflight_bytes` lets a message of `len` payload bytes start now: within
    /// the limit with what is in flight, or alone (man page: "messages of over 100 bytes are
    /// still allowed, but only a single message can be in flight at once").
    fn bytes_allow(&self, len: usize) -> bool {
        let max = self.limits.max_inflight_bytes as usize;
        max == 0 || self.inflight.is_empty() || self.inflight_bytes as usize + len <= max
    }

    /// A delivery left the inflight window: its bytes no longer count.
    fn landed(&mut self, d: &Delivery) {
        self.inflight_bytes = self.inflight_bytes.saturating_sub(payload_u32(d));
    }

    /// Store keys (non-zero) of deliveries dropped unsent since the last call.
    pub fn take_dropped_keys(&mut self) -> Vec<u64> {
        let mut keys = self.dropped_keys.take();
        keys.retain(|k| *k != 0);
        keys
    }

    /// Attaches a connection: unacknowledged messages are sent again (PUBLISH with DUP, or
    /// PUBREL), then the queue.
    pub fn connect(&mut self, out: &mut Vec<Outgoing>) {
        self.online = true;
        let now = Instant::now();
        // A PUBLISH not yet acknowledged whose message expired meanwhile is not sent again
        // ([MQTT-3.3.2-5]); a PUBREL still is, to finish the exchange.
        let expired = self.inflight.remove_where(|stage, d| {
            stage == Stage::Published && d.msg.remaining_secs(now) == Some(0)
        });
        for d in expired {
            self.landed(&d);
            self.dropped_keys.push(d.seq);
        }
        for (id, stage, d) in self.inflight.iter() {
            out.push(match stage {
                Stage::Published => d.publish(Some(id), true, now).into(),
                Stage::Released => Packet::PubRel(PubResp::new(id)).into(),
            });
        }
        self.fill(out);
    }

    /// A connection is being opened: QoS 0 messages are queued as for a connected client, to
    /// go out once [`Session::connect`] is called (or be dropped by [`Session::disconnect`]
    /// if it fails). A bridge uses it while it dials its remote broker, as mosquitto does.
    pub fn connecting(&mut self) {
        self.online = true;
    }

    /// Detaches the connection. QoS 0 messages still queued are dropped unless configured
    /// otherwise; their store keys need no cleanup as QoS 0 is never stored.
    pub fn disconnect(&mut self) {
        self.online = false;
        if !self.limits.queue_qos0 && !self.queue.is_empty() {
            self.queue.retain(|d| d.qos != QoS::AtMostOnce);
            self.queued_bytes = self.queue.iter().map(Delivery::cost).sum();
        }
    }

    /// PUBACK received: returns the store key of the completed delivery.
    pub fn puback(&mut self, id: PacketId, out: &mut Vec<Outgoing>) -> Option<u64> {
        let d = self.inflight.puback(id)?;
        self.landed(&d);
        self.fill(out);
        Some(d.seq)
    }

    /// The QoS and stage of the delivery in flight under `id`, if any: an acknowledgement
    /// of the other QoS, or out of turn, is a protocol error.
    pub fn inflight_state(&self, id: PacketId) -> Option<(QoS, outbound::Stage)> {
        self.inflight.state_of(id)
    }

    /// PUBREC received: answers PUBREL (also for an unknown id, so the peer can finish).
    pub fn pubrec(&mut self, id: PacketId, out: &mut Vec<Outgoing>) {
        self.inflight.pubrec(id, false);
        out.push(Packet::PubRel(PubResp::new(id)).into());
    }

    /// A v5 PUBREC with an error reason: the delivery ends there, with no PUBREL
    /// ([MQTT-4.3.3]); returns the store key of the ended delivery.
    pub fn pubrec_refused(&mut self, id: PacketId, out: &mut Vec<Outgoing>) -> Option<u64> {
        match self.inflight.pubrec(id, true) {
            PubRec::Refused(d) => {
                self.landed(&d);
                self.fill(out);
                Some(d.seq)
            }
            _ => None,
        }
    }

    /// PUBCOMP received: returns the store key of the completed delivery.
    pub fn pubcomp(&mut self, id: PacketId, out: &mut Vec<Outgoing>) -> Option<u64> {
        let d = self.inflight.pubcomp(id)?;
        self.landed(&d);
        self.fill(out);
        Some(d.seq)
    }

    /// An incoming QoS 2 PUBLISH: true when it is new and must be routed, false for a resend
    /// of one already routed and not yet released ([MQTT-4.3.3-2]).
    pub fn incoming_qos2(&mut self, id: PacketId) -> bool {
        self.incoming.publish(id)
    }

    /// Incoming QoS 2 messages awaiting PUBREL (counted against our receive maximum), not
    /// counting `id` itself (a resend takes no new slot).
    pub fn incoming_count(&self, id: PacketId) -> usize {
        self.incoming.count_besides(id)
    }

    /// PUBREL received: forgets the id and answers PUBCOMP.
    pub fn pubrel(&mut self, id: PacketId) -> Packet {
        self.incoming.release(id);
        Packet::PubComp(PubResp::new(id))
    }

    /// Incoming QoS 2 ids awaiting PUBREL (for the store).
    pub fn incoming_ids(&self) -> impl Iterator<Item = PacketId> + '_ {
        self.incoming.ids()
    }

    /// A packet identifier from the session's own sequence, free of the deliveries in flight,
    /// for a SUBSCRIBE or UNSUBSCRIBE of the session's owner (a bridge): one sequence for
    /// every packet of the connection, as mosquitto numbers them.
    pub fn next_packet_id(&mut self) -> Option<PacketId> {
        self.inflight.next_id(|_| false)
    }

    /// Store keys of every queued or inflight delivery (to forget them with the session).
    pub fn stored_keys(&self) -> Vec<u64> {
        let queued = self.queue.iter().map(|d| d.seq);
        let inflight = self.inflight.iter().map(|(_, _, d)| d.seq);
        queued.chain(inflight).filter(|s| *s != 0).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(topic: &str, qos: QoS) -> Delivery {
        Delivery {
            msg: Arc::new(Message::new(
                TopicName::new(topic).unwrap(),
                Bytes::from_static(b"x"),
                qos,
                false,
                Props::default(),
            )),
            qos,
            retain: false,
            seq: 7,
            sub_ids: SubIds::default(),
        }
    }

    fn pid(p: &Outgoing) -> PacketId {
        match p {
            Outgoing::Packet(Packet::Publish(p)) => p.packet_id.unwrap(),
            Outgoing::Packet(Packet::PubRel(r)) => r.packet_id,
            other => panic!("unexpected {other:?}"),
        }
    }

    fn online(limits: Limits) -> Session {
        let mut s = Session::new(limits);
        s.connect(&mut Vec::new());
        s
    }

    #[test]
    fn inflight_window_holds_back_qos1_but_not_qos0() {
        let mut s = online(Limits {
            max_inflight: 2,
            ..Limits::default()
        });
        for _ in 0..3 {
            s.enqueue(msg("a", QoS::AtLeastOnce)).unwrap();
        }
        s.enqueue(msg("a", QoS::AtMostOnce)).unwrap();
        let mut out = Vec::new();
        s.fill(&mut out);
        assert_eq!(out.len(), 2, "window of 2");
        let first = pid(&out[0]);
        let mut more = Vec::new();
        assert_eq!(s.puback(first, &mut more), Some(7));
        assert_eq!(
            more.len(),
            2,
            "third QoS 1 then the QoS 0 behind it (order kept)"
        );
        assert!(matches!(&more[1], Outgoing::Shared(m) if m.qos == QoS::AtMostOnce));
    }

    #[test]
    fn inflight_bytes_hold_back_qos1_and_qos2_until_acknowledged() {
        let mut s = online(Limits {
            max_inflight_bytes: 2,
            ..Limits::default()
        });
        s.enqueue(msg("a", QoS::AtLeastOnce)).unwrap();
        s.enqueue(msg("b", QoS::ExactlyOnce)).unwrap();
        s.enqueue(msg("c", QoS::AtLeastOnce)).unwrap();
        let mut out = Vec::new();
        s.fill(&mut out);
        assert_eq!(out.len(), 2, "two 1-byte payloads fit in 2 bytes");
        let (a, b) = (pid(&out[0]), pid(&out[1]));
        let mut more = Vec::new();
        s.pubrec(b, &mut more);
        assert_eq!(
            more.len(),
            1,
            "PUBREL only: a released QoS 2 message still counts"
        );
        assert_eq!(s.puback(a, &mut more), Some(7));
        assert_eq!(more.len(), 2, "the third message now fits");
        assert_eq!(s.pubcomp(b, &mut more), Some(7));
        assert_eq!(s.inflight_bytes, 1);
        let mut big = online(Limits {
            max_inflight_bytes: 0,
            ..Limits::default()
        });
        big.set_limits(Limits {
            max_inflight_bytes: 1,
            ..Limits::default()
        });
        let mut two = msg("a", QoS::AtLeastOnce);
        Arc::get_mut(&mut two.msg).unwrap().payload = Bytes::from_static(b"xx");
        big.enqueue(two.clone()).unwrap();
        big.enqueue(two).unwrap();
        let mut out = Vec::new();
        big.fill(&mut out);
        assert_eq!(out.len(), 1, "over the limit: alone");
    }

    #[test]
    fn queue_is_bounded_and_drops_are_counted() {
        let mut s = Session::new(Limits {
            max_queued: 2,
            ..Limits::default()
        });
        let refused = (0..5)
            .filter(|_| s.enqueue(msg("a", QoS::AtLeastOnce)) == Err(Refused::QueueFull))
            .count();
        assert_eq!(s.pending(), 2);
        assert_eq!(refused, 3, "each drop is reported, for the router to count");
        let mut b = Session::new(Limits {
            max_queued_bytes: 5,
            ..Limits::default()
        });
        for _ in 0..5 {
            let _ = b.enqueue(msg("a", QoS::AtLeastOnce));
        }
        assert_eq!(b.pending(), 2, "2 bytes each, 5 allowed");
    }

    #[test]
    fn offline_qos0_is_not_queued() {
        let mut s = Session::new(Limits::default());
        assert_eq!(s.enqueue(msg("a", QoS::AtMostOnce)), Err(Refused::Offline));
        assert_eq!(s.pending(), 0);
    }

    #[test]
    fn reconnect_resends_unacknowledged_with_dup_and_pubrel() {
        let mut s = online(Limits::default());
        s.enqueue(msg("a", QoS::AtLeastOnce)).unwrap();
        s.enqueue(msg("b", QoS::ExactlyOnce)).unwrap();
        let mut out = Vec::new();
        s.fill(&mut out);
        let q2 = pid(&out[1]);
        s.pubrec(q2, &mut out);
        s.disconnect();
        let mut again = Vec::new();
        s.connect(&mut again);
        assert!(
            matches!(&again[0], Outgoing::Packet(Packet::Publish(p)) if p.dup && p.topic.as_str() == "a")
        );
        assert!(matches!(&again[1], Outgoing::Packet(Packet::PubRel(r)) if r.packet_id == q2));
        assert_eq!(s.pubcomp(q2, &mut Vec::new()), Some(7));
        assert_eq!(s.pending(), 1);
    }

    #[test]
    fn qos2_incoming_is_routed_once_until_pubrel() {
        let mut s = Session::new(Limits::default());
        let id = PacketId::new(5).unwrap();
        assert!(s.incoming_qos2(id));
        assert!(!s.incoming_qos2(id), "resent PUBLISH before PUBREL");
        assert!(matches!(s.pubrel(id), Packet::PubComp(r) if r.packet_id == id));
        assert!(s.incoming_qos2(id), "a new message may reuse the id");
    }

    #[test]
    fn wrong_acks_are_ignored() {
        let mut s = online(Limits::default());
        s.enqueue(msg("a", QoS::ExactlyOnce)).unwrap();
        let mut out = Vec::new();
        s.fill(&mut out);
        let id = pid(&out[0]);
        assert_eq!(s.puback(id, &mut out), None, "PUBACK for a QoS 2 message");
        assert_eq!(s.pubcomp(id, &mut out), None, "PUBCOMP before PUBREC");
        assert_eq!(s.pending(), 1);
    }

    #[test]
    fn a_queued_delivery_stays_four_words() {
        // One per subscriber per queued message: subscription identifiers cost a pointer.
        assert_eq!(std::mem::size_of::<Delivery>(), 32);
    }

    #[test]
    fn packet_ids_skip_those_in_flight() {
        let mut s = online(Limits {
            max_inflight: 0,
            ..Limits::default()
        });
        s.inflight.set_last_id(u16::MAX - 1);
        for _ in 0..3 {
            s.enqueue(msg("a", QoS::AtLeastOnce)).unwrap();
        }
        let mut out = Vec::new();
        s.fill(&mut out);
        let ids: Vec<u16> = out.iter().map(|p| pid(p).get()).collect();
        assert_eq!(ids, vec![u16::MAX, 1, 2]);
    }
}
