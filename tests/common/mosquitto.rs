//! Debian's mosquitto (or any broker reading a mosquitto-style config) on a free loopback
//! port, killed on drop; the skip check for the mosquitto tools.

use super::{ChildGuard, free_port, wait_for_port, wait_until};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

/// Debian's broker binary.
pub const MOSQUITTO: &str = "/usr/sbin/mosquitto";

/// True when the mosquitto broker and client tools are installed; prints a notice otherwise.
pub fn have_mosquitto() -> bool {
    let ok = Path::new(MOSQUITTO).exists() && which("mosquitto_pub").is_some();
    if !ok {
        eprintln!("skipping: mosquitto or mosquitto-clients not installed");
    }
    ok
}

/// Full path of a program on PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Writes `dir/mosquitto.conf`: `listener PORT 127.0.0.1` followed by `extra` lines.
pub fn write_config(dir: &Path, port: u16, extra: &str) -> PathBuf {
    let conf = dir.join("mosquitto.conf");
    // As root, mosquitto would drop to the `mosquitto` user, who cannot read our private
    // temporary files.
    // SAFETY: geteuid has no preconditions.
    let user = if unsafe { libc::geteuid() } == 0 {
        "user root\n"
    } else {
        ""
    };
    let text = format!("{user}listener {port} 127.0.0.1\n{extra}\n");
    std::fs::write(&conf, text).expect("write mosquitto.conf");
    conf
}

/// Runs `broker -c conf` with its output discarded and waits until `port` accepts connections.
pub fn start_with_config(mut broker: Command, conf: &Path, port: u16) -> ChildGuard {
    let child = broker
        .arg("-c")
        .arg(conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start broker");
    let guard = ChildGuard(child);
    wait_for_port(port);
    guard
}

/// A running mosquitto, killed on drop.
pub struct Mosquitto {
    _child: ChildGuard,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
}

impl Mosquitto {
    /// Starts mosquitto with `listener PORT 127.0.0.1` followed by `extra` config lines (its
    /// config file in `dir`), and waits until it accepts connections.
    pub fn start(dir: &Path, extra: &str) -> Mosquitto {
        let port = free_port();
        let conf = write_config(dir, port, extra);
        Mosquitto {
            _child: start_with_config(Command::new(MOSQUITTO), &conf, port),
            port,
        }
    }
}

/// `-u USER -P USER-pw` (the password convention of the security tests), or nothing.
pub fn creds(user: Option<&str>) -> Vec<String> {
    match user {
        Some(u) => vec!["-u".into(), u.into(), "-P".into(), format!("{u}-pw")],
        None => vec![],
    }
}

/// A running mosquitto_sub with `-d -v`: a reader thread collects its lines; the debug lines
/// tell when the subscription is in place. Killed on drop.
pub struct DebugSub {
    _child: ChildGuard,
    lines: Arc<Mutex<Vec<String>>>,
}

impl DebugSub {
    /// Starts `mosquitto_sub -q 1 -v -d -W 60 -i ID ARGS` against 127.0.0.1:`port`.
    pub fn start(port: u16, id: &str, args: &[String]) -> DebugSub {
        // mosquitto_sub flushes stdout per message only; line buffering shows the SUBACK too.
        let mut child = Command::new("stdbuf")
            .args([
                "-oL",
                "mosquitto_sub",
                "-h",
                "127.0.0.1",
                "-q",
                "1",
                "-v",
                "-d",
            ])
            .args(["-p", &port.to_string(), "-i", id, "-W", "60"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mosquitto_sub");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (stdout, sink) = (child.stdout.take().expect("stdout"), Arc::clone(&lines));
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        DebugSub {
            _child: ChildGuard(child),
            lines,
        }
    }

    /// Starts and waits for the SUBACK.
    pub fn ready(port: u16, id: &str, args: &[String]) -> DebugSub {
        let s = DebugSub::start(port, id, args);
        let ok = wait_until(|| s.subscribed());
        assert!(ok, "{id} not subscribed: {:?}", s.lines());
        s
    }

    /// Every line printed so far (debug lines included).
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// True once the SUBACK has arrived.
    pub fn subscribed(&self) -> bool {
        let lines = self.lines.lock().unwrap();
        lines.iter().any(|l| l.contains("SUBACK"))
    }

    /// Delivered messages as `topic payload`, without the debug lines.
    pub fn messages(&self) -> BTreeSet<String> {
        let lines = self.lines.lock().unwrap();
        lines
            .iter()
            .filter(|l| !l.starts_with("Client ") && !l.starts_with("Subscribed ("))
            .cloned()
            .collect()
    }

    /// True when `message` (`topic payload`) was delivered.
    pub fn has(&self, message: &str) -> bool {
        self.messages().contains(message)
    }
}
