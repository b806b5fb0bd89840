//! The MQTT broker: `mq broker`.
//!
//! ```text
//!  listener ─accept─▶ link task per connection ──▶ router (trie, retained, sessions) ──▶ links
//!                                                     ├──▶ store thread (redb), $SYS task
//!  remote brokers ◀── bridge task per `connection` ◀──┘  (a session of the router)
//! ```
//!
//! Shutdown follows mini-redis: [`Broker::run`] waits for the caller's shutdown future, tells
//! every task through a broadcast channel, and returns once the last task has dropped its
//! completion sender and the store has committed. Every step is bounded
//! ([`SHUTDOWN_LINKS`], [`SHUTDOWN_STORE`]), so shutdown ends even with stuck peers or a
//! stuck disk.

pub mod bridge;
pub mod cell;
pub mod config;
pub mod link;
pub mod listener;
pub mod log;
pub mod order;
pub mod reloads;
pub mod retained;
pub mod router;
pub mod security;
pub mod store;
pub mod subscriptions;
pub mod sys;
pub mod web;
pub mod wills;

use crate::session::Limits;
use config::Config;
use link::LinkLimits;
use router::{Router, Settings};
use security::Access;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// Longest shutdown waits for connections to close (a peer that does not read makes its
/// last write wait; see `link::FLUSH_BOUND`).
pub const SHUTDOWN_LINKS: Duration = Duration::from_secs(3);
/// Longest shutdown waits for the store's last commit.
pub const SHUTDOWN_STORE: Duration = Duration::from_secs(5);

