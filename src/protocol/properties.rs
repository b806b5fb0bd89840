//! MQTT 5.0 properties (section 2.2.2).
//!
//! [`Properties`] holds every property as a typed field. Packets carry it through [`Props`], a box
//! that stays empty (no allocation) for the 3.x protocols and for v5 packets without properties,
//! so the hot PUBLISH path moves a pointer rather than a few hundred bytes.

use bytes::Bytes;
use std::ops::{Deref, DerefMut};

/// Every MQTT 5.0 property, by identifier.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Properties {
    /// 0x01 Payload Format Indicator (PUBLISH, Will).
    pub payload_format_indicator: Option<u8>,
    /// 0x02 Message Expiry Interval (PUBLISH, Will).
    pub message_expiry_interval: Option<u32>,
    /// 0x03 Content Type (PUBLISH, Will).
    pub content_type: Option<String>,
    /// 0x08 Response Topic (PUBLISH, Will).
    pub response_topic: Option<String>,
    /// 0x09 Correlation Data (PUBLISH, Will).
    pub correlation_data: Option<Bytes>,
    /// 0x0B Subscription Identifier (PUBLISH: may repeat; SUBSCRIBE: at most one).
    pub subscription_identifiers: Vec<u32>,
    /// 0x11 Session Expiry Interval (CONNECT, CONNACK, DISCONNECT).
    pub session_expiry_interval: Option<u32>,
    /// 0x12 Assigned Client Identifier (CONNACK).
    pub assigned_client_identifier: Option<String>,
    /// 0x13 Server Keep Alive (CONNACK).
    pub server_keep_alive: Option<u16>,
    /// 0x15 Authentication Method (CONNECT, CONNACK, AUTH).
    pub authentication_method: Option<String>,
    /// 0x16 Authentication Data (CONNECT, CONNACK, AUTH).
    pub authentication_data: Option<Bytes>,
    /// 0x17 Request Problem Information (CONNECT).
    pub request_problem_information: Option<u8>,
    /// 0x18 Will Delay Interval (Will).
    pub will_delay_interval: Option<u32>,
    /// 0x19 Request Response Information (CONNECT).
    pub request_response_information: Option<u8>,
    /// 0x1A Response Information (CONNACK).
    pub response_information: Option<String>,
    /// 0x1C Server Reference (CONNACK, DISCONNECT).
    pub server_reference: Option<String>,
    /// 0x1F Reason String (CONNACK, acks, DISCONNECT, AUTH).
    pub reason_string: Option<String>,
    /// 0x21 Receive Maximum (CONNECT, CONNACK).
    pub receive_maximum: Option<u16>,
    /// 0x22 Topic Alias Maximum (CONNECT, CONNACK).
    pub topic_alias_maximum: Option<u16>,
    /// 0x23 Topic Alias (PUBLISH).
    pub topic_alias: Option<u16>,
    /// 0x24 Maximum QoS (CONNACK).
    pub maximum_qos: Option<u8>,
    /// 0x25 Retain Available (CONNACK).
    pub retain_available: Option<u8>,
    /// 0x26 User Property (every packet that has properties; may repeat, order kept).
    pub user_properties: Vec<(String, String)>,
    /// 0x27 Maximum Packet Size (CONNECT, CONNACK).
    pub maximum_packet_size: Option<u32>,
    /// 0x28 Wildcard Subscription Available (CONNACK).
    pub wildcard_subscription_available: Option<u8>,
    /// 0x29 Subscription Identifier Available (CONNACK).
    pub subscription_identifier_available: Option<u8>,
    /// 0x2A Shared Subscription Available (CONNACK).
    pub shared_subscription_available: Option<u8>,
    /// The order the properties were received in, when it differs from the one we write.
    pub order: PropOrder,
}

/// Property identifiers in the order a peer sent them (one per occurrence), kept only when it
/// differs from the encoder's own order, so that a forwarded message or will keeps its sender's
/// order (the specification leaves it open; mosquitto keeps it). It is no part of what a
/// property set means: any two orders compare equal.
#[derive(Clone, Debug, Default)]
pub struct PropOrder(pub Vec<u8>);

impl PartialEq for PropOrder {
    fn eq(&self, _: &PropOrder) -> bool {
        true
    }
}

impl Eq for PropOrder {}

/// The empty property set every empty [`Props`] dereferences to.
static EMPTY: Properties = Properties {
    payload_format_indicator: None,
    message_expiry_interval: None,
    content_type: None,
    response_topic: None,
    correlation_data: None,
    subscription_identifiers: Vec::new(),
    session_expiry_interval: None,
    assigned_client_identifier: None,
    server_keep_alive: None,
    authentication_method: None,
    authentication_data: None,
    request_problem_information: None,
    will_delay_interval: None,
    request_response_information: None,
    response_information: None,
    server_reference: None,
    reason_string: None,
    receive_maximum: None,
    topic_alias_maximum: None,
    topic_alias: None,
    maximum_qos: None,
    retain_available: None,
    user_properties: Vec::new(),
    maximum_packet_size: None,
    wildcard_subscription_available: None,
    subscription_identifier_available: None,
    shared_subscription_available: None,
    order: PropOrder(Vec::new()),
};

impl Properties {
    /// True when no property is set.
    pub fn is_empty(&self) -> bool {
        *self == EMPTY
    }
}

/// A packet's properties: no allocation until one is set.
///
/// Reading goes through `Deref` (an empty box reads as [`Properties::default`]); writing through
/// `DerefMut` allocates on first use.
#[derive(Clone, Debug, Default)]
pub struct Props(Option<Box<Properties>>);

impl Props {
    /// Wraps a property set, keeping the box empty when the set is.
    pub fn new(p: Properties) -> Props {
        if p.is_empty() {
            Props(None)
        } else {
            Props(Some(Box::new(p)))
        }
    }

    /// True when no property is set.
    pub fn is_empty(&self) -> bool {
        self.0.as_deref().is_none_or(Properties::is_empty)
    }

    /// The boxed set, if one was ever allocated.
    #[inline]
    pub(crate) fn get(&self) -> Option<&Properties> {
        self.0.as_deref()
    }
}

impl From<Properties> for Props {
    fn from(p: Properties) -> Props {
        Props::new(p)
    }
}

impl Deref for Props {
    type Target = Properties;
    fn deref(&self) -> &Properties {
        self.0.as_deref().unwrap_or(&EMPTY)
    }
}

impl DerefMut for Props {
    fn deref_mut(&mut self) -> &mut Properties {
        self.0.get_or_insert_with(Box::default)
    }
}

impl PartialEq for Props {
    fn eq(&self, other: &Props) -> bool {
        **self == **other
    }
}

impl Eq for Props {}
