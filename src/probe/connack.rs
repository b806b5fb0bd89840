//! MQTT 5.0 CONNACK: every limit and capability the broker announces (3.2.2.3), read from one
//! connection with an empty client id (so the broker must assign one), the longest keep-alive
//! and a session that never expires (so the broker says where it caps them). That session is
//! then ended: DISCONNECT sets its expiry to 0, and a clean start with the same id follows, so
//! nothing is left behind even if the DISCONNECT was lost.

use super::outcome::{Check, Outcome, Status, fmt_count};
use super::target::{Caps, Target, why};
use crate::client::{Client, ClientError};
use crate::protocol::{ConnAck, Disconnect, Properties, Props, Version};
use serde_json::{Value, json};

/// The keep-alive asked for, the protocol's longest, so that a broker's cap shows.
const ASKED_KEEP_ALIVE: u16 = u16::MAX;

/// What the v5 connection found: the outcome lines and the capabilities for later checks.
#[derive(Debug)]
pub struct Announced {
    /// One outcome per property, then the zero-length client id outcome.
    pub outcomes: Vec<Outcome>,
    /// Capabilities that later checks must respect.
    pub caps: Caps,
}

/// Connects with MQTT 5.0 and reads the CONNACK; `Err` only when no v5 connection is possible.
pub async fn announced(t: &Target) -> Result<Announced, ClientError> {
    let mut opts = t.options(Version::V5);
    opts.client_id = String::new();
    opts.keep_alive = ASKED_KEEP_ALIVE;
    opts.properties.session_expiry_interval = Some(u32::MAX);
    let (client, connack, empty_id) = match Client::connect(opts.clone()).await {
        Ok((c, a)) => (c, a, Ok(())),
        Err(e @ ClientError::Refused { .. }) => {
            // Refused for the empty id, perhaps: try again with one of ours.
            opts.client_id = t.client_id();
            let (c, a) = Client::connect(opts).await?;
            (c, a, Err(why(&e)))
        }
        Err(e) => return Err(e),
    };
    let id = client.client_id().to_string();
    end_session(t, client, &id).await;
    let mut outcomes = properties(&connack.properties);
    outcomes.push(assigned_id(&connack, empty_id.is_ok()));
    outcomes.push(match empty_id {
        Ok(()) => ok_empty_id(&id),
        Err(why) => no_empty_id(&why),
    });
    Ok(Announced {
        outcomes,
        caps: Caps::of(&connack),
    })
}

/// Ends the session asked to last for ever: DISCONNECT with expiry 0, then a clean start
/// under the same id, disconnected normally.
async fn end_session(t: &Target, client: Client, id: &str) {
    let props = Properties {
        session_expiry_interval: Some(0),
        ..Properties::default()
    };
    let _ = client
        .disconnect_with(Disconnect {
            properties: Props::new(props),
            ..Disconnect::default()
        })
        .await;
    let mut again = t.options(Version::V5);
    again.client_id = id.to_string();
    if let Ok((c, _)) = Client::connect(again).await {
        let _ = c.disconnect().await;
    }
}

fn line(check: Check, status: Status, figure: String, value: Value) -> Outcome {
    Outcome::new(check, Some(Version::V5), status, figure, value)
}

/// A yes/no capability: absent means available (3.2.2.3).
fn available(check: Check, v: Option<u8>) -> Outcome {
    let yes = v != Some(0);
    let (status, figure) = match (yes, v) {
        (true, None) => (Status::Ok, "yes (not announced: available)".to_string()),
        (true, Some(_)) => (Status::Ok, "yes".to_string()),
        (false, _) => (Status::No, "no".to_string()),
    };
    line(check, status, figure, json!(yes))
}

