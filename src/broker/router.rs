//! What clients share: the subscription trie, retained messages, the session table, counters.
//!
//! No lock is held across a whole publish: matching takes the trie's read lock (many publishers
//! match at once), then each subscriber's own session lock is taken briefly to queue the
//! delivery and wake its link. Payloads travel as `Arc<Message>`, so fan-out copies pointers.

use super::log::Log;
use super::retained::RetainedStore;
use super::security::Access;
use super::store::{SessionRecord, StoreOp, StoreTx};
use super::subscriptions::SubscriptionTree;
use super::wills::PendingWills;
use crate::protocol::{QoS, RetainHandling, SubscriptionOptions};
use crate::session::{Delivery, Limits, Message, Refused, SubIds};

pub use super::cell::{STALL_MS, SessionCell, SessionState, SessionTable, Sub};
use crate::topic::{TopicFilter, TopicName};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

/// Broker-wide counters for `$SYS`.
#[derive(Default, Debug)]
pub struct Counters {
    /// Clients connected now.
    pub connected: AtomicU64,
    /// Most clients connected at once since start.
    pub connected_max: AtomicU64,
    /// PUBLISH packets received.
    pub msgs_received: AtomicU64,
    /// PUBLISH packets sent.
    pub msgs_sent: AtomicU64,
    /// Packets of every type received.
    pub packets_received: AtomicU64,
    /// Packets of every type sent.
    pub packets_sent: AtomicU64,
    /// Payload bytes of the PUBLISH packets received.
    pub pub_bytes_received: AtomicU64,
    /// Payload bytes of the PUBLISH packets sent.
    pub pub_bytes_sent: AtomicU64,
    /// Connections accepted by the listeners (sockets opened).
    pub sockets: AtomicU64,
    /// CONNECT packets accepted.
    pub connects: AtomicU64,
    /// Sessions removed because their expiry interval (or `persistent_client_expiration`)
    /// ran out while disconnected.
    pub clients_expired: AtomicU64,
    /// Bytes read from sockets.
    pub bytes_received: AtomicU64,
    /// Bytes written to sockets.
    pub bytes_sent: AtomicU64,
    /// Deliveries dropped on full queues.
    pub dropped: AtomicU64,
    /// QoS 1/2 messages refused (not acknowledged as received) because the persistence store
    /// could not write them.
    pub store_refused: AtomicU64,
    /// Client publishes to `$SYS` dropped.
    pub sys_refused: AtomicU64,
    /// Packets refused for their size: a PUBLISH over `message_size_limit` (skipped unread)
    /// or any packet over `max_packet_size` (connection closed).
    pub oversize: AtomicU64,
    /// Bridges connected to their remote broker now (a gauge).
    pub bridges_connected: AtomicU64,
}

/// Settings the router applies, replaceable on reload.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// Session limits.
    pub limits: Limits,
    /// Logging.
    pub log: Log,
    /// `upgrade_outgoing_qos`: deliver with the subscription's QoS even when the message was
    /// published with a lower one (mosquitto's option; the specification says the minimum).
    pub upgrade_outgoing_qos: bool,
    /// `check_retain_source`: a retained message goes to a new subscriber only while its
    /// publisher may still write its topic (the ACL may have changed since).
    pub check_retain_source: bool,
}

/// The shared broker state.
pub struct Router {
    subs: RwLock<SubscriptionTree<Sub>>,
    retained: RwLock<RetainedStore>,
    sessions: Mutex<SessionTable>,
    settings: RwLock<Settings>,
    /// The settings' session limits, shared by every session.
    limits: RwLock<Arc<crate::session::Limits>>,
    access: Arc<dyn Access>,
    store: Option<StoreTx>,
    next_seq: AtomicU64,
    next_gen: AtomicU64,
    started: std::time::Instant,
    closing: AtomicBool,
    /// [`Settings::upgrade_outgoing_qos`], read on every delivery without the settings lock.
    upgrade_qos: AtomicBool,
    /// [`Settings::check_retain_source`].
    check_retain_source: AtomicBool,
    wills: PendingWills,
    /// Counters.
    pub stats: Counters,
    /// Config reloads asked for (SIGHUP) and applied: a CONNECT waits for those before it.
    pub reloads: super::reloads::Reloads,
}

