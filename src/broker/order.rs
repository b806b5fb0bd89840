//! Reading order across connections: a PUBLISH is routed after the SUBSCRIBE, UNSUBSCRIBE and
//! DISCONNECT packets that reached the broker before it on other connections.
//!
//! A single-threaded broker (mosquitto) gets this for free: it handles sockets one at a time, in
//! the order the kernel reported them readable. With several worker threads, the connection
//! woken first can be handled second, and a subscriber whose SUBSCRIBE arrived before another
//! client's PUBLISH could miss that message. So every read is handled under a *ticket* from one
//! counter:
//!
//! - [`Turn`] wraps the waker a connection reads with. When the reactor wakes it while the
//!   connection was parked on its socket, it takes a ticket before waking the task: tickets
//!   follow the order in which the kernel reported the sockets readable.
//! - A connection that reads without such a wake-up (it was busy when its bytes came, or read
//!   them before the wake-up ran) takes its ticket when it reads; one that yields between two
//!   reads takes one before yielding ([`Reader::arm`]), so that others woken meanwhile wait
//!   for it.
//! - Before routing a PUBLISH, a connection waits until every older ticket is released
//!   ([`Reader::wait_turn`]): older than its wake-up's, or, for bytes read without one, every
//!   ticket given so far (they may have arrived at any time since the connection last read).
//! - A connection releases its ticket as soon as it knows its read holds no SUBSCRIBE,
//!   UNSUBSCRIBE or DISCONNECT, after the last one it holds is applied (a DISCONNECT once its
//!   session is detached), when it starts waiting itself, and whenever it finds its socket empty.
//!
//! A waiting connection holds no ticket, so waits cannot form a cycle; each is bounded by
//! [`TURN_BOUND`], so a connection stuck on something else (a full disk) cannot hold the broker.
//!
//! The order is the kernel's: bytes that reach a socket while the broker is writing to it are
//! reported when that write returns, possibly after bytes sent later to another socket. No broker
//! sees those in the order they were sent (mosquitto neither). The kernel has one order for
//! all of a process's sockets, and so does this module: one counter ([`Global`]) serves every
//! broker of the process, and a connection's [`Turn`] needs no pointer to it.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

/// Longest a PUBLISH waits for older tickets.
pub const TURN_BOUND: Duration = Duration::from_millis(500);

/// No ticket.
const NONE: u64 = 0;
/// A closed connection's slot: a late wake-up gives its ticket back at once. Above every
/// ticket (at a billion a second, tickets reach it in 146 years).
const CLOSED: u64 = 1 << 62;
/// Set in a [`Turn`]'s slot while the connection waits for the reactor.
const PARKED: u64 = 1 << 63;
/// [`Order::oldest`] when every ticket was released.
const ALL_RELEASED: u64 = u64::MAX;

/// Whether `t` is a ticket rather than [`NONE`] or [`CLOSED`].
fn is_ticket(t: u64) -> bool {
    !matches!(t, NONE | CLOSED)
}

/// The reading order of the process. The kernel reports every socket of the process in one
/// order, so every broker in it shares this one (there is one, but for tests).
static ORDER: Order = Order::new();

/// Where a connection's [`Reader`] finds its order: [`Global`] (zero bytes) for a broker,
/// a shared [`Order`] of their own for tests.
pub trait Source: std::ops::Deref<Target = Order> + Send + Sync + 'static {}

impl<T: std::ops::Deref<Target = Order> + Send + Sync + 'static> Source for T {}

/// The process's order.
#[derive(Clone, Copy, Default)]
pub struct Global;

impl std::ops::Deref for Global {
    type Target = Order;

    fn deref(&self) -> &Order {
        &ORDER
    }
}

/// A ticket counter and the tickets not yet released.
pub struct Order {
    state: Mutex<State>,
    /// The next ticket (changed under the lock, read without it).
    next: AtomicU64,
    /// The oldest ticket not yet released, [`ALL_RELEASED`] when there is none: read without
    /// the lock on every PUBLISH.
    oldest: AtomicU64,
}

struct State {
    /// Tickets in the order they were given, each with whether it was released.
    live: VecDeque<(u64, bool)>,
    /// Connections waiting for every ticket below theirs to be released.
    waiters: Vec<(u64, Waker)>,
}

impl Default for Order {
    fn default() -> Self {
        Order::new()
    }
}

