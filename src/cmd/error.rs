//! Why a command failed, as a value: every command returns [`Error`], and only `src/bin/mq.rs`
//! turns one into the text on stderr and the exit status (mosquitto's statuses for the clients,
//! the documented ones for the rest).

use crate::bench::{BenchError, PlanError};
use crate::cli::connect::Usage;
use crate::client::ClientError;

/// The client tool that is running, for mosquitto's "Use 'mq pub --help' to see usage."
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    /// `mq pub`
    Pub,
    /// `mq sub`
    Sub,
    /// `mq rr`
    Rr,
    /// `mq test`
    Test,
}

impl Tool {
    /// The command's name after `mq`.
    pub fn name(self) -> &'static str {
        match self {
            Tool::Pub => "pub",
            Tool::Sub => "sub",
            Tool::Rr => "rr",
            Tool::Test => "test",
        }
    }
}

/// Why a command stopped without success.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A bad argument of a client tool: `Error: ...`, a blank line and the usage hint, status 1.
    #[error("{message}")]
    Usage {
        /// The tool.
        tool: Tool,
        /// The problem, in mosquitto's words.
        message: String,
    },
    /// A failure already worded as the tool words it (one or more lines), status 1.
    #[error("{0}")]
    Failed(String),
    /// The connection could not be made or was refused (status: the CONNACK code, else 1).
    #[error("{0}")]
    Connect(ClientError),
    /// The connection was lost after CONNACK (libmosquitto's error numbers as status).
    #[error("{0}")]
    Lost(ClientError),
    /// `-W` ran out before the command was done: status 27.
    #[error("Timed out")]
    TimedOut,
    /// Every subscription of `mq sub` was refused: status 1.
    #[error("All subscription requests were denied.")]
    Denied,
    /// `mq broker` could not start or run.
    #[error("{0}")]
    Broker(#[from] super::broker::BrokerCmdError),
    /// `mq passwd` failed.
    #[error("{0}")]
    Passwd(#[from] super::passwd::PasswdError),
    /// `mq bench`'s arguments do not make a run.
    #[error("{0}")]
    BenchPlan(#[from] PlanError),
    /// `mq bench` failed.
    #[error("{0}")]
    Bench(#[from] BenchError),
    /// `mq test` could not connect at all: status 1.
    #[error("{0}")]
    Probe(#[from] crate::probe::ProbeError),
    /// `mq meteo` ended with the status it documents (its messages were logged as they came).
    #[error("exit status {0}")]
    Meteo(u8),
    /// The runtime, the terminal or a file failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// `-q`: the status of the inner error, with nothing printed.
    #[error("{0}")]
    Quiet(Box<Error>),
}

impl Error {
    /// A usage error of `tool`.
    pub fn usage(tool: Tool) -> impl Fn(Usage) -> Error + Copy {
        move |u| Error::Usage { tool, message: u.0 }
    }

    /// This error, silenced when `quiet` (`-q`) is set.
    pub fn quiet_if(self, quiet: bool) -> Error {
        if quiet {
            Error::Quiet(Box::new(self))
        } else {
            self
        }
    }
}