/// Why the broker could not start.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// A listener could not be bound.
    #[error("cannot listen on {address}:{port}: {source}")]
    Bind {
        /// The address (`*` for every address, IPv6 in brackets).
        address: String,
        /// The port.
        port: u16,
        /// The cause.
        source: std::io::Error,
    },
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// A password or ACL file could not be loaded (the message names file, line and reason).
    #[error(transparent)]
    Auth(#[from] security::AuthError),
    /// A log file could not be opened.
    #[error(transparent)]
    Log(#[from] log::LogError),
    /// A listener's TLS files could not be loaded.
    #[error("listener on port {port}: {source}")]
    Tls {
        /// The listener's port.
        port: u16,
        /// The cause (names the file).
        source: security::tls::TlsError,
    },
}

/// Router settings derived from a config.
pub fn settings(config: &Config) -> Settings {
    Settings {
        limits: Limits {
            max_inflight: config.max_inflight_messages,
            max_queued: config.max_queued_messages,
            max_queued_bytes: config.max_queued_bytes,
            queue_qos0: config.queue_qos0_messages,
            max_inflight_bytes: config.max_inflight_bytes,
        },
        log: log::Log(config.log),
        upgrade_outgoing_qos: config.upgrade_outgoing_qos,
        check_retain_source: config.check_retain_source,
    }
}

pub(crate) fn link_limits(config: &Config) -> LinkLimits {
    LinkLimits {
        connect_timeout: config.connect_timeout,
        max_packet_size: config.max_packet_size,
        message_size_limit: config.message_size_limit,
        retain_available: config.retain_available,
        max_keepalive: config.max_keepalive,
        allow_zero_length_clientid: config.allow_zero_length_clientid,
        auto_id_prefix: config.auto_id_prefix.clone(),
        max_inflight: config.max_inflight_messages,
        max_qos: config.max_qos,
        max_topic_alias: config.max_topic_alias,
        clientid_prefix: config.clientid_prefixes.clone(),
        persistent_client_expiration: config.persistent_client_expiration,
        username_as_clientid: (config.effective_listeners(&[]).iter())
            .map(|l| l.use_username_as_clientid)
            .collect(),
        mount_points: (config.effective_listeners(&[]).iter())
            .map(|l| {
                l.mount_point
                    .as_deref()
                    .map(|p| Arc::new(link::MountPoint::new(p)))
            })
            .collect(),
    }
}

/// A broker with its sockets bound, not yet serving.
pub struct Broker {
    config: Config,
    listeners: Vec<listener::Listener>,
    router: Arc<Router>,
    store_thread: Option<std::thread::JoinHandle<()>>,
    security: Option<Arc<security::Security>>,
    acceptors: Vec<(security::tls::ListenerTls, listener::SharedAcceptor)>,
    bridges: Arc<bridge::Bridges>,
    web: Arc<web::Web>,
}

impl Broker {
    /// Loads the password and ACL files, opens the store (restoring its content) and binds
    /// the listeners of `config`.
    pub async fn bind(config: Config) -> Result<Broker, BrokerError> {
        let (access, security) = security::policy(&config, &config.effective_listeners(&[]))?;
        let mut broker = Self::bind_with_access(config, access).await?;
        broker.security = security;
        Ok(broker)
    }

    /// As [`Broker::bind`], with an access policy instead of the config's files.
    pub async fn bind_with_access(
        mut config: Config,
        access: Arc<dyn Access>,
    ) -> Result<Broker, BrokerError> {
        if config.log.output.is_none() {
            config.log.output = Some(log::Output::open(&config.log_output)?);
        }
        let log = log::Log(config.log);
        for note in &config.notes {
            log.info(format_args!("Notice: {note}."));
        }
        router::log_access_warnings(&*access, log);
        let (store, restored, store_thread) = match config.persistence {
            true => open_store(&config.store_path(), log)?,
            false => (None, None, None),
        };
        let router = Arc::new(Router::new(settings(&config), access, store));
        if let Some(r) = restored {
            router.restore(r);
        }
        let mut listeners = Vec::new();
        let mut acceptors = Vec::new();
        let mut infos = Vec::new();
        for (i, l) in config.effective_listeners(&[]).iter().enumerate() {
            let acceptor = match &l.tls {
                Some(t) => {
                    let server =
                        security::tls::server_config(t).map_err(|source| BrokerError::Tls {
                            port: l.port,
                            source,
                        })?;
                    if let Some(keys) = &t.keylog {
                        log.info(format_args!(
                            "Warning: listener on port {} writes its TLS session secrets to {} \
                             (tls_keylog): anyone who reads it can decrypt the traffic.",
                            l.port,
                            keys.display()
                        ));
                    }
                    let shared = Arc::new(std::sync::RwLock::new(server.into()));
                    acceptors.push((t.clone(), Arc::clone(&shared)));
                    Some(shared)
                }
                None => None,
            };
            let bound =
                listener::bind(i, l, acceptor)
                    .await
                    .map_err(|source| BrokerError::Bind {
                        address: match &l.bind {
                            Some(a) if a.contains(':') => format!("[{a}]"),
                            Some(a) => a.clone(),
                            None => "*".into(),
                        },
                        port: l.port,
                        source,
                    })?;
            for b in &bound {
                if let Ok(addr) = b.socket.local_addr() {
                    let family = if addr.is_ipv4() { "ipv4" } else { "ipv6" };
                    let kind = match l.protocol.name() {
                        "mqtt" => "",
                        "websockets" => "websockets ",
                        _ => "http_api ",
                    };
                    log.info(format_args!(
                        "Opening {family} {kind}listen socket on port {}.",
                        addr.port()
                    ));
                }
            }
            infos.push(listener_info(i, l, &bound));
            listeners.extend(bound);
        }
        let bridges = Arc::new(bridge::Bridges::new(router.clone()));
        let store_path = config.persistence.then(|| config.store_path());
        let web = Arc::new(web::Web::new(
            router.clone(),
            infos,
            store_path,
            bridges.registry(),
        ));
        Ok(Broker {
            config,
            listeners,
            router,
            store_thread,
            security: None,
            acceptors,
            bridges,
            web,
        })
    }

    /// The bound addresses (to learn the port when listening on port 0).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.listeners
            .iter()
            .filter_map(|l| l.socket.local_addr().ok())
            .collect()
    }

    /// A handle that applies a new config to the running broker (SIGHUP).
    pub fn reloader(&self) -> Reloader {
        Reloader {
            log_output: self.config.log.output,
            router: self.router.clone(),
            security: self.security.clone(),
            acceptors: self.acceptors.clone(),
            bridges: self.bridges.clone(),
        }
    }

    /// The broker's bridges (their status: [`bridge::Bridges::registry`]).
    pub fn bridges(&self) -> Arc<bridge::Bridges> {
        self.bridges.clone()
    }

    /// The broker's logger, writing to the destinations it opened.
    pub fn log(&self) -> log::Log {
        log::Log(self.config.log)
    }

    /// The shared broker state (counters, sessions), read by reports and tests.
    pub fn router(&self) -> Arc<Router> {
        self.router.clone()
    }

    /// Serves until `shutdown` completes, then closes every connection and flushes the store.
    pub async fn run(self, shutdown: impl Future) {
        let log = log::Log(self.config.log);
        log.info(format_args!("{} running", sys::version()));
        let (stop_tx, _) = broadcast::channel(1);
        let (done_tx, done_rx) = mpsc::channel::<()>(1);
        // Bridges first: their local sessions subscribe before any client can publish.
        let env = bridge::Env::new(&self.config);
        let bridges = self.bridges.clone();
        bridges
            .start(&self.config.bridges, env, done_tx.clone())
            .await;
        let mut bridges_stop = stop_tx.subscribe();
        tokio::spawn(async move {
            let _ = bridges_stop.recv().await;
            bridges.stop_all().await;
        });
        let shared = listener::Shared {
            router: self.router.clone(),
            limits: Arc::new(link_limits(&self.config)),
            web: self.web.clone(),
        };
        for l in self.listeners {
            let task = listener::accept_loop(l, shared.clone(), stop_tx.clone(), done_tx.clone());
            tokio::spawn(task);
        }
        drop(shared);
        let sys = sys::run(
            self.router.clone(),
            self.config.sys_interval,
            stop_tx.subscribe(),
        );
        let sys_done = done_tx.clone();
        tokio::spawn(async move {
            sys.await;
            drop(sys_done);
        });
        if let Some(output) = self.config.log.output {
            tokio::spawn(log::topic::run(
                output,
                self.router.clone(),
                stop_tx.subscribe(),
            ));
        }
        let sweeper = keepalive_sweeper(self.router.clone(), stop_tx.subscribe());
        let sweeper_done = done_tx.clone();
        tokio::spawn(async move {
            sweeper.await;
            drop(sweeper_done);
        });
        shutdown.await;
        log.info(format_args!("{} terminating", sys::version()));
        let done = (done_tx, done_rx);
        // The HTTP side's router handle goes first: nothing reads the counters any more.
        drop(self.web);
        // The bridges have their own stop signal (the broadcast below); this is only a handle.
        drop(self.bridges);
        shut_down(self.router, self.store_thread, stop_tx, done, log).await;
        if let Some(output) = self.config.log.output {
            output.close();
        }
    }
}

