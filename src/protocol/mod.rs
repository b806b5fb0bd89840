//! The MQTT 3.1, 3.1.1 and 5.0 codec.
//!
//! One v5-shaped [`Packet`] enum serves every protocol version: for 3.1 and 3.1.1 the properties
//! are empty and reason codes map onto the older return codes. The version is a parameter of
//! [`decode`] and [`encode`], except for CONNECT, which carries its own.
//!
//! ```text
//!  fixed header                      variable header + payload
//! +--------+--------+-----+--------+------------------------------+
//! | type|fl| remaining length (1-4) | ... `remaining length` bytes |
//! +--------+--------+-----+--------+------------------------------+
//! ```
//!
//! Decoding is streaming: [`decode`] returns `Ok(None)` until a whole packet is buffered, refuses
//! a packet larger than the caller's maximum from its fixed header alone, and hands out topics and
//! payloads as slices of the receive buffer (`Bytes`), so no payload is ever copied.
//!
//! Every [`DecodeError`] names the normative statement it enforces (`MQTT-3.3.2-2`) or, where the
//! spec has none, the section (`2.2.2.2`), and carries the reason code to disconnect with.
//!
//! | file | holds |
//! |---|---|
//! | `codec.rs` | [`decode`], [`encode`], [`encoded_len`]: fixed header, size limit, dispatch |
//! | `header.rs` | [`PacketType`], the fixed header and its reserved flag bits |
//! | `primitives.rs` | [`ByteStr`]; integers, variable byte integers, strings, binary data |
//! | `properties.rs` | [`Properties`], [`Props`] |
//! | `property_wire.rs` | properties on the wire, which packet allows which (2.2.2.2) |
//! | `reason.rs` | [`ReasonCode`], which packet allows which, 3.1.1 CONNACK codes |
//! | `packets/` | one module per packet kind (CONNECT, CONNACK, PUBLISH, PUBACK..PUBCOMP, SUBSCRIBE+SUBACK, UNSUBSCRIBE+UNSUBACK, PING/DISCONNECT/AUTH) |

mod codec;
mod error;
mod header;
mod packets;
mod peek;
mod primitives;
mod properties;
mod property_wire;
mod reason;

#[cfg(test)]
mod malformed_tests;

pub use codec::{decode, encode, encode_publish_head, encoded_len, peek_header};
pub use error::{DecodeError, EncodeError};
pub use header::PacketType;
pub use peek::{Peek, PublishHead, peek_publish};
pub use primitives::ByteStr;
pub use properties::{PropOrder, Properties, Props};
pub use reason::ReasonCode;

use bytes::Bytes;
use std::num::NonZeroU16;

use crate::topic::{TopicFilter, TopicName};

/// A packet identifier: never zero on the wire ([MQTT-2.3.1-1]).
pub type PacketId = NonZeroU16;

/// The largest remaining length MQTT can express (four varint bytes).
pub const MAX_REMAINING_LENGTH: u32 = 268_435_455;

/// The protocol level a connection speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Version {
    /// MQTT 3.1: protocol name `MQIsdp`, level 3.
    V31,
    /// MQTT 3.1.1: protocol name `MQTT`, level 4.
    V311,
    /// MQTT 5.0: protocol name `MQTT`, level 5.
    V5,
}

impl Version {
    /// The protocol level byte of CONNECT.
    pub fn level(self) -> u8 {
        match self {
            Version::V31 => 3,
            Version::V311 => 4,
            Version::V5 => 5,
        }
    }

    /// True for MQTT 5.0, the only version with properties and reason codes everywhere.
    pub fn is_v5(self) -> bool {
        self == Version::V5
    }
}

/// Quality of service of a message or a subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[repr(u8)]
pub enum QoS {
    /// Fire and forget.
    #[default]
    AtMostOnce = 0,
    /// Acknowledged delivery, possibly duplicated.
    AtLeastOnce = 1,
    /// Exactly-once delivery through the PUBREC/PUBREL/PUBCOMP handshake.
    ExactlyOnce = 2,
}

