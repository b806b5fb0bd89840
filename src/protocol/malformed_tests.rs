//! The table of malformed packets: every entry must be refused with the named rule and reason.

use super::{ReasonCode, Version, decode};
use bytes::BytesMut;

use ReasonCode::{
    MalformedPacket as M, PacketTooLarge as TooLarge, ProtocolError as P, TopicFilterInvalid as TF,
    TopicNameInvalid as TN, UnsupportedProtocolVersion as UPV,
};
use Version::{V5, V31, V311};

/// A packet from its first byte and its body, with the remaining length computed.
fn pkt(first: u8, body: &[u8]) -> Vec<u8> {
    assert!(body.len() < 128);
    let mut v = vec![first, body.len() as u8];
    v.extend_from_slice(body);
    v
}

/// A CONNECT with the given protocol name, level, flags and payload (after keep alive).
fn connect(name: &[u8], level: u8, flags: u8, rest: &[u8]) -> Vec<u8> {
    let mut body = vec![0, name.len() as u8];
    body.extend_from_slice(name);
    body.extend_from_slice(&[level, flags, 0, 60]);
    body.extend_from_slice(rest);
    pkt(0x10, &body)
}

/// A 3.1.1 CONNECT with client id "c" followed by `tail`.
fn connect311(flags: u8, tail: &[u8]) -> Vec<u8> {
    let mut rest = vec![0, 1, b'c'];
    rest.extend_from_slice(tail);
    connect(b"MQTT", 4, flags, &rest)
}

/// A v5 CONNECT with properties `props` (length added) and client id "c" followed by `tail`.
fn connect5(flags: u8, props: &[u8], tail: &[u8]) -> Vec<u8> {
    let mut rest = vec![props.len() as u8];
    rest.extend_from_slice(props);
    rest.extend_from_slice(&[0, 1, b'c']);
    rest.extend_from_slice(tail);
    connect(b"MQTT", 5, flags, &rest)
}

/// A v5 QoS 0 PUBLISH to "a" with properties `props`.
fn publish5(props: &[u8]) -> Vec<u8> {
    let mut body = vec![0, 1, b'a', props.len() as u8];
    body.extend_from_slice(props);
    body.extend_from_slice(b"x");
    pkt(0x30, &body)
}

/// A v5 SUBSCRIBE (id 1) with properties `props` and one filter with options `opts`.
fn subscribe5(props: &[u8], filter: &[u8], opts: u8) -> Vec<u8> {
    let mut body = vec![0, 1, props.len() as u8];
    body.extend_from_slice(props);
    body.extend_from_slice(&[0, filter.len() as u8]);
    body.extend_from_slice(filter);
    body.push(opts);
    pkt(0x82, &body)
}

type Case = (&'static str, Version, Vec<u8>, &'static str, ReasonCode);

