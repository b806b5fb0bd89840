//! Listeners: the `ListenerConfig` a `listener` line starts, the options that set it up
//! (`port`, `bind_address`, `socket_domain`, `bind_interface`, `max_connections`,
//! `mount_point`), and the parsing of ports and addresses.

use super::{DEFAULT_PORT, Parser, Protocol, SecurityConfig, boolean, num, word};
use crate::broker::security::tls::ListenerTls;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

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
    /// `bind_interface`: only connections arriving on this network interface.
    pub bind_interface: Option<String>,
    /// `use_username_as_clientid`: a client's user name replaces its client id.
    pub use_username_as_clientid: bool,
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
    /// `mount_point`: the topic prefix of this listener's clients (see `link/mount.rs`).
    pub mount_point: Option<String>,
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
    pub fn cert_identity(&self) -> crate::broker::security::tls::CertIdentity {
        use crate::broker::security::tls::CertIdentity;
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
            bind_interface: None,
            use_username_as_clientid: false,
            tls: None,
            use_identity_as_username: false,
            use_subject_as_username: false,
            security: SecurityConfig::default(),
            protocol: Protocol::Mqtt,
            mount_point: None,
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

impl Parser<'_> {
    /// `listener`, `port`, `bind_address`, `socket_domain`, `bind_interface`,
    /// `max_connections`, `use_username_as_clientid`, `mount_point`.
    pub(super) fn listener_option(&mut self, name: &str, value: &str) -> Result<(), String> {
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
            "use_username_as_clientid" => {
                self.listener_or_default().use_username_as_clientid = boolean(name, value)?;
            }
            "bind_interface" => {
                let value = word(name, value)?;
                // The kernel's limit on interface names (IFNAMSIZ, with its NUL).
                if value.len() > 15 || value.contains(['/', ' ']) {
                    return Err(format!("invalid bind_interface value '{value}'"));
                }
                self.listener_or_default().bind_interface = Some(value.into());
            }
            "mount_point" => self.listener_mut(name)?.mount_point = Some(mount_point(value)?),
            _ => {
                let n: i64 = num(name, value)?;
                self.listener_or_default().max_connections = (n >= 0).then_some(n as usize);
            }
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

    pub(super) fn listener_or_default(&mut self) -> &mut ListenerConfig {
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
}

/// A `mount_point` prefix: a topic name, so without wildcards (mosquitto's checks and words).
fn mount_point(value: &str) -> Result<String, String> {
    if value.is_empty() {
        return Err("empty mount_point value".into());
    }
    match crate::topic::validate_name(value) {
        Ok(()) => Ok(value.to_string()),
        Err(e) => Err(format!(
            "invalid mount_point '{value}': {} (does it contain a wildcard character?)",
            e.message()
        )),
    }
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
