//! One module per command, all of one shape: `pub async fn run(args) -> Result<(), Error>`.
//!
//! A command checks its arguments into a plan before any network I/O, runs it, and returns
//! either success or an [`Error`] that says why it stopped. It never picks an exit status
//! itself: `src/bin/mq.rs` is the one place that turns an [`Error`] into a message and a
//! status (mosquitto's for the clients), so the statuses are documented and tested in one spot.
//! Diagnostics that do not end the command (warnings, `-d` traces, service logs) are printed
//! where they happen.

pub mod bench;
pub mod broker;
pub mod docs;
mod error;
pub mod meteo;
pub mod passwd;
pub mod publish;
pub mod rr;
pub mod subscribe;
pub mod test;

pub use error::{Error, Tool};

use crate::cli::Command;

/// Whether `command` wants a multi-threaded runtime (the broker and the load generator use
/// every core; the clients and `mq meteo` are one connection each and start faster on one
/// thread).
pub fn multi_threaded(command: &Command) -> bool {
    matches!(command, Command::Broker(_) | Command::Bench(_))
}

/// Runs `command` to its end.
pub async fn run(command: Command) -> Result<(), Error> {
    match command {
        Command::Broker(args) => broker::run(args).await,
        Command::Passwd(args) => passwd::run(args).await,
        Command::Pub(args) => publish::run(args).await,
        Command::Sub(args) => subscribe::run(args).await,
        Command::Rr(args) => rr::run(args).await,
        Command::Meteo(args) => meteo::run(*args).await,
        Command::Bench(args) => bench::run(args).await,
        Command::Test(args) => test::run(args).await,
        Command::GenerateDocs { out } => docs::run(out).await,
    }
}
