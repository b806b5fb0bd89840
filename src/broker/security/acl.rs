//! mosquitto's ACL file (`acl_file`) and its check, as `security_default.c` in mosquitto 2.0
//! does it.
//!
//! ```text
//! # comment ('#' at column 0 only)
//! topic read public/#              rules before the first `user` line: anonymous clients
//! user alice                       rules from here on: the client that logged in as alice
//! topic readwrite alice/#          access word optional (default readwrite); the topic is the
//! topic deny alice/secret          rest of the line, so it may contain spaces
//! pattern write devices/%c/#       every client, anywhere in the file; %c client id, %u username
//! ```
//!
//! A check looks at the client's own list (its user section, or the anonymous one), then at the
//! patterns. In each list a matching `deny` wins over any grant; a grant must include the access
//! asked for. With no matching grant the answer is no.

use crate::topic;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// What a client wants to do with a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Receive a message published to it (checked at delivery).
    Read,
    /// Publish to it (checked on PUBLISH and when a will is sent).
    Write,
}

impl Operation {
    fn bit(self) -> u8 {
        match self {
            Operation::Read => READ,
            Operation::Write => WRITE,
        }
    }
}

const DENY: u8 = 0;
const READ: u8 = 1;
const WRITE: u8 = 2;

/// One `topic` or `pattern` line.
#[derive(Debug, Clone)]
struct Rule {
    filter: String,
    /// `DENY`, or the `READ`/`WRITE` bits granted.
    access: u8,
    /// The filter has a whole `%u` level, so it cannot apply to a client without a username.
    uses_username: bool,
}

/// Rules with every `deny` first, as mosquitto keeps them, so one pass finds a deny before any
/// grant.
#[derive(Debug, Clone, Default)]
struct RuleList(Vec<Rule>);

impl RuleList {
    fn push(&mut self, rule: Rule) {
        if rule.access == DENY {
            self.0.insert(0, rule);
        } else {
            self.0.push(rule);
        }
    }

    /// `Some(allowed)` when a rule decides, `None` to fall through to the next list.
    fn decide(&self, access: Operation, mut matches: impl FnMut(&Rule) -> bool) -> Option<bool> {
        for rule in &self.0 {
            if !matches(rule) {
                continue;
            }
            if rule.access == DENY {
                return Some(false);
            }
            if rule.access & access.bit() != 0 {
                return Some(true);
            }
        }
        None
    }
}

/// Why an ACL file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum AclError {
    /// The file could not be read at all.
    #[error("unable to open acl_file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// A line mosquitto would refuse.
    #[error("invalid acl_file {} line {line}: {reason}", path.display())]
    Line {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
}

/// A loaded ACL file.
#[derive(Debug, Clone, Default)]
pub struct Acl {
    /// Rules before the first `user` line.
    anonymous: RuleList,
    /// `user NAME` sections; a name given twice accumulates.
    users: HashMap<String, RuleList>,
    /// `pattern` lines, wherever they appear.
    patterns: RuleList,
}

impl Acl {
    /// Reads and parses `path`.
    pub fn load(path: &Path) -> Result<Acl, AclError> {
        let text = std::fs::read(path).map_err(|source| AclError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Acl::parse(&String::from_utf8_lossy(&text), path)
    }

    /// Parses the text of an ACL file; `path` only names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Acl, AclError> {
        let mut acl = Acl::default();
        let mut user: Option<String> = None;
        for (i, raw) in text.lines().enumerate() {
            let err = |reason: String| AclError::Line {
                path: path.to_path_buf(),
                line: i + 1,
                reason,
            };
            let line = raw.trim_end();
            if line.starts_with('#') {
                continue;
            }
            // mosquitto splits on spaces only (strtok with " ").
            let line = line.trim_start_matches(' ');
            if line.is_empty() {
                continue;
            }
            let (keyword, rest) = split_word(line);
            match keyword {
                "topic" | "pattern" => {
                    let rule = parse_rule(rest).map_err(err)?;
                    if keyword == "pattern" {
                        acl.patterns.push(rule);
                    } else if let Some(name) = &user {
                        acl.users.entry(name.clone()).or_default().push(rule);
                    } else {
                        acl.anonymous.push(rule);
                    }
                }
                "user" => {
                    let name = rest.map(|r| r.trim_matches([' ', '\t'])).unwrap_or("");
                    if name.is_empty() {
                        return Err(err("missing username".into()));
                    }
                    user = Some(name.to_string());
                }
                _ => return Err(err(format!("invalid line: {line}"))),
            }
        }
        Ok(acl)
    }

