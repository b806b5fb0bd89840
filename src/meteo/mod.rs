//! Official weather over MQTT: the pieces behind `mq meteo`.
//!
//! A source-neutral core and one module per source. A source fetches its products, keeps the
//! last good responses and maps them into the [`model`]; the core turns the model into topics,
//! payloads and Home Assistant discovery, runs the once/service loop, and draws the terminal
//! view. Adding a source is one module implementing [`source::Source`].
//!
//! | module | what it holds |
//! |---|---|
//! | [`model`] | readings and forecasts with units, UTC and local instants, staleness |
//! | [`source`] | the [`source::Source`] trait, targets, failures |
//! | [`aemet`] | AEMET OpenData: two-step HTTP client, tolerant parsing, mapping |
//! | [`meteogalicia`] | MeteoGalicia: HTTP client, codes, mapping |
//! | [`publish`] | topics and payloads of every product |
//! | [`discovery`] | Home Assistant discovery configs |
//! | [`runner`] | the fetch → map → publish cycle, the last good data |
//! | [`service`] | `--once` and the service loop, logging, exit outcome |
//! | [`plan`] | the command line checked into a plan |
//! | [`sink`], [`mqtt`], [`view`] | where messages go: stdout, a broker, tables on a terminal |
//! | [`http`], [`decode`] | shared HTTP plumbing: retries, backoff, lossless decoding |
//! | [`cache`], [`places`] | the on-disk cache, station and municipality lists, `--near` |
//! | [`time`], [`json`], [`log`] | Madrid time, ordered JSON, the log |
//!
//! Nothing here except the sources' clients and the sinks touches the network, so the mapping
//! from each source's shapes to MQTT messages is tested from the fixture files alone.

pub mod aemet;
pub mod cache;
pub mod decode;
pub mod discovery;
pub mod http;
pub mod json;
pub mod log;
pub mod meteogalicia;
pub mod model;
pub mod mqtt;
pub mod places;
pub mod plan;
pub mod publish;
pub mod runner;
pub mod service;
pub mod sink;
pub mod source;
pub mod time;
pub mod view;