/// One outcome per CONNACK property.
fn properties(p: &Properties) -> Vec<Outcome> {
    let max_qos = p.maximum_qos.unwrap_or(2);
    let receive_max = p.receive_maximum.unwrap_or(u16::MAX);
    let aliases = p.topic_alias_maximum.unwrap_or(0);
    vec![
        line(
            Check::MaximumQos,
            if max_qos >= 2 { Status::Ok } else { Status::No },
            match p.maximum_qos {
                None => "2 (not announced: no limit)".into(),
                Some(q) => q.to_string(),
            },
            json!(max_qos),
        ),
        available(Check::RetainAvailable, p.retain_available),
        available(Check::WildcardAvailable, p.wildcard_subscription_available),
        available(Check::SharedAvailable, p.shared_subscription_available),
        available(Check::SubscriptionIds, p.subscription_identifier_available),
        line(
            Check::ReceiveMaximum,
            Status::Ok,
            match p.receive_maximum {
                None => "65535 (not announced: the protocol's default)".into(),
                Some(n) => n.to_string(),
            },
            json!(receive_max),
        ),
        line(
            Check::MaximumPacketSize,
            Status::Ok,
            match p.maximum_packet_size {
                None => "not announced (no limit but the protocol's)".into(),
                Some(n) => format!("{} bytes", fmt_count(n.into())),
            },
            json!(p.maximum_packet_size),
        ),
        line(
            Check::TopicAliasMaximum,
            if aliases > 0 { Status::Ok } else { Status::No },
            match p.topic_alias_maximum {
                None => "0 (not announced: no topic aliases)".into(),
                Some(n) => n.to_string(),
            },
            json!(aliases),
        ),
        line(
            Check::ServerKeepAlive,
            Status::Ok,
            match p.server_keep_alive {
                None => format!("not set (the client's {ASKED_KEEP_ALIVE} s stands)"),
                Some(s) => format!("{s} s (the client asked for {ASKED_KEEP_ALIVE} s)"),
            },
            json!(p.server_keep_alive),
        ),
        line(
            Check::SessionExpiry,
            Status::Ok,
            match p.session_expiry_interval {
                None => "not set (the client's \"never expires\" stands)".into(),
                Some(s) => format!("{s} s (the client asked for never)"),
            },
            json!(p.session_expiry_interval),
        ),
    ]
}

fn assigned_id(connack: &ConnAck, asked: bool) -> Outcome {
    let id = connack.properties.assigned_client_identifier.as_deref();
    let (status, figure) = match (asked, id) {
        (true, Some(id)) => (Status::Ok, id.to_string()),
        (true, None) => (
            Status::No,
            "missing, though the client id was empty [MQTT-3.2.2-16]".to_string(),
        ),
        (false, _) => (
            Status::NotApplicable,
            "an empty client id is refused".to_string(),
        ),
    };
    line(Check::AssignedClientId, status, figure, json!(id))
}

fn ok_empty_id(id: &str) -> Outcome {
    line(
        Check::EmptyClientId,
        Status::Ok,
        format!("accepted (assigned {id})"),
        json!(true),
    )
}

fn no_empty_id(why: &str) -> Outcome {
    line(
        Check::EmptyClientId,
        Status::No,
        why.to_string(),
        json!(false),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_properties_read_as_the_protocol_defaults() {
        let out = properties(&Properties::default());
        let get = |id: &str| out.iter().find(|o| o.check.id() == id).unwrap();
        assert_eq!(get("maximum_qos").value, json!(2));
        assert_eq!(get("retain_available").status, Status::Ok);
        assert_eq!(get("receive_maximum").value, json!(65535));
        assert_eq!(get("maximum_packet_size").value, Value::Null);
        assert_eq!(get("topic_alias_maximum").status, Status::No);
        assert_eq!(out.len(), 10);
    }

    #[test]
    fn announced_limits_are_reported() {
        let p = Properties {
            maximum_qos: Some(1),
            retain_available: Some(0),
            maximum_packet_size: Some(1024),
            topic_alias_maximum: Some(10),
            server_keep_alive: Some(60),
            ..Properties::default()
        };
        let out = properties(&p);
        let get = |id: &str| out.iter().find(|o| o.check.id() == id).unwrap();
        assert_eq!(get("maximum_qos").status, Status::No);
        assert_eq!(get("retain_available").figure, "no");
        assert_eq!(get("maximum_packet_size").figure, "1,024 bytes");
        assert_eq!(get("topic_alias_maximum").value, json!(10));
        assert!(get("server_keep_alive").figure.starts_with("60 s"));
    }
}
