//! An in-process `mq broker` whose bridges, router and reload handle a test can reach, for the
//! bridge tests (a mosquitto peer, or a fake remote broker made of raw packets).

use super::{PATIENCE, test_config};
use mq::broker::bridge::Bridges;
use mq::broker::bridge::status::State;
use mq::broker::config::Config;
use mq::broker::router::Router;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// An in-process `mq broker` on 127.0.0.1:0 with the bridges of `text`.
pub struct Mq {
    /// Its listener's port.
    pub port: u16,
    /// Its bridges.
    pub bridges: Arc<Bridges>,
    /// Its router.
    pub router: Arc<Router>,
    /// Its reload handle.
    pub reloader: mq::broker::Reloader,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

/// The config of an in-process `mq`: the test listener and the bridges of `text`.
pub fn mq_config(text: &str) -> Config {
    let parsed = Config::parse_str(text, Path::new("bridge.conf")).expect("bridge config");
    let mut c = test_config();
    c.bridges = parsed.bridges;
    c
}

impl Mq {
    /// Starts `config` on this runtime.
    pub async fn start(config: Config) -> Mq {
        let broker = mq::broker::Broker::bind(config).await.expect("mq binds");
        let port = broker.local_addrs()[0].port();
        let (bridges, router, reloader) = (broker.bridges(), broker.router(), broker.reloader());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(broker.run(async move {
            let _ = rx.await;
        }));
        Mq {
            port,
            bridges,
            router,
            reloader,
            stop: Some(tx),
            task,
        }
    }

    /// Starts the test config with the bridges of `text`.
    pub async fn with_bridges(text: &str) -> Mq {
        Mq::start(mq_config(text)).await
    }

    /// The state of bridge `name` (stopped when there is none).
    pub fn state(&self, name: &str) -> State {
        self.bridges
            .registry()
            .get(name)
            .map_or(State::Stopped, |b| b.state())
    }

    /// Waits until bridge `name` is connected.
    pub async fn connected(&self, name: &str) {
        let ok = wait_for(|| self.state(name) == State::Connected).await;
        assert!(ok, "bridge {name} did not connect: {:?}", self.state(name));
    }

    /// Stops the broker and waits for it; the store is closed once nothing holds the router.
    pub async fn stop(self) {
        let Mq {
            stop,
            task,
            bridges,
            router,
            reloader,
            ..
        } = self;
        drop((bridges, router, reloader));
        if let Some(s) = stop {
            let _ = s.send(());
        }
        let _ = task.await;
    }
}

/// Polls `done` every 20 ms for up to [`PATIENCE`].
pub async fn wait_for(mut done: impl FnMut() -> bool) -> bool {
    let end = tokio::time::Instant::now() + PATIENCE;
    while !done() {
        if tokio::time::Instant::now() > end {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}
