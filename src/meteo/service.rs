//! Running a [`Plan`]: once (for cron) or as a service, for any source, to a broker or a dry
//! run. It logs one line at start, one per product and cycle, and every failure.
//!
//! The service polls observations every `--interval` and forecasts every
//! `--forecast-interval`, and checks the broker connection every few seconds. After every
//! (re)connect the sink reads back what the broker retains, and whatever it lost is published
//! again from the held data, without waiting for the source to change.

use super::aemet;
use super::log;
use super::meteogalicia;
use super::mqtt::MqttSink;
use super::plan::{Output, Plan, SourcePlan};
use super::publish::Product;
use super::runner::{Runner, Why, publish_products};
use super::sink::{DryRun, Readback, Sink, SinkError};
use super::source::{Failure, Source, Targets};
use super::view::TableView;
use crate::meteo::cache::PublishState;
use std::time::Duration;

/// How a run ended, when it could run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Everything was published, or had not changed.
    Ok,
    /// Some products failed; the others were published.
    Partial,
    /// The source rejected the API key.
    KeyRejected,
}

/// Why a run could not do its job.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Nothing usable was asked for (nothing near the point, a client that cannot start).
    #[error("{0}")]
    Usage(String),
    /// A list needed before anything else (for `--near`) could not be fetched.
    #[error("{0}")]
    Source(Failure),
    /// The broker was unreachable or did not acknowledge.
    #[error(transparent)]
    Broker(#[from] SinkError),
}

/// Runs the plan to the end (`--once`) or until SIGINT/SIGTERM.
pub async fn run(plan: Plan) -> Result<Status, Error> {
    log::set_level(plan.level);
    match &plan.source {
        SourcePlan::Aemet(cfg) => {
            if let Some(w) = aemet::key::warning(&cfg.api_key, plan.now()) {
                log::warn(w);
            }
            let client =
                aemet::Client::new(cfg.clone()).map_err(|e| Error::Usage(e.to_string()))?;
            drive(&plan, &client).await
        }
        SourcePlan::MeteoGalicia(cfg) => {
            let client =
                meteogalicia::Client::new(cfg.clone()).map_err(|e| Error::Usage(e.to_string()))?;
            drive(&plan, &client).await
        }
    }
}

async fn drive<S: Source>(plan: &Plan, source: &S) -> Result<Status, Error> {
    let mut targets = plan.targets.clone();
    if let Some((lat, lon)) = plan.near {
        resolve_near(plan, source, lat, lon, &mut targets).await?;
    }
    log::info(start_line(plan, source, &targets));
    let status_topic = plan.layout.status_topic();
    match &plan.output {
        Output::DryRun { table: true } => {
            let mut sink = TableView::new(std::io::stdout(), plan.now);
            execute(plan, source, targets, &mut sink).await
        }
        Output::DryRun { table: false } => {
            let mut sink = DryRun::new(std::io::stdout().lock(), status_topic);
            execute(plan, source, targets, &mut sink).await
        }
        Output::Broker { opts, qos } => {
            let filters = plan.layout.filters(source.info());
            let mut sink = MqttSink::new((**opts).clone(), *qos, status_topic).watching(filters);
            execute(plan, source, targets, &mut sink).await
        }
    }
}

/// `mq meteo 0.1.0: AEMET, stations 3195, municipalities 28065, broker localhost:1883, every 10m`
fn start_line<S: Source>(plan: &Plan, source: &S, t: &Targets) -> String {
    let list = |v: &[String]| {
        if v.is_empty() {
            "none".to_owned()
        } else {
            v.join(",")
        }
    };
    let mut stations = list(&t.stations);
    if t.all_stations {
        stations = "all".into();
    }
    let mode = if plan.once {
        "once".to_owned()
    } else {
        format!(
            "observations every {}, forecasts every {}",
            human(plan.cadence.observations),
            human(plan.cadence.forecasts)
        )
    };
    format!(
        "mq meteo {}: source {}, stations {stations}, municipalities {}, broker {}, {mode}",
        env!("CARGO_PKG_VERSION"),
        source.info().label,
        list(&t.municipalities),
        plan.broker,
    )
}

