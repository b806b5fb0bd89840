//! The real `mq broker` binary run from a config file, its log read as it is written (so a
//! chatty broker never blocks on a full pipe), restartable on the same port and store.

use super::{ChildGuard, free_port, mq_path, wait_for_port, wait_until};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A running `mq broker -c FILE`; killed on drop.
pub struct MqBroker {
    child: ChildGuard,
    /// Its loopback port.
    pub port: u16,
    /// Its config file.
    pub conf: PathBuf,
    log: Arc<Mutex<String>>,
}

impl MqBroker {
    /// Writes `dir/mq.conf` (`listener PORT 127.0.0.1`, `allow_anonymous true`, then `extra`)
    /// and starts the broker on it.
    pub fn start(dir: &Path, extra: &str) -> MqBroker {
        let port = free_port();
        let conf = dir.join("mq.conf");
        let text = format!("listener {port} 127.0.0.1\nallow_anonymous true\n{extra}\n");
        std::fs::write(&conf, text).expect("write mq.conf");
        MqBroker::start_conf(&conf, port)
    }

    /// Starts the broker on `conf`, which listens on `port`, and waits until it accepts.
    pub fn start_conf(conf: &Path, port: u16) -> MqBroker {
        let (child, log) = spawn(conf);
        let b = MqBroker {
            child,
            port,
            conf: conf.to_path_buf(),
            log,
        };
        if !wait_until(|| std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()) {
            panic!("mq broker did not listen on {port}; its log:\n{}", b.log());
        }
        b
    }

    /// Kills it with SIGKILL and waits until it is gone.
    pub fn kill(&mut self) {
        self.signal(libc::SIGKILL);
        let _ = self.child.0.wait();
    }

    /// Starts it again on the same config (and store) after it exited; the log starts afresh.
    pub fn restart(&mut self) {
        let (child, log) = spawn(&self.conf);
        self.child = child;
        self.log = log;
        wait_for_port(self.port);
    }

    /// Everything it logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Waits (up to ten seconds) until its log contains `needle`.
    pub fn wait_log(&self, needle: &str) -> bool {
        wait_until(|| self.log().contains(needle))
    }

    /// Sends a signal.
    pub fn signal(&self, sig: i32) {
        self.child.signal(sig);
    }

    /// Waits up to `limit` for it to exit.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        self.child.wait_timeout(limit)
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.0.id()
    }
}

fn spawn(conf: &Path) -> (ChildGuard, Arc<Mutex<String>>) {
    let mut child = Command::new(mq_path())
        .args(["broker", "-c"])
        .arg(conf)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start mq broker");
    let log = Arc::new(Mutex::new(String::new()));
    if let Some(mut err) = child.stderr.take() {
        let sink = log.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = err.read(&mut buf) {
                let text = String::from_utf8_lossy(&buf[..n]);
                sink.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push_str(&text);
            }
        });
    }
    (ChildGuard(child), log)
}
