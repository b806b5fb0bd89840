//! `mq broker` on mosquitto.conf as Debian ships it: the stock file with its paths moved into a
//! temporary folder, and the stock file itself as root; what a bad file says (file, line,
//! option; non-zero exit), with and without `--test-config`.

mod common;

use common::clients::DebugSub;
use common::conf_file::{is_root, read, routes};
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

/// The user id the process `pid` runs as.
fn uid_of(pid: u32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
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
            "mount_point site/#\n",
            "bad.conf:3: invalid mount_point 'site/#': wildcard in topic name",
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
