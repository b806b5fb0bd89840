//! The command line: clap definitions kept in the library so that man pages, completions and
//! tests can reach [`Cli::command`].
//!
//! mosquitto's conventions rule: `-h` is the host and `-V` the protocol version, so clap's own
//! short help and version flags are off and `--help`/`--version` are long-only.

pub mod bench;
pub mod broker;
pub mod common;
pub mod connect;
pub mod docs;
pub mod meteo;
pub mod options_file;
pub mod passwd;
pub mod properties;
pub mod publish;
pub mod rr;
pub mod subscribe;
pub mod test;

use clap::{CommandFactory, Parser, Subcommand};
use std::path::PathBuf;

pub use common::{ClientArgs, OutputArgs, ServerArgs, TlsArgs, WillArgs};

/// mq: MQTT broker, clients, AEMET weather publisher and load generator.
#[derive(Parser, Debug)]
#[command(
    name = "mq",
    version,
    disable_help_flag = true,
    disable_version_flag = true,
    propagate_version = true,
    subcommand_required = true,
    arg_required_else_help = true
)]
pub struct Cli {
    /// Print help.
    #[arg(long = "help", action = clap::ArgAction::Help, global = true)]
    pub help: Option<bool>,
    /// Print version.
    #[arg(long = "version", action = clap::ArgAction::Version)]
    pub version: Option<bool>,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Every `mq` command.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run an MQTT broker.
    Broker(broker::BrokerArgs),
    /// Manage a mosquitto password file (mosquitto_passwd's interface).
    Passwd(passwd::PasswdArgs),
    /// Publish a message (mosquitto_pub).
    #[command(alias = "publish", disable_help_flag = true)]
    Pub(publish::PubArgs),
    /// Subscribe and print messages (mosquitto_sub).
    #[command(alias = "subscribe", disable_help_flag = true)]
    Sub(subscribe::SubArgs),
    /// Send a request and print the response (mosquitto_rr).
    #[command(disable_help_flag = true)]
    Rr(rr::RrArgs),
    /// Publish AEMET forecasts and observations over MQTT.
    Meteo(Box<meteo::MeteoArgs>),
    /// Load-test a broker: hold connections, publish, subscribe, measure.
    Bench(Box<bench::BenchArgs>),
    /// Find out what a broker supports and where its limits are.
    Test(Box<test::TestArgs>),
    /// Regenerate the man pages and shell completions from these definitions.
    #[command(hide = true)]
    GenerateDocs {
        /// Directory that receives `man/` and `completions/`.
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
}

/// The subcommand a multicall link named `mq-<name>` runs, if `argv0` is such a link.
pub fn multicall_command(argv0: &str) -> Option<String> {
    let name = std::path::Path::new(argv0).file_name()?.to_str()?;
    let sub = name.strip_prefix("mq-")?;
    Cli::command()
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .find(|c| c.get_name() == sub || c.get_all_aliases().any(|a| a == sub))
        .map(|c| c.get_name().to_string())
}
