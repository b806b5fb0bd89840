//! `mq rr`: mosquitto_rr's flags (MQTT v5 request/response).

use super::common::{
    ClientArgs, OutputArgs, ServerArgs, TlsArgs, VersionArgs, WillArgs, parse_qos,
};
use crate::protocol::QoS;
use clap::Args;
use std::path::PathBuf;

/// Publish a request and print the first response.
#[derive(Args, Debug, Clone)]
#[command(args_override_self = true)]
pub struct RrArgs {
    /// Response topic to subscribe to and name in the request.
    #[arg(short = 'e', long = "response-topic")]
    pub response_topic: Option<String>,
    /// Request topic.
    #[arg(short = 't', long = "topic")]
    pub topic: Option<String>,
    /// Request payload.
    #[arg(short = 'm', long = "message", allow_hyphen_values = true)]
    pub message: Option<String>,
    /// Send the whole file as the request.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Send all of stdin as the request.
    #[arg(short = 's', long = "stdin-file")]
    pub stdin_file: bool,
    /// Send a zero-length request.
    #[arg(short = 'n', long = "null-message")]
    pub null_message: bool,
    /// QoS of the request and of the response subscription.
    #[arg(short = 'q', long = "qos", value_parser = parse_qos, default_value = "0")]
    pub qos: QoS,
    /// Give up after this many seconds (status 27).
    #[arg(short = 'W', value_name = "SECS")]
    pub timeout: Option<i64>,
    /// Ignore retained responses.
    #[arg(short = 'R')]
    pub no_retained: bool,
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
