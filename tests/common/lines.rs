//! Lines a child process writes, collected by a reader thread so a test can wait for the one
//! that says something happened (a log line, a SUBACK, a delivered message) instead of
//! sleeping and hoping.

use std::io::{BufRead, BufReader, Read};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long a test waits for an event before it fails: generous, because the machine running
/// the suite may be busy; an event that comes returns the wait at once.
pub const PATIENCE: Duration = Duration::from_secs(10);

#[derive(Default)]
struct State {
    lines: Vec<String>,
    /// Readers still attached (each pipe's thread counts until its end of file).
    open: usize,
}

/// A shared, growing list of lines; cloning it shares the list.
#[derive(Clone, Default)]
pub struct Lines(Arc<(Mutex<State>, Condvar)>);

impl Lines {
    /// An empty list.
    pub fn new() -> Lines {
        Lines::default()
    }

    /// Appends every line of `pipe` from a background thread until it closes.
    pub fn follow(&self, pipe: impl Read + Send + 'static) {
        self.lock().open += 1;
        let me = self.clone();
        std::thread::spawn(move || {
            // Split on newlines as bytes: a peer may print a payload that is not UTF-8.
            for line in BufReader::new(pipe).split(b'\n').map_while(Result::ok) {
                let line = String::from_utf8_lossy(&line).into_owned();
                me.lock().lines.push(line);
                me.0.1.notify_all();
            }
            me.lock().open -= 1;
            me.0.1.notify_all();
        });
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.0.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every line so far.
    pub fn lines(&self) -> Vec<String> {
        self.lock().lines.clone()
    }

    /// Every line so far, each ended by a newline.
    pub fn text(&self) -> String {
        self.lock().lines.iter().map(|l| format!("{l}\n")).collect()
    }

    /// How many lines have come so far (a mark for [`Lines::wait_after`]).
    pub fn len(&self) -> usize {
        self.lock().lines.len()
    }

    /// How many lines so far satisfy `pred`.
    pub fn count(&self, pred: impl Fn(&str) -> bool) -> usize {
        self.lock().lines.iter().filter(|l| pred(l)).count()
    }

    /// True when some line contains `needle`.
    pub fn contains(&self, needle: &str) -> bool {
        self.count(|l| l.contains(needle)) > 0
    }

    /// Waits up to `limit` until `done` holds for the lines so far; false when it never did
    /// (also once every pipe has closed without it).
    pub fn wait_until(&self, limit: Duration, mut done: impl FnMut(&[String]) -> bool) -> bool {
        let end = Instant::now() + limit;
        let mut st = self.lock();
        loop {
            if done(&st.lines) {
                return true;
            }
            let now = Instant::now();
            if now >= end || st.open == 0 {
                return false;
            }
            st = self
                .0
                .1
                .wait_timeout(st, end - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Waits (up to [`PATIENCE`]) for a line from index `mark` on that satisfies `pred`;
    /// returns it, or `None`.
    pub fn wait_after(&self, mark: usize, pred: impl Fn(&str) -> bool) -> Option<String> {
        let mut found = None;
        self.wait_until(PATIENCE, |lines| {
            found = lines.iter().skip(mark).find(|l| pred(l)).cloned();
            found.is_some()
        });
        found
    }

    /// Waits (up to [`PATIENCE`]) for a line containing `needle`; panics with every line when
    /// none comes.
    pub fn wait_for(&self, needle: &str) -> String {
        self.wait_after(0, |l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle:?} in:\n{}", self.text()))
    }

    /// Waits up to `limit` until every pipe has closed (the writer exited and was read out).
    pub fn wait_closed(&self, limit: Duration) -> bool {
        let end = Instant::now() + limit;
        let mut st = self.lock();
        while st.open > 0 {
            let now = Instant::now();
            if now >= end {
                return false;
            }
            st = self
                .0
                .1
                .wait_timeout(st, end - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }
}