    /// True when the client may `access` the topic name `topic`.
    ///
    /// `username` is the name the client logged in with (after `use_identity_as_username`);
    /// `None` for an anonymous client.
    pub fn check(
        &self,
        client_id: &str,
        username: Option<&str>,
        topic: &str,
        access: Operation,
    ) -> bool {
        let own = match username {
            Some(name) => self.users.get(name),
            None => Some(&self.anonymous),
        };
        if let Some(list) = own {
            // A `$` topic only matches entries that start with `$` themselves.
            let decided = list.decide(access, |rule| {
                (!topic.starts_with('$') || rule.filter.starts_with('$'))
                    && topic::matches(&rule.filter, topic)
            });
            if let Some(allowed) = decided {
                return allowed;
            }
        }
        if self.patterns.0.is_empty() {
            return false;
        }
        // A client named `+` or `#` could otherwise widen a pattern to other clients' topics.
        let dangerous = |s: &str| s.contains(['+', '#']);
        if dangerous(client_id) || username.is_some_and(dangerous) {
            return false;
        }
        self.patterns
            .decide(access, |rule| {
                (!rule.uses_username || username.is_some())
                    && pattern_matches(&rule.filter, topic, client_id, username)
            })
            .unwrap_or(false)
    }

    /// True when some topic matching the subscription filter `filter` is readable: a rule
    /// granting read overlaps it, and no deny rule covers all of it.
    pub fn may_read_some(&self, client_id: &str, username: Option<&str>, filter: &str) -> bool {
        let dangerous = |s: &str| s.contains(['+', '#']);
        let names_safe = !dangerous(client_id) && !username.is_some_and(dangerous);
        let substitute = |rule: &Rule| -> Option<String> {
            if rule.uses_username && username.is_none() {
                return None;
            }
            let levels: Vec<&str> = rule
                .filter
                .split('/')
                .map(|l| match l {
                    "%c" => client_id,
                    "%u" => username.unwrap_or(l),
                    other => other,
                })
                .collect();
            Some(levels.join("/"))
        };
        let own = match username {
            Some(name) => self.users.get(name),
            None => Some(&self.anonymous),
        };
        let rules = own.into_iter().flat_map(|l| l.0.iter().cloned()).chain(
            self.patterns
                .0
                .iter()
                .filter(|_| names_safe)
                .filter_map(|r| {
                    substitute(r).map(|filter| Rule {
                        filter,
                        ..r.clone()
                    })
                }),
        );
        let mut readable = false;
        for rule in rules {
            // A filter written as a topic: the deny rule matches every topic the filter does.
            if rule.access == DENY && topic::matches(&rule.filter, filter) {
                return false;
            }
            readable |= rule.access & READ != 0 && filters_overlap(&rule.filter, filter);
        }
        readable
    }

    /// True when the file has pattern rules (which make `+`/`#` in names dangerous).
    pub fn has_patterns(&self) -> bool {
        !self.patterns.0.is_empty()
    }
}

/// Splits off the first space-delimited word; the rest starts after that one space.
fn split_word(s: &str) -> (&str, Option<&str>) {
    match s.split_once(' ') {
        Some((word, rest)) => (word, Some(rest)),
        None => (s, None),
    }
}

/// Parses what follows `topic`/`pattern`: `[ACCESS] FILTER`.
fn parse_rule(rest: Option<&str>) -> Result<Rule, String> {
    let rest = rest.map(|r| r.trim_start_matches(' ')).unwrap_or("");
    if rest.is_empty() {
        return Err("empty topic".into());
    }
    let (word, after) = split_word(rest);
    let (access, filter) = match after {
        Some(filter) if !filter.is_empty() => {
            let access = match word {
                "read" => READ,
                "write" => WRITE,
                "readwrite" => READ | WRITE,
                "deny" => DENY,
                other => return Err(format!("invalid topic access type '{other}'")),
            };
            (access, filter.trim_matches([' ', '\t']))
        }
        // A lone word is the topic, with the default access.
        _ => (READ | WRITE, word),
    };
    topic::validate_filter(filter).map_err(|e| format!("invalid ACL topic '{filter}': {e}"))?;
    Ok(Rule {
        filter: filter.to_string(),
        access,
        uses_username: filter.split('/').any(|l| l == "%u"),
    })
}

/// True when some topic name matches both filters (the `$` rule included: a filter starting
/// with a wildcard matches no `$` topic).
fn filters_overlap(a: &str, b: &str) -> bool {
    let dollar = |f: &str| f.starts_with('$');
    let wild = |f: &str| f.starts_with(['+', '#']);
    if (dollar(a) && wild(b)) || (dollar(b) && wild(a)) {
        return false;
    }
    let mut x = a.split('/');
    let mut y = b.split('/');
    loop {
        match (x.next(), y.next()) {
            (Some("#"), _) | (_, Some("#")) => return true,
            (None, None) => return true,
            (Some(p), Some(q)) if p == "+" || q == "+" || p == q => {}
            _ => return false,
        }
    }
}

