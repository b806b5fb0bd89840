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

/// Raises the open-file limit to its hard maximum: every connection is a descriptor, and the
/// usual soft default of 1024 would cap the broker far below what it can serve.
fn raise_fd_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid pointer to a local rlimit struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

/// Runs the broker until SIGINT or SIGTERM; SIGHUP re-reads the config file.
pub async fn run(args: &BrokerArgs) -> Result<(), BrokerCmdError> {
    use tokio::signal::unix::{SignalKind, signal};
    let config = plan(args)?;
    raise_fd_limit();
    let mut term = signal(SignalKind::terminate()).map_err(BrokerCmdError::Signal)?;
    let mut int = signal(SignalKind::interrupt()).map_err(BrokerCmdError::Signal)?;
    let mut hup = signal(SignalKind::hangup()).map_err(BrokerCmdError::Signal)?;
    let log = crate::broker::log::Log(config.log);
    let broker = Broker::bind(config).await?;
    let reloader = broker.reloader();
    let args = args.clone();
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
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        })
        .await;
    Ok(())
}
