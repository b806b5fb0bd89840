//! Which parser handles which option: the dispatch over option names, and the plain global
//! options (limits, persistence, client ids).

use super::{LogDest, Parser, boolean, bridge, num, word};
use std::path::{Path, PathBuf};

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
    "upgrade_outgoing_qos",
    "check_retain_source",
    "autosave_on_changes",
    "persistent_client_expiration",
    "max_inflight_bytes",
    "bind_interface",
    "use_username_as_clientid",
];

impl Parser<'_> {
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
        let c = &mut *self.config;
        match name {
            "listener" | "port" | "bind_address" | "socket_domain" | "max_connections" => {
                return self.listener_option(name, value);
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
}
