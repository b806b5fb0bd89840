//! Test helpers shared by the integration tests: the one broker fixture ([`TestBroker`]), the
//! one check for installed peers ([`require`]), the `mq` binary through assert_cmd, child
//! processes whose output can be waited on, and a raw MQTT client built on the codec.
#![allow(dead_code)]

pub mod bridge;
pub mod broker;
pub mod clients;
pub mod conf_file;
pub mod lines;
pub mod openssl;
pub mod peers;
pub mod pki;
pub mod raw;
pub mod suite;
pub mod web;

#[allow(unused_imports)]
pub use broker::{Conf, Kind, TestBroker};
#[allow(unused_imports)]
pub use lines::{Lines, PATIENCE};
#[allow(unused_imports)]
pub use peers::{Peer, require};
#[allow(unused_imports)]
pub use raw::{RawClient, connect_packet, pid, publish_packet};

use mq::broker::config::{Config, ListenerConfig};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A quiet in-process config listening on 127.0.0.1:0, `$SYS` off (`MQ_TEST_LOG=1` logs).
pub fn test_config() -> Config {
    let mut c = Config {
        listeners: vec![ListenerConfig::loopback(0)],
        sys_interval: 0,
        ..Config::default()
    };
    let log = std::env::var_os("MQ_TEST_LOG").is_some();
    (c.log.error, c.log.warning, c.log.info) = (log, log, log);
    c
}

/// A port that was free a moment ago (bind 127.0.0.1:0, read it, close).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// The `mq` binary under test.
pub fn mq() -> assert_cmd::Command {
    assert_cmd::Command::new(mq_path())
}

/// Path of the `mq` binary, for processes spawned in the background.
pub fn mq_path() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_BIN_EXE_mq"))
}

/// The `mq` binary as a plain process, for tests that spawn it or set its stdio.
pub fn mq_process() -> Command {
    Command::new(mq_path())
}

/// A path inside `dir`.
pub fn path(dir: &tempfile::TempDir, name: &str) -> std::path::PathBuf {
    dir.path().join(name)
}

/// A child process whose stdout and stderr are collected line by line (so a test can wait for
/// a line), killed (by PID) and reaped when dropped.
pub struct ChildGuard {
    child: Child,
    /// What it printed on stdout.
    pub stdout: Lines,
    /// What it printed on stderr.
    pub stderr: Lines,
}

impl ChildGuard {
    /// Spawns `cmd` with stdout and stderr piped to collectors (stdin as `cmd` says).
    pub fn spawn(cmd: &mut Command) -> ChildGuard {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
        let (stdout, stderr) = (Lines::new(), Lines::new());
        stdout.follow(child.stdout.take().expect("stdout"));
        stderr.follow(child.stderr.take().expect("stderr"));
        ChildGuard {
            child,
            stdout,
            stderr,
        }
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Its stdin, when `cmd` asked for a pipe.
    pub fn stdin(&mut self) -> ChildStdin {
        self.child.stdin.take().expect("stdin was piped")
    }

    /// Sends a signal to the child.
    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on the PID of a child we own and have not reaped yet.
        unsafe {
            libc::kill(self.child.id() as i32, sig);
        }
    }

    /// Waits up to `limit` for the child to exit, returning its status once its output has
    /// been read out.
    pub fn wait_timeout(&mut self, limit: Duration) -> Option<ExitStatus> {
        let end = Instant::now() + limit;
        loop {
            if let Ok(Some(st)) = self.child.try_wait() {
                self.stdout.wait_closed(PATIENCE);
                self.stderr.wait_closed(PATIENCE);
                return Some(st);
            }
            if Instant::now() > end {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits up to `limit` for exit (killing it then) and returns its status and stdout.
    pub fn finish(mut self, limit: Duration) -> (Option<i32>, String) {
        let status = self.wait_timeout(limit);
        if status.is_none() {
            self.kill();
            // A grandchild may still hold the pipe: take what has come.
            self.stdout.wait_closed(Duration::from_millis(500));
        }
        (status.and_then(|s| s.code()), self.stdout.text())
    }

    /// Kills it now and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `tests/scripts/NAME` with python3 (at most `seconds`) and the given arguments, and
/// asserts that it exited 0 and printed OK; `context` is added to the failure message.
pub fn run_paho_script(name: &str, seconds: u32, args: &[String], context: &str) {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scripts")
        .join(name);
    let out = Command::new("timeout")
        .arg(seconds.to_string())
        .arg("python3")
        .arg(&script)
        .args(args)
        .output()
        .expect("python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("OK"),
        "{stdout}\n{}\n{context}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Waits until something accepts connections on 127.0.0.1:`port` (at most [`PATIENCE`]).
pub fn wait_for_port(port: u16) {
    if !wait_until(|| std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()) {
        panic!("nothing listening on port {port}");
    }
}

/// Polls `done` every 20 ms for up to [`PATIENCE`]; false if it never became true.
pub fn wait_until(mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// Waits (up to [`PATIENCE`]) until the process reading `pipe` has taken everything written
/// to it; false if it never did.
pub fn wait_drained(pipe: &impl std::os::fd::AsRawFd) -> bool {
    wait_until(|| {
        let mut queued: libc::c_int = 0;
        // SAFETY: FIONREAD writes one int, the bytes waiting in the pipe, to our local.
        let rc = unsafe { libc::ioctl(pipe.as_raw_fd(), libc::FIONREAD, &mut queued) };
        rc == 0 && queued == 0
    })
}
