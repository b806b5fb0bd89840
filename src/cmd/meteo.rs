//! `mq meteo`: check the arguments, run [`crate::meteo::service::run`] on a current-thread
//! runtime, and turn the outcome into an exit status.
//!
//! Exit statuses (documented in `--help`): 0 everything published or unchanged; 1 usage
//! error or no API key; 2 the key was rejected (invalid or expired); 3 some products failed
//! while the rest were published; 4 the broker was unreachable or did not acknowledge.

use crate::cli::meteo::MeteoArgs;
use crate::meteo::plan::plan;
use crate::meteo::service::{self, Error, Status};
use std::process::ExitCode;

/// Everything published or nothing changed.
pub const EXIT_OK: u8 = 0;
/// Usage error, missing API key, nothing near the given point.
pub const EXIT_USAGE: u8 = 1;
/// The source rejected the API key (invalid or expired).
pub const EXIT_KEY_REJECTED: u8 = 2;
/// Some products failed; the others were published.
pub const EXIT_PARTIAL: u8 = 3;
/// The broker was unreachable or did not acknowledge.
pub const EXIT_BROKER: u8 = 4;

/// Checks the arguments and runs to the end, on a current-thread runtime.
pub fn run(args: &MeteoArgs) -> Result<Status, Error> {
    let plan = plan(args).map_err(Error::Usage)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Usage(e.to_string()))?;
    rt.block_on(service::run(plan))
}

/// The exit status of an outcome.
pub fn exit_status(outcome: &Result<Status, Error>) -> u8 {
    match outcome {
        Ok(Status::Ok) => EXIT_OK,
        Ok(Status::Partial) => EXIT_PARTIAL,
        Ok(Status::KeyRejected) => EXIT_KEY_REJECTED,
        Err(Error::Usage(_)) => EXIT_USAGE,
        Err(Error::Source(f)) if f.auth => EXIT_KEY_REJECTED,
        Err(Error::Source(_)) => EXIT_PARTIAL,
        Err(Error::Broker(_)) => EXIT_BROKER,
    }
}

/// Entry point from the binary: runs, reports a fatal error, exits with its status.
pub fn main(args: MeteoArgs) -> ExitCode {
    let outcome = run(&args);
    if let Err(e) = &outcome {
        eprintln!("Error: {e}");
    }
    ExitCode::from(exit_status(&outcome))
}
