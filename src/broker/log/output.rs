//! The opened log destinations of one broker: files, syslog, the `$SYS` topic queue.
//!
//! Opened once when the broker starts (before it drops privileges, so a root-owned log
//! directory works), reopened in place on SIGHUP so that log rotation works, closed when the
//! broker ends. A destination that fails to write (a full disk, a closed stdout) is skipped:
//! logging never takes the broker down.

use super::Level;
use super::topic::TopicQueue;
use crate::broker::config::{LogDest, LogOutput};
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Mutex, RwLock};

/// A log file that could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("cannot open log file {}: {source}", path.display())]
pub struct LogError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub source: std::io::Error,
}

/// One opened destination.
enum Sink {
    Stderr,
    Stdout,
    File(Mutex<File>),
    Syslog {
        socket: std::os::unix::net::UnixDatagram,
        path: PathBuf,
    },
    Topic,
}

/// What [`Output::reopen`] replaces.
struct State {
    sinks: Vec<Sink>,
    timestamp: bool,
    format: Option<String>,
}

/// The destinations of `log_dest`, shared by every copy of a broker's `Log`.
pub struct Output {
    state: RwLock<State>,
    /// Lines waiting to be published on `$SYS/broker/log/...` (see [`super::topic`]).
    pub topic: TopicQueue,
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Output").finish_non_exhaustive()
    }
}

/// Two configs are the same when they use the same opened output.
impl PartialEq for Output {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Eq for Output {}

impl Output {
    /// Opens the destinations of `config`. The output lives as long as the process: every
    /// copy of the broker's `Log` points at it, and [`Output::close`] releases its files.
    pub fn open(config: &LogOutput) -> Result<&'static Output, LogError> {
        let out = Output {
            state: RwLock::new(State::open(config)?),
            topic: TopicQueue::default(),
        };
        Ok(Box::leak(Box::new(out)))
    }

    /// Reopens the destinations (SIGHUP). When a file cannot be opened the previous
    /// destinations stay and the error is returned.
    pub fn reopen(&self, config: &LogOutput) -> Result<(), LogError> {
        let state = State::open(config)?;
        *self.state.write().unwrap_or_else(|e| e.into_inner()) = state;
        Ok(())
    }

    /// Closes files and syslog, and stops queueing `$SYS` lines; stdout and stderr stay.
    pub fn close(&self) {
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        state
            .sinks
            .retain(|s| matches!(s, Sink::Stderr | Sink::Stdout));
    }

    /// Writes one line to every destination.
    pub fn write(&self, level: Level, args: std::fmt::Arguments<'_>) {
        let state = self.state.read().unwrap_or_else(|e| e.into_inner());
        if state.sinks.is_empty() {
            return;
        }
        let message = args.to_string();
        let line = match (state.timestamp, &state.format) {
            (false, _) => format!("{message}\n"),
            (true, None) => format!("{}: {message}\n", epoch()),
            (true, Some(f)) => format!("{}: {message}\n", chrono::Local::now().format(f)),
        };
        for sink in &state.sinks {
            // Write errors are ignored: see the module comment.
            match sink {
                Sink::Stderr => drop(std::io::stderr().lock().write_all(line.as_bytes())),
                Sink::Stdout => drop(std::io::stdout().lock().write_all(line.as_bytes())),
                Sink::File(f) => {
                    let mut f = f.lock().unwrap_or_else(|e| e.into_inner());
                    drop(f.write_all(line.as_bytes()));
                }
                Sink::Syslog { socket, path } => syslog(socket, path, level, &message),
                Sink::Topic => {
                    if let Some(topic) = level.topic() {
                        self.topic.push(topic, line.trim_end().to_string());
                    }
                }
            }
        }
    }
}

impl State {
    fn open(config: &LogOutput) -> Result<State, LogError> {
        let mut sinks = Vec::new();
        for dest in &config.dests {
            sinks.push(match dest {
                LogDest::Stderr => Sink::Stderr,
                LogDest::Stdout => Sink::Stdout,
                LogDest::Topic => Sink::Topic,
                LogDest::Syslog => match syslog_socket() {
                    Some(socket) => Sink::Syslog {
                        socket,
                        path: syslog_path(),
                    },
                    None => continue,
                },
                LogDest::File(path) => Sink::File(Mutex::new(append(path)?)),
            });
        }
        Ok(State {
            sinks,
            timestamp: config.timestamp,
            format: config.timestamp_format.clone(),
        })
    }
}

fn append(path: &std::path::Path) -> Result<File, LogError> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| LogError {
            path: path.to_path_buf(),
            source,
        })
}

fn epoch() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A line to stderr with the default timestamp (a `Log` with no opened output).
pub(super) fn to_stderr(args: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr().lock(), "{}: {args}", epoch());
}

/// Where syslog lines go: the system logger's datagram socket, or the socket named by
/// `MQ_SYSLOG_SOCKET` (a container's logger elsewhere, or a test's).
fn syslog_path() -> PathBuf {
    std::env::var_os("MQ_SYSLOG_SOCKET").map_or_else(|| PathBuf::from("/dev/log"), PathBuf::from)
}

/// The socket syslog lines are sent from; the logger's address is given with each line, so a
/// restarted logger is found again without reconnecting.
fn syslog_socket() -> Option<std::os::unix::net::UnixDatagram> {
    let socket = std::os::unix::net::UnixDatagram::unbound().ok()?;
    // A logger that stops reading must not stall the broker: a full queue drops the line.
    socket.set_nonblocking(true).ok()?;
    Some(socket)
}

/// Sends one line in the traditional syslog format: `<PRI>Mmm dd hh:mm:ss mq[PID]: message`
/// (RFC 3164), facility daemon. A logger that is not there loses the line, as with syslog(3).
fn syslog(
    socket: &std::os::unix::net::UnixDatagram,
    path: &std::path::Path,
    level: Level,
    message: &str,
) {
    let stamp = chrono::Local::now().format("%b %e %H:%M:%S");
    let pri = level.syslog_priority();
    let line = format!("<{pri}>{stamp} mq[{}]: {message}", std::process::id());
    let _ = socket.send_to(line.as_bytes(), path);
}
