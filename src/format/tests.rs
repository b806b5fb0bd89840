use super::*;
use crate::protocol::{PacketId, Properties, Props, QoS};
use crate::topic::TopicName;
use chrono::TimeZone;

fn msg(topic: &str, payload: &[u8]) -> Publish {
    Publish {
        dup: false,
        qos: QoS::AtMostOnce,
        retain: true,
        topic: TopicName::new(topic).unwrap(),
        packet_id: None,
        properties: Props::default(),
        payload: bytes::Bytes::copy_from_slice(payload),
    }
}

fn v5msg() -> Publish {
    let mut m = msg("z/1", b"hi");
    m.qos = QoS::AtLeastOnce;
    m.packet_id = PacketId::new(7);
    m.properties = Props::new(Properties {
        topic_alias: Some(3),
        content_type: Some("text/plain".into()),
        correlation_data: Some(bytes::Bytes::from_static(b"corr")),
        message_expiry_interval: Some(30),
        payload_format_indicator: Some(1),
        response_topic: Some("resp/x".into()),
        subscription_identifiers: vec![42],
        user_properties: vec![("k".into(), "v".into()), ("a".into(), "b".into())],
        ..Properties::default()
    });
    m
}

fn at() -> DateTime<Local> {
    let utc = chrono::Utc
        .with_ymd_and_hms(2026, 11, 24, 23, 59, 10)
        .unwrap()
        + chrono::Duration::nanoseconds(461_871_516);
    utc.with_timezone(&Local)
}

fn render(fmt: &str, m: &Publish) -> Vec<u8> {
    let mut out = Vec::new();
    Format::parse(fmt).unwrap().render_at(m, at(), &mut out);
    out
}

fn r(fmt: &str, m: &Publish) -> String {
    String::from_utf8(render(fmt, m)).unwrap()
}

#[test]
fn message_fields() {
    let m = msg("a/b", b"hello");
    assert_eq!(r("%t %p %l %q %r %m %%", &m), "a/b hello 5 0 1 0 %");
    assert_eq!(r("%x|%X", &msg("a", b"\x01\xab")), "01ab|01AB");
    let v = v5msg();
    assert_eq!(r("%q %m %r", &v), "1 7 1");
}

#[test]
fn v5_property_fields() {
    let v = v5msg();
    assert_eq!(
        r("%A|%C|%D|%E|%F|%P|%R|%S", &v),
        "3|text/plain|corr|30|1|k:v a:b|resp/x|42"
    );
    // Absent properties print nothing.
    assert_eq!(r("%A|%C|%D|%E|%F|%P|%R|%S", &msg("a", b"x")), "|||||||");
}

#[test]
fn widths_and_alignment_match_mosquitto() {
    let m = msg("r/1", b"hello");
    assert_eq!(
        r("%5t|%-5t|%.1t|%05t|%-05t", &m),
        "  r/1|r/1  |r|  r/1|r/1  "
    );
    assert_eq!(r("%10p|%-10p|%.3p", &m), "     hello|hello     |hello");
    // A width truncates the payload; for hex it counts digits of whole bytes.
    assert_eq!(r("%3p|%5x|%6X", &m), "hel| 6865|  6865");
    assert_eq!(r("%05l|%-5l|%3m|%5q|%5r", &m), "00005|5    |  0|0|1");
    let v = v5msg();
    assert_eq!(
        r("%4A|%-4E|%04S|%12C|%.4R", &v),
        "   3|30  |0042|  text/plain|resp"
    );
}

#[test]
fn time_fields_and_strftime() {
    let m = msg("a", b"");
    let local = at();
    assert_eq!(r("%U", &m), format!("{}.461871516", local.timestamp()));
    assert_eq!(r("%I", &m), local.format("%Y-%m-%dT%H:%M:%S%z").to_string());
    assert_eq!(
        r("@Y-@m-@d @H:@M:@S@z", &m),
        local.format("%Y-%m-%d %H:%M:%S%z").to_string()
    );
    assert_eq!(
        r("@N|@@|@s", &m),
        format!("461871516|@|{}", local.timestamp())
    );
    assert_eq!(r("%30I", &m).len(), 30);
}

#[test]
fn escapes() {
    let m = msg("a", b"");
    assert_eq!(
        render("\\\\\\0\\a\\e\\n\\r\\t\\v", &m),
        b"\\\0\x07\x1b\n\r\t\x0b"
    );
}

