//! Acknowledgements that promise a message is stored, and what a failing store makes of them.
//!
//! A batch of packets is handled, its acknowledgements wait in `out`, and only once the store
//! has committed the transaction holding the batch's changes do they go out. If the commit
//! failed, none of them may say "stored": a v5 client is told 0x97 (disk full) or 0x80, and a
//! 3.1.1 client, whose acknowledgements carry no reason, gets none and its connection is
//! closed, so it sends the message again. While the store keeps failing, a message that would
//! need it is refused before it is routed at all.

use super::Close;
use super::handle::Link;
use crate::broker::store::{StoreFault, StoreOp};
use crate::protocol::{Packet, PacketId, Publish, QoS};
use crate::session::Outgoing;
use std::sync::atomic::Ordering;

impl Link {
    /// Waits for the store when this batch's acknowledgements promise durability; on a
    /// failed commit, turns them into refusals (v5) or withdraws them and closes (3.1.1).
    /// The wait is boxed: it is rare, and inline it would widen every idle connection.
    pub(super) async fn sync_store(&mut self, out: &mut Vec<Outgoing>) -> Result<(), Close> {
        if self.durable.is_empty() {
            return Ok(());
        }
        let acks = std::mem::take(&mut self.durable);
        let Some(store) = self.router.store() else {
            return Ok(());
        };
        match Box::pin(store.barrier()).await {
            Ok(()) => Ok(()),
            Err(fault) => self.unstored(fault, &acks, out),
        }
    }

    fn unstored(
        &mut self,
        fault: StoreFault,
        acks: &[(PacketId, QoS)],
        out: &mut Vec<Outgoing>,
    ) -> Result<(), Close> {
        self.count_unstored(acks.len());
        let pending = |o: &Outgoing| match o {
            Outgoing::Packet(Packet::PubAck(r) | Packet::PubRec(r)) => {
                acks.iter().any(|(id, _)| *id == r.packet_id)
            }
            _ => false,
        };
        if !self.version.is_v5() {
            out.retain(|o| !pending(o));
            return Err(Self::unstored_close(fault));
        }
        for o in out.iter_mut() {
            if let Outgoing::Packet(Packet::PubAck(r) | Packet::PubRec(r)) = o {
                if acks.iter().any(|(id, _)| *id == r.packet_id) && !r.reason.is_error() {
                    r.reason = fault.reason();
                }
            }
        }
        // A refusing PUBREC ends the exchange: forget the ids, the client may reuse them.
        for (id, _) in acks.iter().filter(|(_, q)| *q == QoS::ExactlyOnce) {
            let _ = self.cell.lock().session.pubrel(*id);
            self.store(StoreOp::IncomingDel(self.client_id().clone(), id.get()));
        }
        Ok(())
    }

    /// Refuses a QoS 1/2 message that needs the store while it cannot write: nothing is
    /// routed; v5 is told why, 3.1.1 is cut off so that it sends the message again. Returns
    /// whether to route and the acknowledgement's reason.
    pub(super) fn admit_to_store(
        &self,
        p: &Publish,
        route: bool,
        reason: crate::protocol::ReasonCode,
    ) -> Result<(bool, crate::protocol::ReasonCode), Close> {
        if !route || p.qos == QoS::AtMostOnce {
            return Ok((route, reason));
        }
        match self.store_refuses(p) {
            None => Ok((route, reason)),
            Some(fault) => {
                self.count_unstored(1);
                if !self.version.is_v5() {
                    return Err(Self::unstored_close(fault));
                }
                Ok((false, fault.reason()))
            }
        }
    }

    /// The store fault that keeps `p` from being accepted now: the store is failing and the
    /// message would need it (retained, queued for a persistent session, or QoS 2 state of
    /// this client's persistent session).
    fn store_refuses(&self, p: &Publish) -> Option<StoreFault> {
        let fault = self.router.store()?.fault()?;
        let own_state = p.qos == QoS::ExactlyOnce && !self.cell.lock().clean;
        let needed = own_state || self.router.needs_store(&p.topic, p.qos, p.retain);
        needed.then_some(fault)
    }

    /// Counts messages refused because the store could not write them.
    fn count_unstored(&self, n: usize) {
        self.router
            .stats
            .store_refused
            .fetch_add(n as u64, Ordering::Relaxed);
    }

    /// How a 3.1.1 connection ends when its message could not be stored.
    fn unstored_close(fault: StoreFault) -> Close {
        Close::Error(
            format!(
                "not acknowledged: the persistence store cannot write ({fault}); closing so \
                 the client sends it again"
            ),
            None,
        )
    }
}
