//! `mq test`: the connection flags of `mq pub` (server, session, TLS), a `-V` that may name
//! every version, the time allowed per check and the output format.

use super::common::{ClientArgs, ServerArgs, TlsArgs, parse_version};
use crate::protocol::Version;
use clap::Args;
use std::time::Duration;

/// The protocol versions whose checks run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VersionChoice {
    /// One version.
    One(Version),
    /// MQTT 3.1.1 and 5.0.
    All,
}

impl VersionChoice {
    /// The versions, oldest first.
    pub fn versions(self) -> Vec<Version> {
        match self {
            VersionChoice::One(v) => vec![v],
            VersionChoice::All => vec![Version::V311, Version::V5],
        }
    }
}

/// Parses `all` or one of mosquitto's `-V` values.
pub fn parse_version_choice(s: &str) -> Result<VersionChoice, String> {
    match s {
        "all" => Ok(VersionChoice::All),
        other => parse_version(other)
            .map(VersionChoice::One)
            .map_err(|e| e.replace("(use ", "(use all, ")),
    }
}

/// Find out what a broker supports and where its limits are.
#[derive(Args, Debug, Clone)]
pub struct TestArgs {
    /// Versions whose checks run: mqttv311, mqttv5 or all (3.1.1 and 5.0; every version's
    /// acceptance is tried in any case).
    #[arg(
        short = 'V',
        long = "protocol-version",
        value_name = "VERSION",
        value_parser = parse_version_choice,
        default_value = "all"
    )]
    pub versions: VersionChoice,
    /// Time allowed for each check (seconds, or e.g. 500ms); searches stop there and report
    /// what they found so far.
    #[arg(
        short = 't',
        long = "timeout",
        value_name = "SECONDS",
        value_parser = super::bench::parse_duration,
        default_value = "5"
    )]
    pub per_check: Duration,
    /// One JSON object per check per line.
    #[arg(long = "json")]
    pub json: bool,
    /// First level of every test topic (a random level follows it), for brokers whose ACLs
    /// allow only some topics.
    #[arg(long = "topic-prefix", value_name = "TOPIC", default_value = "mq-test")]
    pub topic_prefix: String,
    /// Connection options.
    #[command(flatten)]
    pub server: ServerArgs,
    /// Session and diagnostics options.
    #[command(flatten)]
    pub client: ClientArgs,
    /// TLS options.
    #[command(flatten)]
    pub tls: TlsArgs,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_choice_accepts_all_and_mosquitto_names() {
        assert_eq!(parse_version_choice("all"), Ok(VersionChoice::All));
        assert_eq!(
            parse_version_choice("mqttv5"),
            Ok(VersionChoice::One(Version::V5))
        );
        assert_eq!(
            parse_version_choice("311").map(VersionChoice::versions),
            Ok(vec![Version::V311])
        );
        let e = parse_version_choice("6").unwrap_err();
        assert!(e.contains("all, mqttv31"), "{e}");
        assert_eq!(
            VersionChoice::All.versions(),
            vec![Version::V311, Version::V5]
        );
    }
}
