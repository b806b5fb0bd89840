//! Codec errors. A decode error names the spec rule it enforces and the reason code to
//! disconnect (or refuse the CONNECT) with.

use super::ReasonCode;
use std::fmt;

/// Why a byte sequence is not a valid packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// The normative statement broken, e.g. `MQTT-3.3.2-2`, or a section such as `2.2.2.2`.
    pub rule: &'static str,
    /// What was wrong, in a few words.
    pub message: &'static str,
    /// The v5 reason code to send in DISCONNECT or CONNACK.
    pub reason: ReasonCode,
}

impl DecodeError {
    /// A malformed packet (reason 0x81).
    pub const fn malformed(rule: &'static str, message: &'static str) -> DecodeError {
        DecodeError {
            rule,
            message,
            reason: ReasonCode::MalformedPacket,
        }
    }

    /// A protocol error (reason 0x82).
    pub const fn protocol(rule: &'static str, message: &'static str) -> DecodeError {
        DecodeError {
            rule,
            message,
            reason: ReasonCode::ProtocolError,
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.rule, self.message)
    }
}

impl std::error::Error for DecodeError {}

/// Why a packet cannot be encoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// A string or binary field over 65,535 bytes.
    #[error("field too long for a two-byte length: {0} bytes")]
    FieldTooLong(usize),
    /// The packet would exceed the 268,435,455-byte remaining length limit.
    #[error("packet too large: remaining length {0}")]
    PacketTooLarge(usize),
    /// The packet does not exist in this protocol version (AUTH before 5.0).
    #[error("{0} does not exist in this protocol version")]
    NotInVersion(&'static str),
    /// A field value the wire cannot carry (e.g. a QoS 0 PUBLISH with a packet id).
    #[error("invalid packet: {0}")]
    Invalid(&'static str),
}
