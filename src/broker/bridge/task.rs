//! The task that owns one bridge: its local session, and its connection to the remote broker
//! from one attempt to the next.
//!
//! ```text
//!  attach local session ─▶ [lazy: wait for `threshold` queued] ─▶ connect ─▶ Link::serve
//!        ▲                                                                      │
//!        └──────────── wait restart_timeout (backoff) ◀── lost / failed ◀──────┘
//! ```
//!
//! The local session is attached once and keeps collecting messages while the remote is away
//! (unless `local_cleansession`, which ends it with each connection); QoS 1 and 2 messages
//! wait in its queue, in the store with persistence, and go out in order on reconnect.

use super::config::{Address, StartType};
use super::link::{End, Link, local_options};
use super::status::{BridgeStatus, State};
use super::{Ctx, notify};
use crate::broker::router::SessionCell;
use crate::client::{ClientError, ClientOptions};
use crate::protocol::{Properties, ReasonCode, Version};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::{oneshot, watch};

/// Time allowed for TCP, TLS and CONNACK together.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a lazy bridge looks at its queue, and a bridge on a secondary address tries the
/// first one again (mosquitto's figures).
const LAZY_CHECK: Duration = Duration::from_secs(1);
const PRIMARY_RETRY: Duration = Duration::from_secs(5);

/// The bridge's session on this broker, attached while the task runs.
struct Local {
    cell: Arc<SessionCell>,
    generation: u64,
}

/// One bridge's task.
pub(super) struct Task {
    ctx: Arc<Ctx>,
    local: Option<Local>,
    backoff: super::backoff::Backoff,
    address: usize,
    /// Cleared when the remote refused the bridge bit of a 3.x CONNECT (mosquitto retries
    /// without it, for brokers that do not know it).
    try_private: bool,
}

impl Task {
    /// A bridge's task with its local session already attached and subscribed, so that
    /// nothing published from now on misses it (the broker starts its bridges before its
    /// listeners accept anyone).
    pub(super) fn new(ctx: Arc<Ctx>) -> Task {
        let mut task = Task {
            backoff: super::backoff::Backoff::new(ctx.cfg.restart),
            try_private: ctx.cfg.try_private,
            ctx,
            local: None,
            address: 0,
        };
        task.attach();
        task
    }

    fn status(&self) -> &BridgeStatus {
        &self.ctx.status
    }

    /// Runs until `stop` turns true (reload, shutdown) or a `once` bridge's connection ends.
    pub(super) async fn run(mut self, mut stop: watch::Receiver<bool>) {
        let cfg = self.ctx.cfg.clone();
        let log = self.ctx.env.log;
        if cfg.local_username.is_none() && !self.ctx.router.access().allows_everything() {
            log.info(format_args!(
                "Warning: bridge {} has no local_username: the ACL's rules for anonymous clients \
                 decide what it forwards and brings in.",
                cfg.name
            ));
        }
        // The state starts at 0 here, once, as in mosquitto.
        let from = self.local.as_ref().map(|l| l.cell.clone());
        notify::publish_local(&self.ctx.router, &cfg, from.as_ref(), false);
        let mut first = true;
        loop {
            if !self.wait_turn(first, &mut stop).await {
                break;
            }
            first = false;
            match self.attempt(&mut stop).await {
                Some(End::Stop(why)) => {
                    match why {
                        Some(why) => log.info(format_args!("Bridge {} stopped: {why}.", cfg.name)),
                        None => log.info(format_args!("Bridge {} stopped.", cfg.name)),
                    }
                    break;
                }
                Some(End::Idle) => log.info(format_args!(
                    "Bridge {} idle for {} s, disconnecting.",
                    cfg.name, cfg.idle_timeout
                )),
                Some(End::Primary) => {
                    log.info(format_args!(
                        "Bridge {}: {} answers again, switching back to it.",
                        cfg.name, cfg.addresses[0]
                    ));
                    self.address = 0;
                }
                Some(End::Lost(_)) | None => {}
            }
            if cfg.start_type == StartType::Once {
                log.info(format_args!(
                    "Bridge {} (start_type once) will not reconnect.",
                    cfg.name
                ));
                break;
            }
        }
        self.status().set_state(State::Stopped);
        self.detach();
    }

    /// Waits for the moment to connect; false when the bridge must stop instead.
    async fn wait_turn(&mut self, first: bool, stop: &mut watch::Receiver<bool>) -> bool {
        let cfg = self.ctx.cfg.clone();
        if *stop.borrow() || self.ctx.router.is_closing() {
            return false;
        }
        if cfg.start_type == StartType::Lazy {
            self.status().set_state(State::Waiting);
            return self.wait_for_threshold(stop).await;
        }
        if first {
            return true;
        }
        self.status().set_state(State::Waiting);
        let delay = self.backoff.next_wait();
        tokio::select! {
            _ = tokio::time::sleep(delay) => !*stop.borrow(),
            _ = stop.changed() => false,
        }
    }

