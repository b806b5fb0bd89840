//! From the bridge's session to the remote broker: deliveries renamed for the remote, and
//! deliveries that end here without the remote's acknowledgement.

use super::{End, Link};
use crate::broker::bridge::{status, topics};
use crate::broker::store::StoreOp;
use crate::protocol::{Packet, PacketId, Publish, QoS};
use crate::session::Outgoing;
use std::sync::atomic::Ordering;
use std::time::Instant;

impl Link<'_> {
    /// Moves the session's deliveries to the socket (once our own packets are acknowledged).
    pub(super) fn pump(&mut self) -> Result<(), End> {
        if !self.flowing {
            if !self.control.is_empty() {
                return Ok(());
            }
            self.flowing = true;
            self.ctx.status.set_state(status::State::Connected);
            let held = std::mem::take(&mut self.held);
            self.send_all(held)?;
        }
        let (queued, max, dropped) = {
            let mut st = self.cell.lock();
            st.session.fill(&mut self.out);
            let dropped = st.session.take_dropped_keys();
            (st.session.queued(), st.session.limits().max_queued, dropped)
        };
        for seq in dropped {
            self.forget(Some(seq));
        }
        self.cell.signal_drained(queued, max);
        let out = std::mem::take(&mut self.out);
        self.send_all(out)
    }

    fn send_all(&mut self, items: Vec<Outgoing>) -> Result<(), End> {
        for o in items {
            let p = match o {
                Outgoing::Packet(Packet::Publish(p)) => p,
                Outgoing::Packet(other) => {
                    self.write(&other)?;
                    continue;
                }
                Outgoing::Shared(m) => Publish {
                    dup: false,
                    qos: QoS::AtMostOnce,
                    retain: false,
                    topic: m.topic.clone(),
                    packet_id: None,
                    properties: m.properties.clone(),
                    payload: m.payload.clone(),
                },
            };
            self.send_publish(p)?;
        }
        // Completing a discarded delivery may have released the next ones.
        if !self.out.is_empty() {
            let more = std::mem::take(&mut self.out);
            return self.send_all(more);
        }
        Ok(())
    }

    fn send_publish(&mut self, mut p: Publish) -> Result<(), End> {
        match topics::to_remote(&self.ctx.cfg.topics, &p.topic) {
            Ok(t) => p.topic = t,
            Err(why) => {
                self.ctx.env.log.info(format_args!(
                    "Warning: bridge {}: not forwarding '{}': {why}.",
                    self.ctx.cfg.name, p.topic
                ));
                if let Some(id) = p.packet_id {
                    self.complete(id, p.qos);
                }
                return Ok(());
            }
        }
        p.retain &= self.retain_ok;
        self.write(&Packet::Publish(p))?;
        self.last_publish = Instant::now();
        status::BridgeStatus::count(&self.ctx.status.sent);
        self.ctx
            .router
            .stats
            .msgs_sent
            .fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Ends a delivery here without the remote's acknowledgement (refused or unsendable).
    pub(super) fn complete(&mut self, id: PacketId, qos: QoS) {
        let seq = {
            let mut st = self.cell.lock();
            match qos {
                QoS::AtLeastOnce => st.session.puback(id, &mut self.out),
                _ => {
                    // No PUBREL for a message that is given up.
                    st.session.pubrec(id, &mut Vec::new());
                    st.session.pubcomp(id, &mut self.out)
                }
            }
        };
        self.forget(seq);
    }

    /// A delivery completed: its stored copy goes.
    pub(super) fn forget(&self, seq: Option<u64>) {
        if let (Some(seq @ 1..), Some(store)) = (seq, self.ctx.router.store()) {
            store.send(StoreOp::Dequeue(self.cell.client_id.clone(), seq));
        }
    }
}
