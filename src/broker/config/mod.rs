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

use super::bridge::config::BridgeConfig;
use super::security::tls::ListenerTls;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

mod bridge;
mod security;
mod web;

pub use web::{HttpCredentials, Protocol};

/// The port of the implicit listener and of `port`.
pub const DEFAULT_PORT: u16 = 1883;

/// One listening socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListenerConfig {
    /// Port; 0 picks a free one (tests).
    pub port: u16,
    /// Address to bind; `None` binds every IPv4 and IPv6 address.
    pub bind: Option<String>,
    /// Maximum simultaneous connections on this listener; `None` = unlimited.
    pub max_connections: Option<usize>,
    /// `ipv4` or `ipv6` only, when set.
    pub domain: Option<Domain>,
    /// TLS options (`certfile`, `keyfile`, ...); `None` for plain MQTT.
    pub tls: Option<ListenerTls>,
    /// `use_identity_as_username`: the client certificate's CN is the username.
    pub use_identity_as_username: bool,
    /// `use_subject_as_username`: the client certificate's whole subject (RFC 2253) is the
    /// username.
    pub use_subject_as_username: bool,
    /// This listener's own `allow_anonymous`, `password_file` and `acl_file`, used with
    /// `per_listener_settings true`.
    pub security: SecurityConfig,
    /// What the listener speaks (`protocol`), with the options of that kind.
    pub protocol: Protocol,
}

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

/// `socket_domain`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Domain {
    /// IPv4 addresses only.
    V4,
    /// IPv6 addresses only.
    V6,
}

impl ListenerConfig {
    /// What of a client certificate becomes the username on this listener.
    pub fn cert_identity(&self) -> super::security::tls::CertIdentity {
        use super::security::tls::CertIdentity;
        if self.use_subject_as_username {
            CertIdentity::Subject
        } else if self.use_identity_as_username {
            CertIdentity::CommonName
        } else {
            CertIdentity::None
        }
    }

    /// A listener on the loopback address only (mosquitto 2.0's default listener).
    pub fn loopback(port: u16) -> ListenerConfig {
        ListenerConfig {
            bind: Some("127.0.0.1".into()),
            ..ListenerConfig::any(port)
        }
    }

    /// A plain listener on every address.
    pub fn any(port: u16) -> ListenerConfig {
        ListenerConfig {
            port,
            bind: None,
            max_connections: None,
            domain: None,
            tls: None,
            use_identity_as_username: false,
            use_subject_as_username: false,
            security: SecurityConfig::default(),
            protocol: Protocol::Mqtt,
        }
    }

    /// The socket addresses to bind, resolving `bind` (a host name or address).
    pub fn addrs(&self) -> std::io::Result<Vec<SocketAddr>> {
        use std::net::ToSocketAddrs;
        let all: Vec<SocketAddr> = match &self.bind {
            Some(host) => (host.as_str(), self.port).to_socket_addrs()?.collect(),
            None => vec![
                SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), self.port),
                SocketAddr::new(IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED), self.port),
            ],
        };
        Ok(all
            .into_iter()
            .filter(|a| match self.domain {
                Some(Domain::V4) => a.is_ipv4(),
                Some(Domain::V6) => a.is_ipv6(),
                None => true,
            })
            .collect())
    }
}

/// Which log messages are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogConfig {
    /// error, warning, notice, information lines.
    pub info: bool,
    /// debug lines (every packet), as `-v` or `log_type debug|all` turn on.
    pub debug: bool,
    /// subscribe/unsubscribe lines.
    pub subscribe: bool,
    /// Where lines go.
    pub dest: LogDest,
    /// "New client connected" / "Client ... disconnected" lines.
    pub connection_messages: bool,
}

