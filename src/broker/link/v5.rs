//! MQTT 5.0 pieces of a link: CONNACK properties, topic aliases, the delayed will.

use super::{Close, LinkLimits};
use crate::broker::router::{Router, SessionCell};
use crate::protocol::{Connect, Properties, Props, Publish, ReasonCode, Version, Will};
use crate::session::Message;
use crate::session::lazy::LazyVec;
use crate::topic::TopicName;
use std::sync::Arc;

/// Our receive maximum: unacknowledged incoming QoS 2 PUBLISHes a client may have.
pub(super) fn receive_max(limits: &LinkLimits) -> u16 {
    match limits.max_inflight {
        0 => u16::MAX,
        n => n,
    }
}

/// The keepalive in force and the CONNACK properties telling a v5 client about limits.
pub(super) fn connack_properties(
    c: &Connect,
    limits: &LinkLimits,
    assigned: Option<String>,
) -> (u16, Properties) {
    let mut props = Properties {
        assigned_client_identifier: assigned,
        ..Properties::default()
    };
    let mut keep_alive = c.keep_alive;
    if c.version.is_v5() {
        if limits.max_topic_alias > 0 {
            props.topic_alias_maximum = Some(limits.max_topic_alias);
        }
        props.receive_maximum = Some(receive_max(limits));
        if limits.max_qos < 2 {
            props.maximum_qos = Some(limits.max_qos);
        }
        // Wildcard, shared and subscription-identifier subscriptions default to available
        // ([MQTT-3.2.2.3.11..13]), so like mosquitto we leave those properties out.
        if limits.max_packet_size < crate::protocol::MAX_REMAINING_LENGTH + 5 {
            props.maximum_packet_size = Some(limits.max_packet_size);
        }
        let max = limits.max_keepalive;
        if keep_alive > max || (keep_alive == 0 && max > 0) {
            keep_alive = max;
            props.server_keep_alive = Some(keep_alive);
        }
        if !limits.retain_available {
            props.retain_available = Some(0);
        }
    }
    (keep_alive, props)
}

/// Resolves a v5 topic alias ([MQTT-3.3.2-7..12]): an alias with a topic is (re)defined, an
/// alias alone stands for its topic. The alias is per connection and not forwarded.
pub(super) fn resolve_alias(
    aliases: &mut LazyVec<Option<TopicName>>,
    limits: &LinkLimits,
    version: Version,
    p: &mut Publish,
) -> Result<(), Close> {
    let Some(alias) = p.properties.topic_alias else {
        return Ok(());
    };
    if alias == 0 || alias > limits.max_topic_alias || !version.is_v5() {
        return Err(Close::Error(
            format!("disconnected due to invalid topic alias {alias}"),
            Some(ReasonCode::TopicAliasInvalid),
        ));
    }
    // Allocated once the client uses an alias: most never do.
    let aliases: &mut Vec<_> = aliases;
    let slot = alias as usize - 1;
    if aliases.len() <= slot {
        aliases.resize(slot + 1, None);
    }
    if p.topic.is_empty() {
        match &aliases[slot] {
            Some(t) => p.topic = t.clone(),
            None => {
                return Err(Close::Error(
                    format!("disconnected due to protocol error (unknown topic alias {alias})"),
                    Some(ReasonCode::ProtocolError),
                ));
            }
        }
    } else {
        aliases[slot] = Some(p.topic.clone());
    }
    p.properties.topic_alias = None;
    if p.properties.is_empty() {
        p.properties = Props::default();
    }
    Ok(())
}

/// Publishes a will now, or after its v5 will delay interval (bounded by the session expiry)
/// unless a connection resumed the session by then ([MQTT-3.1.3-9]).
pub(super) fn send_will(
    router: &Arc<Router>,
    cell: &Arc<SessionCell>,
    username: Option<&str>,
    mut will: Will,
    retain_available: bool,
) {
    // Like a PUBLISH, a will may not write to `$SYS`, whatever the access policy.
    if !crate::broker::sys::client_may_publish(&will.topic)
        || !router
            .access()
            .can_write(&cell.client_id, username, &will.topic)
    {
        return;
    }
    let expiry = cell.lock().expiry;
    let delay = will.properties.will_delay_interval.unwrap_or(0).min(expiry);
    will.properties.will_delay_interval = None;
    if will.properties.is_empty() {
        will.properties = Props::default();
    }
    let retain = will.retain && retain_available;
    let msg = Message::new(will.topic, will.payload, will.qos, retain, will.properties);
    router.publish_will(cell, msg, delay);
}
