//! The logging options: `log_type`, `log_dest`, `log_timestamp`, `log_timestamp_format`,
//! `connection_messages`.
//!
//! ```text
//! log_dest file /var/log/mosquitto/mosquitto.log    repeatable; the first line replaces stderr
//! log_dest syslog                                   also: stdout, stderr, topic, none
//! log_type error                                    repeatable; the first line replaces the defaults
//! log_timestamp_format %Y-%m-%dT%H:%M:%S            strftime; without it, seconds since 1970
//! ```
//!
//! What is read here is split in two: [`LogConfig`], the small `Copy` part every task keeps
//! (which lines are written), and [`LogOutput`], where they go, which the broker opens once
//! (files, syslog) when it starts.

use super::{Parser, boolean, word};
use crate::broker::log::Output;
use std::path::PathBuf;

/// Which log lines are written, and the output they go to once the broker has opened it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogConfig {
    /// Lines that start with "Error" (`log_type error`).
    pub error: bool,
    /// Lines that start with "Warning" (`log_type warning`).
    pub warning: bool,
    /// Every other line about the broker and its clients (`log_type notice` or `information`).
    pub info: bool,
    /// debug lines (every packet), as `-v` or `log_type debug|all` turn on.
    pub debug: bool,
    /// subscribe/unsubscribe lines.
    pub subscribe: bool,
    /// "New client connected" / "Client ... disconnected" lines.
    pub connection_messages: bool,
    /// The opened destinations; `None` (a config not yet started, or a test) writes to stderr
    /// with the default timestamp.
    pub output: Option<&'static Output>,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            error: true,
            warning: true,
            info: true,
            debug: false,
            subscribe: false,
            connection_messages: true,
            output: None,
        }
    }
}

/// One `log_dest`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogDest {
    /// Standard error (the default).
    Stderr,
    /// Standard output.
    Stdout,
    /// Appended to a file, opened at start and again on SIGHUP (for log rotation).
    File(PathBuf),
    /// The system log (facility daemon).
    Syslog,
    /// Published to `$SYS/broker/log/E|W|N|I|M/...`, as mosquitto does.
    Topic,
}

/// Where log lines go and how they are stamped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogOutput {
    /// Every destination; empty after `log_dest none`.
    pub dests: Vec<LogDest>,
    /// `log_timestamp`: whether lines start with a time.
    pub timestamp: bool,
    /// `log_timestamp_format`: a strftime format (local time); `None` = seconds since 1970.
    pub timestamp_format: Option<String>,
}

impl Default for LogOutput {
    fn default() -> Self {
        LogOutput {
            dests: vec![LogDest::Stderr],
            timestamp: true,
            timestamp_format: None,
        }
    }
}

impl Parser<'_> {
    /// `log_type`, `log_dest`, `log_timestamp`, `log_timestamp_format`, `connection_messages`.
    pub(super) fn logging(&mut self, name: &str, value: &str) -> Result<(), String> {
        let c = &mut *self.config;
        match name {
            "log_type" => return self.log_type(value),
            "log_dest" => return self.log_dest(value),
            "connection_messages" => c.log.connection_messages = boolean(name, value)?,
            "log_timestamp" => c.log_output.timestamp = boolean(name, value)?,
            _ => {
                let format = word(name, value)?;
                check_strftime(format)?;
                c.log_output.timestamp_format = Some(format.to_string());
            }
        }
        Ok(())
    }

    fn log_type(&mut self, value: &str) -> Result<(), String> {
        let log = &mut self.config.log;
        if !self.log_types_seen {
            // The first log_type line replaces the defaults, as in mosquitto.
            *log = LogConfig {
                error: false,
                warning: false,
                info: false,
                debug: false,
                subscribe: false,
                ..*log
            };
            self.log_types_seen = true;
        }
        match value {
            "error" => log.error = true,
            "warning" => log.warning = true,
            "notice" | "information" => log.info = true,
            "debug" => log.debug = true,
            "subscribe" | "unsubscribe" => log.subscribe = true,
            "websockets" | "none" => {}
            "all" => {
                (log.error, log.warning, log.info) = (true, true, true);
                log.debug = true;
                log.subscribe = true;
            }
            _ => return Err(format!("invalid log_type value '{value}'")),
        }
        Ok(())
    }

    fn log_dest(&mut self, value: &str) -> Result<(), String> {
        let out = &mut self.config.log_output;
        if !self.log_dests_seen {
            // As log_type: the first line replaces the default (stderr).
            out.dests.clear();
            self.log_dests_seen = true;
        }
        let (kind, rest) = match value.split_once(char::is_whitespace) {
            Some((k, r)) => (k, r.trim()),
            None => (value, ""),
        };
        let dest = match (kind, rest) {
            ("stderr", "") => LogDest::Stderr,
            ("stdout", "") => LogDest::Stdout,
            ("syslog", "") => LogDest::Syslog,
            ("topic", "") => LogDest::Topic,
            ("none", "") => {
                out.dests.clear();
                return Ok(());
            }
            ("file", "") => return Err("log_dest file needs a path".into()),
            ("file", path) => LogDest::File(PathBuf::from(path)),
            ("dlt", _) => {
                return Err("log_dest dlt: the Diagnostic Log and Trace daemon is not \
                            supported (use syslog or file)"
                    .into());
            }
            _ => {
                return Err(format!(
                    "invalid log_dest value '{value}' (expected stderr, stdout, syslog, topic, \
                     none or file PATH)"
                ));
            }
        };
        if !out.dests.contains(&dest) {
            out.dests.push(dest);
        }
        Ok(())
    }
}

/// Refuses a format chrono cannot render (it would fail on every line otherwise).
fn check_strftime(format: &str) -> Result<(), String> {
    use chrono::format::{Item, StrftimeItems};
    match StrftimeItems::new(format).position(|i| matches!(i, Item::Error)) {
        None => Ok(()),
        Some(_) => Err(format!(
            "invalid log_timestamp_format value '{format}' (not a strftime format)"
        )),
    }
}
