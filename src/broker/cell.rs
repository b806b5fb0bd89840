//! One session as the router and its link share it: the state behind its own lock, and the
//! atomics and wake-ups that let the link and publishers coordinate without that lock.

use crate::protocol::SubscriptionOptions;
use crate::session::{Limits, Session};
use crate::topic::TopicFilter;
use std::borrow::Borrow;
use std::collections::{BTreeMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
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
    /// Subscriptions and user name, boxed once the session has either.
    cold: Option<Box<Cold>>,
    /// Generation of the attached link; a link whose generation is no longer here was taken
    /// over and closes.
    pub link: Option<u64>,
    /// Whether the attached link was found silent for 1.5 times its keepalive.
    pub link_expired: bool,
    /// Session expiry interval in seconds once disconnected (`u32::MAX`: never).
    pub expiry: u32,
    /// Set by [`SessionCell::wake`], taken by the attached link's next poll.
    woken: bool,
    /// The attached link's task while it waits (see [`SessionCell::poll_wake`]).
    waker: Option<Waker>,
}

/// Subscriptions by filter text (with their v5 subscription identifiers), mirrored in the trie.
pub type SessionSubs = BTreeMap<Box<str>, (TopicFilter, SubscriptionOptions, u32)>;

/// What a session has only once its client subscribes or authenticates: one pointer in the
/// many sessions without.
#[derive(Default)]
struct Cold {
    subs: SessionSubs,
    username: Option<Box<str>>,
}

impl SessionState {
    /// The session's subscriptions.
    pub fn subs(&self) -> &SessionSubs {
        match &self.cold {
            Some(c) => &c.subs,
            None => const { &BTreeMap::new() },
        }
    }

    /// The session's subscriptions, to change.
    pub fn subs_mut(&mut self) -> &mut SessionSubs {
        &mut self.cold.get_or_insert_with(Box::default).subs
    }

    /// Takes every subscription out of the session.
    pub fn take_subs(&mut self) -> SessionSubs {
        self.cold
            .as_mut()
            .map(|c| std::mem::take(&mut c.subs))
            .unwrap_or_default()
    }

    /// User name of the attached connection (for access checks on delivery).
    pub fn username(&self) -> Option<&str> {
        self.cold.as_ref()?.username.as_deref()
    }

    /// Sets the user name of the connection attaching now.
    pub fn set_username(&mut self, username: Option<Box<str>>) {
        if username.is_some() || self.cold.is_some() {
            self.cold.get_or_insert_with(Box::default).username = username;
        }
    }
}

/// Woken when a queue drained below half after its session's `pressured` was set. One for
/// all sessions: few publishers ever wait, and each re-checks its own subscriber.
static DRAINED: Notify = Notify::const_new();

/// Woken when a link has caught up (or ended) for a connection taking over its client id.
/// One for all sessions, as [`DRAINED`]: takeovers are rare and re-check their own session.
static CAUGHT_UP: Notify = Notify::const_new();

/// One session, shared by the router (deliveries) and its link.
pub struct SessionCell {
    /// Client identifier.
    pub client_id: Arc<str>,
    state: Mutex<SessionState>,
    /// When the attached link last received bytes, in router milliseconds.
    pub last_seen: AtomicU64,
    /// The attached link's keepalive deadline span (1.5 x keepalive) in ms; 0 = none. At most
    /// 1.5 x 65,535 s, which fits.
    pub keepalive_ms: AtomicU32,
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
    /// Set by a new connection for this client id: the attached link is to handle what its
    /// client has already sent (a DISCONNECT, say) before the new connection takes over.
    pub catch_up: AtomicBool,
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
            DRAINED.notify_waiters();
        }
    }
}

impl SessionCell {
    /// Says the link has handled what it had read, waking a connection waiting to take over.
    pub fn signal_caught_up(&self) {
        self.catch_up.store(false, Ordering::Relaxed);
        CAUGHT_UP.notify_waiters();
    }