/// `log_dest`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogDest {
    /// Standard error (the default).
    Stderr,
    /// Standard output.
    Stdout,
    /// Nowhere.
    None,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            info: true,
            debug: false,
            subscribe: false,
            dest: LogDest::Stderr,
            connection_messages: true,
        }
    }
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
    /// Keep retained messages and persistent sessions in the store.
    pub persistence: bool,
    /// Directory of the store file.
    pub persistence_location: PathBuf,
    /// Store file name.
    pub persistence_file: String,
    /// Seconds between forced store syncs of data that need not be durable at once.
    pub autosave_interval: u64,
    /// Outgoing QoS 1/2 messages in flight per client (0 = no limit).
    pub max_inflight_messages: u16,
    /// Messages queued per client beyond the inflight window (0 = no limit).
    pub max_queued_messages: usize,
    /// Bytes of payload queued per client (0 = no limit).
    pub max_queued_bytes: usize,
    /// Also queue QoS 0 messages for offline persistent sessions.
    pub queue_qos0_messages: bool,
    /// `upgrade_outgoing_qos`: deliver at the subscription's QoS, not the message's.
    pub upgrade_outgoing_qos: bool,
    /// `check_retain_source`: retained messages are sent only while their publisher may
    /// still write their topic.
    pub check_retain_source: bool,
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
    /// Logging.
    pub log: LogConfig,
    /// Bridges to other brokers (`connection` blocks), in file order.
    pub bridges: Vec<BridgeConfig>,
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
            persistence: false,
            persistence_location: PathBuf::new(),
            persistence_file: "mq.db".into(),
            autosave_interval: 1800,
            max_inflight_messages: 20,
            max_queued_messages: 1000,
            max_queued_bytes: 0,
            queue_qos0_messages: false,
            upgrade_outgoing_qos: false,
            check_retain_source: false,
            message_size_limit: 0,
            max_packet_size: crate::protocol::MAX_REMAINING_LENGTH + 5,
            retain_available: true,
            sys_interval: 10,
            max_keepalive: 65535,
            max_qos: 2,
            max_topic_alias: 10,
            connect_timeout: Duration::from_secs(10),
            log: LogConfig::default(),
            bridges: Vec::new(),
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

/// Options of later work, refused until they are implemented.
const NOT_YET: &[&str] = &[
    "tls_engine",
    "tls_keyform",
    "plugin",
    "auth_plugin",
    "mount_point",
];

/// Options accepted and ignored because they do not change behaviour here.
const IGNORED: &[&str] = &[
    "pid_file",
    "user",
    "set_tcp_nodelay",
    "log_timestamp",
    "log_timestamp_format",
    "autosave_on_changes",
    "persistent_client_expiration",
    "max_inflight_bytes",
    "bind_interface",
    "use_username_as_clientid",
];

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

struct Parser<'a> {
    config: &'a mut Config,
    current_listener: Option<usize>,
    log_types_seen: bool,
    /// Whether a global `allow_anonymous` line was read.
    anonymous_seen: bool,
    /// Whether a global `password_file` or `acl_file` line was read.
    security_seen: bool,
    depth: u8,
    /// Bridges read so far; the last one takes the bridge options.
    bridges: Vec<bridge::Draft>,
}

