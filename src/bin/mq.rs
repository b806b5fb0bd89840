//! The `mq` binary: parse the command line, build the runtime, dispatch, and turn errors into
//! exit statuses. Usage errors exit 1, as mosquitto's tools do.

use clap::Parser;
use mq::cli::{Cli, Command};
use std::ffi::OsString;
use std::process::ExitCode;

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
    let args = mq::cmd::options_file::with_options_file(args());
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            if let Some(code) = mq::cmd::options_file::report_clap_error(&e, &args) {
                return code;
            }
            let _ = e.print();
            return match e.kind() {
                // mosquitto_pub/sub/rr exit 1 after --help; so do their mq twins.
                clap::error::ErrorKind::DisplayHelp
                    if mq::cmd::options_file::client_command(&args).is_some() =>
                {
                    ExitCode::from(1)
                }
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(1),
            };
        }
    };
    match cli.command {
        Command::Broker(args) => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build();
            match rt.map_err(|e| e.to_string()).and_then(|rt| {
                rt.block_on(mq::cmd::broker::run(&args))
                    .map_err(|e| e.to_string())
            }) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("Error: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Command::Passwd(args) => match mq::cmd::passwd::run(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{e}");
                ExitCode::from(1)
            }
        },
        Command::Pub(a) => current_thread(mq::cmd::publish::run(a)),
        Command::Sub(a) => current_thread(mq::cmd::subscribe::run(a)),
        Command::Rr(a) => current_thread(mq::cmd::rr::run(a)),
        Command::Meteo(args) => mq::cmd::meteo::main(*args),
        Command::Bench(args) => match mq::cmd::bench::prepare(&args) {
            Err(code) => code,
            Ok(job) => match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt.block_on(job.run()),
                Err(e) => {
                    eprintln!("Error: {e}");
                    ExitCode::from(1)
                }
            },
        },
        Command::GenerateDocs { out } => match mq::cli::docs::write_all(&out) {
            Ok(n) => {
                eprintln!("wrote {n} files under {}", out.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("Error: {e}");
                ExitCode::from(1)
            }
        },
    }
}

/// Runs a short-lived client command on a single-threaded runtime.
fn current_thread(f: impl std::future::Future<Output = ExitCode>) -> ExitCode {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(f),
        Err(e) => {
            eprintln!("Error: {e}");
            ExitCode::from(1)
        }
    }
}
