//! One session as the router and its link share it: the state behind its own lock, and the
//! atomics and wake-ups that let the link and publishers coordinate without that lock.

use crate::protocol::SubscriptionOptions;
use crate::session::{Limits, Session};
use crate::topic::TopicFilter;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;

/// A subscriber that could not write for this long is stuck, not slow: publishers stop
/// waiting for it (see `Router::publish`).
pub const STALL_MS: u64 = 100;

/// A session's mutable state, behind its own lock.
pub struct SessionState {
    /// The delivery state machine.
    pub session: Session,
    /// Clean session / clean start of the current or last connection.
    pub clean: bool,
    /// Subscriptions by filter text (with their v5 subscription identifiers), mirrored in
    /// the trie.
    pub subs: BTreeMap<Box<str>, (TopicFilter, SubscriptionOptions, u32)>,
    /// Generation of the attached link; a link whose generation is no longer here was taken
    /// over and closes.
    pub link: Option<u64>,
    /// Generation of a link found silent for 1.5 times its keepalive.
    pub expired: Option<u64>,
    /// User name of the attached connection (for access checks on delivery).
    pub username: Option<String>,
    /// Session expiry interval in seconds once disconnected (`u32::MAX`: never).
    pub expiry: u32,
}

/// One session, shared by the router (deliveries) and its link.
pub struct SessionCell {
    /// Client identifier.
    pub client_id: Arc<str>,
    state: Mutex<SessionState>,
    /// Woken when deliveries are queued (`notify_one`) or the link must re-check its state
    /// (`notify_waiters`: takeover, keepalive expiry, shutdown).
    pub wake: Notify,
    /// When the attached link last received bytes, in router milliseconds.
    pub last_seen: AtomicU64,
    /// The attached link's keepalive deadline span (1.5 x keepalive) in ms; 0 = none.
    pub keepalive_ms: AtomicU64,
    /// When the link last had nothing to write or wrote something, in router ms. A link
    /// stalled longer than [`STALL_MS`] is not waited for: its queue just overflows.
    pub last_progress: AtomicU64,
    /// When this disconnected session ends, in router ms (0 = not scheduled). An atomic, so
    /// the periodic sweep reads it without taking every session's lock.
    pub expires_at: AtomicU64,
    /// Set while the link holds its high-water mark of unwritten bytes: it waits for its
    /// socket (a slow reader), not for the CPU, and no publisher waits for it. Its queue
    /// fills and further deliveries are dropped and counted, as mosquitto does.
    pub write_bound: AtomicBool,
    /// Set by a publisher waiting for this session's queue to drain.
    pub pressured: AtomicBool,
    /// Woken when the queue drained below half after `pressured` was set.
    pub drained: Notify,
    /// Set by a new connection for this client id: the attached link is to handle what its
    /// client has already sent (a DISCONNECT, say) before the new connection takes over.
    pub catch_up: AtomicBool,
    /// Woken when the link has caught up (or ended).
    pub caught_up: Notify,
}

impl SessionCell {
    /// True when the queue is at least half full while the link is still writing and its
    /// socket takes what it writes: a publisher should give this link CPU time to catch up.
    /// A link bound by its socket is never waited for.
    pub fn is_behind(&self, now_ms: u64) -> bool {
        if now_ms.saturating_sub(self.last_progress.load(Ordering::Relaxed)) > STALL_MS {
            return false;
        }
        if self.write_bound.load(Ordering::Relaxed) {
            return false;
        }
        let st = self.lock();
        let max = st.session.limits().max_queued;
        st.session.is_online() && max > 0 && st.session.queued() >= max / 2
    }

    /// Called by the link after filling: wakes publishers once the queue is below half.
    pub fn signal_drained(&self, queued: usize, max_queued: usize) {
        if queued < max_queued / 2 && self.pressured.swap(false, Ordering::Relaxed) {
            self.drained.notify_waiters();
        }
    }
}

impl SessionCell {
    /// Says the link has handled what it had read, waking a connection waiting to take over.
    pub fn signal_caught_up(&self) {
        self.catch_up.store(false, Ordering::Relaxed);
        self.caught_up.notify_waiters();
    }

    /// Locks the state. A poisoned lock means a panic elsewhere; the state is still usable.
    pub fn lock(&self) -> MutexGuard<'_, SessionState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A trie entry: a session compared by identity, with the v5 subscription identifier of
/// the subscription (0 = none), which takes no part in the comparison.
#[derive(Clone)]
pub struct Sub(pub Arc<SessionCell>, pub u32);

impl PartialEq for Sub {
    fn eq(&self, other: &Sub) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl SessionCell {
    /// A new, offline session.
    pub fn new(client_id: Arc<str>, clean: bool, limits: Limits) -> SessionCell {
        SessionCell {
            client_id,
            state: Mutex::new(SessionState {
                session: Session::new(limits),
                clean,
                subs: BTreeMap::new(),
                link: None,
                expired: None,
                username: None,
                expiry: u32::MAX,
            }),
            wake: Notify::new(),
            last_seen: AtomicU64::new(0),
            keepalive_ms: AtomicU64::new(0),
            last_progress: AtomicU64::new(0),
            expires_at: AtomicU64::new(0),
            write_bound: AtomicBool::new(false),
            pressured: AtomicBool::new(false),
            drained: Notify::new(),
            catch_up: AtomicBool::new(false),
            caught_up: Notify::new(),
        }
    }
}
