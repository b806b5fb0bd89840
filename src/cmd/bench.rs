//! `mq bench`: check the arguments into a plan (raising the file limit first), run it, print the
//! summary.

use super::Error;
use crate::bench::csv::CsvLog;
use crate::bench::{self, Output, Plan, PlanError};
use crate::cli::bench::BenchArgs;
use std::io::Write;
use std::path::PathBuf;

/// A checked run, ready for a runtime.
#[derive(Debug)]
struct Job {
    plan: Plan,
    output: Output,
    json: bool,
}

/// Runs `mq bench`: checks the arguments before any network I/O, runs the plan and prints
/// the summary.
pub async fn run(args: Box<BenchArgs>) -> Result<(), Error> {
    prepare(&args)?.run().await
}

/// Checks `args` into a job (raising the open-file limit first, since the plan is sized by it).
fn prepare(args: &BenchArgs) -> Result<Job, Error> {
    let limits = crate::process::raise_nofile_limit();
    let plan = Plan::from_args(args, limits)?;
    if plan.publishers > 0 && plan.size < bench::message::STAMP_LEN {
        eprintln!(
            "Warning: payloads under {} bytes carry no timestamp; latency is not measured.",
            bench::message::STAMP_LEN
        );
    }
    Ok(Job {
        plan,
        output: Output {
            json_every_second: args.json_every_second,
            quiet: args.quiet,
            csv: create_csv(args)?,
            hdr_out: check_hdr_out(args)?,
        },
        json: args.json,
    })
}

/// Opens the `--csv` file now, so that a bad path fails before any connection.
fn create_csv(args: &BenchArgs) -> Result<Option<(CsvLog, PathBuf)>, PlanError> {
    let Some(path) = &args.csv else {
        return Ok(None);
    };
    CsvLog::create(path)
        .map(|log| Some((log, path.clone())))
        .map_err(|e| PlanError::Output(format!("{}: {e}", path.display())))
}

/// Creates the `--hdr-out` file now (it is written at the end), for the same reason.
fn check_hdr_out(args: &BenchArgs) -> Result<Option<PathBuf>, PlanError> {
    let Some(path) = &args.hdr_out else {
        return Ok(None);
    };
    std::fs::File::create(path)
        .map(|_| Some(path.clone()))
        .map_err(|e| PlanError::Output(format!("{}: {e}", path.display())))
}

impl Job {
    /// Runs the plan and prints the summary on stdout.
    async fn run(self) -> Result<(), Error> {
        let with_messages = self.plan.publishers + self.plan.subscribers > 0;
        let json_lines = self.output.json_every_second;
        let summary = bench::run(self.plan, self.output).await?;
        // Under --json-every-second stdout is a stream of JSON lines: the summary is one too.
        let text = if json_lines {
            summary.json_line()
        } else if self.json {
            summary.json()
        } else {
            summary.table(with_messages)
        };
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", text.trim_end());
        let _ = out.flush();
        Ok(())
    }
}
