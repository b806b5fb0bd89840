//! The one broker fixture every test starts its broker with: [`TestBroker`].
//!
//! Three kinds behind one type:
//! - [`TestBroker::in_process`]: `mq::broker` on this test's runtime, on `127.0.0.1:0`;
//! - [`TestBroker::mq`]: the built `mq broker -c FILE` as a process;
//! - [`TestBroker::mosquitto`]: Debian's `mosquitto -c FILE`.
//!
//! The two process kinds read the same mosquitto.conf, written from a [`Conf`]: plain listeners
//! on loopback ports the fixture picks (any number, each with its own lines, which is where TLS
//! or WebSocket settings go), then whatever the test adds. Their log (stderr) is captured, so a
//! test waits for the line that says what it needs, a subscription or a reload, instead of
//! sleeping. The process is killed (by PID) and reaped on drop.
//!
//! Another kind of listener (WebSockets, TLS) is a [`Conf::listener`] with its own lines;
//! another broker program is a [`Kind`] with its command in `process.rs`.

mod conf;
mod process;

pub use conf::{Conf, Kind};

use super::lines::{Lines, PATIENCE};
use mq::broker::config::Config;
use process::Process;
use std::net::SocketAddr;
use std::process::ExitStatus;
use std::time::Duration;
use tokio::sync::oneshot;

/// A broker for one test, stopped when dropped.
pub struct TestBroker {
    /// Where its first listener is: 127.0.0.1 and the port.
    pub addr: SocketAddr,
    inner: Inner,
}

enum Inner {
    InProcess {
        stop: Option<oneshot::Sender<()>>,
        task: Option<tokio::task::JoinHandle<()>>,
    },
    Process(Process),
}

impl TestBroker {
    /// Starts `mq::broker` with `config` on the current runtime; its listeners should use
    /// port 0. Its log goes to the test's stderr (turn it on with `MQ_TEST_LOG=1`).
    pub async fn in_process(config: Config) -> TestBroker {
        TestBroker::try_in_process(config)
            .await
            .expect("broker binds")
    }

    /// As [`TestBroker::in_process`], for a test that expects binding to fail.
    pub async fn try_in_process(config: Config) -> Result<TestBroker, mq::broker::BrokerError> {
        let broker = mq::broker::Broker::bind(config).await?;
        let addr = broker.local_addrs()[0];
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(broker.run(async move {
            let _ = rx.await;
        }));
        Ok(TestBroker {
            addr,
            inner: Inner::InProcess {
                stop: Some(tx),
                task: Some(task),
            },
        })
    }

    /// Starts `mq broker -c FILE` with `conf`, once it is ready.
    pub fn mq(conf: Conf) -> TestBroker {
        TestBroker::start(Kind::Mq, conf)
    }

    /// Starts Debian's `mosquitto -c FILE` with `conf`, once it is ready. The test must have
    /// checked `require(&[Peer::Mosquitto])`; this panics when it is missing.
    pub fn mosquitto(conf: Conf) -> TestBroker {
        TestBroker::start(Kind::Mosquitto, conf)
    }

    /// Starts a broker process of `kind` with `conf`, once it is ready.
    pub fn start(kind: Kind, conf: Conf) -> TestBroker {
        let p = Process::start(kind, conf);
        TestBroker {
            addr: SocketAddr::from(([127, 0, 0, 1], p.ports[0])),
            inner: Inner::Process(p),
        }
    }

    /// The program a process broker runs; `None` in process.
    pub fn kind(&self) -> Option<Kind> {
        match &self.inner {
            Inner::Process(p) => Some(p.kind),
            Inner::InProcess { .. } => None,
        }
    }

    /// The first listener's port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every listener's port, in [`Conf`] order.
    pub fn ports(&self) -> Vec<u16> {
        match &self.inner {
            Inner::Process(p) => p.ports.clone(),
            Inner::InProcess { .. } => vec![self.port()],
        }
    }

    /// `-h 127.0.0.1 -p PORT`, for a client's command line.
    pub fn client_args(&self) -> Vec<String> {
        vec![
            "-h".into(),
            "127.0.0.1".into(),
            "-p".into(),
            self.port().to_string(),
        ]
    }

    fn process(&self) -> &Process {
        match &self.inner {
            Inner::Process(p) => p,
            Inner::InProcess { .. } => {
                panic!("an in-process broker has no process or captured log; use TestBroker::mq")
            }
        }
    }

    fn process_mut(&mut self) -> &mut Process {
        match &mut self.inner {
            Inner::Process(p) => p,
            Inner::InProcess { .. } => {
                panic!("an in-process broker has no process; use TestBroker::mq")
            }
        }
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        self.process().log().text()
    }

    /// The captured log lines, to wait on them directly.
    pub fn log_lines(&self) -> &Lines {
        self.process().log()
    }

    /// Waits for a log line containing `needle`; panics with the log when none comes.
    pub fn wait_log(&self, needle: &str) -> String {
        self.process().log().wait_for(needle)
    }

