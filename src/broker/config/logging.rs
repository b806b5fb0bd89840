//! The logging options: `log_type`, `log_dest`, `connection_messages`.

use super::Parser;

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

impl Parser<'_> {
    pub(super) fn log_type(&mut self, value: &str) -> Result<(), String> {
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
}
