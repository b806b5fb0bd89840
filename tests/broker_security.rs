//! `mq broker` with password files, ACL files and TLS listeners, driven by real clients:
//! Debian's mosquitto_pub/mosquitto_sub against `mq broker`, and `mq pub`/`mq sub` against a
//! Debian mosquitto configured for TLS. Certificates are made at test time (rcgen).

mod common;

use common::mosquitto::{DebugSub, creds};
use common::pki::Pki;
use common::{Mosquitto, free_port, have_mosquitto, mq_process, wait_until};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A running `mq broker -c FILE`, its log in a file, killed on drop.
struct MqBroker {
    child: Child,
    log: PathBuf,
}

impl MqBroker {
    /// Writes `conf` into `dir` and starts the broker; waits until every port in `ports`
    /// accepts connections.
    fn start(dir: &Path, conf: &str, ports: &[u16]) -> MqBroker {
        let path = dir.join("mq.conf");
        std::fs::write(&path, conf).unwrap();
        let log = dir.join("mq.log");
        let child = mq_process()
            .args(["broker", "-c"])
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start mq broker");
        let mut b = MqBroker { child, log };
        for &port in ports {
            let up = wait_until(|| std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
            if !up {
                panic!("mq broker did not listen on {port}: {}", b.log_text());
            }
        }
        assert!(b.child.try_wait().unwrap().is_none(), "{}", b.log_text());
        b
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits for a log line containing `needle` (at least `count` of them).
    fn wait_log(&self, needle: &str, count: usize) {
        let ok = wait_until(|| self.log_text().matches(needle).count() >= count);
        assert!(ok, "no log line with {needle:?}:\n{}", self.log_text());
    }

    /// Sends SIGHUP and waits until the reload has been applied.
    fn reload(&self) {
        let before = self.log_text().matches("Reloading config").count();
        // SAFETY: kill(2) on the PID of a child we own and have not reaped.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGHUP) };
        self.wait_log("Reloading config", before + 1);
        // The line is written just before the new rules are swapped in.
        std::thread::sleep(Duration::from_millis(300));
    }
}

impl Drop for MqBroker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

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
fn acl_broker(dir: &Path, acl: &str) -> (MqBroker, u16) {
    let pw = dir.join("passwd");
    for u in ["alice", "bob", "writer", "monitor"] {
        add_user(&pw, u, &[]);
    }
    std::fs::write(dir.join("acl"), acl).unwrap();
    let port = free_port();
    let conf = format!(
        "listener {port} 127.0.0.1\nallow_anonymous true\npassword_file {}\nacl_file {}\n",
        pw.display(),
        dir.join("acl").display()
    );
    (MqBroker::start(dir, &conf, &[port]), port)
}

#[test]
fn every_acl_rule_kind_with_real_clients() {
    if !have_mosquitto() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (_broker, port) = acl_broker(dir.path(), ACL);
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
    for s in [&anon, &alice, &bob, &monitor] {
        // Wait for the last message at the monitor; the others finish at the same time.
        wait_until(|| s.messages().len() >= 2 && monitor.has("public/end end"));
    }
    std::thread::sleep(Duration::from_millis(300));
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
    if !have_mosquitto() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (_broker, port) = acl_broker(dir.path(), ACL);
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
        let mut args = strings(&[
            "-t",
            "never",
            "--will-topic",
            topic,
            "--will-payload",
            "gone",
        ]);
        args.extend(creds(Some("alice")));
        let s = DebugSub::ready(port, id, &args);
        drop(s); // SIGKILL: no DISCONNECT, so the will goes out
    }
    assert!(wait_until(|| monitor.has("alice/will gone")));
    std::thread::sleep(Duration::from_millis(500));
    assert!(!monitor.has("news/will gone"), "{:?}", monitor.messages());
}

#[test]
fn anonymous_and_wrong_passwords_are_refused_with_their_codes() {
    if !have_mosquitto() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("passwd");
    add_user(&pw, "alice", &[]);
    let port = free_port();
    // No allow_anonymous line: a config with listeners refuses anonymous clients.
    let conf = format!(
        "listener {port} 127.0.0.1\npassword_file {}\n",
        pw.display()
    );
    let broker = MqBroker::start(dir.path(), &conf, &[port]);
    let sub = |args: &[&str]| {
        run_bounded(
            Command::new("mosquitto_sub")
                .args([
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &port.to_string(),
                    "-t",
                    "t",
                    "-C",
                    "1",
                ])
                .args(args),
        )
    };
    let (st, err) = sub(&[]);
    assert_eq!(st.code(), Some(5), "anonymous: {err}");
    assert!(err.contains("not authorised"), "{err}");
    let (st, err) = sub(&["-u", "alice", "-P", "wrong"]);
    assert_eq!(st.code(), Some(4), "wrong password: {err}");
    let (st, err) = sub(&["-u", "mallory", "-P", "alice-pw"]);
    assert_eq!(st.code(), Some(4), "unknown user: {err}");
    let (st, _) = run_bounded(
        mq_process()
            .args(["pub", "-p", &port.to_string(), "-t", "t", "-m", "x"])
            .args(["-u", "alice", "-P", "bad"]),
    );
    assert_eq!(st.code(), Some(4), "mq pub exits with the CONNACK code");
    // The right password gets through, from mq sub and mosquitto_pub.
    let mut s = mq_process()
        .args([
            "sub",
            "-p",
            &port.to_string(),
            "-t",
            "t",
            "-C",
            "1",
            "-W",
            "20",
        ])
        .args(["-u", "alice", "--pw-file"])
        .arg(write_secret(dir.path(), "alice-pw"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let delivered = wait_until(|| {
        pub_msg(port, Some("alice"), "t", "hello", "1");
        matches!(s.try_wait(), Ok(Some(_)))
    });
    assert!(delivered, "mq sub with the right password got nothing");
    let mut out = String::new();
    s.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    assert_eq!(out, "hello\n");
    assert!(
        broker.log_text().contains("refused"),
        "{}",
        broker.log_text()
    );
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
fn tls_broker(dir: &Path, pki: &Pki) -> (MqBroker, [u16; 3]) {
    let ports = [free_port(), free_port(), free_port()];
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
    let conf = format!(
        "per_listener_settings true\n\
         listener {} 127.0.0.1\nallow_anonymous true\n\
         listener {} 127.0.0.1\nallow_anonymous true\ncertfile {c}\nkeyfile {k}\n\
         listener {} 127.0.0.1\ncertfile {c}\nkeyfile {k}\ncafile {a}\nrequire_certificate true\n\
         use_identity_as_username true\nacl_file {acl}\n",
        ports[0],
        ports[1],
        ports[2],
        c = cert.display(),
        k = key.display(),
        a = ca.display(),
        acl = dir.join("acl").display()
    );
    (MqBroker::start(dir, &conf, &ports), ports)
}

#[test]
fn mosquitto_clients_over_tls_and_mutual_tls_against_mq_broker() {
    if !have_mosquitto() {
        return;
    }
    let (dir, pki) = (tempfile::tempdir().unwrap(), Pki::new());
    let (broker, [plain, tls_port, mtls]) = tls_broker(dir.path(), &pki);
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
    assert!(wait_until(|| sub.has("t over tls")), "{:?}", sub.messages());
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
    assert!(wait_until(|| dev.has("devices/device7/t mine")));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        dev.messages().len(),
        1,
        "the ACL applies to the CN: {:?}",
        dev.messages()
    );
    // Refusals, each with a log line naming the failed check.
    let cases: [(u16, Vec<String>, &str); 4] = [
        (mtls, tls(&pki, mtls, None), "no client certificate"),
        (mtls, tls(&pki, mtls, Some("other")), "unknown CA"),
        (mtls, tls(&pki, mtls, Some("expired")), "expired"),
        (
            plain,
            tls(&pki, plain, None),
            "sent a TLS handshake to a plain MQTT listener",
        ),
    ];
    for (port, mut args, line) in cases {
        args.extend(strings(&["-t", "t", "-m", "x"]));
        let (st, _) = mosquitto_pub(port, &args);
        assert!(!st.success(), "{line}: connected anyway");
        broker.wait_log(line, 1);
    }
    let (st, _) = mosquitto_pub(tls_port, &strings(&["-t", "t", "-m", "plain"]));
    assert!(!st.success(), "plain MQTT on the TLS port");
    broker.wait_log("plain MQTT on a TLS port", 1);
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
    assert!(wait_until(|| sub.has("t after reload")));
}

#[test]
fn mq_clients_over_tls_against_mosquitto() {
    if !have_mosquitto() {
        return;
    }
    let (dir, pki) = (tempfile::tempdir().unwrap(), Pki::new());
    let m = Mosquitto::start(
        dir.path(),
        &format!(
            "allow_anonymous true\ncertfile {}\nkeyfile {}\ncafile {}\nrequire_certificate true\n",
            pki.path("server.pem").display(),
            pki.path("server.key").display(),
            pki.path("ca.pem").display()
        ),
    );
    let args = tls(&pki, m.port, Some("client"));
    let mut sub = mq_process()
        .arg("sub")
        .args(&args)
        .args(["-t", "tls/#", "-C", "1", "-v", "-W", "20"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let done = wait_until(|| {
        let (st, err) = run_bounded(
            mq_process()
                .arg("pub")
                .args(&args)
                .args(["-t", "tls/x", "-m", "hi"]),
        );
        assert!(st.success(), "mq pub over TLS: {err}");
        matches!(sub.try_wait(), Ok(Some(_)))
    });
    assert!(done, "mq sub over TLS got nothing");
    let mut out = String::new();
    sub.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    assert_eq!(out, "tls/x hi\n");
    // Without a client certificate mosquitto refuses the handshake and mq pub fails.
    let (st, _) = run_bounded(
        mq_process()
            .arg("pub")
            .args(tls(&pki, m.port, None))
            .args(["-t", "t", "-m", "x"]),
    );
    assert!(!st.success());
}

#[test]
fn sighup_reloads_passwords_and_acl_while_clients_stay_connected() {
    if !have_mosquitto() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (broker, port) = acl_broker(dir.path(), ACL);
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
        assert!(wait_until(|| alice.has(&format!("alice/marker {round}"))));
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
    broker.wait_log("keeping the previous password and ACL rules", 1);
    assert!(
        broker
            .log_text()
            .contains(&format!("{} line 3", acl.display())),
        "{}",
        broker.log_text()
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
    assert!(carol().0.success(), "{}", broker.log_text());
    assert_eq!(
        broker.log_text().matches("as alicesub").count(),
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
    if !have_mosquitto() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("passwd");
    // An expensive hash for the attacked account, a cheap one for the good client.
    add_user(&pw, "alice", &["-I", "20000"]);
    add_user(&pw, "bob", &[]);
    let port = free_port();
    let conf = format!(
        "listener {port} 127.0.0.1\npassword_file {}\n",
        pw.display()
    );
    let _broker = MqBroker::start(dir.path(), &conf, &[port]);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let attackers: Vec<_> = (0..6)
        .map(|i| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut codes = Vec::new();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) && codes.len() < 20 {
                    codes.push(raw_connect(port, &format!("attacker{i}"), "alice", "guess"));
                }
                codes
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let sub = DebugSub::ready(
        port,
        "bobsub",
        &[strings(&["-t", "t"]), creds(Some("bob"))].concat(),
    );
    let start = Instant::now();
    pub_msg(port, Some("bob"), "t", "through", "1");
    assert!(wait_until(|| sub.has("t through")));
    // Generous: the point is that it is not queued behind seconds of hashing.
    assert!(
        start.elapsed() < Duration::from_secs(8),
        "{:?}",
        start.elapsed()
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let codes: Vec<Option<u8>> = attackers
        .into_iter()
        .flat_map(|a| a.join().unwrap())
        .collect();
    assert!(codes.len() >= 6, "every attacker tried");
    assert!(codes.iter().all(|c| *c == Some(4)), "{codes:?}");
}
