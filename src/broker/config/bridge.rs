//! The bridge options of mosquitto.conf: `connection NAME` starts a bridge, and the options
//! after it (until the next `connection`) configure that bridge. Other options stay global
//! wherever they appear, as in mosquitto. Defaults and limits are mosquitto's; the options of
//! features `mq` does not have (TLS-PSK, OCSP) are refused by name rather than ignored.

use super::{ConfigError, Parser, boolean, num, word};
use crate::broker::bridge::config::{Address, BridgeConfig, BridgeTls, Restart, StartType};
use crate::broker::bridge::topics::{BridgeTopic, Direction};
use crate::protocol::{QoS, Version};
use std::path::{Path, PathBuf};

/// Options that configure the bridge of the last `connection` line.
pub(super) const OPTIONS: &[&str] = &[
    "address",
    "addresses",
    "round_robin",
    "topic",
    "bridge_protocol_version",
    "cleansession",
    "local_cleansession",
    "remote_clientid",
    "clientid",
    "local_clientid",
    "remote_username",
    "username",
    "remote_password",
    "password",
    "local_username",
    "local_password",
    "notifications",
    "notifications_local_only",
    "notification_topic",
    "try_private",
    "keepalive_interval",
    "restart_timeout",
    "start_type",
    "threshold",
    "idle_timeout",
    "bridge_attempt_unsubscribe",
    "bridge_outgoing_retain",
    "bridge_max_packet_size",
    "bridge_receive_maximum",
    "bridge_session_expiry_interval",
    "bridge_bind_address",
    "bridge_cafile",
    "bridge_capath",
    "bridge_certfile",
    "bridge_keyfile",
    "bridge_insecure",
    "bridge_tls_version",
    "bridge_alpn",
    "bridge_tls_use_os_certs",
];

/// Bridge options of mosquitto that `mq` refuses, with the reason.
const REFUSED: &[(&str, &str)] = &[
    ("bridge_identity", crate::tls::PSK_UNSUPPORTED),
    ("bridge_psk", crate::tls::PSK_UNSUPPORTED),
    ("bridge_require_ocsp", "OCSP checks are not supported"),
    ("bridge_max_topic_alias", "not supported yet"),
    ("bridge_tcp_keepalive", "not supported yet"),
    ("bridge_tcp_user_timeout", "not supported yet"),
    (
        "bridge_reload_type",
        "not supported yet (changed bridges restart at once)",
    ),
];

/// True for the options this module parses or refuses.
pub(super) fn handles(name: &str) -> bool {
    name == "connection" || OPTIONS.contains(&name) || REFUSED.iter().any(|(n, _)| *n == name)
}

/// A bridge being read: its config and what is only known at the end of the file.
#[derive(Debug)]
pub(super) struct Draft {
    config: BridgeConfig,
    /// File and line of `connection`, for errors found at the end.
    file: PathBuf,
    line: usize,
    remote_id: Option<String>,
    local_id: Option<String>,
    local_clean: Option<bool>,
    notifications: bool,
    notification_topic: Option<String>,
    tls: BridgeTls,
}

impl Parser<'_> {
    /// Handles one bridge option (see [`handles`]).
    pub(super) fn bridge(
        &mut self,
        name: &str,
        value: &str,
        file: &Path,
        line: usize,
    ) -> Result<(), String> {
        if let Some((_, why)) = REFUSED.iter().find(|(n, _)| *n == name) {
            return Err(format!("{name}: {why}"));
        }
        if name == "connection" {
            return self.connection(value, file, line);
        }
        let Some(d) = self.bridges.last_mut() else {
            return Err(format!("{name} must follow a connection line"));
        };
        d.option(name, value)
    }

    fn connection(&mut self, value: &str, file: &Path, line: usize) -> Result<(), String> {
        let name = word("connection", value)?;
        if name.contains(char::is_whitespace) {
            return Err(format!("invalid connection name '{name}'"));
        }
        if self.bridges.iter().any(|d| d.config.name == name) {
            return Err(format!("duplicate bridge name '{name}'"));
        }
        self.bridges.push(Draft {
            config: BridgeConfig::new(name),
            file: file.to_path_buf(),
            line,
            remote_id: None,
            local_id: None,
            local_clean: None,
            notifications: true,
            notification_topic: None,
            tls: BridgeTls::default(),
        });
        Ok(())
    }

    /// Resolves every bridge at the end of the file and checks what needs the whole block.
    pub(super) fn finish_bridges(&mut self) -> Result<(), ConfigError> {
        for d in std::mem::take(&mut self.bridges) {
            let (file, line) = (d.file.clone(), d.line);
            let config = d.resolve().map_err(|message| ConfigError {
                file: file.clone(),
                line,
                message,
            })?;
            let clash = self
                .config
                .bridges
                .iter()
                .find(|b| b.local_clientid == config.local_clientid);
            if let Some(other) = clash {
                return Err(ConfigError {
                    file,
                    line,
                    message: format!(
                        "bridges '{}' and '{}' have the same local_clientid '{}'",
                        other.name, config.name, config.local_clientid
                    ),
                });
            }
            self.config.bridges.push(config);
        }
        Ok(())
    }
}

