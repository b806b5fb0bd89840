//! The wire form of MQTT 5.0 properties (2.2.2): a variable byte integer length, then
//! `identifier value` pairs. Which property may appear on which packet, and which may repeat,
//! comes from the table of 2.2.2.2; a property on the wrong packet is malformed, one given twice
//! when it must not repeat is a protocol error.
//!
//! ```text
//! +---------------------+----+-------+----+-------+ ...
//! | property length (VBI)| id | value | id | value |
//! +---------------------+----+-------+----+-------+ ...
//! ```

use super::primitives::{
    TRUNCATED, put_binary, put_str, put_varint, read_binary, read_string, read_u8, read_u16,
    read_u32, read_varint, varint_len,
};
use super::properties::PropOrder;
use super::{DecodeError, EncodeError, MAX_REMAINING_LENGTH, Properties, Props};
use bytes::{Buf, BufMut, Bytes, BytesMut};

/// The packet (or will) a property set belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum PropCtx {
    Connect,
    Will,
    ConnAck,
    Publish,
    /// PUBACK, PUBREC, PUBREL and PUBCOMP.
    PubResp,
    Subscribe,
    SubAck,
    Unsubscribe,
    UnsubAck,
    Disconnect,
    Auth,
}

const fn bit(c: PropCtx) -> u16 {
    1 << c as u16
}

/// What 2.2.2.2 says about one property identifier.
struct PropInfo {
    /// Contexts the property may appear in.
    allowed: u16,
    /// Contexts in which it may appear more than once.
    repeat: u16,
    /// The spec section defining it.
    section: &'static str,
    twice: &'static str,
    not_allowed: &'static str,
}

macro_rules! property_table {
    ($($id:literal $name:literal $section:literal [$($ctx:ident)*] [$($rctx:ident)*];)*) => {
        fn info(id: u32) -> Option<PropInfo> {
            match id {
                $($id => Some(PropInfo {
                    allowed: 0 $(| bit(PropCtx::$ctx))*,
                    repeat: 0 $(| bit(PropCtx::$rctx))*,
                    section: $section,
                    twice: concat!($name, " given more than once"),
                    not_allowed: concat!($name, " not allowed on this packet"),
                }),)*
                _ => None,
            }
        }
    };
}

property_table! {
    0x01 "Payload Format Indicator" "3.3.2.3.2" [Publish Will] [];
    0x02 "Message Expiry Interval" "3.3.2.3.3" [Publish Will] [];
    0x03 "Content Type" "3.3.2.3.9" [Publish Will] [];
    0x08 "Response Topic" "3.3.2.3.5" [Publish Will] [];
    0x09 "Correlation Data" "3.3.2.3.6" [Publish Will] [];
    0x0B "Subscription Identifier" "3.8.2.1.2" [Publish Subscribe] [Publish];
    0x11 "Session Expiry Interval" "3.1.2.11.2" [Connect ConnAck Disconnect] [];
    0x12 "Assigned Client Identifier" "3.2.2.3.7" [ConnAck] [];
    0x13 "Server Keep Alive" "3.2.2.3.14" [ConnAck] [];
    0x15 "Authentication Method" "3.1.2.11.9" [Connect ConnAck Auth] [];
    0x16 "Authentication Data" "3.1.2.11.10" [Connect ConnAck Auth] [];
    0x17 "Request Problem Information" "3.1.2.11.7" [Connect] [];
    0x18 "Will Delay Interval" "3.1.3.2.2" [Will] [];
    0x19 "Request Response Information" "3.1.2.11.6" [Connect] [];
    0x1A "Response Information" "3.2.2.3.15" [ConnAck] [];
    0x1C "Server Reference" "3.2.2.3.16" [ConnAck Disconnect] [];
    0x1F "Reason String" "3.2.2.3.9"
        [ConnAck PubResp SubAck UnsubAck Disconnect Auth] [];
    0x21 "Receive Maximum" "3.1.2.11.3" [Connect ConnAck] [];
    0x22 "Topic Alias Maximum" "3.1.2.11.5" [Connect ConnAck] [];
    0x23 "Topic Alias" "3.3.2.3.4" [Publish] [];
    0x24 "Maximum QoS" "3.2.2.3.4" [ConnAck] [];
    0x25 "Retain Available" "3.2.2.3.5" [ConnAck] [];
    0x26 "User Property" "3.1.2.11.8"
        [Connect Will ConnAck Publish PubResp Subscribe SubAck Unsubscribe UnsubAck Disconnect Auth]
        [Connect Will ConnAck Publish PubResp Subscribe SubAck Unsubscribe UnsubAck Disconnect Auth];
    0x27 "Maximum Packet Size" "3.1.2.11.4" [Connect ConnAck] [];
    0x28 "Wildcard Subscription Available" "3.2.2.3.11" [ConnAck] [];
    0x29 "Subscription Identifier Available" "3.2.2.3.12" [ConnAck] [];
    0x2A "Shared Subscription Available" "3.2.2.3.13" [ConnAck] [];
}