    /// Waits until `count` log lines contain `needle`.
    pub fn wait_log_count(&self, needle: &str, count: usize) {
        let log = self.process().log();
        let ok = log.wait_until(PATIENCE, |lines| {
            lines.iter().filter(|l| l.contains(needle)).count() >= count
        });
        assert!(
            ok,
            "fewer than {count} log lines with {needle:?}:\n{}",
            log.text()
        );
    }

    /// Waits until some client's subscription to `filter` is in place (its log line).
    pub fn wait_subscribed(&self, filter: &str) {
        self.wait_log_line(&format!("a subscription to {filter}"), |l| {
            subscriber(l, filter).is_some()
        });
    }

    /// Waits until client `id` is subscribed to `filter`.
    pub fn wait_subscribed_by(&self, id: &str, filter: &str) {
        self.wait_log_line(&format!("{id} subscribed to {filter}"), |l| {
            subscriber(l, filter) == Some(id)
        });
    }

    fn wait_log_line(&self, what: &str, pred: impl Fn(&str) -> bool) {
        let log = self.process().log();
        if log.wait_after(0, pred).is_none() {
            panic!("no log line for {what}:\n{}", log.text());
        }
    }

    /// The broker process's id (to read its memory use from /proc).
    pub fn pid(&self) -> u32 {
        self.process().pid().expect("the broker is running")
    }

    /// Sends signal `sig` to the broker process.
    pub fn signal(&self, sig: i32) {
        self.process().signal(sig);
    }

    /// Waits up to `limit` for the process to exit; its status, or `None` if it did not.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        self.process_mut().wait_exit(limit)
    }

    /// Sends SIGHUP and returns once the new configuration is in force.
    ///
    /// Both brokers write "Reloading config." before they read the files again, and handle
    /// SIGHUP one at a time; so the line of a second SIGHUP shows that the first reload is
    /// complete (the second applies the same files again).
    pub fn reload(&self) {
        for _ in 0..2 {
            let log = self.process().log();
            let before = log.count(|l| l.contains("Reloading config."));
            self.signal(libc::SIGHUP);
            self.wait_log_count("Reloading config.", before + 1);
        }
    }

    /// Replaces the config file (same listeners and ports) for a later [`TestBroker::reload`]
    /// or restart.
    pub fn set_conf(&mut self, conf: Conf) {
        self.process_mut().set_conf(conf);
    }

    /// Kills the process with SIGKILL (no clean shutdown) and reaps it.
    pub fn kill(&mut self) {
        self.process_mut().kill();
    }

    /// Starts the process again on the same ports with the same config file, after
    /// [`TestBroker::kill`]; a fresh log is captured.
    pub fn start_again(&mut self) {
        self.process_mut().start_again();
    }

    /// Kills the broker and starts it again on the same ports.
    pub fn restart(&mut self) {
        self.kill();
        self.start_again();
    }

    /// Shuts the broker down cleanly and waits until it is gone: the in-process broker has
    /// flushed its store, a process has exited after SIGTERM.
    pub async fn stop(mut self) {
        match &mut self.inner {
            Inner::InProcess { stop, task } => {
                if let Some(s) = stop.take() {
                    let _ = s.send(());
                }
                if let Some(t) = task.take() {
                    let _ = t.await;
                }
            }
            Inner::Process(_) => {
                self.signal(libc::SIGTERM);
                assert!(self.wait_exit(PATIENCE).is_some(), "broker ignored SIGTERM");
            }
        }
    }
}

impl Drop for TestBroker {
    fn drop(&mut self) {
        match &mut self.inner {
            Inner::InProcess { stop, .. } => {
                if let Some(s) = stop.take() {
                    let _ = s.send(());
                }
            }
            Inner::Process(p) => p.kill(),
        }
    }
}

/// Who subscribed to `filter`, if `line` is a subscribe line: `<time>: <id> <qos> <filter>`
/// (mosquitto's `log_type subscribe` format, which `mq broker` shares).
pub fn subscriber<'a>(line: &'a str, filter: &str) -> Option<&'a str> {
    let (who, qos) = log_words(line, filter)?.rsplit_once(' ')?;
    (matches!(qos, "0" | "1" | "2") && !who.contains(' ')).then_some(who)
}

/// Who unsubscribed from `filter`, if `line` is an unsubscribe line: `<time>: <id> <filter>`.
pub fn unsubscriber<'a>(line: &'a str, filter: &str) -> Option<&'a str> {
    let who = log_words(line, filter)?;
    (!who.is_empty() && !who.contains(' ')).then_some(who)
}

/// What precedes ` <filter>` at the end of a `<time>: ...` log line.
fn log_words<'a>(line: &'a str, filter: &str) -> Option<&'a str> {
    let (time, rest) = line.split_once(": ")?;
    if !time.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    rest.strip_suffix(filter)?.strip_suffix(' ')
}
