//! `mq sub`: mosquitto_sub's flags, plus `--json`.

use super::common::{
    ClientArgs, OutputArgs, ServerArgs, TlsArgs, VersionArgs, WillArgs, parse_qos,
};
use crate::protocol::QoS;
use clap::Args;

/// Subscribe to topics and print the messages.
#[derive(Args, Debug, Clone)]
#[command(args_override_self = true)]
pub struct SubArgs {
    /// Topic filter to subscribe to (repeatable).
    #[arg(short = 't', long = "topic", action = clap::ArgAction::Append)]
    pub topic: Vec<String>,
    /// Do not print messages whose topic matches this filter (repeatable).
    #[arg(short = 'T', long = "filter-out", action = clap::ArgAction::Append)]
    pub filter_out: Vec<String>,
    /// Unsubscribe from this filter after subscribing (repeatable).
    #[arg(short = 'U', long = "unsubscribe", action = clap::ArgAction::Append)]
    pub unsubscribe: Vec<String>,
    /// Requested QoS of the subscriptions.
    #[arg(short = 'q', long = "qos", value_parser = parse_qos, default_value = "0")]
    pub qos: QoS,
    /// Exit after this many messages.
    #[arg(short = 'C', value_name = "COUNT")]
    pub count: Option<i64>,
    /// Exit after this many seconds (status 27).
    #[arg(short = 'W', value_name = "SECS")]
    pub timeout: Option<i64>,
    /// Do not print retained messages.
    #[arg(short = 'R')]
    pub no_retained: bool,
    /// Only print retained messages; exit at the first live one.
    #[arg(long = "retained-only")]
    pub retained_only: bool,
    /// Clear every retained message received.
    #[arg(long = "remove-retained")]
    pub remove_retained: bool,
    /// Exit right after the subscription is acknowledged.
    #[arg(short = 'E')]
    pub exit_after_sub: bool,
    /// Print only this percentage of messages, chosen at random (0.1 to 100).
    #[arg(long = "random-filter", value_name = "PERCENT")]
    pub random_filter: Option<f64>,
    /// v5: keep the retain flag as published.
    #[arg(long = "retain-as-published")]
    pub retain_as_published: bool,
    /// Output options.
    #[command(flatten)]
    pub output: OutputArgs,
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