/// `10m`, `1h`, `90s`, `500ms`: how the intervals are written on the command line.
fn human(d: Duration) -> String {
    let s = d.as_secs();
    match (s, d.subsec_millis()) {
        (0, ms) => format!("{ms}ms"),
        (s, 0) if s % 3600 == 0 => format!("{}h", s / 3600),
        (s, 0) if s % 60 == 0 => format!("{}m", s / 60),
        (s, 0) => format!("{s}s"),
        _ => format!("{}ms", d.as_millis()),
    }
}

/// Fills `targets` with the station and municipality nearest to (lat, lon).
async fn resolve_near<S: Source>(
    plan: &Plan,
    source: &S,
    lat: f64,
    lon: f64,
    targets: &mut Targets,
) -> Result<(), Error> {
    let max = plan.max_distance;
    let near = source
        .near(&plan.cache, lat, lon, max)
        .await
        .map_err(Error::Source)?;
    if near.station.is_none() && near.municipality.is_none() {
        return Err(Error::Usage(format!(
            "no station or municipality within {max} km of {lat},{lon}"
        )));
    }
    if let Some((s, d)) = near.station {
        log::info(format_args!(
            "Nearest station: {} {} ({d:.1} km)",
            s.id, s.name
        ));
        targets.stations.push(s.id);
    }
    if let Some((m, d)) = near.municipality {
        log::info(format_args!(
            "Nearest municipality: {} {} ({d:.1} km)",
            m.ine, m.name
        ));
        targets.municipalities.push(m.ine);
    }
    Ok(())
}

async fn execute<S: Source, K: Sink>(
    plan: &Plan,
    source: &S,
    targets: Targets,
    sink: &mut K,
) -> Result<Status, Error> {
    let runner = Runner::new(source, targets, plan.layout.clone(), Some(&plan.cache))
        .with_cadence(plan.cadence);
    // A dry run shows everything: what an earlier run published is not its business.
    let state = if plan.dry_run() {
        PublishState::default()
    } else {
        plan.cache.state()
    };
    let mut cycle = Cycle {
        plan,
        runner,
        state,
    };
    if let Err(e) = sink.open().await {
        if plan.once {
            return Err(Error::Broker(e));
        }
        // A service outlives broker restarts, including one under way as it starts.
        log::warn(format_args!(
            "{e}; retrying every {}s",
            CHECK_EVERY.as_secs()
        ));
    }
    if plan.once {
        cycle.once(sink).await
    } else {
        cycle.service(sink).await
    }
}

/// One run's runner and publish state.
struct Cycle<'a, S: Source> {
    plan: &'a Plan,
    runner: Runner<'a, S>,
    state: PublishState,
}

impl<S: Source> Cycle<'_, S> {
    async fn once<K: Sink>(&mut self, sink: &mut K) -> Result<Status, Error> {
        let mut failures = self.runner.refresh_observations().await;
        failures.extend(self.runner.refresh_forecasts().await);
        report_failures(&failures, &[]);
        let readback = sink.take_readback();
        if readback == Readback::Unknown {
            log::info("cannot read back the retained topics: publishing only what changed");
        }
        let published = self.publish(sink, false, &readback).await;
        let closed = sink.close().await;
        published?;
        closed?;
        self.save_state();
        Ok(if failures.iter().any(|f| f.auth) {
            Status::KeyRejected
        } else if failures.is_empty() {
            Status::Ok
        } else {
            Status::Partial
        })
    }

    /// Publishes what must be, ends the sink's cycle and logs one line per product that was
    /// fetched or published.
    async fn publish<K: Sink>(
        &mut self,
        sink: &mut K,
        force: bool,
        readback: &Readback,
    ) -> Result<(), SinkError> {
        let products = self.runner.products(self.plan.now());
        let force = force || self.plan.force;
        let scope = &self.plan.scope;
        let done =
            publish_products(sink, &products, &mut self.state, scope, force, readback).await?;
        sink.end_cycle().await?;
        report_products(&self.runner.take_fetched(), &products, &done);
        Ok(())
    }

    fn save_state(&self) {
        if self.plan.dry_run() {
            return;
        }
        if let Err(e) = self.plan.cache.store_state(&self.state) {
            log::warn(format_args!(
                "cannot write {}: {e}",
                self.plan.cache.dir().display()
            ));
        }
    }

    async fn service<K: Sink>(&mut self, sink: &mut K) -> Result<Status, Error> {
        let plan = self.plan;
        let mut timers = Timers::new(plan);
        // The first poll of each kind: a rejected key will not heal by itself.
        for _ in 0..2 {
            self.step(sink, &mut timers).await;
            if self.runner.auth_failed() {
                let _ = sink.close().await;
                return Ok(Status::KeyRejected);
            }
        }
        let shutdown = shutdown_signal();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                _ = self.step(sink, &mut timers) => {}
            }
        }
        log::info("stopping");
        sink.close().await?;
        Ok(Status::Ok)
    }

    /// Waits for the next timer, polls what is due, then publishes what changed or what the
    /// broker lost.
    async fn step<K: Sink>(&mut self, sink: &mut K, timers: &mut Timers) {
        let failures = tokio::select! {
            _ = timers.obs.tick() => self.runner.refresh_observations().await,
            _ = timers.fc.tick() => self.runner.refresh_forecasts().await,
            _ = timers.check.tick() => Vec::new(),
        };
        if !failures.is_empty() {
            report_failures(&failures, &self.runner.products(self.plan.now()));
        }
        let reconnected = match sink.recover().await {
            Ok(r) => r,
            Err(e) => {
                if !timers.broker_down {
                    log::warn(format_args!(
                        "{e}; retrying every {}s",
                        CHECK_EVERY.as_secs()
                    ));
                }
                timers.broker_down = true;
                return;
            }
        };
        if timers.broker_down || reconnected {
            log::info("connected to the broker; publishing what it lacks");
        }
        timers.broker_down = false;
        let readback = sink.take_readback();
        // Reconnected to a broker that cannot be asked what it kept: assume it lost all.
        let force = reconnected && readback == Readback::Unknown;
        match self.publish(sink, force, &readback).await {
            Ok(()) => self.save_state(),
            Err(e) => log::warn(format_args!("{e}; will publish again after reconnecting")),
        }
    }
}

