//! `mq passwd` files work with mosquitto 2.0, and mosquitto_passwd files verify with
//! `PasswordFile`: tested both ways with Debian's tools.

mod common;

use common::{Conf, Peer, TestBroker, mq_process, path, require};
use mq::broker::security::password::PasswordFile;
use std::process::{Command, Output, Stdio};

fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null()).output().expect("run command")
}

/// Runs `mq passwd ARGS`; true when it succeeds.
fn mq_passwd(args: &[&str]) -> bool {
    run(mq_process().arg("passwd").args(args)).status.success()
}

fn pub_status(port: u16, user: &str, pass: &str) -> i32 {
    let out = run(Command::new("mosquitto_pub")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-t",
            "t",
            "-m",
            "x",
        ])
        .args(["-u", user, "-P", pass]));
    out.status.code().unwrap_or(-1)
}

#[test]
fn mosquitto_accepts_files_written_by_mq_passwd() {
    if !require(&[Peer::Mosquitto, Peer::MosquittoClients]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pw = path(&dir, "pw");
    let pw_s = pw.to_str().unwrap();
    assert!(mq_passwd(&["-c", "-b", pw_s, "alice", "secret"]));
    assert!(mq_passwd(&["-b", pw_s, "bob", "hunter2"]));
    assert!(mq_passwd(&["-H", "sha512", "-b", pw_s, "carol", "pw3"]));
    assert!(mq_passwd(&["-I", "1000", "-b", pw_s, "dave", "pw4"]));
    let text = std::fs::read_to_string(&pw).unwrap();
    assert!(
        text.contains("carol:$6$") && text.contains("dave:$7$1000$"),
        "{text}"
    );

    let broker = TestBroker::mosquitto(
        Conf::bare().line(&format!("allow_anonymous false\npassword_file {pw_s}")),
    );
    let p = broker.port();
    assert_eq!(pub_status(p, "alice", "secret"), 0);
    assert_eq!(pub_status(p, "bob", "hunter2"), 0);
    assert_eq!(pub_status(p, "carol", "pw3"), 0);
    assert_eq!(pub_status(p, "dave", "pw4"), 0);
    // mosquitto 2.0.11 answers a wrong password with CONNACK 5 (not authorised), and
    // mosquitto_pub exits with the CONNACK code.
    assert_eq!(pub_status(p, "alice", "wrong"), 5);
    assert_eq!(pub_status(p, "nobody", "secret"), 5);
}

#[test]
fn password_file_verifies_mosquitto_passwd_output() {
    if !require(&[Peer::MosquittoPasswd]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pw = path(&dir, "pw");
    let pw_s = pw.to_str().unwrap();
    let ok = |args: &[&str]| {
        let out = run(Command::new("mosquitto_passwd").args(args));
        assert!(out.status.success(), "mosquitto_passwd {args:?}: {out:?}");
    };
    ok(&["-c", "-b", pw_s, "alice", "secret"]);
    ok(&["-H", "sha512", "-b", pw_s, "bob", "hunter2"]);
    ok(&[
        "-H",
        "sha512-pbkdf2",
        "-b",
        pw_s,
        "carol",
        "with space:colon",
    ]);
    let file = PasswordFile::load(&pw).unwrap();
    assert_eq!(file.len(), 3);
    assert!(file.verify("alice", b"secret"));
    assert!(file.verify("bob", b"hunter2"));
    assert!(file.verify("carol", b"with space:colon"));
    assert!(!file.verify("alice", b"hunter2"));
    assert!(!file.verify("bob", b"secret"));
}

#[test]
fn mosquitto_passwd_edits_files_written_by_mq_passwd() {
    if !require(&[Peer::MosquittoPasswd]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pw = path(&dir, "pw");
    let pw_s = pw.to_str().unwrap();
    assert!(mq_passwd(&["-c", "-b", pw_s, "alice", "secret"]));
    let out = run(Command::new("mosquitto_passwd").args(["-b", pw_s, "bob", "b"]));
    assert!(out.status.success(), "{out:?}");
    let out = run(Command::new("mosquitto_passwd").args(["-D", pw_s, "alice"]));
    assert!(out.status.success(), "{out:?}");
    let file = PasswordFile::load(&pw).unwrap();
    assert!(file.verify("bob", b"b") && !file.contains("alice"));
}
