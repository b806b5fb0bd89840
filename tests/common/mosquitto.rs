//! Debian's mosquitto (or any broker reading a mosquitto-style config) on a free loopback
//! port, killed on drop; the skip check for the mosquitto tools.

use super::{ChildGuard, free_port, wait_for_port};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

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
