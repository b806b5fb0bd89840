//! The run: resolve, probe with one client (so an unreachable broker fails fast), ramp up the
//! rest, measure for the duration or up to the limit, drain, disconnect, summarise.

use super::client::{Ctx, Phase, run_client, spawned_client};
use super::csv::CsvLog;
use super::pacing::{Schedule, held_rate};
use super::plan::{Plan, Role};
use super::progress::Progress;
use super::report::{Connections, Memory, Messages, SlowSubscribers, Summary, Tick};
use super::stats::{Cause, Interval, Rates, Snapshot, Stats};
use crate::cli::bench::Scenario;
use crate::protocol::ReasonCode;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::{Instant, sleep, sleep_until};

/// Connection attempts in flight at once: enough to keep the broker busy, few enough not to
/// overflow its listen backlog (mosquitto's is 100 by default, and SYN retries cost a second).
const MAX_CONNECTING: usize = 64;
/// How often the main loop checks for the end of a phase.
const POLL: Duration = Duration::from_millis(20);
/// The drain ends once nothing has arrived for this long...
const DRAIN_QUIET: Duration = Duration::from_millis(300);
/// ...or after this long in any case.
const DRAIN_MAX: Duration = Duration::from_secs(3);

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The host name did not resolve.
    #[error("cannot resolve {0}: {1}")]
    Resolve(String, String),
    /// The first connection failed below MQTT.
    #[error("cannot connect to {broker}: {reason}")]
    Unreachable {
        /// `host:port`.
        broker: String,
        /// What happened.
        reason: String,
    },
    /// The broker refused the first CONNECT.
    #[error("{broker} refused the connection: {reason}")]
    Refused {
        /// `host:port`.
        broker: String,
        /// The CONNACK code.
        code: u8,
        /// Its meaning.
        reason: String,
    },
    /// `--csv` or `--hdr-out` could not be written.
    #[error("cannot write {0}")]
    Write(String),
}

impl BenchError {
    /// The exit status: the CONNACK code for a refusal, as mosquitto's clients do, else 1.
    pub fn exit_code(&self) -> u8 {
        match self {
            BenchError::Refused { code, .. } => *code,
            _ => 1,
        }
    }
}

/// Output options.
#[derive(Debug, Default)]
pub struct Output {
    /// `--json-every-second`.
    pub json_every_second: bool,
    /// `--quiet`.
    pub quiet: bool,
    /// `--csv`: the open file.
    pub csv: Option<(CsvLog, PathBuf)>,
    /// `--hdr-out`: where the end-to-end histogram goes (the others beside it).
    pub hdr_out: Option<PathBuf>,
}

/// The resident set size of `/proc/<pid>` (`self` for this process), in bytes.
pub fn rss_bytes(pid: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn fail_fast(plan: &Plan, broker: &str, cause: Cause) -> BenchError {
    let broker = broker.to_string();
    let reason = match cause {
        Cause::ConnAck(code) => {
            let reason = if plan.version.is_v5() {
                ReasonCode::from_u8(code).map_or("unknown reason".into(), |r| r.to_string())
            } else {
                ReasonCode::v3_connack_text(code).to_string()
            };
            return BenchError::Refused {
                broker,
                code,
                reason,
            };
        }
        Cause::Refused => "connection refused".into(),
        Cause::Timeout => format!("no answer within {:?}", plan.connect_timeout),
        Cause::Reset => "connection reset".into(),
        Cause::Closed => "the broker closed the connection".into(),
        Cause::Protocol => "the broker's answer is not MQTT".into(),
        Cause::Tls(e) => format!("TLS: {e}"),
        Cause::WebSocket(status) => format!("WebSocket upgrade answered with HTTP {status}"),
        other => other.key(),
    };
    BenchError::Unreachable { broker, reason }
}

async fn resolve(host: &str, port: u16) -> Result<SocketAddr, BenchError> {
    let mut addrs = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| BenchError::Resolve(host.to_string(), e.to_string()))?;
    addrs
        .next()
        .ok_or_else(|| BenchError::Resolve(host.to_string(), "no address".into()))
}

