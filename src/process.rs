//! What every long-running command needs from its process: the signals that stop or reload it,
//! and an open-file limit fit for thousands of sockets. One place, so that the broker, `mq sub`,
//! `mq meteo` and `mq bench` stop the same way.

use tokio::signal::unix::{Signal, SignalKind, signal};

/// SIGINT and SIGTERM: the two ways an operator (a terminal, systemd, `kill`) asks a command to
/// finish.
#[derive(Debug)]
pub struct Terminated {
    int: Option<Signal>,
    term: Option<Signal>,
}

impl Terminated {
    /// Starts listening; must be called inside a tokio runtime. A signal that cannot be hooked
    /// (which only happens when the runtime has no signal driver) is never reported.
    pub fn new() -> Terminated {
        Terminated {
            int: signal(SignalKind::interrupt()).ok(),
            term: signal(SignalKind::terminate()).ok(),
        }
    }

    /// Resolves at the next SIGINT or SIGTERM. Cancel-safe: a signal that arrives while nobody
    /// waits is kept for the next call.
    pub async fn recv(&mut self) {
        async fn one(s: &mut Option<Signal>) {
            match s {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            _ = one(&mut self.int) => {}
            _ = one(&mut self.term) => {}
        }
    }
}

impl Default for Terminated {
    fn default() -> Self {
        Terminated::new()
    }
}

/// Resolves at the first SIGINT or SIGTERM.
pub async fn terminated() {
    Terminated::new().recv().await
}

/// SIGHUP, the conventional "re-read your configuration".
pub fn hangups() -> std::io::Result<Signal> {
    signal(SignalKind::hangup())
}

/// Runs `count` inside the SIGHUP handler itself, at the moment the signal arrives (so it must
/// be async-signal-safe: an atomic increment). [`hangups`] wakes a task later; this records the
/// order of the signal against what the broker handles next. Handlers run in the order they
/// were registered: call this before [`hangups`].
pub fn count_hangups(count: impl Fn() + Send + Sync + 'static) -> std::io::Result<()> {
    // SAFETY: the closure only increments an atomic counter, which is async-signal-safe.
    unsafe { signal_hook_registry::register(libc::SIGHUP, count) }.map(|_| ())
}

/// Blocks SIGHUP in the calling thread (the runtime's worker and blocking threads): the main
/// thread takes it, and meanwhile other threads see it as pending (`sigpending`).
pub fn block_hangups_in_this_thread() {
    // SAFETY: the set is initialised by sigemptyset before use; pthread_sigmask only changes
    // this thread's mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGHUP);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

/// Raises the soft limit on open files to the hard limit and returns `(soft, hard)` afterwards:
/// every connection is a descriptor, and the usual soft default of 1024 would cap a broker or a
/// load generator far below what it can serve.
pub fn raise_nofile_limit() -> (u64, u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return (1024, 1024);
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim = raised;
            }
        }
    }
    (lim.rlim_cur, lim.rlim_max)
}
