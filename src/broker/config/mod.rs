//! The broker configuration: mosquitto.conf syntax, parsed with file and line numbers in errors.
//!
//! ```text
//! # comment                      '#' at column 0
//! listener 1883 0.0.0.0          starts a listener block; later per-listener options apply to it
//! max_queued_messages 1000       name, one space, value
//! ```
//!
//! Security options (`password_file`, `acl_file`, `allow_anonymous`, the listener TLS options)
//! follow mosquitto 2.0: global unless `per_listener_settings true`, TLS always per listener.
//! Options that belong to features not built yet are refused with "not supported yet" rather
//! than silently ignored, so a config never means less than it says.

use crate::broker::bridge::config::BridgeConfig;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod bridge;
mod listener;
mod logging;
mod options;
mod parse;
mod security;
#[cfg(test)]
mod tests;
mod web;

pub use listener::{Domain, ListenerConfig};
pub use logging::{LogConfig, LogDest, LogOutput};
use parse::{Parser, boolean, num, word};
pub use web::{HttpCredentials, Protocol};

/// The port of the implicit listener and of `port`.
pub const DEFAULT_PORT: u16 = 1883;

/// `allow_anonymous`, `password_file` and `acl_file`, for the whole broker or one listener.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SecurityConfig {
    /// `allow_anonymous`; `None` when the file does not say (then mosquitto 2.0's default).
    pub allow_anonymous: Option<bool>,
    /// `password_file`.
    pub password_file: Option<PathBuf>,
    /// `acl_file`.
    pub acl_file: Option<PathBuf>,
}

