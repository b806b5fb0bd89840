//! Bridges: `mq broker` as a client of other brokers, forwarding chosen topics each way.
//!
//! ```text
//!   local clients ──▶ router ──▶ bridge session (subscriptions = `out` topics, own queue)
//!                                      │ task: connect, backoff, notifications
//!                                      ▼
//!                               remote broker ──(`in` topics)──▶ routed here as the bridge
//! ```
//!
//! A bridge is a session of the router like any client's: its outgoing topics are its
//! subscriptions, its queue obeys the same limits and the same store, and a task owns its
//! connection to the remote broker. The router knows nothing of bridges: loops are prevented
//! by the No Local option of the bridge's subscriptions (a message that came in over a
//! bridge is routed as the bridge's own publish, so it is never queued back to it), by No
//! Local on the remote side in 5.0, and by `try_private` (the bridge bit of a 3.x CONNECT)
//! which asks the remote broker for the same.
//!
//! | module | what it holds |
//! |---|---|
//! | [`config`] | the resolved `connection` block (the syntax is in `broker::config::bridge`) |
//! | [`topics`] | `topic` lines: directions, prefixes, remapping |
//! | [`backoff`] | `restart_timeout`: constant, or decorrelated jitter |
//! | [`notify`] | the `1`/`0` state on the notification topic, and the remote Last Will |
//! | [`status`] | what each bridge is doing, for reports |
//! | `task` | one bridge's lifetime: local session, reconnections, start types |
//! | `link` | one connection to the remote: the session's flow both ways |

pub mod backoff;
pub mod config;
mod link;
pub mod notify;
pub mod status;
mod task;
pub mod topics;

use super::config::Config;
use super::log::Log;
use super::router::Router;
use config::BridgeConfig;
use status::{BridgeStatus, Registry};
use std::sync::Arc;
use tokio::sync::{mpsc, watch};

/// Broker-wide settings a bridge follows.
#[derive(Clone, Copy, Debug)]
pub struct Env {
    /// Logging.
    pub log: Log,
    /// `max_inflight_messages`: the default receive maximum told to a 5.0 remote.
    pub max_inflight: u16,
    /// `max_packet_size`: the largest packet accepted from the remote.
    pub max_packet_size: u32,
    /// `message_size_limit`: larger messages from the remote are dropped (0: none).
    pub message_size_limit: u32,
    /// `retain_available`: without it, messages from the remote lose their retain flag.
    pub retain_available: bool,
}

impl Env {
    /// The settings `config` gives.
    pub fn new(config: &Config) -> Env {
        Env {
            log: Log(config.log),
            max_inflight: config.max_inflight_messages,
            max_packet_size: config.max_packet_size,
            message_size_limit: config.message_size_limit,
            retain_available: config.retain_available,
        }
    }
}

/// What a bridge's task and connection share.
pub(crate) struct Ctx {
    cfg: Arc<BridgeConfig>,
    router: Arc<Router>,
    env: Env,
    status: Arc<BridgeStatus>,
}

/// A bridge whose task runs.
struct Running {
    cfg: Arc<BridgeConfig>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    status: Arc<BridgeStatus>,
}

impl Running {
    /// Tells the task to stop and waits until it has (its local session detached).
    async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

#[derive(Default)]
struct Inner {
    running: Vec<Running>,
    /// Held by every bridge task; the broker's shutdown waits until all are dropped.
    done: Option<mpsc::Sender<()>>,
    stopped: bool,
}

/// Every bridge of the broker: started with it, changed by reloads, stopped at shutdown.
pub struct Bridges {
    router: Arc<Router>,
    inner: tokio::sync::Mutex<Inner>,
    registry: Arc<Registry>,
}

impl Bridges {
    /// No bridges running yet.
    pub fn new(router: Arc<Router>) -> Bridges {
        Bridges {
            router,
            inner: tokio::sync::Mutex::default(),
            registry: Arc::default(),
        }
    }

    /// What each bridge is doing.
    pub fn registry(&self) -> Arc<Registry> {
        self.registry.clone()
    }

    /// Starts `configs`: their local sessions are attached before this returns, their tasks
    /// run beside; every task holds a clone of `done` until it ends.
    pub async fn start(&self, configs: &[BridgeConfig], env: Env, done: mpsc::Sender<()>) {
        let mut inner = self.inner.lock().await;
        inner.done = Some(done);
        for c in configs {
            let r = self.spawn(c, env, &inner);
            inner.running.push(r);
        }
        self.publish_list(&inner);
    }

    fn spawn(&self, cfg: &BridgeConfig, env: Env, inner: &Inner) -> Running {
        let status = Arc::new(BridgeStatus::new(
            &cfg.name,
            &cfg.remote_clientid,
            &cfg.local_clientid,
        ));
        let cfg = Arc::new(cfg.clone());
        let ctx = Arc::new(Ctx {
            cfg: cfg.clone(),
            router: self.router.clone(),
            env,
            status: status.clone(),
        });
        let (stop, rx) = watch::channel(false);
        let done = inner.done.clone();
        let bridge = task::Task::new(ctx);
        let task = tokio::spawn(async move {
            bridge.run(rx).await;
            drop(done);
        });
        Running {
            cfg,
            stop,
            task,
            status,
        }
    }

    fn publish_list(&self, inner: &Inner) {
        self.registry
            .replace(inner.running.iter().map(|r| r.status.clone()).collect());
    }

    /// Applies a re-read config: bridges whose block changed restart with it, removed ones
    /// stop (and their local session ends), new ones start. Unchanged bridges keep running.
    pub async fn reload(&self, config: &Config) {
        let env = Env::new(config);
        let mut inner = self.inner.lock().await;
        if inner.stopped {
            return;
        }
        let mut kept = Vec::new();
        for r in std::mem::take(&mut inner.running) {
            let new = config.bridges.iter().find(|c| c.name == r.cfg.name);
            if new.is_some_and(|c| *c == *r.cfg) {
                kept.push(r);
                continue;
            }
            let old = r.cfg.clone();
            r.stop().await;
            let what = if new.is_some() {
                "changed, restarting"
            } else {
                "removed"
            };
            env.log
                .info(format_args!("Bridge {}: configuration {what}.", old.name));
            if new.is_none_or(|c| c.local_clientid != old.local_clientid) {
                self.retire(&old.local_clientid);
            }
        }
        for c in &config.bridges {
            match kept.iter().position(|r| r.cfg.name == c.name) {
                Some(i) => {
                    let r = kept.remove(i);
                    inner.running.push(r);
                }
                None => {
                    let r = self.spawn(c, env, &inner);
                    inner.running.push(r);
                }
            }
        }
        self.publish_list(&inner);
    }

    /// Ends the local session of a bridge that is gone, so that it stops collecting messages.
    fn retire(&self, local_clientid: &str) {
        let a = self.router.connect(local_clientid, true, false, None);
        self.router.disconnect(&a.cell, a.generation);
    }

    /// Stops every bridge (broker shutdown) and lets go of the completion sender.
    pub async fn stop_all(&self) {
        let mut inner = self.inner.lock().await;
        inner.stopped = true;
        let running = std::mem::take(&mut inner.running);
        // All at once: each may take a moment to say goodbye to its remote.
        for r in &running {
            let _ = r.stop.send(true);
        }
        for r in running {
            r.stop().await;
        }
        inner.done = None;
    }
}
