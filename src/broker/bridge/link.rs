//! One connection of a bridge to its remote broker: the bridge's local session is to this
//! connection what a client's session is to the client's link.
//!
//! ```text
//!  local router ─▶ bridge session queue ─fill─▶ remap to remote name ─▶ PUBLISH ─▶ remote
//!  local router ◀── route as the bridge ◀── remap to local name, ACL ◀── PUBLISH ◀── remote
//! ```
//!
//! Packet identifiers and the QoS 1/2 window are the session's, so what was unacknowledged when
//! a connection dropped is sent again (DUP, or PUBREL) with the same identifiers on the next
//! one, and incoming QoS 2 state survives reconnects. After CONNACK the bridge sends its
//! SUBSCRIBEs (and the `1` notification), numbered from the session's own sequence, and lets
//! the session flow only once they are acknowledged.

use super::{Ctx, notify, topics};
use crate::broker::router::SessionCell;
use crate::broker::store::StoreOp;
use crate::connection::Connection;
use crate::protocol::{
    ConnAck, Disconnect, Packet, PacketId, Props, PubResp, Publish, QoS, ReasonCode,
    RetainHandling, Subscribe, Subscription, SubscriptionOptions, Unsubscribe,
};
use crate::session::keepalive::Due;
use crate::session::{KeepAlive, Message, Outgoing, Peer};
use crate::transport::Stream;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, watch};

/// Why a connection ended.
#[derive(Debug)]
pub(super) enum End {
    /// Shutdown or reload (`None`), or why else the bridge must stop.
    Stop(Option<&'static str>),
    /// The connection failed; reconnect.
    Lost(String),
    /// A lazy bridge had nothing to send for `idle_timeout`.
    Idle,
    /// The first address answers again (`round_robin false`).
    Primary,
}

/// The local side of a bridge's options on subscriptions: QoS of the topic line, never the
/// bridge's own messages back, retain flags as published.
pub(super) fn local_options(qos: QoS) -> SubscriptionOptions {
    SubscriptionOptions {
        qos,
        no_local: true,
        retain_as_published: true,
        retain_handling: RetainHandling::SendOnSubscribe,
    }
}

/// A connected bridge.
pub(super) struct Link<'a> {
    ctx: &'a Ctx,
    cell: Arc<SessionCell>,
    generation: u64,
    conn: Connection<Stream>,
    keepalive: KeepAlive,
    /// Identifiers of our SUBSCRIBE, UNSUBSCRIBE and notification awaiting acknowledgement.
    control: Vec<PacketId>,
    /// What the session had to send on connecting, held until `control` is empty.
    held: Vec<Outgoing>,
    flowing: bool,
    out: Vec<Outgoing>,
    /// Acknowledgements of incoming messages, sent once the store has what they promise.
    acks: Vec<Packet>,
    needs_sync: bool,
    retain_ok: bool,
    max_qos: QoS,
    last_publish: Instant,
    behind: Option<Arc<SessionCell>>,
}