/// The store's sender, what it held, and its writer thread.
type OpenedStore = (
    Option<store::StoreTx>,
    Option<store::Restored>,
    Option<std::thread::JoinHandle<()>>,
);

/// Opens the store at `path`, reads it back and starts its writer.
fn open_store(path: &std::path::Path, log: log::Log) -> Result<OpenedStore, BrokerError> {
    let (db, restored) = store::open(path)?;
    log.info(format_args!(
        "Restored {} retained messages and {} sessions from {}.",
        restored.retained.len(),
        restored.sessions.len(),
        path.display()
    ));
    if restored.removed_sys > 0 {
        log.info(format_args!(
            "Warning: removed {} retained $SYS messages from {}: only the broker publishes to \
             $SYS.",
            restored.removed_sys,
            path.display()
        ));
    }
    let (tx, handle) = store::start(db, path.to_path_buf(), log);
    Ok((Some(tx), Some(restored), Some(handle)))
}

/// The end of [`Broker::run`], each step bounded: listeners close, connections say goodbye
/// (v5: DISCONNECT 0x8B) and publish their wills, delayed wills are published, the store
/// commits and closes.
async fn shut_down(
    router: Arc<Router>,
    store_thread: Option<std::thread::JoinHandle<()>>,
    stop_tx: broadcast::Sender<()>,
    (done_tx, mut done_rx): (mpsc::Sender<()>, mpsc::Receiver<()>),
    log: log::Log,
) {
    // Listeners close, connections still in their handshake end, $SYS and sweeps stop.
    let _ = stop_tx.send(());
    router.close_all();
    drop(done_tx);
    if tokio::time::timeout(SHUTDOWN_LINKS, done_rx.recv())
        .await
        .is_err()
    {
        log.info(format_args!(
            "Warning: {} connections did not close within {} s; exiting without them.",
            router.stats.connected.load(Ordering::Relaxed),
            SHUTDOWN_LINKS.as_secs()
        ));
    }
    // Wills still waiting out a delay are published now: they are not kept in the store.
    router.publish_pending_wills();
    if let Some(store) = router.store() {
        if tokio::time::timeout(SHUTDOWN_STORE, store.close())
            .await
            .is_err()
        {
            log.info(format_args!(
                "Error: persistence store did not finish its last write within {} s.",
                SHUTDOWN_STORE.as_secs()
            ));
            return;
        }
    }
    // The writer has answered the close: the thread is ending, not waiting for anything.
    if let Some(t) = store_thread {
        let _ = t.join();
    }
}

