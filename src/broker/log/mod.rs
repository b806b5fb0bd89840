//! Broker log lines in mosquitto's style: `<epoch seconds>: <message>`, to the destinations of
//! `log_dest` (stderr, stdout, files, syslog, `$SYS/broker/log/...`).
//!
//! A [`Log`] is `Copy`: every link keeps its own copy of the settings, and the one thing they
//! share, the opened [`Output`], is reached through a `&'static` reference (one per broker).

mod output;
pub mod topic;

pub use output::{LogError, Output};

use super::config::LogConfig;

/// What kind of line it is: picks the syslog priority and the `$SYS/broker/log` topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Lines that start with "Error:".
    Error,
    /// Lines that start with "Warning:".
    Warning,
    /// Everything else the broker says about itself and its connections.
    Notice,
    /// Per-packet lines.
    Debug,
    /// A client subscribed.
    Subscribe,
    /// A client unsubscribed.
    Unsubscribe,
}

impl Level {
    /// The level of an informational line, from the prefix the broker's messages use.
    fn of_info(line: &str) -> Level {
        if line.starts_with("Error") {
            Level::Error
        } else if line.starts_with("Warning") {
            Level::Warning
        } else {
            Level::Notice
        }
    }

    /// The topic mosquitto publishes this level's lines to with `log_dest topic`; `None` for
    /// debug lines (publishing them would log more debug lines).
    pub fn topic(self) -> Option<&'static str> {
        match self {
            Level::Error => Some("$SYS/broker/log/E"),
            Level::Warning => Some("$SYS/broker/log/W"),
            Level::Notice => Some("$SYS/broker/log/N"),
            Level::Subscribe => Some("$SYS/broker/log/M/subscribe"),
            Level::Unsubscribe => Some("$SYS/broker/log/M/unsubscribe"),
            Level::Debug => None,
        }
    }

    /// The syslog priority (facility daemon).
    fn syslog_priority(self) -> i32 {
        libc::LOG_DAEMON
            | match self {
                Level::Error => libc::LOG_ERR,
                Level::Warning => libc::LOG_WARNING,
                Level::Notice => libc::LOG_NOTICE,
                Level::Subscribe | Level::Unsubscribe => libc::LOG_INFO,
                Level::Debug => libc::LOG_DEBUG,
            }
    }
}

/// A copyable logger; each link keeps its own copy of the settings.
#[derive(Clone, Copy, Debug)]
pub struct Log(pub LogConfig);

impl Log {
    fn emit(&self, level: Level, args: std::fmt::Arguments<'_>) {
        match self.0.output {
            Some(out) => out.write(level, args),
            None => output::to_stderr(args),
        }
    }

    /// Notices, warnings and errors: the level is read from the "Error"/"Warning" prefix, and
    /// `log_type` says which levels are written.
    pub fn info(&self, args: std::fmt::Arguments<'_>) {
        let c = &self.0;
        if !(c.error || c.warning || c.info) {
            return;
        }
        let on = |level| match level {
            Level::Error => c.error,
            Level::Warning => c.warning,
            _ => c.info,
        };
        match args.as_str() {
            Some(s) if on(Level::of_info(s)) => self.emit(Level::of_info(s), args),
            Some(_) => {}
            None => {
                // Formatted once: the level is read from the text.
                let line = args.to_string();
                let level = Level::of_info(&line);
                if on(level) {
                    self.emit(level, format_args!("{line}"));
                }
            }
        }
    }

    /// Connection and disconnection lines (`connection_messages`).
    pub fn conn(&self, args: std::fmt::Arguments<'_>) {
        if self.0.info && self.0.connection_messages {
            self.emit(Level::Notice, args);
        }
    }

    /// Per-packet lines (`-v`, `log_type debug`).
    pub fn debug(&self, args: std::fmt::Arguments<'_>) {
        if self.0.debug {
            self.emit(Level::Debug, args);
        }
    }

    /// True when debug lines are written (to skip formatting them otherwise).
    pub fn debug_on(&self) -> bool {
        self.0.debug
    }

    /// Subscribe lines.
    pub fn subscribe(&self, args: std::fmt::Arguments<'_>) {
        if self.0.subscribe {
            self.emit(Level::Subscribe, args);
        }
    }

    /// Unsubscribe lines.
    pub fn unsubscribe(&self, args: std::fmt::Arguments<'_>) {
        if self.0.subscribe {
            self.emit(Level::Unsubscribe, args);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_the_message_prefix() {
        assert_eq!(Level::of_info("Error: cannot"), Level::Error);
        assert_eq!(Level::of_info("Warning: slow"), Level::Warning);
        assert_eq!(Level::of_info("mq version 1 running"), Level::Notice);
        assert_eq!(Level::Debug.topic(), None);
        assert_eq!(Level::Warning.topic(), Some("$SYS/broker/log/W"));
    }

    #[test]
    fn log_type_picks_levels_and_log_dest_file_gets_them() {
        use crate::broker::config::{LogDest, LogOutput};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mq.log");
        let out = LogOutput {
            dests: vec![LogDest::File(path.clone())],
            timestamp: false,
            timestamp_format: None,
        };
        let output = Output::open(&out).unwrap();
        let config = LogConfig {
            info: false,
            warning: false,
            output: Some(output),
            ..LogConfig::default()
        };
        let log = Log(config);
        log.info(format_args!("Error: disk {}", "full"));
        log.info(format_args!("Warning: slow"));
        log.info(format_args!("mq version 1 running"));
        log.conn(format_args!("Client x disconnected."));
        output.close();
        log.info(format_args!("Error: after close"));
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "Error: disk full\n"
        );
    }
}
