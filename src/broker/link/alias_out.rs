//! Topic aliases the broker assigns to the PUBLISHes it sends a v5 client that allows them.
//!
//! A client whose CONNECT carries Topic Alias Maximum N > 0 accepts aliases 1..=N from us
//! ([MQTT-3.3.2-9]). The first PUBLISH of a topic carries the topic and a new alias; later ones
//! carry an empty topic and that alias. Policy, as simple as can be: aliases are handed out in
//! the order topics are first sent, until the client's maximum (and at most [`CAP`]) is used
//! up; topics after that go out in full, without an alias, and no alias is ever reassigned.
//!
//! Aliases belong to the network connection ([MQTT-3.3.2-7]): the table lives with the link and
//! starts empty on every connection, and the session keeps full topics, so a QoS 1/2 message
//! sent again after a reconnect carries its topic (and, maybe, a fresh alias). A PUBLISH whose
//! aliased form would exceed the client's Maximum Packet Size goes out in full instead (the
//! session already checked that form fits).

use crate::protocol::{Packet, Version, encoded_len};
use crate::topic::TopicName;
use std::collections::HashMap;

/// Most aliases kept per connection, whatever the client allows: the table holds a copy of
/// each aliased topic, so this bounds what one connection can make the broker hold.
pub(super) const CAP: u16 = 256;

/// The aliases of one connection.
#[derive(Debug, Default)]
pub(super) struct OutAliases {
    /// Aliases that may be assigned: the client's maximum, bounded by [`CAP`].
    max: u16,
    /// The client's Maximum Packet Size (0 = no limit).
    max_packet: u32,
    /// Topic → alias, for every alias assigned so far.
    map: HashMap<Box<str>, u16>,
}

impl OutAliases {
    /// The table for a client's CONNECT properties; `None` when it accepts no alias.
    pub(super) fn for_client(
        version: Version,
        topic_alias_maximum: Option<u16>,
        max_packet: Option<u32>,
    ) -> Option<Box<OutAliases>> {
        let max = topic_alias_maximum.unwrap_or(0).min(CAP);
        (version.is_v5() && max > 0).then(|| {
            Box::new(OutAliases {
                max,
                max_packet: max_packet.unwrap_or(0),
                map: HashMap::new(),
            })
        })
    }

    /// Puts an alias on an outgoing PUBLISH where the policy allows; other packets pass as
    /// they are.
    pub(super) fn apply(&mut self, packet: &mut Packet) {
        let Packet::Publish(p) = packet else {
            return;
        };
        if p.topic.is_empty() || p.properties.topic_alias.is_some() {
            return;
        }
        let known = self.map.get(p.topic.as_str()).copied();
        let (alias, new) = match known {
            Some(a) => (a, false),
            None if self.map.len() < self.max as usize => (self.map.len() as u16 + 1, true),
            None => return,
        };
        let topic = p.topic.clone();
        p.properties.topic_alias = Some(alias);
        if !new {
            p.topic = TopicName::empty();
        }
        if self.max_packet != 0 && encoded_len(packet, Version::V5) > self.max_packet as usize {
            // Over the client's limit with the alias: sent as it was.
            if let Packet::Publish(p) = packet {
                p.topic = topic;
                p.properties.topic_alias = None;
            }
            return;
        }
        if new {
            self.map.insert(topic.as_str().into(), alias);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Props, Publish, QoS};

    fn publish(topic: &str) -> Packet {
        Packet::Publish(Publish {
            dup: false,
            qos: QoS::AtMostOnce,
            retain: false,
            topic: TopicName::new(topic.to_string()).unwrap(),
            packet_id: None,
            properties: Props::default(),
            payload: bytes::Bytes::from_static(b"x"),
        })
    }

    fn sent(a: &mut OutAliases, topic: &str) -> (String, Option<u16>) {
        let mut p = publish(topic);
        a.apply(&mut p);
        match p {
            Packet::Publish(p) => (p.topic.as_str().to_string(), p.properties.topic_alias),
            _ => unreachable!(),
        }
    }

    #[test]
    fn assigns_up_to_the_maximum_then_sends_full_topics() {
        let mut a = *OutAliases::for_client(Version::V5, Some(2), None).unwrap();
        assert_eq!(sent(&mut a, "a/1"), ("a/1".into(), Some(1)));
        assert_eq!(sent(&mut a, "a/2"), ("a/2".into(), Some(2)));
        assert_eq!(sent(&mut a, "a/3"), ("a/3".into(), None));
        assert_eq!(sent(&mut a, "a/1"), ("".into(), Some(1)));
        assert_eq!(sent(&mut a, "a/2"), ("".into(), Some(2)));
        assert_eq!(sent(&mut a, "a/3"), ("a/3".into(), None));
    }

    #[test]
    fn no_table_without_a_maximum_or_before_v5() {
        assert!(OutAliases::for_client(Version::V5, None, None).is_none());
        assert!(OutAliases::for_client(Version::V5, Some(0), None).is_none());
        assert!(OutAliases::for_client(Version::V311, Some(5), None).is_none());
        let a = OutAliases::for_client(Version::V5, Some(u16::MAX), None).unwrap();
        assert_eq!(a.max, CAP);
    }

    #[test]
    fn an_alias_that_would_exceed_the_maximum_packet_size_is_left_out() {
        // "a/1" with payload "x": 2 + 1 + 2 + 3 + 1 (no properties) + 1 = 10 bytes; the alias
        // property adds 3.
        let mut a = *OutAliases::for_client(Version::V5, Some(2), Some(10)).unwrap();
        assert_eq!(sent(&mut a, "a/1"), ("a/1".into(), None));
        assert!(a.map.is_empty());
    }
}