impl<'a> Parser<'a> {
    /// A parser filling `config`, before any line is read.
    fn new(config: &'a mut Config) -> Parser<'a> {
        Parser {
            config,
            current_listener: None,
            log_types_seen: false,
            anonymous_seen: false,
            security_seen: false,
            depth: 0,
            bridges: Vec::new(),
        }
    }
}

impl Parser<'_> {
    fn file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let bytes = std::fs::read(path).map_err(|e| ConfigError {
            file: path.to_path_buf(),
            line: 0,
            message: format!("cannot read config file: {e}"),
        })?;
        self.bytes(&bytes, path)
    }

    fn text(&mut self, text: &str, file: &Path) -> Result<(), ConfigError> {
        self.bytes(text.as_bytes(), file)
    }

    /// Parses the lines of a file. Comments may hold any bytes (mosquitto reads them as
    /// bytes too); an option line must be UTF-8.
    fn bytes(&mut self, text: &[u8], file: &Path) -> Result<(), ConfigError> {
        for (i, raw) in text.split(|b| *b == b'\n').enumerate() {
            if raw.first() == Some(&b'#') || raw.trim_ascii().is_empty() {
                continue;
            }
            let line = std::str::from_utf8(raw).map_err(|e| ConfigError {
                file: file.to_path_buf(),
                line: i + 1,
                message: format!(
                    "not valid UTF-8 (byte {} of the line); only comments may hold other bytes",
                    e.valid_up_to() + 1
                ),
            })?;
            let line = line.trim_end_matches('\r');
            let (name, value) = match line.trim().split_once(char::is_whitespace) {
                Some((n, v)) => (n, v.trim()),
                None => (line.trim(), ""),
            };
            self.option(name, value, file, i + 1)
                .map_err(|message| ConfigError {
                    file: file.to_path_buf(),
                    line: i + 1,
                    message,
                })?;
        }
        Ok(())
    }

    fn option(&mut self, name: &str, value: &str, file: &Path, line: usize) -> Result<(), String> {
        if bridge::handles(name) {
            return self.bridge(name, value, file, line);
        }
        let c = &mut *self.config;
        match name {
            "listener" => return self.listener(value),
            "port" => self.default_listener().port = port(value)?,
            "bind_address" => {
                let l = self.default_listener();
                l.bind = Some(address(word(name, value)?, l.port)?.into());
            }
            "socket_domain" => {
                let d = match value {
                    "ipv4" => Domain::V4,
                    "ipv6" => Domain::V6,
                    _ => return Err(format!("invalid socket_domain value '{value}'")),
                };
                self.listener_mut(name)?.domain = Some(d);
            }
            "max_connections" => {
                let n: i64 = num(name, value)?;
                self.listener_or_default().max_connections = (n >= 0).then_some(n as usize);
            }
            "allow_anonymous" | "password_file" | "acl_file" | "per_listener_settings" => {
                return self.security(name, value);
            }
            "certfile"
            | "keyfile"
            | "cafile"
            | "capath"
            | "require_certificate"
            | "tls_version"
            | "crlfile"
            | "ciphers"
            | "ciphers_tls1.3"
            | "tls_keylog"
            | "psk_hint"
            | "psk_file"
            | "dhparamfile"
            | "use_identity_as_username"
            | "use_subject_as_username" => return self.tls(name, value),
            "allow_zero_length_clientid" => c.allow_zero_length_clientid = boolean(name, value)?,
            "auto_id_prefix" => c.auto_id_prefix = word(name, value)?.into(),
            "persistence" => c.persistence = boolean(name, value)?,
            "persistence_location" => c.persistence_location = PathBuf::from(word(name, value)?),
            "persistence_file" => c.persistence_file = word(name, value)?.into(),
            "autosave_interval" => c.autosave_interval = num(name, value)?,
            "max_inflight_messages" => c.max_inflight_messages = num(name, value)?,
            "max_queued_messages" => c.max_queued_messages = num(name, value)?,
            "max_queued_bytes" => c.max_queued_bytes = num(name, value)?,
            "queue_qos0_messages" => c.queue_qos0_messages = boolean(name, value)?,
            "upgrade_outgoing_qos" => c.upgrade_outgoing_qos = boolean(name, value)?,
            "check_retain_source" => c.check_retain_source = boolean(name, value)?,
            "message_size_limit" => c.message_size_limit = num(name, value)?,
            "max_packet_size" => {
                let n: u32 = num(name, value)?;
                if n < 20 {
                    return Err("max_packet_size must be at least 20".into());
                }
                c.max_packet_size = n;
            }
            "retain_available" => c.retain_available = boolean(name, value)?,
            "sys_interval" => c.sys_interval = num(name, value)?,
            "max_keepalive" => c.max_keepalive = num(name, value)?,
            "max_qos" => {
                c.max_qos = num(name, value)?;
                if c.max_qos > 2 {
                    return Err("max_qos must be 0, 1 or 2".into());
                }
            }
            "max_topic_alias" => c.max_topic_alias = num(name, value)?,
            "connection_messages" => c.log.connection_messages = boolean(name, value)?,
            "log_type" => self.log_type(value)?,
            "log_dest" => {
                c.log.dest = match value.split_whitespace().next() {
                    Some("stderr") => LogDest::Stderr,
                    Some("stdout") => LogDest::Stdout,
                    Some("none") => LogDest::None,
                    Some(d @ ("syslog" | "topic" | "file" | "dlt")) => {
                        return Err(format!("log_dest {d}: not supported yet"));
                    }
                    _ => return Err(format!("invalid log_dest value '{value}'")),
                }
            }
            "protocol" | "http_dir" | "http_api_username" | "http_api_password" => {
                return self.web(name, value);
            }
            "include_dir" => return self.include_dir(value, file),
            n if NOT_YET.contains(&n) => return Err(format!("{n}: not supported yet")),
            n if IGNORED.contains(&n) => {}
            _ => return Err(format!("unknown option '{name}'")),
        }
        Ok(())
    }

    fn listener(&mut self, value: &str) -> Result<(), String> {
        let mut parts = value.split_whitespace();
        let port = port(parts.next().unwrap_or(""))?;
        let bind = parts.next().map(|a| address(a, port)).transpose()?;
        let bind = bind.map(str::to_string);
        if parts.next().is_some() {
            return Err("listener takes a port and an optional address".into());
        }
        self.config.listeners.push(ListenerConfig {
            bind,
            ..ListenerConfig::any(port)
        });
        self.current_listener = Some(self.config.listeners.len() - 1);
        Ok(())
    }

    /// The listener that `port`/`bind_address` configure (created on first use).
    fn default_listener(&mut self) -> &mut ListenerConfig {
        if self.config.listeners.is_empty() {
            self.config
                .listeners
                .push(ListenerConfig::any(DEFAULT_PORT));
        }
        &mut self.config.listeners[0]
    }

    fn listener_or_default(&mut self) -> &mut ListenerConfig {
        match self.current_listener {
            Some(i) => &mut self.config.listeners[i],
            None => self.default_listener(),
        }
    }

    fn listener_mut(&mut self, name: &str) -> Result<&mut ListenerConfig, String> {
        match self.current_listener {
            Some(i) => Ok(&mut self.config.listeners[i]),
            None => Err(format!("{name} must follow a listener line")),
        }
    }

    fn log_type(&mut self, value: &str) -> Result<(), String> {
        let log = &mut self.config.log;
        if !self.log_types_seen {
            // The first log_type line replaces the defaults, as in mosquitto.
            log.info = false;
            log.debug = false;
            log.subscribe = false;
            self.log_types_seen = true;
        }
        match value {
            "error" | "warning" | "notice" | "information" => log.info = true,
            "debug" => log.debug = true,
            "subscribe" | "unsubscribe" => log.subscribe = true,
            "websockets" | "none" => {}
            "all" => {
                log.info = true;
                log.debug = true;
                log.subscribe = true;
            }
            _ => return Err(format!("invalid log_type value '{value}'")),
        }
        Ok(())
    }

    fn include_dir(&mut self, value: &str, file: &Path) -> Result<(), String> {
        if self.depth >= 8 {
            return Err("include_dir nested too deeply (does a file include itself?)".into());
        }
        let mut dir = PathBuf::from(word("include_dir", value)?);
        if dir.is_relative() {
            if let Some(parent) = file.parent() {
                dir = parent.join(dir);
            }
        }
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| format!("cannot read include_dir {}: {e}", dir.display()))?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "conf"))
            .collect();
        files.sort();
        self.depth += 1;
        for f in files {
            // An error inside an included file names that file, so pass it through as text.
            let r = self.file(&f).map_err(|e| e.to_string());
            if r.is_err() {
                self.depth -= 1;
                return r;
            }
        }
        self.depth -= 1;
        Ok(())
    }
}

