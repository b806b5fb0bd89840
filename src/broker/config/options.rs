//! Which parser handles which option: the dispatch over option names, and the plain global
//! options (limits, persistence, client ids).

use super::{Parser, boolean, bridge, num, word};
use std::path::{Path, PathBuf};

/// Options of mosquitto that `mq` does not implement, refused with the reason.
const REFUSED: &[(&str, &str)] = &[
    ("tls_engine", "not supported yet"),
    ("tls_keyform", "not supported yet"),
    ("plugin", "not supported yet"),
    ("auth_plugin", "not supported yet"),
    ("mount_point", "not supported yet"),
    ("clientid_prefixes", "not supported yet"),
    ("use_username_as_clientid", "not supported yet"),
    (
        "persistent_client_expiration",
        "not supported yet (MQTT 5 clients set their own session expiry)",
    ),
];

impl Parser<'_> {
    /// Applies one option line, or says what is wrong with it.
    pub(super) fn option(
        &mut self,
        name: &str,
        value: &str,
        file: &Path,
        line: usize,
    ) -> Result<(), String> {
        if bridge::handles(name) {
            return self.bridge(name, value, file, line);
        }
        match name {
            "listener" | "port" | "bind_address" | "socket_domain" | "bind_interface"
            | "max_connections" => self.listener_option(name, value),
            "allow_anonymous" | "password_file" | "acl_file" | "per_listener_settings" => {
                self.security(name, value)
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
            | "use_subject_as_username" => self.tls(name, value),
            "connection_messages"
            | "log_type"
            | "log_dest"
            | "log_timestamp"
            | "log_timestamp_format" => self.logging(name, value),
            "protocol" | "http_dir" | "http_api_username" | "http_api_password" => {
                self.web(name, value)
            }
            "include_dir" => self.include_dir(value, file),
            "autosave_interval"
            | "autosave_on_changes"
            | "set_tcp_nodelay"
            | "upgrade_outgoing_qos"
            | "check_retain_source"
            | "max_inflight_bytes"
            | "memory_limit" => {
                if let Some(note) = self.no_effect(name, value)? {
                    let note = format!("{}:{line}: {name}: {note}", file.display());
                    self.config.notes.push(note);
                }
                Ok(())
            }
            _ => self.global(name, value),
        }
    }

    /// The plain global options: client ids, persistence, limits, the process; and the
    /// refusal of every other name.
    fn global(&mut self, name: &str, value: &str) -> Result<(), String> {
        let c = &mut *self.config;
        match name {
            "allow_zero_length_clientid" => c.allow_zero_length_clientid = boolean(name, value)?,
            "auto_id_prefix" => c.auto_id_prefix = word(name, value)?.into(),
            "persistence" => c.persistence = boolean(name, value)?,
            "persistence_location" => c.persistence_location = PathBuf::from(word(name, value)?),
            "persistence_file" => c.persistence_file = word(name, value)?.into(),
            "max_inflight_messages" => c.max_inflight_messages = num(name, value)?,
            "max_queued_messages" => c.max_queued_messages = num(name, value)?,
            "max_queued_bytes" => c.max_queued_bytes = num(name, value)?,
            "queue_qos0_messages" => c.queue_qos0_messages = boolean(name, value)?,
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
            "pid_file" => c.pid_file = Some(PathBuf::from(word(name, value)?)),
            "user" => c.user = user(word(name, value)?)?,
            n => match REFUSED.iter().find(|(r, _)| *r == n) {
                Some((_, why)) => return Err(format!("{n}: {why}")),
                None => return Err(format!("unknown option '{name}'")),
            },
        }
        Ok(())
    }

    /// Options whose job is done another way here, or whose only supported value is the one
    /// `mq` always behaves as. Returns the line logged at start, when there is one.
    fn no_effect(&mut self, name: &str, value: &str) -> Result<Option<&'static str>, String> {
        let refuse = |why: &str| Err(format!("{name} {value}: not supported ({why})"));
        Ok(match name {
            "autosave_interval" => {
                self.config.autosave_interval = num(name, value)?;
                Some("ignored: the store is written on every acknowledged change")
            }
            "autosave_on_changes" => {
                boolean(name, value)?;
                Some("ignored: the store is written on every acknowledged change")
            }
            "set_tcp_nodelay" => match boolean(name, value)? {
                true => None,
                false => Some("ignored: client sockets always have TCP_NODELAY set"),
            },
            "upgrade_outgoing_qos" => match boolean(name, value)? {
                false => None,
                true => {
                    return refuse(
                        "a message goes out at the lower of its QoS and the subscription's",
                    );
                }
            },
            "check_retain_source" => match boolean(name, value)? {
                false => None,
                true => {
                    return refuse(
                        "retained messages are not re-checked against their publisher's ACL; \
                     set it to false",
                    );
                }
            },
            _ => match num::<u64>(name, value)? {
                0 => None,
                _ if name == "memory_limit" => {
                    return refuse(
                        "only 0, no limit, is supported; \
                    max_queued_messages and max_queued_bytes bound each client",
                    );
                }
                _ => return refuse("only 0, no limit, is supported; use max_inflight_messages"),
            },
        })
    }
}

/// `user`: as root, a user that does not exist is an error here, where the file and line are
/// known (mosquitto's own default, `mosquitto`, falls back to `nobody` at start instead).
fn user(name: &str) -> Result<String, String> {
    use crate::account;
    if account::is_root() && name != "root" && name != "mosquitto" {
        match account::lookup(name) {
            Ok(Some(_)) => {}
            Ok(None) => return Err(format!("user '{name}' does not exist")),
            Err(e) => return Err(format!("user '{name}': cannot look it up: {e}")),
        }
    }
    Ok(name.to_string())
}
