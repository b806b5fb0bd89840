//! `mq bench`: check the arguments into a plan (raising the file limit first), run it, print the
//! summary.

use crate::bench::{self, Output, Plan};
use crate::cli::bench::BenchArgs;
use std::io::Write;
use std::process::ExitCode;

/// A checked run, ready for a runtime.
#[derive(Debug)]
pub struct Job {
    plan: Plan,
    output: Output,
    json: bool,
}

/// Raises the soft limit on open files to the hard limit; returns `(soft, hard)` afterwards.
pub fn raise_nofile_limit() -> (u64, u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return (1024, 1024);
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim = raised;
            }
        }
    }
    (lim.rlim_cur, lim.rlim_max)
}

/// Checks `args` before any network I/O; a usage error is printed and returned as exit status 1.
pub fn prepare(args: &BenchArgs) -> Result<Job, ExitCode> {
    let limits = raise_nofile_limit();
    let plan = Plan::from_args(args, limits).map_err(|e| {
        eprintln!("Error: {e}");
        ExitCode::from(1)
    })?;
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
        },
        json: args.json,
    })
}

impl Job {
    /// Runs the plan and prints the summary on stdout.
    pub async fn run(self) -> ExitCode {
        let with_messages = self.plan.publishers + self.plan.subscribers > 0;
        match bench::run(self.plan, self.output).await {
            Ok(summary) => {
                // Under --json-every-second stdout is a stream of JSON lines: the summary is one too.
                let text = if self.output.json_every_second {
                    summary.json_line()
                } else if self.json {
                    summary.json()
                } else {
                    summary.table(with_messages)
                };
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{}", text.trim_end());
                let _ = out.flush();
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("Error: {e}");
                ExitCode::from(e.exit_code())
            }
        }
    }
}
