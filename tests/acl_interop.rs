//! Differential test of the ACL semantics: the same ACL file in Debian's mosquitto 2.0 and in
//! `Acl::check`, the same clients publishing and subscribing; what mosquitto delivers must be
//! exactly what `Acl` predicts.

mod common;

use common::clients::{DebugSub, MARK, creds};
use common::{Conf, Peer, TestBroker, path, require, wait_until};
use mq::broker::security::acl::{Acl, Operation};
use std::collections::BTreeSet;
use std::process::Command;

const ACL: &str = "\
# anonymous clients
topic read public/#
topic write anon/in
topic deny public/hidden
user alice
topic readwrite alice/#
topic readwrite public/#
topic deny alice/secret
topic write shared/+/x
topic write dev/#
user bob
topic read shared/#
topic read alice/#
topic readwrite public/hidden
pattern readwrite dev/%c/#
pattern deny dev/%c/private
pattern read users/%u/inbox
pattern write users/%u/inbox
";

/// (client id as publisher, client id as subscriber, username)
const CLIENTS: &[(&str, &str, Option<&str>)] = &[
    ("anon_p", "anon_s", None),
    ("a_p", "a_s", Some("alice")),
    ("b_p", "b_s", Some("bob")),
    ("ev+p", "ev#s", None),
];

const TOPICS: &[&str] = &[
    "public/news",
    "public/hidden",
    "anon/in",
    "alice/x",
    "alice/secret",
    "shared/a/x",
    "shared/b",
    "dev/a_p/t",
    "dev/a_s/t",
    "dev/anon_p/t",
    "dev/anon_s/t",
    "dev/b_p/private",
    "dev/b_s/private",
    "users/alice/inbox",
    "users/bob/inbox",
];

#[test]
fn mosquitto_delivers_what_acl_check_predicts() {
    if !require(&[
        Peer::Mosquitto,
        Peer::MosquittoClients,
        Peer::MosquittoPasswd,
    ]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (pw, acl_path) = (path(&dir, "pw"), path(&dir, "acl"));
    for (i, user) in ["alice", "bob"].iter().enumerate() {
        let mut cmd = Command::new("mosquitto_passwd");
        if i == 0 {
            cmd.arg("-c");
        }
        let st = cmd
            .arg("-b")
            .arg(&pw)
            .arg(user)
            .arg(format!("{user}-pw"))
            .status();
        assert!(st.unwrap().success());
    }
    std::fs::write(&acl_path, ACL).unwrap();
    let broker = TestBroker::mosquitto(Conf::new().line(&format!(
        "password_file {}\nacl_file {}",
        pw.display(),
        acl_path.display()
    )));
    let port = broker.port();
    let subs: Vec<DebugSub> = CLIENTS
        .iter()
        .map(|&(_, id, user)| {
            DebugSub::start(
                port,
                id,
                &[vec!["-t".to_string(), "#".to_string()], creds(user)].concat(),
            )
        })
        .collect();
    let ready = wait_until(|| subs.iter().all(DebugSub::subscribed));
    let lines: Vec<_> = subs.iter().map(DebugSub::lines).collect();
    assert!(ready, "subscriptions: {lines:#?}");
    for &(pub_id, _, user) in CLIENTS {
        for topic in TOPICS {
            let st = Command::new("mosquitto_pub")
                .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-q", "1"])
                .args(["-i", pub_id, "-t", topic, "-m", pub_id])
                .args(creds(user))
                .status()
                .unwrap();
            assert!(st.success(), "mosquitto_pub as {pub_id} to {topic}");
        }
    }
    let acl = Acl::parse(ACL, &acl_path).unwrap();
    let want: Vec<BTreeSet<String>> = CLIENTS
        .iter()
        .map(|&(_, sub_id, sub_user)| {
            let mut want = BTreeSet::new();
            for &(pub_id, _, pub_user) in CLIENTS {
                for topic in TOPICS {
                    if acl.check(pub_id, pub_user, topic, Operation::Write)
                        && acl.check(sub_id, sub_user, topic, Operation::Read)
                    {
                        want.insert(format!("{topic} {pub_id}"));
                    }
                }
            }
            want
        })
        .collect();
    // Markers after everything else, one each subscriber may read (anonymous clients and
    // alice read public/#, bob reads shared/#): once one has come, so has whatever else
    // mosquitto was going to deliver to that subscriber.
    for topic in ["public/end", "shared/end/x"] {
        let st = Command::new("mosquitto_pub")
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-q", "1"])
            .args(["-i", "a_p", "-t", topic, "-m", MARK])
            .args(creds(Some("alice")))
            .status()
            .unwrap();
        assert!(st.success(), "marker to {topic}");
    }
    for (s, &(_, id, user)) in subs.iter().zip(CLIENTS) {
        let topic = if user == Some("bob") {
            "shared/end/x"
        } else {
            "public/end"
        };
        assert!(s.wait_mark(topic), "{id} got no marker: {:?}", s.lines());
    }
    let mut failures = Vec::new();
    for ((sub, want), &(_, sub_id, _)) in subs.iter().zip(&want).zip(CLIENTS) {
        let got = sub.messages();
        if &got != want {
            failures.push(format!(
                "{sub_id}: mosquitto only {:?}, Acl only {:?}",
                got.difference(want).collect::<Vec<_>>(),
                want.difference(&got).collect::<Vec<_>>()
            ));
        }
        // Every client but the one with a dangerous id must see something, or the test
        // would prove little.
        if !sub_id.contains('#') && want.is_empty() {
            failures.push(format!("{sub_id} is expected to receive nothing"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
