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
//! | [`transport`] | TCP and TLS client streams, rustls configuration from PEM files |
//! | [`connection`] | framed packet I/O: buffered `read_packet`, `write_packet`, `flush` |
//! | [`client`] | the async client every command uses: QoS 0/1/2, inflight window, keep-alive |
//! | [`format`](mod@format) | mosquitto_sub's `-F` language and the `%j`/`--json` objects |
//! | [`cmd`] | one module per command: pub, sub, rr (checked plan, then run) |
//! | [`cli`] | clap definitions of every command, shared option groups, man page and completion generation |
//!
//! The inner layers (`protocol`, `topic`) never touch sockets or tokio, so they are tested with
//! byte literals alone.

pub mod cli;
pub mod client;
pub mod cmd;
pub mod connection;
pub mod format;
pub mod protocol;
pub mod topic;
pub mod transport;
