//! What a process broker runs ([`Kind`]) and the mosquitto.conf it reads ([`Conf`]).

use super::super::free_port;
use super::super::peers::Peer;

/// Which broker program a process broker runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Debian's mosquitto.
    Mosquitto,
    /// `mq broker`, this crate's binary.
    Mq,
}

impl Kind {
    fn parse(s: &str) -> Option<Kind> {
        match s.trim() {
            "mosquitto" => Some(Kind::Mosquitto),
            "mq" => Some(Kind::Mq),
            _ => None,
        }
    }

    /// The kinds the differential tables run against: `MQ_TEST_BROKERS` (comma separated),
    /// `mosquitto,mq` by default, so that every case gives the same bytes against both.
    pub fn under_test() -> Vec<Kind> {
        let list = std::env::var("MQ_TEST_BROKERS").unwrap_or_else(|_| "mosquitto,mq".into());
        list.split(',').filter_map(Kind::parse).collect()
    }

    /// The peers this kind needs (for [`super::peers::require`]).
    pub fn peers(self) -> &'static [Peer] {
        match self {
            Kind::Mosquitto => &[Peer::Mosquitto],
            Kind::Mq => &[],
        }
    }
}

/// How much the broker logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Logging {
    /// Notices, connections and (un)subscriptions: what the tests wait for.
    Normal,
    /// Every packet as well.
    Debug,
    /// Nothing (load tests); readiness is then a port that accepts connections.
    Quiet,
}

/// One listener: its port (picked at start unless fixed) and the lines that follow it.
#[derive(Clone, Debug)]
pub(super) struct Listener {
    pub(super) port: Option<u16>,
    lines: Vec<String>,
}

/// A broker configuration in mosquitto.conf syntax, read by both process kinds.
#[derive(Clone, Debug)]
pub struct Conf {
    head: Vec<String>,
    pub(super) listeners: Vec<Listener>,
    pub(super) logging: Logging,
}

impl Default for Conf {
    fn default() -> Self {
        Conf::new()
    }
}

impl Conf {
    /// One plain listener on a free loopback port, anonymous clients allowed.
    pub fn new() -> Conf {
        Conf::bare().line("allow_anonymous true")
    }

    /// One plain listener on a free loopback port and nothing else: a broker with listeners
    /// refuses anonymous clients unless told otherwise (mosquitto 2.0).
    pub fn bare() -> Conf {
        Conf {
            head: Vec::new(),
            listeners: vec![Listener {
                port: None,
                lines: Vec::new(),
            }],
            logging: Logging::Normal,
        }
    }

    /// Appends `lines` (one or more, newline separated) after the last listener: its settings,
    /// or global ones (which may go anywhere unless `per_listener_settings` is on).
    pub fn line(mut self, lines: &str) -> Conf {
        let last = self.listeners.last_mut().expect("a listener");
        last.lines.extend(lines.lines().map(str::to_string));
        self
    }

    /// Puts `lines` before every listener (`per_listener_settings true` must go there).
    pub fn head(mut self, lines: &str) -> Conf {
        self.head.extend(lines.lines().map(str::to_string));
        self
    }

    /// Adds another loopback listener on its own free port; later [`Conf::line`] calls
    /// configure it.
    pub fn listener(mut self) -> Conf {
        self.listeners.push(Listener {
            port: None,
            lines: Vec::new(),
        });
        self
    }

    /// Fixes the first listener's port (a broker that must appear where a client already
    /// looks).
    pub fn port(mut self, port: u16) -> Conf {
        self.listeners[0].port = Some(port);
        self
    }

    /// Logs every packet too (`log_type all`).
    pub fn debug_log(mut self) -> Conf {
        self.logging = Logging::Debug;
        self
    }

    /// Logs nothing, for load tests; the log-waiting methods then refuse to work.
    pub fn quiet(mut self) -> Conf {
        self.logging = Logging::Quiet;
        self
    }

    /// The file's text for `kind` with the listeners on `ports`.
    pub(super) fn render(&self, _kind: Kind, ports: &[u16]) -> String {
        let mut text = String::new();
        // As root, either broker would drop to the `mosquitto` user, who cannot read the test's
        // private temporary files.
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            text.push_str("user root\n");
        }
        let types: &[&str] = match self.logging {
            Logging::Normal => &[
                "error",
                "warning",
                "notice",
                "information",
                "subscribe",
                "unsubscribe",
            ],
            Logging::Debug => &["all"],
            Logging::Quiet => &[],
        };
        if types.is_empty() {
            text.push_str("log_dest none\n");
        } else {
            text.push_str("log_dest stderr\n");
            for t in types {
                text.push_str(&format!("log_type {t}\n"));
            }
        }
        for l in &self.head {
            text.push_str(&format!("{l}\n"));
        }
        for (listener, port) in self.listeners.iter().zip(ports) {
            text.push_str(&format!("listener {port} 127.0.0.1\n"));
            for l in &listener.lines {
                text.push_str(&format!("{l}\n"));
            }
        }
        text
    }

    /// Fixed ports where set, fresh free ones elsewhere.
    pub(super) fn pick_ports(&self) -> Vec<u16> {
        self.listeners
            .iter()
            .map(|l| l.port.unwrap_or_else(free_port))
            .collect()
    }
}