/// Decodes a property length and the properties it covers, checking them against `ctx`.
#[inline]
pub(crate) fn decode(b: &mut Bytes, ctx: PropCtx) -> Result<Props, DecodeError> {
    // Most packets carry no properties: a single zero byte, handled without a call.
    if b.first() == Some(&0) {
        b.advance(1);
        return Ok(Props::default());
    }
    decode_some(b, ctx)
}

fn decode_some(b: &mut Bytes, ctx: PropCtx) -> Result<Props, DecodeError> {
    let len = read_varint(b)? as usize;
    if len == 0 {
        return Ok(Props::default());
    }
    if len > b.len() {
        return Err(TRUNCATED);
    }
    let mut src = b.split_to(len);
    let mut p = Properties::default();
    let mut seen = 0u64;
    let mut order: Vec<u8> = Vec::new();
    while !src.is_empty() {
        let id = read_varint(&mut src)?;
        order.push(id as u8);
        let info = info(id).ok_or(DecodeError::malformed(
            "2.2.2.2",
            "unknown property identifier",
        ))?;
        if info.allowed & bit(ctx) == 0 {
            return Err(DecodeError::malformed("2.2.2.2", info.not_allowed));
        }
        let mask = 1u64 << id;
        if seen & mask != 0 && info.repeat & bit(ctx) == 0 {
            return Err(DecodeError::protocol(info.section, info.twice));
        }
        seen |= mask;
        read_value(id, &mut src, &mut p, &info)?;
    }
    if p.authentication_data.is_some() && p.authentication_method.is_none() {
        return Err(DecodeError::protocol(
            "3.1.2.11.10",
            "Authentication Data without an Authentication Method",
        ));
    }
    if !in_write_order(&order) {
        p.order = PropOrder(order);
    }
    Ok(Props::new(p))
}

/// A byte property that must be 0 or 1.
fn read_flag(s: &mut Bytes, info: &PropInfo) -> Result<u8, DecodeError> {
    match read_u8(s)? {
        v @ (0 | 1) => Ok(v),
        _ => Err(DecodeError::protocol(
            info.section,
            "property value must be 0 or 1",
        )),
    }
}

/// A two-byte property that must not be 0.
fn read_nonzero_u16(s: &mut Bytes, info: &PropInfo) -> Result<u16, DecodeError> {
    match read_u16(s)? {
        0 => Err(DecodeError::protocol(
            info.section,
            "property value must not be 0",
        )),
        v => Ok(v),
    }
}

fn read_value(
    id: u32,
    s: &mut Bytes,
    p: &mut Properties,
    info: &PropInfo,
) -> Result<(), DecodeError> {
    match id {
        0x01 => p.payload_format_indicator = Some(read_flag(s, info)?),
        0x02 => p.message_expiry_interval = Some(read_u32(s)?),
        0x03 => p.content_type = Some(read_string(s)?),
        0x08 => {
            let topic = read_string(s)?;
            if crate::topic::validate_name(&topic).is_err() {
                return Err(DecodeError::protocol(
                    "MQTT-3.3.2-14",
                    "Response Topic is not a valid topic name",
                ));
            }
            p.response_topic = Some(topic);
        }
        0x09 => p.correlation_data = Some(read_binary(s)?),
        0x0B => match read_varint(s)? {
            0 => {
                return Err(DecodeError::protocol(
                    info.section,
                    "Subscription Identifier of 0",
                ));
            }
            v => p.subscription_identifiers.push(v),
        },
        0x11 => p.session_expiry_interval = Some(read_u32(s)?),
        0x12 => p.assigned_client_identifier = Some(read_string(s)?),
        0x13 => p.server_keep_alive = Some(read_u16(s)?),
        0x15 => p.authentication_method = Some(read_string(s)?),
        0x16 => p.authentication_data = Some(read_binary(s)?),
        0x17 => p.request_problem_information = Some(read_flag(s, info)?),
        0x18 => p.will_delay_interval = Some(read_u32(s)?),
        0x19 => p.request_response_information = Some(read_flag(s, info)?),
        0x1A => p.response_information = Some(read_string(s)?),
        0x1C => p.server_reference = Some(read_string(s)?),
        0x1F => p.reason_string = Some(read_string(s)?),
        0x21 => p.receive_maximum = Some(read_nonzero_u16(s, info)?),
        0x22 => p.topic_alias_maximum = Some(read_u16(s)?),
        0x23 => p.topic_alias = Some(read_nonzero_u16(s, info)?),
        0x24 => p.maximum_qos = Some(read_flag(s, info)?),
        0x25 => p.retain_available = Some(read_flag(s, info)?),
        0x26 => {
            let k = read_string(s)?;
            let v = read_string(s)?;
            p.user_properties.push((k, v));
        }
        0x27 => match read_u32(s)? {
            0 => {
                return Err(DecodeError::protocol(
                    info.section,
                    "Maximum Packet Size of 0",
                ));
            }
            v => p.maximum_packet_size = Some(v),
        },
        0x28 => p.wildcard_subscription_available = Some(read_flag(s, info)?),
        0x29 => p.subscription_identifier_available = Some(read_flag(s, info)?),
        0x2A => p.shared_subscription_available = Some(read_flag(s, info)?),
        _ => {
            return Err(DecodeError::malformed(
                "2.2.2.2",
                "unknown property identifier",
            ));
        }
    }
    Ok(())
}