fn word<'v>(name: &str, value: &'v str) -> Result<&'v str, String> {
    if value.is_empty() {
        Err(format!("{name} needs a value"))
    } else {
        Ok(value)
    }
}

/// An integer type's bounds, for "out of range" messages.
trait Ranged {
    const MIN: i128;
    const MAX: i128;
}

macro_rules! ranged {
    ($($t:ty),*) => {$(
        impl Ranged for $t {
            const MIN: i128 = <$t>::MIN as i128;
            const MAX: i128 = <$t>::MAX as i128;
        }
    )*};
}
ranged!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

fn num<T: std::str::FromStr + Ranged>(name: &str, value: &str) -> Result<T, String> {
    value.parse().map_err(|_| match value.parse::<i128>() {
        Ok(_) => format!("{name} {value} is out of range {}-{}", T::MIN, T::MAX),
        Err(_) => format!("invalid {name} value '{value}' (expected a number)"),
    })
}

/// A listening port: 1-65535. Port 0 (mosquitto's `listener 0 PATH` for a Unix socket) is
/// refused rather than taken as "any free port".
fn port(value: &str) -> Result<u16, String> {
    match value.parse::<i128>() {
        Ok(n @ 1..=65535) => Ok(n as u16),
        Ok(n) => Err(format!("port {n} is out of range 1-65535")),
        Err(_) if value.is_empty() => Err("listener needs a port".into()),
        Err(_) => Err(format!(
            "invalid port '{value}' (expected a number 1-65535)"
        )),
    }
}