/// Every broker setting, with mosquitto's defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Listening sockets; empty means the implicit loopback listener on 1883.
    pub listeners: Vec<ListenerConfig>,
    /// Whether clients without a user name are accepted. A config file that defines listeners
    /// and does not say turns this off, as mosquitto 2.0 does.
    pub allow_anonymous: bool,
    /// `password_file` (global; see `per_listener_settings`).
    pub password_file: Option<PathBuf>,
    /// `acl_file` (global; see `per_listener_settings`).
    pub acl_file: Option<PathBuf>,
    /// `per_listener_settings`: each listener has its own `allow_anonymous`, `password_file`
    /// and `acl_file`.
    pub per_listener_settings: bool,
    /// Whether a zero-length client id gets a generated one (with clean session).
    pub allow_zero_length_clientid: bool,
    /// Prefix of generated client ids.
    pub auto_id_prefix: String,
    /// `clientid_prefixes`: only client ids that start with it may connect (empty = any).
    pub clientid_prefixes: String,
    /// Keep retained messages and persistent sessions in the store.
    pub persistence: bool,
    /// Directory of the store file.
    pub persistence_location: PathBuf,
    /// Store file name.
    pub persistence_file: String,
    /// Seconds between forced store syncs of data that need not be durable at once.
    pub autosave_interval: u64,
    /// `persistent_client_expiration` in seconds: sessions kept for ever (3.1.1 without clean
    /// session, 5.0 with an infinite expiry) end this long after their client left.
    pub persistent_client_expiration: Option<u32>,
    /// `upgrade_outgoing_qos`: messages go out at the subscription's QoS.
    pub upgrade_outgoing_qos: bool,
    /// `check_retain_source`: a retained message goes to a new subscriber only while its
    /// publisher may still write its topic (mosquitto's default, true).
    pub check_retain_source: bool,
    /// Outgoing QoS 1/2 messages in flight per client (0 = no limit).
    pub max_inflight_messages: u16,
    /// Messages queued per client beyond the inflight window (0 = no limit).
    pub max_queued_messages: usize,
    /// Bytes of payload queued per client (0 = no limit).
    pub max_queued_bytes: usize,
    /// Payload bytes of QoS 1/2 messages in flight to one client (0 = no limit).
    pub max_inflight_bytes: u32,
    /// Also queue QoS 0 messages for offline persistent sessions.
    pub queue_qos0_messages: bool,
    /// Largest accepted PUBLISH payload; larger ones are dropped (0 = no limit).
    pub message_size_limit: u32,
    /// Largest accepted packet; larger ones close the connection.
    pub max_packet_size: u32,
    /// Whether retained messages are supported.
    pub retain_available: bool,
    /// `$SYS` period in seconds (0 = off).
    pub sys_interval: u64,
    /// Largest keepalive accepted.
    pub max_keepalive: u16,
    /// `max_qos`: highest QoS clients may publish, subscribe or will with.
    pub max_qos: u8,
    /// `max_topic_alias`: topic aliases a v5 client may define towards the broker.
    pub max_topic_alias: u16,
    /// Time a new socket has to send CONNECT.
    pub connect_timeout: Duration,
    /// Which lines are logged.
    pub log: LogConfig,
    /// Where log lines go (`log_dest`) and how they are stamped.
    pub log_output: LogOutput,
    /// Bridges to other brokers (`connection` blocks), in file order.
    pub bridges: Vec<BridgeConfig>,
    /// `pid_file`: where the broker writes its process id.
    pub pid_file: Option<PathBuf>,
    /// `user`: who the broker runs as once it has opened its sockets and files, when started
    /// as root (`root` stays root).
    pub user: String,
    /// Options accepted without effect, one line each (`FILE:LINE: option: why`), logged at
    /// start.
    pub notes: Vec<String>,
    /// The file this was read from, for SIGHUP reloads.
    pub source: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listeners: Vec::new(),
            allow_anonymous: true,
            password_file: None,
            acl_file: None,
            per_listener_settings: false,
            allow_zero_length_clientid: true,
            auto_id_prefix: "auto-".into(),
            clientid_prefixes: String::new(),
            persistence: false,
            persistence_location: PathBuf::new(),
            persistence_file: "mq.db".into(),
            autosave_interval: 1800,
            persistent_client_expiration: None,
            upgrade_outgoing_qos: false,
            check_retain_source: true,
            max_inflight_messages: 20,
            max_queued_messages: 1000,
            max_queued_bytes: 0,
            max_inflight_bytes: 0,
            queue_qos0_messages: false,
            message_size_limit: 0,
            max_packet_size: crate::protocol::MAX_REMAINING_LENGTH + 5,
            retain_available: true,
            sys_interval: 10,
            max_keepalive: 65535,
            max_qos: 2,
            max_topic_alias: 10,
            connect_timeout: Duration::from_secs(10),
            log: LogConfig::default(),
            log_output: LogOutput::default(),
            bridges: Vec::new(),
            pid_file: None,
            user: "mosquitto".into(),
            notes: Vec::new(),
            source: None,
        }
    }
}

/// A config file problem: where and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line number; 0 when the file itself could not be read.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Reads and parses `path` (following `include_dir`).
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        let mut parser = Parser::new(&mut config);
        parser.file(path)?;
        parser.finish(path)?;
        config.source = Some(path.to_path_buf());
        Ok(config)
    }

    /// Parses config text as if read from `file`.
    pub fn parse_str(text: &str, file: &Path) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        let mut parser = Parser::new(&mut config);
        parser.text(text, file)?;
        parser.finish(file)?;
        Ok(config)
    }

    /// The listeners to open: the configured ones, or loopback listeners on `ports` (from `-p`),
    /// or the implicit loopback listener on 1883.
    pub fn effective_listeners(&self, ports: &[u16]) -> Vec<ListenerConfig> {
        if !self.listeners.is_empty() {
            self.listeners.clone()
        } else if !ports.is_empty() {
            ports.iter().map(|p| ListenerConfig::loopback(*p)).collect()
        } else {
            vec![ListenerConfig::loopback(DEFAULT_PORT)]
        }
    }

    /// The store file path.
    pub fn store_path(&self) -> PathBuf {
        self.persistence_location.join(&self.persistence_file)
    }
}
