//! The `mq` binary: parse the command line, build the runtime, run the command, and turn its
//! error into a message and an exit status. This file is the only place that chooses exit
//! statuses; mosquitto's clients define those of `pub`, `sub` and `rr`.

use clap::Parser;
use clap::error::ErrorKind;
use mq::cli::Cli;
use mq::cli::options_file::{self, UnknownOption};
use mq::client::{ClientError, refusal_code};
use mq::cmd::Error;
use mq::protocol::ReasonCode;
use mq::transport::TransportError;
use std::ffi::OsString;
use std::process::ExitCode;

/// jemalloc rather than the system allocator: its size classes hold the broker's many small,
/// long-lived per-connection blocks (cache-line aligned ones included) with no chunk headers
/// or alignment padding, about a third less memory per idle connection than glibc's malloc.
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn args() -> Vec<OsString> {
    let mut args: Vec<OsString> = std::env::args_os().collect();
    let argv0 = args.first().and_then(|a| a.to_str()).unwrap_or("mq");
    if let Some(sub) = mq::cli::multicall_command(argv0) {
        args[0] = "mq".into();
        args.insert(1, sub.into());
    }
    args
}

fn main() -> ExitCode {
    // One process-wide TLS provider (ring) for rustls, tokio-rustls and reqwest.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args = options_file::with_options_file(args());
    let command = match Cli::try_parse_from(&args) {
        Ok(cli) => cli.command,
        Err(e) => return usage_error(&e, &args),
    };
    let result = runtime(mq::cmd::multi_threaded(&command))
        .map_err(Error::Io)
        .and_then(|rt| rt.block_on(mq::cmd::run(command)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let (message, status) = report(&e);
            if let Some(m) = message {
                eprintln!("{m}");
            }
            ExitCode::from(status)
        }
    }
}

/// The one runtime builder: all cores for the broker and the load generator, one thread for
/// the clients.
fn runtime(multi_threaded: bool) -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = if multi_threaded {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    // SIGHUP is taken by the main thread only, so a worker that reads a CONNECT can see one
    // still waiting for its handler (mq::broker::reloads).
    builder
        .on_thread_start(mq::process::block_hangups_in_this_thread)
        .enable_all()
        .build()
}

/// Argument errors exit 1, as mosquitto's tools do; `--help` and `--version` exit 0, except
/// for the mosquitto twins (mosquitto_pub/sub/rr exit 1 after their help).
fn usage_error(e: &clap::Error, args: &[OsString]) -> ExitCode {
    match options_file::unknown_option(e, args) {
        Some(UnknownOption::Version(text)) => println!("{text}"),
        Some(UnknownOption::Other(text)) => eprintln!("{text}"),
        None => {
            let _ = e.print();
            let client = options_file::client_command(args).is_some();
            match e.kind() {
                ErrorKind::DisplayHelp if client => {}
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => return ExitCode::SUCCESS,
                _ => {}
            }
        }
    }
    ExitCode::from(1)
}

/// The message (if any) and the exit status of `e`.
fn report(e: &Error) -> (Option<String>, u8) {
    match e {
        Error::Quiet(inner) => (None, report(inner).1),
        Error::Usage { tool, message } => (
            Some(format!(
                "Error: {message}\n\nUse 'mq {} --help' to see usage.",
                tool.name()
            )),
            1,
        ),
        Error::Failed(text) => (Some(text.clone()), 1),
        Error::Connect(c) => connect_failure(c),
        Error::Lost(c) => match c {
            ClientError::Closed => (None, 0),
            // libmosquitto's MOSQ_ERR_KEEPALIVE, MOSQ_ERR_PROTOCOL, MOSQ_ERR_CONN_LOST.
            ClientError::KeepAlive => (Some(format!("Error: {c}")), 19),
            ClientError::Protocol(_) => (Some(format!("Error: {c}")), 2),
            _ => (Some(format!("Error: {c}")), 7),
        },
        Error::TimedOut => (Some(e.to_string()), 27),
        Error::Denied => (Some(e.to_string()), 1),
        Error::Broker(b) => (Some(format!("Error: {b}")), 1),
        Error::Passwd(p) => (Some(p.to_string()), 1),
        Error::BenchPlan(p) => (Some(format!("Error: {p}")), 1),
        Error::Probe(p) => (Some(format!("Error: {p}")), 1),
        Error::Bench(b) => (
            Some(format!("Error: {b}")),
            match b {
                mq::bench::BenchError::Refused { code, .. } => *code,
                _ => 1,
            },
        ),
        // Its messages were logged as they happened.
        Error::Meteo(status) => (None, *status),
        Error::Io(io) => (Some(format!("Error: {io}")), 1),
    }
}

/// A connection that could not be made, worded as mosquitto's clients word it; a refused
/// CONNECT exits with its CONNACK code.
fn connect_failure(e: &ClientError) -> (Option<String>, u8) {
    match e {
        ClientError::Refused { version, reason } => {
            let code = refusal_code(*version, *reason);
            let text = if version.is_v5() {
                reason.description().to_string()
            } else {
                ReasonCode::v3_connack_text(code).to_string()
            };
            (Some(format!("Connection error: {text}")), code)
        }
        ClientError::Transport(t) => match t.as_ref() {
            TransportError::Resolve { .. } => {
                (Some("Unable to connect (Lookup error.).".into()), 1)
            }
            TransportError::Connect(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
                (Some("Error: Connection refused".into()), 1)
            }
            // libmosquitto's MOSQ_ERR_TLS, and MOSQ_ERR_CONN_LOST for a TLS port that hangs
            // up on plain MQTT; the words say which check failed.
            TransportError::Handshake(_) => (Some(format!("Error: {t}")), 8),
            TransportError::ExpectsTls => (Some(format!("Error: {t}")), 7),
            other => (Some(format!("Error: {other}")), 1),
        },
        other => (Some(format!("Error: {other}")), 1),
    }
}
