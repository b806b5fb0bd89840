//! The subscription trie: one node per topic level, `+` and `#` as ordinary children.
//!
//! ```text
//!  root ─ sport ─ tennis ─ [subs]        sport/tennis
//!             └── +  ─ player1 ─ [subs]  sport/+/player1
//!             └── #  ─ [subs]            sport/#   (also matches "sport" itself)
//! ```
//!
//! Matching walks the topic's levels once, following the exact child, `+` and `#` at each step,
//! so its cost depends on the topic depth and the number of wildcard branches, not on the number
//! of subscriptions. Shared subscriptions (`$share/group/filter`) live in the node of their
//! filter, one member chosen per message, round-robin.

use crate::protocol::SubscriptionOptions;
use crate::topic::TopicFilter;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Group<S> {
    name: Box<str>,
    members: Vec<(S, SubscriptionOptions)>,
    next: AtomicUsize,
}

struct Node<S> {
    children: HashMap<Box<str>, Node<S>>,
    subs: Vec<(S, SubscriptionOptions)>,
    groups: Vec<Group<S>>,
}

impl<S> Default for Node<S> {
    fn default() -> Self {
        Node {
            children: HashMap::new(),
            subs: Vec::new(),
            groups: Vec::new(),
        }
    }
}

impl<S> Node<S> {
    fn is_empty(&self) -> bool {
        self.children.is_empty() && self.subs.is_empty() && self.groups.is_empty()
    }
}

/// Subscriptions of many subscribers `S` (compared with `==`), matched against topic names.
pub struct SubscriptionTree<S> {
    root: Node<S>,
    count: usize,
    shared: usize,
}

impl<S> Default for SubscriptionTree<S> {
    fn default() -> Self {
        SubscriptionTree {
            root: Node::default(),
            count: 0,
            shared: 0,
        }
    }
}

impl<S: Clone + PartialEq> SubscriptionTree<S> {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of subscriptions (shared members included).
    pub fn len(&self) -> usize {
        self.count
    }

    /// Number of shared subscriptions (members of `$share/...` groups).
    pub fn shared_len(&self) -> usize {
        self.shared
    }

    /// True without subscriptions.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Adds or replaces `subscriber`'s subscription to `filter`; true when it is new.
    pub fn subscribe(
        &mut self,
        filter: &TopicFilter,
        subscriber: S,
        opts: SubscriptionOptions,
    ) -> bool {
        let mut node = &mut self.root;
        for level in filter.pattern().split('/') {
            node = node.children.entry(level.into()).or_default();
        }
        let shared = filter.share().is_some();
        let list = match filter.share() {
            Some((group, _)) => {
                let idx = match node.groups.iter().position(|g| &*g.name == group) {
                    Some(i) => i,
                    None => {
                        node.groups.push(Group {
                            name: group.into(),
                            members: Vec::new(),
                            next: AtomicUsize::new(0),
                        });
                        node.groups.len() - 1
                    }
                };
                &mut node.groups[idx].members
            }
            None => &mut node.subs,
        };
        match list.iter_mut().find(|(s, _)| *s == subscriber) {
            Some(entry) => {
                *entry = (subscriber, opts);
                false
            }
            None => {
                list.push((subscriber, opts));
                self.count += 1;
                self.shared += shared as usize;
                true
            }
        }
    }

    /// Removes `subscriber`'s subscription to `filter`; true when it existed.
    pub fn unsubscribe(&mut self, filter: &TopicFilter, subscriber: &S) -> bool {
        let levels: Vec<&str> = filter.pattern().split('/').collect();
        let removed = remove(
            &mut self.root,
            &levels,
            filter.share().map(|(g, _)| g),
            subscriber,
        );
        if removed {
            self.count -= 1;
            self.shared -= filter.share().is_some() as usize;
        }
        removed
    }

    /// Appends every subscription matching `topic`: all ordinary ones, and one member of each
    /// shared group (round-robin). A subscriber may appear more than once.
    pub fn matches(&self, topic: &str, out: &mut Vec<(S, SubscriptionOptions)>) {
        let levels: Vec<&str> = topic.split('/').collect();
        let dollar = topic.starts_with('$');
        collect(&self.root, &levels, dollar, out);
    }
}

fn remove<S: PartialEq>(node: &mut Node<S>, levels: &[&str], group: Option<&str>, s: &S) -> bool {
    let Some((first, rest)) = levels.split_first() else {
        let list = match group {
            Some(g) => match node.groups.iter_mut().find(|x| &*x.name == g) {
                Some(grp) => &mut grp.members,
                None => return false,
            },
            None => &mut node.subs,
        };
        let before = list.len();
        list.retain(|(x, _)| x != s);
        let removed = list.len() != before;
        node.groups.retain(|g| !g.members.is_empty());
        return removed;
    };
    let Some(child) = node.children.get_mut(*first) else {
        return false;
    };
    let removed = remove(child, rest, group, s);
    if child.is_empty() {
        node.children.remove(*first);
    }
    removed
}

fn take<S: Clone>(node: &Node<S>, out: &mut Vec<(S, SubscriptionOptions)>) {
    out.extend(node.subs.iter().cloned());
    for g in &node.groups {
        if !g.members.is_empty() {
            let i = g.next.fetch_add(1, Ordering::Relaxed) % g.members.len();
            out.push(g.members[i].clone());
        }
    }
}

