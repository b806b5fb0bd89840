//! `mq bench`: the load generator's command line. Flags follow emqtt-bench where they do not
//! clash with mosquitto's (`-h` host, `-p` port, `-u`/`-P` credentials, `-V` protocol version).

use super::common::{ServerArgs, TlsArgs, VersionArgs, parse_qos};
use crate::protocol::QoS;
use clap::{Args, ValueEnum};
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// What the generator does with its clients.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// Open `-c` connections and hold them for `-d`.
    Conn,
    /// `-c` publishers.
    Pub,
    /// `-c` subscribers.
    Sub,
    /// Publishers and subscribers in one process, for end-to-end latency.
    Pubsub,
}

/// Arguments of `mq bench`.
#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// Scenario: conn, pub, sub or pubsub.
    #[arg(value_enum)]
    pub scenario: Scenario,
    /// Broker address, credentials and protocol version.
    #[command(flatten)]
    pub server: ServerArgs,
    /// Protocol version.
    #[command(flatten)]
    pub version: VersionArgs,
    /// TLS (`--cafile` and friends).
    #[command(flatten)]
    pub tls: TlsArgs,
    /// Number of clients (publishers in pubsub).
    #[arg(short = 'c', long = "count", default_value_t = 1)]
    pub count: u32,
    /// Subscribers in pubsub (default: as many as publishers).
    #[arg(long = "subscribers", value_name = "N")]
    pub subscribers: Option<u32>,
    /// Extra subscribers in pubsub that read their socket slowly (see --slow-read-rate); their
    /// deliveries are counted apart and never hold the publishers back.
    #[arg(long = "slow-subscribers", value_name = "N", default_value_t = 0)]
    pub slow_subscribers: u32,
    /// Bytes per second each slow subscriber reads from its socket.
    #[arg(
        long = "slow-read-rate",
        value_name = "BYTES",
        default_value_t = 1_000_000
    )]
    pub slow_read_rate: u64,
    /// Connections started per second (0: as fast as the broker accepts them).
    #[arg(long = "rate", default_value_t = 0.0)]
    pub rate: f64,
    /// Topic template: %i is the client number, %c the client id.
    #[arg(short = 't', long = "topic", default_value = "bench/%i")]
    pub topic: String,
    /// Subscription filter template for subscribers (default: the -t template).
    #[arg(long = "sub-topic", value_name = "FILTER")]
    pub sub_topic: Option<String>,
    /// Payload size in bytes; payloads of at least 12 bytes start with the send time, from
    /// which subscribers measure latency (smaller ones are not measured).
    #[arg(short = 's', long = "size", default_value_t = 64)]
    pub size: usize,
    /// Payload template instead of -s: %i is the client number, %n the message's sequence
    /// number (from 1), %% a percent sign. The 12-byte send time comes first, so latency is
    /// still measured.
    #[arg(short = 'm', long = "message", value_name = "TEMPLATE", conflicts_with_all = ["size", "payload_file"])]
    pub message: Option<String>,
    /// Payload template read from a file (as -m).
    #[arg(long = "payload-file", value_name = "FILE", conflicts_with = "size")]
    pub payload_file: Option<PathBuf>,
    /// QoS of publications and subscriptions.
    #[arg(short = 'q', long = "qos", value_parser = parse_qos, default_value = "0")]
    pub qos: QoS,
    /// Interval between publishes of one client (e.g. 1s, 10ms; 0: as fast as --inflight allows).
    #[arg(short = 'I', long = "interval", value_parser = parse_duration, default_value = "1s",
          conflicts_with = "msg_rate")]
    pub interval: Duration,
    /// Total messages per second over all publishers (overrides -I).
    #[arg(long = "msg-rate", value_name = "RATE")]
    pub msg_rate: Option<f64>,
    /// Stop after this many messages in total (sent by publishers, received in `sub`).
    #[arg(short = 'L', long = "limit")]
    pub limit: Option<u64>,
    /// Run this long once every client is connected (e.g. 30s, 2m).
    #[arg(short = 'd', long = "duration", value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Most unacknowledged QoS 1/2 messages per publisher.
    #[arg(long = "inflight", default_value_t = 16)]
    pub inflight: u16,
    /// Keepalive in seconds.
    #[arg(short = 'k', long = "keepalive", default_value_t = 60)]
    pub keepalive: u16,
    /// Start clean sessions (default).
    #[arg(long = "clean", overrides_with = "no_clean")]
    pub clean: bool,
    /// Keep sessions (clean session / clean start off).
    #[arg(long = "no-clean", overrides_with = "clean")]
    pub no_clean: bool,
    /// Client id prefix (default: mqbench-PID-).
    #[arg(long = "prefix")]
    pub prefix: Option<String>,
    /// Number of the first client.
    #[arg(long = "start-number", default_value_t = 1)]
    pub start_number: u32,
    /// Local addresses to spread connections over, comma separated.
    #[arg(long = "ifaddr", value_delimiter = ',')]
    pub ifaddr: Vec<IpAddr>,
    /// Seconds to wait for a TCP connection and its CONNACK.
    #[arg(long = "connect-timeout", value_parser = parse_duration, default_value = "10s")]
    pub connect_timeout: Duration,
    /// Print the summary as one JSON object.
    #[arg(long = "json")]
    pub json: bool,
    /// Print one JSON line per second on stdout.
    #[arg(long = "json-every-second")]
    pub json_every_second: bool,
    /// No per-second output.
    #[arg(long = "quiet")]
    pub quiet: bool,
    /// Write the end-to-end latency distribution to FILE in HdrHistogram's percentile format
    /// (.hgrm, milliseconds), and beside it FILE-ack (PUBLISH to PUBACK/PUBCOMP, when
    /// publishing at QoS 1 or 2) and FILE-connect (TCP connect to CONNACK).
    #[arg(long = "hdr-out", value_name = "FILE")]
    pub hdr_out: Option<PathBuf>,
    /// Write one CSV row per second to FILE: counters, rates and that second's latency
    /// percentiles (microseconds).
    #[arg(long = "csv", value_name = "FILE")]
    pub csv: Option<PathBuf>,
}

/// Parses `10`, `10s`, `250ms`, `2m`, `1.5s` (a bare number is seconds).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("invalid duration '{s}' (e.g. 10s, 250ms, 2m)"))?;
    let secs = match unit {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "us" => value / 1_000_000.0,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        _ => {
            return Err(format!(
                "invalid duration unit in '{s}' (use ms, s, m or h)"
            ));
        }
    };
    Duration::try_from_secs_f64(secs).map_err(|_| format!("duration out of range: '{s}'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_accept_units_and_bare_seconds() {
        assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("5 parsecs").is_err());
    }
}
