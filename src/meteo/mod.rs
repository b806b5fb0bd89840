//! AEMET OpenData → MQTT: the pieces behind `mq meteo`.
//!
//! | module | what it holds |
//! |---|---|
//! | [`decode`] | bytes → text: strict UTF-8, else ISO-8859-15, never lossy |
//! | [`key`] | the API key's expiry (a JWT claim), warned about early |
//! | [`model`] | tolerant serde types for observations, forecasts and the master lists |
//! | [`time`] | `fint`/`elaborado` parsing, the Europe/Madrid calendar |
//! | [`aemet`] | the HTTP client: two-step envelope, rate limit, timeouts, retries |
//! | [`cache`] | the on-disk cache: municipality list, station list, publish state |
//! | [`forecast`] | daily and hourly forecast payloads |
//! | [`publish`] | topics and payloads, Home Assistant discovery |
//! | [`mqtt`] | the MQTT sink: retained publishes, status and will, reconnection |
//! | [`places`] | station and municipality lists, `--near` |
//! | [`runner`] | the fetch → map → publish cycle, the last good data |
//! | [`sink`] | where messages go: stdout (`--dry-run`) or an MQTT broker |
//!
//! Nothing here except [`aemet`] and [`sink`] touches the network, so the mapping from AEMET's
//! shapes to MQTT messages is tested from the fixture files alone.

pub mod aemet;
pub mod cache;
pub mod decode;
pub mod forecast;
pub mod key;
pub mod model;
pub mod mqtt;
pub mod places;
pub mod publish;
pub mod runner;
pub mod sink;
pub mod time;