/// A listener address: an IPv4 or IPv6 address, or a host name (resolved when binding).
fn address(value: &str, port: u16) -> Result<&str, String> {
    if value.parse::<IpAddr>().is_ok() {
        return Ok(value);
    }
    let numeric = value.chars().all(|c| c.is_ascii_digit() || c == '.') || value.contains(':');
    let label_ok = |l: &str| {
        (1..=63).contains(&l.len())
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if numeric {
        Err(format!(
            "cannot listen on {value}:{port}: not an IPv4 or IPv6 address"
        ))
    } else if value.len() > 253 || !value.split('.').all(label_ok) {
        Err(format!(
            "cannot listen on {value}:{port}: not an IPv4 or IPv6 address or a host name"
        ))
    } else {
        Ok(value)
    }
}

fn boolean(name: &str, value: &str) -> Result<bool, String> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!(
            "invalid {name} value '{value}' (expected true or false)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse_str(text, Path::new("test.conf"))
    }

    #[test]
    fn defaults_match_mosquitto() {
        let c = Config::default();
        assert_eq!(c.max_inflight_messages, 20);
        assert_eq!(c.max_queued_messages, 1000);
        assert_eq!(c.sys_interval, 10);
        assert_eq!(
            c.effective_listeners(&[]),
            vec![ListenerConfig::loopback(1883)]
        );
        assert_eq!(
            c.effective_listeners(&[1884, 1885])[1],
            ListenerConfig::loopback(1885)
        );
    }

    #[test]
    fn parses_listeners_and_limits() {
        let c = parse(
            "# comment\n\nlistener 1884 0.0.0.0\nmax_connections 10\nlistener 1885\n\
             socket_domain ipv6\nmax_queued_messages 5\npersistence true\n\
             persistence_location /tmp/x\nsys_interval 0\n",
        )
        .unwrap();
        assert_eq!(c.listeners.len(), 2);
        assert_eq!(c.listeners[0].bind.as_deref(), Some("0.0.0.0"));
        assert_eq!(c.listeners[0].max_connections, Some(10));
        assert_eq!(c.listeners[1].domain, Some(Domain::V6));
        assert_eq!(c.max_queued_messages, 5);
        assert!(c.persistence);
        assert_eq!(c.store_path(), PathBuf::from("/tmp/x/mq.db"));
        assert_eq!(c.sys_interval, 0);
        assert_eq!(c.effective_listeners(&[1]).len(), 2);
    }

    #[test]
    fn port_and_bind_address_make_the_default_listener() {
        let c = parse("port 1999\nbind_address 127.0.0.1\n").unwrap();
        assert_eq!(c.listeners, vec![ListenerConfig::loopback(1999)]);
    }

    #[test]
    fn unknown_option_names_file_and_line() {
        let e = parse("port 1883\n\nfrobnicate yes\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert_eq!(e.to_string(), "test.conf:3: unknown option 'frobnicate'");
    }

    #[test]
    fn malformed_values_are_errors() {
        assert_eq!(parse("max_queued_messages lots").unwrap_err().line, 1);
        assert_eq!(parse("persistence yes").unwrap_err().line, 1);
        assert_eq!(parse("listener").unwrap_err().line, 1);
        assert_eq!(parse("max_packet_size 10").unwrap_err().line, 1);
        assert!(
            parse("socket_domain ipv4").is_err(),
            "needs a listener first"
        );
    }

    #[test]
    fn errors_name_the_value_and_the_reason() {
        let msg = |text: &str| parse(text).unwrap_err().to_string();
        assert_eq!(
            msg("#\n\n\nlistener 99999\n"),
            "test.conf:4: port 99999 is out of range 1-65535"
        );
        assert_eq!(
            msg("listener 1883\n\n\n\nlistener 1883 300.1.2.3\n"),
            "test.conf:5: cannot listen on 300.1.2.3:1883: not an IPv4 or IPv6 address"
        );
        assert!(msg("listener 0").ends_with("port 0 is out of range 1-65535"));
        assert!(msg("port -1").ends_with("port -1 is out of range 1-65535"));
        assert!(msg("listener x1").ends_with("invalid port 'x1' (expected a number 1-65535)"));
        assert!(msg("listener 1 ::1x").contains("not an IPv4 or IPv6 address"));
        assert!(msg("listener 1 bad_host").contains("or a host name"));
        assert!(msg("bind_address 1.2.3.4.5").contains("cannot listen on 1.2.3.4.5:1883"));
        assert_eq!(
            msg("max_inflight_messages 70000"),
            "test.conf:1: max_inflight_messages 70000 is out of range 0-65535"
        );
        let ok = parse("listener 1883 ::1\nlistener 1884 localhost\nlistener 1885 10.0.0.1\n");
        assert_eq!(ok.unwrap().listeners[1].bind.as_deref(), Some("localhost"));
    }

    #[test]
    fn comments_may_hold_any_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("latin1.conf");
        std::fs::write(&f, b"# caf\xe9 \xff\xfe\nmax_queued_messages 9\n").unwrap();
        assert_eq!(Config::from_file(&f).unwrap().max_queued_messages, 9);
        std::fs::write(&f, b"# ok\nauto_id_prefix caf\xe9\n").unwrap();
        let e = Config::from_file(&f).unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        assert!(e.message.contains("not valid UTF-8"), "{e}");
    }

    #[test]
    fn security_options_are_global_by_default() {
        let c = parse("password_file /etc/pw\nacl_file acl\nlistener 1883 127.0.0.1\n").unwrap();
        assert_eq!(c.password_file, Some(PathBuf::from("/etc/pw")));
        assert_eq!(c.acl_file, Some(PathBuf::from("acl")));
        assert!(
            !c.allow_anonymous,
            "a file with listeners refuses anonymous by default"
        );
        assert!(
            parse("listener 1\nallow_anonymous true")
                .unwrap()
                .allow_anonymous
        );
        assert!(parse("max_queued_messages 5").unwrap().allow_anonymous);
        assert!(parse("allow_anonymous maybe").is_err());
    }

    #[test]
    fn per_listener_settings_attach_security_to_the_listener() {
        let c = parse(
            "per_listener_settings true\nlistener 1\nallow_anonymous true\n\
             listener 2\npassword_file pw\nacl_file acl\n",
        )
        .unwrap();
        assert!(c.per_listener_settings && c.password_file.is_none());
        assert_eq!(c.listeners[0].security.allow_anonymous, Some(true));
        assert_eq!(c.listeners[1].security.allow_anonymous, None);
        assert_eq!(
            c.listeners[1].security.password_file,
            Some(PathBuf::from("pw"))
        );
        let e = parse("listener 1\nper_listener_settings true").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
    }

    #[test]
    fn tls_options_belong_to_their_listener() {
        let c = parse(
            "listener 1883 127.0.0.1\nlistener 8883\ncertfile s.pem\nkeyfile s.key\n\
             cafile ca.pem\nrequire_certificate true\nuse_identity_as_username true\n\
             tls_version tlsv1.3\n",
        )
        .unwrap();
        assert!(c.listeners[0].tls.is_none());
        let t = c.listeners[1].tls.as_ref().unwrap();
        assert_eq!(t.certfile, PathBuf::from("s.pem"));
        assert_eq!(t.cafile, Some(PathBuf::from("ca.pem")));
        assert!(t.require_certificate && c.listeners[1].use_identity_as_username);
        assert_eq!(
            t.tls_version,
            crate::broker::security::tls::MinTlsVersion::V13
        );
        let e = parse("listener 8883\ntls_version sslv3").unwrap_err();
        assert_eq!((e.line, e.message.contains("tlsv1.2")), (2, true), "{e}");
        let e = parse("listener 8883\ncertfile s.pem").unwrap_err();
        assert!(
            e.to_string()
                .contains("port 8883: both certfile and keyfile"),
            "{e}"
        );
        let e = parse("listener 8883\nuse_identity_as_username true").unwrap_err();
        assert!(e.message.contains("need a TLS listener"), "{e}");
        // As mosquitto: without require_certificate a client without a certificate is
        // refused at CONNECT, not at start.
        let c = parse("listener 8883\ncertfile a\nkeyfile b\nuse_identity_as_username true");
        assert!(c.is_ok(), "{c:?}");
        let e =
            parse("listener 8883\ncertfile a\nkeyfile b\nrequire_certificate true").unwrap_err();
        assert!(e.message.contains("needs cafile or capath"), "{e}");
    }

    #[test]
    fn tls_options_of_mosquitto_are_read_or_refused_with_a_reason() {
        let c = parse(
            "listener 8883\ncertfile s.pem\nkeyfile s.key\ncafile ca.pem\n\
             require_certificate true\ncrlfile crl.pem\nuse_subject_as_username true\n\
             ciphers ECDHE-RSA-AES128-GCM-SHA256:!aNULL\nciphers_tls1.3 TLS_AES_128_GCM_SHA256\n\
             tls_keylog keys.log\ndhparamfile dh.pem\n",
        )
        .unwrap();
        let l = &c.listeners[0];
        let t = l.tls.as_ref().unwrap();
        assert_eq!(t.crlfile, Some(PathBuf::from("crl.pem")));
        assert_eq!(t.keylog, Some(PathBuf::from("keys.log")));
        assert_eq!(
            t.ciphers.as_deref(),
            Some("ECDHE-RSA-AES128-GCM-SHA256:!aNULL")
        );
        assert_eq!(t.ciphers_tls13.as_deref(), Some("TLS_AES_128_GCM_SHA256"));
        assert_eq!(
            l.cert_identity(),
            crate::broker::security::tls::CertIdentity::Subject
        );
        let e = parse("listener 8883\nciphers AES128-SHA").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("'AES128-SHA'"), "{e}");
        let e = parse("listener 8883\nciphers_tls1.3 ECDHE-RSA-AES128-GCM-SHA256").unwrap_err();
        assert!(e.message.contains("TLS 1.2 suite"), "{e}");
        for psk in ["psk_hint hint", "psk_file psk.txt"] {
            let e = parse(&format!("listener 8883\n{psk}")).unwrap_err();
            assert!(
                e.message.contains("rustls") && e.message.contains("pre-shared key"),
                "{e}"
            );
        }
    }

    #[test]
    fn log_type_replaces_defaults() {
        let c = parse("log_type debug\n").unwrap();
        assert!(c.log.debug && !c.log.info);
        let c = parse("log_type all\nlog_dest stdout\nconnection_messages false").unwrap();
        assert!(c.log.debug && c.log.info && c.log.subscribe);
        assert_eq!(c.log.dest, LogDest::Stdout);
        assert!(!c.log.connection_messages);
    }

    #[test]
    fn include_dir_reads_sorted_conf_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.conf"), "max_queued_messages 7\n").unwrap();
        std::fs::write(dir.path().join("a.conf"), "max_queued_messages 3\n").unwrap();
        std::fs::write(dir.path().join("c.txt"), "nonsense\n").unwrap();
        let top = tempfile::tempdir().unwrap();
        let main = top.path().join("main.conf");
        std::fs::write(&main, format!("include_dir {}\n", dir.path().display())).unwrap();
        let c = Config::from_file(&main).unwrap();
        assert_eq!(c.max_queued_messages, 7);
        std::fs::write(dir.path().join("d.conf"), "\nbogus 1\n").unwrap();
        let e = Config::from_file(&main).unwrap_err();
        assert!(e.message.contains("d.conf:2: unknown option"), "{e}");
        std::fs::write(
            dir.path().join("d.conf"),
            format!("include_dir {}\n", dir.path().display()),
        )
        .unwrap();
        let e = Config::from_file(&main).unwrap_err();
        assert!(e.to_string().contains("nested too deeply"), "{e}");
    }
}
