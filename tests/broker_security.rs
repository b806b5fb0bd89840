//! `mq broker` with password files, ACL files and TLS listeners, driven by real clients:
//! Debian's mosquitto_pub/mosquitto_sub against `mq broker`, and `mq pub`/`mq sub` against a
//! Debian mosquitto configured for TLS. Certificates are made at test time (rcgen).

mod common;

use common::clients::{DebugSub, MARK, creds};
use common::pki::Pki;
use common::{
    ChildGuard, Conf, PATIENCE, Peer, TestBroker, free_port, mq_process, require, wait_until,
};
use mq::protocol::{Packet, QoS, ReasonCode, Version};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Adds `user` with password `{user}-pw` to the password file `file` through `mq passwd -b`.
fn add_user(file: &Path, user: &str, extra: &[&str]) {
    let mut cmd = mq_process();
    cmd.arg("passwd");
    if !file.exists() {
        cmd.arg("-c");
    }
    let st = cmd
        .args(extra)
        .arg("-b")
        .arg(file)
        .args([user, &format!("{user}-pw")])
        .status()
        .unwrap();
    assert!(st.success(), "mq passwd failed for {user}");
}

/// Runs mosquitto_pub (bounded) and returns its status and stderr.
fn mosquitto_pub(port: u16, args: &[String]) -> (ExitStatus, String) {
    run_bounded(
        Command::new("mosquitto_pub")
            .args(["-h", "127.0.0.1", "-p", &port.to_string()])
            .args(args),
    )
}