/// One `Error:` line per failure, saying when the last good value is kept.
fn report_failures(failures: &[Failure], held: &[Product]) {
    for f in failures {
        match held.iter().find(|p| p.label == f.product) {
            Some(p) => log::error(format_args!(
                "{f}; keeping the last good data ({})",
                p.time.as_deref().unwrap_or("undated")
            )),
            None => log::error(f),
        }
    }
}

/// One line per product fetched or published in this cycle.
fn report_products(fetched: &[String], products: &[Product], done: &[(usize, Why)]) {
    for (i, p) in products.iter().enumerate() {
        let why = done.iter().find(|(j, _)| *j == i).map(|(_, w)| *w);
        let was_fetched = fetched.contains(&p.label);
        if !was_fetched && why.is_none() {
            continue;
        }
        let mut line = format!(
            "{}: {}",
            p.label,
            if was_fetched { "fetched" } else { "held" }
        );
        if let Some(t) = &p.time {
            line.push_str(&format!(" ({t})"));
        }
        if p.stale {
            line.push_str(", stale");
        }
        line.push_str(match why {
            Some(Why::Changed) => ", published",
            Some(Why::Missing) => ", published again (the broker had lost it)",
            Some(Why::Forced) => ", published (forced)",
            None => ", unchanged",
        });
        log::info(line);
    }
}

/// How often the service checks the broker connection (a local check, no traffic) and
/// re-evaluates staleness between polls.
const CHECK_EVERY: Duration = Duration::from_secs(5);

/// The service's timers and flags.
struct Timers {
    obs: tokio::time::Interval,
    fc: tokio::time::Interval,
    check: tokio::time::Interval,
    /// The broker is known to be away (warn once, not every check).
    broker_down: bool,
}

fn interval(every: Duration) -> tokio::time::Interval {
    let mut i = tokio::time::interval(every.max(Duration::from_secs(1)));
    i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    i
}

impl Timers {
    fn new(plan: &Plan) -> Self {
        // Not immediate: the first two steps are the first polls.
        let every = CHECK_EVERY
            .min(plan.cadence.observations)
            .max(Duration::from_secs(1));
        let mut check = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Timers {
            obs: interval(plan.cadence.observations),
            fc: interval(plan.cadence.forecasts),
            check,
            broker_down: false,
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_read_as_on_the_command_line() {
        assert_eq!(human(Duration::from_secs(600)), "10m");
        assert_eq!(human(Duration::from_secs(3600)), "1h");
        assert_eq!(human(Duration::from_secs(90)), "90s");
        assert_eq!(human(Duration::from_millis(500)), "500ms");
        assert_eq!(human(Duration::from_millis(1500)), "1500ms");
    }
}
