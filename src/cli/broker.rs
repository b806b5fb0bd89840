//! `mq broker` arguments, as mosquitto's.

use clap::Args;
use std::path::PathBuf;

/// Run an MQTT broker (mosquitto-compatible options and config file).
#[derive(Args, Debug, Clone)]
pub struct BrokerArgs {
    /// Load configuration from a mosquitto.conf-style file.
    #[arg(short = 'c', long = "config-file", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Listen on this port on the loopback address (repeatable; ignored when the config file
    /// defines listeners).
    #[arg(short = 'p', long = "port", value_name = "PORT")]
    pub port: Vec<u16>,
    /// Verbose logging: every log type.
    #[arg(short = 'v', long = "verbose")]
    pub verbose: bool,
    /// Check the config file (with its included files, password and ACL files) and exit:
    /// status 0 when it is valid, 1 with the problem otherwise.
    #[arg(long = "test-config")]
    pub test_config: bool,
}
