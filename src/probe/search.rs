//! Finding a limit by trial: double until a trial fails (or the ceiling passes), then bisect
//! between the largest size that passed and the smallest that failed. Pure bookkeeping, so the
//! checks that send packets stay short and the strategy is tested without a broker.

use serde_json::{Value, json};

/// Where a search stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Search {
    start: u64,
    ceiling: u64,
    passed: u64,
    failed: Option<u64>,
}

/// What a search found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    /// Even the first trial failed: the limit is below this size.
    Below(u64),
    /// The ceiling passed: there is no limit up to it.
    Ceiling(u64),
    /// The exact limit: this size passed and the next one failed.
    Exact(u64),
    /// The search stopped (time ran out) with the limit in `passed ..< failed`.
    Between {
        /// Largest size that passed.
        passed: u64,
        /// Smallest size that failed (or the ceiling, not tried).
        failed: u64,
    },
}

impl Search {
    /// A search that starts at `start` and never tries beyond `ceiling`.
    pub fn new(start: u64, ceiling: u64) -> Search {
        Search {
            start: start.clamp(1, ceiling.max(1)),
            ceiling,
            passed: 0,
            failed: None,
        }
    }

    /// The next size to try, or `None` when the limit is known.
    pub fn next(&self) -> Option<u64> {
        match self.failed {
            Some(f) if f <= self.passed + 1 => None,
            Some(_) if self.passed == 0 && self.tried_below_start() => None,
            Some(f) => Some(self.passed + (f - self.passed) / 2),
            None if self.passed >= self.ceiling => None,
            None if self.passed == 0 => Some(self.start),
            None => Some(self.passed.saturating_mul(2).min(self.ceiling)),
        }
    }

    /// Below the first size nothing is tried: a broker that refuses the smallest trial is
    /// reported as such rather than searched down to one byte.
    fn tried_below_start(&self) -> bool {
        self.failed == Some(self.start)
    }

    /// Records the outcome of a trial of `size`.
    pub fn record(&mut self, size: u64, passed: bool) {
        if passed {
            self.passed = self.passed.max(size);
        } else {
            self.failed = Some(self.failed.map_or(size, |f| f.min(size)));
        }
    }

    /// What is known now (call when [`Search::next`] is `None`, or when time ran out).
    pub fn found(&self) -> Found {
        match self.failed {
            None if self.passed >= self.ceiling => Found::Ceiling(self.ceiling),
            Some(f) if self.passed == 0 && f == self.start => Found::Below(f),
            Some(f) if f == self.passed + 1 => Found::Exact(self.passed),
            failed => Found::Between {
                passed: self.passed,
                failed: failed.unwrap_or(self.ceiling),
            },
        }
    }
}

impl Found {
    /// The figure for people, with `unit` after numbers (`bytes`, `characters`).
    pub fn describe(&self, unit: &str, ceiling_note: &str) -> String {
        use super::outcome::fmt_count as n;
        match *self {
            Found::Below(f) => format!("refused even {} {unit}", n(f)),
            Found::Ceiling(c) => format!("{} {unit} ({ceiling_note})", n(c)),
            Found::Exact(x) => format!("{} {unit}", n(x)),
            Found::Between { passed, failed } => format!(
                "at least {} {unit}, less than {} (time limit reached)",
                n(passed),
                n(failed)
            ),
        }
    }

    /// The figure for programs.
    pub fn json(&self) -> Value {
        match *self {
            Found::Below(f) => json!({"max": null, "refused": f}),
            Found::Ceiling(c) => json!({"max": c, "ceiling": true}),
            Found::Exact(x) => json!({"max": x}),
            Found::Between { passed, failed } => {
                json!({"max": null, "at_least": passed, "less_than": failed})
            }
        }
    }

    /// The largest size known to pass.
    pub fn largest_passed(&self) -> Option<u64> {
        match *self {
            Found::Below(_) => None,
            Found::Ceiling(x) | Found::Exact(x) => Some(x),
            Found::Between { passed, .. } => (passed > 0).then_some(passed),
        }
    }
}

/// A search driven by trials that take time: records each outcome, remembers how the latest
/// failing trial was refused, and stops at a deadline.
#[derive(Debug)]
pub struct Trials {
    /// The search.
    pub search: Search,
    /// How the latest failing trial was refused.
    pub refusal: Option<String>,
    deadline: tokio::time::Instant,
}

impl Trials {
    /// Trials of `search` until `deadline`.
    pub fn new(search: Search, deadline: tokio::time::Instant) -> Trials {
        Trials {
            search,
            refusal: None,
            deadline,
        }
    }

    /// Awaits `trial` of `size` and records it; false when time ran out first.
    pub async fn run(
        &mut self,
        size: u64,
        trial: impl std::future::Future<Output = Result<(), String>>,
    ) -> bool {
        let Ok(result) = tokio::time::timeout_at(self.deadline, trial).await else {
            return false;
        };
        if let Err(why) = &result {
            self.refusal = Some(why.clone());
        }
        self.search.record(size, result.is_ok());
        true
    }

    /// What was found, and how sizes above it were refused when the limit is known.
    pub fn figure(&self, unit: &str, ceiling_note: &str) -> String {
        let found = self.search.found();
        let mut figure = found.describe(unit, ceiling_note);
        if let (Some(why), Found::Exact(_) | Found::Below(_)) = (&self.refusal, found) {
            figure.push_str(&format!("; larger: {why}"));
        }
        figure
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a search against a broker whose limit is `limit`, returning the result and the
    /// sizes tried.
    fn against(limit: u64, start: u64, ceiling: u64) -> (Found, Vec<u64>) {
        let mut s = Search::new(start, ceiling);
        let mut tried = Vec::new();
        while let Some(n) = s.next() {
            assert!(tried.len() < 100, "search does not end: {tried:?}");
            tried.push(n);
            s.record(n, n <= limit);
        }
        (s.found(), tried)
    }

    #[test]
    fn doubling_then_bisection_finds_the_exact_limit() {
        let (found, tried) = against(1000, 64, 1 << 20);
        assert_eq!(found, Found::Exact(1000));
        assert_eq!(&tried[..5], &[64, 128, 256, 512, 1024]);
        assert!(tried.len() <= 5 + 10, "{tried:?}");
    }

    #[test]
    fn no_limit_up_to_the_ceiling() {
        let (found, tried) = against(u64::MAX, 1024, 268_435_439);
        assert_eq!(found, Found::Ceiling(268_435_439));
        assert_eq!(tried.last(), Some(&268_435_439));
        assert_eq!(
            tried.len(),
            19,
            "1 KiB .. 128 MiB, then the ceiling: {tried:?}"
        );
    }

    #[test]
    fn limit_just_below_the_ceiling_and_below_the_start() {
        assert_eq!(against(99, 10, 100).0, Found::Exact(99));
        assert_eq!(against(5, 10, 100).0, Found::Below(10));
        assert_eq!(against(10, 10, 100).0, Found::Exact(10));
        assert_eq!(against(0, 1, 100).0, Found::Below(1));
    }

    #[test]
    fn stopping_early_gives_the_bracket() {
        let mut s = Search::new(64, 1 << 20);
        for n in [64, 128, 256] {
            s.record(n, true);
        }
        s.record(512, false);
        assert_eq!(s.next(), Some(384));
        let f = s.found();
        assert_eq!(
            f,
            Found::Between {
                passed: 256,
                failed: 512
            }
        );
        assert_eq!(f.largest_passed(), Some(256));
        assert!(f.describe("bytes", "").contains("at least 256 bytes"));
        assert_eq!(f.json()["less_than"], 512);
    }
}
