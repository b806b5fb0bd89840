//! The fetch → map → publish cycle shared by `--once` and the service mode, for any source.
//!
//! The runner holds the source's last good data. A failed fetch leaves the held data in place,
//! so the values stay published and their `stale` flag turns on with age. What is published
//! again is decided per product: its stamp changed since the last publish, or the broker no
//! longer holds exactly its messages (read back after connecting), or `--force`.

use super::cache::{Cache, PublishState};
use super::discovery::Cadence;
use super::model::Snapshot;
use super::publish::{Layout, Product, products};
use super::sink::{Readback, Sink, SinkError};
use super::source::Source;
use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};

pub use super::source::{Failure, Targets};

/// Fetches products from one source and keeps the last good data.
pub struct Runner<'a, S: Source> {
    source: &'a S,
    targets: Targets,
    layout: Layout,
    cache: Option<&'a Cache>,
    cadence: Cadence,
    /// Held data.
    pub held: S::Held,
    fetched: Vec<String>,
}

impl<'a, S: Source> Runner<'a, S> {
    /// A runner with nothing held yet. The cache, if given, receives the station list from
    /// every all-stations dump.
    pub fn new(source: &'a S, targets: Targets, layout: Layout, cache: Option<&'a Cache>) -> Self {
        Runner {
            source,
            targets,
            layout,
            cache,
            cadence: Cadence::default(),
            held: S::Held::default(),
            fetched: Vec::new(),
        }
    }

    /// Sets the polling intervals, which Home Assistant's `expire_after` follows.
    pub fn with_cadence(mut self, cadence: Cadence) -> Self {
        self.cadence = cadence;
        self
    }

    /// The source.
    pub fn source(&self) -> &S {
        self.source
    }

    /// The topic layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// True once the source has rejected the key.
    pub fn auth_failed(&self) -> bool {
        self.source.key_rejected()
    }

    /// Refreshes the observations; returns what failed.
    pub async fn refresh_observations(&mut self) -> Vec<Failure> {
        let r = self
            .source
            .refresh_observations(&self.targets, &mut self.held, self.cache)
            .await;
        self.fetched.extend(r.fetched);
        r.failures
    }

    /// Refreshes the forecasts; returns what failed.
    pub async fn refresh_forecasts(&mut self) -> Vec<Failure> {
        let r = self
            .source
            .refresh_forecasts(&self.targets, &mut self.held)
            .await;
        self.fetched.extend(r.fetched);
        r.failures
    }

    /// Labels of the products fetched since the last call.
    pub fn take_fetched(&mut self) -> Vec<String> {
        std::mem::take(&mut self.fetched)
    }

    /// Everything held, in the model, as of `now`.
    pub fn snapshot(&self, now: DateTime<Utc>) -> Snapshot {
        self.source.snapshot(&self.held, now)
    }

    /// Every product that can be built from the held data, as of `now`.
    pub fn products(&self, now: DateTime<Utc>) -> Vec<Product> {
        let snap = self.snapshot(now);
        products(&self.layout, self.source.info(), &self.cadence, &snap, now)
    }
}

/// Why a product was published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// Its stamp differs from the last one published.
    Changed,
    /// The broker no longer holds (exactly) its messages.
    Missing,
    /// `--force`, or the broker may have lost everything and cannot be asked.
    Forced,
}

/// Products at or above this count get a progress bar while they are published.
const PROGRESS_PUBLISH_MIN: usize = 50;

/// Why `p` must be published, or `None` when the broker already has it.
fn why(
    p: &Product,
    state: &PublishState,
    scope: &str,
    force: bool,
    readback: &Readback,
) -> Option<Why> {
    if force {
        return Some(Why::Forced);
    }
    if state.changed(scope, &p.key, &p.stamp) {
        return Some(Why::Changed);
    }
    match readback {
        Readback::Known(held) => {
            let kept = p
                .messages
                .iter()
                .all(|m| held.get(&m.topic).map(Vec::as_slice) == Some(m.payload.as_bytes()));
            (!kept).then_some(Why::Missing)
        }
        Readback::NotApplicable | Readback::Unknown => None,
    }
}

/// Publishes what `why` says must be, records the stamps of what was delivered, and returns
/// each product's index with the reason it was published (the others were unchanged).
pub async fn publish_products<S: Sink>(
    sink: &mut S,
    products: &[Product],
    state: &mut PublishState,
    scope: &str,
    force: bool,
    readback: &Readback,
) -> Result<Vec<(usize, Why)>, SinkError> {
    let todo: Vec<(usize, Why)> = products
        .iter()
        .enumerate()
        .filter_map(|(i, p)| Some((i, why(p, state, scope, force, readback)?)))
        .collect();
    let pb = if todo.len() >= PROGRESS_PUBLISH_MIN {
        ProgressBar::new(todo.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} products published") {
        pb.set_style(style);
    }
    for (i, _) in &todo {
        let p = &products[*i];
        sink.publish(&p.messages).await?;
        state.record(scope, &p.key, &p.stamp);
        pb.inc(1);
    }
    pb.finish_and_clear();
    Ok(todo)
}

/// Publishes the products whose stamp changed (all of them with `force`) and records the
/// stamps of what was delivered. Returns how many products were published.
pub async fn publish_changed<S: Sink>(
    sink: &mut S,
    products: &[Product],
    state: &mut PublishState,
    scope: &str,
    force: bool,
) -> Result<usize, SinkError> {
    let done = publish_products(
        sink,
        products,
        state,
        scope,
        force,
        &Readback::NotApplicable,
    )
    .await?;
    Ok(done.len())
}
