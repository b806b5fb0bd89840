//! Where messages go. The command publishes through a [`Sink`]: [`DryRun`] prints
//! `topic payload` lines, [`super::view::TableView`] draws tables for a person at a terminal,
//! [`super::mqtt::MqttSink`] publishes retained messages to a broker.
//! A sink owns the availability topic: `online` when it opens, `offline` when it closes (and
//! as the Last Will, for MQTT).

use super::publish::Message;
use std::collections::HashMap;
use std::io::Write;

/// A failed publish.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// Writing the output failed.
    #[error("output: {0}")]
    Io(#[from] std::io::Error),
    /// The broker is unreachable or stopped acknowledging.
    #[error("broker: {0}")]
    Broker(String),
}

/// What the destination held when the connection was (re)opened.
#[derive(Debug, Clone, PartialEq)]
pub enum Readback {
    /// Nothing to ask (a dry run), or already used.
    NotApplicable,
    /// It could not be read (the subscription was refused, or timed out).
    Unknown,
    /// The retained payloads under the watched filters, by topic.
    Known(HashMap<String, Vec<u8>>),
}

/// A destination for retained messages.
// The futures need not be Send: the command runs on a current-thread runtime.
#[allow(async_fn_in_trait)]
pub trait Sink {
    /// Connects and announces `online`.
    async fn open(&mut self) -> Result<(), SinkError>;

    /// Publishes `messages` retained and returns once they are delivered (acknowledged, for
    /// QoS > 0).
    async fn publish(&mut self, messages: &[Message]) -> Result<(), SinkError>;

    /// Checks the connection and re-establishes it if it was lost. Returns true when it had
    /// to reconnect: retained messages may have been lost with the broker, so everything held
    /// must be published again.
    async fn recover(&mut self) -> Result<bool, SinkError> {
        Ok(false)
    }

    /// What the destination held when it was last (re)opened; taken, so it is used once.
    fn take_readback(&mut self) -> Readback {
        Readback::NotApplicable
    }

    /// Marks the end of one cycle's publishes (a view redraws then).
    async fn end_cycle(&mut self) -> Result<(), SinkError> {
        Ok(())
    }

    /// Announces `offline` and disconnects.
    async fn close(&mut self) -> Result<(), SinkError>;
}

/// Prints `topic payload` lines, as `mosquitto_sub -v` would show them.
pub struct DryRun<W: Write> {
    out: W,
    status_topic: String,
}

impl<W: Write> DryRun<W> {
    /// Prints to `out`; `status_topic` is the availability topic.
    pub fn new(out: W, status_topic: String) -> Self {
        DryRun { out, status_topic }
    }

    fn line(&mut self, topic: &str, payload: &str) -> Result<(), SinkError> {
        writeln!(self.out, "{topic} {payload}")?;
        Ok(())
    }
}

impl<W: Write> Sink for DryRun<W> {
    async fn open(&mut self) -> Result<(), SinkError> {
        let t = self.status_topic.clone();
        self.line(&t, "online")?;
        Ok(self.out.flush()?)
    }

    async fn publish(&mut self, messages: &[Message]) -> Result<(), SinkError> {
        for m in messages {
            self.line(&m.topic, &m.payload)?;
        }
        Ok(self.out.flush()?)
    }

    async fn close(&mut self) -> Result<(), SinkError> {
        let t = self.status_topic.clone();
        self.line(&t, "offline")?;
        Ok(self.out.flush()?)
    }
}
