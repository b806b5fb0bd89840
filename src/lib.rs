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
//! | [`broker`] | `mq broker`: config, listeners (MQTT, WebSockets, HTTP API), links, router, trie, retained store, persistence, `$SYS` |
//! | [`broker::bridge`] | bridges to other brokers: `connection` blocks, topic remapping, reconnection, notifications; each a session of the router |
//! | [`broker::web`] | the broker's HTTP side: WebSocket upgrades, `http_dir`, the HTTP API, Prometheus metrics and the status page |
//! | [`broker::security`] | who may connect, publish and receive: the one [`broker::security::Access`] trait, password and ACL files, listener TLS and certificate identity |
//! | [`tls`] | TLS for every command on rustls: client and listener configurations from mosquitto's options, and the one certificate check (OpenSSL's verdicts, webpki and x509-parser) every peer goes through |
//! | [`transport`] | TCP, TLS, unix-socket and WebSocket client streams |
//! | [`websocket`] | MQTT over WebSockets as a byte stream, shared by the broker's listeners and the clients |
//! | [`connection`] | framed packet I/O: buffered `read_packet`, `write_packet`, `flush` |
//! | [`client`] | the async client every command uses: QoS 0/1/2, inflight window, keep-alive |
//! | [`meteo`] | AEMET OpenData client, payload mapping and sinks behind `mq meteo` |
//! | [`probe`] | `mq test`: what a broker supports and its limits, found by trying (versions, CONNACK limits, delivery, names, payload size, TLS) |
//! | [`bench`](mod@bench) | the `mq bench` load generator: plans, pacing, lean connections, statistics, reports |
//! | [`format`](mod@format) | mosquitto_sub's `-F` language, the `%j`/`--json` objects, and the printer of `sub`/`rr` |
//! | [`cli`] | clap definitions of every command, shared option groups and their checks into client options, options files, `-D` properties, man page and completion generation |
//! | [`cmd`] | one module per command, one shape: `async fn run(args) -> Result<(), cmd::Error>` |
//! | [`process`] | signals that stop or reload a command, the open-file limit |
//! | [`account`] | system accounts: the broker's `user` option, dropping root privileges |
//!
//! `src/bin/mq.rs` parses the command line, builds the one runtime and is the only place that
//! turns a [`cmd::Error`] into a message and an exit status.
//!
//! The inner layers (`protocol`, `topic`) never touch sockets or tokio, so they are tested with
//! byte literals alone.

#![warn(missing_docs)]

pub mod account;
pub mod bench;
pub mod broker;
pub mod cli;
pub mod client;
pub mod cmd;
pub mod connection;
pub mod format;
pub mod meteo;
pub mod probe;
pub mod process;
pub mod protocol;
pub mod session;
pub mod topic;

pub mod tls;
pub mod transport;
pub mod websocket;
