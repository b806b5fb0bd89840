//! `mq broker`: load the config, start the broker, handle signals.

use crate::broker::config::{Config, ConfigError};
use crate::broker::{Broker, BrokerError};
use crate::cli::broker::BrokerArgs;

/// Why `mq broker` failed.
#[derive(Debug, thiserror::Error)]
pub enum BrokerCmdError {
    /// The config file is invalid.
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// The broker could not start.
    #[error("{0}")]
    Start(#[from] BrokerError),
    /// Signal handlers could not be installed.
    #[error("signals: {0}")]
    Signal(std::io::Error),
}

/// Turns the arguments into a config: the file (if any), `-p` ports, `-v`.
pub fn plan(args: &BrokerArgs) -> Result<Config, ConfigError> {
    let mut config = match &args.config {
        Some(path) => Config::from_file(path)?,
        None => Config::default(),
    };
    if config.listeners.is_empty() && !args.port.is_empty() {
        config.listeners = config.effective_listeners(&args.port);
    }
    if args.verbose {
        config.log.info = true;
        config.log.debug = true;
        config.log.subscribe = true;
    }
    Ok(config)
}

/// Exit status when a second SIGINT or SIGTERM cuts shutdown short.
pub const FORCED_EXIT: i32 = 1;

/// Runs the broker until SIGINT or SIGTERM; SIGHUP re-reads the config file. A second SIGINT
/// or SIGTERM during shutdown exits at once (status [`FORCED_EXIT`]), as an operator pressing
/// Ctrl-C twice expects.
pub async fn run(args: BrokerArgs) -> Result<(), super::Error> {
    let config = plan(&args).map_err(BrokerCmdError::from)?;
    crate::process::raise_nofile_limit();
    let mut terminated = crate::process::Terminated::new();
    let mut hup = crate::process::hangups().map_err(BrokerCmdError::Signal)?;
    let log = crate::broker::log::Log(config.log);
    let broker = Broker::bind(config).await.map_err(BrokerCmdError::from)?;
    let reloader = broker.reloader();
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            match plan(&args) {
                Ok(c) => {
                    log.info(format_args!("Reloading config."));
                    reloader.reload(&c);
                }
                Err(e) => log.info(format_args!("Error: reloading config: {e}")),
            }
        }
    });
    broker
        .run(async move {
            terminated.recv().await;
            tokio::spawn(async move {
                terminated.recv().await;
                log.info(format_args!(
                    "Second signal: exiting now, without finishing shutdown."
                ));
                std::process::exit(FORCED_EXIT);
            });
        })
        .await;
    Ok(())
}
