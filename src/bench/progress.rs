//! Live output once a second: an indicatif bar on a terminal, plain lines when stderr is piped,
//! JSON lines on stdout under `--json-every-second`, nothing under `--quiet`. A `conn` run has
//! no messages, so its lines show connections only.

use super::report::Tick;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};

/// Where the per-second lines go.
enum Sink {
    /// A bar of connected clients with the live rates as its message.
    Bar(ProgressBar),
    /// One plain line per second on stderr.
    Plain,
    /// One JSON object per line on stdout.
    Json,
    /// Nothing.
    Quiet,
}

/// The per-second display of a run.
pub struct Progress {
    sink: Sink,
    /// True for `conn`: no message counters to show.
    conn_only: bool,
}

impl Progress {
    /// Picks the display for these flags and the current stderr.
    pub fn new(clients: u64, conn_only: bool, json_every_second: bool, quiet: bool) -> Progress {
        let sink = if json_every_second {
            Sink::Json
        } else if quiet {
            Sink::Quiet
        } else if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(Some(clients), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template("{elapsed:>4} [{bar:20}] {pos}/{len} {msg}")
                .map(|s| s.progress_chars("=> "))
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            Sink::Bar(bar)
        } else {
            Sink::Plain
        };
        Progress { sink, conn_only }
    }

    /// Shows one second.
    pub fn tick(&self, tick: &Tick) {
        match &self.sink {
            Sink::Bar(bar) => {
                bar.set_position(tick.counts.connected);
                bar.set_message(self.bar_message(tick));
            }
            Sink::Plain => eprintln!("{}", tick.plain(self.conn_only)),
            Sink::Json => {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{}", tick.json());
                let _ = out.flush();
            }
            Sink::Quiet => {}
        }
    }

    fn bar_message(&self, tick: &Tick) -> String {
        let (c, r) = (&tick.counts, &tick.rates);
        if self.conn_only {
            format!(
                "fail {} drop {} | {:.0} connects/s",
                c.failed, c.dropped, r.connects_per_s
            )
        } else {
            format!(
                "fail {} drop {} | pub {:.0}/s ack {:.0}/s recv {:.0}/s",
                c.failed, c.dropped, r.sent_per_s, r.acked_per_s, r.received_per_s
            )
        }
    }

    /// Prints a diagnostic line without tearing the bar.
    pub fn note(&self, line: &str) {
        match &self.sink {
            Sink::Bar(bar) => bar.suspend(|| eprintln!("{line}")),
            _ => eprintln!("{line}"),
        }
    }

    /// Removes the bar before the summary.
    pub fn finish(&self) {
        if let Sink::Bar(bar) = &self.sink {
            bar.finish_and_clear();
        }
    }
}