impl Draft {
    fn option(&mut self, name: &str, value: &str) -> Result<(), String> {
        let c = &mut self.config;
        match name {
            "address" | "addresses" => {
                if !c.addresses.is_empty() {
                    return Err(format!("bridge '{}' has a second address line", c.name));
                }
                for a in value.split_whitespace().take_while(|a| !a.starts_with('#')) {
                    c.addresses.push(Address::parse(a)?);
                }
                if c.addresses.is_empty() {
                    return Err(format!("{name} needs a value"));
                }
            }
            "round_robin" => c.round_robin = boolean(name, value)?,
            "topic" => c.topics.push(topic(value)?),
            "bridge_protocol_version" => {
                c.protocol = match value {
                    "mqttv31" => Version::V31,
                    "mqttv311" => Version::V311,
                    "mqttv50" => Version::V5,
                    _ => {
                        return Err(format!(
                            "invalid bridge_protocol_version value '{value}' (expected mqttv31, \
                             mqttv311 or mqttv50)"
                        ));
                    }
                }
            }
            "cleansession" => c.clean_session = boolean(name, value)?,
            "local_cleansession" => self.local_clean = Some(boolean(name, value)?),
            "remote_clientid" | "clientid" => self.remote_id = Some(word(name, value)?.into()),
            "local_clientid" => self.local_id = Some(word(name, value)?.into()),
            "remote_username" | "username" => c.remote_username = Some(word(name, value)?.into()),
            "remote_password" | "password" => c.remote_password = Some(word(name, value)?.into()),
            "local_username" => c.local_username = Some(word(name, value)?.into()),
            "local_password" => c.local_password = Some(word(name, value)?.into()),
            "notifications" => self.notifications = boolean(name, value)?,
            "notifications_local_only" => c.notifications_local_only = boolean(name, value)?,
            "notification_topic" => self.notification_topic = Some(word(name, value)?.into()),
            "try_private" => c.try_private = boolean(name, value)?,
            _ => return self.timing_option(name, value),
        }
        Ok(())
    }

    /// Reconnection, keepalive and size options.
    fn timing_option(&mut self, name: &str, value: &str) -> Result<(), String> {
        let c = &mut self.config;
        match name {
            "keepalive_interval" => {
                let n: u32 = num(name, value)?;
                let n = u16::try_from(n).map_err(|_| "keepalive_interval is at most 65535")?;
                // mosquitto raises lower values to its minimum.
                c.keepalive = n.max(5);
            }
            "restart_timeout" => c.restart = restart(value)?,
            "start_type" => {
                c.start_type = match value {
                    "automatic" => StartType::Automatic,
                    "lazy" => StartType::Lazy,
                    "once" => StartType::Once,
                    "manual" => return Err("start_type manual is not supported".into()),
                    _ => {
                        return Err(format!(
                            "invalid start_type value '{value}' (expected automatic, lazy or once)"
                        ));
                    }
                }
            }
            "threshold" => c.threshold = num::<usize>(name, value)?.max(1),
            "idle_timeout" => c.idle_timeout = num::<u32>(name, value)?.max(1),
            "bridge_attempt_unsubscribe" => c.attempt_unsubscribe = boolean(name, value)?,
            "bridge_outgoing_retain" => c.outgoing_retain = boolean(name, value)?,
            "bridge_max_packet_size" => c.max_packet_size = num::<i64>(name, value)?.max(0) as u32,
            "bridge_receive_maximum" => {
                let n: u16 = num(name, value)
                    .map_err(|_| format!("invalid {name} value '{value}' (expected 1 to 65535)"))?;
                if n == 0 {
                    return Err(format!("invalid {name} value '0' (expected 1 to 65535)"));
                }
                c.receive_maximum = Some(n);
            }
            "bridge_session_expiry_interval" => c.session_expiry_interval = num(name, value)?,
            "bridge_bind_address" => {
                c.bind_address = Some(value.parse().map_err(|_| {
                    format!("invalid bridge_bind_address '{value}' (expected an IP address)")
                })?)
            }
            _ => return self.tls_option(name, value),
        }
        Ok(())
    }