/// Spawns every client after the first, at `--rate` per second, with few connects in flight.
async fn spawn_rest(ctx: Arc<Ctx>, rest: Vec<(Role, u32)>) {
    let gate = Arc::new(Semaphore::new(MAX_CONNECTING));
    let start = Instant::now();
    let mut ramp = ctx.plan.conn_rate.map(|r| {
        Schedule::new(
            start.into_std(),
            Duration::from_secs_f64(1.0 / r),
            Duration::ZERO,
        )
    });
    for (seq, (role, index)) in rest.into_iter().enumerate() {
        if let Some(s) = ramp.as_mut() {
            s.advance();
            sleep_until(Instant::from_std(s.next_due())).await;
        }
        let Ok(permit) = gate.clone().acquire_owned().await else {
            return;
        };
        if *ctx.phase.borrow() == Phase::Stop {
            return;
        }
        ctx.live.fetch_add(1, Relaxed);
        tokio::spawn(spawned_client(
            ctx.clone(),
            role,
            index,
            seq as u64 + 1,
            permit,
        ));
    }
}

/// The main loop's clock: per-second output, Ctrl-C, and a short poll for the end of a phase.
struct Driver {
    t0: Instant,
    last: (Instant, Snapshot),
    next_tick: Instant,
    progress: Progress,
    csv: Option<(CsvLog, PathBuf)>,
    /// The first `--csv` write error; the run goes on, the command fails at the end.
    csv_error: Option<String>,
    latency: Interval,
    ack_latency: Interval,
    ctrl_c: std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<()>> + Send>>,
    interrupted: bool,
}

impl Driver {
    fn new(progress: Progress, csv: Option<(CsvLog, PathBuf)>) -> Driver {
        let t0 = Instant::now();
        Driver {
            t0,
            last: (t0, Snapshot::default()),
            next_tick: t0 + Duration::from_secs(1),
            progress,
            csv,
            csv_error: None,
            latency: Interval::default(),
            ack_latency: Interval::default(),
            ctrl_c: Box::pin(tokio::signal::ctrl_c()),
            interrupted: false,
        }
    }

    /// Waits a little (printing the second's line when one is due); false once Ctrl-C came.
    async fn step(&mut self, stats: &Stats, phase: &'static str) -> bool {
        if self.interrupted {
            return false;
        }
        tokio::select! {
            _ = self.ctrl_c.as_mut() => self.interrupted = true,
            _ = sleep_until(self.next_tick) => {
                self.tick(stats, phase);
                self.next_tick += Duration::from_secs(1);
            }
            _ = sleep(POLL) => {}
        }
        !self.interrupted
    }

    /// The second just ended, shown and recorded.
    fn tick(&mut self, stats: &Stats, phase: &'static str) {
        let tick = self.measure(stats, phase);
        self.progress.tick(&tick);
        self.record(&tick);
    }

    /// The counters and this interval's latencies, now.
    fn measure(&mut self, stats: &Stats, phase: &'static str) -> Tick {
        let now = Instant::now();
        let cur = stats.snapshot();
        let rates = Rates::between(&self.last.1, &cur, now - self.last.0);
        self.last = (now, cur);
        Tick {
            t: ((now - self.t0).as_secs_f64() * 10.0).round() / 10.0,
            phase,
            counts: cur,
            rates,
            latency_us: self.latency.next(&stats.latency),
            ack_latency_us: self.ack_latency.next(&stats.ack_latency),
        }
    }

    fn record(&mut self, tick: &Tick) {
        if let Some((csv, path)) = &mut self.csv {
            if let Err(e) = csv.row(tick) {
                self.csv_error
                    .get_or_insert_with(|| format!("{}: {e}", path.display()));
            }
        }
    }

    /// The CSV's last row: whatever came after the last whole second. Not shown live.
    fn end(&mut self, stats: &Stats) -> Result<(), BenchError> {
        let tick = self.measure(stats, "end");
        self.record(&tick);
        self.csv_error
            .take()
            .map_or(Ok(()), |e| Err(BenchError::Write(e)))
    }
}

/// When the phases of a run ended.
struct Timeline {
    rss_start: u64,
    rss_connected: u64,
    connect_time: Duration,
    measured: Duration,
    drained: Duration,
    held: u64,
    /// Slow subscribers' (messages, bytes) when publishers stopped.
    slow: (u64, u64),
}

