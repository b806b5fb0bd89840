//! A broker process: its config file, its captured log, starting it until it serves and
//! killing it.

use super::super::lines::{Lines, PATIENCE};
use super::super::mq_path;
use super::super::peers::Peer;
use super::conf::{Conf, Kind, Logging};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A broker process, its config file and its captured log.
pub(super) struct Process {
    pub(super) kind: Kind,
    conf: Conf,
    pub(super) ports: Vec<u16>,
    dir: tempfile::TempDir,
    child: Option<Child>,
    log: Lines,
}

/// How often a broker may find its port taken by someone else between our probe and its bind.
const START_ATTEMPTS: usize = 3;

impl Process {
    /// Starts `kind` with `conf` and returns once it serves.
    pub(super) fn start(kind: Kind, conf: Conf) -> Process {
        let mut p = Process {
            kind,
            ports: conf.pick_ports(),
            conf,
            dir: tempfile::tempdir().expect("tempdir"),
            child: None,
            log: Lines::new(),
        };
        p.launch();
        p
    }

    fn conf_path(&self) -> PathBuf {
        self.dir.path().join("broker.conf")
    }

    /// Rewrites the config file with `conf` (same listeners, same ports).
    pub(super) fn set_conf(&mut self, conf: Conf) {
        assert_eq!(
            conf.listeners.len(),
            self.conf.listeners.len(),
            "same listeners"
        );
        self.conf = conf;
        self.write_conf();
    }

    /// Sends signal `sig`.
    pub(super) fn signal(&self, sig: i32) {
        let child = self.child.as_ref().expect("the broker is running");
        // SAFETY: kill(2) on the PID of a child we own and have not reaped yet.
        unsafe {
            libc::kill(child.id() as i32, sig);
        }
    }

    /// Waits up to `limit` for the process to exit; its status once its log is read out.
    pub(super) fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let child = self.child.as_mut()?;
        let end = Instant::now() + limit;
        loop {
            if let Ok(Some(st)) = child.try_wait() {
                self.log.wait_closed(PATIENCE);
                return Some(st);
            }
            if Instant::now() > end {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Starts it again after [`Process::kill`], same ports and config file.
    pub(super) fn start_again(&mut self) {
        assert!(self.child.is_none(), "kill the broker first");
        self.launch();
    }

    /// The running process's id.
    pub(super) fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub(super) fn log(&self) -> &Lines {
        assert!(
            self.conf.logging != Logging::Quiet,
            "this broker logs nothing (Conf::quiet)"
        );
        &self.log
    }

    fn write_conf(&self) {
        let text = self.conf.render(self.kind, &self.ports);
        std::fs::write(self.conf_path(), text).expect("write the broker config");
    }

    /// Starts the process and waits until it serves, picking other ports if its own were
    /// taken meanwhile (unless they are fixed).
    fn launch(&mut self) {
        for attempt in 1..=START_ATTEMPTS {
            self.write_conf();
            self.spawn();
            match self.wait_ready() {
                Ok(()) => return,
                Err(log) => {
                    self.kill();
                    let taken = log.contains("Address already in use");
                    let fixed = self.conf.listeners.iter().any(|l| l.port.is_some());
                    if !taken || fixed || attempt == START_ATTEMPTS {
                        panic!(
                            "{:?} broker did not start with\n{}\nits log:\n{log}",
                            self.kind,
                            self.conf.render(self.kind, &self.ports)
                        );
                    }
                    self.ports = self.conf.pick_ports();
                }
            }
        }
    }

    fn command(&self) -> Command {
        match self.kind {
            Kind::Mq => {
                let mut c = Command::new(mq_path());
                c.arg("broker");
                c
            }
            Kind::Mosquitto => {
                let mut c = Command::new(Peer::Mosquitto.program("mosquitto"));
                raise_file_limit(&mut c);
                c
            }
        }
    }

    fn spawn(&mut self) {
        let mut child = self
            .command()
            .arg("-c")
            .arg(self.conf_path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the {:?} broker: {e}", self.kind));
        self.log = Lines::new();
        self.log.follow(child.stdout.take().expect("stdout"));
        self.log.follow(child.stderr.take().expect("stderr"));
        self.child = Some(child);
    }

    /// Waits for the "... running" line (or, for a quiet broker, for every port to accept a
    /// connection); the log so far when the process exits or never gets there.
    fn wait_ready(&mut self) -> Result<(), String> {
        let ready = if self.conf.logging == Logging::Quiet {
            let end = Instant::now() + PATIENCE;
            loop {
                if self.ports.iter().all(|&p| accepts(p)) {
                    break true;
                }
                if Instant::now() > end || self.exited() {
                    break false;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        } else {
            // Both print "<name> version <v> running" once every listener is open.
            self.log.wait_until(PATIENCE, |lines| {
                lines.iter().any(|l| l.ends_with(" running"))
            })
        };
        if ready && !self.exited() {
            Ok(())
        } else {
            self.log.wait_closed(Duration::from_secs(1));
            Err(self.log.text())
        }
    }

    fn exited(&mut self) -> bool {
        self.child
            .as_mut()
            .is_none_or(|c| !matches!(c.try_wait(), Ok(None)))
    }

    pub(super) fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// True when something accepts connections on 127.0.0.1:`port`.
fn accepts(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

/// Lets the child raise its open-file limit to the hard maximum (mq broker does it itself):
/// load tests hold more connections than the usual soft limit of 1024.
fn raise_file_limit(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: getrlimit and setrlimit are async-signal-safe and touch only the child.
    unsafe {
        cmd.pre_exec(|| {
            let mut lim = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
                lim.rlim_cur = lim.rlim_max;
                libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
            }
            Ok(())
        });
    }
}