    fn tls_option(&mut self, name: &str, value: &str) -> Result<(), String> {
        let t = &mut self.tls;
        let path = || word(name, value).map(PathBuf::from);
        match name {
            "bridge_cafile" => t.cafile = Some(path()?),
            "bridge_capath" => t.capath = Some(path()?),
            "bridge_certfile" => t.certfile = Some(path()?),
            "bridge_keyfile" => t.keyfile = Some(path()?),
            "bridge_insecure" => t.insecure = boolean(name, value)?,
            "bridge_tls_version" => {
                let v = crate::tls::MinTlsVersion::parse(value)
                    .map_err(|e| format!("bridge_tls_version: {e}"))?;
                t.version = Some(v);
            }
            "bridge_alpn" => t.alpn = Some(word(name, value)?.into()),
            "bridge_tls_use_os_certs" => t.use_os_certs = boolean(name, value)?,
            _ => return Err(format!("unknown option '{name}'")),
        }
        Ok(())
    }

    /// The finished config, or what the block lacks.
    fn resolve(self) -> Result<BridgeConfig, String> {
        let mut c = self.config;
        let name = c.name.clone();
        if c.addresses.is_empty() {
            return Err(format!("bridge '{name}' has no address"));
        }
        if c.topics.is_empty() {
            return Err(format!("bridge '{name}' has no topic"));
        }
        if c.remote_password.is_some() && c.remote_username.is_none() && !c.protocol.is_v5() {
            return Err(format!(
                "bridge '{name}': remote_password needs remote_username before MQTT 5.0"
            ));
        }
        c.local_clean_session = self.local_clean.unwrap_or(c.clean_session);
        c.tls = tls(self.tls).map_err(|e| format!("bridge '{name}': {e}"))?;
        c.resolve_ids(
            self.remote_id,
            self.local_id,
            self.notifications,
            self.notification_topic,
        )
        .map_err(|e| format!("bridge '{name}': {e}"))?;
        Ok(c)
    }
}

/// TLS is on with a CA source; the other TLS options without one are a mistake, not a wish
/// for plain TCP.
fn tls(t: BridgeTls) -> Result<Option<BridgeTls>, String> {
    let on = t.cafile.is_some() || t.capath.is_some() || t.use_os_certs;
    let asked = t.certfile.is_some()
        || t.keyfile.is_some()
        || t.insecure
        || t.version.is_some()
        || t.alpn.is_some();
    if !on {
        return match asked {
            true => Err(
                "TLS options need bridge_cafile, bridge_capath or bridge_tls_use_os_certs".into(),
            ),
            false => Ok(None),
        };
    }
    if t.certfile.is_some() != t.keyfile.is_some() {
        return Err("bridge_certfile and bridge_keyfile go together".into());
    }
    Ok(Some(t))
}

/// `restart_timeout SECONDS` or `restart_timeout BASE CAP`, clamped to 1..=3600 as mosquitto
/// does.
fn restart(value: &str) -> Result<Restart, String> {
    let mut parts = value.split_whitespace();
    let first = parts.next().ok_or("restart_timeout needs a value")?;
    let base = num::<i64>("restart_timeout", first)?.clamp(1, 3600) as u32;
    match parts.next().filter(|p| !p.starts_with('#')) {
        None => Ok(Restart::Constant(base)),
        Some(cap) => {
            let cap = num::<i64>("restart_timeout", cap)?.clamp(1, 3600) as u32;
            if cap < base {
                return Err(format!(
                    "restart_timeout cap {cap} is lower than its base {base}"
                ));
            }
            Ok(Restart::Jitter { base, cap })
        }
    }
}