/// Bytes of a string or binary field with its length prefix.
fn field(len: usize) -> usize {
    2 + len
}

/// The identifiers present in `p`, one bit each.
fn present(p: &Properties) -> u64 {
    let mut m = 0u64;
    let mut set = |id: u32, on: bool| {
        if on {
            m |= 1 << id;
        }
    };
    set(0x01, p.payload_format_indicator.is_some());
    set(0x02, p.message_expiry_interval.is_some());
    set(0x03, p.content_type.is_some());
    set(0x08, p.response_topic.is_some());
    set(0x09, p.correlation_data.is_some());
    set(0x0B, !p.subscription_identifiers.is_empty());
    set(0x11, p.session_expiry_interval.is_some());
    set(0x12, p.assigned_client_identifier.is_some());
    set(0x13, p.server_keep_alive.is_some());
    set(0x15, p.authentication_method.is_some());
    set(0x16, p.authentication_data.is_some());
    set(0x17, p.request_problem_information.is_some());
    set(0x18, p.will_delay_interval.is_some());
    set(0x19, p.request_response_information.is_some());
    set(0x1A, p.response_information.is_some());
    set(0x1C, p.server_reference.is_some());
    set(0x1F, p.reason_string.is_some());
    set(0x21, p.receive_maximum.is_some());
    set(0x22, p.topic_alias_maximum.is_some());
    set(0x23, p.topic_alias.is_some());
    set(0x24, p.maximum_qos.is_some());
    set(0x25, p.retain_available.is_some());
    set(0x26, !p.user_properties.is_empty());
    set(0x27, p.maximum_packet_size.is_some());
    set(0x28, p.wildcard_subscription_available.is_some());
    set(0x29, p.subscription_identifier_available.is_some());
    set(0x2A, p.shared_subscription_available.is_some());
    m
}

/// Refuses a property set the receiver would reject as malformed or a protocol error.
fn check(p: &Properties, ctx: PropCtx) -> Result<(), EncodeError> {
    let mut m = present(p);
    while m != 0 {
        let id = m.trailing_zeros();
        m &= m - 1;
        if info(id).is_none_or(|i| i.allowed & bit(ctx) == 0) {
            return Err(EncodeError::Invalid("property not allowed on this packet"));
        }
    }
    if ctx != PropCtx::Publish && p.subscription_identifiers.len() > 1 {
        return Err(EncodeError::Invalid(
            "Subscription Identifier given more than once",
        ));
    }
    let sub_id_ok = |v: &u32| *v != 0 && *v <= MAX_REMAINING_LENGTH;
    let flags = [
        p.payload_format_indicator,
        p.request_problem_information,
        p.request_response_information,
        p.maximum_qos,
        p.retain_available,
        p.wildcard_subscription_available,
        p.subscription_identifier_available,
        p.shared_subscription_available,
    ];
    if flags.iter().flatten().any(|v| *v > 1)
        || !p.subscription_identifiers.iter().all(sub_id_ok)
        || p.receive_maximum == Some(0)
        || p.topic_alias == Some(0)
        || p.maximum_packet_size == Some(0)
        || (p.authentication_data.is_some() && p.authentication_method.is_none())
        || p.response_topic
            .as_deref()
            .is_some_and(|t| crate::topic::validate_name(t).is_err())
    {
        return Err(EncodeError::Invalid("property value out of range"));
    }
    Ok(())
}