/// Runs `plan` to its end (or Ctrl-C) and summarises it.
pub async fn run(plan: Plan, output: Output) -> Result<Summary, BenchError> {
    let broker = format!("{}:{}", plan.host, plan.port);
    let addr = resolve(&plan.host, plan.port).await?;
    let mut clients: Vec<(Role, u32)> = plan.clients().collect();
    let (first_role, first_index) = clients.remove(0);
    let ctx = Arc::new(Ctx::new(plan, addr));
    // After the shared state (histograms included) exists, so that only clients are counted.
    let rss_start = rss_bytes("self");
    let total = ctx.plan.client_count();
    let conn_only = ctx.plan.scenario == Scenario::Conn;
    let progress = Progress::new(total, conn_only, output.json_every_second, output.quiet);
    let mut driver = Driver::new(progress, output.csv);
    let link = match ctx.connect(first_role, first_index, 0).await {
        Ok(link) => link,
        Err(cause) => {
            driver.progress.finish();
            return Err(fail_fast(&ctx.plan, &broker, cause));
        }
    };
    ctx.live.store(1, Relaxed);
    let first = ctx.clone();
    tokio::spawn(async move {
        run_client(first.clone(), link, first_role, first_index).await;
        first.live.fetch_sub(1, Relaxed);
    });
    tokio::spawn(spawn_rest(ctx.clone(), clients));

    // Connect phase: bounded, as every attempt has its timeout.
    let s = &ctx.stats;
    while s.connects.load(Relaxed) + s.failed.load(Relaxed) < total {
        if !driver.step(s, "connecting").await {
            break;
        }
    }
    let connect_time = driver.t0.elapsed();
    let rss_connected = rss_bytes("self");
    let run_start = Instant::now();
    if !driver.interrupted {
        ctx.phase.send_replace(Phase::Running(run_start));
        measure(&ctx, &mut driver, run_start).await;
    }
    let measured = run_start.elapsed();
    let slow = (
        ctx.stats.slow_received.load(Relaxed),
        ctx.stats.slow_bytes.load(Relaxed),
    );
    let drained = if driver.interrupted {
        measured
    } else {
        drain(&ctx).await - run_start
    };
    let held = ctx.stats.connected.load(Relaxed);
    ctx.phase.send_replace(Phase::Stop);
    let give_up = Instant::now() + Duration::from_secs(1);
    while ctx.live.load(Relaxed) > 0 && Instant::now() < give_up {
        sleep(POLL).await;
    }
    driver.progress.finish();
    if ctx.cap > 0 {
        ctx.write_off();
    }
    driver.end(&ctx.stats)?;
    if let Some(path) = &output.hdr_out {
        write_histograms(&ctx, path)?;
    }
    let timeline = Timeline {
        rss_start,
        rss_connected,
        connect_time,
        measured,
        drained,
        held,
        slow,
    };
    Ok(summarise(&ctx, broker, driver.interrupted, &timeline))
}

/// `--hdr-out FILE`: the end-to-end histogram in FILE, the acknowledgement one in FILE-ack
/// (when publishers asked for acknowledgements), the connect one in FILE-connect.
fn write_histograms(ctx: &Ctx, path: &std::path::Path) -> Result<(), BenchError> {
    let s = &ctx.stats;
    let mut files = vec![(None, s.latency.snapshot())];
    if ctx.plan.publishers > 0 && ctx.plan.qos != crate::protocol::QoS::AtMostOnce {
        files.push((Some("ack"), s.ack_latency.snapshot()));
    }
    files.push((Some("connect"), s.connect_latency.snapshot()));
    super::hgrm::write_files(path, &files).map_err(BenchError::Write)
}

fn summarise(ctx: &Ctx, broker: String, interrupted: bool, t: &Timeline) -> Summary {
    let connected = ctx.stats.connects.load(Relaxed);
    Summary {
        scenario: scenario_name(ctx.plan.scenario).into(),
        broker,
        interrupted,
        duration_s: round3(t.measured.as_secs_f64()),
        connections: Connections {
            requested: ctx.plan.client_count(),
            connected,
            held: t.held,
            connect_time_s: round3(t.connect_time.as_secs_f64()),
            failures: ctx.stats.failures(),
            drops: ctx.stats.drops(),
            latency_us: ctx.stats.connect_latency.percentiles(),
        },
        messages: messages(ctx, t),
        memory: Memory {
            rss_start: t.rss_start,
            rss_connected: t.rss_connected,
            per_connection: t.rss_connected.saturating_sub(t.rss_start) / connected.max(1),
        },
    }
}

/// The measured phase: until the duration, the limit, the loss of every client, or Ctrl-C.
async fn measure(ctx: &Ctx, driver: &mut Driver, run_start: Instant) {
    let plan = &ctx.plan;
    let deadline = plan.duration.map(|d| run_start + d);
    let mut stall = Stall::default();
    loop {
        let s = &ctx.stats;
        stall.check(ctx);
        let done = (plan.publishers > 0 && ctx.publishing.load(Relaxed) == 0)
            || (plan.publishers == 0 && plan.limit.is_some_and(|l| s.received.load(Relaxed) >= l))
            || s.connected.load(Relaxed) == 0
            || deadline.is_some_and(|d| Instant::now() >= d);
        if done || !driver.step(s, "running").await {
            return;
        }
    }
}