/// What became of a published message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fanout {
    /// No subscription matched (v5 acknowledgement 0x10).
    NoSubscribers,
    /// Queued for at least one matching session (or skipped by its policy).
    Delivered,
    /// Every matching session's queue was full (v5 acknowledgement 0x97).
    QueuesFull,
}

/// What [`Router::publish`] did with a message.
pub struct Routed {
    /// Where it went.
    pub fanout: Fanout,
    /// A subscriber falling behind, for the publisher to wait for.
    pub behind: Option<Arc<SessionCell>>,
    /// Whether it was written to the store (retained, or queued for a persistent session):
    /// its acknowledgement must then wait for the commit.
    pub stored: bool,
}

/// What [`Router::deliver`] did with one delivery.
enum Queued {
    /// In the queue; `behind` when the queue is half full or more; `stored` when it was
    /// written to the store too.
    Yes { behind: bool, stored: bool },
    /// Dropped: the queue is full.
    Full,
    /// Not queued by policy (offline QoS 0, read access denied).
    Skipped,
}

/// What [`Router::connect`] hands the link.
pub struct Attached {
    /// The session.
    pub cell: Arc<SessionCell>,
    /// CONNACK's session-present flag.
    pub present: bool,
    /// This link's generation, to detach only if not taken over since.
    pub generation: u64,
}

