//! Orders a configuration reload (SIGHUP) before the connections that come after it.
//!
//! mosquitto notes a SIGHUP in its signal handler and re-reads its files before it handles any
//! more packets, so a client that connects after `kill -HUP` is judged by the new password and
//! ACL files. Here the reload runs on a task that the signal wakes, and a connection could
//! overtake it on another thread. So the signal handler counts hangups as they arrive
//! ([`count_hangup`]), the reload task says which ones it has applied, and a CONNECT waits
//! (briefly, bounded) until every hangup seen before it is applied.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Notify;

/// Longest a CONNECT waits for a reload that was asked for before it.
const BOUND: Duration = Duration::from_secs(2);

/// Hangups counted by the signal handler, process-wide (the signal is too).
static HANGUPS: AtomicU64 = AtomicU64::new(0);

/// Counts a hangup. Async-signal-safe: called from the SIGHUP handler itself, which must be
/// registered before the one that wakes the reload task, so the count is there when it runs.
pub fn count_hangup() {
    HANGUPS.fetch_add(1, Ordering::SeqCst);
}

/// The hangups applied by this broker's reloads.
#[derive(Debug)]
pub struct Reloads {
    applied: AtomicU64,
    done: Notify,
}

impl Default for Reloads {
    fn default() -> Self {
        Reloads {
            // Hangups before this broker existed are not its to apply.
            applied: AtomicU64::new(HANGUPS.load(Ordering::SeqCst)),
            done: Notify::new(),
        }
    }
}

impl Reloads {
    /// The hangups counted so far: what a reload that starts now will have applied.
    pub fn pending(&self) -> u64 {
        HANGUPS.load(Ordering::SeqCst)
    }

    /// Marks the hangups up to `upto` (a [`Reloads::pending`] value) as applied.
    pub fn applied(&self, upto: u64) {
        self.applied.fetch_max(upto, Ordering::SeqCst);
        self.done.notify_waiters();
    }

    /// Waits until every hangup counted before this call is applied (at most two seconds).
    pub async fn settled(&self) {
        // A SIGHUP sent before this CONNECT arrived may still wait for a thread to run its
        // handler (mosquitto, with one thread, always runs it first): then wait for one more.
        let counted = HANGUPS.load(Ordering::SeqCst);
        let target = counted + u64::from(hangup_pending());
        self.settled_up_to(target).await
    }

    /// Waits until the hangups up to `target` are applied (at most two seconds).
    async fn settled_up_to(&self, target: u64) {
        if self.applied.load(Ordering::SeqCst) >= target {
            return;
        }
        let wait = async {
            loop {
                let done = self.done.notified();
                tokio::pin!(done);
                done.as_mut().enable();
                if self.applied.load(Ordering::SeqCst) >= target {
                    return;
                }
                done.await;
            }
        };
        let _ = tokio::time::timeout(BOUND, wait).await;
    }
}

/// Whether a SIGHUP is pending for the process: sent, its handler not run yet. `sigpending`
/// shows it only in a thread that blocks it, as `mq`'s runtime threads do
/// (`process::block_hangups_in_this_thread`); elsewhere this is false and only the count holds.
fn hangup_pending() -> bool {
    // SAFETY: sigpending fills the set we pass; sigismember only reads it.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigpending(&mut set) == 0 && libc::sigismember(&set, libc::SIGHUP) == 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn a_connect_waits_for_the_reload_asked_before_it() {
        // The process-wide count is left alone: other tests' brokers read it.
        let r = Arc::new(Reloads::default());
        let target = r.applied.load(Ordering::SeqCst) + 1;
        let waiter = tokio::spawn({
            let r = r.clone();
            async move { r.settled_up_to(target).await }
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        r.applied(target);
        tokio::time::timeout(Duration::from_secs(1), waiter)
            .await
            .expect("settled once applied")
            .unwrap();
    }
}