#[test]
fn invalid_formats_are_refused_with_mosquittos_words() {
    let e = |s: &str| Format::parse(s).unwrap_err().to_string();
    assert_eq!(e("%Z"), "Invalid format specifier 'Z'.");
    assert_eq!(e("abc%"), "Incomplete format specifier.");
    assert_eq!(e("abc@"), "Incomplete format specifier.");
    assert_eq!(e("abc\\"), "Incomplete escape specifier.");
    assert_eq!(e("a\\q"), "Invalid escape specifier 'q'.");
    assert_eq!(e("%-05"), "Incomplete format specifier.");
}

#[test]
fn json_escaped_payload() {
    let m = msg("a/b", b"he\"llo\n");
    let out = r("%j", &m);
    let tst = at().format("%Y-%m-%dT%H:%M:%S%.6f%z").to_string();
    assert_eq!(
        out,
        format!(
            "{{\"tst\":\"{tst}\",\"topic\":\"a/b\",\"qos\":0,\"retain\":1,\"payloadlen\":7,\"payload\":\"he\\\"llo\\n\"}}"
        )
    );
    // Binary: mosquitto's C string stops at the first NUL.
    assert!(r("%j", &msg("a", b"ab\0cd")).ends_with("\"payloadlen\":5,\"payload\":\"ab\"}"));
    assert!(r("%j", &msg("a", b"\0\xff")).ends_with("\"payload\":\"\"}"));
}

#[test]
fn json_embedded_payload_and_properties() {
    let mut m = v5msg();
    m.payload = bytes::Bytes::from_static(b"{\"t\": 21.5, \"n\": [1, 2e0]}");
    let out = r("%J", &m);
    assert!(
        out.ends_with(
            "\"payloadlen\":26,\"mid\":7,\"properties\":{\"user-properties\":{\"k\":\"v\",\"a\":\"b\"},\
\"content-type\":\"text/plain\",\"payload-format-indicator\":1,\"message-expiry-interval\":30,\
\"response-topic\":\"resp/x\",\"correlation-data\":\"corr\",\"subscription-identifier\":42,\
\"topic-alias\":3},\"payload\":{\"t\":21.5,\"n\":[1,2]}}"
        ),
        "{out}"
    );
    // %J on a payload that is not JSON renders nothing and reports it.
    let mut buf = Vec::new();
    let ok = Format::parse("%J")
        .unwrap()
        .render_at(&msg("a", b"nope"), at(), &mut buf);
    assert!(!ok);
    assert!(buf.is_empty());
}

#[test]
fn json_pretty_uses_tabs() {
    let m = msg("a", b"{\"x\":[1,2]}");
    let mut out = Vec::new();
    Format::parse("%J")
        .unwrap()
        .pretty(true)
        .render_at(&m, at(), &mut out);
    let s = String::from_utf8(out).unwrap();
    assert!(s.starts_with("{\n\t\"tst\":\t\""), "{s}");
    assert!(
        s.ends_with("\t\"payload\":\t{\n\t\t\"x\":\t[1, 2]\n\t}\n}"),
        "{s}"
    );
}

#[test]
fn json_auto_mode_for_the_json_flag() {
    let line = |p: &[u8]| {
        let mut out = Vec::new();
        json_object(&msg("a", p), at(), JsonMode::Auto, false, &mut out);
        String::from_utf8(out).unwrap()
    };
    assert!(line(b"{\"a\":1}").ends_with("\"payload\":{\"a\":1}}"));
    assert!(line(b"21.5").ends_with("\"payload\":21.5}"));
    assert!(line(b"plain text").ends_with("\"payload\":\"plain text\"}"));
    assert!(line(b"\0\xff").ends_with("\"encoding\":\"base64\",\"payload\":\"AP8=\"}"));
}

#[test]
fn json_parser_rejects_what_is_not_one_value() {
    for bad in [
        &b""[..],
        b"{",
        b"[1,]",
        b"{\"a\"}",
        b"01x",
        b"1 2",
        b"\"\x01\"",
        b"tru",
    ] {
        assert!(
            !json::payload_is_json(bad),
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
    for good in [
        &b" {} "[..],
        b"[]",
        b"-1.5e+3",
        b"\"\\ud83d\\ude00\"",
        b"null",
    ] {
        assert!(json::payload_is_json(good));
    }
}
