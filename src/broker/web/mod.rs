//! The broker's HTTP side: WebSocket upgrades and `http_dir` on websockets listeners, and the
//! HTTP API on `http_api` listeners (Prometheus metrics, JSON views, the status page).
//!
//! | module | what it holds |
//! |---|---|
//! | [`http`] | reading one bounded request head, writing one response |
//! | [`upgrade`] | the first request on a websockets listener: upgrade, file, or refusal |
//! | [`files`] | `http_dir` static files, with path traversal refused |
//! | [`api`] | the `http_api` routes and their access check |
//! | [`metrics`] | the Prometheus text exposition |
//! | [`page`] | the status page and its scripts, embedded in the binary |
//!
//! A WebSocket connection is an ordinary link once upgraded: the listener hands the link a
//! [`crate::websocket::WsStream`] instead of a TCP stream. The HTTP API only reads what the
//! router and the listeners count.

pub mod api;
pub mod files;
pub mod http;
pub mod metrics;
pub mod page;
pub mod upgrade;

use super::listener::ListenerStats;
use super::router::Router;
use std::path::PathBuf;
use std::sync::Arc;

/// One configured listener, as the API lists it.
#[derive(Debug, Clone)]
pub struct ListenerInfo {
    /// Index in the config's listener list.
    pub index: usize,
    /// The bound port (the real one when the config said 0).
    pub port: u16,
    /// The configured address; `None` listens on every address.
    pub address: Option<String>,
    /// `mqtt`, `websockets` or `http_api`.
    pub protocol: &'static str,
    /// Whether it speaks TLS.
    pub tls: bool,
    /// `max_connections`.
    pub max_connections: Option<usize>,
    /// Its connection counts.
    pub stats: Arc<ListenerStats>,
}

/// What the HTTP API reads: the router, the listeners and the store file.
pub struct Web {
    /// The shared broker state (read only here).
    pub router: Arc<Router>,
    /// Every listener, in config order.
    pub listeners: Vec<ListenerInfo>,
    /// The persistence file, when persistence is on.
    pub store_path: Option<PathBuf>,
    /// Start time in seconds since the Unix epoch.
    pub started_unix: f64,
    /// Every bridge's state and counters.
    pub bridges: Arc<crate::broker::bridge::status::Registry>,
}

impl Web {
    /// The HTTP side of a broker with these listeners.
    pub fn new(
        router: Arc<Router>,
        listeners: Vec<ListenerInfo>,
        store_path: Option<PathBuf>,
        bridges: Arc<crate::broker::bridge::status::Registry>,
    ) -> Web {
        let started_unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        Web {
            router,
            listeners,
            store_path,
            started_unix,
            bridges,
        }
    }
}
