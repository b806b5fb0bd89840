//! One module per command. Each takes its parsed arguments, checks them into a plan before any
//! network I/O, runs it and returns the exit status.

pub mod bench;
pub mod broker;
pub mod connect;
pub mod meteo;
pub mod options_file;
pub mod output;
pub mod passwd;
pub mod properties;
pub mod publish;
pub mod rr;
pub mod subscribe;
