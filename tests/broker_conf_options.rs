//! mosquitto.conf options of `mq broker`, each checked on a running broker: the log
//! destinations and formats, SIGHUP log rotation, systemd readiness, `bind_interface`,
//! `clientid_prefixes`, `upgrade_outgoing_qos`, `use_username_as_clientid`, and the options that
//! are accepted with a log line.

mod common;

use common::clients::DebugSub;
use common::conf_file::{broker, is_root, read};
use common::peers::host_lacks;
use common::{ChildGuard, PATIENCE, Peer, free_port, mq, mq_process, require, wait_until};

#[test]
fn log_dest_topic_publishes_log_lines_under_sys_broker_log() {
    if !require(&[Peer::MosquittoClients]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let text = "log_dest topic\nlog_dest stderr\nlog_type all\n";
    let (_b, port) = broker(dir.path(), text);
    let watcher = DebugSub::ready(
        port,
        "log-watcher",
        &["-t".into(), "$SYS/broker/log/#".into()],
    );
    let _other = DebugSub::ready(port, "topic-sub", &["-t".into(), "x/#".into()]);
    let seen = |prefix: &str, needle: &str| {
        wait_until(|| (watcher.lines().iter()).any(|l| l.starts_with(prefix) && l.contains(needle)))
    };
    assert!(
        seen(
            "$SYS/broker/log/N ",
            ": New client connected from 127.0.0.1"
        ),
        "{:?}",
        watcher.lines()
    );
    assert!(
        seen("$SYS/broker/log/M/subscribe ", ": topic-sub 1 x/#"),
        "{:?}",
        watcher.lines()
    );
    // Debug lines stay off the topic (publishing them would make more of them).
    assert!(
        !watcher
            .lines()
            .iter()
            .any(|l| l.starts_with("$SYS/broker/log/D"))
    );
}

#[test]
fn log_timestamp_options_shape_each_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = "log_dest stdout\nlog_timestamp_format %Y-%m-%dT%H:%M:%S\n";
    let (b, _) = broker(dir.path(), text);
    assert!(
        b.stdout
            .wait_until(PATIENCE, |l| l.iter().any(|l| l.ends_with(" running")))
    );
    let line = b
        .stdout
        .lines()
        .into_iter()
        .find(|l| l.ends_with(" running"))
        .unwrap();
    let (stamp, rest) = line.split_once(": ").unwrap();
    assert!(
        chrono::NaiveDateTime::parse_from_str(stamp, "%Y-%m-%dT%H:%M:%S").is_ok(),
        "{line}"
    );
    assert!(rest.starts_with("mq version "), "{line}");
    drop(b);
    let dir = tempfile::tempdir().unwrap();
    let (b, _) = broker(dir.path(), "log_dest stdout\nlog_timestamp false\n");
    assert!(
        b.stdout
            .wait_until(PATIENCE, |l| l.iter().any(|l| l.ends_with(" running")))
    );
    assert!(
        b.stdout
            .lines()
            .iter()
            .any(|l| l.starts_with("mq version "))
    );
}

#[test]
fn sighup_reopens_the_log_file_for_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("mq.log");
    let text = format!("log_dest file {}\n", log.display());
    let (b, port) = broker(dir.path(), &text);
    assert!(wait_until(|| read(&log).contains(" running")));
    let rotated = dir.path().join("mq.log.1");
    std::fs::rename(&log, &rotated).unwrap();
    b.signal(libc::SIGHUP);
    // "Reloading config." is the old file's last line; then the file is opened again.
    assert!(wait_until(|| read(&rotated).contains("Reloading config.")));
    assert!(wait_until(|| log.exists()), "{}", read(&rotated));
    let p = port.to_string();
    let publish = [
        "pub",
        "-p",
        &p,
        "-i",
        "after-rotation",
        "-t",
        "x",
        "-m",
        "y",
    ];
    mq().args(publish).assert().success();
    assert!(wait_until(|| read(&log).contains("as after-rotation")));
    assert!(!read(&rotated).contains("after-rotation"));
}

