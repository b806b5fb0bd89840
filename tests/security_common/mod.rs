//! Helpers for the password, ACL and TLS interop tests: a private mosquitto broker on a free
//! loopback port, killed when dropped.
#![allow(dead_code)]

pub mod pki;

// The one place that names where the modules under test live (they move under `mq::broker`).
#[allow(unused_imports)]
pub use mq::broker::auth;
#[allow(unused_imports)]
pub use mq::broker::tls;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Debian's broker binary.
pub const MOSQUITTO: &str = "/usr/sbin/mosquitto";

/// True when mosquitto and its clients are installed; prints a notice otherwise.
pub fn have_mosquitto(test: &str) -> bool {
    let ok = Path::new(MOSQUITTO).exists()
        && Command::new("mosquitto_pub")
            .arg("--help")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok();
    if !ok {
        eprintln!("skipping {test}: mosquitto or mosquitto-clients not installed");
    }
    ok
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// A running mosquitto, killed on drop.
pub struct Mosquitto {
    child: Child,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
}

impl Mosquitto {
    /// Starts mosquitto with `listener PORT 127.0.0.1` followed by `extra` config lines, and
    /// waits until it accepts connections.
    pub fn start(dir: &Path, extra: &str) -> Mosquitto {
        let port = free_port();
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
        std::fs::write(&conf, text).unwrap();
        let child = Command::new(MOSQUITTO)
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mosquitto");
        let m = Mosquitto { child, port };
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "mosquitto did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        m
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `mq` binary under test.
pub fn mq() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mq"))
}

/// A path inside `dir`.
pub fn path(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}
