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

use super::lines::{Lines, PATIENCE};
use super::peers::Peer;
use super::{free_port, mq_path};
use mq::broker::config::Config;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// Which broker program a process broker runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Debian's mosquitto.
    Mosquitto,
    /// `mq broker`, this crate's binary.
    Mq,
}

impl Kind {
    fn parse(s: &str) -> Option<Kind> {
        match s.trim() {
            "mosquitto" => Some(Kind::Mosquitto),
            "mq" => Some(Kind::Mq),
            _ => None,
        }
    }

    /// The kinds the differential tables run against: `MQ_TEST_BROKERS` (comma separated),
    /// `mosquitto,mq` by default, so that every case gives the same bytes against both.
    pub fn under_test() -> Vec<Kind> {
        let list = std::env::var("MQ_TEST_BROKERS").unwrap_or_else(|_| "mosquitto,mq".into());
        list.split(',').filter_map(Kind::parse).collect()
    }

    /// The peers this kind needs (for [`super::peers::require`]).
    pub fn peers(self) -> &'static [Peer] {
        match self {
            Kind::Mosquitto => &[Peer::Mosquitto],
            Kind::Mq => &[],
        }
    }
}

/// How much the broker logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Logging {
    /// Notices, connections and (un)subscriptions: what the tests wait for.
    Normal,
    /// Every packet as well.
    Debug,
    /// Nothing (load tests); readiness is then a port that accepts connections.
    Quiet,
}

/// One listener: its port (picked at start unless fixed) and the lines that follow it.
#[derive(Clone, Debug)]
struct Listener {
    port: Option<u16>,
    lines: Vec<String>,
}

/// A broker configuration in mosquitto.conf syntax, read by both process kinds.
#[derive(Clone, Debug)]
pub struct Conf {
    head: Vec<String>,
    listeners: Vec<Listener>,
    logging: Logging,
}

impl Default for Conf {
    fn default() -> Self {
        Conf::new()
    }
}

impl Conf {
    /// One plain listener on a free loopback port, anonymous clients allowed.
    pub fn new() -> Conf {
        Conf::bare().line("allow_anonymous true")
    }

    /// One plain listener on a free loopback port and nothing else: a broker with listeners
    /// refuses anonymous clients unless told otherwise (mosquitto 2.0).
    pub fn bare() -> Conf {
        Conf {
            head: Vec::new(),
            listeners: vec![Listener {
                port: None,
                lines: Vec::new(),
            }],
            logging: Logging::Normal,
        }
    }

    /// Appends `lines` (one or more, newline separated) after the last listener.
    pub fn line(mut self, lines: &str) -> Conf {
        let last = self.listeners.last_mut().expect("a listener");
        last.lines.extend(lines.lines().map(str::to_string));
        self
    }

    /// Puts `lines` before every listener (`per_listener_settings true` must go there).
    pub fn head(mut self, lines: &str) -> Conf {
        self.head.extend(lines.lines().map(str::to_string));
        self
    }

    /// Adds another loopback listener on its own free port; later [`Conf::line`] calls
    /// configure it.
    pub fn listener(mut self) -> Conf {
        self.listeners.push(Listener {
            port: None,
            lines: Vec::new(),
        });
        self
    }

    /// Fixes the first listener's port (a broker that must appear where a client already
    /// looks).
    pub fn port(mut self, port: u16) -> Conf {
        self.listeners[0].port = Some(port);
        self
    }

    /// Logs every packet too (`log_type all`).
    pub fn debug_log(mut self) -> Conf {
        self.logging = Logging::Debug;
        self
    }

    /// Logs nothing, for load tests; the log-waiting methods then refuse to work.
    pub fn quiet(mut self) -> Conf {
        self.logging = Logging::Quiet;
        self
    }

