//! Bridges between `mq broker` and Debian's mosquitto, both ways: `mq` bridged to mosquitto
//! (an in-process broker with a `connection` block) and mosquitto bridged to `mq`. Each waits
//! for events (bridge connected, subscriptions in place, messages) rather than sleeping.
//! Under `CI=true` a missing mosquitto fails the tests.

mod common;

use common::bridge::{Mq, mq_config, wait_for};
use common::*;
use mq::broker::bridge::status::State;
use mq::client::{Client, ClientOptions};
use mq::protocol::{Publish, QoS, Version};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// True when mosquitto is installed (under `CI=true` its absence fails the test).
fn require_mosquitto() -> bool {
    require(&[Peer::Mosquitto])
}

/// mosquitto with `extra` config lines after its listener, killed on drop.
fn mosquitto(extra: &str) -> TestBroker {
    TestBroker::mosquitto(Conf::new().line(extra))
}

async fn client(port: u16, id: &str, version: Version, clean: bool) -> Client {
    let mut o = ClientOptions::new("127.0.0.1", port);
    o.client_id = id.into();
    o.version = version;
    o.clean_start = clean;
    if version.is_v5() && !clean {
        o.properties.session_expiry_interval = Some(3600);
    }
    Client::connect(o).await.expect("client connects").0
}

async fn subscriber(port: u16, id: &str, filters: &[&str]) -> Client {
    let c = client(port, id, Version::V311, true).await;
    let subs: Vec<(&str, QoS)> = filters.iter().map(|f| (*f, QoS::AtLeastOnce)).collect();
    c.subscribe(&subs).await.expect("subscribed");
    c
}

/// The next message on `topic` (others are skipped), within [`PATIENCE`].
async fn expect(c: &Client, topic: &str) -> Publish {
    let end = tokio::time::Instant::now() + PATIENCE;
    loop {
        match tokio::time::timeout_at(end, c.recv()).await {
            Ok(Ok(p)) if p.topic.as_str() == topic => return p,
            Ok(Ok(_)) => continue,
            Ok(Err(e)) => panic!("waiting for {topic}: {e}"),
            Err(_) => panic!("no message on {topic} within {PATIENCE:?}"),
        }
    }
}

/// Every message until one on `end_topic` arrives: topic and payload in order.
async fn collect_until(c: &Client, end_topic: &str) -> Vec<(String, String)> {
    let mut got = Vec::new();
    let end = tokio::time::Instant::now() + PATIENCE;
    loop {
        match tokio::time::timeout_at(end, c.recv()).await {
            Ok(Ok(p)) => {
                let entry = (
                    p.topic.to_string(),
                    String::from_utf8_lossy(&p.payload).into_owned(),
                );
                if entry.0 == end_topic {
                    return got;
                }
                got.push(entry);
            }
            other => panic!("waiting for {end_topic}: {other:?}; so far {got:?}"),
        }
    }
}

fn protocol_name(v: Version) -> &'static str {
    if v.is_v5() { "mqttv50" } else { "mqttv311" }
}

/// The lines of bridge `name` to 127.0.0.1:`port` speaking `version`, then `topics`.
fn bridge_block(name: &str, port: u16, version: Version, topics: &str) -> String {
    format!(
        "connection {name}\naddress 127.0.0.1:{port}\nbridge_protocol_version {}\n\
         restart_timeout 1 2\n{topics}",
        protocol_name(version)
    )
}

/// An in-process `mq` bridged (as `hub`) to mosquitto on `port`, once connected.
async fn mq_bridged_to(port: u16, version: Version, topics: &str) -> Mq {
    let mq = Mq::with_bridges(&bridge_block("hub", port, version, topics)).await;
    mq.connected("hub").await;
    mq
}

