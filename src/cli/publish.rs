//! `mq pub`: mosquitto_pub's flags.

use super::common::{ClientArgs, ServerArgs, TlsArgs, VersionArgs, WillArgs, parse_qos};
use crate::protocol::QoS;
use clap::Args;
use std::path::PathBuf;

/// Publish one message, a file, stdin, or stdin line by line.
#[derive(Args, Debug, Clone)]
#[command(args_override_self = true)]
pub struct PubArgs {
    /// Topic to publish to (a later -t replaces an earlier one).
    #[arg(short = 't', long = "topic")]
    pub topic: Option<String>,
    /// Message payload.
    #[arg(short = 'm', long = "message", allow_hyphen_values = true)]
    pub message: Option<String>,
    /// Send the whole file as one message.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Send all of stdin as one message.
    #[arg(short = 's', long = "stdin-file")]
    pub stdin_file: bool,
    /// Send each line of stdin as a message.
    #[arg(short = 'l', long = "stdin-line")]
    pub stdin_line: bool,
    /// Send a zero-length message.
    #[arg(short = 'n', long = "null-message")]
    pub null_message: bool,
    /// Quality of service: 0, 1 or 2.
    #[arg(short = 'q', long = "qos", value_parser = parse_qos, default_value = "0")]
    pub qos: QoS,
    /// Retain the message.
    #[arg(short = 'r', long = "retain")]
    pub retain: bool,
    /// The -m message (or each -l line) is hexadecimal: publish the bytes it spells.
    #[arg(long = "hex")]
    pub hex: bool,
    /// Publish the message this many times.
    #[arg(long = "repeat", value_name = "COUNT")]
    pub repeat: Option<i64>,
    /// Seconds to wait between repeats (may be fractional).
    #[arg(long = "repeat-delay", value_name = "SECS")]
    pub repeat_delay: Option<f64>,
    /// Connection options.
    #[command(flatten)]
    pub server: ServerArgs,
    /// Protocol version.
    #[command(flatten)]
    pub version: VersionArgs,
    /// Session and diagnostics options.
    #[command(flatten)]
    pub client: ClientArgs,
    /// TLS options.
    #[command(flatten)]
    pub tls: TlsArgs,
    /// Last Will options.
    #[command(flatten)]
    pub will: WillArgs,
}

#[cfg(test)]
mod tests {
    use crate::cli::Cli;
    use clap::{CommandFactory, Parser};

    #[test]
    fn client_commands_are_consistent_clap_definitions() {
        Cli::command().debug_assert();
    }

    #[test]
    fn later_values_replace_earlier_ones_and_aliases_work() {
        let cli = Cli::try_parse_from([
            "mq", "publish", "-t", "a", "-t", "b", "-m", "x", "-p", "1", "-p", "2",
        ])
        .unwrap();
        match cli.command {
            crate::cli::Command::Pub(a) => {
                assert_eq!(a.topic.as_deref(), Some("b"));
                assert_eq!(a.server.port, Some(2));
            }
            other => panic!("{other:?}"),
        }
        let cli = Cli::try_parse_from([
            "mq",
            "subscribe",
            "-t",
            "a",
            "-t",
            "b",
            "-D",
            "subscribe",
            "user-property",
            "k",
            "v",
        ])
        .unwrap();
        match cli.command {
            crate::cli::Command::Sub(a) => {
                assert_eq!(a.topic, ["a", "b"]);
                assert_eq!(a.client.property, ["subscribe", "user-property", "k", "v"]);
            }
            other => panic!("{other:?}"),
        }
    }
}
