//! `mq meteo`: check the arguments into a plan and run [`crate::meteo::service::run`]; the
//! logic is in [`crate::meteo`], the outcome's exit status is decided in [`exit_status`].
//!
//! Exit statuses (documented in `--help`): 0 everything published or unchanged; 1 usage
//! error or no API key; 2 the key was rejected (invalid or expired); 3 some products failed
//! while the rest were published; 4 the broker was unreachable or did not acknowledge.

use crate::cli::meteo::MeteoArgs;
use crate::meteo::plan::plan;
use crate::meteo::service::{self, Error, Status};

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

/// Runs `mq meteo`. Failures of single products are logged as they happen; what ends the run
/// early is reported here; the status says which.
pub async fn run(args: MeteoArgs) -> Result<(), super::Error> {
    let plan = plan(&args).map_err(|e| super::Error::Failed(format!("Error: {e}")))?;
    let outcome = service::run(plan).await;
    if let Err(e) = &outcome {
        crate::meteo::log::error(e);
    }
    match exit_status(&outcome) {
        EXIT_OK => Ok(()),
        status => Err(super::Error::Meteo(status)),
    }
}
