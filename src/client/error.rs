//! What can go wrong with a client connection.

use crate::protocol::{ReasonCode, Version};
use crate::topic::TopicError;
use crate::transport::TransportError;
use std::sync::Arc;

/// Why a client call failed. Cloneable, because one lost connection fails every pending call.
#[derive(Clone, Debug, thiserror::Error)]
pub enum ClientError {
    /// Resolving, connecting or the TLS handshake failed.
    #[error("{0}")]
    Transport(Arc<TransportError>),
    /// The broker refused the connection in its CONNACK.
    #[error("connection refused: {}", reason.description())]
    Refused {
        /// The protocol version spoken (3.x return codes and v5 reasons differ).
        version: Version,
        /// The reason (3.x return codes mapped to their v5 equivalents).
        reason: ReasonCode,
    },
    /// No CONNACK within the connect timeout.
    #[error("timed out waiting for the broker")]
    Timeout,
    /// The broker broke the protocol (unexpected or malformed packet).
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The connection dropped (socket error or closed by the broker).
    #[error("connection lost: {0}")]
    ConnectionLost(String),
    /// No PINGRESP within the keep-alive interval.
    #[error("keepalive timeout")]
    KeepAlive,
    /// The broker sent DISCONNECT (v5) with this reason.
    #[error("disconnected by the broker: {}", .0.description())]
    ServerDisconnect(ReasonCode),
    /// A v5 acknowledgement carried an error reason (publication or subscription refused).
    #[error("{}", .0.description())]
    Rejected(ReasonCode),
    /// A topic name or filter is not valid.
    #[error("{0}")]
    InvalidTopic(TopicError),
    /// The client disconnected; no more calls can succeed.
    #[error("the client is disconnected")]
    Closed,
}

impl From<TransportError> for ClientError {
    fn from(e: TransportError) -> ClientError {
        ClientError::Transport(Arc::new(e))
    }
}
