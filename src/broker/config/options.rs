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
];

/// Every option name outside bridge blocks that a line may start with, for "did you mean".
const KNOWN: &[&str] = &[
    "listener",
    "port",
    "bind_address",
    "socket_domain",
    "bind_interface",
    "max_connections",
    "use_username_as_clientid",
    "mount_point",
    "allow_anonymous",
    "password_file",
    "acl_file",
    "per_listener_settings",
    "certfile",
    "keyfile",
    "cafile",
    "capath",
    "require_certificate",
    "tls_version",
    "crlfile",
    "ciphers",
    "ciphers_tls1.3",
    "tls_keylog",
    "dhparamfile",
    "use_identity_as_username",
    "use_subject_as_username",
    "connection_messages",
    "log_type",
    "log_dest",
    "log_timestamp",
    "log_timestamp_format",
    "protocol",
    "http_dir",
    "http_api_username",
    "http_api_password",
    "include_dir",
    "autosave_interval",
    "autosave_on_changes",
    "set_tcp_nodelay",
    "upgrade_outgoing_qos",
    "persistent_client_expiration",
    "check_retain_source",
    "max_inflight_bytes",
    "memory_limit",
    "allow_zero_length_clientid",
    "auto_id_prefix",
    "clientid_prefixes",
    "persistence",
    "persistence_location",
    "persistence_file",
    "max_inflight_messages",
    "max_queued_messages",
    "max_queued_bytes",
    "queue_qos0_messages",
    "message_size_limit",
    "max_packet_size",
    "retain_available",
    "sys_interval",
    "max_keepalive",
    "max_qos",
    "max_topic_alias",
    "pid_file",
    "user",
];

/// "unknown option 'NAME'", with the closest known name when it is one or two edits away.
fn unknown(name: &str) -> String {
    let candidates = KNOWN
        .iter()
        .chain(bridge::OPTIONS)
        .chain(["connection"].iter());
    let best = candidates
        .map(|k| (edit_distance(name, k), *k))
        .min()
        .filter(|(d, _)| *d <= 2 && name.len() > 3);
    match best {
        Some((_, k)) => format!("unknown option '{name}' (did you mean {k}?)"),
        None => format!("unknown option '{name}'"),
    }
}

/// Levenshtein distance, with a swap of two neighbours counting as one edit.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut rows = vec![(0..=b.len()).collect::<Vec<_>>()];
    for i in 1..=a.len() {
        let mut row = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            row[j] = (rows[i - 1][j] + 1)
                .min(row[j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                row[j] = row[j].min(rows[i - 2][j - 2] + 1);
            }
        }
        rows.push(row);
    }
    rows[a.len()][b.len()]
}

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
            "listener"
            | "port"
            | "bind_address"
            | "socket_domain"
            | "bind_interface"
            | "max_connections"
            | "use_username_as_clientid"
            | "mount_point" => self.listener_option(name, value),
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
            "autosave_interval" | "autosave_on_changes" | "set_tcp_nodelay" | "memory_limit" => {
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
            "clientid_prefixes" => c.clientid_prefixes = word(name, value)?.into(),
            "upgrade_outgoing_qos" => c.upgrade_outgoing_qos = boolean(name, value)?,
            "check_retain_source" => c.check_retain_source = boolean(name, value)?,
            "persistent_client_expiration" => {
                c.persistent_client_expiration = Some(expiration(value)?);
            }
            "persistence" => c.persistence = boolean(name, value)?,
            "persistence_location" => c.persistence_location = PathBuf::from(word(name, value)?),
            "persistence_file" => c.persistence_file = word(name, value)?.into(),
            "max_inflight_messages" => c.max_inflight_messages = num(name, value)?,
            "max_queued_messages" => c.max_queued_messages = num(name, value)?,
            "max_queued_bytes" => c.max_queued_bytes = num(name, value)?,
            "max_inflight_bytes" => {
                // Beyond 4 GiB no window of messages (256 MiB each at most) is held back.
                c.max_inflight_bytes = num::<u64>(name, value)?.min(u32::MAX.into()) as u32;
            }
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
                None => return Err(unknown(name)),
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
            // memory_limit
            _ => match num::<u64>(name, value)? {
                0 => None,
                _ => {
                    return refuse(
                        "only 0, no limit, is supported; \
                    max_queued_messages and max_queued_bytes bound each client",
                    );
                }
            },
        })
    }
}

/// `persistent_client_expiration`: a number and a unit, `h`, `d`, `w`, `m` (30 days) or `y`
/// (365 days), as mosquitto reads it; in seconds.
fn expiration(value: &str) -> Result<u32, String> {
    let bad = || {
        format!(
            "invalid persistent_client_expiration value '{value}' (expected a number and a \
             unit: h, d, w, m or y, as 14d)"
        )
    };
    let unit = value.chars().last().ok_or_else(bad)?;
    let hours: u64 = match unit {
        'h' => 1,
        'd' => 24,
        'w' => 24 * 7,
        'm' => 24 * 30,
        'y' => 24 * 365,
        _ => return Err(bad()),
    };
    let n: u64 = value[..value.len() - 1].parse().map_err(|_| bad())?;
    // u32::MAX means "for ever" in the session: stay one below.
    Ok((n * hours * 3600).min(u64::from(u32::MAX - 1)) as u32)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::config::Config;

    #[test]
    fn every_known_name_is_an_option() {
        for name in KNOWN {
            let e = Config::parse_str(&format!("{name} x"), Path::new("k.conf"));
            if let Err(e) = e {
                assert!(!e.message.contains("unknown option"), "{e}");
            }
        }
    }

    #[test]
    fn a_misspelt_option_gets_a_suggestion() {
        assert_eq!(edit_distance("log_dset", "log_dest"), 1);
        assert_eq!(
            unknown("log_dset"),
            "unknown option 'log_dset' (did you mean log_dest?)"
        );
        assert_eq!(
            unknown("persistance"),
            "unknown option 'persistance' (did you mean persistence?)"
        );
        assert_eq!(
            unknown("adress"),
            "unknown option 'adress' (did you mean address?)"
        );
        assert_eq!(unknown("frobnicate"), "unknown option 'frobnicate'");
    }

    #[test]
    fn persistent_client_expiration_takes_mosquitto_units() {
        assert_eq!(expiration("2h"), Ok(7200));
        assert_eq!(expiration("14d"), Ok(14 * 86400));
        assert_eq!(expiration("1w"), Ok(7 * 86400));
        assert_eq!(expiration("1m"), Ok(30 * 86400));
        assert_eq!(expiration("1y"), Ok(365 * 86400));
        assert_eq!(expiration("999999y"), Ok(u32::MAX - 1));
        for bad in ["", "14", "d", "-1d", "1.5d", "14 d", "3s"] {
            assert!(expiration(bad).is_err(), "{bad}");
        }
        let c = Config::parse_str("persistent_client_expiration 14d", Path::new("k.conf"));
        assert_eq!(c.unwrap().persistent_client_expiration, Some(14 * 86400));
    }
}