#[test]
fn bind_interface_limits_a_listener_to_one_interface() {
    if !is_root() {
        host_lacks("root (SO_BINDTODEVICE needs CAP_NET_RAW)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (b, _) = broker(dir.path(), "bind_interface lo\n");
    assert!(
        b.stderr
            .wait_until(PATIENCE, |l| l.iter().any(|l| l.ends_with(" running")))
    );
    drop(b);
    let port = free_port();
    let conf = dir.path().join("no-such-if.conf");
    let text = format!("listener {port} 127.0.0.1\nbind_interface nosuchif0\n");
    std::fs::write(&conf, text).unwrap();
    let out = mq().args(["broker", "-c"]).arg(&conf).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bind_interface nosuchif0"), "{err}");
}

#[test]
fn log_dest_syslog_sends_daemon_lines_to_the_system_logger() {
    let dir = tempfile::tempdir().unwrap();
    let socket_path = dir.path().join("log");
    let logger = std::os::unix::net::UnixDatagram::bind(&socket_path).unwrap();
    logger.set_read_timeout(Some(PATIENCE)).unwrap();
    let port = free_port();
    let conf = dir.path().join("mq.conf");
    let text = format!("user root\nlistener {port} 127.0.0.1\nlog_dest syslog\n");
    std::fs::write(&conf, text).unwrap();
    let b = ChildGuard::spawn(
        mq_process()
            .args(["broker", "-c"])
            .arg(&conf)
            .env("MQ_SYSLOG_SOCKET", &socket_path),
    );
    let mut lines = Vec::new();
    let mut buf = [0u8; 2048];
    while let Ok(n) = logger.recv(&mut buf) {
        let line = String::from_utf8_lossy(&buf[..n]).into_owned();
        let done = line.ends_with(" running");
        lines.push(line);
        if done {
            break;
        }
    }
    // Facility daemon (3 << 3) at notice (5), the process tagged, no timestamp of our own.
    let tag = format!(" mq[{}]: ", b.id());
    let running = lines.iter().find(|l| l.ends_with(" running"));
    let running = running.unwrap_or_else(|| panic!("{lines:?} {}", b.stderr.text()));
    assert!(running.starts_with("<29>"), "{running}");
    assert!(running.contains(&format!("{tag}mq version ")), "{running}");
    assert!(!b.stderr.contains("running"), "syslog replaces stderr");
}

#[test]
fn under_systemd_type_notify_the_broker_says_ready_once_it_serves() {
    let dir = tempfile::tempdir().unwrap();
    let socket_path = dir.path().join("notify");
    let systemd = std::os::unix::net::UnixDatagram::bind(&socket_path).unwrap();
    systemd.set_read_timeout(Some(PATIENCE)).unwrap();
    let port = free_port();
    let conf = dir.path().join("mq.conf");
    std::fs::write(&conf, format!("user root\nlistener {port} 127.0.0.1\n")).unwrap();
    let b = ChildGuard::spawn(
        mq_process()
            .args(["broker", "-c"])
            .arg(&conf)
            .env("NOTIFY_SOCKET", &socket_path),
    );
    let mut buf = [0u8; 64];
    let n = systemd.recv(&mut buf);
    let n = n.unwrap_or_else(|e| panic!("no notification ({e}): {}", b.stderr.text()));
    assert_eq!(&buf[..n], b"READY=1");
    // Ready means serving: the port answers already.
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
}

#[test]
fn clientid_prefixes_refuse_other_ids_as_not_authorized() {
    let dir = tempfile::tempdir().unwrap();
    let (_b, port) = broker(dir.path(), "clientid_prefixes sensor-\n");
    let p = port.to_string();
    let publish = |id: &str, version: &str| {
        let args = [
            "pub", "-p", &p, "-V", version, "-i", id, "-t", "t", "-m", "m",
        ];
        let out = mq().args(args).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(publish("sensor-1", "mqttv311").0, Some(0));
    assert_eq!(publish("sensor-2", "mqttv5").0, Some(0));
    // 3.1.1: CONNACK 5, not authorised; MQTT 5: 0x87 (135), not authorized.
    let (code, err) = publish("laptop", "mqttv311");
    assert_eq!(code, Some(5), "{err}");
    let (code, err) = publish("laptop", "mqttv5");
    assert_eq!(code, Some(135), "{err}");
    assert!(err.to_lowercase().contains("not authori"), "{err}");
}

#[test]
fn an_option_with_nothing_to_do_is_logged_once_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = "autosave_interval 60\nset_tcp_nodelay true\nautosave_on_changes false\n";
    let (b, _) = broker(dir.path(), text);
    assert!(
        b.stderr
            .wait_until(PATIENCE, |l| l.iter().any(|l| l.ends_with(" running")))
    );
    // Lines 1-3 of the file are the helper's; the test's own text starts at line 4.
    let conf = dir.path().join("mq.conf");
    let expected = format!(
        "Notice: {}:4: autosave_interval: ignored: the store is written on every acknowledged \
         change.",
        conf.display()
    );
    assert_eq!(
        b.stderr.count(|l| l.ends_with(&expected)),
        1,
        "{}",
        b.stderr.text()
    );
    assert_eq!(b.stderr.count(|l| l.contains("set_tcp_nodelay")), 0);
    assert_eq!(b.stderr.count(|l| l.contains(":6: autosave_on_changes")), 1);
}

#[test]
fn upgrade_outgoing_qos_delivers_at_the_subscription_qos() {
    if !require(&[Peer::MosquittoClients]) {
        return;
    }
    for (text, expected) in [("", "q0"), ("upgrade_outgoing_qos true\n", "q1")] {
        let dir = tempfile::tempdir().unwrap();
        let (_b, port) = broker(dir.path(), text);
        // DebugSub subscribes at QoS 1; the message is published at QoS 0.
        let sub = DebugSub::ready(port, "upgraded", &["-t".into(), "up/#".into()]);
        let p = port.to_string();
        mq().args(["pub", "-p", &p, "-q", "0", "-t", "up/x", "-m", "m"])
            .assert()
            .success();
        assert!(sub.wait_for("up/x m"), "{:?}", sub.lines());
        let received = sub
            .lines()
            .into_iter()
            .find(|l| l.contains("received PUBLISH"));
        let received = received.unwrap_or_default();
        assert!(
            received.contains(&format!("(d0, {expected},")),
            "{text:?}: {received}"
        );
    }
}

#[test]
fn use_username_as_clientid_replaces_the_id_and_needs_a_user_name() {
    let dir = tempfile::tempdir().unwrap();
    let (b, port) = broker(dir.path(), "use_username_as_clientid true\n");
    let p = port.to_string();
    let publish = |extra: &[&str]| {
        let mut args = vec!["pub", "-p", &p, "-V", "mqttv311", "-i", "given-id"];
        args.extend(extra);
        args.extend(["-t", "t", "-m", "m"]);
        mq().args(args).output().unwrap().status.code()
    };
    assert_eq!(publish(&["-u", "alice"]), Some(0));
    let connected = |l: &str| l.contains("New client connected") && l.contains(" as alice ");
    assert!(
        b.stderr
            .wait_until(PATIENCE, |l| l.iter().any(|l| connected(l)))
    );
    assert_eq!(b.stderr.count(|l| l.contains("as given-id")), 0);
    // Without a user name: not authorized (CONNACK 5).
    assert_eq!(publish(&[]), Some(5));
}
