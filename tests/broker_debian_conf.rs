//! `mq broker` on mosquitto.conf as Debian ships it: the stock file with its paths moved into a
//! temporary folder, the stock file itself as root, the logging and daemon options it uses, and
//! what a bad file says (file, line, option; non-zero exit), with and without `--test-config`.

mod common;

use common::clients::DebugSub;
use common::peers::host_lacks;
use common::{ChildGuard, PATIENCE, Peer, free_port, mq, mq_process, require, wait_until};
use std::path::{Path, PathBuf};
use std::process::Command;

const STOCK: &str = "/etc/mosquitto";

/// Debian's /etc/mosquitto, or `None` (with the skip note, or a failure under CI).
fn stock_dir() -> Option<PathBuf> {
    if !require(&[Peer::Mosquitto, Peer::MosquittoClients]) {
        return None;
    }
    let dir = PathBuf::from(STOCK);
    if !dir.join("mosquitto.conf").is_file() {
        host_lacks("Debian's /etc/mosquitto/mosquitto.conf (apt-get install mosquitto)");
        return None;
    }
    Some(dir)
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The stock file with only its paths moved under `root`: every line that names a path is one
/// of the four the package uses, and each is pointed at the same place inside `root`.
fn moved_paths(text: &str, root: &Path) -> String {
    let mut moved = 0;
    let out: Vec<String> = text
        .lines()
        .map(|line| {
            let path_at = [
                "pid_file ",
                "persistence_location ",
                "log_dest file ",
                "include_dir ",
            ]
            .iter()
            .find_map(|p| line.strip_prefix(p).map(|rest| (*p, rest)));
            match path_at {
                Some((option, path)) => {
                    moved += 1;
                    format!(
                        "{option}{}",
                        root.join(path.trim_start_matches('/')).display()
                    )
                }
                None => line.to_string(),
            }
        })
        .collect();
    assert_eq!(moved, 4, "the stock file's paths changed:\n{text}");
    out.join("\n") + "\n"
}

/// Reads `path` as text, empty when it does not exist yet.
fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// The user id the process `pid` runs as.
fn uid_of(pid: u32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Publishes `payload` on `topic` with mosquitto_pub and checks `sub` gets it.
fn routes(port: u16, sub: &DebugSub, topic: &str, payload: &str) {
    let st = Command::new(Peer::MosquittoClients.program("mosquitto_pub"))
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-q", "1"])
        .args(["-t", topic, "-m", payload])
        .status()
        .unwrap();
    assert!(st.success());
    assert!(
        sub.wait_for(&format!("{topic} {payload}")),
        "{:?}",
        sub.lines()
    );
}

#[test]
fn debian_stock_config_with_its_paths_moved_logs_writes_its_pid_and_routes() {
    let Some(stock) = stock_dir() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let etc = root.join("etc/mosquitto");
    copy_dir(&stock, &etc);
    for d in ["var/log/mosquitto", "var/lib/mosquitto", "run/mosquitto"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    let conf = etc.join("mosquitto.conf");
    std::fs::write(&conf, moved_paths(&read(&conf), root)).unwrap();
    // The one addition, where Debian says local settings go: a free port open to anyone.
    let port = free_port();
    std::fs::write(
        etc.join("conf.d/test.conf"),
        format!("listener {port} 127.0.0.1\nallow_anonymous true\n"),
    )
    .unwrap();

    let check = mq()
        .args(["broker", "--test-config", "-c"])
        .arg(&conf)
        .output();
    let check = check.unwrap();
    assert!(check.status.success(), "{check:?}");

    let log = root.join("var/log/mosquitto/mosquitto.log");
    let pid_file = root.join("run/mosquitto/mosquitto.pid");
    let mut b = ChildGuard::spawn(mq_process().args(["broker", "-c"]).arg(&conf));
    assert!(
        wait_until(|| read(&log).contains(" running")),
        "log: {}\nstderr: {}",
        read(&log),
        b.stderr.text()
    );
    assert!(read(&log).contains(&format!("Opening ipv4 listen socket on port {port}.")));
    assert!(
        !b.stderr.contains("running"),
        "log_dest file replaces stderr"
    );
    assert_eq!(read(&pid_file).trim(), b.id().to_string());
    if is_root() {
        // No `user` line: as mosquitto, it gives root up for the `mosquitto` user.
        let expected = Command::new("id")
            .args(["-u", "mosquitto"])
            .output()
            .unwrap();
        let expected = String::from_utf8_lossy(&expected.stdout)
            .trim()
            .parse()
            .ok();
        assert_eq!(uid_of(b.id()), expected.or(Some(65534)));
    }

    let sub = DebugSub::ready(port, "debian-sub", &["-t".into(), "debian/#".into()]);
    routes(port, &sub, "debian/stock", "routed");
    assert!(wait_until(|| read(&log).contains("New client connected")));

    b.signal(libc::SIGTERM);
    assert_eq!(b.wait_timeout(PATIENCE).and_then(|s| s.code()), Some(0));
    assert!(read(&log).contains(" terminating"), "{}", read(&log));
    let store = root.join("var/lib/mosquitto/mq.db");
    assert!(store.is_file());
    if is_root() {
        // The store belongs to the user the broker became, as mosquitto's own would.
        use std::os::unix::fs::MetadataExt;
        let owner = std::fs::metadata(&store).unwrap().uid();
        assert_ne!(owner, 0, "the store stayed root's");
    }
    if !is_root() {
        // As root the broker runs as `mosquitto` by now and may not remove it, as mosquitto.
        assert!(!pid_file.exists());
    }
}

#[test]
fn as_root_the_stock_file_itself_starts() {
    let Some(_) = stock_dir() else { return };
    if !is_root() {
        host_lacks("root (the stock file writes /run/mosquitto and /var/log/mosquitto)");
        return;
    }
    // The stock file has no listener: mosquitto's local-only listener on 1883.
    if std::net::TcpStream::connect(("127.0.0.1", 1883)).is_ok() {
        host_lacks("a free port 1883 (something listens there: `systemctl stop mosquitto`)");
        return;
    }
    // What Debian's unit does before each start (ExecStartPre).
    for dir in ["/run/mosquitto", "/var/log/mosquitto"] {
        if !Path::new(dir).exists() {
            std::fs::create_dir_all(dir).unwrap();
            let _ = Command::new("chown").args(["mosquitto", dir]).status();
        }
    }
    let log = Path::new("/var/log/mosquitto/mosquitto.log");
    let before = read(log).len();
    let store = Path::new("/var/lib/mosquitto/mq.db");
    let store_existed = store.exists();
    let mut b = ChildGuard::spawn(
        mq_process()
            .args(["broker", "-c"])
            .arg(Path::new(STOCK).join("mosquitto.conf")),
    );
    let started = wait_until(|| {
        read(log)
            .get(before..)
            .is_some_and(|l| l.contains(" running"))
    });
    let logged = read(log).get(before..).unwrap_or_default().to_string();
    assert!(started, "log: {logged}\nstderr: {}", b.stderr.text());
    assert!(
        logged.contains("Opening ipv4 listen socket on port 1883."),
        "{logged}"
    );
    let pid = read(Path::new("/run/mosquitto/mosquitto.pid"));
    assert_eq!(pid.trim(), b.id().to_string());
    let sub = DebugSub::ready(1883, "stock-sub", &["-t".into(), "stock/#".into()]);
    routes(1883, &sub, "stock/file", "itself");
    b.signal(libc::SIGTERM);
    assert_eq!(b.wait_timeout(PATIENCE).and_then(|s| s.code()), Some(0));
    if !store_existed {
        let _ = std::fs::remove_file(store);
    }
}

/// Runs `mq broker [--test-config] -c FILE` on `text`; the exit code and stderr, both ways.
fn refused(text: &str) -> Vec<(Option<i32>, String)> {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("bad.conf");
    std::fs::write(&conf, text).unwrap();
    [vec!["broker", "-c"], vec!["broker", "--test-config", "-c"]]
        .iter()
        .map(|args| {
            let out = mq()
                .args(args)
                .arg(&conf)
                .timeout(std::time::Duration::from_secs(10))
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr).into_owned();
            (out.status.code(), err)
        })
        .collect()
}

#[test]
fn bad_input_names_the_file_the_line_and_the_option() {
    let port = free_port();
    let head = format!("# ok\nlistener {port} 127.0.0.1\n");
    let cases = [
        ("frobnicate 1\n", "bad.conf:3: unknown option 'frobnicate'"),
        (
            "log_dset stdout\n",
            "bad.conf:3: unknown option 'log_dset' (did you mean log_dest?)",
        ),
        (
            "persistance true\n",
            "bad.conf:3: unknown option 'persistance'",
        ),
        (
            "log_dest pigeon\n",
            "bad.conf:3: invalid log_dest value 'pigeon'",
        ),
        (
            "log_timestamp yes\n",
            "bad.conf:3: invalid log_timestamp value 'yes'",
        ),
        (
            "autosave_interval soon\n",
            "bad.conf:3: invalid autosave_interval value 'soon'",
        ),
        (
            "log_timestamp_format %Y-%\n",
            "bad.conf:3: invalid log_timestamp_format value",
        ),
        (
            "include_dir /nonexistent/mq.d\n",
            "bad.conf:3: cannot read include_dir /nonexistent/mq.d",
        ),
        (
            "mount_point site/\n",
            "bad.conf:3: mount_point: not supported yet",
        ),
        (
            "memory_limit 100\n",
            "bad.conf:3: memory_limit 100: not supported",
        ),
    ];
    for (line, expected) in cases {
        for (code, err) in refused(&format!("{head}{line}")) {
            assert_eq!(code, Some(1), "{line}: {err}");
            assert!(
                err.contains(expected),
                "{line}: expected {expected:?} in {err:?}"
            );
        }
    }
}

#[test]
fn as_root_a_user_that_does_not_exist_is_an_error() {
    if !is_root() {
        host_lacks("root (a missing `user` only matters when the broker starts as root)");
        return;
    }
    let port = free_port();
    let text = format!("listener {port} 127.0.0.1\n\nuser no-such-user-for-mq\n");
    for (code, err) in refused(&text) {
        assert_eq!(code, Some(1), "{err}");
        assert!(
            err.contains("bad.conf:3: user 'no-such-user-for-mq' does not exist"),
            "{err}"
        );
    }
}

#[test]
fn test_config_checks_without_starting() {
    let dir = tempfile::tempdir().unwrap();
    // The port is taken: a check must not try to listen.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let conf = dir.path().join("ok.conf");
    std::fs::write(
        &conf,
        format!("listener {port} 127.0.0.1\nautosave_interval 60\n"),
    )
    .unwrap();
    let out = mq()
        .args(["broker", "--test-config", "-c"])
        .arg(&conf)
        .output();
    let out = out.unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("configuration OK"), "{stdout}");
    // The files it names are loaded too.
    std::fs::write(&conf, "password_file /nonexistent/pw\n").unwrap();
    let out = mq()
        .args(["broker", "--test-config", "-c"])
        .arg(&conf)
        .output();
    let out = out.unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/pw"));
}

/// Starts `mq broker -c` on `text` (a listener on a free port is added) and waits until it
/// answers on that port. It stays root when started as root: as the `mosquitto` user it could
/// not read its own config again on SIGHUP, in a private temporary folder.
fn broker(dir: &Path, text: &str) -> (ChildGuard, u16) {
    let port = free_port();
    let conf = dir.join("mq.conf");
    let text = format!("user root\nlistener {port} 127.0.0.1\nallow_anonymous true\n{text}");
    std::fs::write(&conf, text).unwrap();
    let b = ChildGuard::spawn(mq_process().args(["broker", "-c"]).arg(&conf));
    assert!(
        wait_until(|| std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()),
        "{}",
        b.stderr.text()
    );
    (b, port)
}

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
