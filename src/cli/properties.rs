//! `-D CMD ID VALUE` / `-D CMD user-property NAME VALUE`: MQTT v5 properties from the command
//! line, with mosquitto's per-packet restrictions and range checks.

use super::connect::Usage;
use crate::protocol::Properties;
use bytes::Bytes;

/// Properties for each packet the client sends.
#[derive(Clone, Debug, Default)]
pub struct PropertyArgs {
    /// CONNECT.
    pub connect: Properties,
    /// PUBLISH.
    pub publish: Properties,
    /// SUBSCRIBE.
    pub subscribe: Properties,
    /// UNSUBSCRIBE.
    pub unsubscribe: Properties,
    /// DISCONNECT.
    pub disconnect: Properties,
    /// The will.
    pub will: Properties,
}

const ALLOWED: &[(&str, &[&str])] = &[
    (
        "connect",
        &[
            "authentication-data",
            "authentication-method",
            "maximum-packet-size",
            "receive-maximum",
            "request-problem-information",
            "request-response-information",
            "session-expiry-interval",
            "topic-alias-maximum",
            "user-property",
        ],
    ),
    (
        "publish",
        &[
            "content-type",
            "correlation-data",
            "message-expiry-interval",
            "payload-format-indicator",
            "response-topic",
            "topic-alias",
            "user-property",
        ],
    ),
    ("subscribe", &["subscription-identifier", "user-property"]),
    ("unsubscribe", &["user-property"]),
    ("disconnect", &["session-expiry-interval", "user-property"]),
    (
        "will",
        &[
            "content-type",
            "correlation-data",
            "message-expiry-interval",
            "payload-format-indicator",
            "response-topic",
            "user-property",
            "will-delay-interval",
        ],
    ),
];

fn number(name: &str, value: &str, max: u64) -> Result<u64, Usage> {
    let v: i64 = value.parse().map_err(|_| {
        Usage(format!(
            "Invalid property value ({value}) for property {name}."
        ))
    })?;
    if v < 0 || v as u64 > max {
        return Err(Usage(format!(
            "Property value ({value}) out of range for property {name}.\n"
        )));
    }
    Ok(v as u64)
}

fn set(p: &mut Properties, name: &str, value: &str) -> Result<(), Usage> {
    let u8v = || number(name, value, u64::from(u8::MAX)).map(|v| v as u8);
    let u16v = || number(name, value, u64::from(u16::MAX)).map(|v| v as u16);
    let u32v = || number(name, value, u64::from(u32::MAX)).map(|v| v as u32);
    match name {
        "authentication-data" => p.authentication_data = Some(Bytes::from(value.to_string())),
        "authentication-method" => p.authentication_method = Some(value.into()),
        "maximum-packet-size" => p.maximum_packet_size = Some(u32v()?),
        "receive-maximum" => p.receive_maximum = Some(u16v()?),
        "request-problem-information" => p.request_problem_information = Some(u8v()?),
        "request-response-information" => p.request_response_information = Some(u8v()?),
        "session-expiry-interval" => p.session_expiry_interval = Some(u32v()?),
        "topic-alias-maximum" => p.topic_alias_maximum = Some(u16v()?),
        "content-type" => p.content_type = Some(value.into()),
        "correlation-data" => p.correlation_data = Some(Bytes::from(value.to_string())),
        "message-expiry-interval" => p.message_expiry_interval = Some(u32v()?),
        "payload-format-indicator" => p.payload_format_indicator = Some(u8v()?),
        "response-topic" => p.response_topic = Some(value.into()),
        "topic-alias" => p.topic_alias = Some(u16v()?),
        "subscription-identifier" => {
            let v = number(name, value, 268_435_455)? as u32;
            p.subscription_identifiers = vec![v];
        }
        "will-delay-interval" => p.will_delay_interval = Some(u32v()?),
        _ => return Err(Usage(format!("Invalid property name {name}."))),
    }
    Ok(())
}

/// Groups the flat `-D` values (3 per property, 4 for user properties) and sorts them by packet.
pub fn parse(values: &[String]) -> Result<PropertyArgs, Usage> {
    let mut out = PropertyArgs::default();
    let mut i = 0;
    while i < values.len() {
        let cmd = values[i].to_ascii_lowercase();
        let name = values.get(i + 1).map(String::as_str).unwrap_or("");
        let needed = if name == "user-property" { 4 } else { 3 };
        if i + needed > values.len() {
            return Err(Usage(
                "--property argument given but not enough arguments specified.".into(),
            ));
        }
        let Some((_, allowed)) = ALLOWED.iter().find(|(c, _)| *c == cmd) else {
            return Err(Usage(format!(
                "Invalid command {cmd} given in --property argument."
            )));
        };
        if !allowed.contains(&name) {
            return Err(Usage(format!(
                "{name} property not supported for {cmd} in --property argument.\n"
            )));
        }
        let target = match cmd.as_str() {
            "connect" => &mut out.connect,
            "publish" => &mut out.publish,
            "subscribe" => &mut out.subscribe,
            "unsubscribe" => &mut out.unsubscribe,
            "disconnect" => &mut out.disconnect,
            _ => &mut out.will,
        };
        if needed == 4 {
            target
                .user_properties
                .push((values[i + 2].clone(), values[i + 3].clone()));
        } else {
            set(target, name, &values[i + 2])?;
        }
        i += needed;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    #[test]
    fn groups_values_by_packet() {
        let p = parse(&v(
            "publish content-type text/plain PUBLISH user-property k v connect receive-maximum 10",
        ))
        .unwrap();
        assert_eq!(p.publish.content_type.as_deref(), Some("text/plain"));
        assert_eq!(p.publish.user_properties, vec![("k".into(), "v".into())]);
        assert_eq!(p.connect.receive_maximum, Some(10));
    }

    #[test]
    fn refuses_like_mosquitto() {
        let e = |s: &str| parse(&v(s)).unwrap_err().0;
        assert_eq!(
            e("connect receive-maximum 70000"),
            "Property value (70000) out of range for property receive-maximum.\n"
        );
        assert_eq!(
            e("puback user-property a b"),
            "Invalid command puback given in --property argument."
        );
        assert_eq!(
            e("publish subscription-identifier 1"),
            "subscription-identifier property not supported for publish in --property argument.\n"
        );
    }
}
