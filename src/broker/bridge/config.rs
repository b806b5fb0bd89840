//! What a `connection` block of mosquitto.conf says, resolved: every default filled in, the
//! client identifiers derived, the topic lines checked. The parser that fills it lives with the
//! rest of the file's syntax in `broker::config::bridge`.
//!
//! ```text
//! connection edge                   name; remote client id hostname.edge, local local.hostname.edge
//! address central.example:1883      one or more, tried in turn
//! topic sensors/# out 1 "" site1/   pattern, direction, QoS, local prefix, remote prefix
//! ```

use super::topics::BridgeTopic;
use crate::protocol::Version;
use crate::topic::TopicName;
use std::net::IpAddr;
use std::path::PathBuf;

/// The port of an address without one.
pub const DEFAULT_PORT: u16 = 1883;

/// One remote broker address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    /// Host name or IP address (without IPv6 brackets).
    pub host: String,
    /// Port.
    pub port: u16,
}

impl Address {
    /// Parses `host`, `host:port`, `[v6]:port` or `v6:port` (mosquitto splits at the last
    /// colon, so a bare IPv6 address needs its port).
    pub fn parse(s: &str) -> Result<Address, String> {
        let bad_port = |p: &str| format!("invalid port '{p}' in bridge address '{s}'");
        let (host, port) = match s.rsplit_once(':') {
            None => (s, DEFAULT_PORT),
            Some((h, p)) => {
                let port: u16 = p.parse().map_err(|_| bad_port(p))?;
                if port == 0 {
                    return Err(bad_port(p));
                }
                (h, port)
            }
        };
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if host.is_empty() {
            return Err(format!("empty host in bridge address '{s}'"));
        }
        Ok(Address {
            host: host.to_string(),
            port,
        })
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// `start_type`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StartType {
    /// Connect at start, reconnect after `restart_timeout` whenever the connection fails.
    #[default]
    Automatic,
    /// Connect once `threshold` messages wait for the remote; disconnect after `idle_timeout`
    /// seconds with nothing to send.
    Lazy,
    /// Connect at start; never reconnect.
    Once,
}

/// `restart_timeout`: how long to wait before reconnecting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Restart {
    /// `restart_timeout SECONDS`: always the same wait.
    Constant(u32),
    /// `restart_timeout BASE CAP` (and the default, 5 and 30): "decorrelated jitter", a random
    /// wait between `base` and three times the previous one, at most `cap`; back to `base` once
    /// a connection succeeds.
    Jitter {
        /// First and smallest wait, in seconds.
        base: u32,
        /// Largest wait, in seconds.
        cap: u32,
    },
}

impl Default for Restart {
    fn default() -> Restart {
        Restart::Jitter { base: 5, cap: 30 }
    }
}

/// The TLS side of a bridge (`bridge_cafile` and friends); present when the bridge uses TLS.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BridgeTls {
    /// `bridge_cafile`.
    pub cafile: Option<PathBuf>,
    /// `bridge_capath`.
    pub capath: Option<PathBuf>,
    /// `bridge_certfile`: our client certificate.
    pub certfile: Option<PathBuf>,
    /// `bridge_keyfile`: its key.
    pub keyfile: Option<PathBuf>,
    /// `bridge_insecure`: do not check the remote's host name (the chain still is).
    pub insecure: bool,
    /// `bridge_tls_version`: the lowest version spoken (`tlsv1.2` by default, or `tlsv1.3`).
    pub version: Option<crate::tls::MinTlsVersion>,
    /// `bridge_alpn`.
    pub alpn: Option<String>,
    /// `bridge_tls_use_os_certs`: also trust the system's CA certificates.
    pub use_os_certs: bool,
}

impl BridgeTls {
    /// The client TLS settings every client of `mq` builds its configuration from.
    pub fn options(&self) -> crate::tls::TlsOptions {
        crate::tls::TlsOptions {
            cafile: self.cafile.clone(),
            capath: self.capath.clone(),
            cert: self.certfile.clone(),
            key: self.keyfile.clone(),
            insecure: self.insecure,
            version: self.version.unwrap_or_default(),
            os_certs: self.use_os_certs,
            alpn: self.alpn.clone(),
            ..Default::default()
        }
    }
}

/// One bridge, as configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BridgeConfig {
    /// `connection NAME`.
    pub name: String,
    /// `address`: at least one.
    pub addresses: Vec<Address>,
    /// `round_robin`: treat every address alike instead of returning to the first.
    pub round_robin: bool,
    /// `topic` lines, in order (the first matching remap wins, as in mosquitto).
    pub topics: Vec<BridgeTopic>,
    /// `bridge_protocol_version`.
    pub protocol: Version,
    /// `cleansession`: the remote session ends with each connection.
    pub clean_session: bool,
    /// `local_cleansession` (defaults to `cleansession`): the local session, and what it
    /// queued for the remote, ends with each connection.
    pub local_clean_session: bool,
    /// `remote_clientid` (default `HOSTNAME.NAME`).
    pub remote_clientid: String,
    /// `local_clientid` (default `local.REMOTE_CLIENTID`).
    pub local_clientid: String,
    /// `remote_username`.
    pub remote_username: Option<String>,
    /// `remote_password`.
    pub remote_password: Option<String>,
    /// `local_username`: whose ACL rules apply to the bridge's local side.
    pub local_username: Option<String>,
    /// `local_password`: accepted for compatibility; the bridge's local side is the broker
    /// itself and is not authenticated.
    pub local_password: Option<String>,
    /// The notification topic, `None` with `notifications false`.
    pub notification_topic: Option<TopicName>,
    /// `notifications_local_only`: no state messages (and no will) on the remote.
    pub notifications_local_only: bool,
    /// `try_private`: announce a bridge in the 3.x CONNECT (protocol level + 0x80).
    pub try_private: bool,
    /// `keepalive_interval` in seconds (at least 5).
    pub keepalive: u16,
    /// `restart_timeout`.
    pub restart: Restart,
    /// `start_type`.
    pub start_type: StartType,
    /// `threshold`: queued messages that start a lazy bridge.
    pub threshold: usize,
    /// `idle_timeout` in seconds: a lazy bridge with nothing to send for this long stops.
    pub idle_timeout: u32,
    /// `bridge_attempt_unsubscribe`: unsubscribe remote topics that are `out` only.
    pub attempt_unsubscribe: bool,
    /// `bridge_outgoing_retain`: keep the retain flag on what is sent to the remote.
    pub outgoing_retain: bool,
    /// `bridge_max_packet_size`: largest packet sent to the remote (0: no limit of ours).
    pub max_packet_size: u32,
    /// `bridge_receive_maximum` (5.0): QoS 1/2 messages the remote may have in flight to us;
    /// `None` uses `max_inflight_messages`.
    pub receive_maximum: Option<u16>,
    /// `bridge_session_expiry_interval` (5.0), 0 by default as in mosquitto.
    pub session_expiry_interval: u32,
    /// `bridge_bind_address`: local address of the connection.
    pub bind_address: Option<IpAddr>,
    /// TLS, when any of the TLS options asks for it.
    pub tls: Option<BridgeTls>,
}

