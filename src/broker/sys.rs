//! `$SYS/broker/...` topics, published retained every `sys_interval` seconds.

use super::router::Router;
use crate::protocol::{Props, QoS};
use crate::session::Message;
use crate::topic::TopicName;
use std::sync::Arc;
use std::sync::atomic::Ordering;
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

/// Publishes every counter once.
pub fn publish_all(router: &Router, started: Instant) {
    let s = &router.stats;
    let get = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed).to_string();
    publish(
        router,
        "$SYS/broker/uptime",
        format!("{} seconds", started.elapsed().as_secs()),
    );
    publish(router, "$SYS/broker/clients/connected", get(&s.connected));
    publish(
        router,
        "$SYS/broker/clients/total",
        router.session_count().to_string(),
    );
    publish(
        router,
        "$SYS/broker/messages/received",
        get(&s.msgs_received),
    );
    publish(router, "$SYS/broker/messages/sent", get(&s.msgs_sent));
    publish(
        router,
        "$SYS/broker/publish/messages/received",
        get(&s.msgs_received),
    );
    publish(
        router,
        "$SYS/broker/publish/messages/sent",
        get(&s.msgs_sent),
    );
    publish(
        router,
        "$SYS/broker/publish/messages/dropped",
        get(&s.dropped),
    );
    publish(
        router,
        "$SYS/broker/publish/messages/sys refused",
        get(&s.sys_refused),
    );
    publish(router, "$SYS/broker/packets/oversize", get(&s.oversize));
    publish(router, "$SYS/broker/store/refused", get(&s.store_refused));
    if let Some(store) = router.store() {
        let failed = store.failed_commits().to_string();
        publish(router, "$SYS/broker/store/failed commits", failed);
    }
    publish(router, "$SYS/broker/bytes/received", get(&s.bytes_received));
    publish(router, "$SYS/broker/bytes/sent", get(&s.bytes_sent));
    publish(
        router,
        "$SYS/broker/subscriptions/count",
        router.subscription_count().to_string(),
    );
    publish(
        router,
        "$SYS/broker/retained messages/count",
        router.retained_count().to_string(),
    );
}

/// Runs until shutdown; does nothing when `interval` is zero.
pub async fn run(router: Arc<Router>, interval: u64, mut shutdown: broadcast::Receiver<()>) {
    if interval == 0 {
        return;
    }
    let started = Instant::now();
    publish(&router, "$SYS/broker/version", version());
    let mut tick = tokio::time::interval(Duration::from_secs(interval));
    loop {
        tokio::select! {
            _ = tick.tick() => publish_all(&router, started),
            _ = shutdown.recv() => return,
        }
    }
}
