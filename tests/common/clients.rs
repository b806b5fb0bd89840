//! Debian's mosquitto clients as test instruments: a `mosquitto_sub -d` whose SUBACK and
//! deliveries a test can wait for, and the credentials convention of the security tests.

use super::ChildGuard;
use super::lines::PATIENCE;
use super::peers::Peer;
use std::collections::BTreeSet;
use std::process::Command;

/// The payload of a marker message. A test that must show something did *not* arrive
/// publishes a marker after everything else and waits for it: a broker delivers a session's
/// messages in order, so once the marker is there, whatever was coming has come.
/// [`DebugSub::messages`] leaves markers out.
pub const MARK: &str = "~mark";

/// `-u USER -P USER-pw` (the password convention of the security tests), or nothing.
pub fn creds(user: Option<&str>) -> Vec<String> {
    match user {
        Some(u) => vec!["-u".into(), u.into(), "-P".into(), format!("{u}-pw")],
        None => vec![],
    }
}

/// A running `mosquitto_sub -d -v`: its debug lines tell when the subscription is in place.
/// Killed on drop (SIGKILL: no DISCONNECT, so its will goes out).
pub struct DebugSub {
    child: ChildGuard,
}

impl DebugSub {
    /// Starts `mosquitto_sub -q 1 -v -d -W 60 -i ID ARGS` against 127.0.0.1:`port`.
    pub fn start(port: u16, id: &str, args: &[String]) -> DebugSub {
        let sub = Peer::MosquittoClients.program("mosquitto_sub");
        // mosquitto_sub flushes stdout per message only; line buffering shows the SUBACK too.
        let mut cmd = Command::new("stdbuf");
        cmd.arg("-oL")
            .arg(sub)
            .args(["-h", "127.0.0.1", "-q", "1", "-v", "-d"])
            .args(["-p", &port.to_string(), "-i", id, "-W", "60"])
            .args(args);
        DebugSub {
            child: ChildGuard::spawn(&mut cmd),
        }
    }

    /// Starts and waits for the SUBACK.
    pub fn ready(port: u16, id: &str, args: &[String]) -> DebugSub {
        let s = DebugSub::start(port, id, args);
        assert!(s.wait_subscribed(), "{id} not subscribed: {:?}", s.lines());
        s
    }

    /// Waits (bounded) for the SUBACK; false if it never came.
    pub fn wait_subscribed(&self) -> bool {
        self.child
            .stdout
            .wait_until(PATIENCE, |lines| lines.iter().any(|l| l.contains("SUBACK")))
    }

    /// Every line printed so far (debug lines included).
    pub fn lines(&self) -> Vec<String> {
        self.child.stdout.lines()
    }

    /// True once the SUBACK has arrived.
    pub fn subscribed(&self) -> bool {
        self.child.stdout.contains("SUBACK")
    }

    /// Delivered messages as `topic payload`, without the debug lines and markers.
    pub fn messages(&self) -> BTreeSet<String> {
        self.lines()
            .into_iter()
            .filter(|l| !l.starts_with("Client ") && !l.starts_with("Subscribed ("))
            .filter(|l| !l.ends_with(&format!(" {MARK}")))
            .collect()
    }

    /// True when `message` (`topic payload`) was delivered.
    pub fn has(&self, message: &str) -> bool {
        self.child.stdout.count(|l| l == message) > 0
    }

    /// Waits (bounded) until `message` (`topic payload`) is delivered; false if it never is.
    pub fn wait_for(&self, message: &str) -> bool {
        self.child
            .stdout
            .wait_until(PATIENCE, |lines| lines.iter().any(|l| l == message))
    }

    /// Waits (bounded) for the marker on `topic` (see [`MARK`]); false if it never came.
    pub fn wait_mark(&self, topic: &str) -> bool {
        self.wait_for(&format!("{topic} {MARK}"))
    }
}