fn collect<S: Clone>(
    node: &Node<S>,
    levels: &[&str],
    dollar: bool,
    out: &mut Vec<(S, SubscriptionOptions)>,
) {
    // [MQTT-4.7.2-1]: at the first level a `$` topic is not matched by `+` or `#`.
    if !dollar {
        if let Some(hash) = node.children.get("#") {
            take(hash, out);
        }
    }
    let Some((first, rest)) = levels.split_first() else {
        take(node, out);
        return;
    };
    if let Some(child) = node.children.get(*first) {
        collect(child, rest, false, out);
    }
    if !dollar {
        if let Some(plus) = node.children.get("+") {
            collect(plus, rest, false, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::QoS;

    fn f(s: &str) -> TopicFilter {
        TopicFilter::new(s).unwrap()
    }

    fn opts(q: u8) -> SubscriptionOptions {
        SubscriptionOptions {
            qos: QoS::from_u8(q).unwrap(),
            ..Default::default()
        }
    }

    fn matched(t: &SubscriptionTree<u32>, topic: &str) -> Vec<u32> {
        let mut out = Vec::new();
        t.matches(topic, &mut out);
        let mut ids: Vec<u32> = out.into_iter().map(|(s, _)| s).collect();
        ids.sort();
        ids
    }

    #[test]
    fn wildcards_match_like_the_spec_examples() {
        let mut t = SubscriptionTree::new();
        let filters = [
            "sport/tennis/player1",
            "sport/tennis/+",
            "sport/#",
            "#",
            "+/+",
            "/+",
            "+",
            "sport/+/player1",
        ];
        for (i, filter) in filters.iter().enumerate() {
            t.subscribe(&f(filter), i as u32, opts(0));
        }
        assert_eq!(matched(&t, "sport/tennis/player1"), vec![0, 1, 2, 3, 7]);
        assert_eq!(
            matched(&t, "sport"),
            vec![2, 3, 6],
            "sport/# matches its parent"
        );
        assert_eq!(matched(&t, "sport/"), vec![2, 3, 4]);
        assert_eq!(matched(&t, "/finance"), vec![3, 4, 5]);
        for topic in ["x", "a/b/c/d", "sport/tennis/player1/x", "/", "a//b"] {
            let mut want: Vec<u32> = (0..filters.len() as u32)
                .filter(|i| crate::topic::matches(filters[*i as usize], topic))
                .collect();
            want.sort();
            assert_eq!(matched(&t, topic), want, "{topic}");
        }
    }

    #[test]
    fn dollar_topics_skip_leading_wildcards() {
        let mut t = SubscriptionTree::new();
        t.subscribe(&f("#"), 1, opts(0));
        t.subscribe(&f("+/broker/uptime"), 2, opts(0));
        t.subscribe(&f("$SYS/#"), 3, opts(0));
        t.subscribe(&f("$SYS/+/uptime"), 4, opts(0));
        assert_eq!(matched(&t, "$SYS/broker/uptime"), vec![3, 4]);
        assert_eq!(matched(&t, "x/broker/uptime"), vec![1, 2]);
    }

    #[test]
    fn resubscribe_replaces_and_unsubscribe_prunes() {
        let mut t = SubscriptionTree::new();
        assert!(t.subscribe(&f("a/+"), 1, opts(0)));
        assert!(!t.subscribe(&f("a/+"), 1, opts(2)));
        assert_eq!(t.len(), 1);
        let mut out = Vec::new();
        t.matches("a/b", &mut out);
        assert_eq!(out[0].1.qos, QoS::ExactlyOnce);
        assert!(!t.unsubscribe(&f("a/b"), &1));
        assert!(!t.unsubscribe(&f("a/+"), &2));
        assert!(t.unsubscribe(&f("a/+"), &1));
        assert!(t.is_empty());
        assert!(t.root.children.is_empty(), "empty branches are pruned");
    }

    #[test]
    fn shared_groups_round_robin_one_member_per_message() {
        let mut t = SubscriptionTree::new();
        t.subscribe(&f("$share/g/a/#"), 1, opts(0));
        t.subscribe(&f("$share/g/a/#"), 2, opts(0));
        t.subscribe(&f("$share/h/a/#"), 3, opts(0));
        t.subscribe(&f("a/#"), 4, opts(0));
        assert_eq!((t.len(), t.shared_len()), (4, 3));
        let mut seen = Vec::new();
        for _ in 0..4 {
            let m = matched(&t, "a/x");
            assert_eq!(m.len(), 3, "{m:?}");
            assert!(m.contains(&3) && m.contains(&4));
            seen.push(if m.contains(&1) { 1 } else { 2 });
        }
        assert_eq!(seen, vec![1, 2, 1, 2]);
        assert!(t.unsubscribe(&f("$share/g/a/#"), &1));
        assert!(!t.unsubscribe(&f("$share/zz/a/#"), &2));
        assert_eq!(matched(&t, "a/x"), vec![2, 3, 4]);
        assert_eq!((t.len(), t.shared_len()), (3, 2));
    }
}
