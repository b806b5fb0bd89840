//! The real `mq broker` binary driven by Debian's mosquitto_pub and mosquitto_sub, unchanged.
//! Each test skips with a notice when the mosquitto clients are not installed.

mod common;

use common::*;
use std::process::Command;
use std::time::Duration;

fn clients() -> bool {
    have("mosquitto_pub") && have("mosquitto_sub")
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

fn config_file(dir: &std::path::Path, port: u16, extra: &str) -> std::path::PathBuf {
    let path = dir.join("mq.conf");
    // A config with listeners refuses anonymous clients unless it says so (mosquitto 2.0).
    let text = format!("listener {port} 127.0.0.1\nallow_anonymous true\n{extra}");
    std::fs::write(&path, text).unwrap();
    path
}

fn spawn_with_config(conf: &std::path::Path, port: u16) -> ChildGuard {
    let mut cmd = Command::new(mq_path());
    cmd.args(["broker", "-c"]).arg(conf);
    let g = ChildGuard::spawn(&mut cmd);
    wait_for_port(port);
    g
}

#[test]
fn qos_1_and_2_reach_a_persistent_mosquitto_sub_session() {
    if !clients() {
        return;
    }
    let (_b, port) = spawn_mq_broker(&[]);
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
    let (_b, port) = spawn_mq_broker(&[]);
    let mut s = Command::new("mosquitto_sub");
    s.args(["-p", &port.to_string(), "-t", "live/+/x", "-C", "1", "-v"]);
    let s = ChildGuard::spawn(&mut s);
    // Publish until the subscriber, subscribed at some point, has received one message.
    let mut s = s;
    for _ in 0..50 {
        pub_(port, &["-t", "live/a/x", "-m", "hello"]);
        if s.wait_timeout(Duration::from_millis(100)).is_some() {
            break;
        }
    }
    assert_eq!(s.output(Duration::from_secs(1)), "live/a/x hello\n");
}

#[test]
fn retained_message_is_kept_and_removed_by_empty_retained_publish() {
    if !clients() {
        return;
    }
    let (_b, port) = spawn_mq_broker(&[]);
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
    let (_b, port) = spawn_mq_broker(&[]);
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
    std::thread::sleep(Duration::from_millis(700));
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
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let conf = config_file(dir.path(), port, "sys_interval 1\n");
    let _b = spawn_with_config(&conf, port);
    let version = sub(port, &["-t", "$SYS/broker/version", "-C", "1", "-W", "5"]);
    assert!(version.starts_with("mq version "), "{version:?}");
    let uptime = sub(port, &["-t", "$SYS/broker/uptime", "-C", "2", "-W", "5"]);
    assert!(
        uptime.lines().all(|l| l.ends_with(" seconds")),
        "{uptime:?}"
    );
    let all = sub(port, &["-t", "$SYS/#", "-C", "16", "-W", "5", "-v"]);
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
    let (_b, port) = spawn_mq_broker(&[]);
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
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let conf = config_file(dir.path(), port, "max_queued_messages 10\n");
        let mut b = spawn_with_config(&conf, port);
        b.signal(libc::SIGHUP);
        std::thread::sleep(Duration::from_millis(200));
        wait_for_port(port);
        b.signal(sig);
        let st = b.wait_timeout(Duration::from_secs(5)).expect("exits");
        assert_eq!(st.code(), Some(0));
        let mut err = String::new();
        if let Some(mut e) = b.0.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        assert!(err.contains("Reloading config."), "{err}");
        assert!(err.contains("terminating"), "{err}");
    }
}

#[test]
fn logs_connections_mosquitto_style() {
    if !clients() {
        return;
    }
    let (mut b, port) = spawn_mq_broker(&[]);
    pub_(port, &["-t", "x", "-m", "y", "-i", "logme", "-k", "30"]);
    std::thread::sleep(Duration::from_millis(200));
    b.signal(libc::SIGTERM);
    let _ = b.wait_timeout(Duration::from_secs(5));
    let mut err = String::new();
    if let Some(mut e) = b.0.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut err);
    }
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
    let port = free_port();
    let extra = format!(
        "persistence true\npersistence_location {}\n",
        dir.path().join("data").display()
    );
    let conf = config_file(dir.path(), port, &extra);
    let b = spawn_with_config(&conf, port);
    assert_eq!(
        sub(port, &["-c", "-i", "keeper", "-q", "2", "-t", "p/#", "-E"]),
        ""
    );
    pub_(port, &["-t", "p/1", "-m", "acked-q1", "-q", "1"]);
    pub_(port, &["-t", "p/2", "-m", "acked-q2", "-q", "2"]);
    pub_(port, &["-t", "ret/x", "-m", "retained", "-q", "1", "-r"]);
    // mosquitto_pub exited after PUBACK/PUBCOMP: the broker acknowledged. Kill it at once.
    b.signal(libc::SIGKILL);
    drop(b);
    let _b = spawn_with_config(&conf, port);
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
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let conf = config_file(
        dir.path(),
        port,
        "max_queued_messages 2\nmax_inflight_messages 1\n",
    );
    let b = spawn_with_config(&conf, port);
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
    config_file(
        dir.path(),
        port,
        "max_queued_messages 5\nmax_inflight_messages 1\n",
    );
    b.signal(libc::SIGHUP);
    std::thread::sleep(Duration::from_millis(300));
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
    let conf = config_file(dir.path(), c, "");
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