/// `topic PATTERN [[[out|in|both] QOS] LOCAL-PREFIX REMOTE-PREFIX]`; a word starting with
/// `#` after the pattern begins a comment.
fn topic(value: &str) -> Result<BridgeTopic, String> {
    let mut words = value.split_whitespace();
    let pattern = words.next().ok_or("topic needs a value")?;
    let rest: Vec<&str> = words.take_while(|w| !w.starts_with('#')).collect();
    let direction = match rest.first() {
        Some(d) => Direction::parse(d)?,
        None => Direction::Out,
    };
    let qos = match rest.get(1) {
        Some(q) => q
            .parse::<u8>()
            .ok()
            .and_then(QoS::from_u8)
            .ok_or_else(|| format!("invalid bridge topic QoS '{q}' (expected 0, 1 or 2)"))?,
        None => QoS::AtMostOnce,
    };
    if rest.len() > 4 {
        return Err(format!("too many values in topic line '{value}'"));
    }
    let local = rest.get(2).copied().unwrap_or("");
    let remote = rest.get(3).copied().unwrap_or("");
    BridgeTopic::new(pattern, direction, qos, local, remote)
}

#[cfg(test)]
mod tests {
    use crate::broker::bridge::config::{Restart, StartType};
    use crate::broker::bridge::topics::Direction;
    use crate::broker::config::{Config, ConfigError};
    use crate::protocol::{QoS, Version};
    use std::path::Path;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse_str(text, Path::new("b.conf"))
    }

    #[test]
    fn a_minimal_bridge_gets_mosquittos_defaults() {
        let c = parse("connection hub\naddress 10.0.0.1\ntopic a/#\n").unwrap();
        let b = &c.bridges[0];
        assert_eq!(b.name, "hub");
        assert_eq!(b.addresses[0].to_string(), "10.0.0.1:1883");
        assert_eq!(b.topics[0].direction, Direction::Out);
        assert_eq!(b.topics[0].qos, QoS::AtMostOnce);
        assert_eq!(b.protocol, Version::V311);
        assert!(!b.clean_session && !b.local_clean_session);
        assert!(b.try_private && b.attempt_unsubscribe && b.outgoing_retain && !b.round_robin);
        assert_eq!(b.keepalive, 60);
        assert_eq!(b.restart, Restart::Jitter { base: 5, cap: 30 });
        assert_eq!(
            (b.start_type, b.threshold, b.idle_timeout),
            (StartType::Automatic, 10, 60)
        );
        assert!(b.remote_clientid.ends_with(".hub"));
        assert_eq!(b.local_clientid, format!("local.{}", b.remote_clientid));
        let topic = format!("$SYS/broker/connection/{}/state", b.remote_clientid);
        assert_eq!(b.notification_topic.as_deref(), Some(topic.as_str()));
        assert!(b.tls.is_none() && b.session_expiry_interval == 0);
    }

    #[test]
    fn every_option_is_read() {
        let c = parse(
            "connection hub\naddresses h1:1884 [::1]:1885 # comment\nround_robin true\n\
             topic s/# both 2 l/ r/\ntopic \"\" in 1 here there\nbridge_protocol_version mqttv50\n\
             cleansession true\nlocal_cleansession false\nremote_clientid rid\nlocal_clientid lid\n\
             remote_username ru\nremote_password rp\nlocal_username lu\nlocal_password lp\n\
             notifications_local_only true\nnotification_topic hub/state\ntry_private false\n\
             keepalive_interval 2\nrestart_timeout 2 9\nstart_type lazy\nthreshold 0\n\
             idle_timeout 7\nbridge_attempt_unsubscribe false\nbridge_outgoing_retain false\n\
             bridge_max_packet_size 2048\nbridge_receive_maximum 5\n\
             bridge_session_expiry_interval 600\nbridge_bind_address 127.0.0.1\n\
             bridge_cafile ca.pem\nbridge_certfile c.pem\nbridge_keyfile c.key\n\
             bridge_insecure true\nbridge_tls_version tlsv1.3\nbridge_alpn mqtt\n\
             listener 1883\n",
        )
        .unwrap();
        let b = &c.bridges[0];
        assert_eq!(b.addresses.len(), 2);
        assert_eq!(b.addresses[1].host, "::1");
        assert_eq!(
            (b.topics[0].local.as_str(), b.topics[0].remote.as_str()),
            ("l/s/#", "r/s/#")
        );
        assert_eq!(b.topics[1].local.as_str(), "here");
        assert_eq!(b.protocol, Version::V5);
        assert!(b.clean_session && !b.local_clean_session);
        assert_eq!(
            (b.remote_clientid.as_str(), b.local_clientid.as_str()),
            ("rid", "lid")
        );
        assert_eq!(b.local_username.as_deref(), Some("lu"));
        assert_eq!(b.notification_topic.as_deref(), Some("hub/state"));
        assert!(b.remote_notifications().is_none());
        assert_eq!(b.keepalive, 5, "raised to mosquitto's minimum");
        assert_eq!(b.restart, Restart::Jitter { base: 2, cap: 9 });
        assert_eq!(
            (b.start_type, b.threshold, b.idle_timeout),
            (StartType::Lazy, 1, 7)
        );
        assert_eq!((b.max_packet_size, b.receive_maximum), (2048, Some(5)));
        assert_eq!(b.session_expiry_interval, 600);
        let tls = b.tls.as_ref().unwrap();
        assert!(tls.insecure && tls.certfile.is_some());
        assert_eq!(
            c.listeners.len(),
            1,
            "global options still apply after a bridge"
        );
        assert_eq!(
            parse("connection a\naddress h\ntopic t\nrestart_timeout 20\n")
                .unwrap()
                .bridges[0]
                .restart,
            Restart::Constant(20)
        );
    }

    #[test]
    fn mistakes_name_their_line() {
        let cases = [
            ("topic a\n", 1, "must follow a connection line"),
            (
                "connection a\naddress h\ntopic a sideways\n",
                3,
                "direction",
            ),
            ("connection a\naddress h\ntopic a out 3\n", 3, "QoS"),
            (
                "connection a\naddress h:99999\ntopic a\n",
                2,
                "invalid port",
            ),
            (
                "connection a\naddress h\ntopic a\nbridge_psk 00ff\n",
                4,
                "TLS-PSK",
            ),
            (
                "connection a\naddress h\ntopic a\nbridge_identity me\n",
                4,
                "TLS-PSK",
            ),
            (
                "connection a\naddress h\ntopic a\nrestart_timeout 9 3\n",
                4,
                "lower than",
            ),
            (
                "connection a\naddress h\ntopic a\nstart_type manual\n",
                4,
                "manual",
            ),
            ("connection a\ntopic a\n", 1, "no address"),
            ("connection a\naddress h\n", 1, "no topic"),
            (
                "connection a\naddress h\ntopic a\nconnection a\n",
                4,
                "duplicate",
            ),
            (
                "connection a\naddress h\ntopic a\nbridge_certfile c\n",
                1,
                "bridge_cafile",
            ),
            (
                "connection a\naddress h\ntopic a\nremote_password p\n",
                1,
                "remote_username",
            ),
            (
                "connection a\naddress h\ntopic a\nbridge_tls_version tlsv1\n",
                4,
                "tlsv1.2",
            ),
            (
                "connection a\naddress h\ntopic a\nbridge_receive_maximum 0\n",
                4,
                "1 to 65535",
            ),
        ];
        for (text, line, words) in cases {
            let e = parse(text).unwrap_err();
            assert_eq!(e.line, line, "{text:?}: {e}");
            assert!(e.message.contains(words), "{text:?}: {e}");
        }
        let e = parse(
            "connection a\naddress h\ntopic t\nlocal_clientid x\n\
             connection b\naddress h\ntopic t\nlocal_clientid x\n",
        )
        .unwrap_err();
        assert!(e.message.contains("same local_clientid"), "{e}");
    }
}
