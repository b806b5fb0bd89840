//! The real `mq broker` binary driven by Debian's mosquitto_pub and mosquitto_sub, unchanged.

mod common;

use common::*;
use std::process::Command;
use std::time::Duration;

fn clients() -> bool {
    require(&[Peer::MosquittoClients])
}

fn pub_(port: u16, args: &[&str]) {
    let st = Command::new("mosquitto_pub")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .status()
        .expect("mosquitto_pub");
    assert!(st.success(), "mosquitto_pub {args:?}: {st}");
}

/// Runs mosquitto_sub to completion (it must be bounded by -C/-W/-E) and returns stdout.
fn sub(port: u16, args: &[&str]) -> String {
    let out = Command::new("timeout")
        .args([
            "10",
            "mosquitto_sub",
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .args(args)
        .output()
        .expect("mosquitto_sub");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn qos_1_and_2_reach_a_persistent_mosquitto_sub_session() {
    if !clients() {
        return;
    }
    let b = TestBroker::mq(Conf::new());
    let port = b.port();
    assert_eq!(
        sub(port, &["-c", "-i", "s1", "-q", "2", "-t", "m/#", "-E"]),
        ""
    );
    pub_(port, &["-t", "m/1", "-m", "one", "-q", "1"]);
    pub_(port, &["-t", "m/2", "-m", "two", "-q", "2"]);
    let out = sub(
        port,
        &["-c", "-i", "s1", "-q", "2", "-t", "m/#", "-C", "2", "-v"],
    );
    assert_eq!(out, "m/1 one\nm/2 two\n");
}

#[test]
fn qos0_live_delivery_with_wildcards() {
    if !clients() {
        return;
    }
    let b = TestBroker::mq(Conf::new());
    let port = b.port();
    let mut s = Command::new("mosquitto_sub");
    s.args(["-p", &port.to_string(), "-t", "live/+/x", "-C", "1", "-v"]);
    let s = ChildGuard::spawn(&mut s);
    b.wait_subscribed("live/+/x");
    pub_(port, &["-t", "live/a/x", "-m", "hello"]);
    assert_eq!(
        s.finish(PATIENCE),
        (Some(0), "live/a/x hello\n".to_string())
    );
}

#[test]
fn retained_message_is_kept_and_removed_by_empty_retained_publish() {
    if !clients() {
        return;
    }
    let b = TestBroker::mq(Conf::new());
    let port = b.port();
    pub_(port, &["-t", "r/t", "-m", "kept", "-r", "-q", "1"]);
    assert_eq!(sub(port, &["-t", "r/#", "-C", "1", "-v"]), "r/t kept\n");
    pub_(port, &["-t", "r/t", "-n", "-r"]);
    assert_eq!(sub(port, &["-t", "r/#", "--retained-only", "-W", "1"]), "");
}

#[test]
fn will_is_published_when_a_client_dies() {
    if !clients() {
        return;
    }
    let b = TestBroker::mq(Conf::new());
    let port = b.port();
    assert_eq!(
        sub(
            port,
            &["-c", "-i", "watch", "-q", "1", "-t", "will/#", "-E"]
        ),
        ""
    );
    let mut victim = Command::new("mosquitto_sub");
    victim.args(["-p", &port.to_string(), "-t", "x", "-i", "victim"]);
    victim.args([
        "--will-topic",
        "will/victim",
        "--will-payload",
        "bye",
        "--will-qos",
        "1",
    ]);
    let victim = ChildGuard::spawn(&mut victim);
    // Connected with its will, once it has subscribed.
    b.wait_subscribed_by("victim", "x");
    victim.signal(libc::SIGKILL);
    let out = sub(
        port,
        &[
            "-c", "-i", "watch", "-q", "1", "-t", "will/#", "-C", "1", "-v", "-W", "5",
        ],
    );
    assert_eq!(out, "will/victim bye\n");
}

#[test]
fn sys_topics_are_published_every_sys_interval() {
    if !clients() {
        return;
    }
    let b = TestBroker::mq(Conf::new().line("sys_interval 1"));
    let port = b.port();
    let version = sub(port, &["-t", "$SYS/broker/version", "-C", "1", "-W", "5"]);
    assert!(version.starts_with("mq version "), "{version:?}");
    let uptime = sub(port, &["-t", "$SYS/broker/uptime", "-C", "2", "-W", "5"]);
    assert!(
        uptime.lines().all(|l| l.ends_with(" seconds")),
        "{uptime:?}"
    );
    let all = sub(port, &["-t", "$SYS/#", "-C", "120", "-W", "5", "-v"]);
    for t in [
        "clients/connected",
        "messages/received",
        "bytes/sent",
        "subscriptions/count",
        "retained messages/count",
    ] {
        assert!(
            all.contains(&format!("$SYS/broker/{t} ")),
            "{t} missing in {all}"
        );
    }
    assert_eq!(
        sub(port, &["-t", "#", "-W", "1"]),
        "",
        "# does not match $SYS"
    );
}

#[test]
fn mqtt_v5_mosquitto_clients_work() {
    if !clients() {
        return;
    }
    let b = TestBroker::mq(Conf::new());
    let port = b.port();
    pub_(
        port,
        &["-V", "mqttv5", "-t", "five", "-m", "v5", "-r", "-q", "2"],
    );
    assert_eq!(
        sub(port, &["-V", "mqttv5", "-t", "five", "-C", "1", "-q", "1"]),
        "v5\n"
    );
    pub_(
        port,
        &["-V", "mqttv31", "-t", "three", "-m", "v31", "-r", "-q", "1"],
    );
    assert_eq!(
        sub(port, &["-V", "mqttv31", "-t", "three", "-C", "1"]),
        "v31\n"
    );
}

#[test]
fn config_errors_name_file_and_line_and_exit_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("bad.conf");
    std::fs::write(&conf, "# fine\nbogus_option 1\n").unwrap();
    let out = mq().args(["broker", "-c"]).arg(&conf).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.conf:2: unknown option 'bogus_option'"),
        "{err}"
    );
    std::fs::write(&conf, "plugin /x.so\n").unwrap();
    let out = mq().args(["broker", "-c"]).arg(&conf).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.conf:1: plugin: not supported yet"));
}

#[test]
fn sigterm_and_sigint_shut_down_cleanly_and_sighup_reloads() {
    for sig in [libc::SIGTERM, libc::SIGINT] {
        let mut b = TestBroker::mq(Conf::new().line("max_queued_messages 10"));
        b.signal(libc::SIGHUP);
        b.wait_log("Reloading config.");
        wait_for_port(b.port());
        b.signal(sig);
        let st = b.wait_exit(Duration::from_secs(5)).expect("exits");
        assert_eq!(st.code(), Some(0));
        let err = b.log();
        assert!(err.contains("Reloading config."), "{err}");
        assert!(err.contains("terminating"), "{err}");
    }
}

#[test]
fn logs_connections_mosquitto_style() {
    if !clients() {
        return;
    }
    let mut b = TestBroker::mq(Conf::new());
    pub_(b.port(), &["-t", "x", "-m", "y", "-i", "logme", "-k", "30"]);
    b.wait_log("Client logme disconnected.");
    b.signal(libc::SIGTERM);
    let _ = b.wait_exit(Duration::from_secs(5));
    let err = b.log();
    let line = err
        .lines()
        .find(|l| l.contains("New client connected"))
        .unwrap_or_default();
    let (epoch, rest) = line.split_once(": ").unwrap_or_default();
    assert!(epoch.parse::<u64>().is_ok(), "{line}");
    assert!(
        rest.starts_with("New client connected from 127.0.0.1"),
        "{line}"
    );
    assert!(rest.ends_with(" as logme (p2, c1, k30)."), "{line}");
    assert!(err.contains("Client logme disconnected."), "{err}");
}

#[test]
fn acknowledged_messages_survive_kill_9() {
    if !clients() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "persistence true\npersistence_location {}",
        dir.path().join("data").display()
    );
    let mut b = TestBroker::mq(Conf::new().line(&extra));
    let port = b.port();
    assert_eq!(
        sub(port, &["-c", "-i", "keeper", "-q", "2", "-t", "p/#", "-E"]),
        ""
    );
    pub_(port, &["-t", "p/1", "-m", "acked-q1", "-q", "1"]);
    pub_(port, &["-t", "p/2", "-m", "acked-q2", "-q", "2"]);
    pub_(port, &["-t", "ret/x", "-m", "retained", "-q", "1", "-r"]);
    // mosquitto_pub exited after PUBACK/PUBCOMP: the broker acknowledged. Kill it at once.
    b.restart();
    let out = sub(
        port,
        &[
            "-c", "-i", "keeper", "-q", "2", "-t", "p/#", "-C", "2", "-v", "-W", "5",
        ],
    );
    assert_eq!(out, "p/1 acked-q1\np/2 acked-q2\n");
    assert_eq!(
        sub(port, &["-t", "ret/#", "-C", "1", "-W", "5"]),
        "retained\n"
    );
}

