//! What each bridge is doing, for whoever reports on the broker (the HTTP API, metrics, tests):
//! read through atomics, written only by the bridge's own task.

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

/// Where a bridge is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum State {
    /// Not running: stopped by a reload or shutdown, or a `once` bridge whose connection ended.
    Stopped = 0,
    /// Waiting: for `restart_timeout` after a failure, or for `threshold` messages (lazy).
    Waiting = 1,
    /// Opening the connection (TCP, TLS, CONNECT) or waiting for its SUBACKs.
    Connecting = 2,
    /// Connected, subscribed, forwarding.
    Connected = 3,
}

impl State {
    fn from_u8(v: u8) -> State {
        match v {
            1 => State::Waiting,
            2 => State::Connecting,
            3 => State::Connected,
            _ => State::Stopped,
        }
    }

    /// Lower-case name, for logs and JSON.
    pub fn name(self) -> &'static str {
        match self {
            State::Stopped => "stopped",
            State::Waiting => "waiting",
            State::Connecting => "connecting",
            State::Connected => "connected",
        }
    }
}

/// One bridge's state and counters.
#[derive(Debug)]
pub struct BridgeStatus {
    /// `connection` name.
    pub name: String,
    /// Client id on the remote broker.
    pub remote_clientid: String,
    /// Client id of its session on this broker.
    pub local_clientid: String,
    state: AtomicU8,
    address: Mutex<String>,
    /// Connections that reached CONNACK.
    pub connects: AtomicU64,
    /// Connection attempts that failed, and connections that were lost.
    pub failures: AtomicU64,
    /// PUBLISH packets sent to the remote.
    pub sent: AtomicU64,
    /// PUBLISH packets received from the remote.
    pub received: AtomicU64,
}

impl BridgeStatus {
    /// A stopped bridge with zero counters.
    pub fn new(name: &str, remote_clientid: &str, local_clientid: &str) -> BridgeStatus {
        BridgeStatus {
            name: name.into(),
            remote_clientid: remote_clientid.into(),
            local_clientid: local_clientid.into(),
            state: AtomicU8::new(State::Stopped as u8),
            address: Mutex::new(String::new()),
            connects: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            received: AtomicU64::new(0),
        }
    }

    /// The state now.
    pub fn state(&self) -> State {
        State::from_u8(self.state.load(Ordering::Relaxed))
    }

    pub(super) fn set_state(&self, s: State) {
        self.state.store(s as u8, Ordering::Relaxed);
    }

    /// The remote address in use or last tried (`host:port`).
    pub fn address(&self) -> String {
        self.address
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(super) fn set_address(&self, a: String) {
        *self.address.lock().unwrap_or_else(|e| e.into_inner()) = a;
    }

    pub(super) fn count(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Every configured bridge's status, in config order; replaced bridges get a new entry.
#[derive(Debug, Default)]
pub struct Registry(RwLock<Vec<Arc<BridgeStatus>>>);

impl Registry {
    /// A snapshot of the list.
    pub fn list(&self) -> Vec<Arc<BridgeStatus>> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The bridge named `name`.
    pub fn get(&self, name: &str) -> Option<Arc<BridgeStatus>> {
        self.list().into_iter().find(|b| b.name == name)
    }

    /// Bridges connected now.
    pub fn connected(&self) -> usize {
        self.list()
            .iter()
            .filter(|b| b.state() == State::Connected)
            .count()
    }

    pub(super) fn replace(&self, list: Vec<Arc<BridgeStatus>>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = list;
    }
}
