//! What a bridge does with each packet from the remote broker: acknowledgements of what it
//! sent, and PUBLISHes routed here as the bridge's own, under the local ACL.

use super::{End, Link};
use crate::broker::bridge::{status, topics};
use crate::broker::store::StoreOp;
use crate::protocol::{Packet, PubResp, Publish, QoS};
use crate::session::Message;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

impl Link<'_> {
    /// Handles what a read brought, and everything else already buffered.
    pub(super) async fn on_read(
        &mut self,
        r: Result<Option<Packet>, crate::connection::ConnectionError>,
    ) -> Result<(), End> {
        let mut next = match r {
            Ok(Some(p)) => Some(p),
            Ok(None) => return Err(End::Lost("closed by the remote broker".into())),
            Err(e) => return Err(End::Lost(e.to_string())),
        };
        while let Some(p) = next {
            self.on_packet(p)?;
            next = self
                .conn
                .try_read_packet()
                .map_err(|e| End::Lost(e.to_string()))?;
        }
        // A local subscriber is falling behind: give it time, as a client's link does.
        if let Some(sub) = self.behind.take() {
            crate::broker::link::wait_for_drain(&self.ctx.router, &sub).await;
        }
        Ok(())
    }

    fn on_packet(&mut self, p: Packet) -> Result<(), End> {
        match p {
            Packet::Publish(p) => return self.incoming(p),
            Packet::PubAck(r) => {
                if !self.release_control(r.packet_id) {
                    let seq = self.cell.lock().session.puback(r.packet_id, &mut self.out);
                    self.forget(seq);
                }
            }
            Packet::PubRec(r) if r.reason.is_error() => {
                self.complete(r.packet_id, QoS::ExactlyOnce)
            }
            Packet::PubRec(r) => self.cell.lock().session.pubrec(r.packet_id, &mut self.out),
            Packet::PubComp(r) => {
                let seq = self.cell.lock().session.pubcomp(r.packet_id, &mut self.out);
                self.forget(seq);
            }
            Packet::PubRel(r) => {
                let comp = self.cell.lock().session.pubrel(r.packet_id);
                let _ = self.store(StoreOp::IncomingDel(
                    self.cell.client_id.clone(),
                    r.packet_id.get(),
                ));
                self.acks.push(comp);
            }
            Packet::SubAck(s) => {
                self.release_control(s.packet_id);
                for reason in s.reasons.iter().filter(|r| r.is_error()) {
                    self.ctx.env.log.info(format_args!(
                        "Warning: bridge {}: the remote broker refused a subscription: {}.",
                        self.ctx.cfg.name,
                        reason.description()
                    ));
                }
            }
            Packet::UnsubAck(u) => {
                self.release_control(u.packet_id);
            }
            Packet::PingResp => self.keepalive.pong(),
            // Not for a server to send, but libmosquitto answers it, and so do we.
            Packet::PingReq => self.acks.push(Packet::PingResp),
            Packet::Disconnect(d) => {
                return Err(End::Lost(format!(
                    "disconnected by the remote broker: {}",
                    d.reason.description()
                )));
            }
            other => {
                return Err(End::Lost(format!(
                    "protocol error: unexpected {} from the remote broker",
                    other.packet_type().name()
                )));
            }
        }
        Ok(())
    }

    /// A PUBLISH from the remote: acknowledged, and routed here as the bridge's own publish
    /// when its local name, size and the local ACL allow.
    fn incoming(&mut self, p: Publish) -> Result<(), End> {
        let ctx = self.ctx;
        ctx.router
            .stats
            .msgs_received
            .fetch_add(1, Ordering::Relaxed);
        status::BridgeStatus::count(&ctx.status.received);
        self.last_publish = Instant::now();
        let ack = match (p.qos, p.packet_id) {
            (QoS::AtMostOnce, _) => None,
            (QoS::AtLeastOnce, Some(id)) => Some(Packet::PubAck(PubResp::new(id))),
            (QoS::ExactlyOnce, Some(id)) => Some(Packet::PubRec(PubResp::new(id))),
            _ => {
                return Err(End::Lost(
                    "protocol error: PUBLISH without packet id".into(),
                ));
            }
        };
        let first = match (p.qos, p.packet_id) {
            (QoS::ExactlyOnce, Some(id)) => {
                let first = self.cell.lock().session.incoming_qos2(id);
                // PUBREC promises the id is held; a resend's first delivery is past knowing:
                // either way the acknowledgement waits for the store.
                self.needs_sync |= !first
                    || self.store(StoreOp::IncomingAdd(self.cell.client_id.clone(), id.get()));
                first
            }
            _ => true,
        };
        if first {
            let qos = p.qos;
            if let Some(msg) = self.admit(p) {
                let routed = ctx.router.publish(Arc::new(msg), Some(&self.cell));
                self.behind = self.behind.take().or(routed.behind);
                // The acknowledgement promises what routing wrote to the store is there.
                self.needs_sync |= routed.stored && qos != QoS::AtMostOnce;
            }
        }
        self.acks.extend(ack);
        Ok(())
    }

    /// The local message for a remote PUBLISH, or `None` when it must be dropped.
    fn admit(&self, p: Publish) -> Option<Message> {
        let (cfg, env) = (&self.ctx.cfg, &self.ctx.env);
        let topic = match topics::to_local(&cfg.topics, &p.topic) {
            Ok(t) => t,
            Err(why) => {
                env.log.info(format_args!(
                    "Warning: bridge {}: dropping '{}' from the remote broker: {why}.",
                    cfg.name, p.topic
                ));
                return None;
            }
        };
        if !crate::broker::sys::client_may_publish(&topic) {
            // Only the broker publishes to $SYS here, whatever the remote's topics map to.
            let stats = &self.ctx.router.stats;
            stats.sys_refused.fetch_add(1, Ordering::Relaxed);
            env.log.debug(format_args!(
                "Bridge {} dropped '{topic}' from the remote broker: only the broker publishes \
                 to $SYS.",
                cfg.name
            ));
            return None;
        }
        let limit = env.message_size_limit as usize;
        let allowed = self.ctx.router.access().can_write(
            &cfg.local_clientid,
            cfg.local_username.as_deref(),
            &topic,
        );
        if !allowed || (limit != 0 && p.payload.len() > limit) {
            env.log.debug(format_args!(
                "Bridge {} dropped '{topic}' from the remote broker ({}).",
                cfg.name,
                if allowed {
                    "too large"
                } else {
                    "denied by the ACL"
                }
            ));
            return None;
        }
        let mut props = p.properties;
        if props.topic_alias.is_some() || !props.subscription_identifiers.is_empty() {
            // Both belong to the remote connection, not to the message.
            props.topic_alias = None;
            props.subscription_identifiers.clear();
        }
        let retain = p.retain && env.retain_available;
        Some(Message::new(topic, p.payload, p.qos, retain, props))
    }

    /// Sends `op` to the store when the session is persistent; whether it did.
    pub(super) fn store(&self, op: StoreOp) -> bool {
        match (self.ctx.router.store(), self.cell.lock().clean) {
            (Some(store), false) => {
                store.send(op);
                true
            }
            _ => false,
        }
    }
}