    /// The file's text for `kind` with the listeners on `ports`.
    fn render(&self, kind: Kind, ports: &[u16]) -> String {
        let mut text = String::new();
        // As root, mosquitto would drop to the `mosquitto` user, who cannot read the test's
        // private temporary files.
        // SAFETY: geteuid has no preconditions.
        if kind == Kind::Mosquitto && unsafe { libc::geteuid() } == 0 {
            text.push_str("user root\n");
        }
        let types: &[&str] = match self.logging {
            Logging::Normal => &[
                "error",
                "warning",
                "notice",
                "information",
                "subscribe",
                "unsubscribe",
            ],
            Logging::Debug => &["all"],
            Logging::Quiet => &[],
        };
        if types.is_empty() {
            text.push_str("log_dest none\n");
        } else {
            text.push_str("log_dest stderr\n");
            for t in types {
                text.push_str(&format!("log_type {t}\n"));
            }
        }
        for l in &self.head {
            text.push_str(&format!("{l}\n"));
        }
        for (listener, port) in self.listeners.iter().zip(ports) {
            text.push_str(&format!("listener {port} 127.0.0.1\n"));
            for l in &listener.lines {
                text.push_str(&format!("{l}\n"));
            }
        }
        text
    }

    /// Fixed ports where set, fresh free ones elsewhere.
    fn pick_ports(&self) -> Vec<u16> {
        self.listeners
            .iter()
            .map(|l| l.port.unwrap_or_else(free_port))
            .collect()
    }
}

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

/// A broker process, its config file and its captured log.
struct Process {
    kind: Kind,
    conf: Conf,
    ports: Vec<u16>,
    dir: tempfile::TempDir,
    child: Option<Child>,
    log: Lines,
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
        let dir = tempfile::tempdir().expect("tempdir");
        let mut p = Process {
            kind,
            ports: conf.pick_ports(),
            conf,
            dir,
            child: None,
            log: Lines::new(),
        };
        p.launch();
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

    /// Waits until some client has unsubscribed from `filter`.
    pub fn wait_unsubscribed(&self, filter: &str) {
        self.wait_log_line(&format!("an unsubscription from {filter}"), |l| {
            unsubscriber(l, filter).is_some()
        });
    }

    fn wait_log_line(&self, what: &str, pred: impl Fn(&str) -> bool) {
        let log = self.process().log();
        if log.wait_after(0, pred).is_none() {
            panic!("no log line for {what}:\n{}", log.text());
        }
    }

    /// Sends signal `sig` to the broker process.
    pub fn signal(&self, sig: i32) {
        let child = self
            .process()
            .child
            .as_ref()
            .expect("the broker is running");
        // SAFETY: kill(2) on the PID of a child we own and have not reaped yet.
        unsafe {
            libc::kill(child.id() as i32, sig);
        }
    }

    /// Waits up to `limit` for the process to exit; its status, or `None` if it did not.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let p = self.process_mut();
        let child = p.child.as_mut()?;
        let end = Instant::now() + limit;
        loop {
            if let Ok(Some(st)) = child.try_wait() {
                // Read out what it wrote before exiting.
                p.log.wait_closed(PATIENCE);
                return Some(st);
            }
            if Instant::now() > end {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
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
        let p = self.process_mut();
        assert_eq!(
            conf.listeners.len(),
            p.conf.listeners.len(),
            "same listeners"
        );
        p.conf = conf;
        p.write_conf();
    }

    /// Path of the config file the process reads.
    pub fn conf_path(&self) -> PathBuf {
        self.process().conf_path()
    }

    /// Kills the process with SIGKILL (no clean shutdown) and reaps it.
    pub fn kill(&mut self) {
        self.process_mut().kill();
    }

    /// Starts the process again on the same ports with the same config file, after
    /// [`TestBroker::kill`]; a fresh log is captured.
    pub fn start_again(&mut self) {
        let p = self.process_mut();
        assert!(p.child.is_none(), "kill the broker first");
        p.launch();
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

/// How often a broker may find its port taken by someone else between our probe and its bind.
const START_ATTEMPTS: usize = 3;

impl Process {
    fn conf_path(&self) -> PathBuf {
        self.dir.path().join("broker.conf")
    }

    fn log(&self) -> &Lines {
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

    fn kill(&mut self) {
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
