//! Test support for the client tests: start "the broker" by kind on a free loopback port, with a
//! guard that kills it; paths of the mosquitto client tools.
//!
//! The broker under test is chosen with `MQ_TEST_BROKER`: `mosquitto` (default, Debian's
//! `/usr/sbin/mosquitto`) or `mq` (`mq broker -p PORT` through the built binary). The
//! differential tables run against every kind listed in `MQ_TEST_BROKERS` (comma separated,
//! default `mosquitto,mq`: every case must give the same bytes against both brokers).
#![allow(dead_code)]

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Which broker a test runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrokerKind {
    /// Debian's mosquitto.
    Mosquitto,
    /// `mq broker`.
    Mq,
}

impl BrokerKind {
    fn parse(s: &str) -> Option<BrokerKind> {
        match s.trim() {
            "mosquitto" => Some(BrokerKind::Mosquitto),
            "mq" => Some(BrokerKind::Mq),
            _ => None,
        }
    }

    /// The kinds the differential tables run against (`MQ_TEST_BROKERS`).
    pub fn under_test() -> Vec<BrokerKind> {
        let list = std::env::var("MQ_TEST_BROKERS").unwrap_or_else(|_| "mosquitto,mq".into());
        list.split(',').filter_map(BrokerKind::parse).collect()
    }
}

/// A running broker; killed on drop.
pub struct Broker {
    child: Child,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    /// Kept alive for the broker's config file.
    _dir: tempfile::TempDir,
}

/// A free loopback port: bind port 0, read the port, release it.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

/// True when the mosquitto broker and client tools are installed; prints a notice otherwise.
pub fn have_mosquitto() -> bool {
    let ok = Path::new("/usr/sbin/mosquitto").exists() && which("mosquitto_pub").is_some();
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

impl Broker {
    /// Starts Debian's mosquitto with extra config lines, or `None` if it is not installed.
    pub fn mosquitto(extra: &str) -> Option<Broker> {
        if !have_mosquitto() {
            return None;
        }
        Some(Broker::start(BrokerKind::Mosquitto, extra))
    }

    /// Starts a broker of `kind` on a free port. `extra` is appended to mosquitto's config.
    pub fn start(kind: BrokerKind, extra: &str) -> Broker {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let child = match kind {
            BrokerKind::Mosquitto => {
                let conf = dir.path().join("mosquitto.conf");
                let mut f = std::fs::File::create(&conf).expect("write conf");
                writeln!(
                    f,
                    "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nuser root\n{extra}"
                )
                .expect("write conf");
                Command::new("/usr/sbin/mosquitto")
                    .arg("-c")
                    .arg(&conf)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("start mosquitto")
            }
            BrokerKind::Mq => Command::new(env!("CARGO_BIN_EXE_mq"))
                .args(["broker", "-p", &port.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start mq broker"),
        };
        let broker = Broker {
            child,
            port,
            _dir: dir,
        };
        broker.wait_ready();
        broker
    }

    fn wait_ready(&self) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("broker did not listen on port {} within 10 s", self.port);
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
