//! The store's writer thread: group commit, and what a failing disk does to it.
//!
//! ```text
//!  links, router ──StoreOp──▶ channel ──▶ writer thread: pending ops ──one transaction──▶ redb
//!        ▲                                     │
//!        └──── barrier: Ok once committed ◀────┘  Err(StoreFault) while the disk fails
//! ```
//!
//! Everything waiting in the channel is applied in one transaction (group commit); a barrier
//! is answered with the outcome of the commit that holds every change sent before it, so a
//! link acknowledges a message only once the transaction containing it is on disk.
//!
//! A failed commit loses nothing the broker holds in memory: its changes stay pending, in
//! order, and are retried (with the database closed and re-opened, which redb requires after
//! an I/O error) once a second. Meanwhile barriers
//! fail, [`StoreTx::fault`] says so (links refuse what would need the store), and the log
//! says what happened once, then every minute. While failing, pending changes are coalesced
//! (one retained message per topic; a delivery queued and completed cancels out), so memory
//! stays bounded by what the broker holds anyway.

use super::{StoreOp, apply};
use crate::broker::log::Log;
use crate::protocol::ReasonCode;
use redb::Database;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// How often a failing store is retried without a barrier asking.
const RETRY: Duration = Duration::from_secs(1);
/// How often the log repeats that the store still fails.
const REMINDER: Duration = Duration::from_secs(60);
/// Most operations applied in one transaction.
const MAX_BATCH: usize = 4096;

/// Why a change could not be committed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreFault {
    /// The disk is full.
    Full,
    /// Any other write failure.
    Io,
}

impl std::fmt::Display for StoreFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StoreFault::Full => "disk full",
            StoreFault::Io => "write error",
        })
    }
}

impl StoreFault {
    /// The v5 acknowledgement reason for a message this fault kept from being stored:
    /// 0x97 "quota exceeded" for a full disk, 0x80 "unspecified error" otherwise.
    pub fn reason(self) -> ReasonCode {
        match self {
            StoreFault::Full => ReasonCode::QuotaExceeded,
            StoreFault::Io => ReasonCode::UnspecifiedError,
        }
    }

    fn of(e: &redb::Error) -> StoreFault {
        let io = match e {
            redb::Error::Io(io) => Some(io),
            _ => None,
        };
        match io.and_then(std::io::Error::raw_os_error) {
            Some(libc::ENOSPC) | Some(libc::EDQUOT) => StoreFault::Full,
            _ => StoreFault::Io,
        }
    }
}

/// What the writer tells everyone else about the disk.
#[derive(Debug, Default)]
struct Health {
    failing: AtomicBool,
    full: AtomicBool,
    failed_commits: AtomicU64,
}

/// The sending side, shared by the router and the links.
#[derive(Clone, Debug)]
pub struct StoreTx {
    tx: Sender<StoreOp>,
    health: Arc<Health>,
}

impl StoreTx {
    /// Queues a change (never blocks).
    pub fn send(&self, op: StoreOp) {
        // After shutdown the writer is gone; nothing more can be saved then anyway.
        let _ = self.tx.send(op);
    }

    /// Waits until every change sent before is committed to disk; `Err` when the commit
    /// failed (the changes stay pending and are retried).
    pub async fn barrier(&self) -> Result<(), StoreFault> {
        let (tx, rx) = oneshot::channel();
        self.send(StoreOp::Barrier(tx));
        rx.await.unwrap_or(Err(StoreFault::Io))
    }

    /// The fault of the last commit, while the store cannot write.
    pub fn fault(&self) -> Option<StoreFault> {
        if !self.health.failing.load(Ordering::Relaxed) {
            None
        } else if self.health.full.load(Ordering::Relaxed) {
            Some(StoreFault::Full)
        } else {
            Some(StoreFault::Io)
        }
    }

    /// Commits that failed since the broker started.
    pub fn failed_commits(&self) -> u64 {
        self.health.failed_commits.load(Ordering::Relaxed)
    }

    /// Commits everything sent before and stops the writer. Returns once the writer has
    /// finished (whether or not that last commit succeeded; the log says).
    pub async fn close(&self) {
        let (tx, rx) = oneshot::channel();
        self.send(StoreOp::Close(tx));
        let _ = rx.await;
    }
}

/// Starts the writer thread for `db` (the file at `path`, re-opened after a failure). It ends
/// at [`StoreTx::close`], or when every [`StoreTx`] is dropped, after a last commit.
pub fn start(db: Database, path: PathBuf, log: Log) -> (StoreTx, std::thread::JoinHandle<()>) {
    let (tx, rx) = std::sync::mpsc::channel();
    let health = Arc::new(Health::default());
    let writer = Writer {
        db: Some(db),
        path,
        log,
        health: health.clone(),
        pending: Pending::default(),
        failing: None,
    };
    let handle = std::thread::Builder::new()
        .name("mq-store".into())
        .spawn(move || writer.run(rx))
        .unwrap_or_else(|e| panic!("cannot start the store thread: {e}"));
    (StoreTx { tx, health }, handle)
}