    /// Woken (for every session) when a queue drained below half after `pressured` was set;
    /// a waiter re-checks its own subscriber.
    pub fn drained(&self) -> &'static Notify {
        &DRAINED
    }

    /// Woken (for every session) when a link has caught up; a waiter re-checks `catch_up`.
    pub fn caught_up(&self) -> &'static Notify {
        &CAUGHT_UP
    }

    /// Wakes the attached link: deliveries were queued, or it must re-check its state
    /// (takeover, keepalive expiry, shutdown). Remembered until the link next polls, so a
    /// wake-up while it is busy is not lost.
    pub fn wake(&self) {
        let waker = {
            let mut st = self.lock();
            st.woken = true;
            st.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Polled by the link of `generation` while it waits: ready once woken, or at once when
    /// the session is no longer its own (taken over or detached), without taking a wake-up
    /// meant for the link that replaced it. One waker per session instead of a `Notify` and
    /// its waiter in every idle connection.
    pub fn poll_wake(&self, cx: &mut Context<'_>, generation: u64) -> Poll<()> {
        let mut st = self.lock();
        if st.link != Some(generation) {
            return Poll::Ready(());
        }
        if std::mem::take(&mut st.woken) {
            return Poll::Ready(());
        }
        match &mut st.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            slot => {
                // A waker left by a link that was replaced is woken on its way out.
                if let Some(old) = slot.replace(cx.waker().clone()) {
                    drop(st);
                    old.wake();
                }
            }
        }
        Poll::Pending
    }

    /// [`SessionCell::poll_wake`] as a future.
    pub async fn woken(&self, generation: u64) {
        std::future::poll_fn(|cx| self.poll_wake(cx, generation)).await
    }

    /// Forgets the waker of a link that ended, so the session does not keep its task alive.
    pub fn clear_waker(st: &mut SessionState) {
        st.waker = None;
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
    pub fn new(client_id: Arc<str>, clean: bool, limits: impl Into<Arc<Limits>>) -> SessionCell {
        SessionCell {
            client_id,
            state: Mutex::new(SessionState {
                session: Session::new(limits),
                clean,
                cold: None,
                link: None,
                link_expired: false,
                expiry: u32::MAX,
                woken: false,
                waker: None,
            }),
            last_seen: AtomicU64::new(0),
            keepalive_ms: AtomicU32::new(0),
            last_progress: AtomicU64::new(0),
            expires_at: AtomicU64::new(0),
            write_bound: AtomicBool::new(false),
            pressured: AtomicBool::new(false),
            catch_up: AtomicBool::new(false),
        }
    }
}

/// The router's sessions by client id: a set of cells keyed by their own `client_id`, so a
/// session costs one pointer in the table rather than a copy of its key beside it.
#[derive(Default)]
pub struct SessionTable(HashSet<ById>);

/// A session hashed and compared by its client id.
struct ById(Arc<SessionCell>);

impl PartialEq for ById {
    fn eq(&self, other: &ById) -> bool {
        self.0.client_id == other.0.client_id
    }
}

impl Eq for ById {}

impl Hash for ById {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // As `str` hashes, so that lookups by `&str` find it (see `Borrow`).
        (*self.0.client_id).hash(state);
    }
}

impl Borrow<str> for ById {
    fn borrow(&self) -> &str {
        &self.0.client_id
    }
}

impl SessionTable {
    /// The session of `client_id`.
    pub fn get(&self, client_id: &str) -> Option<&Arc<SessionCell>> {
        self.0.get(client_id).map(|c| &c.0)
    }

    /// Adds `cell`, replacing any session with its client id.
    pub fn insert(&mut self, cell: Arc<SessionCell>) {
        self.0.replace(ById(cell));
    }

    /// Removes the session of `client_id`.
    pub fn remove(&mut self, client_id: &str) {
        self.0.remove(client_id);
    }

    /// Every session.
    pub fn values(&self) -> impl Iterator<Item = &Arc<SessionCell>> {
        self.0.iter().map(|c| &c.0)
    }

    /// Number of sessions.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True without sessions.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_session_cell_fits_a_192_byte_allocation() {
        // Every session is one `Arc` of this, 16 bytes of counts besides: at most 176 bytes
        // keep it in the allocator's 192-byte class (an idle connection's largest share after
        // its task and its socket's registration).
        let size = std::mem::size_of::<super::SessionCell>();
        assert!(size <= 176, "SessionCell is {size} bytes");
    }
}