/// Bytes of the properties without their length prefix.
pub(crate) fn body_len(props: &Props) -> usize {
    let Some(p) = props.get() else {
        return 0;
    };
    let s = |v: &Option<String>| v.as_ref().map_or(0, |v| 1 + field(v.len()));
    let b = |v: &Option<Bytes>| v.as_ref().map_or(0, |v| 1 + field(v.len()));
    let n1 = |v: Option<u8>| v.map_or(0, |_| 2);
    let n2 = |v: Option<u16>| v.map_or(0, |_| 3);
    let n4 = |v: Option<u32>| v.map_or(0, |_| 5);
    n1(p.payload_format_indicator)
        + n4(p.message_expiry_interval)
        + s(&p.content_type)
        + s(&p.response_topic)
        + b(&p.correlation_data)
        + p.subscription_identifiers
            .iter()
            .map(|v| 1 + varint_len(*v as usize))
            .sum::<usize>()
        + n4(p.session_expiry_interval)
        + s(&p.assigned_client_identifier)
        + n2(p.server_keep_alive)
        + s(&p.authentication_method)
        + b(&p.authentication_data)
        + n1(p.request_problem_information)
        + n4(p.will_delay_interval)
        + n1(p.request_response_information)
        + s(&p.response_information)
        + s(&p.server_reference)
        + s(&p.reason_string)
        + n2(p.receive_maximum)
        + n2(p.topic_alias_maximum)
        + n2(p.topic_alias)
        + n1(p.maximum_qos)
        + n1(p.retain_available)
        + p.user_properties
            .iter()
            .map(|(k, v)| 1 + field(k.len()) + field(v.len()))
            .sum::<usize>()
        + n4(p.maximum_packet_size)
        + n1(p.wildcard_subscription_available)
        + n1(p.subscription_identifier_available)
        + n1(p.shared_subscription_available)
}

/// Bytes of the properties with their length prefix.
#[inline]
pub(crate) fn wire_len(props: &Props) -> usize {
    let n = body_len(props);
    varint_len(n) + n
}

/// Writes the property length and the properties (CONNACK limits first, then by identifier).
pub(crate) fn encode(props: &Props, ctx: PropCtx, buf: &mut BytesMut) -> Result<(), EncodeError> {
    let Some(p) = props.get() else {
        buf.put_u8(0);
        return Ok(());
    };
    check(p, ctx)?;
    put_varint(buf, body_len(props));
    write_values(p, buf)
}

/// The order we write properties in: the CONNACK limits first, in the order mosquitto sends
/// them (Topic Alias Maximum ... Receive Maximum, Maximum QoS), since the specification leaves
/// the order open and matching it keeps byte comparisons with mosquitto meaningful; the rest by
/// identifier.
const WRITE_ORDER: [u8; 27] = [
    0x22, 0x13, 0x12, 0x15, 0x16, 0x25, 0x27, 0x21, 0x24, 0x01, 0x02, 0x03, 0x08, 0x09, 0x0B, 0x11,
    0x17, 0x18, 0x19, 0x1A, 0x1C, 0x1F, 0x23, 0x26, 0x28, 0x29, 0x2A,
];

/// True when `ids` come in [`WRITE_ORDER`] (so there is no order to remember).
pub(crate) fn in_write_order(ids: &[u8]) -> bool {
    let rank = |id: u8| {
        WRITE_ORDER
            .iter()
            .position(|&w| w == id)
            .unwrap_or(usize::MAX)
    };
    ids.windows(2).all(|w| rank(w[0]) <= rank(w[1]))
}

/// Progress through a property set while writing it: which single properties are out, and
/// how many of the repeatable ones.
#[derive(Default)]
struct Written {
    singles: u64,
    user: usize,
    sub_ids: usize,
}

fn write_values(p: &Properties, buf: &mut BytesMut) -> Result<(), EncodeError> {
    let mut w = Written::default();
    for &id in &p.order.0 {
        write_one(p, id, buf, &mut w)?;
    }
    for id in WRITE_ORDER {
        while write_one(p, id, buf, &mut w)? {}
    }
    Ok(())
}

