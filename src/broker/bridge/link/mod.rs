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

mod inbound;
mod outbound;

use super::{Ctx, notify};
use crate::broker::router::SessionCell;
use crate::connection::Connection;
use crate::protocol::{
    ConnAck, Disconnect, Packet, PacketId, Props, QoS, ReasonCode, RetainHandling, Subscribe,
    Subscription, SubscriptionOptions, Unsubscribe,
};
use crate::session::keepalive::Due;
use crate::session::{KeepAlive, Outgoing, Peer};
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
        self.subscribe_remote()?;
        notify::publish_local(&ctx.router, cfg, Some(&self.cell), true);
        Ok(())
    }

    /// One SUBSCRIBE per incoming topic line and, with `bridge_attempt_unsubscribe`, one
    /// UNSUBSCRIBE per outgoing-only one (the remote may remember it from an older config).
    fn subscribe_remote(&mut self) -> Result<(), End> {
        let cfg = &self.ctx.cfg;
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
        let generation = self.generation;
        loop {
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
                // A wake-up in between the checks and here is remembered by the session.
                _ = cell.woken(generation) => {}
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

    /// Writes what is buffered: acknowledgements only once the store holds what they promise.
    async fn flush(&mut self) -> Result<(), End> {
        if std::mem::take(&mut self.needs_sync) {
            if let Some(store) = self.ctx.router.store() {
                if let Err(fault) = store.barrier().await {
                    // Nothing is acknowledged that was not written: the remote keeps the
                    // messages and sends them again on the next connection.
                    let refused = std::mem::take(&mut self.acks).len() as u64;
                    let stats = &self.ctx.router.stats;
                    stats.store_refused.fetch_add(refused, Ordering::Relaxed);
                    return Err(End::Lost(format!(
                        "the store cannot write ({fault}): {refused} messages left \
                         unacknowledged for the remote to send again"
                    )));
                }
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
