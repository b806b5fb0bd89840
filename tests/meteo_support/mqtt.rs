//! Reading what `mq meteo` left on a [`TestBroker`]: its retained messages, and a live
//! subscriber that collects what one run publishes; `mq meteo` itself in the background.
//!
//! A mosquitto broker is read with `mosquitto_sub`, an `mq broker` with `mq sub`.

use crate::common::clients::MARK;
use crate::common::{ChildGuard, Kind, PATIENCE, Peer, TestBroker, mq_path};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A mosquitto_sub-compatible subscriber for `broker`, with `-h 127.0.0.1 -p PORT`.
fn sub_command(broker: &TestBroker) -> Command {
    let mut c = match broker.kind() {
        Some(Kind::Mosquitto) => Command::new(Peer::MosquittoClients.program("mosquitto_sub")),
        _ => {
            let mut c = Command::new(mq_path());
            c.arg("sub");
            c
        }
    };
    c.args(broker.client_args());
    c
}

/// The retained messages under `filter`, as (topic, payload): what a subscriber gets within
/// a second of subscribing.
pub fn retained(broker: &TestBroker, filter: &str) -> Vec<(String, String)> {
    let out = sub_command(broker)
        .args(["-t", filter, "-v", "-W", "1"])
        .output()
        .expect("subscriber");
    super::lines(&out.stdout)
}

/// Polls until `topic` is retained with a payload `accept` likes, for up to `secs` seconds.
pub fn wait_retained(
    broker: &TestBroker,
    topic: &str,
    accept: impl Fn(&str) -> bool,
    secs: u64,
) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        // One retained message on one topic: -C 1 returns as soon as it is there.
        let out = sub_command(broker)
            .args(["-t", topic, "-v", "-C", "1", "--retained-only", "-W", "1"])
            .output()
            .expect("subscriber");
        if super::lines(&out.stdout)
            .iter()
            .any(|(t, p)| t == topic && accept(p))
        {
            return true;
        }
    }
    false
}

/// A live subscriber on `filter` (which ends in `/#`) that ignores retained messages.
pub fn live(broker: &TestBroker, filter: &str) -> Live {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let id = format!("live-{}", NEXT.fetch_add(1, Ordering::Relaxed));
    let child = ChildGuard::spawn(
        sub_command(broker).args(["-t", filter, "-v", "-R", "-q", "1", "-i", &id]),
    );
    broker.wait_subscribed_by(&id, filter);
    let base = filter.strip_suffix("/#").expect("a filter ending in /#");
    Live {
        child,
        mark: format!("{base}/{MARK}"),
        port: broker.port(),
    }
}

/// A running live subscriber; [`Live::finish`] returns what came.
pub struct Live {
    child: ChildGuard,
    /// The topic of the marker that ends the collection.
    mark: String,
    port: u16,
}

impl Live {
    /// Publishes a marker after what the test published and returns every message that came
    /// before it: the broker delivers in order, so nothing published earlier can still come.
    pub fn finish(mut self) -> Vec<(String, String)> {
        let st = Command::new(mq_path())
            .args(["pub", "-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-q", "1", "-t", &self.mark, "-m", MARK])
            .status()
            .expect("mq pub");
        assert!(st.success(), "marker publish");
        let line = format!("{} {MARK}", self.mark);
        let came = self
            .child
            .stdout
            .wait_until(PATIENCE, |lines| lines.contains(&line));
        assert!(came, "marker never arrived: {}", self.child.stdout.text());
        self.child.kill();
        let text = self.child.stdout.text();
        super::lines(text.as_bytes())
            .into_iter()
            .filter(|(t, _)| *t != self.mark)
            .collect()
    }
}

/// A background `mq meteo`, its output collected; killed on drop.
pub struct Background {
    /// The process and what it printed.
    pub child: ChildGuard,
}

impl Background {
    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(mut self) -> Option<i32> {
        self.child.signal(libc::SIGTERM);
        self.child.wait_timeout(PATIENCE).and_then(|s| s.code())
    }

    /// Kills it with SIGKILL (no goodbye: the broker publishes the will).
    pub fn kill(mut self) {
        self.child.kill();
    }

    /// Waits for the `--dry-run` line about `topic` and returns its payload.
    pub fn read_until(&self, topic: &str) -> String {
        let prefix = format!("{topic} ");
        let line = self
            .child
            .stdout
            .wait_after(0, |l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("{topic} never printed:\n{}", self.child.stdout.text()));
        line[prefix.len()..].to_owned()
    }

    /// Waits for a line on its stderr containing `needle`.
    pub fn wait_stderr(&self, needle: &str) -> String {
        self.child.stderr.wait_for(needle)
    }
}
