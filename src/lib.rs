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
//! | [`session`] | a client session's delivery state machine: queue, inflight window, QoS handshakes |
//! | [`broker`] | `mq broker`: config, listeners, links, router, trie, retained store, persistence, `$SYS` |
//! | [`broker::auth`] | mosquitto's password file and ACL file, and the [`broker::auth::Authenticator`] that combines them |
//! | [`broker::tls`] | TLS listener configuration, client certificate CN, handshake-failure wording |
//! | [`transport`] | TCP and TLS client streams, rustls configuration from PEM files |
//! | [`connection`] | framed packet I/O: buffered `read_packet`, `write_packet`, `flush` |
//! | [`client`] | the async client every command uses: QoS 0/1/2, inflight window, keep-alive |
//! | [`meteo`] | AEMET OpenData client, payload mapping and sinks behind `mq meteo` |
//! | [`bench`] | the `mq bench` load generator: plans, pacing, lean connections, statistics, reports |
//! | [`format`](mod@format) | mosquitto_sub's `-F` language and the `%j`/`--json` objects |
//! | [`cmd`] | one module per command (checked plan, then run) |
//! | [`cli`] | clap definitions of every command, shared option groups, man page and completion generation |
//!
//! The inner layers (`protocol`, `topic`) never touch sockets or tokio, so they are tested with
//! byte literals alone.

pub mod bench;
pub mod broker;
pub mod cli;
pub mod client;
pub mod cmd;
pub mod connection;
pub mod format;
pub mod meteo;
pub mod protocol;
pub mod session;
pub mod topic;

pub mod transport;