/// Watches for deliveries that stopped arriving while some are owed: the broker dropped them
/// (mosquitto drops QoS 0 messages past a subscriber's queue limit) or a subscriber is gone. They
/// are written off as lost, so that the end-to-end cap does not hold publishers back forever.
#[derive(Default)]
struct Stall {
    received: u64,
    since: Option<Instant>,
}

impl Stall {
    const AFTER: Duration = Duration::from_millis(500);

    fn check(&mut self, ctx: &Ctx) {
        let received = ctx.stats.received.load(Relaxed);
        let now = Instant::now();
        if received != self.received || ctx.outstanding() == 0 {
            self.received = received;
            self.since = Some(now);
        } else if self.since.is_some_and(|t| now - t >= Self::AFTER) {
            ctx.write_off();
            self.since = Some(now);
        }
    }
}

/// Stops the publishers and waits for what is still on the way; returns when the counts settled.
async fn drain(ctx: &Ctx) -> Instant {
    ctx.phase.send_replace(Phase::Draining);
    let s = &ctx.stats;
    let started = Instant::now();
    let mut last = (s.received.load(Relaxed), s.acked.load(Relaxed));
    let mut last_change = started;
    if ctx.plan.publishers == 0 {
        return started;
    }
    while started.elapsed() < DRAIN_MAX && last_change.elapsed() < DRAIN_QUIET {
        sleep(POLL).await;
        let now = (s.received.load(Relaxed), s.acked.load(Relaxed));
        if now != last {
            last = now;
            last_change = Instant::now();
        }
    }
    last_change
}

fn messages(ctx: &Ctx, t: &Timeline) -> Messages {
    let (measured, drained) = (t.measured, t.drained);
    let plan = &ctx.plan;
    let snap = ctx.stats.snapshot();
    let per_s = |n: u64, d: Duration| {
        let secs = d.as_secs_f64();
        if secs > 0.0 {
            (n as f64 / secs * 10.0).round() / 10.0
        } else {
            0.0
        }
    };
    let target = plan.target_rate();
    let rate_held = target.is_some_and(|t| held_rate(t, measured, snap.sent));
    let latency = ctx.stats.latency.percentiles();
    Messages {
        expected: ctx.expected.load(Relaxed) + ctx.lost.load(Relaxed),
        lost: ctx.lost.load(Relaxed),
        size: plan.size,
        qos: plan.qos as u8,
        target_rate: target,
        rate_held,
        sent: snap.sent,
        acked: snap.acked,
        received: snap.received,
        sent_per_s: per_s(snap.sent, measured),
        acked_per_s: per_s(snap.acked, drained.max(measured)),
        received_per_s: per_s(snap.received, drained.max(measured)),
        latency_valid: latency.count > 0 && rate_held,
        latency_us: latency,
        ack_latency_us: ctx.stats.ack_latency.percentiles(),
        slow: (plan.slow > 0).then(|| SlowSubscribers {
            subscribers: plan.slow,
            read_rate: plan.slow_read_rate,
            received: t.slow.0,
            received_per_s: per_s(t.slow.0, measured),
            bytes_per_s: per_s(t.slow.1, measured),
        }),
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The scenario's name as typed.
pub fn scenario_name(s: Scenario) -> &'static str {
    match s {
        Scenario::Conn => "conn",
        Scenario::Pub => "pub",
        Scenario::Sub => "sub",
        Scenario::Pubsub => "pubsub",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    #[test]
    fn a_phase_set_before_any_client_subscribed_is_seen_by_it() {
        let argv = "mq bench pub -c 1 -L 3 -I 0".split_whitespace();
        let Ok(Command::Bench(args)) = Cli::try_parse_from(argv).map(|c| c.command) else {
            panic!("not a bench command line");
        };
        let plan = Plan::from_args(&args, (1024, 1024)).unwrap();
        let ctx = Ctx::new(plan, SocketAddr::from(([127, 0, 0, 1], 1883)));
        // A one-client run reaches Running before its client task has subscribed.
        let start = Instant::now();
        ctx.phase.send_replace(Phase::Running(start));
        assert_eq!(*ctx.phase.subscribe().borrow(), Phase::Running(start));
    }
}