impl QoS {
    /// The QoS for a two-bit field value, `None` for 3 (which every version forbids).
    pub fn from_u8(v: u8) -> Option<QoS> {
        match v {
            0 => Some(QoS::AtMostOnce),
            1 => Some(QoS::AtLeastOnce),
            2 => Some(QoS::ExactlyOnce),
            _ => None,
        }
    }
}

/// Every MQTT control packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Packet {
    /// Client request to connect (3.1).
    Connect(Box<Connect>),
    /// Connect acknowledgement (3.2).
    ConnAck(ConnAck),
    /// Application message (3.3).
    Publish(Publish),
    /// QoS 1 acknowledgement (3.4).
    PubAck(PubResp),
    /// QoS 2 step 1 (3.5).
    PubRec(PubResp),
    /// QoS 2 step 2 (3.6).
    PubRel(PubResp),
    /// QoS 2 step 3 (3.7).
    PubComp(PubResp),
    /// Subscribe request (3.8).
    Subscribe(Subscribe),
    /// Subscribe acknowledgement (3.9).
    SubAck(SubAck),
    /// Unsubscribe request (3.10).
    Unsubscribe(Unsubscribe),
    /// Unsubscribe acknowledgement (3.11).
    UnsubAck(UnsubAck),
    /// Ping request (3.12).
    PingReq,
    /// Ping response (3.13).
    PingResp,
    /// Disconnect notification (3.14); in 3.1.1 it has no body.
    Disconnect(Disconnect),
    /// Authentication exchange (3.15), MQTT 5.0 only.
    Auth(Auth),
}

/// CONNECT (3.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connect {
    /// The version named by the protocol name and level.
    pub version: Version,
    /// Client identifier; may be empty (the server then assigns one, or refuses).
    pub client_id: String,
    /// Clean session (3.1.1) / clean start (5.0).
    pub clean_start: bool,
    /// Keep alive in seconds; 0 disables it.
    pub keep_alive: u16,
    /// User name, if the flag is set.
    pub username: Option<String>,
    /// Password (binary data), if the flag is set.
    pub password: Option<Bytes>,
    /// Last Will, if the will flag is set.
    pub will: Option<Will>,
    /// CONNECT properties (v5).
    pub properties: Props,
    /// A 3.1/3.1.1 bridge announcing itself (mosquitto's `try_private`): bit 7 of the protocol
    /// level byte, as in `0x84`. The broker then never echoes the bridge's own messages back
    /// to it. Always false in 5.0, where bridges use No Local instead.
    pub bridge: bool,
}

/// A Last Will message carried in CONNECT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Will {
    /// Topic the will is published to.
    pub topic: TopicName,
    /// Will payload.
    pub payload: Bytes,
    /// QoS of the will publication.
    pub qos: QoS,
    /// Whether the will is retained.
    pub retain: bool,
    /// Will properties (v5): delay interval, expiry, content type, ...
    pub properties: Props,
}

/// CONNACK (3.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnAck {
    /// Session present flag.
    pub session_present: bool,
    /// v5 reason code; for 3.x encoded as the matching return code (see [`ReasonCode::to_v3_connack`]).
    pub reason: ReasonCode,
    /// CONNACK properties (v5).
    pub properties: Props,
}

/// PUBLISH (3.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Publish {
    /// Duplicate delivery flag.
    pub dup: bool,
    /// Delivery QoS.
    pub qos: QoS,
    /// Retain flag.
    pub retain: bool,
    /// Topic name; empty only in v5 when a topic alias stands for it.
    pub topic: TopicName,
    /// Present exactly when `qos > 0` ([MQTT-2.3.1-5]).
    pub packet_id: Option<PacketId>,
    /// PUBLISH properties (v5).
    pub properties: Props,
    /// Application payload, a slice of the receive buffer.
    pub payload: Bytes,
}

/// PUBACK, PUBREC, PUBREL and PUBCOMP share this shape (3.4 to 3.7).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PubResp {
    /// The packet identifier being acknowledged.
    pub packet_id: PacketId,
    /// v5 reason code; always success for 3.x.
    pub reason: ReasonCode,
    /// Properties (v5): reason string, user properties.
    pub properties: Props,
}

impl PubResp {
    /// A successful acknowledgement without properties.
    pub fn new(packet_id: PacketId) -> PubResp {
        PubResp {
            packet_id,
            reason: ReasonCode::Success,
            properties: Props::default(),
        }
    }
}