#[test]
fn sighup_applies_new_queue_limits() {
    if !clients() {
        return;
    }
    let mut b = TestBroker::mq(Conf::new().line("max_queued_messages 2\nmax_inflight_messages 1"));
    let port = b.port();
    let count = |port| {
        let out = sub(port, &["-c", "-i", "q", "-q", "1", "-t", "lim", "-W", "2"]);
        out.lines().count()
    };
    assert_eq!(
        sub(port, &["-c", "-i", "q", "-q", "1", "-t", "lim", "-E"]),
        ""
    );
    for i in 0..6 {
        pub_(port, &["-t", "lim", "-m", &i.to_string(), "-q", "1"]);
    }
    assert_eq!(count(port), 2, "queue limit 2");
    b.set_conf(Conf::new().line("max_queued_messages 5\nmax_inflight_messages 1"));
    b.reload();
    for i in 0..6 {
        pub_(port, &["-t", "lim", "-m", &i.to_string(), "-q", "1"]);
    }
    assert_eq!(count(port), 5, "queue limit 5 after SIGHUP");
}

#[test]
fn repeated_p_listens_on_every_port_and_config_listeners_win() {
    let (a, b) = (free_port(), free_port());
    let mut cmd = Command::new(mq_path());
    cmd.args(["broker", "-p", &a.to_string(), "-p", &b.to_string()]);
    let _g = ChildGuard::spawn(&mut cmd);
    wait_for_port(a);
    wait_for_port(b);
    drop(_g);
    let dir = tempfile::tempdir().unwrap();
    let (c, ignored) = (free_port(), free_port());
    let conf = dir.path().join("mq.conf");
    std::fs::write(
        &conf,
        format!("listener {c} 127.0.0.1\nallow_anonymous true\n"),
    )
    .unwrap();
    let mut cmd = Command::new(mq_path());
    cmd.args(["broker", "-p", &ignored.to_string(), "-c"])
        .arg(&conf);
    let _g = ChildGuard::spawn(&mut cmd);
    wait_for_port(c);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", ignored)).is_err(),
        "-p ignored"
    );
}
