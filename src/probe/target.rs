//! The broker under test and the names a run uses on it: every client id and topic carries a
//! random run tag, so that runs (and the checks of one run, which overlap) never meet, and every
//! connection starts clean and leaves no session behind.

use crate::client::{Client, ClientError, ClientOptions};
use crate::protocol::{ConnAck, Publish, QoS, ReasonCode, SubAck, Version};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// What the v5 CONNACK said the broker allows, so that later checks do not break a promise
/// (publishing above the maximum QoS, or retained when retain is unavailable, is a protocol
/// error that gets the connection closed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caps {
    /// Maximum QoS (2 when not announced).
    pub max_qos: QoS,
    /// Retain available.
    pub retain: bool,
    /// Maximum packet size, if announced.
    pub max_packet_size: Option<u32>,
}

impl Default for Caps {
    fn default() -> Caps {
        Caps {
            max_qos: QoS::ExactlyOnce,
            retain: true,
            max_packet_size: None,
        }
    }
}

impl Caps {
    /// What a CONNACK announces (3.1.1 CONNACKs announce nothing).
    pub fn of(connack: &ConnAck) -> Caps {
        let p = &connack.properties;
        Caps {
            max_qos: p
                .maximum_qos
                .and_then(QoS::from_u8)
                .unwrap_or(QoS::ExactlyOnce),
            retain: p.retain_available != Some(0),
            max_packet_size: p.maximum_packet_size,
        }
    }
}

/// The broker, the connection settings from the command line, and the run's names.
#[derive(Debug)]
pub struct Target {
    base: ClientOptions,
    id_prefix: String,
    topic_root: String,
    /// Time allowed for each check.
    pub per_check: Duration,
    serial: AtomicU32,
}

/// Letters and digits for run tags and generated client ids.
const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// `n` random lowercase letters and digits.
pub fn random_tag(n: usize) -> String {
    (0..n)
        .map(|_| char::from(ALNUM[rand::random_range(0..ALNUM.len())]))
        .collect()
}

impl Target {
    /// A target reached with `base` (host, port, TLS, credentials, socket options). Client ids
    /// start with `id_prefix` (short: MQTT 3.1 allows 23 characters), topics with `topic_prefix`.
    pub fn new(
        base: ClientOptions,
        id_prefix: &str,
        topic_prefix: &str,
        per_check: Duration,
    ) -> Target {
        let tag = random_tag(8);
        Target {
            base,
            id_prefix: format!("{id_prefix}{tag}-"),
            topic_root: format!("{}/{tag}", topic_prefix.trim_end_matches('/')),
            per_check,
            serial: AtomicU32::new(0),
        }
    }

    /// `host:port` (or the unix socket) for messages.
    pub fn address(&self) -> String {
        match &self.base.unix {
            Some(p) => p.display().to_string(),
            None => format!("{}:{}", self.base.host, self.base.port),
        }
    }

    /// True when the connection uses TLS.
    pub fn tls(&self) -> bool {
        self.base.tls.is_some()
    }

    /// True when a user name or password is configured.
    pub fn has_credentials(&self) -> bool {
        self.base.username.is_some() || self.base.password.is_some()
    }

    /// A client id of this run, unique within it.
    pub fn client_id(&self) -> String {
        let n = self.serial.fetch_add(1, Ordering::Relaxed);
        format!("{}{n}", self.id_prefix)
    }

    /// The run's prefix for client ids (for the client id length search).
    pub fn id_prefix(&self) -> &str {
        &self.id_prefix
    }

    /// A topic under this run's root: `ROOT/name`.
    pub fn topic(&self, name: &str) -> String {
        format!("{}/{name}", self.topic_root)
    }

    /// The deadline of a check that starts now.
    pub fn deadline(&self) -> Instant {
        Instant::now() + self.per_check
    }

    /// Options for one connection of `version`: a fresh id, clean start, session expiry 0 (so
    /// nothing outlives the connection), no will.
    pub fn options(&self, version: Version) -> ClientOptions {
        let mut o = self.base.clone();
        o.version = version;
        o.client_id = self.client_id();
        o.clean_start = true;
        o.will = None;
        o.properties = Default::default();
        o.connect_timeout = o.connect_timeout.min(self.per_check);
        o
    }

    /// The same options without user name and password.
    pub fn anonymous(&self, version: Version) -> ClientOptions {
        let mut o = self.options(version);
        o.username = None;
        o.password = None;
        o
    }

    /// Connects one client of `version`.
    pub async fn connect(&self, version: Version) -> Result<Client, ClientError> {
        Client::connect(self.options(version)).await.map(|(c, _)| c)
    }
}

/// The one reason code of a one-filter SUBACK, if it refused.
pub fn refused(ack: &SubAck) -> Option<ReasonCode> {
    ack.reasons.first().copied().filter(|r| r.is_error())
}

/// Waits for the next message on `client` until `deadline`; `None` when time ran out or the
/// connection ended.
pub async fn recv_until(client: &Client, deadline: Instant) -> Option<Publish> {
    tokio::time::timeout_at(deadline, client.recv())
        .await
        .ok()
        .and_then(Result::ok)
}

/// Words for a failed client call.
pub fn why(e: &ClientError) -> String {
    match e {
        ClientError::Refused { reason, .. } => format!("refused: {}", reason.description()),
        ClientError::Rejected(reason) => format!("rejected: {}", reason.description()),
        ClientError::ServerDisconnect(reason) => {
            format!("disconnected: {}", reason.description())
        }
        ClientError::ConnectionLost(_) | ClientError::Closed => "connection closed".into(),
        ClientError::Protocol(p) => format!("the broker broke the protocol ({p})"),
        other => other.to_string(),
    }
}