/// What the server does with retained messages when a subscription is made (v5 option).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum RetainHandling {
    /// Send retained messages at every subscribe.
    #[default]
    SendOnSubscribe = 0,
    /// Send retained messages only if the subscription did not exist.
    SendIfNew = 1,
    /// Never send retained messages for this subscription.
    DoNotSend = 2,
}

/// Subscription options (3.8.3.1); in 3.x only `qos` is on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct SubscriptionOptions {
    /// Maximum QoS the server may deliver with.
    pub qos: QoS,
    /// v5: do not send the client its own publications.
    pub no_local: bool,
    /// v5: keep the RETAIN flag as published instead of clearing it.
    pub retain_as_published: bool,
    /// v5: when to send retained messages.
    pub retain_handling: RetainHandling,
}

/// One filter of a SUBSCRIBE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    /// The topic filter, possibly `$share/group/...`.
    pub filter: TopicFilter,
    /// Its options.
    pub options: SubscriptionOptions,
}

/// SUBSCRIBE (3.8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscribe {
    /// Packet identifier.
    pub packet_id: PacketId,
    /// At least one filter ([MQTT-3.8.3-3]).
    pub subscriptions: Vec<Subscription>,
    /// Properties (v5): subscription identifier, user properties.
    pub properties: Props,
}

/// SUBACK (3.9).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubAck {
    /// Packet identifier of the SUBSCRIBE.
    pub packet_id: PacketId,
    /// One per filter: `GrantedQoS0..2` or a failure (3.x: only 0x80).
    pub reasons: Vec<ReasonCode>,
    /// Properties (v5).
    pub properties: Props,
}

/// UNSUBSCRIBE (3.10).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsubscribe {
    /// Packet identifier.
    pub packet_id: PacketId,
    /// At least one filter ([MQTT-3.10.3-2]).
    pub filters: Vec<TopicFilter>,
    /// Properties (v5): user properties.
    pub properties: Props,
}

/// UNSUBACK (3.11).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnsubAck {
    /// Packet identifier of the UNSUBSCRIBE.
    pub packet_id: PacketId,
    /// v5: one reason per filter; empty for 3.x, which has no payload.
    pub reasons: Vec<ReasonCode>,
    /// Properties (v5).
    pub properties: Props,
}

/// DISCONNECT (3.14).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disconnect {
    /// v5 reason code; `NormalDisconnection` for 3.x.
    pub reason: ReasonCode,
    /// Properties (v5): session expiry, reason string, server reference.
    pub properties: Props,
}

impl Default for Disconnect {
    fn default() -> Self {
        Disconnect {
            reason: ReasonCode::NormalDisconnection,
            properties: Props::default(),
        }
    }
}

/// AUTH (3.15), v5 only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Auth {
    /// Success, continue authentication or re-authenticate.
    pub reason: ReasonCode,
    /// Properties: authentication method and data.
    pub properties: Props,
}

impl Auth {
    /// An AUTH with reason Success and no properties.
    pub fn default_success() -> Auth {
        Auth {
            reason: ReasonCode::Success,
            properties: Props::default(),
        }
    }
}

impl Packet {
    /// The packet's type, as in its fixed header.
    pub fn packet_type(&self) -> PacketType {
        match self {
            Packet::Connect(_) => PacketType::Connect,
            Packet::ConnAck(_) => PacketType::ConnAck,
            Packet::Publish(_) => PacketType::Publish,
            Packet::PubAck(_) => PacketType::PubAck,
            Packet::PubRec(_) => PacketType::PubRec,
            Packet::PubRel(_) => PacketType::PubRel,
            Packet::PubComp(_) => PacketType::PubComp,
            Packet::Subscribe(_) => PacketType::Subscribe,
            Packet::SubAck(_) => PacketType::SubAck,
            Packet::Unsubscribe(_) => PacketType::Unsubscribe,
            Packet::UnsubAck(_) => PacketType::UnsubAck,
            Packet::PingReq => PacketType::PingReq,
            Packet::PingResp => PacketType::PingResp,
            Packet::Disconnect(_) => PacketType::Disconnect,
            Packet::Auth(_) => PacketType::Auth,
        }
    }
}
