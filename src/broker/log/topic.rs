//! `log_dest topic`: log lines published on `$SYS/broker/log/E`, `W`, `N`,
//! `M/subscribe` and `M/unsubscribe`, not retained, as mosquitto does.
//!
//! A line is logged from anywhere, often while the router is locked, so it is only queued
//! there; one task per broker publishes the queue. The queue is bounded: under a flood the
//! oldest lines are dropped, never the broker's memory.

use super::Output;
use crate::broker::router::Router;
use crate::protocol::{Props, QoS};
use crate::session::Message;
use crate::topic::TopicName;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tokio::sync::{Notify, broadcast};

/// Lines kept waiting for the publishing task.
pub const QUEUE_LINES: usize = 1000;

/// Log lines waiting to be published.
#[derive(Default)]
pub struct TopicQueue {
    lines: Mutex<VecDeque<(&'static str, String)>>,
    ready: Notify,
}

impl TopicQueue {
    /// Queues `line` for `topic`, dropping the oldest line when full.
    pub fn push(&self, topic: &'static str, line: String) {
        let mut lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        if lines.len() >= QUEUE_LINES {
            lines.pop_front();
        }
        lines.push_back((topic, line));
        drop(lines);
        self.ready.notify_one();
    }

    fn take(&self) -> VecDeque<(&'static str, String)> {
        std::mem::take(&mut *self.lines.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Publishes queued log lines until `stop` fires.
pub async fn run(output: &'static Output, router: Arc<Router>, mut stop: broadcast::Receiver<()>) {
    loop {
        tokio::select! {
            _ = output.topic.ready.notified() => {}
            _ = stop.recv() => return,
        }
        for (topic, line) in output.topic.take() {
            if let Ok(topic) = TopicName::new(topic) {
                let msg = Message::new(
                    topic,
                    line.into(),
                    QoS::ExactlyOnce,
                    false,
                    Props::default(),
                );
                let _ = router.publish(Arc::new(msg), None);
            }
        }
    }
}
