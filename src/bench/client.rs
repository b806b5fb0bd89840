//! One client task: connect, then idle, subscribe or publish until the run stops.

use super::conn::{Login, Route, Wire, establish};
use super::message::{latency_of, now_nanos};
use super::plan::{Plan, Role};
use super::stats::{Cause, Stats};
use crate::protocol::{Packet, PubResp, QoS};
use crate::session::Outbound;
use crate::topic::TopicFilter;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::{Instant, sleep_until};

/// Where the run is; every client watches it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Clients are still connecting; publishers wait.
    Connecting,
    /// Publishing, from this instant.
    Running(Instant),
    /// Publishers stop; subscribers keep counting what is still on the way.
    Draining,
    /// Everyone disconnects.
    Stop,
}

/// What every client task shares.
#[derive(Debug)]
pub struct Ctx {
    /// The plan.
    pub plan: Plan,
    /// The broker address.
    pub addr: SocketAddr,
    /// Counters.
    pub stats: Stats,
    /// Publishers still sending.
    pub publishing: AtomicU64,
    /// Tasks still alive.
    pub live: AtomicU64,
    /// The phase. Changed with `send_replace`: a plain `send` is lost while no client task
    /// has subscribed yet (a one-client run can reach `Running` before its task starts).
    pub phase: watch::Sender<Phase>,
    /// Local subscribers owed each message of publisher `i` (pubsub).
    pub fanout: Vec<u32>,
    /// Deliveries owed to local subscribers so far.
    pub expected: AtomicU64,
    /// Deliveries written off as lost.
    pub lost: AtomicU64,
    /// Most deliveries outstanding end to end; 0 when there are no local subscribers.
    pub cap: u64,
}

impl Ctx {
    /// Shared state for `plan`, talking to `addr`.
    pub fn new(plan: Plan, addr: SocketAddr) -> Ctx {
        let fanout = plan.fanout();
        let cap = u64::from(plan.inflight) * fanout.iter().map(|&n| u64::from(n)).sum::<u64>();
        Ctx {
            publishing: AtomicU64::new(u64::from(plan.publishers)),
            live: AtomicU64::new(0),
            phase: watch::channel(Phase::Connecting).0,
            stats: Stats::default(),
            fanout,
            expected: AtomicU64::new(0),
            lost: AtomicU64::new(0),
            cap,
            addr,
            plan,
        }
    }

    /// Deliveries owed and not yet received.
    pub fn outstanding(&self) -> u64 {
        self.expected
            .load(Relaxed)
            .saturating_sub(self.stats.received.load(Relaxed))
    }

    /// True when the end-to-end cap lets publishers send.
    pub fn has_room(&self) -> bool {
        self.cap == 0 || self.outstanding() < self.cap
    }

    /// Writes off what is still owed (the broker dropped it, or a subscriber is gone).
    pub fn write_off(&self) -> u64 {
        let owed = self.outstanding();
        self.expected.fetch_sub(owed, Relaxed);
        self.lost.fetch_add(owed, Relaxed);
        owed
    }

    /// The CONNECT fields of a client.
    pub fn login(&self, role: Role, index: u32) -> Login {
        Login {
            version: self.plan.version,
            client_id: self.plan.client_id(role, index),
            clean: self.plan.clean,
            keepalive: self.plan.keepalive,
            username: self.plan.username.clone(),
            password: self.plan.password.clone(),
        }
    }

    /// Connects client `index` of `role` (the `seq`th overall, for `--ifaddr`).
    pub async fn connect(&self, role: Role, index: u32, seq: u64) -> Result<Wire, Cause> {
        let login = self.login(role, index);
        let subscribe = match role {
            Role::Sub | Role::Slow => {
                let f = self
                    .plan
                    .sub_topic
                    .render(self.plan.number(index), &login.client_id);
                Some((
                    TopicFilter::new(f.as_str()).map_err(|_| Cause::Protocol)?,
                    self.plan.qos,
                ))
            }
            _ => None,
        };
        let ifaddr = &self.plan.ifaddr;
        let local = (!ifaddr.is_empty()).then(|| ifaddr[(seq % ifaddr.len() as u64) as usize]);
        let started = Instant::now();
        let route = Route {
            addr: self.addr,
            local,
            tls: self.plan.tls.as_ref(),
            ws: self.plan.websocket.as_ref(),
        };
        let link = establish(route, &login, subscribe, self.plan.connect_timeout).await;
        match &link {
            Ok(_) => {
                self.stats.connect(started.elapsed());
                if matches!(role, Role::Sub | Role::Slow) {
                    self.stats.subscribed.fetch_add(1, Relaxed);
                }
            }
            Err(cause) => self.stats.fail(cause),
        }
        link
    }
}

/// Runs an established client until the run stops; counts a lost connection as a drop.
pub async fn run_client(ctx: Arc<Ctx>, mut link: Wire, role: Role, index: u32) {
    let mut phase = ctx.phase.subscribe();
    let result = match role {
        Role::Pub => {
            Box::pin(super::publisher::publish(
                &ctx, &mut link, index, &mut phase,
            ))
            .await
        }
        Role::Slow => super::slow::serve_slow(&ctx, &mut link, &mut phase).await,
        _ => serve(&ctx, &mut link, &mut phase, |p| p == Phase::Stop).await,
    };
    match result {
        Ok(()) => link.disconnect(),
        Err(cause) => ctx.stats.drop_conn(&cause),
    }
}

