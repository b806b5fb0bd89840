//! `mq test`: check the connection flags into a target, run the checks, print one line (or one
//! JSON object) per check as results come, with a spinner per running check on a terminal.

use super::{Error, Tool};
use crate::cli::WillArgs;
use crate::cli::connect::{self, Usage};
use crate::cli::properties::PropertyArgs;
use crate::cli::test::TestArgs;
use crate::probe::{self, Check, Observer, Outcome, Target};
use crate::protocol::Version;
use crate::topic::TopicName;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::time::Duration;

/// The checked command line.
struct Plan {
    target: Target,
    versions: Vec<Version>,
    /// `--quiet`: the exit status without the closing error message.
    quiet: bool,
}

/// Refuses the session flags that would break the run's promise to leave nothing behind, or
/// that one fixed client id cannot serve (a run opens many connections at once).
fn refuse_session_flags(a: &TestArgs) -> Result<(), Usage> {
    let c = &a.client;
    let refused = if c.id.is_some() {
        Some("-i: mq test opens many connections at once; give a prefix with -I")
    } else if c.disable_clean_session || c.session_expiry.is_some() {
        Some("-c and -x: mq test never keeps a session")
    } else if !c.property.is_empty() {
        Some("-D: mq test sets the properties each check needs")
    } else {
        None
    };
    refused.map_or(Ok(()), |m| Err(Usage(m.into())))
}

fn plan(a: &TestArgs) -> Result<Plan, Error> {
    let usage = Error::usage(Tool::Test);
    refuse_session_flags(a).map_err(usage)?;
    if a.per_check.is_zero() {
        return Err(usage(Usage("-t must be greater than zero".into())));
    }
    let sample = format!("{}/x", a.topic_prefix);
    if a.topic_prefix.starts_with('$') || TopicName::new(sample.as_str()).is_err() {
        return Err(usage(Usage(format!(
            "Invalid --topic-prefix '{}': a topic without wildcards, not starting with $.",
            a.topic_prefix
        ))));
    }
    let conn = connect::plan(
        &a.server,
        Version::V311,
        &a.client,
        &a.tls,
        &WillArgs::default(),
        &PropertyArgs::default(),
        false,
    )
    .map_err(usage)?;
    let id_prefix = a.client.id_prefix.as_deref().unwrap_or("mqt-");
    Ok(Plan {
        target: Target::new(conn.options, id_prefix, &a.topic_prefix, a.per_check),
        versions: a.versions.versions(),
        quiet: conn.quiet,
    })
}

/// Runs `mq test`: exit status 0 when the broker let us in, 1 otherwise.
pub async fn run(args: Box<TestArgs>) -> Result<(), Error> {
    let plan = plan(&args)?;
    let mut report = Report::new(args.json);
    let result = probe::run(&plan.target, &plan.versions, &mut report).await;
    report.clear();
    result.map_err(|e| Error::from(e).quiet_if(plan.quiet))
}

/// Prints outcomes on stdout and shows a spinner per running check on a terminal's stderr.
struct Report {
    json: bool,
    bars: Option<MultiProgress>,
    running: Vec<ProgressBar>,
}

impl Report {
    fn new(json: bool) -> Report {
        let bars = std::io::stderr()
            .is_terminal()
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Report {
            json,
            bars,
            running: Vec::new(),
        }
    }

    fn clear(&mut self) {
        for bar in self.running.drain(..) {
            bar.finish_and_clear();
        }
    }

    fn print(&self, outcomes: &[Outcome]) {
        let mut out = std::io::stdout().lock();
        for o in outcomes {
            let line = if self.json { o.json() } else { o.line() };
            let _ = writeln!(out, "{line}");
        }
        let _ = out.flush();
    }
}

impl Observer for Report {
    fn start(&mut self, checks: &[Check]) {
        let Some(bars) = &self.bars else {
            return;
        };
        let style = ProgressStyle::with_template("{spinner} {msg} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        for check in checks {
            let bar = bars.add(ProgressBar::new_spinner());
            bar.set_style(style.clone());
            bar.set_message(check.label());
            bar.enable_steady_tick(Duration::from_millis(100));
            self.running.push(bar);
        }
    }

    fn done(&mut self, outcomes: &[Outcome]) {
        self.clear();
        match &self.bars {
            Some(bars) => bars.suspend(|| self.print(outcomes)),
            None => self.print(outcomes),
        }
    }
}