/// How the HTTP API describes a listener bound as `bound`.
fn listener_info(
    index: usize,
    config: &config::ListenerConfig,
    bound: &[listener::Listener],
) -> web::ListenerInfo {
    let port = bound
        .first()
        .and_then(|b| b.socket.local_addr().ok())
        .map_or(config.port, |a| a.port());
    web::ListenerInfo {
        index,
        port,
        address: config.bind.clone(),
        protocol: config.protocol.name(),
        tls: config.tls.is_some(),
        max_connections: config.max_connections,
        stats: bound.first().map(|b| b.stats.clone()).unwrap_or_default(),
    }
}

/// Closes connections silent for 1.5 times their keepalive, checked four times a second.
async fn keepalive_sweeper(router: Arc<Router>, mut stop: broadcast::Receiver<()>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(250));
    loop {
        tokio::select! {
            _ = tick.tick() => {
                router.sweep_keepalive();
                router.sweep_expired();
            }
            _ = stop.recv() => return,
        }
    }
}

/// Applies a re-read config to a running broker: limits, logging, password and ACL files, TLS
/// certificates, bridges (those whose `connection` block changed restart). Connected clients
/// stay; a file that fails to load is logged and the old
/// rules (or certificates) stay in force.
#[derive(Clone)]
pub struct Reloader {
    log_output: Option<&'static log::Output>,
    router: Arc<Router>,
    security: Option<Arc<security::Security>>,
    acceptors: Vec<(security::tls::ListenerTls, listener::SharedAcceptor)>,
    bridges: Arc<bridge::Bridges>,
}

impl Reloader {
    /// Applies what can change without restarting listeners.
    pub fn reload(&self, config: &Config) {
        let mut config = config.clone();
        if let Some(output) = self.log_output {
            // Reopens log files (rotation); a file that fails keeps the old destinations.
            if let Err(e) = output.reopen(&config.log_output) {
                let log = log::Log(config.log);
                log.info(format_args!("Error: reloading config: {e}."));
            }
            config.log.output = Some(output);
        }
        let config = &config;
        let log = log::Log(config.log);
        let listeners = config.effective_listeners(&[]);
        match &self.security {
            Some(s) => s.stage(security::auth_configs(config, &listeners)),
            None => {
                if security::policy(config, &listeners).is_ok_and(|(a, _)| !a.allows_everything()) {
                    log.info(format_args!(
                        "Warning: the broker started without password or ACL files; restart it \
                         to apply the new security settings."
                    ));
                }
            }
        }
        self.router.reload(settings(config));
        for (t, shared) in &self.acceptors {
            match security::tls::server_config(t) {
                Ok(server) => *shared.write().unwrap_or_else(|e| e.into_inner()) = server.into(),
                Err(e) => log.info(format_args!(
                    "Error: reloading TLS certificates: {e} (keeping the previous ones)."
                )),
            }
        }
        // Bridges whose block changed restart; that waits for their connections to close, so
        // it runs beside the caller.
        let (bridges, config) = (self.bridges.clone(), config.clone());
        tokio::spawn(async move { bridges.reload(&config).await });
    }
}

/// Runs a broker for `config` until `shutdown` completes.
pub async fn run(config: Config, shutdown: impl Future) -> Result<(), BrokerError> {
    Broker::bind(config).await?.run(shutdown).await;
    Ok(())
}
