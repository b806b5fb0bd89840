//! Topic aliases the broker puts on the PUBLISHes it sends us (MQTT 5).
//!
//! A broker may use them only when our CONNECT allowed some (Topic Alias Maximum > 0): a
//! PUBLISH with a topic and an alias (re)defines the alias, one with an empty topic stands for
//! the topic last defined. Aliases belong to one connection.

use super::ClientError;
use crate::protocol::Publish;
use crate::topic::TopicName;

/// The aliases of one connection.
#[derive(Debug, Default)]
pub(super) struct InAliases {
    /// The maximum our CONNECT told the broker (0 = none allowed).
    max: u16,
    /// Topic of each alias (index = alias - 1).
    topics: Vec<Option<TopicName>>,
}

impl InAliases {
    /// The table for the Topic Alias Maximum our CONNECT carried.
    pub(super) fn new(max: Option<u16>) -> InAliases {
        InAliases {
            max: max.unwrap_or(0),
            topics: Vec::new(),
        }
    }

    /// Gives a PUBLISH its topic. The alias stays among its properties (for `%A` output).
    pub(super) fn resolve(&mut self, p: &mut Publish) -> Result<(), ClientError> {
        let Some(alias) = p.properties.topic_alias else {
            return Ok(());
        };
        if alias == 0 || alias > self.max {
            return Err(ClientError::Protocol(format!(
                "topic alias {alias} over our topic alias maximum {}",
                self.max
            )));
        }
        let slot = alias as usize - 1;
        if self.topics.len() <= slot {
            self.topics.resize(slot + 1, None);
        }
        if p.topic.is_empty() {
            match &self.topics[slot] {
                Some(t) => p.topic = t.clone(),
                None => {
                    return Err(ClientError::Protocol(format!(
                        "unknown topic alias {alias} from the broker"
                    )));
                }
            }
        } else {
            self.topics[slot] = Some(p.topic.clone());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Props, QoS};

    fn publish(topic: &str, alias: Option<u16>) -> Publish {
        let mut properties = Props::default();
        properties.topic_alias = alias;
        Publish {
            dup: false,
            qos: QoS::AtMostOnce,
            retain: false,
            topic: match topic {
                "" => TopicName::empty(),
                t => TopicName::new(t.to_string()).unwrap(),
            },
            packet_id: None,
            properties,
            payload: bytes::Bytes::new(),
        }
    }

    #[test]
    fn an_alias_stands_for_the_topic_it_was_defined_with() {
        let mut a = InAliases::new(Some(2));
        let mut first = publish("a/b", Some(2));
        a.resolve(&mut first).unwrap();
        assert_eq!(first.topic.as_str(), "a/b");
        let mut later = publish("", Some(2));
        a.resolve(&mut later).unwrap();
        assert_eq!(later.topic.as_str(), "a/b");
        assert_eq!(later.properties.topic_alias, Some(2));
    }

    #[test]
    fn unknown_or_excess_aliases_are_protocol_errors() {
        let mut a = InAliases::new(Some(2));
        assert!(a.resolve(&mut publish("", Some(1))).is_err());
        assert!(a.resolve(&mut publish("x", Some(3))).is_err());
        assert!(
            InAliases::new(None)
                .resolve(&mut publish("x", Some(1)))
                .is_err()
        );
        let mut plain = publish("x", None);
        assert!(InAliases::new(None).resolve(&mut plain).is_ok());
    }
}
