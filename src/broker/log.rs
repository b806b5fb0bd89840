//! Broker log lines in mosquitto's style: `<epoch seconds>: <message>`.

use super::config::{LogConfig, LogDest};
use std::io::Write;

/// A copyable logger; each link keeps its own copy of the settings.
#[derive(Clone, Copy, Debug)]
pub struct Log(pub LogConfig);

impl Log {
    fn emit(&self, args: std::fmt::Arguments<'_>) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        // A closed log stream must not take the broker down, so write errors are ignored.
        match self.0.dest {
            LogDest::Stderr => {
                let _ = writeln!(std::io::stderr().lock(), "{now}: {args}");
            }
            LogDest::Stdout => {
                let _ = writeln!(std::io::stdout().lock(), "{now}: {args}");
            }
            LogDest::None => {}
        }
    }

    /// Notices, warnings and errors.
    pub fn info(&self, args: std::fmt::Arguments<'_>) {
        if self.0.info {
            self.emit(args);
        }
    }

    /// Connection and disconnection lines (`connection_messages`).
    pub fn conn(&self, args: std::fmt::Arguments<'_>) {
        if self.0.info && self.0.connection_messages {
            self.emit(args);
        }
    }

    /// Per-packet lines (`-v`, `log_type debug`).
    pub fn debug(&self, args: std::fmt::Arguments<'_>) {
        if self.0.debug {
            self.emit(args);
        }
    }

    /// True when debug lines are written (to skip formatting them otherwise).
    pub fn debug_on(&self) -> bool {
        self.0.debug
    }

    /// Subscribe/unsubscribe lines.
    pub fn subscribe(&self, args: std::fmt::Arguments<'_>) {
        if self.0.subscribe {
            self.emit(args);
        }
    }
}
