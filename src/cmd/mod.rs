//! One module per command. Each takes its parsed arguments, checks them into a plan before any
//! network I/O, runs it and returns the exit status.

pub mod bench;