    /// A lazy bridge starts once `threshold` messages wait for the remote.
    async fn wait_for_threshold(&mut self, stop: &mut watch::Receiver<bool>) -> bool {
        let cfg = self.ctx.cfg.clone();
        loop {
            self.attach();
            let pending = self
                .local
                .as_ref()
                .map_or(0, |l| l.cell.lock().session.pending());
            if pending >= cfg.threshold {
                self.ctx.env.log.info(format_args!(
                    "Bridge {}: {pending} messages queued, connecting.",
                    cfg.name
                ));
                return true;
            }
            tokio::select! {
                _ = tokio::time::sleep(LAZY_CHECK) => {}
                _ = stop.changed() => return false,
            }
            if *stop.borrow() || self.ctx.router.is_closing() {
                return false;
            }
        }
    }

    /// One connection: opened, served until it ends, and wound down. `None` when it could
    /// not be opened.
    async fn attempt(&mut self, stop: &mut watch::Receiver<bool>) -> Option<End> {
        let cfg = self.ctx.cfg.clone();
        let log = self.ctx.env.log;
        self.attach();
        let local = self.local.as_ref()?;
        let (cell, generation) = (local.cell.clone(), local.generation);
        let addr = cfg.addresses[self.address].clone();
        self.status().set_state(State::Connecting);
        self.status().set_address(addr.to_string());
        log.info(format_args!("Connecting bridge {} ({addr})", cfg.name));
        cell.lock().session.connecting();
        let opened = tokio::select! {
            r = self.open(&addr) => r,
            _ = stop.changed() => {
                self.offline();
                return Some(End::Stop(None));
            }
        };
        let (conn, connack) = match opened {
            Ok(c) => c,
            Err(why) => {
                self.offline();
                log.info(format_args!(
                    "Error: bridge {}: connection to {addr} failed: {why}.",
                    cfg.name
                ));
                BridgeStatus::count(&self.status().failures);
                self.next_address();
                return None;
            }
        };
        self.backoff.reset();
        BridgeStatus::count(&self.status().connects);
        log.info(format_args!(
            "Bridge {} connected to {addr} as {} (session present: {}).",
            cfg.name, cfg.remote_clientid, connack.session_present as u8
        ));
        let stats = &self.ctx.router.stats;
        stats.bridges_connected.fetch_add(1, Ordering::Relaxed);
        let (probe, answered) = match self.primary_probe() {
            Some((task, rx)) => (Some(task), Some(rx)),
            None => (None, None),
        };
        let end = match Link::new(&self.ctx, cell.clone(), generation, conn, &connack) {
            Ok(link) => link.serve(stop, answered).await,
            Err(end) => end,
        };
        if let Some(task) = probe {
            task.abort();
        }
        stats.bridges_connected.fetch_sub(1, Ordering::Relaxed);
        self.wound_down(&end, &addr);
        Some(end)
    }

    /// After a connection: the state goes to 0 here, the session stops flowing.
    fn wound_down(&mut self, end: &End, addr: &Address) {
        let cfg = self.ctx.cfg.clone();
        if let End::Lost(why) = end {
            self.ctx.env.log.info(format_args!(
                "Bridge {}: connection to {addr} lost: {why}.",
                cfg.name
            ));
            BridgeStatus::count(&self.status().failures);
            if cfg.round_robin {
                self.next_address();
            } else {
                // The first address is the main one: back to it first.
                self.address = 0;
            }
        }
        self.status().set_state(State::Waiting);
        if let Some(l) = &self.local {
            notify::publish_local(&self.ctx.router, &cfg, Some(&l.cell), false);
        }
        if cfg.local_clean_session {
            // A clean local session ends with the connection, and with it what it queued.
            self.detach();
        } else {
            self.offline();
        }
    }

    /// The session stops flowing (QoS 0 messages are no longer queued), unless a client took
    /// it over: then it is no longer ours to touch.
    fn offline(&self) {
        if let Some(l) = &self.local {
            let mut st = l.cell.lock();
            if st.link == Some(l.generation) {
                st.session.disconnect();
            }
        }
    }

    fn next_address(&mut self) {
        self.address = (self.address + 1) % self.ctx.cfg.addresses.len();
    }

