//! "The broker" by kind on a free loopback port, killed on drop.
//!
//! The broker under test is chosen with `MQ_TEST_BROKER`: `mosquitto` (default, Debian's
//! `/usr/sbin/mosquitto`) or `mq` (`mq broker -p PORT` through the built binary). The
//! differential tables run against every kind listed in `MQ_TEST_BROKERS` (comma separated,
//! default `mosquitto,mq`: every case must give the same bytes against both brokers).

use super::mosquitto::{MOSQUITTO, have_mosquitto, start_with_config, write_config};
use super::{ChildGuard, free_port, mq_path, wait_for_port};
use std::process::{Command, Stdio};

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
    _child: ChildGuard,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    /// Kept alive for the broker's config file.
    _dir: tempfile::TempDir,
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
                let extra = format!("allow_anonymous true\npersistence false\n{extra}");
                let conf = write_config(dir.path(), port, &extra);
                start_with_config(Command::new(MOSQUITTO), &conf, port)
            }
            BrokerKind::Mq => {
                let child = Command::new(mq_path())
                    .args(["broker", "-p", &port.to_string()])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("start mq broker");
                let guard = ChildGuard(child);
                wait_for_port(port);
                guard
            }
        };
        Broker {
            _child: child,
            port,
            _dir: dir,
        }
    }
}