fn table() -> Vec<Case> {
    vec![
        // Fixed header.
        (
            "remaining length of 5 bytes",
            V311,
            vec![0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],
            "2.2.3",
            M,
        ),
        (
            "remaining length not minimal",
            V5,
            vec![0x30, 0x80, 0x00],
            "MQTT-1.5.5-1",
            M,
        ),
        ("reserved packet type 0", V311, vec![0x00, 0x00], "2.2.1", M),
        ("AUTH in 3.1.1", V311, vec![0xF0, 0x00], "2.2.1", M),
        ("AUTH in 3.1", V31, vec![0xF0, 0x00], "2.2.1", M),
        (
            "PUBREL flags 0000",
            V311,
            pkt(0x60, &[0, 1]),
            "MQTT-3.6.1-1",
            M,
        ),
        (
            "SUBSCRIBE flags 0000",
            V311,
            pkt(0x80, &[0, 1, 0, 1, b'a', 0]),
            "MQTT-3.8.1-1",
            M,
        ),
        (
            "UNSUBSCRIBE flags 0000",
            V311,
            pkt(0xA0, &[0, 1, 0, 1, b'a']),
            "MQTT-3.10.1-1",
            M,
        ),
        (
            "PINGREQ flags 0001",
            V311,
            pkt(0xC1, &[]),
            "MQTT-2.2.2-1",
            M,
        ),
        (
            "PUBACK flags 0010",
            V5,
            pkt(0x42, &[0, 1]),
            "MQTT-2.2.2-1",
            M,
        ),
        (
            "CONNECT flags 1000",
            V311,
            vec![0x18, 0x00],
            "MQTT-2.2.2-1",
            M,
        ),
        (
            "over the maximum packet size",
            V311,
            vec![0x30, 0xFF, 0x7F],
            "3.1.2.11.4",
            TooLarge,
        ),
        // PUBLISH.
        (
            "PUBLISH QoS 3",
            V311,
            pkt(0x36, &[0, 1, b'a', 0, 1]),
            "MQTT-3.3.1-4",
            M,
        ),
        (
            "DUP on QoS 0",
            V311,
            pkt(0x38, &[0, 1, b'a']),
            "MQTT-3.3.1-2",
            M,
        ),
        (
            "'+' in topic name",
            V311,
            pkt(0x30, &[0, 3, b'a', b'/', b'+']),
            "MQTT-3.3.2-2",
            TN,
        ),
        (
            "'#' in topic name",
            V5,
            pkt(0x30, &[0, 1, b'#', 0]),
            "MQTT-3.3.2-2",
            TN,
        ),
        (
            "empty topic name in 3.1.1",
            V311,
            pkt(0x30, &[0, 0, b'x']),
            "MQTT-4.7.3-1",
            P,
        ),
        (
            "empty topic without alias",
            V5,
            pkt(0x30, &[0, 0, 0, b'x']),
            "3.3.2.1",
            P,
        ),
        (
            "packet id 0 with QoS 1",
            V311,
            pkt(0x32, &[0, 1, b'a', 0, 0]),
            "MQTT-2.3.1-1",
            P,
        ),
        (
            "topic not UTF-8",
            V311,
            pkt(0x30, &[0, 2, 0xC3, 0x28]),
            "MQTT-1.5.3-1",
            M,
        ),
        (
            "topic with a surrogate",
            V311,
            pkt(0x30, &[0, 3, 0xED, 0xA0, 0x80]),
            "MQTT-1.5.3-1",
            M,
        ),
        (
            "topic with U+0000",
            V311,
            pkt(0x30, &[0, 2, b'a', 0]),
            "MQTT-4.7.3-2",
            M,
        ),
        (
            "topic longer than the packet",
            V311,
            pkt(0x30, &[0, 5, b'a']),
            "2.2.3",
            M,
        ),
        (
            "QoS 1 without packet id",
            V311,
            pkt(0x32, &[0, 1, b'a', 0]),
            "2.2.3",
            M,
        ),
        // v5 properties.
        (
            "Session Expiry on PUBLISH",
            V5,
            publish5(&[0x11, 0, 0, 0, 1]),
            "2.2.2.2",
            M,
        ),
        (
            "Topic Alias twice",
            V5,
            publish5(&[0x23, 0, 1, 0x23, 0, 2]),
            "3.3.2.3.4",
            P,
        ),
        ("Topic Alias 0", V5, publish5(&[0x23, 0, 0]), "3.3.2.3.4", P),
        (
            "unknown property 0x7F",
            V5,
            publish5(&[0x7F, 0]),
            "2.2.2.2",
            M,
        ),
        (
            "Payload Format Indicator 2",
            V5,
            publish5(&[0x01, 2]),
            "3.3.2.3.2",
            P,
        ),
        (
            "Response Topic with wildcard",
            V5,
            publish5(&[0x08, 0, 1, b'#']),
            "MQTT-3.3.2-14",
            P,
        ),
        (
            "Content Type twice",
            V5,
            publish5(&[0x03, 0, 0, 0x03, 0, 0]),
            "3.3.2.3.9",
            P,
        ),
        (
            "Subscription Identifier 0",
            V5,
            publish5(&[0x0B, 0]),
            "3.8.2.1.2",
            P,
        ),
        (
            "User Property without value",
            V5,
            publish5(&[0x26, 0, 1, b'k']),
            "2.2.3",
            M,
        ),
        (
            "property length past the end",
            V5,
            pkt(0x30, &[0, 1, b'a', 9, 0x01]),
            "2.2.3",
            M,
        ),
        // PUBACK and friends.
        (
            "PUBACK longer than 2 in 3.1.1",
            V311,
            pkt(0x40, &[0, 1, 0]),
            "2.2.3",
            M,
        ),
        ("PUBACK truncated", V311, pkt(0x40, &[0]), "2.2.3", M),
        (
            "PUBACK packet id 0",
            V311,
            pkt(0x40, &[0, 0]),
            "MQTT-2.3.1-1",
            P,
        ),
        (
            "PUBACK reason 0x04",
            V5,
            pkt(0x40, &[0, 1, 0x04]),
            "MQTT-3.4.2-1",
            P,
        ),
        (
            "PUBREC reason 0x92",
            V5,
            pkt(0x50, &[0, 1, 0x92]),
            "MQTT-3.5.2-1",
            P,
        ),
        (
            "PUBREL reason 0x10",
            V5,
            pkt(0x62, &[0, 1, 0x10]),
            "MQTT-3.6.2-1",
            P,
        ),
        (
            "PUBCOMP reason 0x80",
            V5,
            pkt(0x70, &[0, 1, 0x80]),
            "MQTT-3.7.2-1",
            P,
        ),
        (
            "PUBACK with Topic Alias",
            V5,
            pkt(0x40, &[0, 1, 0, 3, 0x23, 0, 1]),
            "2.2.2.2",
            M,
        ),
        (
            "PUBACK trailing byte",
            V5,
            pkt(0x40, &[0, 1, 0, 0, 0]),
            "2.2.3",
            M,
        ),
        // SUBSCRIBE, SUBACK.
        (
            "SUBSCRIBE without filters",
            V311,
            pkt(0x82, &[0, 1]),
            "MQTT-3.8.3-3",
            P,
        ),
        (
            "SUBSCRIBE without filters v5",
            V5,
            pkt(0x82, &[0, 1, 0]),
            "MQTT-3.8.3-3",
            P,
        ),
        (
            "SUBSCRIBE packet id 0",
            V311,
            pkt(0x82, &[0, 0, 0, 1, b'a', 0]),
            "MQTT-2.3.1-1",
            P,
        ),
        (
            "SUBSCRIBE reserved option bits",
            V311,
            pkt(0x82, &[0, 1, 0, 1, b'a', 4]),
            "MQTT-3.8.3-4",
            M,
        ),
        (
            "SUBSCRIBE QoS 3",
            V311,
            pkt(0x82, &[0, 1, 0, 1, b'a', 3]),
            "MQTT-3.8.3-4",
            M,
        ),
        (
            "SUBSCRIBE QoS 3 in v5",
            V5,
            subscribe5(&[], b"a", 3),
            "3.8.3.1",
            P,
        ),
        (
            "SUBSCRIBE without options byte",
            V311,
            pkt(0x82, &[0, 1, 0, 1, b'a']),
            "2.2.3",
            M,
        ),
        (
            "SUBSCRIBE '#' not last",
            V311,
            pkt(0x82, &[0, 1, 0, 3, b'#', b'/', b'a', 0]),
            "MQTT-4.7.1-2",
            TF,
        ),
        (
            "SUBSCRIBE empty filter",
            V311,
            pkt(0x82, &[0, 1, 0, 0, 0]),
            "MQTT-4.7.3-1",
            TF,
        ),
        (
            "SUBSCRIBE v5 reserved bits",
            V5,
            subscribe5(&[], b"a", 0xC0),
            "MQTT-3.8.3-5",
            M,
        ),
        (
            "SUBSCRIBE retain handling 3",
            V5,
            subscribe5(&[], b"a", 0x30),
            "3.8.3.1",
            P,
        ),
        (
            "No Local on a shared subscription",
            V5,
            subscribe5(&[], b"$share/g/a", 0x04),
            "MQTT-3.8.3-4",
            P,
        ),
        (
            "Subscription Identifier twice",
            V5,
            subscribe5(&[0x0B, 1, 0x0B, 2], b"a", 0),
            "3.8.2.1.2",
            P,
        ),
        (
            "Reason String on SUBSCRIBE",
            V5,
            subscribe5(&[0x1F, 0, 0], b"a", 0),
            "2.2.2.2",
            M,
        ),
        (
            "SUBACK return code 3",
            V311,
            pkt(0x90, &[0, 1, 3]),
            "MQTT-3.9.3-2",
            P,
        ),
        (
            "SUBACK without return codes",
            V311,
            pkt(0x90, &[0, 1]),
            "3.9.3",
            P,
        ),
        (
            "SUBACK reason 0x10",
            V5,
            pkt(0x90, &[0, 1, 0, 0x10]),
            "MQTT-3.9.3-1",
            P,
        ),
        // UNSUBSCRIBE, UNSUBACK.
        (
            "UNSUBSCRIBE without filters",
            V311,
            pkt(0xA2, &[0, 1]),
            "MQTT-3.10.3-2",
            P,
        ),
        (
            "UNSUBSCRIBE 'a+'",
            V311,
            pkt(0xA2, &[0, 1, 0, 2, b'a', b'+']),
            "MQTT-4.7.1-3",
            TF,
        ),
        (
            "UNSUBSCRIBE filter truncated",
            V5,
            pkt(0xA2, &[0, 1, 0, 0, 4, b'a']),
            "2.2.3",
            M,
        ),
        (
            "UNSUBACK with payload in 3.1.1",
            V311,
            pkt(0xB0, &[0, 1, 0]),
            "2.2.3",
            M,
        ),
        (
            "UNSUBACK reason 0x10",
            V5,
            pkt(0xB0, &[0, 1, 0, 0x10]),
            "MQTT-3.11.3-1",
            P,
        ),
        // PING, DISCONNECT, AUTH.
        ("PINGREQ with a body", V311, pkt(0xC0, &[0]), "2.2.3", M),
        ("PINGRESP with a body", V5, pkt(0xD0, &[0]), "2.2.3", M),
        (
            "DISCONNECT with a body in 3.1.1",
            V311,
            pkt(0xE0, &[0]),
            "2.2.3",
            M,
        ),
        (
            "DISCONNECT reason 0x84",
            V5,
            pkt(0xE0, &[0x84]),
            "MQTT-3.14.2-1",
            P,
        ),
        (
            "DISCONNECT with Topic Alias",
            V5,
            pkt(0xE0, &[0, 3, 0x23, 0, 1]),
            "2.2.2.2",
            M,
        ),
        (
            "AUTH reason 0x01",
            V5,
            pkt(0xF0, &[0x01]),
            "MQTT-3.15.2-1",
            P,
        ),
        (
            "AUTH data without method",
            V5,
            pkt(0xF0, &[0x18, 3, 0x16, 0, 0]),
            "3.1.2.11.10",
            P,
        ),
        // CONNACK.
        (
            "CONNACK reserved flags",
            V311,
            pkt(0x20, &[2, 0]),
            "MQTT-3.2.2-1",
            M,
        ),
        (
            "CONNACK return code 6",
            V311,
            pkt(0x20, &[0, 6]),
            "3.2.2.3",
            P,
        ),
        (
            "CONNACK session present refused",
            V311,
            pkt(0x20, &[1, 5]),
            "MQTT-3.2.2-4",
            P,
        ),
        (
            "CONNACK length 3 in 3.1.1",
            V311,
            pkt(0x20, &[0, 0, 0]),
            "2.2.3",
            M,
        ),
        (
            "CONNACK reason 0x10",
            V5,
            pkt(0x20, &[0, 0x10, 0]),
            "MQTT-3.2.2-8",
            P,
        ),
        (
            "CONNACK Maximum QoS 2",
            V5,
            pkt(0x20, &[0, 0, 2, 0x24, 2]),
            "3.2.2.3.4",
            P,
        ),
        (
            "CONNACK Will Delay",
            V5,
            pkt(0x20, &[0, 0, 5, 0x18, 0, 0, 0, 1]),
            "2.2.2.2",
            M,
        ),
        // CONNECT.
        (
            "protocol name MQTX",
            V311,
            connect(b"MQTX", 4, 2, &[0, 1, b'c']),
            "MQTT-3.1.2-1",
            UPV,
        ),
        (
            "protocol level 6",
            V311,
            connect(b"MQTT", 6, 2, &[0, 1, b'c']),
            "MQTT-3.1.2-2",
            UPV,
        ),
        (
            "MQIsdp level 4",
            V311,
            connect(b"MQIsdp", 4, 2, &[0, 1, b'c']),
            "MQTT-3.1.2-2",
            UPV,
        ),
        (
            "CONNECT reserved flag",
            V311,
            connect311(0x03, &[]),
            "MQTT-3.1.2-3",
            M,
        ),
        (
            "will QoS 1 without will flag",
            V311,
            connect311(0x0A, &[]),
            "MQTT-3.1.2-13",
            M,
        ),
        (
            "will retain without will flag",
            V311,
            connect311(0x22, &[]),
            "MQTT-3.1.2-15",
            M,
        ),
        (
            "will QoS 3",
            V311,
            connect311(0x1E, &[0, 1, b'w', 0, 0]),
            "MQTT-3.1.2-14",
            M,
        ),
        (
            "password without user name",
            V311,
            connect311(0x42, &[0, 1, b'p']),
            "MQTT-3.1.2-22",
            M,
        ),
        (
            "client id not UTF-8",
            V311,
            connect(b"MQTT", 4, 2, &[0, 1, 0xFF]),
            "MQTT-1.5.3-1",
            M,
        ),
        (
            "client id with U+0000",
            V311,
            connect(b"MQTT", 4, 2, &[0, 1, 0]),
            "MQTT-1.5.3-2",
            M,
        ),
        (
            "will topic with wildcard",
            V311,
            connect311(0x06, &[0, 1, b'#', 0, 0]),
            "MQTT-3.3.2-2",
            TN,
        ),
        (
            "user name flag without user name",
            V311,
            connect311(0x82, &[]),
            "2.2.3",
            M,
        ),
        (
            "CONNECT trailing bytes",
            V311,
            connect311(0x02, &[0]),
            "2.2.3",
            M,
        ),
        (
            "Will Delay on CONNECT",
            V5,
            connect5(2, &[0x18, 0, 0, 0, 1], &[]),
            "2.2.2.2",
            M,
        ),
        (
            "Receive Maximum 0",
            V5,
            connect5(2, &[0x21, 0, 0], &[]),
            "3.1.2.11.3",
            P,
        ),
        (
            "Session Expiry twice",
            V5,
            connect5(2, &[0x11, 0, 0, 0, 1, 0x11, 0, 0, 0, 1], &[]),
            "3.1.2.11.2",
            P,
        ),
        (
            "Request Problem Information 2",
            V5,
            connect5(2, &[0x17, 2], &[]),
            "3.1.2.11.7",
            P,
        ),
        (
            "Maximum Packet Size 0",
            V5,
            connect5(2, &[0x27, 0, 0, 0, 0], &[]),
            "3.1.2.11.4",
            P,
        ),
        (
            "Topic Alias in will properties",
            V5,
            connect5(6, &[], &[3, 0x23, 0, 1, 0, 1, b'w', 0, 0]),
            "2.2.2.2",
            M,
        ),
    ]
}

#[test]
fn malformed_table_has_at_least_40_entries() {
    assert!(table().len() >= 40, "{}", table().len());
}

#[test]
fn every_malformed_packet_is_refused_with_its_rule_and_reason() {
    for (name, version, bytes, rule, reason) in table() {
        let mut buf = BytesMut::from(&bytes[..]);
        match decode(&mut buf, version, 1024) {
            Err(e) => {
                assert_eq!((e.rule, e.reason), (rule, reason), "{name}: {e}");
            }
            Ok(p) => panic!("{name}: decoded as {p:?}"),
        }
    }
}
