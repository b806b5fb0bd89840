//! `mount_point`: the clients of a listener live under a topic prefix, as in mosquitto.
//!
//! ```text
//!  client (listener with mount_point site/)            router (full topics)
//!  PUBLISH a/b, will a/w           ──prefix──▶        site/a/b, site/a/w
//!  SUBSCRIBE a/#, $share/g/a/#     ──prefix──▶        site/a/#, $share/g/site/a/#
//!  PUBLISH a/b                     ◀──strip───        site/a/b
//! ```
//!
//! Everything past the link sees full topics: the ACL is checked on them (as mosquitto does),
//! retained messages and the store hold them. The prefix is plain text put before the topic,
//! so `site` (without `/`) makes `a` into `sitea`. A topic starting with `$` is mounted like
//! any other: a mounted client's `$SYS/#` is `site/$SYS/#`, so it never sees the broker's
//! `$SYS` tree, and its publish to `$SYS/x` is an ordinary message on `site/$SYS/x`. A shared
//! subscription keeps its `$share/{group}/` and mounts the filter after it.
//!
//! Listeners without a mount point hold `None` and pay one pointer test per packet.

use crate::protocol::{Connect, Packet, ReasonCode};
use crate::topic::{TopicFilter, TopicName};

/// A listener's topic prefix.
#[derive(Debug, PartialEq, Eq)]
pub struct MountPoint {
    prefix: String,
}

impl MountPoint {
    /// A mount point; `prefix` is a valid topic name (checked with the config).
    pub fn new(prefix: &str) -> MountPoint {
        MountPoint {
            prefix: prefix.to_string(),
        }
    }

    /// The full topic of a client's topic; `None` when it would be too long. An empty topic
    /// (a v5 PUBLISH that names its topic by alias) stays empty.
    pub fn topic_in(&self, topic: &TopicName) -> Option<TopicName> {
        if topic.is_empty() {
            return Some(topic.clone());
        }
        TopicName::new(format!("{}{topic}", self.prefix)).ok()
    }

    /// The full filter of a client's filter, after `$share/{group}/` for a shared one; `None`
    /// when the result is no valid filter (too long, or a prefix without `/` glued to a
    /// wildcard, as `site#`).
    pub fn filter_in(&self, filter: &TopicFilter) -> Option<TopicFilter> {
        let mounted = match filter.share() {
            Some((group, pattern)) => format!("$share/{group}/{}{pattern}", self.prefix),
            None => format!("{}{filter}", self.prefix),
        };
        TopicFilter::new(mounted).ok()
    }

    /// The topic the client sees for a full topic; `None` for a topic outside the mount point
    /// (or equal to the prefix, which would leave nothing).
    pub fn topic_out(&self, topic: &TopicName) -> Option<TopicName> {
        if topic.len() <= self.prefix.len() || !topic.starts_with(self.prefix.as_str()) {
            return None;
        }
        let rest = topic.as_bytestr().as_bytes().slice(self.prefix.len()..);
        TopicName::from_bytes(rest).ok()
    }

    /// Strips the prefix from an outgoing PUBLISH; false when the message is outside the
    /// mount point and must not be sent. Other packets pass unchanged.
    pub fn outgoing(&self, p: &mut Packet) -> bool {
        let Packet::Publish(p) = p else {
            return true;
        };
        match self.topic_out(&p.topic) {
            Some(t) => {
                p.topic = t;
                true
            }
            None => false,
        }
    }
}

/// Mounts the will topic of a CONNECT on a listener with a mount point; a will topic too long
/// to mount refuses the connection (`Topic Name invalid` in 5.0, `not authorized` in 3.1.1).
pub fn mount_will(mount: Option<&MountPoint>, c: &mut Connect) -> Result<(), ReasonCode> {
    let (Some(mount), Some(will)) = (mount, c.will.as_mut()) else {
        return Ok(());
    };
    match mount.topic_in(&will.topic) {
        Some(t) => {
            will.topic = t;
            Ok(())
        }
        None if c.version.is_v5() => Err(ReasonCode::TopicNameInvalid),
        None => Err(ReasonCode::NotAuthorized),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> TopicName {
        TopicName::new(s).unwrap()
    }

    fn filter(s: &str) -> TopicFilter {
        TopicFilter::new(s).unwrap()
    }

    #[test]
    fn topics_and_filters_get_the_prefix_and_lose_it_on_the_way_out() {
        let m = MountPoint::new("site/");
        assert_eq!(m.topic_in(&name("a/b")), Some(name("site/a/b")));
        assert_eq!(m.topic_in(&TopicName::empty()), Some(TopicName::empty()));
        assert_eq!(m.topic_in(&name("$SYS/x")), Some(name("site/$SYS/x")));
        assert_eq!(m.filter_in(&filter("a/#")), Some(filter("site/a/#")));
        assert_eq!(m.filter_in(&filter("#")), Some(filter("site/#")));
        assert_eq!(m.filter_in(&filter("$SYS/#")), Some(filter("site/$SYS/#")));
        assert_eq!(
            m.filter_in(&filter("$share/g/+/t")),
            Some(filter("$share/g/site/+/t"))
        );
        assert_eq!(m.topic_out(&name("site/a/b")), Some(name("a/b")));
        assert_eq!(m.topic_out(&name("site/$SYS/x")), Some(name("$SYS/x")));
        assert_eq!(
            m.topic_out(&name("other/a")),
            None,
            "outside the mount point"
        );
        assert_eq!(m.topic_out(&name("site/")), None, "nothing left");
        assert_eq!(m.topic_out(&name("sit")), None);
    }

    #[test]
    fn a_prefix_without_slash_is_glued_on() {
        let m = MountPoint::new("site");
        assert_eq!(m.topic_in(&name("a")), Some(name("sitea")));
        assert_eq!(m.filter_in(&filter("a/+")), Some(filter("sitea/+")));
        assert_eq!(m.filter_in(&filter("#")), None, "site# is no filter");
        assert_eq!(m.filter_in(&filter("+/a")), None);
        assert_eq!(m.topic_out(&name("sitea")), Some(name("a")));
    }

    #[test]
    fn a_topic_too_long_to_mount_is_refused() {
        let m = MountPoint::new("site/");
        let long = "x".repeat(65_535 - 3);
        assert_eq!(m.topic_in(&name(&long)), None);
        assert_eq!(m.filter_in(&filter(&long)), None);
        let mut c = Connect {
            version: crate::protocol::Version::V5,
            client_id: "c".into(),
            clean_start: true,
            keep_alive: 60,
            username: None,
            password: None,
            will: Some(crate::protocol::Will {
                topic: name(&long),
                payload: bytes::Bytes::new(),
                qos: crate::protocol::QoS::AtMostOnce,
                retain: false,
                properties: Default::default(),
            }),
            properties: Default::default(),
            bridge: false,
        };
        assert_eq!(mount_will(None, &mut c), Ok(()));
        assert_eq!(
            mount_will(Some(&m), &mut c),
            Err(ReasonCode::TopicNameInvalid)
        );
        c.will.as_mut().unwrap().topic = name("w");
        assert_eq!(mount_will(Some(&m), &mut c), Ok(()));
        assert_eq!(c.will.unwrap().topic, name("site/w"));
    }
}