/// Connects, then runs; the whole life of a spawned client.
pub async fn spawned_client(
    ctx: Arc<Ctx>,
    role: Role,
    index: u32,
    seq: u64,
    permit: tokio::sync::OwnedSemaphorePermit,
) {
    let link = ctx.connect(role, index, seq).await;
    drop(permit);
    match link {
        Ok(link) => run_client(ctx.clone(), link, role, index).await,
        Err(_) if role == Role::Pub => {
            ctx.publishing.fetch_sub(1, Relaxed);
        }
        Err(_) => {}
    }
    ctx.live.fetch_sub(1, Relaxed);
}

pub(crate) fn next_ping(keepalive: u16) -> Option<Instant> {
    (keepalive > 0).then(|| Instant::now() + Duration::from_secs(u64::from(keepalive)))
}

/// Answers what the broker sends (counting publications, acknowledging QoS 1/2) and keeps the
/// connection alive until `done(phase)`.
pub(crate) async fn serve(
    ctx: &Ctx,
    link: &mut Wire,
    phase: &mut watch::Receiver<Phase>,
    done: impl Fn(Phase) -> bool,
) -> Result<(), Cause> {
    let keepalive = ctx.plan.keepalive;
    let mut ping_at = next_ping(keepalive);
    // One timer and one phase watcher for the whole loop, not one per wake-up: with a thousand
    // subscribers each registration is a shared lock taken per delivery.
    let ping = sleep_until(ping_at.unwrap_or_else(Instant::now));
    tokio::pin!(ping);
    loop {
        if done(*phase.borrow_and_update()) {
            return Ok(());
        }
        let changed = phase.changed();
        tokio::pin!(changed);
        loop {
            tokio::select! {
                r = link.stream.readable() => {
                    r.map_err(|e| Cause::of_io(&e))?;
                    link.try_fill()?;
                    while let Some(p) = link.decode()? {
                        on_packet(ctx, link, p, None)?;
                    }
                    link.try_flush()?;
                }
                r = link.stream.writable(), if link.pending_out() > 0 => {
                    r.map_err(|e| Cause::of_io(&e))?;
                    link.try_flush()?;
                }
                _ = &mut ping, if ping_at.is_some() => {
                    link.queue(&Packet::PingReq)?;
                    link.try_flush()?;
                    ping_at = next_ping(keepalive);
                    if let Some(at) = ping_at {
                        ping.as_mut().reset(at);
                    }
                }
                r = &mut changed => {
                    if r.is_err() {
                        return Ok(());
                    }
                    break;
                }
            }
        }
    }
}

/// Counts a publication whose handshake completed, with its acknowledgement latency from the
/// time it was due.
fn acked(stats: &Stats, due: Option<u64>) {
    if let Some(due) = due {
        stats.acked.fetch_add(1, Relaxed);
        let took = now_nanos().saturating_sub(due);
        stats.ack_latency.record(Duration::from_nanos(took));
    }
}

/// Handles one packet from the broker; `window` is the publisher's, if this is one.
pub(crate) fn on_packet(
    ctx: &Ctx,
    link: &mut Wire,
    packet: Packet,
    window: Option<&mut Outbound<u64>>,
) -> Result<(), Cause> {
    let stats = &ctx.stats;
    match packet {
        Packet::Publish(p) => {
            stats.received.fetch_add(1, Relaxed);
            if let Some(lat) = latency_of(&p.payload, now_nanos()) {
                stats.latency.record(lat);
            }
            match (p.qos, p.packet_id) {
                (QoS::AtLeastOnce, Some(id)) => link.queue(&Packet::PubAck(PubResp::new(id)))?,
                (QoS::ExactlyOnce, Some(id)) => link.queue(&Packet::PubRec(PubResp::new(id)))?,
                _ => {}
            }
        }
        Packet::PubRel(r) => link.queue(&Packet::PubComp(PubResp::new(r.packet_id)))?,
        Packet::PubRec(r) => {
            let refused = r.reason.is_error();
            // A refused message leaves the window unacknowledged; PUBREL answers only a PUBREC
            // below 0x80.
            if let Some(w) = window {
                w.pubrec(r.packet_id, refused);
            }
            if !refused {
                link.queue(&Packet::PubRel(PubResp::new(r.packet_id)))?;
            }
        }
        Packet::PubAck(r) => acked(stats, window.and_then(|w| w.puback(r.packet_id))),
        Packet::PubComp(r) => acked(stats, window.and_then(|w| w.pubcomp(r.packet_id))),
        Packet::Disconnect(d) => return Err(Cause::Disconnected(d.reason.as_u8())),
        Packet::PingResp | Packet::SubAck(_) | Packet::UnsubAck(_) => {}
        _ => return Err(Cause::Protocol),
    }
    Ok(())
}