impl Order {
    /// An order with no ticket given.
    pub const fn new() -> Order {
        Order {
            next: AtomicU64::new(1),
            state: Mutex::new(State {
                live: VecDeque::new(),
                waiters: Vec::new(),
            }),
            oldest: AtomicU64::new(ALL_RELEASED),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new ticket, younger than every other.
    pub fn issue(&self) -> u64 {
        let mut st = self.lock();
        let t = self.next.fetch_add(1, Ordering::AcqRel);
        st.live.push_back((t, false));
        if st.live.len() == 1 {
            self.oldest.store(t, Ordering::Release);
        }
        t
    }

    /// Gives `ticket` back; waiters it was holding up go on.
    pub fn release(&self, ticket: u64) {
        if !is_ticket(ticket) {
            return;
        }
        let mut ready = Vec::new();
        {
            let mut st = self.lock();
            let Ok(i) = st.live.binary_search_by_key(&ticket, |&(t, _)| t) else {
                return;
            };
            st.live[i].1 = true;
            if i != 0 {
                return;
            }
            while st.live.front().is_some_and(|&(_, released)| released) {
                st.live.pop_front();
            }
            let oldest = st.live.front().map_or(ALL_RELEASED, |&(t, _)| t);
            self.oldest.store(oldest, Ordering::Release);
            let mut i = 0;
            while i < st.waiters.len() {
                if st.waiters[i].0 <= oldest {
                    ready.push(st.waiters.swap_remove(i).1);
                } else {
                    i += 1;
                }
            }
        }
        for w in ready {
            w.wake();
        }
    }

    /// The ticket the next [`Order::issue`] gives: every ticket given so far is older.
    pub fn horizon(&self) -> u64 {
        self.next.load(Ordering::Acquire)
    }

    /// Whether every ticket older than `ticket` was released.
    pub fn is_turn(&self, ticket: u64) -> bool {
        self.oldest.load(Ordering::Acquire) >= ticket
    }

    /// Waits until every ticket older than `ticket` was released, for at most [`TURN_BOUND`].
    pub async fn wait_turn(&self, ticket: u64) {
        if self.is_turn(ticket) {
            return;
        }
        let turn = poll_fn(|cx| {
            if self.is_turn(ticket) {
                return Poll::Ready(());
            }
            let mut st = self.lock();
            // Checked again under the lock: a release in between has woken no one.
            if self.is_turn(ticket) {
                return Poll::Ready(());
            }
            match st.waiters.iter_mut().find(|(t, _)| *t == ticket) {
                Some((_, w)) if w.will_wake(cx.waker()) => {}
                _ => st.waiters.push((ticket, cx.waker().clone())),
            }
            Poll::Pending
        });
        let _ = tokio::time::timeout(TURN_BOUND, turn).await;
    }

    /// Tickets given and not released (for tests).
    #[cfg(test)]
    fn outstanding(&self) -> usize {
        self.lock().live.iter().filter(|(_, r)| !r).count()
    }
}

/// The waker a connection reads its socket with: a wake-up from the reactor while the
/// connection was parked on its socket takes a ticket, then wakes the task. Only what the
/// wake-up shares with the connection is here (one 48-byte allocation per connection); the
/// connection's own tickets are in its [`Reader`].
pub struct Turn<O = Global> {
    order: O,
    /// The ticket taken by the last wake-up, not yet picked up by the connection, with
    /// [`PARKED`] while the connection waits for the reactor.
    slot: AtomicU64,
    task: Mutex<Option<Waker>>,
}

impl<O: Source> Wake for Turn<O> {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.slot.fetch_and(!PARKED, Ordering::AcqRel) & PARKED != 0 {
            let t = self.order.issue();
            // The connection may have parked again meanwhile: its flag stays.
            let put = self
                .slot
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |cur| {
                    (cur & !PARKED != CLOSED).then_some((cur & PARKED) | t)
                });
            match put {
                Ok(old) => self.order.release(old & !PARKED),
                Err(_) => self.order.release(t),
            }
        }
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = task.as_ref() {
            w.wake_by_ref();
        }
    }
}

/// A connection's side of the order: its tickets and its [`Turn`].
pub struct Reader<O: Source = Global> {
    turn: Arc<Turn<O>>,
    /// Ticket for the next read.
    armed: u64,
    /// Whether `armed` was taken by a wake-up from the reactor (rather than by [`Reader::arm`]).
    armed_by_wake: bool,
    /// Ticket of the read being handled, until released.
    held: u64,
    /// Ticket of the read being handled, released or not: what its PUBLISH waits behind
    /// ([`NONE`] once it has waited, or when the read had no ticket).
    stamp: u64,
}