impl BridgeConfig {
    /// A bridge named `name` with mosquitto's defaults and no address or topic yet; the
    /// parser fills it, then [`BridgeConfig::resolve_ids`] derives the client identifiers.
    pub fn new(name: &str) -> BridgeConfig {
        BridgeConfig {
            name: name.to_string(),
            addresses: Vec::new(),
            round_robin: false,
            topics: Vec::new(),
            protocol: Version::V311,
            clean_session: false,
            local_clean_session: false,
            remote_clientid: String::new(),
            local_clientid: String::new(),
            remote_username: None,
            remote_password: None,
            local_username: None,
            local_password: None,
            notification_topic: None,
            notifications_local_only: false,
            try_private: true,
            keepalive: 60,
            restart: Restart::default(),
            start_type: StartType::Automatic,
            threshold: 10,
            idle_timeout: 60,
            attempt_unsubscribe: true,
            outgoing_retain: true,
            max_packet_size: 0,
            receive_maximum: None,
            session_expiry_interval: 0,
            bind_address: None,
            tls: None,
        }
    }

    /// mosquitto's defaults for what the file left out: `remote_clientid` is
    /// `HOSTNAME.NAME`, `local_clientid` is `local.` and the remote id, and the notification
    /// topic `$SYS/broker/connection/REMOTE_ID/state`.
    pub fn resolve_ids(
        &mut self,
        remote: Option<String>,
        local: Option<String>,
        notifications: bool,
        topic: Option<String>,
    ) -> Result<(), String> {
        self.remote_clientid = remote.unwrap_or_else(|| format!("{}.{}", hostname(), self.name));
        self.local_clientid = local.unwrap_or_else(|| format!("local.{}", self.remote_clientid));
        if !notifications {
            self.notification_topic = None;
            return Ok(());
        }
        let topic = topic
            .unwrap_or_else(|| format!("$SYS/broker/connection/{}/state", self.remote_clientid));
        self.notification_topic = Some(
            TopicName::new(topic.as_str())
                .map_err(|e| format!("invalid notification topic '{topic}': {e}"))?,
        );
        Ok(())
    }

    /// Whether the remote gets state messages and the will.
    pub fn remote_notifications(&self) -> Option<&TopicName> {
        self.notification_topic
            .as_ref()
            .filter(|_| !self.notifications_local_only)
    }
}

/// This machine's host name, as `gethostname(2)` gives it (mosquitto's default client id).
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its whole length; gethostname writes at most that many
    // bytes and we read up to the first NUL (or the whole buffer).
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "localhost".into();
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_take_mosquittos_forms() {
        let a = Address::parse("broker.example").unwrap();
        assert_eq!((a.host.as_str(), a.port), ("broker.example", 1883));
        let a = Address::parse("10.0.0.1:8883").unwrap();
        assert_eq!((a.host.as_str(), a.port), ("10.0.0.1", 8883));
        let a = Address::parse("::1:1884").unwrap();
        assert_eq!((a.host.as_str(), a.port), ("::1", 1884));
        let a = Address::parse("[fe80::1]:1885").unwrap();
        assert_eq!(
            (a.host.as_str(), a.to_string()),
            ("fe80::1", "[fe80::1]:1885".into())
        );
        assert!(Address::parse("host:0").is_err());
        assert!(Address::parse("host:http").is_err());
        assert!(Address::parse(":1883").is_err());
    }

    #[test]
    fn client_ids_and_notification_topic_default_as_in_mosquitto() {
        let mut b = BridgeConfig::new("edge");
        b.resolve_ids(None, None, true, None).unwrap();
        let host = hostname();
        assert_eq!(b.remote_clientid, format!("{host}.edge"));
        assert_eq!(b.local_clientid, format!("local.{host}.edge"));
        assert_eq!(
            b.notification_topic.as_deref(),
            Some(format!("$SYS/broker/connection/{host}.edge/state").as_str())
        );
        let mut b = BridgeConfig::new("edge");
        b.resolve_ids(Some("r".into()), Some("l".into()), false, None)
            .unwrap();
        assert_eq!(
            (b.remote_clientid.as_str(), b.local_clientid.as_str()),
            ("r", "l")
        );
        assert!(b.notification_topic.is_none() && b.remote_notifications().is_none());
        assert!(
            b.resolve_ids(None, None, true, Some("bad/#".into()))
                .is_err()
        );
    }
}