/// Topic matching where a whole `%c` level stands for the client id and a whole `%u` level for
/// the username (a `%c` inside a longer level is literal, as in mosquitto 2.0).
fn pattern_matches(filter: &str, topic: &str, client_id: &str, username: Option<&str>) -> bool {
    if topic.starts_with('$') && filter.starts_with(['+', '#']) {
        return false;
    }
    let mut f = filter.split('/');
    let mut t = topic.split('/');
    loop {
        match (f.next(), t.next()) {
            (Some("#"), _) => return true,
            (Some("+"), Some(_)) => {}
            (Some("%c"), Some(level)) if level == client_id => {}
            (Some("%u"), Some(level)) if Some(level) == username => {}
            (Some(fl), Some(tl)) if fl == tl && fl != "%c" && fl != "%u" => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Operation::{Read, Write};
    use super::*;

    fn acl(text: &str) -> Acl {
        Acl::parse(text, Path::new("acl")).unwrap()
    }

    /// (file, client id, username, topic, access, expected)
    type Case = (
        &'static str,
        &'static str,
        Option<&'static str>,
        &'static str,
        Operation,
        bool,
    );

    const CASES: &[Case] = &[
        // Anonymous rules apply before the first `user` line, to clients without a username.
        (
            "topic read pub/#\nuser a\ntopic a/#",
            "c",
            None,
            "pub/x",
            Read,
            true,
        ),
        (
            "topic read pub/#\nuser a\ntopic a/#",
            "c",
            None,
            "pub/x",
            Write,
            false,
        ),
        (
            "topic read pub/#\nuser a\ntopic a/#",
            "c",
            None,
            "a/x",
            Read,
            false,
        ),
        (
            "topic read pub/#\nuser a\ntopic a/#",
            "c",
            Some("b"),
            "pub/x",
            Read,
            false,
        ),
        // User sections: default access readwrite, only for that user.
        ("user a\ntopic a/#", "c", Some("a"), "a/x", Write, true),
        ("user a\ntopic a/#", "c", Some("a"), "a/x", Read, true),
        ("user a\ntopic a/#", "c", Some("a"), "b/x", Read, false),
        ("user a\ntopic a/#", "c", Some("b"), "a/x", Read, false),
        (
            "user a\ntopic write a/#",
            "c",
            Some("a"),
            "a/x",
            Read,
            false,
        ),
        (
            "user a\ntopic readwrite a/#",
            "c",
            Some("a"),
            "a/x",
            Read,
            true,
        ),
        (
            "user a\ntopic x\nuser b\ntopic y\nuser a\ntopic z",
            "c",
            Some("a"),
            "z",
            Read,
            true,
        ),
        (
            "user a\ntopic x\nuser b\ntopic y\nuser a\ntopic z",
            "c",
            Some("a"),
            "y",
            Read,
            false,
        ),
        // Spaces in topics when the access word is given.
        (
            "user a\ntopic read my topic/x",
            "c",
            Some("a"),
            "my topic/x",
            Read,
            true,
        ),
        // Deny wins over a grant wherever it appears.
        (
            "user a\ntopic a/#\ntopic deny a/secret",
            "c",
            Some("a"),
            "a/secret",
            Read,
            false,
        ),
        (
            "user a\ntopic deny a/secret\ntopic a/#",
            "c",
            Some("a"),
            "a/secret",
            Write,
            false,
        ),
        (
            "user a\ntopic deny a/secret\ntopic a/#",
            "c",
            Some("a"),
            "a/open",
            Write,
            true,
        ),
        // Patterns apply to every client; %c and %u are whole levels.
        (
            "pattern write dev/%c/#",
            "d1",
            None,
            "dev/d1/t",
            Write,
            true,
        ),
        (
            "pattern write dev/%c/#",
            "d1",
            None,
            "dev/d2/t",
            Write,
            false,
        ),
        (
            "pattern write dev/%c/#",
            "d1",
            None,
            "dev/d1/t",
            Read,
            false,
        ),
        ("pattern read u/%u", "c", Some("al"), "u/al", Read, true),
        ("pattern read u/%u", "c", Some("al"), "u/bo", Read, false),
        ("pattern read u/%u", "c", None, "u/%u", Read, false),
        ("pattern read x%c", "d1", None, "xd1", Read, false),
        ("pattern read x%c", "d1", None, "x%c", Read, true),
        ("pattern %c/%u", "d1", Some("al"), "d1/al", Write, true),
        // Patterns after a user section still apply to everyone.
        (
            "user a\ntopic a/#\npattern read p/%c",
            "zz",
            Some("b"),
            "p/zz",
            Read,
            true,
        ),
        (
            "user a\ntopic a/#\npattern read p/%c",
            "zz",
            Some("a"),
            "p/zz",
            Read,
            true,
        ),
        // Names containing + or # are denied everything once patterns exist.
        (
            "pattern read p/%c\ntopic read q",
            "a+b",
            None,
            "q",
            Read,
            true,
        ),
        (
            "pattern read p/%c\nuser a\ntopic q",
            "c",
            Some("a#"),
            "p/c",
            Read,
            false,
        ),
        ("pattern read p/#", "a+b", None, "p/x", Read, false),
        ("pattern read p/#", "c", Some("#"), "p/x", Read, false),
        // Pattern deny is checked before pattern grants, after the user's own list.
        (
            "pattern p/#\npattern deny p/%c/secret",
            "c",
            None,
            "p/c/secret",
            Read,
            false,
        ),
        (
            "pattern p/#\npattern deny p/%c/secret",
            "c",
            None,
            "p/d/secret",
            Read,
            true,
        ),
        (
            "user a\ntopic p/#\npattern deny p/#",
            "c",
            Some("a"),
            "p/x",
            Read,
            true,
        ),
        // `$` topics only match entries that start with `$`.
        ("topic #", "c", None, "$SYS/x", Read, false),
        ("topic +/x", "c", None, "$SYS/x", Read, false),
        ("topic $SYS/#", "c", None, "$SYS/x", Read, true),
        ("pattern #", "c", None, "$SYS/x", Read, false),
        ("topic #", "c", None, "a/b", Read, true),
        // No matching entry: denied.
        ("", "c", None, "a", Read, false),
        ("user a\ntopic a", "c", None, "a", Read, false),
        ("# only a comment", "c", Some("a"), "a", Write, false),
        // `#` matches the parent level too.
        ("topic a/#", "c", None, "a", Read, true),
    ];

    #[test]
    fn every_rule_kind_follows_mosquitto() {
        for (i, &(text, id, user, topic, access, want)) in CASES.iter().enumerate() {
            let got = acl(text).check(id, user, topic, access);
            assert_eq!(
                got, want,
                "case {i}: {text:?} {id} {user:?} {topic} {access:?}"
            );
        }
    }

    #[test]
    fn a_filter_is_readable_when_a_read_rule_overlaps_it_and_no_deny_covers_it() {
        let a = acl("topic read a/#\ntopic deny a/secret/#\npattern read c/%c/+\n");
        let may = |filter: &str| a.may_read_some("me", None, filter);
        assert!(may("#") && may("a/+") && may("+/x") && may("a/b/c"));
        assert!(!may("b/#") && !may("a/secret/#") && !may("a/secret/x"));
        assert!(may("c/me/x") && may("c/+/x") && !may("c/other/x"));
        assert!(!may("$SYS/#"));
    }

    #[test]
    fn comments_blank_lines_and_spacing() {
        let a = acl("# c\n\n   \n  topic   read   a \nuser   bob  \ntopic b\r\n");
        assert!(a.check("c", None, "a", Read));
        assert!(!a.check("c", None, "a", Write));
        assert!(a.check("c", Some("bob"), "b", Write));
        // A lone word after `topic` is the topic itself, even an access word.
        assert!(acl("topic read").check("c", None, "read", Write));
    }

    #[test]
    fn bad_lines_name_the_line_and_reason() {
        let cases = [
            ("topic read a\nfoo bar", 2, "invalid line: foo bar"),
            (" # indented comment", 1, "invalid line"),
            ("topic", 1, "empty topic"),
            (
                "topic sometimes a/b",
                1,
                "invalid topic access type 'sometimes'",
            ),
            ("topic read a/#/b", 1, "invalid ACL topic 'a/#/b'"),
            ("pattern read a+", 1, "invalid ACL topic"),
            ("\nuser", 2, "missing username"),
            ("topic\tread\ta", 1, "invalid line"),
        ];
        for (text, line, reason) in cases {
            match Acl::parse(text, Path::new("acl")) {
                Err(AclError::Line {
                    line: l, reason: r, ..
                }) => {
                    assert_eq!(l, line, "{text:?}");
                    assert!(r.contains(reason), "{text:?}: {r}");
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
        let err = Acl::load(Path::new("/nonexistent/acl")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/acl"), "{err}");
    }
}
