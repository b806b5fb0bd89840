//! `mq`: a mosquitto-like MQTT toolkit.
//!
//! One library implements MQTT 3.1, 3.1.1 and 5.0; every command of the `mq` binary is a thin
//! front over it.
//!
//! # Layout
//!
//! | module | what it holds |
//! |---|---|
//! | [`protocol`] | the codec: one v5-shaped [`protocol::Packet`] for every version, streaming decode, encode |
//! | [`topic`] | validated topic names and filters, matching, `$share/` parsing |
//! | [`bench`] | the `mq bench` load generator: plans, pacing, lean connections, statistics, reports |
//! | [`cli`] | clap definitions of every command, shared option groups, man page and completion generation |
//!
//! The inner layers (`protocol`, `topic`) never touch sockets or tokio, so they are tested with
//! byte literals alone.

pub mod bench;
pub mod cli;
pub mod cmd;
pub mod protocol;
pub mod topic;
