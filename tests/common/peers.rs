//! The one place that decides whether a test's peers are installed.
//!
//! A test states what it needs before anything else:
//!
//! ```ignore
//! if !require(&[Peer::Mosquitto, Peer::MosquittoClients]) {
//!     return;
//! }
//! ```
//!
//! When every peer is there, `require` returns true. When one is missing, it says which one and
//! how to install it; under `CI=true` that message fails the test (a suite that goes green
//! without running its interop tests proves nothing), otherwise it is printed as a skip note and
//! `require` returns false.
//!
//! Programs are looked up on `PATH` only, the way the tests start them, so hiding a directory
//! from `PATH` hides the peer. The same policy covers what the host lacks ([`host_lacks`]).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Something outside this crate that a test talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peer {
    /// Debian's broker, `mosquitto` (in `/usr/sbin`).
    Mosquitto,
    /// `mosquitto_pub`, `mosquitto_sub` and `mosquitto_rr`.
    MosquittoClients,
    /// `mosquitto_passwd` (Debian ships it with the broker).
    MosquittoPasswd,
    /// The paho-mqtt Python client (version 2).
    Paho,
    /// `python3` itself (the terminal tests drive a pty with it).
    Python3,
    /// The `openssl` command.
    Openssl,
    /// Headless Chromium and its WebDriver, for anything a browser shows.
    Chromium,
    /// Prometheus' `promtool`, to check exposition text.
    Promtool,
}

impl Peer {
    /// The programs that must be on `PATH`.
    fn programs(self) -> &'static [&'static str] {
        match self {
            Peer::Mosquitto => &["mosquitto"],
            Peer::MosquittoClients => &["mosquitto_pub", "mosquitto_sub", "mosquitto_rr"],
            Peer::MosquittoPasswd => &["mosquitto_passwd"],
            Peer::Paho | Peer::Python3 => &["python3"],
            Peer::Openssl => &["openssl"],
            Peer::Chromium => &["chromium", "chromedriver"],
            Peer::Promtool => &["promtool"],
        }
    }

    /// How to get it, as a person would type it.
    fn install_hint(self) -> &'static str {
        match self {
            Peer::Mosquitto | Peer::MosquittoPasswd => "apt-get install mosquitto",
            Peer::MosquittoClients => "apt-get install mosquitto-clients",
            Peer::Paho => "python3 -m pip install 'paho-mqtt>=2,<3'",
            Peer::Python3 => "apt-get install python3",
            Peer::Openssl => "apt-get install openssl",
            Peer::Chromium => "apt-get install chromium chromium-driver",
            Peer::Promtool => "apt-get install prometheus",
        }
    }

    /// Why it is unusable, or `None` when it is installed.
    pub fn missing(self) -> Option<String> {
        for program in self.programs() {
            if which(program).is_none() {
                return Some(not_on_path(self, program));
            }
        }
        if self == Peer::Paho && !python_imports("paho.mqtt.client") {
            return Some(format!(
                "python3 cannot import paho.mqtt.client ({})",
                self.install_hint()
            ));
        }
        None
    }

    /// Full path of one of this peer's programs; panics (with the install hint) when missing.
    pub fn program(self, name: &str) -> PathBuf {
        debug_assert!(
            self.programs().contains(&name),
            "{name} is not part of {self:?}"
        );
        which(name).unwrap_or_else(|| panic!("{}", not_on_path(self, name)))
    }
}

fn not_on_path(peer: Peer, program: &str) -> String {
    let mut why = format!(
        "{program} is not installed ({}) or not on PATH",
        peer.install_hint()
    );
    for dir in ["/usr/sbin", "/usr/local/sbin"] {
        let p = Path::new(dir).join(program);
        if p.is_file() {
            why = format!(
                "{program} is not on PATH (found {}: add {dir} to PATH)",
                p.display()
            );
        }
    }
    why
}

/// True when every peer in `needed` is installed. Otherwise fails the test under `CI=true`,
/// or prints a skip note and returns false.
pub fn require(needed: &[Peer]) -> bool {
    let missing: Vec<String> = needed.iter().filter_map(|p| p.missing()).collect();
    if missing.is_empty() {
        return true;
    }
    unavailable(&missing.join("; "))
}

/// For what the host itself lacks (an IPv6 loopback, a high enough file limit): the same
/// policy as a missing peer. Fails the test under `CI=true`; otherwise prints the skip note,
/// and the caller returns.
pub fn host_lacks(what: &str) {
    unavailable(what);
}

/// True when the `CI` variable asks for a run in which nothing may be skipped.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

fn unavailable(why: &str) -> bool {
    if under_ci() {
        panic!("{why}; under CI=true this test fails instead of skipping");
    }
    eprintln!("skipping: {why} (under CI=true this test fails)");
    false
}

/// Full path of `name` on `PATH`.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn python_imports(module: &str) -> bool {
    Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
