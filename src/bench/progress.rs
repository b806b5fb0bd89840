//! Live output once a second: an indicatif bar on a terminal, plain lines when stderr is piped,
//! JSON lines on stdout under `--json-every-second`, nothing under `--quiet`.

use super::report::Tick;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};

/// Where the per-second lines go.
pub enum Progress {
    /// A bar of connected clients with the live rates as its message.
    Bar(ProgressBar),
    /// One plain line per second on stderr.
    Plain,
    /// One JSON object per line on stdout.
    Json,
    /// Nothing.
    Quiet,
}

impl Progress {
    /// Picks the display for these flags and the current stderr.
    pub fn new(clients: u64, json_every_second: bool, quiet: bool) -> Progress {
        if json_every_second {
            Progress::Json
        } else if quiet {
            Progress::Quiet
        } else if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(Some(clients), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template("{elapsed:>4} [{bar:20}] {pos}/{len} {msg}")
                .map(|s| s.progress_chars("=> "))
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            Progress::Bar(bar)
        } else {
            Progress::Plain
        }
    }

    /// Shows one second.
    pub fn tick(&self, tick: &Tick) {
        match self {
            Progress::Bar(bar) => {
                bar.set_position(tick.counts.connected);
                let (c, r) = (&tick.counts, &tick.rates);
                bar.set_message(format!(
                    "fail {} drop {} | pub {:.0}/s ack {:.0}/s recv {:.0}/s",
                    c.failed, c.dropped, r.sent_per_s, r.acked_per_s, r.received_per_s
                ));
            }
            Progress::Plain => eprintln!("{}", tick.plain()),
            Progress::Json => {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{}", tick.json());
                let _ = out.flush();
            }
            Progress::Quiet => {}
        }
    }

    /// Prints a diagnostic line without tearing the bar.
    pub fn note(&self, line: &str) {
        match self {
            Progress::Bar(bar) => bar.suspend(|| eprintln!("{line}")),
            _ => eprintln!("{line}"),
        }
    }

    /// Removes the bar before the summary.
    pub fn finish(&self) {
        if let Progress::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}