    /// While on a secondary address (`round_robin false`), a task that tries the first one
    /// every few seconds and says when it answers.
    fn primary_probe(&self) -> Option<(tokio::task::JoinHandle<()>, oneshot::Receiver<()>)> {
        if self.ctx.cfg.round_robin || self.address == 0 {
            return None;
        }
        let primary = self.ctx.cfg.addresses[0].clone();
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(PRIMARY_RETRY).await;
                let addr = (primary.host.as_str(), primary.port);
                let probe = tokio::net::TcpStream::connect(addr);
                if let Ok(Ok(_)) = tokio::time::timeout(PRIMARY_RETRY, probe).await {
                    let _ = tx.send(());
                    return;
                }
            }
        });
        Some((task, rx))
    }

    /// TCP (or TLS), CONNECT and CONNACK, retrying at once without the bridge bit when a 3.x
    /// remote refuses it.
    async fn open(
        &mut self,
        addr: &Address,
    ) -> Result<
        (
            crate::connection::Connection<crate::transport::Stream>,
            crate::protocol::ConnAck,
        ),
        String,
    > {
        loop {
            let opts = self.options(addr)?;
            let r = tokio::time::timeout(CONNECT_TIMEOUT, crate::client::handshake(&opts)).await;
            match r {
                Ok(Ok(c)) => return Ok(c),
                Ok(Err(ClientError::Refused {
                    reason: ReasonCode::UnsupportedProtocolVersion,
                    ..
                })) if opts.bridge => {
                    self.ctx.env.log.info(format_args!(
                        "Bridge {}: {addr} refused the bridge flag (try_private); connecting as \
                         an ordinary client.",
                        self.ctx.cfg.name
                    ));
                    self.try_private = false;
                }
                Ok(Err(e)) => return Err(e.to_string()),
                Err(_) => return Err(format!("no CONNACK within {} s", CONNECT_TIMEOUT.as_secs())),
            }
        }
    }

    /// The CONNECT of this bridge.
    fn options(&self, addr: &Address) -> Result<ClientOptions, String> {
        let (cfg, env) = (&self.ctx.cfg, &self.ctx.env);
        let mut o = ClientOptions::new(addr.host.clone(), addr.port);
        o.version = cfg.protocol;
        o.client_id = cfg.remote_clientid.clone();
        o.clean_start = cfg.clean_session;
        o.keep_alive = cfg.keepalive;
        o.username = cfg.remote_username.clone();
        o.password = cfg.remote_password.clone().map(Into::into);
        o.will = notify::will(cfg);
        o.bridge = self.try_private && cfg.protocol != Version::V5;
        o.bind_address = cfg.bind_address;
        // Every forwarded message is latency: no Nagle delay.
        o.nodelay = true;
        o.max_packet_size = env.max_packet_size;
        if let Some(t) = &cfg.tls {
            o.tls = Some(t.options().client_config().map_err(|e| e.to_string())?);
        }
        let receive_maximum = cfg.receive_maximum.unwrap_or(env.max_inflight);
        o.properties = Properties {
            receive_maximum: (receive_maximum != 0).then_some(receive_maximum),
            session_expiry_interval: (cfg.session_expiry_interval != 0)
                .then_some(cfg.session_expiry_interval),
            ..Properties::default()
        };
        Ok(o)
    }

    /// Attaches the bridge's local session (again, if it was detached or taken over) and makes
    /// its subscriptions those of the outgoing topic lines.
    fn attach(&mut self) {
        let router = &self.ctx.router;
        let cfg = &self.ctx.cfg;
        let attached = self
            .local
            .as_ref()
            .is_some_and(|l| l.cell.lock().link == Some(l.generation));
        if attached {
            return;
        }
        let keep = !cfg.local_clean_session;
        let a = router.connect(
            &cfg.local_clientid,
            cfg.local_clean_session,
            keep,
            cfg.local_username.clone(),
        );
        router.set_expiry(&a.cell, if keep { u32::MAX } else { 0 });
        let wanted: Vec<_> = cfg
            .topics
            .iter()
            .filter(|t| t.direction.outgoing())
            .map(|t| (t.local.clone(), local_options(t.qos)))
            .collect();
        let stale: Vec<_> = a
            .cell
            .lock()
            .subs()
            .values()
            .map(|(f, _, _)| f.clone())
            .filter(|f| !wanted.iter().any(|(w, _)| w == f))
            .collect();
        for f in &stale {
            router.unsubscribe(&a.cell, f);
        }
        for (filter, opts) in &wanted {
            router.subscribe(&a.cell, filter, *opts, 0);
        }
        self.local = Some(Local {
            cell: a.cell,
            generation: a.generation,
        });
    }

    /// Detaches the local session: a clean one ends, a persistent one keeps collecting.
    fn detach(&mut self) {
        if let Some(l) = self.local.take() {
            self.ctx.router.disconnect(&l.cell, l.generation);
        }
    }
}
