//! The service's log: one line per event that matters, on stderr, fit for journald and cron
//! mail (no colours, no timestamps: journald adds its own).
//!
//! | level | what is written |
//! |---|---|
//! | [`Level::Quiet`] (`-q`, `--quiet`) | errors only |
//! | [`Level::Normal`] | the start line, one line per product and cycle, warnings, errors |
//! | [`Level::Verbose`] (`-v`) | also requests, retained-topic checks and why a product was skipped |
//!
//! The level is process-wide: the command sets it once from its flags.

use std::fmt::Display;
use std::sync::atomic::{AtomicU8, Ordering};

/// How much is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Errors only.
    Quiet = 0,
    /// Start, one line per product and cycle, warnings and errors.
    Normal = 1,
    /// Everything.
    Verbose = 2,
}

static LEVEL: AtomicU8 = AtomicU8::new(Level::Normal as u8);

/// Sets the process-wide level.
pub fn set_level(level: Level) {
    LEVEL.store(level as u8, Ordering::Relaxed);
}

/// True when lines of `level` are written.
pub fn enabled(level: Level) -> bool {
    LEVEL.load(Ordering::Relaxed) >= level as u8
}

/// `Error: …`, always written.
pub fn error(msg: impl Display) {
    eprintln!("Error: {msg}");
}

/// `Warning: …`, unless quiet.
pub fn warn(msg: impl Display) {
    if enabled(Level::Normal) {
        eprintln!("Warning: {msg}");
    }
}

/// A plain line, unless quiet.
pub fn info(msg: impl Display) {
    if enabled(Level::Normal) {
        eprintln!("{msg}");
    }
}

/// A plain line, with `-v` only.
pub fn debug(msg: impl Display) {
    if enabled(Level::Verbose) {
        eprintln!("{msg}");
    }
}