/// A failure in progress.
struct Failing {
    fault: StoreFault,
    next_retry: Instant,
    last_log: Instant,
}

struct Writer {
    /// `None` after a failure: re-opened before the next attempt.
    db: Option<Database>,
    path: PathBuf,
    log: Log,
    health: Arc<Health>,
    pending: Pending,
    failing: Option<Failing>,
}

/// Who waits for the outcome of the next commit.
#[derive(Default)]
struct Waiters {
    barriers: Vec<oneshot::Sender<Result<(), StoreFault>>>,
    close: Option<oneshot::Sender<()>>,
}

impl Writer {
    fn run(mut self, rx: Receiver<StoreOp>) {
        loop {
            let mut waiters = Waiters::default();
            let gone = match self.next(&rx) {
                Ok(Some(op)) => {
                    self.take(op, &mut waiters);
                    false
                }
                Ok(None) => false,
                Err(()) => true,
            };
            let mut n = 1;
            while waiters.close.is_none() && n < MAX_BATCH {
                let Ok(op) = rx.try_recv() else { break };
                self.take(op, &mut waiters);
                n += 1;
            }
            let last = gone || waiters.close.is_some();
            let outcome = match &self.failing {
                // Failing, and not yet time to retry: the answer is the last one, unless
                // nothing is waiting to be saved.
                Some(f) if !last && self.retry_due().is_some() => match self.pending.is_empty() {
                    true => Ok(()),
                    false => Err(f.fault),
                },
                _ => self.commit(),
            };
            for b in waiters.barriers {
                let _ = b.send(outcome);
            }
            if last {
                if outcome.is_err() {
                    self.log.info(format_args!(
                        "Error: persistence store {}: {} changes could not be saved.",
                        self.path.display(),
                        self.pending.len()
                    ));
                }
                // Closed before answering, so the file can be opened again at once.
                drop(self.db.take());
                if let Some(c) = waiters.close {
                    let _ = c.send(());
                }
                return;
            }
        }
    }

    /// While failing and before the next retry: how long until it.
    fn retry_due(&self) -> Option<Duration> {
        let f = self.failing.as_ref()?;
        let left = f.next_retry.saturating_duration_since(Instant::now());
        (!left.is_zero()).then_some(left)
    }

    /// The next operation: `Ok(None)` when it is time to retry a failed commit, `Err` when
    /// every sender is gone.
    fn next(&self, rx: &Receiver<StoreOp>) -> Result<Option<StoreOp>, ()> {
        match &self.failing {
            None => rx.recv().map(Some).map_err(|_| ()),
            Some(_) => {
                let wait = self.retry_due().unwrap_or_default();
                match rx.recv_timeout(wait) {
                    Ok(op) => Ok(Some(op)),
                    Err(RecvTimeoutError::Timeout) => Ok(None),
                    Err(RecvTimeoutError::Disconnected) => Err(()),
                }
            }
        }
    }

    fn take(&mut self, op: StoreOp, waiters: &mut Waiters) {
        match op {
            StoreOp::Barrier(b) => waiters.barriers.push(b),
            StoreOp::Close(c) => waiters.close = Some(c),
            op => self.pending.push(op, self.failing.is_some()),
        }
    }

    /// Applies every pending change in one transaction.
    fn commit(&mut self) -> Result<(), StoreFault> {
        if self.pending.is_empty() && self.failing.is_none() {
            return Ok(());
        }
        let result = match self.db.take() {
            Some(db) => Ok(db),
            None => Database::create(&self.path).map_err(redb::Error::from),
        }
        .and_then(|db| {
            let r = apply(&db, self.pending.ops());
            // A failed commit leaves redb refusing every later one ("Previous I/O error
            // occurred"): drop the handle, so the next attempt opens the file afresh.
            if r.is_ok() {
                self.db = Some(db);
            }
            r
        });
        match result {
            Ok(()) => {
                self.recovered();
                self.pending.clear();
                Ok(())
            }
            Err(e) => Err(self.failed(&e)),
        }
    }

    fn recovered(&mut self) {
        if self.failing.take().is_some() {
            self.health.failing.store(false, Ordering::Relaxed);
            self.log.info(format_args!(
                "Persistence store {} writes again: {} waiting changes saved.",
                self.path.display(),
                self.pending.len()
            ));
        }
    }

