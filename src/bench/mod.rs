//! `mq bench`: a load generator for MQTT brokers.
//!
//! | module | what it holds |
//! |---|---|
//! | [`plan`] | the checked plan: client ids, topics, limits, file descriptor check |
//! | [`pacing`] | open-loop schedules and the closed-loop window of outstanding messages |
//! | [`stats`] | shared counters, failure causes, HDR latency histograms |
//! | [`message`] | timestamped payloads and the pre-encoded PUBLISH template |
//! | [`conn`], [`tls`], [`ws`] | a lean connection over a bare `TcpStream` and the codec, TLS through rustls sans-IO, WebSocket frames (`--ws`) |
//! | [`client`], [`publisher`], [`slow`] | one task per client: idle, subscriber, publisher, or a subscriber reading at a bounded rate |
//! | [`run`](mod@run) | the phases of a run: probe, ramp, measure, drain, summary |
//! | [`report`], [`progress`] | the summary (table or JSON) and the per-second output |
//! | [`csv`], [`hgrm`] | `--csv` rows per second and `--hdr-out` percentile distributions, for plotting |
//!
//! One task per connection keeps an idle client down to its task, socket and timer: buffers are
//! allocated only while a packet is being read or written.

pub mod client;
pub mod conn;
pub mod csv;
pub mod hgrm;
pub mod message;
pub mod pacing;
pub mod plan;
pub mod progress;
pub mod publisher;
pub mod report;
pub mod run;
pub mod slow;
pub mod stats;
pub mod tls;
pub mod ws;

pub use plan::{Plan, PlanError};
pub use run::{BenchError, Output, run};