/// Runs a client to completion, killing it after 20 s; returns status and stderr.
fn run_bounded(cmd: &mut Command) -> (ExitStatus, String) {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut err = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    (status, err)
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

fn pub_msg(port: u16, user: Option<&str>, topic: &str, payload: &str, qos: &str) -> ExitStatus {
    let mut args = strings(&["-t", topic, "-m", payload, "-q", qos]);
    args.extend(creds(user));
    let (st, err) = mosquitto_pub(port, &args);
    assert!(st.success(), "publish {topic} as {user:?}: {err}");
    st
}

const ACL: &str = "\
# anonymous clients
topic read public/#
pattern read clients/%c/#

user alice
topic readwrite alice/#
topic write inbox/bob
topic deny alice/secret
topic read news/#

user bob
topic read inbox/bob
pattern readwrite users/%u/#

user writer
topic write #

user monitor
topic read #
";

/// A broker with users alice, bob, writer and monitor, the ACL above, anonymous allowed.
fn acl_broker(dir: &Path, acl: &str) -> TestBroker {
    let pw = dir.join("passwd");
    for u in ["alice", "bob", "writer", "monitor"] {
        add_user(&pw, u, &[]);
    }
    std::fs::write(dir.join("acl"), acl).unwrap();
    TestBroker::mq(Conf::new().line(&format!(
        "password_file {}\nacl_file {}",
        pw.display(),
        dir.join("acl").display()
    )))
}

/// Publishes a marker (see [`MARK`]) to `topic` as `user` and waits until `sub` has it: every
/// message routed to `sub` before has arrived by then.
fn settle(port: u16, user: Option<&str>, topic: &str, sub: &DebugSub) {
    pub_msg(port, user, topic, MARK, "1");
    assert!(
        sub.wait_mark(topic),
        "no marker on {topic}: {:?}",
        sub.lines()
    );
}

#[test]
fn every_acl_rule_kind_with_real_clients() {
    if !require(&[Peer::MosquittoClients]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let broker = acl_broker(dir.path(), ACL);
    let port = broker.port();
    let all = strings(&["-t", "#"]);
    let with = |u: &str| [all.clone(), creds(Some(u))].concat();
    let anon = DebugSub::ready(port, "anonsub", &all);
    let alice = DebugSub::ready(port, "alicesub", &with("alice"));
    let bob = DebugSub::ready(port, "bobsub", &with("bob"));
    let monitor = DebugSub::ready(port, "monitorsub", &with("monitor"));
    // Reads: the writer may publish anywhere; each reader gets what its rules grant.
    for t in [
        "public/a",
        "clients/anonsub/x",
        "clients/alicesub/x",
        "alice/x",
        "alice/secret",
        "news/1",
        "inbox/bob",
        "users/bob/x",
        "users/alice/x",
    ] {
        pub_msg(port, Some("writer"), t, "r", "1");
    }
    // Writes: a denied QoS 1 publish is still acknowledged (exit 0) and dropped.
    pub_msg(port, Some("alice"), "alice/w", "ok", "1");
    pub_msg(port, Some("alice"), "inbox/bob", "ok", "1");
    pub_msg(port, Some("alice"), "news/w", "denied", "1");
    pub_msg(port, Some("alice"), "alice/secret", "denied", "1");
    pub_msg(port, Some("alice"), "news/w2", "denied", "2");
    pub_msg(port, Some("bob"), "inbox/bob", "denied", "1");
    pub_msg(port, Some("bob"), "users/bob/w", "ok", "1");
    pub_msg(port, Some("bob"), "users/alice/w", "denied", "1");
    pub_msg(port, None, "public/w", "denied", "1");
    pub_msg(port, Some("writer"), "public/end", "end", "1");
    // Each reader may read its own clients/<id>/# (the %c pattern): a marker there arrives
    // after anything that was going to.
    for (s, id) in [
        (&anon, "anonsub"),
        (&alice, "alicesub"),
        (&bob, "bobsub"),
        (&monitor, "monitorsub"),
    ] {
        settle(port, Some("writer"), &format!("clients/{id}/end"), s);
    }
    let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(
        anon.messages(),
        set(&["public/a r", "clients/anonsub/x r", "public/end end"]),
        "anonymous rules and %c pattern"
    );
    assert_eq!(
        alice.messages(),
        set(&[
            "clients/alicesub/x r",
            "alice/x r",
            "news/1 r",
            "users/alice/x r",
            "alice/w ok"
        ]),
        "user section: readwrite, read, deny, %c and %u patterns"
    );
    assert_eq!(
        bob.messages(),
        set(&[
            "inbox/bob r",
            "users/bob/x r",
            "inbox/bob ok",
            "users/bob/w ok"
        ]),
        "bob reads inbox/bob (written by alice's write rule) and his %u pattern"
    );
    let written: BTreeSet<String> = monitor
        .messages()
        .into_iter()
        .filter(|m| !m.ends_with(" r"))
        .collect();
    assert_eq!(
        written,
        set(&[
            "alice/w ok",
            "inbox/bob ok",
            "users/bob/w ok",
            "public/end end"
        ]),
        "only permitted writes are routed"
    );
}

#[test]
fn retained_messages_and_wills_are_checked() {
    if !require(&[Peer::MosquittoClients]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let broker = acl_broker(dir.path(), ACL);
    let port = broker.port();
    for t in ["alice/r", "inbox/bob", "news/r"] {
        let mut a = strings(&["-t", t, "-m", "kept", "-r", "-q", "1"]);
        a.extend(creds(Some("writer")));
        assert!(mosquitto_pub(port, &a).0.success());
    }
    // Retained on subscribe, filtered per reader.
    let alice = DebugSub::ready(
        port,
        "alicesub",
        &[strings(&["-t", "#"]), creds(Some("alice"))].concat(),
    );
    let bob = DebugSub::ready(
        port,
        "bobsub",
        &[strings(&["-t", "#"]), creds(Some("bob"))].concat(),
    );
    let monitor = DebugSub::ready(
        port,
        "mon",
        &[strings(&["-t", "#"]), creds(Some("monitor"))].concat(),
    );
    assert!(wait_until(|| monitor.messages().len() == 3));
    assert_eq!(
        alice.messages(),
        BTreeSet::from(["alice/r kept".to_string(), "news/r kept".to_string()])
    );
    assert_eq!(
        bob.messages(),
        BTreeSet::from(["inbox/bob kept".to_string()])
    );
    // Wills: alice may write alice/#, not news/#. Killing the clients sends their wills.
    for (id, topic) in [("w1", "alice/will"), ("w2", "news/will")] {
        // A filter alice may read: one she may never read is refused, and mosquitto_sub exits.
        let mut args = strings(&[
            "-t",
            "alice/never",
            "--will-topic",
            topic,
            "--will-payload",
            "gone",
        ]);
        args.extend(creds(Some("alice")));
        let s = DebugSub::ready(port, id, &args);
        drop(s); // SIGKILL: no DISCONNECT, so the will goes out
    }
    assert!(monitor.wait_for("alice/will gone"));
    // w2 was killed last: once the broker has seen it go and a marker has come through after
    // that, its will has been decided.
    broker.wait_log("Client w2 ");
    settle(port, Some("writer"), "wills/end", &monitor);
    assert!(!monitor.has("news/will gone"), "{:?}", monitor.messages());
}

#[test]
fn subscribe_to_a_filter_the_acl_never_allows_is_refused() {
    if !require(&[Peer::MosquittoClients]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let broker = acl_broker(dir.path(), ACL);
    let port = broker.port().to_string();
    // mosquitto_sub, 3.1.1 and 5.0, as alice: news/# is hers to read, bob's inbox is not.
    for version in ["mqttv311", "mqttv5"] {
        let sub = |topic: &str| {
            run_bounded(
                Command::new("mosquitto_sub")
                    .args(["-h", "127.0.0.1", "-p", &port, "-V", version, "-t", topic])
                    .args(["-u", "alice", "-P", "alice-pw", "-C", "1", "-W", "3"]),
            )
        };
        let (_, err) = sub("inbox/#");
        assert!(
            err.contains("All subscription requests were denied"),
            "{version}: {err}"
        );
        // Granted: it waits for a message and gives up after -W, not because of a refusal.
        let (_, err) = sub("news/#");
        assert!(!err.contains("denied"), "{version}: {err}");
    }
    // The codes themselves: 0x80 in 3.1.1; "#" overlaps what alice may read, so it is granted.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let addr = format!("127.0.0.1:{port}").parse().unwrap();
        let mut connect = common::raw::connect_packet("acl-sub", true, 60, Version::V311);
        if let Packet::Connect(c) = &mut connect {
            c.username = Some("alice".into());
            c.password = Some(bytes::Bytes::from_static(b"alice-pw"));
        }
        let (mut c, ack) = common::raw::RawClient::connect_with(addr, connect).await;
        assert_eq!(ack.reason, ReasonCode::Success);
        assert_eq!(
            c.subscribe("inbox/+", QoS::AtMostOnce).await,
            [ReasonCode::UnspecifiedError]
        );
        assert_eq!(
            c.subscribe("#", QoS::AtMostOnce).await,
            [ReasonCode::Success]
        );
        assert_eq!(
            c.subscribe("alice/secret", QoS::AtMostOnce).await,
            [ReasonCode::UnspecifiedError],
            "a deny rule covers it"
        );
    });
}

#[test]
fn anonymous_and_wrong_passwords_are_refused_with_their_codes() {
    if !require(&[Peer::MosquittoClients]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("passwd");
    add_user(&pw, "alice", &[]);
    // No allow_anonymous line: a config with listeners refuses anonymous clients.
    let broker = TestBroker::mq(Conf::bare().line(&format!("password_file {}", pw.display())));
    let port = broker.port();
    let port_s = port.to_string();
    let one_from_t = ["-h", "127.0.0.1", "-p", &port_s, "-t", "t", "-C", "1"];
    let sub =
        |args: &[&str]| run_bounded(Command::new("mosquitto_sub").args(one_from_t).args(args));
    let (st, err) = sub(&[]);
    assert_eq!(st.code(), Some(5), "anonymous: {err}");
    assert!(err.contains("not authorised"), "{err}");
    // mosquitto 2.0 refuses a wrong password or an unknown user as "not authorised" too.
    let (st, err) = sub(&["-u", "alice", "-P", "wrong"]);
    assert_eq!(st.code(), Some(5), "wrong password: {err}");
    let (st, err) = sub(&["-u", "mallory", "-P", "alice-pw"]);
    assert_eq!(st.code(), Some(5), "unknown user: {err}");
    let (st, _) = run_bounded(
        mq_process()
            .args(["pub", "-p", &port.to_string(), "-t", "t", "-m", "x"])
            .args(["-u", "alice", "-P", "bad"]),
    );
    assert_eq!(st.code(), Some(5), "mq pub exits with the CONNACK code");
    // The right password gets through, from mq sub and mosquitto_pub.
    let s = ChildGuard::spawn(
        mq_process()
            .arg("sub")
            .args(one_from_t)
            .args(["-W", "20"])
            .args(["-u", "alice", "--pw-file"])
            .arg(write_secret(dir.path(), "alice-pw")),
    );
    broker.wait_subscribed("t");
    pub_msg(port, Some("alice"), "t", "hello", "1");
    let (_, out) = s.finish(PATIENCE);
    assert_eq!(out, "hello\n", "mq sub with the right password");
    assert!(broker.log().contains("refused"), "{}", broker.log());
}

fn write_secret(dir: &Path, secret: &str) -> PathBuf {
    let p = dir.join("secret");
    std::fs::write(&p, format!("{secret}\n")).unwrap();
    p
}

/// `--cafile` (and a client certificate) for mosquitto_pub/sub or `mq pub`/`mq sub`.
fn tls(pki: &Pki, port: u16, cert: Option<&str>) -> Vec<String> {
    let mut args = strings(&["-h", "localhost", "-p", &port.to_string(), "--cafile"]);
    args.push(pki.path("ca.pem").display().to_string());
    args.extend(pki.cert_args(cert));
    args
}

/// Plain on loopback, TLS with anonymous clients, and mutual TLS where the certificate's CN is
/// the username for the ACL: three listeners, each with its own settings.
fn tls_broker(dir: &Path, pki: &Pki) -> TestBroker {
    std::fs::write(
        dir.join("acl"),
        "user device7\ntopic readwrite devices/device7/#\n",
    )
    .unwrap();
    let (cert, key, ca) = (
        pki.path("server.pem"),
        pki.path("server.key"),
        pki.path("ca.pem"),
    );
    let (c, k) = (cert.display(), key.display());
    TestBroker::mq(
        Conf::bare()
            .head("per_listener_settings true")
            .line("allow_anonymous true")
            .listener()
            .line(&format!("allow_anonymous true\ncertfile {c}\nkeyfile {k}"))
            .listener()
            .line(&format!(
                "certfile {c}\nkeyfile {k}\ncafile {}\nrequire_certificate true\n\
                 use_identity_as_username true\nacl_file {}",
                ca.display(),
                dir.join("acl").display()
            )),
    )
}

#[test]
fn mosquitto_clients_over_tls_and_mutual_tls_against_mq_broker() {
    if !require(&[Peer::MosquittoClients]) {
        return;
    }
    let (dir, pki) = (tempfile::tempdir().unwrap(), Pki::new());
    let broker = tls_broker(dir.path(), &pki);
    let [plain, tls_port, mtls] = broker.ports()[..] else {
        panic!("three listeners")
    };
    // --cafile only.
    let sub = DebugSub::ready(
        tls_port,
        "tls-sub",
        &[tls(&pki, tls_port, None), strings(&["-t", "t"])].concat(),
    );
    let (st, err) = mosquitto_pub(
        tls_port,
        &[
            tls(&pki, tls_port, None),
            strings(&["-t", "t", "-m", "over tls"]),
        ]
        .concat(),
    );
    assert!(st.success(), "{err}");
    assert!(sub.wait_for("t over tls"), "{:?}", sub.messages());
    // Client certificates: CN device7 is the ACL username.
    let dev = DebugSub::ready(
        mtls,
        "dev-sub",
        &[tls(&pki, mtls, Some("client")), strings(&["-t", "#"])].concat(),
    );
    for (topic, payload) in [
        ("devices/device7/t", "mine"),
        ("devices/other/t", "not mine"),
    ] {
        let args = [
            tls(&pki, mtls, Some("client")),
            strings(&["-t", topic, "-m", payload, "-q", "1"]),
        ]
        .concat();
        let (st, err) = mosquitto_pub(mtls, &args);
        assert!(st.success(), "{err}");
    }
    assert!(dev.wait_for("devices/device7/t mine"));
    // A marker from the same client after both: a wrongly routed one would be there first.
    let args = [
        tls(&pki, mtls, Some("client")),
        strings(&["-t", "devices/device7/end", "-m", MARK, "-q", "1"]),
    ]
    .concat();
    assert!(mosquitto_pub(mtls, &args).0.success());
    assert!(dev.wait_mark("devices/device7/end"), "{:?}", dev.lines());
    assert_eq!(
        dev.messages().len(),
        1,
        "the ACL applies to the CN: {:?}",
        dev.messages()
    );
    // Refusals, each with a log line naming the failed check.
    let cases: [(u16, Vec<String>, &str); 4] = [
        (
            mtls,
            tls(&pki, mtls, None),
            "the client sent no certificate",
        ),
        (
            mtls,
            tls(&pki, mtls, Some("other")),
            "client certificate CN=intruder is not signed by a CA in",
        ),
        (
            mtls,
            tls(&pki, mtls, Some("expired")),
            "client certificate expired on 2020-01-01",
        ),
        (
            plain,
            tls(&pki, plain, None),
            "it sent a TLS handshake, and this port speaks plain MQTT",
        ),
    ];
    for (port, mut args, line) in cases {
        args.extend(strings(&["-t", "t", "-m", "x"]));
        let (st, _) = mosquitto_pub(port, &args);
        assert!(!st.success(), "{line}: connected anyway");
        broker.wait_log(line);
    }
    let (st, _) = mosquitto_pub(tls_port, &strings(&["-t", "t", "-m", "plain"]));
    assert!(!st.success(), "plain MQTT on the TLS port");
    broker.wait_log("this port expects TLS, but the client sent plain MQTT");
    // The plain listener still serves plain MQTT.
    assert!(
        mosquitto_pub(plain, &strings(&["-t", "t", "-m", "plain"]))
            .0
            .success()
    );
    // SIGHUP re-reads the certificates; the TLS subscriber stays, new handshakes work.
    broker.reload();
    let args = [
        tls(&pki, tls_port, None),
        strings(&["-t", "t", "-m", "after reload"]),
    ]
    .concat();
    assert!(mosquitto_pub(tls_port, &args).0.success());
    assert!(sub.wait_for("t after reload"));
}

#[test]
fn mq_clients_over_tls_against_mosquitto() {
    if !require(&[Peer::Mosquitto]) {
        return;
    }
    let pki = Pki::new();
    let m = TestBroker::mosquitto(Conf::new().line(&format!(
        "certfile {}\nkeyfile {}\ncafile {}\nrequire_certificate true",
        pki.path("server.pem").display(),
        pki.path("server.key").display(),
        pki.path("ca.pem").display()
    )));
    let args = tls(&pki, m.port(), Some("client"));
    let sub = ChildGuard::spawn(
        mq_process()
            .arg("sub")
            .args(&args)
            .args(["-t", "tls/#", "-C", "1", "-v", "-W", "20"]),
    );
    m.wait_subscribed("tls/#");
    let (st, err) = run_bounded(
        mq_process()
            .arg("pub")
            .args(&args)
            .args(["-t", "tls/x", "-m", "hi"]),
    );
    assert!(st.success(), "mq pub over TLS: {err}");
    let (_, out) = sub.finish(PATIENCE);
    assert_eq!(out, "tls/x hi\n", "mq sub over TLS");
    // Without a client certificate mosquitto refuses the handshake and mq pub fails.
    let (st, _) = run_bounded(
        mq_process()
            .arg("pub")
            .args(tls(&pki, m.port(), None))
            .args(["-t", "t", "-m", "x"]),
    );
    assert!(!st.success());
}

#[test]
fn sighup_reloads_passwords_and_acl_while_clients_stay_connected() {
    if !require(&[Peer::MosquittoClients]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let broker = acl_broker(dir.path(), ACL);
    let port = broker.port();
    let acl = dir.path().join("acl");
    let alice = DebugSub::ready(
        port,
        "alicesub",
        &[strings(&["-t", "#"]), creds(Some("alice"))].concat(),
    );
    // Publishes news/N, then a marker alice always reads; returns whether news/N arrived.
    let mut round = 0;
    let mut news_arrives = |alice: &DebugSub| {
        round += 1;
        pub_msg(port, Some("writer"), "news/n", &round.to_string(), "1");
        pub_msg(
            port,
            Some("writer"),
            "alice/marker",
            &round.to_string(),
            "1",
        );
        assert!(alice.wait_for(&format!("alice/marker {round}")));
        alice.has(&format!("news/n {round}"))
    };
    assert!(news_arrives(&alice));
    // Permission removed: lost from the next message on, without reconnecting.
    std::fs::write(&acl, ACL.replace("topic read news/#\n", "")).unwrap();
    broker.reload();
    assert!(
        !news_arrives(&alice),
        "read permission still in force after reload"
    );
    // A broken file is refused with file and line; the rules in force stay.
    std::fs::write(
        &acl,
        "user alice\ntopic readwrite alice/#\ntopic sideways news/#\n",
    )
    .unwrap();
    broker.reload();
    broker.wait_log("keeping the previous password and ACL rules");
    assert!(
        broker.log().contains(&format!("{} line 3", acl.display())),
        "{}",
        broker.log()
    );
    assert!(
        !news_arrives(&alice),
        "broken file must not replace the rules"
    );
    // Permission given back.
    std::fs::write(&acl, ACL).unwrap();
    broker.reload();
    assert!(news_arrives(&alice));
    // A user added to the password file can log in after the reload, not before.
    let pw = dir.path().join("passwd");
    add_user(&pw, "carol", &[]);
    let carol = || {
        mosquitto_pub(
            port,
            &[strings(&["-t", "x", "-m", "x"]), creds(Some("carol"))].concat(),
        )
    };
    assert!(!carol().0.success(), "carol is not in the loaded file yet");
    broker.reload();
    assert!(carol().0.success(), "{}", broker.log());
    assert_eq!(
        broker.log().matches("as alicesub").count(),
        1,
        "the subscriber stayed connected through every reload"
    );
}

/// A malformed password file line only denies its user (see broker_hardening.rs); an ACL file
/// that cannot be parsed, or a password file that cannot be read, stops the broker.
#[test]
fn broken_acl_or_missing_password_file_stops_the_broker_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let acl = dir.path().join("acl");
    std::fs::write(&acl, "topic read a\nuser\n").unwrap();
    let missing = dir.path().join("missing");
    let port = free_port();
    let cases = [
        (
            format!("acl_file {}", acl.display()),
            format!("{} line 2", acl.display()),
        ),
        (
            format!("password_file {}", missing.display()),
            missing.display().to_string(),
        ),
    ];
    for (line, expected) in cases {
        let conf = dir.path().join("mq.conf");
        std::fs::write(&conf, format!("listener {port} 127.0.0.1\n{line}\n")).unwrap();
        let (st, err) = run_bounded(mq_process().args(["broker", "-c"]).arg(&conf));
        assert_eq!(st.code(), Some(1), "{line}: {err}");
        assert!(
            err.contains(&expected),
            "{line}: expected {expected:?} in {err:?}"
        );
    }
}

/// One CONNECT (3.1.1) with a username and password over a raw socket; returns the CONNACK
/// return code.
fn raw_connect(port: u16, id: &str, user: &str, password: &str) -> Option<u8> {
    let mut body = vec![0, 4, b'M', b'Q', b'T', b'T', 4, 0xC2, 0, 60];
    for field in [id, user, password] {
        body.extend((field.len() as u16).to_be_bytes());
        body.extend(field.as_bytes());
    }
    let mut packet = vec![0x10, body.len() as u8];
    packet.extend(body);
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    s.write_all(&packet).ok()?;
    let mut connack = [0u8; 4];
    s.read_exact(&mut connack).ok()?;
    Some(connack[3])
}

#[test]
fn password_brute_force_does_not_stall_other_clients() {
    if !require(&[Peer::MosquittoClients]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("passwd");
    // An expensive hash for the attacked account, a cheap one for the good client.
    add_user(&pw, "alice", &["-I", "20000"]);
    add_user(&pw, "bob", &[]);
    let broker = TestBroker::mq(Conf::bare().line(&format!("password_file {}", pw.display())));
    let port = broker.port();
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let attackers: Vec<_> = (0..6)
        .map(|i| {
            let (stop, answered) = (stop.clone(), answered.clone());
            std::thread::spawn(move || {
                let mut codes = Vec::new();
                while !stop.load(Ordering::Relaxed) && codes.len() < 20 {
                    codes.push(raw_connect(port, &format!("attacker{i}"), "alice", "guess"));
                    if codes.len() == 1 {
                        answered.fetch_add(1, Ordering::Relaxed);
                    }
                }
                codes
            })
        })
        .collect();
    // The attack is under way: every attacker has had one answer and is hashing again.
    assert!(wait_until(|| answered.load(Ordering::Relaxed) == 6));
    let sub = DebugSub::ready(
        port,
        "bobsub",
        &[strings(&["-t", "t"]), creds(Some("bob"))].concat(),
    );
    let start = Instant::now();
    pub_msg(port, Some("bob"), "t", "through", "1");
    assert!(sub.wait_for("t through"));
    // Generous: the point is that it is not queued behind seconds of hashing.
    assert!(
        start.elapsed() < Duration::from_secs(8),
        "{:?}",
        start.elapsed()
    );
    stop.store(true, Ordering::Relaxed);
    let codes: Vec<Option<u8>> = attackers
        .into_iter()
        .flat_map(|a| a.join().unwrap())
        .collect();
    assert!(codes.len() >= 6, "every attacker tried");
    assert!(codes.iter().all(|c| *c == Some(5)), "{codes:?}");
}
