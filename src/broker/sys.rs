//! `$SYS/broker/...` topics, published retained every `sys_interval` seconds.

use super::router::{Counters, Router};
use crate::protocol::{Props, QoS};
use crate::session::Message;
use crate::topic::TopicName;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

/// True for the topics only the broker publishes to: `$SYS` and everything below it. Client
/// publishes there are dropped, retained ones are never stored (see `Link::admit`).
pub fn is_sys_topic(topic: &str) -> bool {
    topic
        .strip_prefix("$SYS")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Whether a client may publish to `topic`: not to `$SYS`, except a bridge's connection state
/// (`$SYS/broker/connection/<name>/state`), as mosquitto allows; and not to `$share/...`,
/// which names shared subscriptions and no message could ever match.
pub fn client_may_publish(topic: &str) -> bool {
    if topic == "$share" || topic.starts_with("$share/") {
        return false;
    }
    !is_sys_topic(topic) || crate::topic::matches("$SYS/broker/connection/+/state", topic)
}

/// The version string published on `$SYS/broker/version`.
pub fn version() -> String {
    format!("mq version {}", env!("CARGO_PKG_VERSION"))
}

fn publish(router: &Router, topic: &str, value: String) {
    if let Ok(topic) = TopicName::new(topic) {
        let msg = Message::new(topic, value.into(), QoS::AtMostOnce, true, Props::default());
        let _ = router.publish(Arc::new(msg), None);
    }
}

/// The `$SYS/broker/load/...` averages: for each counter, its rate per minute over the last
/// interval, smoothed exponentially over 1, 5 and 15 minutes as mosquitto does
/// (`new = rate + e^(-elapsed/window) * (old - rate)`), printed with two decimals.
struct Load {
    /// The counters' values at the previous update (None before the first one).
    last: Option<([u64; LOADS.len()], Instant)>,
    /// The averages, per counter, for 1, 5 and 15 minutes.
    avg: [[f64; 3]; LOADS.len()],
}

/// The counters averaged under `$SYS/broker/load/`, with their topic there.
const LOADS: [&str; 9] = [
    "messages/received",
    "messages/sent",
    "publish/dropped",
    "publish/received",
    "publish/sent",
    "bytes/received",
    "bytes/sent",
    "sockets",
    "connections",
];

/// The averaging windows, in seconds, with their topic suffix.
const WINDOWS: [(f64, &str); 3] = [(60.0, "1min"), (300.0, "5min"), (900.0, "15min")];

impl Load {
    fn new() -> Self {
        Load {
            last: None,
            avg: [[0.0; 3]; LOADS.len()],
        }
    }

    fn counts(s: &Counters) -> [u64; LOADS.len()] {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        [
            get(&s.packets_received),
            get(&s.packets_sent),
            get(&s.dropped),
            get(&s.msgs_received),
            get(&s.msgs_sent),
            get(&s.bytes_received),
            get(&s.bytes_sent),
            get(&s.sockets),
            get(&s.connects),
        ]
    }

    /// Folds in the counters' change since the last update; the first update only records
    /// them (the averages start at zero, as mosquitto's do).
    fn update(&mut self, now: [u64; LOADS.len()], at: Instant) {
        if let Some((before, then)) = self.last {
            let elapsed = at.duration_since(then).as_secs_f64();
            if elapsed > 0.0 {
                for (i, avg) in self.avg.iter_mut().enumerate() {
                    let rate = now[i].saturating_sub(before[i]) as f64 * 60.0 / elapsed;
                    for (w, (window, _)) in WINDOWS.iter().enumerate() {
                        let decay = (-elapsed / window).exp();
                        avg[w] = rate + decay * (avg[w] - rate);
                    }
                }
            }
        }
        self.last = Some((now, at));
    }

    fn publish(&self, router: &Router) {
        for (name, avg) in LOADS.iter().zip(&self.avg) {
            for ((_, suffix), value) in WINDOWS.iter().zip(avg) {
                let topic = format!("$SYS/broker/load/{name}/{suffix}");
                publish(router, &topic, format!("{value:.2}"));
            }
        }
    }
}

/// Heap in use now, in bytes, as the C allocator counts it (all arenas, mapped blocks
/// included); None where it cannot tell.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn heap_in_use() -> Option<u64> {
    // SAFETY: mallinfo2 only reads the allocator's statistics and returns them by value.
    let info = unsafe { libc::mallinfo2() };
    Some((info.uordblks + info.hblkhd) as u64)
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn heap_in_use() -> Option<u64> {
    None
}

/// What `$SYS` remembers between updates: the load averages and the maxima.
pub struct SysState {
    started: Instant,
    load: Load,
    clients_max: usize,
    heap_max: u64,
}

impl SysState {
    /// State for a broker started at `started`.
    pub fn new(started: Instant) -> Self {
        SysState {
            started,
            load: Load::new(),
            clients_max: 0,
            heap_max: 0,
        }
    }
}

fn publish_clients(router: &Router, state: &mut SysState) {
    let s = &router.stats;
    let total = router.session_count();
    let connected = s.connected.load(Ordering::Relaxed) as usize;
    let disconnected = total.saturating_sub(connected);
    state.clients_max = state.clients_max.max(total);
    let expired = s.clients_expired.load(Ordering::Relaxed);
    for (name, value) in [
        ("total", total as u64),
        ("maximum", state.clients_max as u64),
        ("connected", connected as u64),
        ("active", connected as u64),
        ("disconnected", disconnected as u64),
        ("inactive", disconnected as u64),
        ("expired", expired),
    ] {
        publish(
            router,
            &format!("$SYS/broker/clients/{name}"),
            value.to_string(),
        );
    }
}

fn publish_store(router: &Router) {
    let retained = router.retained_count();
    let (inflight, queued) = router.queue_totals();
    let stored = (retained + inflight + queued).to_string();
    publish(router, "$SYS/broker/store/messages/count", stored.clone());
    publish(router, "$SYS/broker/messages/stored", stored);
    let bytes = router.retained_bytes().to_string();
    publish(router, "$SYS/broker/store/messages/bytes", bytes);
    let retained = retained.to_string();
    publish(router, "$SYS/broker/retained messages/count", retained);
    let subs = router.subscription_count().to_string();
    publish(router, "$SYS/broker/subscriptions/count", subs);
    let shared = router.shared_subscription_count().to_string();
    publish(router, "$SYS/broker/shared_subscriptions/count", shared);
    if let Some(store) = router.store() {
        let failed = store.failed_commits().to_string();
        publish(router, "$SYS/broker/store/failed commits", failed);
    }
}

/// Publishes every topic once.
pub fn publish_all(router: &Router, state: &mut SysState) {
    let s = &router.stats;
    let uptime = format!("{} seconds", state.started.elapsed().as_secs());
    publish(router, "$SYS/broker/uptime", uptime);
    publish_clients(router, state);
    state.load.update(Load::counts(s), Instant::now());
    state.load.publish(router);
    publish_store(router);
    if let Some(heap) = heap_in_use() {
        state.heap_max = state.heap_max.max(heap);
        publish(router, "$SYS/broker/heap/current", heap.to_string());
        let max = state.heap_max.to_string();
        publish(router, "$SYS/broker/heap/maximum", max);
    }
    let get = |a: &AtomicU64| a.load(Ordering::Relaxed).to_string();
    for (topic, counter) in [
        ("messages/received", &s.packets_received),
        ("messages/sent", &s.packets_sent),
        ("publish/messages/received", &s.msgs_received),
        ("publish/messages/sent", &s.msgs_sent),
        ("publish/messages/dropped", &s.dropped),
        ("publish/messages/sys refused", &s.sys_refused),
        ("publish/bytes/received", &s.pub_bytes_received),
        ("publish/bytes/sent", &s.pub_bytes_sent),
        ("bytes/received", &s.bytes_received),
        ("bytes/sent", &s.bytes_sent),
        ("packets/oversize", &s.oversize),
        ("store/refused", &s.store_refused),
    ] {
        publish(router, &format!("$SYS/broker/{topic}"), get(counter));
    }
}

/// Runs until shutdown; does nothing when `interval` is zero.
pub async fn run(router: Arc<Router>, interval: u64, mut shutdown: broadcast::Receiver<()>) {
    if interval == 0 {
        return;
    }
    let mut state = SysState::new(Instant::now());
    publish(&router, "$SYS/broker/version", version());
    let mut tick = tokio::time::interval(Duration::from_secs(interval));
    loop {
        tokio::select! {
            _ = tick.tick() => publish_all(&router, &mut state),
            _ = shutdown.recv() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_is_a_per_minute_rate_decaying_over_each_window() {
        let mut load = Load::new();
        let t0 = Instant::now();
        let mut counts = [0; LOADS.len()];
        load.update(counts, t0);
        assert_eq!(load.avg[0], [0.0; 3], "the first update only records");
        // One packet in one minute: a rate of 1 per minute, weighted 1 - e^(-60/window).
        counts[0] = 1;
        load.update(counts, t0 + Duration::from_secs(60));
        let want = WINDOWS.map(|(w, _)| 1.0 - (-60.0 / w).exp());
        for (got, want) in load.avg[0].iter().zip(want) {
            assert!((got - want).abs() < 1e-9, "{got} {want}");
        }
        assert_eq!(load.avg[1], [0.0; 3], "other counters did not move");
        // Nothing more: the averages decay towards zero.
        let before = load.avg[0];
        load.update(counts, t0 + Duration::from_secs(120));
        assert!(load.avg[0].iter().zip(before).all(|(a, b)| *a < b));
    }

    #[test]
    fn heap_in_use_is_known_on_glibc() {
        if cfg!(all(target_os = "linux", target_env = "gnu")) {
            assert!(heap_in_use().is_some_and(|n| n > 0));
        }
    }
}
