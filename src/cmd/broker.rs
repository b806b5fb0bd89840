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
    /// `pid_file` could not be written.
    #[error("cannot write pid file {}: {source}", path.display())]
    PidFile {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Running as root, the broker could not become its `user`.
    #[error("cannot drop privileges to user '{user}': {reason}")]
    User {
        /// The `user` option.
        user: String,
        /// Why.
        reason: String,
    },
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
        (config.log.error, config.log.warning, config.log.info) = (true, true, true);
        config.log.debug = true;
        config.log.subscribe = true;
    }
    Ok(config)
}

/// `--test-config`: the file parsed; its password and ACL files must load too.
fn test_config(config: &Config) -> Result<(), super::Error> {
    let listeners = config.effective_listeners(&[]);
    crate::broker::security::policy(config, &listeners)
        .map_err(|e| BrokerCmdError::Start(e.into()))?;
    if let Some(path) = &config.source {
        println!("{}: configuration OK", path.display());
    }
    Ok(())
}

/// The pid file, removed when the broker ends (if it still may: after dropping privileges the
/// directory may not be writable, as with mosquitto).
struct PidFile(std::path::PathBuf);

impl PidFile {
    fn write(path: std::path::PathBuf) -> Result<PidFile, BrokerCmdError> {
        match std::fs::write(&path, format!("{}\n", std::process::id())) {
            Ok(()) => Ok(PidFile(path)),
            Err(source) => Err(BrokerCmdError::PidFile { path, source }),
        }
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Started as root, becomes `user` (unless it is `root`). mosquitto's default user,
/// `mosquitto`, falls back to `nobody` when it does not exist; any other missing user is an
/// error. The store file, opened as root, is handed to that user first: it is reopened after a
/// failed write, and mosquitto's own store belongs to that user too.
fn drop_privileges(
    user: &str,
    store: Option<&std::path::Path>,
    log: crate::broker::log::Log,
) -> Result<(), BrokerCmdError> {
    use crate::account;
    if !account::is_root() || user == "root" {
        return Ok(());
    }
    let fail = |reason: String| BrokerCmdError::User {
        user: user.to_string(),
        reason,
    };
    let found = account::lookup(user).map_err(|e| fail(e.to_string()))?;
    let target = match found {
        Some(a) => a,
        None if user == "mosquitto" => {
            log.info(format_args!(
                "Warning: Unable to drop privileges to 'mosquitto' because this user does not \
                 exist. Trying 'nobody' instead."
            ));
            account::lookup("nobody")
                .map_err(|e| fail(e.to_string()))?
                .ok_or_else(|| fail("neither it nor 'nobody' exists".into()))?
        }
        None => return Err(fail("this user does not exist".into())),
    };
    if let Some(path) = store {
        if let Err(e) = std::os::unix::fs::chown(path, Some(target.uid), Some(target.gid)) {
            log.info(format_args!(
                "Warning: cannot give {} to user '{}': {e}.",
                path.display(),
                target.name
            ));
        }
    }
    account::become_user(&target).map_err(|e| fail(e.to_string()))
}

/// Tells systemd the broker is ready (`Type=notify`, as Debian's mosquitto unit uses), when
/// started by it.
fn notify_systemd() {
    use std::os::unix::net::{SocketAddr, UnixDatagram};
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let path = path.to_string_lossy().into_owned();
    let addr = match path.strip_prefix('@') {
        Some(name) => {
            use std::os::linux::net::SocketAddrExt;
            SocketAddr::from_abstract_name(name.as_bytes())
        }
        None => SocketAddr::from_pathname(&path),
    };
    if let (Ok(addr), Ok(socket)) = (addr, UnixDatagram::unbound()) {
        let _ = socket.send_to_addr(b"READY=1", &addr);
    }
}

/// Exit status when a second SIGINT or SIGTERM cuts shutdown short.
pub const FORCED_EXIT: i32 = 1;

/// Runs the broker until SIGINT or SIGTERM; SIGHUP re-reads the config file. A second SIGINT
/// or SIGTERM during shutdown exits at once (status [`FORCED_EXIT`]), as an operator pressing
/// Ctrl-C twice expects.
pub async fn run(args: BrokerArgs) -> Result<(), super::Error> {
    let config = plan(&args).map_err(BrokerCmdError::from)?;
    if args.test_config {
        return test_config(&config);
    }
    crate::process::raise_nofile_limit();
    let mut terminated = crate::process::Terminated::new();
    // Counted first, so the count is there when the reload task wakes (see broker::reloads).
    crate::process::count_hangups(crate::broker::reloads::count_hangup)
        .map_err(BrokerCmdError::Signal)?;
    let mut hup = crate::process::hangups().map_err(BrokerCmdError::Signal)?;
    let (pid_file, user) = (config.pid_file.clone(), config.user.clone());
    let store = config.persistence.then(|| config.store_path());
    let broker = Broker::bind(config).await.map_err(BrokerCmdError::from)?;
    // Broker::bind opened the log destinations: lines from here on go there.
    let log = broker.log();
    let _pid = match pid_file {
        Some(path) => Some(PidFile::write(path)?),
        None => None,
    };
    // As mosquitto: sockets, log files, the store and the pid file are open; now give up root.
    drop_privileges(&user, store.as_deref(), log)?;
    notify_systemd();
    let reloader = broker.reloader();
    let router = broker.router();
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            let upto = router.reloads.pending();
            match plan(&args) {
                Ok(c) => {
                    log.info(format_args!("Reloading config."));
                    reloader.reload(&c);
                }
                Err(e) => log.info(format_args!("Error: reloading config: {e}")),
            }
            router.reloads.applied(upto);
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
