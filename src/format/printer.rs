//! How sub and rr print a message: payload only, `-v`, `-F`, or `--json`, with or without the
//! end of line, exactly as mosquitto_sub does (an empty payload prints nothing without `-v`).

use crate::cli::OutputArgs;
use crate::format::{Format, FormatError, JsonMode, json_object};
use crate::protocol::Publish;
use std::io::{self, Write};

/// The chosen output.
#[derive(Debug)]
pub enum Style {
    /// Payload (with `-v`: `topic payload`, or `topic (null)` when empty).
    Plain {
        /// `-v`.
        verbose: bool,
    },
    /// `-F`.
    Format(Format),
    /// `--json`.
    Json {
        /// `--pretty`.
        pretty: bool,
    },
}

/// Renders messages into a buffer and writes them to stdout.
#[derive(Debug)]
pub struct Printer {
    style: Style,
    eol: bool,
    quiet: bool,
    buf: Vec<u8>,
}

impl Printer {
    /// Builds the printer from the flags; a bad `-F` is a usage error.
    pub fn new(args: &OutputArgs, quiet: bool) -> Result<Printer, FormatError> {
        let pretty = args.pretty;
        let style = match (args.format.as_deref(), args.json) {
            (_, true) => Style::Json { pretty },
            (Some(f), false) => Style::Format(Format::parse(f)?.pretty(pretty)),
            (None, false) => Style::Plain {
                verbose: args.verbose,
            },
        };
        Ok(Printer {
            style,
            eol: !args.no_eol,
            quiet,
            buf: Vec::with_capacity(64 * 1024),
        })
    }

    /// Renders one message into the pending output.
    pub fn push(&mut self, msg: &Publish) {
        let out = &mut self.buf;
        match &self.style {
            Style::Plain { verbose: true } => {
                if !msg.payload.is_empty() {
                    out.extend_from_slice(msg.topic.as_str().as_bytes());
                    out.push(b' ');
                    out.extend_from_slice(&msg.payload);
                    if self.eol {
                        out.push(b'\n');
                    }
                } else if self.eol {
                    out.extend_from_slice(msg.topic.as_str().as_bytes());
                    out.extend_from_slice(b" (null)\n");
                }
            }
            Style::Plain { verbose: false } => {
                if !msg.payload.is_empty() {
                    out.extend_from_slice(&msg.payload);
                    if self.eol {
                        out.push(b'\n');
                    }
                }
            }
            Style::Format(f) => {
                if !f.render(msg, out) && !self.quiet {
                    eprintln!(
                        "Error: Message payload is not valid JSON on topic {}.",
                        msg.topic
                    );
                }
                if self.eol {
                    out.push(b'\n');
                }
            }
            Style::Json { pretty } => {
                json_object(msg, chrono::Local::now(), JsonMode::Auto, *pretty, out);
                out.push(b'\n');
            }
        }
    }

    /// Writes what is pending to stdout and flushes it.
    pub fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let mut out = io::stdout().lock();
        let r = out.write_all(&self.buf).and_then(|_| out.flush());
        self.buf.clear();
        r
    }
}