/// Writes the next occurrence of property `id`, if there is one left; says whether it did.
fn write_one(
    p: &Properties,
    id: u8,
    buf: &mut BytesMut,
    w: &mut Written,
) -> Result<bool, EncodeError> {
    match id {
        0x26 => {
            let Some((k, v)) = p.user_properties.get(w.user) else {
                return Ok(false);
            };
            w.user += 1;
            buf.put_u8(0x26);
            put_str(buf, k)?;
            put_str(buf, v)?;
            return Ok(true);
        }
        0x0B => {
            let Some(v) = p.subscription_identifiers.get(w.sub_ids) else {
                return Ok(false);
            };
            w.sub_ids += 1;
            buf.put_u8(0x0B);
            put_varint(buf, *v as usize);
            return Ok(true);
        }
        _ => {}
    }
    let mask = 1u64 << id;
    if w.singles & mask != 0 {
        return Ok(false);
    }
    let n = |v: Option<u32>, width: usize| v.map(|v| (v, width));
    enum V<'a> {
        Str(Option<&'a str>),
        Bin(Option<&'a [u8]>),
        Num(Option<(u32, usize)>),
    }
    fn s(v: &Option<String>) -> V<'_> {
        V::Str(v.as_deref())
    }
    fn b(v: &Option<Bytes>) -> V<'_> {
        V::Bin(v.as_deref())
    }
    let v = match id {
        0x01 => V::Num(n(p.payload_format_indicator.map(u32::from), 1)),
        0x02 => V::Num(n(p.message_expiry_interval, 4)),
        0x03 => s(&p.content_type),
        0x08 => s(&p.response_topic),
        0x09 => b(&p.correlation_data),
        0x11 => V::Num(n(p.session_expiry_interval, 4)),
        0x12 => s(&p.assigned_client_identifier),
        0x13 => V::Num(n(p.server_keep_alive.map(u32::from), 2)),
        0x15 => s(&p.authentication_method),
        0x16 => b(&p.authentication_data),
        0x17 => V::Num(n(p.request_problem_information.map(u32::from), 1)),
        0x18 => V::Num(n(p.will_delay_interval, 4)),
        0x19 => V::Num(n(p.request_response_information.map(u32::from), 1)),
        0x1A => s(&p.response_information),
        0x1C => s(&p.server_reference),
        0x1F => s(&p.reason_string),
        0x21 => V::Num(n(p.receive_maximum.map(u32::from), 2)),
        0x22 => V::Num(n(p.topic_alias_maximum.map(u32::from), 2)),
        0x23 => V::Num(n(p.topic_alias.map(u32::from), 2)),
        0x24 => V::Num(n(p.maximum_qos.map(u32::from), 1)),
        0x25 => V::Num(n(p.retain_available.map(u32::from), 1)),
        0x27 => V::Num(n(p.maximum_packet_size, 4)),
        0x28 => V::Num(n(p.wildcard_subscription_available.map(u32::from), 1)),
        0x29 => V::Num(n(p.subscription_identifier_available.map(u32::from), 1)),
        0x2A => V::Num(n(p.shared_subscription_available.map(u32::from), 1)),
        _ => return Ok(false),
    };
    w.singles |= mask;
    match v {
        V::Str(None) | V::Bin(None) | V::Num(None) => Ok(false),
        V::Str(Some(v)) => {
            buf.put_u8(id);
            put_str(buf, v)?;
            Ok(true)
        }
        V::Bin(Some(v)) => {
            buf.put_u8(id);
            put_binary(buf, v)?;
            Ok(true)
        }
        V::Num(Some((v, width))) => {
            buf.put_u8(id);
            match width {
                1 => buf.put_u8(v as u8),
                2 => buf.put_u16(v as u16),
                _ => buf.put_u32(v),
            }
            Ok(true)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_senders_property_order_is_kept_and_ours_is_not_remembered() {
        // User property, Response Topic, Payload Format Indicator, user property: not our order.
        let wire: &[u8] = b"\x14\x26\x00\x01k\x00\x01v\x08\x00\x01r\x01\x01\x26\x00\x01a\x00\x01b";
        let mut b = Bytes::from_static(wire);
        let props = decode(&mut b, PropCtx::Publish).unwrap();
        assert_eq!(props.order.0, [0x26, 0x08, 0x01, 0x26]);
        let mut out = BytesMut::new();
        encode(&props, PropCtx::Publish, &mut out).unwrap();
        assert_eq!(&out[..], wire);
        // Already in our order: nothing to remember, same bytes.
        let ours: &[u8] = b"\x06\x01\x01\x08\x00\x01r";
        let props = decode(&mut Bytes::from_static(ours), PropCtx::Publish).unwrap();
        assert!(props.order.0.is_empty());
        let mut out = BytesMut::new();
        encode(&props, PropCtx::Publish, &mut out).unwrap();
        assert_eq!(&out[..], ours);
    }
}