impl<O: Source> Reader<O> {
    /// A connection's reader.
    pub fn new(order: O) -> Reader<O> {
        Reader {
            turn: Arc::new(Turn {
                order,
                slot: AtomicU64::new(NONE),
                task: Mutex::new(None),
            }),
            armed: NONE,
            armed_by_wake: false,
            held: NONE,
            stamp: NONE,
        }
    }

    fn order(&self) -> &Order {
        &self.turn.order
    }

    /// The waker to poll the socket with, in place of `cx`'s: picks up a ticket a wake-up took.
    pub fn waker(&mut self, cx: &Context<'_>) -> Waker {
        {
            let mut task = self.turn.task.lock().unwrap_or_else(|e| e.into_inner());
            if !task.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *task = Some(cx.waker().clone());
            }
        }
        self.pick_up();
        self.turn.slot.fetch_or(PARKED, Ordering::AcqRel);
        Waker::from(self.turn.clone())
    }

    /// Moves a ticket a wake-up took into `armed`.
    fn pick_up(&mut self) {
        // Read first, so the common case (no ticket) writes nothing. Only `close` (which
        // takes `&mut self`) empties or closes the slot; a wake-up meanwhile only replaces
        // one ticket with another, so what the swap returns is a ticket.
        if !self.woken() {
            return;
        }
        let t = self.turn.slot.fetch_and(PARKED, Ordering::AcqRel) & !PARKED;
        self.rearm(t, true);
    }

    /// Whether a wake-up took a ticket the connection has not picked up: its socket is to be
    /// read before anything else, or others wait for it.
    pub fn woken(&self) -> bool {
        is_ticket(self.turn.slot.load(Ordering::Acquire) & !PARKED)
    }

    /// Bytes were read: they are handled under the armed ticket.
    pub fn read(&mut self) {
        // From here a wake-up takes no ticket; one that ran before left it in the slot.
        self.turn.slot.fetch_and(!PARKED, Ordering::AcqRel);
        self.pick_up();
        let mut t = std::mem::replace(&mut self.armed, NONE);
        let by_wake = std::mem::take(&mut self.armed_by_wake);
        let stamp = if t == NONE {
            // Read before the reactor's wake-up ran (it found the connection no longer
            // parked), or with no wake-up at all: the bytes are ordered from now.
            t = self.order().issue();
            t
        } else if by_wake {
            // Ordered by the reactor's report.
            t
        } else {
            // Armed before yielding: the bytes arrived at some time since, and go after
            // everything reported so far.
            self.order().horizon()
        };
        let old = std::mem::replace(&mut self.held, t);
        self.order().release(old);
        self.stamp = stamp;
    }

    /// The socket was empty: nothing is held while the connection waits.
    pub fn idle(&mut self) {
        self.release();
        self.rearm(NONE, false);
    }

    /// Takes a ticket for bytes the connection will read without parking (it is about to
    /// yield, busy; anything that arrived meanwhile is ordered from now).
    pub fn arm(&mut self) {
        let t = self.order().issue();
        self.rearm(t, false);
    }

    /// Arms `t` for the next read, giving back the ticket armed before.
    fn rearm(&mut self, t: u64, by_wake: bool) {
        let old = std::mem::replace(&mut self.armed, t);
        self.armed_by_wake = by_wake;
        self.order().release(old);
    }

    /// The read's ordered packets are applied: others need not wait for it any more.
    pub fn release(&mut self) {
        let t = std::mem::replace(&mut self.held, NONE);
        self.order().release(t);
    }

    /// Waits until the ordered packets read before this read's bytes on other connections
    /// are applied. The read's own ticket is released first: a wait must never hold up an
    /// older one, or two connections could wait for each other.
    pub async fn wait_turn(&mut self) {
        let t = std::mem::replace(&mut self.stamp, NONE);
        if t != NONE && !self.order().is_turn(t) {
            self.release();
            self.order().wait_turn(t).await;
        }
    }

    /// The connection ends: every ticket it holds, or a later wake-up takes, is released.
    pub fn close(&mut self) {
        let t = self.turn.slot.swap(CLOSED, Ordering::AcqRel) & !PARKED;
        self.order().release(t);
        self.idle();
        self.stamp = NONE;
    }
}