/// Logs what the access policy's files could not use (malformed password file lines).
pub fn log_access_warnings(access: &dyn Access, log: Log) {
    for w in access.warnings() {
        log.info(format_args!("Warning: {w}."));
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Router {
    /// A router with the given policy, settings and optional store.
    pub fn new(settings: Settings, access: Arc<dyn Access>, store: Option<StoreTx>) -> Router {
        Router {
            subs: RwLock::new(SubscriptionTree::new()),
            retained: RwLock::new(RetainedStore::new()),
            sessions: Mutex::new(SessionTable::default()),
            settings: RwLock::new(settings),
            limits: RwLock::new(Arc::new(settings.limits)),
            access,
            store,
            next_seq: AtomicU64::new(1),
            next_gen: AtomicU64::new(1),
            started: std::time::Instant::now(),
            closing: AtomicBool::new(false),
            upgrade_qos: AtomicBool::new(settings.upgrade_outgoing_qos),
            check_retain_source: AtomicBool::new(settings.check_retain_source),
            wills: PendingWills::default(),
            stats: Counters::default(),
            reloads: Default::default(),
        }
    }

    /// Current settings.
    pub fn settings(&self) -> Settings {
        *self.settings.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Replaces the settings (SIGHUP); existing sessions get the new limits.
    pub fn reload(&self, settings: Settings) {
        *self.settings.write().unwrap_or_else(|e| e.into_inner()) = settings;
        self.upgrade_qos
            .store(settings.upgrade_outgoing_qos, Ordering::Relaxed);
        self.check_retain_source
            .store(settings.check_retain_source, Ordering::Relaxed);
        let limits = Arc::new(settings.limits);
        *self.limits.write().unwrap_or_else(|e| e.into_inner()) = limits.clone();
        for cell in lock(&self.sessions).values() {
            cell.lock().session.set_limits(limits.clone());
        }
        match self.access.reload() {
            Ok(()) => log_access_warnings(&*self.access, settings.log),
            Err(e) => settings
                .log
                .info(format_args!("Error: reloading access rules: {e}")),
        }
    }

    /// Milliseconds since the router started (a cheap clock for keepalive).
    pub fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// True once shutdown began.
    pub fn is_closing(&self) -> bool {
        self.closing.load(Ordering::Relaxed)
    }

    /// Tells every link to close (broker shutdown).
    pub fn close_all(&self) {
        self.closing.store(true, Ordering::Relaxed);
        for cell in lock(&self.sessions).values() {
            cell.wake();
        }
    }

    /// Marks links silent for longer than 1.5 times their keepalive; they close and send
    /// their wills. One sweep for all connections replaces a timer per connection.
    pub fn sweep_keepalive(&self) {
        let now = self.now_ms();
        for cell in lock(&self.sessions).values() {
            let span = u64::from(cell.keepalive_ms.load(Ordering::Relaxed));
            if span == 0 || now.saturating_sub(cell.last_seen.load(Ordering::Relaxed)) <= span {
                continue;
            }
            let mut st = cell.lock();
            if st.link.is_some() && !st.link_expired {
                st.link_expired = true;
                drop(st);
                cell.wake();
            }
        }
    }

    /// Publishes a will now, or once `delay_secs` have passed unless the session is resumed
    /// first; a new session for the client (clean start) publishes it at once.
    pub fn publish_will(&self, cell: &Arc<SessionCell>, msg: Message, delay_secs: u32) {
        let msg = Arc::new(msg);
        // The session ended already (replaced by a clean start): due now.
        let ended = !lock(&self.sessions)
            .get(&cell.client_id)
            .is_some_and(|c| Arc::ptr_eq(c, cell));
        // At shutdown nothing would keep a delayed will: publish it now, as mosquitto does.
        if delay_secs == 0 || ended || self.is_closing() {
            let _ = self.publish(msg, Some(cell));
            return;
        }
        if self.is_attached(cell) {
            // Taken over by a connection resuming the session: no will.
            return;
        }
        let due = self.now_ms() + delay_secs as u64 * 1000;
        if let Some((earlier, from)) = self.wills.add(cell, msg, due) {
            let _ = self.publish(earlier, Some(&from));
        }
    }

    /// Publishes every will still waiting out its delay (broker shutdown).
    pub fn publish_pending_wills(&self) {
        for (msg, cell) in self.wills.due(u64::MAX) {
            if !self.is_attached(&cell) {
                let _ = self.publish(msg, Some(&cell));
            }
        }
    }

    /// Ends disconnected sessions whose expiry interval ran out and publishes wills whose
    /// delay is over.
    pub fn sweep_expired(&self) {
        let now = self.now_ms();
        for (msg, cell) in self.wills.due(now) {
            if !self.is_attached(&cell) {
                let _ = self.publish(msg, Some(&cell));
            }
        }
        let mut sessions = lock(&self.sessions);
        let gone: Vec<Arc<SessionCell>> = sessions
            .values()
            .filter(|c| {
                let at = c.expires_at.load(Ordering::Relaxed);
                at != 0 && at <= now && c.lock().link.is_none()
            })
            .cloned()
            .collect();
        for cell in &gone {
            sessions.remove(&cell.client_id);
        }
        let expired = gone.len() as u64;
        self.stats
            .clients_expired
            .fetch_add(expired, Ordering::Relaxed);
        drop(sessions);
        for cell in &gone {
            self.discard(cell);
        }
    }

    /// Sets the expiry interval of `cell`'s session (CONNECT or DISCONNECT); 0 ends it when
    /// its connection ends.
    pub fn set_expiry(&self, cell: &Arc<SessionCell>, secs: u32) {
        let mut st = cell.lock();
        if st.expiry == secs {
            return;
        }
        st.expiry = secs;
        if secs == 0 && !st.clean {
            st.clean = true;
            drop(st);
            if let Some(store) = &self.store {
                store.send(StoreOp::DropSession(cell.client_id.clone()));
            }
        } else {
            drop(st);
            self.save_session(cell);
        }
    }

    /// Whether a connection is attached to `cell`'s session.
    pub fn is_attached(&self, cell: &SessionCell) -> bool {
        cell.lock().link.is_some()
    }

    /// The access policy.
    pub fn access(&self) -> &dyn Access {
        &*self.access
    }

    /// The access policy, shared (to run a CONNECT check on another thread).
    pub fn access_arc(&self) -> Arc<dyn Access> {
        self.access.clone()
    }

    /// The store, when persistence is on.
    pub fn store(&self) -> Option<&StoreTx> {
        self.store.as_ref()
    }

    /// Whether a message published now would write to the store: retained, or matching a
    /// persistent session's subscription at QoS 1 or 2.
    pub fn needs_store(&self, topic: &TopicName, qos: QoS, retain: bool) -> bool {
        if self.store.is_none() {
            return false;
        }
        if retain && !super::sys::is_sys_topic(topic) {
            return true;
        }
        if qos == QoS::AtMostOnce {
            return false;
        }
        let mut matched = Vec::new();
        self.subs
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .matches(topic, &mut matched);
        matched
            .iter()
            .any(|(s, o)| o.qos != QoS::AtMostOnce && !s.0.lock().clean)
    }

    /// Number of subscriptions.
    pub fn subscription_count(&self) -> usize {
        self.subs.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Number of shared subscriptions.
    pub fn shared_subscription_count(&self) -> usize {
        self.subs
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .shared_len()
    }

    /// Payload bytes of the retained messages. Visits each: for `$SYS`, not for hot paths.
    pub fn retained_bytes(&self) -> usize {
        let retained = self.retained.read().unwrap_or_else(|e| e.into_inner());
        retained.all().map(|m| m.payload.len()).sum()
    }

    /// Number of retained messages.
    pub fn retained_count(&self) -> usize {
        self.retained
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    /// Number of sessions (connected or persistent).
    pub fn session_count(&self) -> usize {
        lock(&self.sessions).len()
    }

    /// Messages in flight (sent, not yet acknowledged) and queued behind the inflight
    /// windows, over every session. Visits each session: for scrapes, not for hot paths.
    pub fn queue_totals(&self) -> (usize, usize) {
        let cells: Vec<Arc<SessionCell>> = lock(&self.sessions).values().cloned().collect();
        cells.iter().fold((0, 0), |(inflight, queued), cell| {
            let st = cell.lock();
            let q = st.session.queued();
            (inflight + st.session.pending() - q, queued + q)
        })
    }

    /// The retained messages matching `filter` (read only; nothing is delivered).
    pub fn retained_matching(&self, filter: &TopicFilter) -> Vec<Arc<Message>> {
        self.retained
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .matching(filter.pattern())
    }

    fn new_cell(&self, client_id: &Arc<str>, clean: bool) -> Arc<SessionCell> {
        Arc::new(SessionCell::new(
            client_id.clone(),
            clean,
            self.limits
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        ))
    }

    /// The session of `client_id` if a connection is attached to it.
    pub fn attached_session(&self, client_id: &str) -> Option<Arc<SessionCell>> {
        lock(&self.sessions)
            .get(client_id)
            .filter(|c| c.lock().link.is_some())
            .cloned()
    }

    /// Attaches a connection to `client_id`'s session, kicking out any connection holding it.
    /// With `clean_start`, an existing session is discarded first; with `keep`, the session
    /// outlives the connection (3.1.1: clean session 0; 5.0: a session expiry interval).
    pub fn connect(
        &self,
        client_id: &str,
        clean_start: bool,
        keep: bool,
        username: Option<String>,
    ) -> Attached {
        let clean = !keep;
        let id: Arc<str> = client_id.into();
        let will = self.wills.take(client_id);
        let generation = self.next_gen.fetch_add(1, Ordering::Relaxed);
        let mut sessions = lock(&self.sessions);
        let now = self.now_ms();
        // A session past its expiry that the sweep has not removed yet is gone all the same.
        let existing = sessions
            .get(&id)
            .filter(|c| {
                let at = c.expires_at.load(Ordering::Relaxed);
                at == 0 || at > now
            })
            .cloned();
        // A session that lasts only as long as its connection (3.1.1 clean session 1; 5.0 with
        // no expiry) ends with the connection this one takes over: nothing to resume.
        let clean_start = clean_start || existing.as_ref().is_none_or(|c| c.lock().clean);
        let existing = existing.or_else(|| sessions.get(&id).cloned());
        let (cell, present) = match existing {
            Some(cell) if !clean_start => (cell, true),
            other => {
                if let Some(old) = other {
                    // The old connection, if any, is kicked out of the session it loses.
                    old.lock().link = None;
                    old.wake();
                    self.discard(&old);
                }
                let cell = self.new_cell(&id, clean);
                sessions.insert(cell.clone());
                (cell, false)
            }
        };
        drop(sessions);
        let mut st = cell.lock();
        let replaced = st.link.replace(generation).is_some();
        st.link_expired = false;
        let was_stored = !st.clean;
        st.clean = clean;
        st.set_username(username.map(String::into_boxed_str));
        cell.expires_at.store(0, Ordering::Relaxed);
        drop(st);
        if replaced {
            cell.wake();
        }
        match (!clean, &self.store) {
            (true, _) => self.save_session(&cell),
            // Resumed without keeping it (5.0, no expiry): it must not come back after a restart.
            (false, Some(store)) if was_stored => {
                store.send(StoreOp::DropSession(cell.client_id.clone()));
            }
            _ => {}
        }
        // A delayed will is cancelled by resuming its session and due when the session ends.
        if let (false, Some((msg, from))) = (present, will) {
            let _ = self.publish(msg, Some(&from));
        }
        Attached {
            cell,
            present,
            generation,
        }
    }

    /// Detaches link `generation` from its session: a clean session is destroyed, a persistent
    /// one stays to collect messages. Does nothing when the link was taken over.
    pub fn disconnect(&self, cell: &Arc<SessionCell>, generation: u64) {
        let mut st = cell.lock();
        if st.link != Some(generation) {
            // Taken over: a delivery wake-up this link may have taken belongs to the new one.
            drop(st);
            cell.wake();
            return;
        }
        st.link = None;
        SessionCell::clear_waker(&mut st);
        cell.keepalive_ms.store(0, Ordering::Relaxed);
        st.session.disconnect();
        if !st.clean && st.expiry != u32::MAX {
            let at = self.now_ms() + st.expiry as u64 * 1000;
            cell.expires_at.store(at, Ordering::Relaxed);
        }
        let clean = st.clean;
        drop(st);
        if clean {
            let mut sessions = lock(&self.sessions);
            if sessions
                .get(&cell.client_id)
                .is_some_and(|c| Arc::ptr_eq(c, cell))
            {
                sessions.remove(&cell.client_id);
            }
            drop(sessions);
            self.discard(cell);
        }
    }

    /// Removes a session's subscriptions and stored state.
    fn discard(&self, cell: &Arc<SessionCell>) {
        let (subs, was_stored) = {
            let mut st = cell.lock();
            (st.take_subs(), !st.clean)
        };
        let mut tree = self.subs.write().unwrap_or_else(|e| e.into_inner());
        for (filter, _, _) in subs.values() {
            tree.unsubscribe(filter, &Sub(cell.clone(), 0));
        }
        drop(tree);
        if let (true, Some(store)) = (was_stored, &self.store) {
            store.send(StoreOp::DropSession(cell.client_id.clone()));
        }
    }

    fn save_session(&self, cell: &Arc<SessionCell>) {
        if let Some(store) = &self.store {
            let st = cell.lock();
            if !st.clean {
                let record = SessionRecord {
                    subs: st.subs().values().cloned().collect(),
                    expiry: st.expiry,
                };
                store.send(StoreOp::Session(cell.client_id.clone(), record));
            }
        }
    }

    /// Adds a subscription with its v5 subscription identifier (0 = none); returns whether
    /// it is new.
    pub fn subscribe(
        &self,
        cell: &Arc<SessionCell>,
        filter: &TopicFilter,
        opts: SubscriptionOptions,
        sub_id: u32,
    ) -> bool {
        let new = self
            .subs
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .subscribe(filter, Sub(cell.clone(), sub_id), opts);
        cell.lock()
            .subs_mut()
            .insert(filter.as_str().into(), (filter.clone(), opts, sub_id));
        self.save_session(cell);
        new
    }

    /// Removes a subscription; true when it existed.
    pub fn unsubscribe(&self, cell: &Arc<SessionCell>, filter: &TopicFilter) -> bool {
        let existed = self
            .subs
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .unsubscribe(filter, &Sub(cell.clone(), 0));
        cell.lock().subs_mut().remove(filter.as_str());
        self.save_session(cell);
        existed
    }

    /// Queues the retained messages matching a new subscription for `cell` (retain flag set).
    pub fn send_retained(
        &self,
        cell: &Arc<SessionCell>,
        filter: &TopicFilter,
        opts: SubscriptionOptions,
        new: bool,
        sub_id: u32,
    ) {
        let skip = filter.share().is_some()
            || opts.retain_handling == RetainHandling::DoNotSend
            || (opts.retain_handling == RetainHandling::SendIfNew && !new);
        if skip {
            return;
        }
        let msgs = self
            .retained
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .matching(filter.pattern());
        let ids = SubIds::new(if sub_id == 0 { vec![] } else { vec![sub_id] });
        let now = std::time::Instant::now();
        // An expired retained message is gone ([MQTT-3.3.2-5]) even before the sweep removes it.
        let check_source = self.check_retain_source.load(Ordering::Relaxed);
        let source_may_write = |m: &Message| match (&m.origin, check_source) {
            (Some(o), true) => self
                .access
                .can_write(&o.client_id, o.username.as_deref(), &m.topic),
            _ => true,
        };
        for msg in msgs
            .into_iter()
            .filter(|m| m.remaining_secs(now) != Some(0) && source_may_write(m))
        {
            self.deliver(cell, msg, opts.qos, true, ids.clone());
        }
    }

    /// Sets or clears a retained message; true when that was written to the store.
    fn retain(&self, msg: &Arc<Message>) -> bool {
        let changed = self
            .retained
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .set(msg.clone());
        // The broker's own `$SYS` values are published afresh after a restart.
        let keep = changed && !super::sys::is_sys_topic(&msg.topic);
        match (keep, &self.store) {
            (true, Some(store)) => {
                store.send(StoreOp::Retain(msg.clone()));
                true
            }
            _ => false,
        }
    }

    /// Routes a message to every matching subscription, once per session at the highest
    /// granted QoS, and stores it if retained. `from` is the publisher's session (for no-local).
    ///
    /// Says what became of the message, whether the store was written, and names a subscriber
    /// (other than the publisher) whose queue is half full while its socket still takes what
    /// it writes: the publisher's link gives it CPU time to catch up before reading more, the
    /// backpressure a single-threaded broker gets for free. A subscriber bound by its socket
    /// (a slow reader) is never named: publishers never wait for it, its queue overflows.
    pub fn publish(&self, msg: Arc<Message>, from: Option<&Arc<SessionCell>>) -> Routed {
        let mut routed = Routed {
            fanout: Fanout::NoSubscribers,
            behind: None,
            stored: msg.retain && self.retain(&msg),
        };
        let mut matched = Vec::new();
        self.subs
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .matches(&msg.topic, &mut matched);
        if matched.is_empty() {
            return routed;
        }
        let (mut taken, mut full) = (false, false);
        // Overlapping subscriptions of one session: keep one entry with the highest QoS.
        matched.sort_by_key(|(s, _)| Arc::as_ptr(&s.0) as usize);
        let mut i = 0;
        while i < matched.len() {
            let mut j = i + 1;
            while j < matched.len() && matched[j].0 == matched[i].0 {
                j += 1;
            }
            let cell = &matched[i].0.0;
            let own = from.is_some_and(|f| Arc::ptr_eq(f, cell));
            let lagging = match self.deliver_merged(&msg, &matched[i..j], own) {
                Some(Queued::Yes { behind, stored }) => {
                    taken = true;
                    routed.stored |= stored;
                    behind
                }
                Some(Queued::Full) => {
                    full = true;
                    !cell.write_bound.load(Ordering::Relaxed)
                }
                Some(Queued::Skipped) | None => {
                    taken = true;
                    false
                }
            };
            if lagging && !own && routed.behind.is_none() {
                routed.behind = Some(cell.clone());
            }
            i = j;
        }
        routed.fanout = if full && !taken {
            Fanout::QueuesFull
        } else {
            Fanout::Delivered
        };
        routed
    }

    /// Delivers once to a session with several matching subscriptions: the highest QoS, retain
    /// as published if any asks, every subscription identifier. `None` when no-local left none.
    fn deliver_merged(
        &self,
        msg: &Arc<Message>,
        group: &[(Sub, SubscriptionOptions)],
        own: bool,
    ) -> Option<Queued> {
        let mut qos = None;
        let mut rap = false;
        let mut ids = Vec::new();
        // [MQTT-3.8.3-3]: no-local applies per subscription.
        for (sub, o) in group.iter().filter(|(_, o)| !(own && o.no_local)) {
            qos = Some(qos.map_or(o.qos, |q: QoS| q.max(o.qos)));
            rap |= o.retain_as_published;
            if sub.1 != 0 {
                ids.push(sub.1);
            }
        }
        let rap = msg.retain && rap;
        let cell = &group.first()?.0.0;
        Some(self.deliver(cell, msg.clone(), qos?, rap, SubIds::new(ids)))
    }

    /// Queues one delivery for one session and wakes its link.
    /// Says whether it was queued, and if so whether the queue is half full or more.
    fn deliver(
        &self,
        cell: &Arc<SessionCell>,
        msg: Arc<Message>,
        granted: QoS,
        retain: bool,
        sub_ids: SubIds,
    ) -> Queued {
        let qos = match self.upgrade_qos.load(Ordering::Relaxed) {
            true => granted,
            false => msg.qos.min(granted),
        };
        let mut st = cell.lock();
        if !self.access.allows_everything()
            && !self
                .access
                .can_read(&cell.client_id, st.username(), &msg.topic)
        {
            return Queued::Skipped;
        }
        let stored = qos != QoS::AtMostOnce && !st.clean && self.store.is_some();
        let seq = if stored {
            self.next_seq.fetch_add(1, Ordering::Relaxed)
        } else {
            0
        };
        let d = Delivery {
            msg: msg.clone(),
            qos,
            retain,
            seq,
            sub_ids,
        };
        match st.session.enqueue(d) {
            Ok(()) => {
                if let (true, Some(store)) = (stored, &self.store) {
                    // Sent under the session lock, so the Dequeue of its PUBACK comes after.
                    store.send(StoreOp::Enqueue(cell.client_id.clone(), seq, msg, qos));
                }
                let online = st.session.is_online();
                let max = st.session.limits().max_queued;
                let behind = online
                    && max > 0
                    && st.session.queued() >= max / 2
                    && !cell.write_bound.load(Ordering::Relaxed);
                drop(st);
                if online {
                    cell.wake();
                }
                Queued::Yes { behind, stored }
            }
            Err(Refused::QueueFull) => {
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
                Queued::Full
            }
            Err(Refused::Offline) => Queued::Skipped,
        }
    }

    /// Rebuilds persistent sessions read from the store at start.
    pub fn restore(&self, restored: super::store::Restored) {
        self.next_seq
            .fetch_max(restored.max_seq + 1, Ordering::Relaxed);
        {
            let mut retained = self.retained.write().unwrap_or_else(|e| e.into_inner());
            for m in restored.retained {
                retained.set(Arc::new(m));
            }
        }
        for s in restored.sessions {
            let id: Arc<str> = s.client_id.as_str().into();
            let cell = self.new_cell(&id, false);
            {
                let mut tree = self.subs.write().unwrap_or_else(|e| e.into_inner());
                let mut st = cell.lock();
                for (filter, opts, sub_id) in s.subscriptions {
                    tree.subscribe(&filter, Sub(cell.clone(), sub_id), opts);
                    st.subs_mut()
                        .insert(filter.as_str().into(), (filter, opts, sub_id));
                }
                // Disconnected since the restart: the expiry interval runs from now.
                st.expiry = s.expiry;
                if s.expiry != u32::MAX {
                    let at = self.now_ms() + s.expiry as u64 * 1000;
                    cell.expires_at.store(at, Ordering::Relaxed);
                }
                for (seq, m, qos) in s.queue {
                    let retain = m.retain;
                    // Identifiers are not stored per delivery: those of the matching
                    // subscriptions are the ones it was queued with.
                    let sub_ids = st
                        .subs()
                        .values()
                        .filter(|(f, _, id)| *id != 0 && f.matches(&m.topic))
                        .map(|(_, _, id)| *id)
                        .collect();
                    let sub_ids = SubIds::new(sub_ids);
                    let d = Delivery {
                        msg: Arc::new(m),
                        qos,
                        retain,
                        seq,
                        sub_ids,
                    };
                    let _ = st.session.enqueue(d);
                }
                for pid in s
                    .incoming
                    .into_iter()
                    .filter_map(crate::protocol::PacketId::new)
                {
                    st.session.incoming_qos2(pid);
                }
            }
            lock(&self.sessions).insert(cell);
        }
    }
}