impl<'a> Link<'a> {
    /// Starts the session's flow over a connection that has just been accepted.
    pub(super) fn new(
        ctx: &'a Ctx,
        cell: Arc<SessionCell>,
        generation: u64,
        conn: Connection<Stream>,
        connack: &ConnAck,
    ) -> Result<Link<'a>, End> {
        let p = &connack.properties;
        let keep_alive = p.server_keep_alive.unwrap_or(ctx.cfg.keepalive);
        let mut link = Link {
            ctx,
            cell,
            generation,
            conn,
            keepalive: KeepAlive::new(keep_alive, Instant::now()),
            control: Vec::new(),
            held: Vec::new(),
            flowing: false,
            out: Vec::new(),
            acks: Vec::new(),
            needs_sync: false,
            retain_ok: ctx.cfg.outgoing_retain && p.retain_available != Some(0),
            max_qos: p
                .maximum_qos
                .and_then(QoS::from_u8)
                .unwrap_or(QoS::ExactlyOnce),
            last_publish: Instant::now(),
            behind: None,
        };
        link.start(connack)?;
        Ok(link)
    }

    fn start(&mut self, connack: &ConnAck) -> Result<(), End> {
        let ctx = self.ctx;
        let cfg = &ctx.cfg;
        let p = &connack.properties;
        let limit = match (cfg.max_packet_size, p.maximum_packet_size.unwrap_or(0)) {
            (0, n) | (n, 0) => n,
            (a, b) => a.min(b),
        };
        {
            let mut st = self.cell.lock();
            st.session.set_peer(Peer {
                receive_max: p.receive_maximum.unwrap_or(0),
                max_packet: limit,
            });
            // Unacknowledged messages go again, then the queue: held back until our own
            // packets below are acknowledged.
            st.session.connect(&mut self.held);
        }
        // Retained messages of outgoing topics, on every connection, as mosquitto does.
        for t in cfg.topics.iter().filter(|t| t.direction.outgoing()) {
            let opts = local_options(t.qos.min(self.max_qos));
            ctx.router
                .send_retained(&self.cell, &t.local, opts, true, 0);
        }
        let (max_qos, retain_ok) = (self.max_qos, self.retain_ok);
        if let Some(up) = notify::remote_up(cfg, || self.control_id(), max_qos, retain_ok) {
            self.write(&Packet::Publish(up))?;
        }
        for t in &cfg.topics {
            let packet = if t.direction.incoming() {
                let mut options = local_options(t.qos.min(self.max_qos));
                // 3.x has no options beyond QoS; try_private asks the remote for the rest.
                if !cfg.protocol.is_v5() {
                    options = SubscriptionOptions {
                        qos: options.qos,
                        ..SubscriptionOptions::default()
                    };
                }
                Packet::Subscribe(Subscribe {
                    packet_id: self.control_id().ok_or_else(no_id)?,
                    subscriptions: vec![Subscription {
                        filter: t.remote.clone(),
                        options,
                    }],
                    properties: Props::default(),
                })
            } else if cfg.attempt_unsubscribe {
                Packet::Unsubscribe(Unsubscribe {
                    packet_id: self.control_id().ok_or_else(no_id)?,
                    filters: vec![t.remote.clone()],
                    properties: Props::default(),
                })
            } else {
                continue;
            };
            self.write(&packet)?;
        }
        notify::publish_local(&ctx.router, cfg, Some(&self.cell), true);
        Ok(())
    }

    /// A packet identifier for our own packets, from the session's sequence (so clear of its
    /// deliveries in flight, and numbered across reconnections as mosquitto does).
    fn control_id(&mut self) -> Option<PacketId> {
        let id = self.cell.lock().session.next_packet_id()?;
        self.control.push(id);
        Some(id)
    }

    /// Whether `id` was one of ours; forgets it.
    fn release_control(&mut self, id: PacketId) -> bool {
        let before = self.control.len();
        self.control.retain(|c| *c != id);
        self.control.len() != before
    }

    fn write(&mut self, p: &Packet) -> Result<(), End> {
        self.conn
            .write_packet(p)
            .map_err(|e| End::Lost(format!("cannot encode a packet: {e}")))
    }

    /// Serves the connection until it ends; the socket is closed (politely when we chose to).
    pub(super) async fn serve(
        mut self,
        stop: &mut watch::Receiver<bool>,
        primary: Option<oneshot::Receiver<()>>,
    ) -> End {
        let end = self.run(stop, primary).await;
        if !matches!(end, End::Lost(_)) {
            self.close().await;
        }
        end
    }

    async fn run(
        &mut self,
        stop: &mut watch::Receiver<bool>,
        mut primary: Option<oneshot::Receiver<()>>,
    ) -> End {
        let cell = self.cell.clone();
        let wake = cell.wake.notified();
        tokio::pin!(wake);
        loop {
            // Created before the checks, so that a wake-up in between is not lost.
            wake.set(cell.wake.notified());
            if let Some(end) = self.must_end(stop) {
                return end;
            }
            if let Err(end) = self.pump() {
                return end;
            }
            if let Err(end) = self.flush().await {
                return end;
            }
            let ping = self
                .keepalive
                .deadline()
                .map(tokio::time::Instant::from_std);
            let idle = self.idle_deadline();
            tokio::select! {
                r = self.conn.read_packet() => {
                    if let Err(end) = self.on_read(r).await {
                        return end;
                    }
                }
                _ = &mut wake => {}
                _ = sleep_until(ping), if ping.is_some() => {
                    match self.keepalive.due(Instant::now()) {
                        Due::Ping => {
                            if let Err(end) = self.write(&Packet::PingReq) {
                                return end;
                            }
                        }
                        Due::Expired => return End::Lost("keepalive timeout".into()),
                    }
                }
                _ = sleep_until(idle), if idle.is_some() => return End::Idle,
                r = stop.changed() => {
                    if r.is_err() {
                        return End::Stop(None);
                    }
                }
                _ = answered(&mut primary), if primary.is_some() => return End::Primary,
            }
        }
    }

    fn must_end(&self, stop: &watch::Receiver<bool>) -> Option<End> {
        if *stop.borrow() || self.ctx.router.is_closing() {
            return Some(End::Stop(None));
        }
        if self.cell.lock().link != Some(self.generation) {
            return Some(End::Stop(Some(
                "its local session was taken over by a client",
            )));
        }
        None
    }

    fn idle_deadline(&self) -> Option<tokio::time::Instant> {
        let cfg = &self.ctx.cfg;
        (cfg.start_type == super::config::StartType::Lazy).then(|| {
            let idle = Duration::from_secs(cfg.idle_timeout.into());
            tokio::time::Instant::from_std(self.last_publish + idle)
        })
    }

    /// Handles what a read brought, and everything else already buffered.
    async fn on_read(
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
                self.store(StoreOp::IncomingDel(
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
        super::status::BridgeStatus::count(&ctx.status.received);
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
                if first {
                    self.store(StoreOp::IncomingAdd(self.cell.client_id.clone(), id.get()));
                }
                first
            }
            _ => true,
        };
        if first {
            let qos = p.qos;
            if let Some(msg) = self.admit(p) {
                let (_, behind) = ctx.router.publish(Arc::new(msg), Some(&self.cell));
                self.behind = self.behind.take().or(behind);
            }
            self.needs_sync |= qos != QoS::AtMostOnce;
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

    /// Moves the session's deliveries to the socket (once our own packets are acknowledged).
    fn pump(&mut self) -> Result<(), End> {
        if !self.flowing {
            if !self.control.is_empty() {
                return Ok(());
            }
            self.flowing = true;
            self.ctx.status.set_state(super::status::State::Connected);
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
        super::status::BridgeStatus::count(&self.ctx.status.sent);
        self.ctx
            .router
            .stats
            .msgs_sent
            .fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Ends a delivery here without the remote's acknowledgement (refused or unsendable).
    fn complete(&mut self, id: PacketId, qos: QoS) {
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
    fn forget(&self, seq: Option<u64>) {
        if let (Some(seq @ 1..), Some(store)) = (seq, self.ctx.router.store()) {
            store.send(StoreOp::Dequeue(self.cell.client_id.clone(), seq));
        }
    }

    fn store(&self, op: StoreOp) {
        if let (Some(store), false) = (self.ctx.router.store(), self.cell.lock().clean) {
            store.send(op);
        }
    }

    /// Writes what is buffered: acknowledgements only once the store holds what they promise.
    async fn flush(&mut self) -> Result<(), End> {
        if std::mem::take(&mut self.needs_sync) {
            if let Some(store) = self.ctx.router.store() {
                store.barrier().await;
            }
        }
        for a in std::mem::take(&mut self.acks) {
            self.write(&a)?;
        }
        let now_ms = self.ctx.router.now_ms();
        if self.conn.pending() > 0 {
            let limit = Duration::from_secs(u64::from(self.ctx.cfg.keepalive).max(10));
            match tokio::time::timeout(limit, self.conn.flush()).await {
                Ok(Ok(())) => self.keepalive.sent(Instant::now()),
                Ok(Err(e)) => return Err(End::Lost(e.to_string())),
                Err(_) => return Err(End::Lost("the remote broker stopped reading".into())),
            }
        }
        self.cell.last_progress.store(now_ms, Ordering::Relaxed);
        Ok(())
    }

    /// Says goodbye: with notifications on the remote, the will must still fire (the remote's
    /// state goes to `0`), so 3.x closes without DISCONNECT and 5.0 asks for the will.
    async fn close(&mut self) {
        let v5 = self.ctx.cfg.protocol.is_v5();
        let will = self.ctx.cfg.remote_notifications().is_some();
        if v5 || !will {
            let reason = match will {
                true => ReasonCode::DisconnectWithWillMessage,
                false => ReasonCode::NormalDisconnection,
            };
            let _ = self.write(&Packet::Disconnect(Disconnect {
                reason,
                properties: Props::default(),
            }));
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), self.conn.shutdown()).await;
    }
}

fn no_id() -> End {
    End::Lost("no free packet identifier".into())
}

/// Completes when the probe of the first address reports it answers.
async fn answered(probe: &mut Option<oneshot::Receiver<()>>) {
    match probe {
        Some(rx) => {
            if rx.await.is_err() {
                std::future::pending::<()>().await;
            }
        }
        None => std::future::pending().await,
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
