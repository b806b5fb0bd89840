//! Retained messages: the last retained message per topic, found by filter on subscribe.

use crate::session::Message;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The retained message store, one message per topic.
#[derive(Default)]
pub struct RetainedStore {
    by_topic: BTreeMap<Box<str>, Arc<Message>>,
}

impl RetainedStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores `msg` for its topic, or deletes the topic's message when the payload is empty
    /// ([MQTT-3.3.1-10]). Returns true when something changed.
    pub fn set(&mut self, msg: Arc<Message>) -> bool {
        if msg.payload.is_empty() {
            self.by_topic.remove(msg.topic.as_str()).is_some()
        } else {
            self.by_topic.insert(msg.topic.as_str().into(), msg);
            true
        }
    }

    /// Number of retained messages.
    pub fn len(&self) -> usize {
        self.by_topic.len()
    }

    /// True when nothing is retained.
    pub fn is_empty(&self) -> bool {
        self.by_topic.is_empty()
    }

    /// Every retained message whose topic `pattern` (a filter without `$share/`) matches.
    pub fn matching(&self, pattern: &str) -> Vec<Arc<Message>> {
        // A filter without wildcards names one topic: no scan needed.
        if !pattern.contains(['+', '#']) {
            return self.by_topic.get(pattern).cloned().into_iter().collect();
        }
        // Scan only the range sharing the literal prefix before the first wildcard, without its
        // trailing '/' since "a/#" also matches "a".
        let prefix =
            pattern[..pattern.find(['+', '#']).unwrap_or(pattern.len())].trim_end_matches('/');
        self.by_topic
            .range::<str, _>((
                std::ops::Bound::Included(prefix),
                std::ops::Bound::Unbounded,
            ))
            .take_while(|(t, _)| t.starts_with(prefix))
            .filter(|(t, _)| crate::topic::matches(pattern, t))
            .map(|(_, m)| m.clone())
            .collect()
    }

    /// Every retained message (for the store).
    pub fn all(&self) -> impl Iterator<Item = &Arc<Message>> {
        self.by_topic.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Props, QoS};
    use crate::topic::TopicName;
    use bytes::Bytes;

    fn m(topic: &str, payload: &'static [u8]) -> Arc<Message> {
        Arc::new(Message::new(
            TopicName::new(topic).unwrap(),
            Bytes::from_static(payload),
            QoS::AtMostOnce,
            true,
            Props::default(),
        ))
    }

    fn topics(s: &RetainedStore, pattern: &str) -> Vec<String> {
        s.matching(pattern)
            .iter()
            .map(|m| m.topic.to_string())
            .collect()
    }

    #[test]
    fn set_replace_and_delete_by_empty_payload() {
        let mut s = RetainedStore::new();
        s.set(m("a/b", b"1"));
        s.set(m("a/b", b"2"));
        assert_eq!(s.len(), 1);
        assert_eq!(&s.matching("a/b")[0].payload[..], b"2");
        assert!(s.set(m("a/b", b"")));
        assert!(s.is_empty());
        assert!(!s.set(m("a/b", b"")), "deleting nothing changes nothing");
    }

    #[test]
    fn matching_uses_filters_and_the_dollar_rule() {
        let mut s = RetainedStore::new();
        for t in ["a", "a/b", "a/b/c", "b/x", "$SYS/x", "ab"] {
            s.set(m(t, b"v"));
        }
        assert_eq!(topics(&s, "a/#"), vec!["a", "a/b", "a/b/c"]);
        assert_eq!(topics(&s, "+/x"), vec!["b/x"]);
        assert_eq!(topics(&s, "#").len(), 5, "no $SYS");
        assert_eq!(topics(&s, "$SYS/#"), vec!["$SYS/x"]);
        assert_eq!(topics(&s, "ab"), vec!["ab"]);
    }
}