/// mosquitto bridged (as `edge`) to `mq`, once its `subscriptions` are in place there.
async fn mosquitto_bridged_to(
    mq: &Mq,
    version: Version,
    topics: &str,
    subscriptions: usize,
) -> TestBroker {
    let m = mosquitto(&bridge_block("edge", mq.port, version, topics));
    let subscribed = wait_for(|| mq.router.subscription_count() >= subscriptions).await;
    assert!(
        subscribed,
        "mosquitto's bridge never subscribed ({version:?})"
    );
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mq_bridged_to_mosquitto_carries_out_in_and_both_with_prefixes() {
    if !require_mosquitto() {
        return;
    }
    for version in [Version::V311, Version::V5] {
        let m = mosquitto("");
        let mport = m.port();
        let topics =
            "topic out/# out 1 edge/ hub/\ntopic in/# in 1 edge/ hub/\ntopic both/# both 1\n";
        let mq = mq_bridged_to(mport, version, topics).await;
        let remote = subscriber(mport, "remote-sub", &["hub/out/#", "both/#"]).await;
        let local = subscriber(mq.port, "local-sub", &["edge/in/#", "both/#"]).await;
        let local_pub = client(mq.port, "local-pub", version, true).await;
        let remote_pub = client(mport, "remote-pub", version, true).await;

        local_pub
            .publish("edge/out/a", "to the hub", QoS::AtLeastOnce, false)
            .await
            .unwrap();
        let p = expect(&remote, "hub/out/a").await;
        assert_eq!(&p.payload[..], b"to the hub", "{version:?}");
        remote_pub
            .publish("hub/in/b", "from the hub", QoS::AtLeastOnce, false)
            .await
            .unwrap();
        assert_eq!(
            &expect(&local, "edge/in/b").await.payload[..],
            b"from the hub"
        );
        local_pub
            .publish("both/x", "local", QoS::AtLeastOnce, false)
            .await
            .unwrap();
        assert_eq!(&expect(&remote, "both/x").await.payload[..], b"local");
        remote_pub
            .publish("both/y", "remote", QoS::AtLeastOnce, false)
            .await
            .unwrap();
        assert_eq!(&expect(&local, "both/y").await.payload[..], b"remote");
        let status = mq.bridges.registry().get("hub").unwrap();
        assert!(status.sent.load(std::sync::atomic::Ordering::Relaxed) >= 2);
        assert_eq!(
            mq.router
                .stats
                .bridges_connected
                .load(std::sync::atomic::Ordering::Relaxed),
            1
        );
        mq.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mosquitto_bridged_to_mq_carries_out_in_and_both_with_prefixes() {
    if !require_mosquitto() {
        return;
    }
    for version in [Version::V311, Version::V5] {
        let mq = Mq::start(test_config()).await;
        let topics = "topic out/# out 1 site/ central/\ntopic in/# in 1 site/ central/\n\
                      topic both/# both 1\n";
        // mosquitto subscribes on mq to its two incoming topics.
        let m = mosquitto_bridged_to(&mq, version, topics, 2).await;
        let mport = m.port();
        let on_mq = subscriber(mq.port, "mq-sub", &["central/out/#", "both/#"]).await;
        let on_m = subscriber(mport, "m-sub", &["site/in/#", "both/#"]).await;
        let mq_pub = client(mq.port, "mq-pub", version, true).await;
        let m_pub = client(mport, "m-pub", version, true).await;

        m_pub
            .publish("site/out/1", "up", QoS::AtLeastOnce, false)
            .await
            .unwrap();
        assert_eq!(&expect(&on_mq, "central/out/1").await.payload[..], b"up");
        mq_pub
            .publish("central/in/2", "down", QoS::AtLeastOnce, false)
            .await
            .unwrap();
        assert_eq!(&expect(&on_m, "site/in/2").await.payload[..], b"down");
        mq_pub
            .publish("both/3", "from mq", QoS::AtLeastOnce, false)
            .await
            .unwrap();
        assert_eq!(&expect(&on_m, "both/3").await.payload[..], b"from mq");
        m_pub
            .publish("both/4", "from mosquitto", QoS::AtLeastOnce, false)
            .await
            .unwrap();
        assert_eq!(
            &expect(&on_mq, "both/4").await.payload[..],
            b"from mosquitto"
        );
        mq.stop().await;
    }
}

/// A `both` topic between `a` and `b` (one bridged to the other): each message reaches each
/// side exactly once. A marker published on the far side after the messages arrived proves
/// that no echo is still on its way: an echo would be queued ahead of it.
async fn assert_no_loop(a: u16, b: u16, version: Version) {
    let sub_a = subscriber(a, "loop-sub-a", &["loop/#"]).await;
    let sub_b = subscriber(b, "loop-sub-b", &["loop/#"]).await;
    let pub_a = client(a, "loop-pub-a", version, true).await;
    let pub_b = client(b, "loop-pub-b", version, true).await;
    pub_a
        .publish("loop/from-a", "1", QoS::AtLeastOnce, false)
        .await
        .unwrap();
    pub_b
        .publish("loop/from-b", "2", QoS::AtLeastOnce, false)
        .await
        .unwrap();
    pub_a
        .publish("loop/end-a", "", QoS::AtLeastOnce, false)
        .await
        .unwrap();
    pub_b
        .publish("loop/end-b", "", QoS::AtLeastOnce, false)
        .await
        .unwrap();
    // Both ends seen on both sides: now a marker from each side, behind any echo.
    let mut seen_a = collect_until_all(&sub_a, &["loop/end-a", "loop/end-b"]).await;
    let mut seen_b = collect_until_all(&sub_b, &["loop/end-a", "loop/end-b"]).await;
    pub_b
        .publish("loop/mark-b", "", QoS::AtLeastOnce, false)
        .await
        .unwrap();
    pub_a
        .publish("loop/mark-a", "", QoS::AtLeastOnce, false)
        .await
        .unwrap();
    seen_a.extend(collect_until_all(&sub_a, &["loop/mark-a", "loop/mark-b"]).await);
    seen_b.extend(collect_until_all(&sub_b, &["loop/mark-a", "loop/mark-b"]).await);
    for seen in [seen_a, seen_b] {
        let count = |t: &str| seen.iter().filter(|s| s.as_str() == t).count();
        assert_eq!(
            (count("loop/from-a"), count("loop/from-b")),
            (1, 1),
            "{version:?}: {seen:?}"
        );
    }
}

/// Topics received until every one of `ends` was seen (the ends included).
async fn collect_until_all(c: &Client, ends: &[&str]) -> Vec<String> {
    let mut seen = Vec::new();
    while !ends.iter().all(|e| seen.iter().any(|s: &String| s == e)) {
        let p = tokio::time::timeout(PATIENCE, c.recv())
            .await
            .unwrap_or_else(|_| panic!("waiting for {ends:?}, saw {seen:?}"))
            .expect("receives");
        seen.push(p.topic.to_string());
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_both_topic_between_mq_and_mosquitto_does_not_loop() {
    if !require_mosquitto() {
        return;
    }
    for version in [Version::V311, Version::V5] {
        // mq bridged to mosquitto.
        let m = mosquitto("");
        let mport = m.port();
        let mq = mq_bridged_to(mport, version, "topic loop/# both 1\n").await;
        assert_no_loop(mq.port, mport, version).await;
        mq.stop().await;

        // mosquitto bridged to mq.
        let mq = Mq::start(test_config()).await;
        let m = mosquitto_bridged_to(&mq, version, "topic loop/# both 1\n", 1).await;
        let mport = m.port();
        assert_no_loop(mport, mq.port, version).await;
        mq.stop().await;
    }
}

/// Payloads received on `c` until `count` distinct ones arrived: payload -> copies.
async fn count_messages(c: &Client, count: usize) -> BTreeMap<String, usize> {
    let mut got = BTreeMap::new();
    while got.len() < count {
        let p = match tokio::time::timeout(PATIENCE, c.recv()).await {
            Ok(Ok(p)) => p,
            other => panic!("{} of {count} messages, then {other:?}", got.len()),
        };
        *got.entry(String::from_utf8_lossy(&p.payload).into_owned())
            .or_insert(0) += 1;
    }
    got
}

/// Every one of `n` messages arrived, duplicates no more than a QoS 1 window's worth.
fn assert_all_once(got: &BTreeMap<String, usize>, n: usize) {
    let expected: Vec<String> = (0..n).map(|i| format!("m{i:03}")).collect();
    let keys: Vec<String> = got.keys().cloned().collect();
    assert_eq!(keys, expected, "every message, none lost");
    let extra: usize = got.values().map(|c| c - 1).sum();
    assert!(extra <= 20, "{extra} duplicates: {got:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qos1_published_while_mosquitto_is_down_arrive_once_it_starts_across_an_edge_restart() {
    if !require_mosquitto() {
        return;
    }
    const N: usize = 60;
    let dir = tempfile::tempdir().unwrap();
    let keep = format!(
        "persistence true\npersistence_location {}/\n",
        dir.path().display()
    );
    // A persistent subscriber session on the remote, saved while mosquitto is down.
    // Its port is fixed: the bridge will look for it there after the restart.
    let mut m = TestBroker::mosquitto(Conf::new().port(free_port()).line(&keep));
    let mport = m.port();
    let s = client(mport, "counter", Version::V311, false).await;
    s.subscribe(&[("fwd/#", QoS::AtLeastOnce)]).await.unwrap();
    s.disconnect().await.unwrap();
    m.signal(libc::SIGTERM);
    assert!(m.wait_exit(PATIENCE).is_some(), "mosquitto saves and exits");
    m.kill();

    // The edge keeps what it acknowledged in its store.
    let store = tempfile::tempdir().unwrap();
    let edge = || {
        let mut c = mq_config(&format!(
            "connection hub\naddress 127.0.0.1:{mport}\nrestart_timeout 1\ntopic fwd/# out 1\n"
        ));
        c.persistence = true;
        c.persistence_location = store.path().to_path_buf();
        c
    };
    let mq = Mq::start(edge()).await;
    let p = client(mq.port, "producer", Version::V311, true).await;
    for i in 0..N {
        p.publish("fwd/x", format!("m{i:03}"), QoS::AtLeastOnce, false)
            .await
            .expect("acknowledged by mq");
    }
    let hub = mq.bridges.registry().get("hub").unwrap();
    assert!(wait_for(|| hub.failures.load(std::sync::atomic::Ordering::Relaxed) > 0).await);
    assert_ne!(hub.state(), State::Connected, "the remote is down");
    // The edge restarts too while the remote is down: the bridge's queue comes back from the
    // store.
    drop(p);
    mq.stop().await;
    let mq = Mq::start(edge()).await;

    // The remote is back on the same port, with the subscriber's session restored.
    m.start_again();
    mq.connected("hub").await;
    let s = client(mport, "counter", Version::V311, false).await;
    let got = count_messages(&s, N).await;
    assert_all_once(&got, N);
    mq.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qos1_published_while_mq_is_down_arrive_once_it_starts() {
    if !require_mosquitto() {
        return;
    }
    const N: usize = 60;
    let store = tempfile::tempdir().unwrap();
    let persistent = || {
        let mut c = test_config();
        c.persistence = true;
        c.persistence_location = store.path().to_path_buf();
        c
    };
    let mq = Mq::start(persistent()).await;
    let port = mq.port;
    let s = client(port, "counter", Version::V311, false).await;
    s.subscribe(&[("fwd/#", QoS::AtLeastOnce)]).await.unwrap();
    s.disconnect().await.unwrap();
    let m = mosquitto(&format!(
        "connection edge\naddress 127.0.0.1:{port}\nrestart_timeout 1 2\ntopic fwd/# out 1\n"
    ));
    let mport = m.port();
    // Up once (its subscription seen), then down while the messages are published.
    assert!(wait_for(|| mq.router.session_count() >= 2).await);
    mq.stop().await;
    let p = client(mport, "producer", Version::V311, true).await;
    for i in 0..N {
        p.publish("fwd/x", format!("m{i:03}"), QoS::AtLeastOnce, false)
            .await
            .expect("acknowledged by mosquitto");
    }
    // Back on the same port and store: mosquitto's bridge reconnects and delivers.
    let mut c = persistent();
    c.listeners = vec![mq::broker::config::ListenerConfig::loopback(port)];
    let mq = Mq::start(c).await;
    let s = client(port, "counter", Version::V311, false).await;
    let got = count_messages(&s, N).await;
    assert_all_once(&got, N);
    mq.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_bridges_with_client_certificates_both_ways() {
    if !require_mosquitto() {
        return;
    }
    let pki = pki::Pki::new();
    let file = |n: &str| pki.path(n).display().to_string();
    // mq bridged to mosquitto's TLS listener, which requires a client certificate.
    let m = TestBroker::mosquitto(Conf::new().listener().line(&format!(
        "cafile {}\ncertfile {}\nkeyfile {}\nrequire_certificate true\n",
        file("ca.pem"),
        file("server.pem"),
        file("server.key")
    )));
    let (plain_port, tls_port) = (m.ports()[0], m.ports()[1]);
    let mq = Mq::with_bridges(&format!(
        "connection secure\naddress 127.0.0.1:{tls_port}\nrestart_timeout 1\n\
         bridge_cafile {}\nbridge_certfile {}\nbridge_keyfile {}\ntopic tls/# both 1\n",
        file("ca.pem"),
        file("client.pem"),
        file("client.key")
    ))
    .await;
    mq.connected("secure").await;
    let remote = subscriber(plain_port, "tls-remote", &["tls/#"]).await;
    let local = client(mq.port, "tls-local", Version::V311, true).await;
    local
        .publish("tls/up", "over TLS", QoS::AtLeastOnce, false)
        .await
        .unwrap();
    assert_eq!(&expect(&remote, "tls/up").await.payload[..], b"over TLS");
    mq.stop().await;

    // mosquitto bridged to mq's TLS listener, which requires a client certificate.
    let mut c = test_config();
    let mut tls = mq::broker::security::tls::ListenerTls {
        certfile: pki.path("server.pem"),
        keyfile: pki.path("server.key"),
        cafile: Some(pki.path("ca.pem")),
        ..Default::default()
    };
    tls.require_certificate = true;
    c.listeners.push(mq::broker::config::ListenerConfig {
        tls: Some(tls),
        ..mq::broker::config::ListenerConfig::loopback(0)
    });
    let broker = mq::broker::Broker::bind(c).await.unwrap();
    let addrs = broker.local_addrs();
    let (plain, secure) = (addrs[0].port(), addrs[1].port());
    let router = broker.router();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(broker.run(async move {
        let _ = rx.await;
    }));
    let m = mosquitto(&format!(
        "connection secure\naddress 127.0.0.1:{secure}\nrestart_timeout 1 2\n\
         bridge_cafile {}\nbridge_certfile {}\nbridge_keyfile {}\ntopic tls/# both 1\n",
        file("ca.pem"),
        file("client.pem"),
        file("client.key")
    ));
    assert!(
        wait_for(|| router.subscription_count() >= 1).await,
        "mosquitto's TLS bridge"
    );
    let on_mq = subscriber(plain, "tls-mq", &["tls/#"]).await;
    let m_pub = client(m.port(), "tls-m", Version::V311, true).await;
    m_pub
        .publish("tls/down", "over TLS too", QoS::AtLeastOnce, false)
        .await
        .unwrap();
    assert_eq!(
        &expect(&on_mq, "tls/down").await.payload[..],
        b"over TLS too"
    );
    drop(router);
    let _ = tx.send(());
    let _ = task.await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_is_published_on_both_brokers_and_the_will_clears_it() {
    if !require_mosquitto() {
        return;
    }
    let m = mosquitto("");
    let mport = m.port();
    let watcher = subscriber(mport, "watcher", &["$SYS/broker/connection/+/state"]).await;
    let mq = Mq::with_bridges(&format!(
        "connection hub\naddress 127.0.0.1:{mport}\nremote_clientid edge-1\ntopic x/# out\n"
    ))
    .await;
    let up = expect(&watcher, "$SYS/broker/connection/edge-1/state").await;
    assert_eq!(&up.payload[..], b"1");
    mq.connected("hub").await;
    let local = subscriber(mq.port, "local-watcher", &["$SYS/broker/connection/#"]).await;
    let here = expect(&local, "$SYS/broker/connection/edge-1/state").await;
    assert_eq!((&here.payload[..], here.retain), (&b"1"[..], true));
    // The broker stops: the remote's state goes to 0 through the will.
    mq.stop().await;
    let down = expect(&watcher, "$SYS/broker/connection/edge-1/state").await;
    assert_eq!(&down.payload[..], b"0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incoming_messages_obey_the_local_acl_of_local_username() {
    if !require_mosquitto() {
        return;
    }
    let m = mosquitto("");
    let mport = m.port();
    let dir = tempfile::tempdir().unwrap();
    let acl = dir.path().join("acl");
    std::fs::write(
        &acl,
        "topic read in/#\nuser bridge\ntopic write in/allowed/#\ntopic read x/#\n",
    )
    .unwrap();
    let mut c = mq_config(&format!(
        "connection hub\naddress 127.0.0.1:{mport}\nlocal_username bridge\ntopic in/# in 1\n"
    ));
    c.acl_file = Some(acl);
    let mq = Mq::start(c).await;
    mq.connected("hub").await;
    let local = subscriber(mq.port, "acl-sub", &["in/#"]).await;
    let remote = client(mport, "acl-pub", Version::V311, true).await;
    for t in ["in/denied/1", "in/allowed/2", "in/end"] {
        remote
            .publish(t, "x", QoS::AtLeastOnce, false)
            .await
            .unwrap();
    }
    remote
        .publish("in/allowed/end", "", QoS::AtLeastOnce, false)
        .await
        .unwrap();
    let got = collect_until(&local, "in/allowed/end").await;
    let topics: Vec<&str> = got.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        topics,
        vec!["in/allowed/2"],
        "only what the ACL lets the bridge write"
    );
    mq.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lazy_bridge_starts_at_its_threshold_and_stops_when_idle() {
    if !require_mosquitto() {
        return;
    }
    let m = mosquitto("");
    let mport = m.port();
    let remote = subscriber(mport, "lazy-sub", &["lazy/#"]).await;
    let mq = Mq::with_bridges(&format!(
        "connection hub\naddress 127.0.0.1:{mport}\nstart_type lazy\nthreshold 3\n\
         idle_timeout 1\ntopic lazy/# out 1\n"
    ))
    .await;
    let p = client(mq.port, "lazy-pub", Version::V311, true).await;
    for i in 0..2 {
        p.publish("lazy/m", format!("{i}"), QoS::AtLeastOnce, false)
            .await
            .unwrap();
    }
    // Proving that nothing happens takes a wait: longer than the lazy bridge's 1 s check.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(mq.state("hub"), State::Waiting, "below the threshold");
    p.publish("lazy/m", "2", QoS::AtLeastOnce, false)
        .await
        .unwrap();
    let got = count_lazy(&remote).await;
    assert_eq!(got, vec!["0", "1", "2"]);
    // Nothing more to send: the bridge stops after idle_timeout.
    assert!(wait_for(|| mq.state("hub") == State::Waiting).await);
    let status = mq.bridges.registry().get("hub").unwrap();
    assert_eq!(
        status.connects.load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    mq.stop().await;
}

async fn count_lazy(c: &Client) -> Vec<String> {
    let mut got = Vec::new();
    while got.len() < 3 {
        let p = expect(c, "lazy/m").await;
        got.push(String::from_utf8_lossy(&p.payload).into_owned());
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_restarts_only_the_bridges_whose_block_changed() {
    if !require_mosquitto() {
        return;
    }
    let m = mosquitto("");
    let mport = m.port();
    let text = |topic: &str| {
        format!(
            "connection a\naddress 127.0.0.1:{mport}\nrestart_timeout 1\ntopic {topic} out 1\n\
             connection b\naddress 127.0.0.1:{mport}\nrestart_timeout 1\ntopic b/# out 1\n"
        )
    };
    let mq = Mq::with_bridges(&text("old/#")).await;
    mq.connected("a").await;
    mq.connected("b").await;
    let registry = mq.bridges.registry();
    let (old_a, old_b) = (registry.get("a").unwrap(), registry.get("b").unwrap());
    mq.reloader.reload(&mq_config(&text("new/#")));
    let restarted = wait_for(|| {
        registry
            .get("a")
            .is_some_and(|a| !Arc::ptr_eq(&a, &old_a) && a.state() == State::Connected)
    })
    .await;
    assert!(restarted, "a restarts with its new topic");
    assert_eq!(old_a.state(), State::Stopped);
    assert!(
        Arc::ptr_eq(&registry.get("b").unwrap(), &old_b),
        "b untouched"
    );
    let remote = subscriber(mport, "reload-sub", &["#"]).await;
    let p = client(mq.port, "reload-pub", Version::V311, true).await;
    p.publish("old/1", "stale", QoS::AtLeastOnce, false)
        .await
        .unwrap();
    p.publish("new/1", "fresh", QoS::AtLeastOnce, false)
        .await
        .unwrap();
    let got = expect(&remote, "new/1").await;
    assert_eq!(&got.payload[..], b"fresh");
    // The old topic is no longer bridged: only the new one arrived before the marker.
    p.publish("b/end", "", QoS::AtLeastOnce, false)
        .await
        .unwrap();
    let rest = collect_until(&remote, "b/end").await;
    assert!(rest.iter().all(|(t, _)| t != "old/1"), "{rest:?}");
    mq.stop().await;
}
