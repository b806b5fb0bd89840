//! Where messages go. The command publishes through a [`Sink`]: [`DryRun`] prints
//! `topic payload` lines, the MQTT sink publishes retained messages to a broker.

use super::publish::Message;
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

/// A destination for retained messages.
// The futures need not be Send: the command runs on a current-thread runtime.
#[allow(async_fn_in_trait)]
pub trait Sink {
    /// Publishes `messages` retained and returns once they are delivered (acknowledged, for
    /// QoS > 0).
    async fn publish(&mut self, messages: &[Message]) -> Result<(), SinkError>;

    /// Re-establishes the connection after a failure. Returns true when messages published
    /// before may have been lost, so everything held must be published again.
    async fn recover(&mut self) -> Result<bool, SinkError> {
        Ok(false)
    }

    /// Says goodbye (publishes the offline status, disconnects).
    async fn close(&mut self) -> Result<(), SinkError> {
        Ok(())
    }
}

/// Prints `topic payload` lines, as `mosquitto_sub -v` would show them.
pub struct DryRun<W: Write> {
    out: W,
}

impl<W: Write> DryRun<W> {
    /// Prints to `out`.
    pub fn new(out: W) -> Self {
        DryRun { out }
    }
}

impl<W: Write> Sink for DryRun<W> {
    async fn publish(&mut self, messages: &[Message]) -> Result<(), SinkError> {
        for m in messages {
            writeln!(self.out, "{} {}", m.topic, m.payload)?;
        }
        self.out.flush()?;
        Ok(())
    }
}