impl<O: Source> Drop for Reader<O> {
    fn drop(&mut self) {
        self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    fn cx() -> Context<'static> {
        Context::from_waker(Waker::noop())
    }

    /// The reactor wakes the parked connection, which then reads.
    fn read_after_wake_up(r: &mut Reader<Arc<Order>>) {
        r.waker(&cx()).wake_by_ref();
        let _ = r.waker(&cx());
        r.read();
    }

    #[test]
    fn a_turn_fits_a_48_byte_allocation() {
        // One per connection, in an `Arc` (16 bytes of counts besides).
        let size = std::mem::size_of::<Turn>();
        assert!(size <= 32, "Turn is {size} bytes");
    }

    #[test]
    fn released_tickets_let_younger_ones_go_in_order() {
        let o = Order::default();
        let (a, b, c) = (o.issue(), o.issue(), o.issue());
        assert!(o.is_turn(a));
        assert!(!o.is_turn(b));
        o.release(b);
        assert!(!o.is_turn(c), "a still holds c");
        o.release(a);
        assert!(o.is_turn(c));
        o.release(c);
        assert_eq!(o.outstanding(), 0);
        assert!(o.is_turn(o.issue()));
    }

    #[tokio::test]
    async fn a_waiter_goes_on_when_older_tickets_are_released() {
        let o = Arc::new(Order::default());
        let (a, b) = (o.issue(), o.issue());
        let o2 = o.clone();
        let waiter = tokio::spawn(async move {
            o2.wait_turn(b).await;
            o2.is_turn(b)
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        o.release(a);
        assert!(waiter.await.unwrap());
    }

    #[tokio::test]
    async fn a_wait_is_bounded() {
        let o = Order::default();
        let (_a, b) = (o.issue(), o.issue());
        let t0 = std::time::Instant::now();
        o.wait_turn(b).await;
        assert!(t0.elapsed() >= TURN_BOUND);
        assert!(!o.is_turn(b));
    }

    #[test]
    fn a_wake_up_while_parked_takes_a_ticket_the_read_holds() {
        let o = Arc::new(Order::default());
        let mut r = Reader::new(o.clone());
        let w = r.waker(&cx());
        w.wake_by_ref();
        assert!(r.woken());
        // A second wake-up before the connection reads takes no second ticket.
        w.wake_by_ref();
        assert_eq!(o.outstanding(), 1);
        let younger = o.issue();
        let _ = r.waker(&cx());
        r.read();
        assert!(!o.is_turn(younger), "the read's ticket is older");
        r.release();
        assert!(o.is_turn(younger));
    }

    #[test]
    fn an_empty_socket_releases_everything() {
        let o = Arc::new(Order::default());
        let mut r = Reader::new(o.clone());
        read_after_wake_up(&mut r);
        r.arm();
        assert_eq!(o.outstanding(), 2);
        let _ = r.waker(&cx());
        r.idle();
        assert_eq!(o.outstanding(), 0);
    }

    #[test]
    fn a_wake_up_after_close_gives_its_ticket_back() {
        let o = Arc::new(Order::default());
        let mut r = Reader::new(o.clone());
        let w = r.waker(&cx());
        r.close();
        w.wake_by_ref();
        assert_eq!(o.outstanding(), 0);
        drop(r);
        assert_eq!(o.outstanding(), 0);
    }

    #[test]
    fn a_busy_connection_reads_under_its_armed_ticket() {
        let o = Arc::new(Order::default());
        let mut r = Reader::new(o.clone());
        r.arm();
        let younger = o.issue();
        let _ = r.waker(&cx());
        r.read();
        assert!(!o.is_turn(younger));
        drop(r);
        assert!(o.is_turn(younger));
    }

    #[tokio::test]
    async fn wait_turn_waits_once_per_read() {
        let o = Arc::new(Order::default());
        let older = o.issue();
        let mut r = Reader::new(o.clone());
        read_after_wake_up(&mut r);
        let o2 = o.clone();
        let release = tokio::spawn(async move {
            tokio::task::yield_now().await;
            o2.release(older);
        });
        r.wait_turn().await;
        assert!(o.outstanding() <= 1);
        release.await.unwrap();
        // The same read's next PUBLISH does not wait again.
        let _blocker = o.issue();
        r.wait_turn().await;
    }
}
