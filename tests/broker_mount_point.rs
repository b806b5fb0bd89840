//! `mount_point` on a running `mq broker`, with Debian's mosquitto_pub and mosquitto_sub: two
//! listeners, the second mounted at `site/`. What its clients publish (messages, retained
//! messages, wills) appears under `site/` to the others; what is published under `site/`
//! reaches them without the prefix; nothing outside it reaches them. The outgoing side is
//! checked against mosquitto.conf(5), not against mosquitto 2.0.11, which forgets to strip the
//! prefix (fixed in 2.0.12); the incoming side is also compared with Debian's mosquitto.

mod common;

use common::clients::{DebugSub, MARK};
use common::{Conf, Kind, Peer, TestBroker, require, wait_until};
use std::process::Command;

/// A broker with a plain listener (first port) and one mounted at `site/` (second port).
fn mounted(kind: Kind, extra: &str) -> (TestBroker, u16, u16) {
    let conf = Conf::new().line(extra).listener().line("mount_point site/");
    let b = TestBroker::start(kind, conf);
    let ports = b.ports();
    (b, ports[0], ports[1])
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// `mosquitto_pub -p PORT ARGS`, which must succeed.
fn publish(port: u16, extra: &[&str]) {
    let st = Command::new(Peer::MosquittoClients.program("mosquitto_pub"))
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-q", "1"])
        .args(extra)
        .status()
        .unwrap();
    assert!(st.success(), "mosquitto_pub {extra:?}");
}

/// Publishes the marker on `topic` and waits until `sub` has it as `seen_as`.
fn mark(port: u16, topic: &str, sub: &DebugSub, seen_as: &str) {
    publish(port, &["-t", topic, "-m", MARK]);
    assert!(sub.wait_mark(seen_as), "{:?}", sub.lines());
}

#[test]
fn messages_cross_between_a_mounted_and_a_plain_listener_with_the_prefix_added_and_stripped() {
    if !require(&[Peer::MosquittoClients]) {
        return;
    }
    let (_b, plain, site) = mounted(Kind::Mq, "");
    let outside = DebugSub::ready(plain, "outside", &args(&["-t", "#"]));
    let inside = DebugSub::ready(site, "inside", &args(&["-t", "#"]));
    publish(site, &["-t", "a/b", "-m", "from-inside"]);
    assert!(
        outside.wait_for("site/a/b from-inside"),
        "{:?}",
        outside.lines()
    );
    assert!(inside.wait_for("a/b from-inside"), "{:?}", inside.lines());
    publish(plain, &["-t", "site/c", "-m", "from-outside"]);
    assert!(inside.wait_for("c from-outside"), "{:?}", inside.lines());
    // Outside the mount point: never seen inside.
    publish(plain, &["-t", "elsewhere/c", "-m", "not-for-site"]);
    publish(plain, &["-t", "site", "-m", "the-prefix-itself"]);
    mark(plain, "site/m", &inside, "m");
    assert_eq!(
        inside.messages().into_iter().collect::<Vec<_>>(),
        ["a/b from-inside", "c from-outside"]
    );
    assert!(outside.has("elsewhere/c not-for-site"));
}

#[test]
fn retained_messages_and_wills_are_mounted() {
    if !require(&[Peer::MosquittoClients]) {
        return;
    }
    let (_b, plain, site) = mounted(Kind::Mq, "");
    publish(plain, &["-t", "site/r", "-m", "kept-outside", "-r"]);
    publish(site, &["-t", "q", "-m", "kept-inside", "-r"]);
    let inside = DebugSub::ready(site, "inside", &args(&["-t", "#"]));
    assert!(inside.wait_for("r kept-outside"), "{:?}", inside.lines());
    assert!(inside.wait_for("q kept-inside"), "{:?}", inside.lines());
    let outside = DebugSub::ready(plain, "outside", &args(&["-t", "site/#"]));
    assert!(
        outside.wait_for("site/q kept-inside"),
        "{:?}",
        outside.lines()
    );
    // A mounted client's will goes out under the prefix (dropping a DebugSub kills it).
    let doomed = DebugSub::ready(
        site,
        "doomed",
        &args(&["-t", "x", "--will-topic", "w", "--will-payload", "gone"]),
    );
    drop(doomed);
    assert!(outside.wait_for("site/w gone"), "{:?}", outside.lines());
    assert!(inside.wait_for("w gone"), "{:?}", inside.lines());
}

#[test]
fn mqtt5_clients_shared_subscriptions_and_sys_topics_under_a_mount_point() {
    if !require(&[Peer::MosquittoClients]) {
        return;
    }
    let (_b, plain, site) = mounted(Kind::Mq, "sys_interval 1");
    let v5 = |l: &[&str]| args(&[&["-V", "5"][..], l].concat());
    let shared = DebugSub::ready(site, "shared", &v5(&["-t", "$share/g/s/#"]));
    let sys = DebugSub::ready(site, "sys", &v5(&["-t", "$SYS/#"]));
    let outside = DebugSub::ready(plain, "outside", &v5(&["-t", "site/#"]));
    let broker_sys = DebugSub::ready(plain, "broker-sys", &args(&["-t", "$SYS/broker/uptime"]));
    // The shared subscription's filter is mounted after `$share/g/`.
    publish(plain, &["-V", "5", "-t", "site/s/1", "-m", "shared-one"]);
    assert!(shared.wait_for("s/1 shared-one"), "{:?}", shared.lines());
    // A mounted client's `$SYS/x` is an ordinary topic under the prefix, and its `$SYS/#`
    // never matches the broker's own `$SYS` tree, which is published meanwhile.
    let uptime = || (broker_sys.lines().iter()).any(|l| l.starts_with("$SYS/broker/uptime "));
    assert!(wait_until(uptime), "{:?}", broker_sys.lines());
    publish(site, &["-V", "5", "-t", "$SYS/x", "-m", "not-the-brokers"]);
    assert!(
        outside.wait_for("site/$SYS/x not-the-brokers"),
        "{:?}",
        outside.lines()
    );
    assert!(sys.wait_for("$SYS/x not-the-brokers"), "{:?}", sys.lines());
    mark(plain, "site/$SYS/m", &sys, "$SYS/m");
    assert_eq!(
        sys.messages().into_iter().collect::<Vec<_>>(),
        ["$SYS/x not-the-brokers"]
    );
}

#[test]
fn the_acl_judges_the_full_mounted_topic() {
    if !require(&[Peer::MosquittoClients]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let acl = dir.path().join("acl");
    std::fs::write(&acl, "topic read #\ntopic write site/ok/#\n").unwrap();
    let (_b, plain, site) = mounted(Kind::Mq, &format!("acl_file {}", acl.display()));
    let outside = DebugSub::ready(plain, "outside", &args(&["-t", "#"]));
    publish(site, &["-t", "ok/1", "-m", "allowed"]);
    publish(site, &["-t", "no/1", "-m", "denied"]);
    publish(site, &["-t", "ok/m", "-m", MARK]);
    assert!(outside.wait_mark("site/ok/m"), "{:?}", outside.lines());
    assert_eq!(
        outside.messages().into_iter().collect::<Vec<_>>(),
        ["site/ok/1 allowed"]
    );
}

/// What a mounted client publishes, as a plain client sees it: the same lines from `mq broker`
/// and from Debian's mosquitto (whose 2.0.11 bug is on the other side, what mounted clients
/// receive).
#[test]
fn the_prefix_is_added_as_mosquitto_adds_it() {
    if !require(&[Peer::MosquittoClients]) {
        return;
    }
    let mut seen = Vec::new();
    for kind in Kind::under_test() {
        if !require(kind.peers()) {
            return;
        }
        let (_b, plain, site) = mounted(kind, "");
        let outside = DebugSub::ready(plain, "outside", &args(&["-t", "#"]));
        publish(site, &["-t", "a", "-m", "plain"]);
        publish(site, &["-t", "r", "-m", "retained", "-r"]);
        publish(site, &["-V", "5", "-t", "v5/x", "-m", "five"]);
        let doomed = DebugSub::ready(
            site,
            "doomed",
            &args(&["-t", "x", "--will-topic", "w", "--will-payload", "gone"]),
        );
        drop(doomed);
        assert!(
            outside.wait_for("site/w gone"),
            "{kind:?}: {:?}",
            outside.lines()
        );
        seen.push((kind, outside.messages()));
    }
    let expected = [
        "site/a plain",
        "site/r retained",
        "site/v5/x five",
        "site/w gone",
    ];
    for (kind, messages) in seen {
        assert_eq!(
            messages.into_iter().collect::<Vec<_>>(),
            expected,
            "{kind:?}"
        );
    }
}