    fn failed(&mut self, e: &redb::Error) -> StoreFault {
        let fault = StoreFault::of(e);
        let now = Instant::now();
        self.health.failed_commits.fetch_add(1, Ordering::Relaxed);
        self.health
            .full
            .store(fault == StoreFault::Full, Ordering::Relaxed);
        self.health.failing.store(true, Ordering::Relaxed);
        let first = self.failing.is_none();
        let remind = self
            .failing
            .as_ref()
            .is_some_and(|f| now.duration_since(f.last_log) >= REMINDER);
        if first {
            self.log.info(format_args!(
                "Error: persistence store {}: {e}. Messages that need the store are refused \
                 until it can write again; retrying every second.",
                self.path.display()
            ));
            self.pending.coalesce();
        } else if remind {
            self.log.info(format_args!(
                "Error: persistence store {} still cannot write ({} changes waiting): {e}.",
                self.path.display(),
                self.pending.len()
            ));
        }
        let last_log = match &self.failing {
            Some(f) if !remind => f.last_log,
            _ => now,
        };
        self.failing = Some(Failing {
            fault,
            next_retry: now + RETRY,
            last_log,
        });
        fault
    }
}

/// Changes not yet committed, in order. Slots of cancelled or superseded changes are `None`.
#[derive(Default)]
struct Pending {
    ops: Vec<Option<StoreOp>>,
    live: usize,
    /// Slot of the pending retained message per topic (only while coalescing).
    retained: HashMap<Arc<str>, usize>,
    /// Slot of the pending queued delivery per (client, key) (only while coalescing).
    queued: HashMap<(Arc<str>, u64), usize>,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.live == 0
    }

    fn len(&self) -> usize {
        self.live
    }

    fn ops(&self) -> impl Iterator<Item = &StoreOp> {
        self.ops.iter().flatten()
    }

    fn clear(&mut self) {
        *self = Pending::default();
    }

    /// Adds a change; with `coalesce`, one that supersedes or cancels a pending one replaces
    /// it instead of growing the list.
    fn push(&mut self, op: StoreOp, coalesce: bool) {
        if coalesce {
            match &op {
                StoreOp::Retain(m) => {
                    let topic: Arc<str> = m.topic.as_str().into();
                    if let Some(&i) = self.retained.get(&topic) {
                        self.ops[i] = Some(op);
                        return;
                    }
                    self.retained.insert(topic, self.ops.len());
                }
                StoreOp::Enqueue(id, seq, ..) => {
                    self.queued.insert((id.clone(), *seq), self.ops.len());
                }
                StoreOp::Dequeue(id, seq) => {
                    if let Some(i) = self.queued.remove(&(id.clone(), *seq)) {
                        self.ops[i] = None;
                        self.live -= 1;
                        return;
                    }
                }
                _ => {}
            }
        }
        self.ops.push(Some(op));
        self.live += 1;
    }

    /// Rebuilds the list with coalescing, when a failure makes it live longer than a batch.
    fn coalesce(&mut self) {
        let ops = std::mem::take(&mut self.ops);
        self.clear();
        for op in ops.into_iter().flatten() {
            self.push(op, true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Message;
    use crate::topic::TopicName;

    fn retain(topic: &str, payload: &'static [u8]) -> StoreOp {
        StoreOp::Retain(Arc::new(Message::new(
            TopicName::new(topic).unwrap(),
            bytes::Bytes::from_static(payload),
            crate::protocol::QoS::AtLeastOnce,
            true,
            Default::default(),
        )))
    }

    #[test]
    fn coalescing_keeps_the_last_retained_message_and_cancels_completed_deliveries() {
        let mut p = Pending::default();
        let id: Arc<str> = "c".into();
        p.push(retain("a", b"1"), true);
        p.push(retain("b", b"1"), true);
        p.push(retain("a", b"2"), true);
        let StoreOp::Retain(m) = retain("x", b"m") else {
            unreachable!()
        };
        p.push(
            StoreOp::Enqueue(id.clone(), 7, m, crate::protocol::QoS::AtLeastOnce),
            true,
        );
        p.push(StoreOp::Dequeue(id.clone(), 7), true);
        p.push(StoreOp::Dequeue(id.clone(), 3), true);
        assert_eq!(p.len(), 3);
        let kinds: Vec<String> = p
            .ops()
            .map(|op| match op {
                StoreOp::Retain(m) => format!("{}={:?}", m.topic, m.payload),
                StoreOp::Dequeue(_, seq) => format!("dequeue {seq}"),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(kinds, ["a=b\"2\"", "b=b\"1\"", "dequeue 3"]);
    }

    #[test]
    fn full_disk_is_told_apart_from_other_failures() {
        let full = redb::Error::Io(std::io::Error::from_raw_os_error(libc::ENOSPC));
        assert_eq!(StoreFault::of(&full), StoreFault::Full);
        assert_eq!(StoreFault::of(&full).reason(), ReasonCode::QuotaExceeded);
        let other = redb::Error::Io(std::io::Error::from_raw_os_error(libc::EIO));
        assert_eq!(
            StoreFault::of(&other).reason(),
            ReasonCode::UnspecifiedError
        );
        assert_eq!(StoreFault::of(&redb::Error::PreviousIo), StoreFault::Io);
    }
}
