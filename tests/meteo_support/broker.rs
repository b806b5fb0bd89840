//! Debian's mosquitto on a free loopback port, killed on drop, and `mosquitto_sub` helpers.
//!
//! Another broker and subscriber can stand in: `MQ_METEO_TEST_BROKER` is a command that takes
//! `-c mosquitto.conf` (e.g. `target/debug/mq broker`), `MQ_METEO_TEST_SUB` one that takes
//! mosquitto_sub's flags (e.g. `target/debug/mq sub`).

use crate::common::ChildGuard;
pub use crate::common::free_port;
use crate::common::mosquitto::{MOSQUITTO, start_with_config, write_config};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A command line from the environment, or the default, as a ready `Command`.
fn command(var: &str, default: &str) -> Command {
    let line = std::env::var(var).unwrap_or_else(|_| default.to_owned());
    let mut words = line.split_whitespace();
    let mut cmd = Command::new(words.next().unwrap_or(default));
    cmd.args(words);
    cmd
}

fn broker_command() -> Command {
    command("MQ_METEO_TEST_BROKER", MOSQUITTO)
}

fn sub_command() -> Command {
    command("MQ_METEO_TEST_SUB", "mosquitto_sub")
}

/// True (after printing a notice) when the broker or the subscriber is missing; under
/// `CI=true` a missing peer fails the test instead.
pub fn skip() -> bool {
    let runs = |mut c: Command| {
        c.arg("--help")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    };
    let broker_ok =
        std::env::var_os("MQ_METEO_TEST_BROKER").is_some() || Path::new(MOSQUITTO).exists();
    let missing = !broker_ok || !runs(sub_command());
    if missing {
        // In CI a missing peer is a failure, never a silent pass.
        assert!(
            std::env::var_os("CI").is_none(),
            "mosquitto or mosquitto_sub is not installed (CI=true: install mosquitto and mosquitto-clients)"
        );
        eprintln!("skipped: mosquitto or mosquitto_sub is not installed");
    }
    missing
}

/// A running broker (mosquitto, or `mq broker`); dropping it kills it.
pub struct Mosquitto {
    /// Its port.
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<ChildGuard>,
    /// `mq broker` instead of mosquitto (or `MQ_METEO_TEST_BROKER`).
    mq: bool,
}

impl Mosquitto {
    /// Starts mosquitto on a free port, anonymous, no persistence.
    pub fn start() -> Mosquitto {
        Self::start_on(free_port())
    }

    /// Starts mosquitto on `port`.
    pub fn start_on(port: u16) -> Mosquitto {
        Self::start_kind(port, false)
    }

    /// Starts `mq broker` (this crate's binary) on a free port, with the same configuration.
    pub fn start_mq() -> Mosquitto {
        Self::start_kind(free_port(), true)
    }

    fn start_kind(port: u16, mq: bool) -> Mosquitto {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut m = Mosquitto {
            port,
            dir,
            child: None,
            mq,
        };
        m.spawn();
        m
    }

    fn command(&self) -> Command {
        if self.mq {
            let mut c = Command::new(env!("CARGO_BIN_EXE_mq"));
            c.arg("broker");
            c
        } else {
            broker_command()
        }
    }

    /// A mosquitto_sub-compatible command: `mq sub` for `mq broker`, else the default.
    pub fn sub(&self) -> Command {
        if self.mq {
            let mut c = Command::new(env!("CARGO_BIN_EXE_mq"));
            c.arg("sub");
            c
        } else {
            sub_command()
        }
    }

    fn spawn(&mut self) {
        let conf = write_config(self.dir.path(), self.port, "allow_anonymous true");
        self.child = Some(start_with_config(self.command(), &conf, self.port));
    }

    /// Kills the broker (its retained messages go with it).
    pub fn stop(&mut self) {
        // Dropping the guard kills and reaps the broker.
        self.child = None;
    }

    /// Kills and starts it again on the same port.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// Retained messages under `filter`, as (topic, payload).
    pub fn retained(&self, filter: &str) -> Vec<(String, String)> {
        self.retained_via(self.sub(), filter)
    }

    /// Retained messages under `filter`, read with the given mosquitto_sub-compatible command.
    pub fn retained_via(&self, mut sub: Command, filter: &str) -> Vec<(String, String)> {
        let out = sub
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-t",
                filter,
                "-v",
            ])
            .args(["-W", "1"])
            .output()
            .expect("mosquitto_sub");
        super::lines(&out.stdout)
    }

    /// Polls until `topic` is retained with a payload `accept` likes.
    pub fn wait_retained(&self, topic: &str, accept: impl Fn(&str) -> bool, secs: u64) -> bool {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            let msgs = self.retained(topic);
            if msgs.iter().any(|(t, p)| t == topic && accept(p)) {
                return true;
            }
        }
        false
    }

    /// A live subscriber that ignores retained messages; [`Live::finish`] returns what came.
    pub fn live(&self, filter: &str) -> Live {
        let child = sub_command()
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-t",
                filter,
                "-v",
                "-R",
            ])
            .stdout(Stdio::piped())
            .spawn()
            .expect("mosquitto_sub");
        // Give it time to subscribe.
        std::thread::sleep(Duration::from_millis(500));
        Live { child: Some(child) }
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A running `mosquitto_sub -R`.
pub struct Live {
    child: Option<Child>,
}

impl Live {
    /// Stops the subscriber (after a grace period) and returns the messages it printed.
    pub fn finish(mut self) -> Vec<(String, String)> {
        std::thread::sleep(Duration::from_millis(500));
        let mut c = self.child.take().expect("child");
        let _ = c.kill();
        let out = c.wait_with_output().expect("output");
        super::lines(&out.stdout)
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A background `mq` process, killed on drop.
pub struct Background {
    /// The process.
    pub child: Option<Child>,
}

impl Background {
    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(mut self) -> Option<i32> {
        let mut c = self.child.take()?;
        // SAFETY: kill(2) on the pid of a child we own and have not reaped.
        unsafe { libc::kill(c.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(s)) = c.try_wait() {
                return s.code();
            }
            if Instant::now() > deadline {
                let _ = c.kill();
                let _ = c.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills it with SIGKILL (no goodbye: the broker publishes the will).
    pub fn kill(mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
