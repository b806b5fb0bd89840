//! `mq passwd`'s interface: mosquitto_passwd's flags, conflicts, prompts and exit statuses.

mod common;

use common::{Peer, mq_process, path, require};
use mq::broker::security::password::PasswordFile;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::{Output, Stdio};

fn mq_passwd(args: &[&str], stdin: &str) -> Output {
    let mut child = mq_process()
        .arg("passwd")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn create_add_update_delete() {
    let dir = tempfile::tempdir().unwrap();
    let pw = path(&dir, "pw");
    let f = pw.to_str().unwrap();
    assert!(
        mq_passwd(&["-c", "-b", f, "alice", "one"], "")
            .status
            .success()
    );
    assert_eq!(
        std::fs::metadata(&pw).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(mq_passwd(&["-b", f, "bob", "two"], "").status.success());
    assert!(mq_passwd(&["-b", f, "alice", "three"], "").status.success());
    let file = PasswordFile::load(&pw).unwrap();
    assert_eq!(file.len(), 2);
    assert!(file.verify("alice", b"three") && file.verify("bob", b"two"));

    assert!(mq_passwd(&["-D", f, "alice"], "").status.success());
    let file = PasswordFile::load(&pw).unwrap();
    assert!(!file.contains("alice") && file.verify("bob", b"two"));

    let out = mq_passwd(&["-D", f, "alice"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("User alice not found"),
        "{}",
        stderr(&out)
    );

    // -c overwrites.
    assert!(
        mq_passwd(&["-c", "-b", f, "carol", "c"], "")
            .status
            .success()
    );
    let file = PasswordFile::load(&pw).unwrap();
    assert_eq!(file.len(), 1);
    assert!(file.verify("carol", b"c"));
    // No temporary files left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn prompts_read_two_lines_from_a_non_terminal_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let pw = path(&dir, "pw");
    let f = pw.to_str().unwrap();
    let out = mq_passwd(&["-c", f, "alice"], "s3cret\ns3cret\n");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(PasswordFile::load(&pw).unwrap().verify("alice", b"s3cret"));

    let out = mq_passwd(&[f, "alice"], "one\ntwo\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("Passwords do not match"));
    let out = mq_passwd(&[f, "alice"], "\n\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("Empty password"));
    let out = mq_passwd(&[f, "alice"], "only-one\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        PasswordFile::load(&pw).unwrap().verify("alice", b"s3cret"),
        "unchanged"
    );
}

#[test]
fn upgrade_hashes_a_plain_text_file_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let pw = path(&dir, "pw");
    std::fs::write(&pw, "# plain\nalice:secret\n\nbob:pa:ss\n").unwrap();
    let out = mq_passwd(&["-U", pw.to_str().unwrap()], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&pw).unwrap();
    assert!(text.starts_with("# plain\nalice:$7$101$"), "{text}");
    let file = PasswordFile::load(&pw).unwrap();
    assert!(file.verify("alice", b"secret") && file.verify("bob", b"pa:ss"));
}

#[test]
fn bad_usernames_and_flag_conflicts_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let pw = path(&dir, "pw");
    let f = pw.to_str().unwrap();
    for (args, why) in [
        (vec!["-c", "-b", f, "al:ice", "x"], "':'"),
        (vec!["-c", "-b", f, "al\x07ice", "x"], "control"),
        (vec!["-c", "-D", f, "alice"], "cannot be used"),
        (vec!["-c", "-U", f], "cannot be used"),
        (vec!["-D", "-U", f], "cannot be used"),
        (vec!["-b", "-D", f, "alice", "x"], "cannot be used"),
        (vec!["-b", f, "alice"], "required"),
        (vec![f, "alice", "x"], "-b"),
        (vec!["-U", f, "alice"], "cannot be used"),
        (vec!["-H", "md5", "-b", f, "a", "x"], "md5"),
        (vec!["-I", "0", "-b", f, "a", "x"], "0"),
        (
            vec!["-b", "/nonexistent/dir/pw", "alice", "x"],
            "Unable to open",
        ),
    ] {
        let out = mq_passwd(&args, "");
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(why), "{args:?}: {}", stderr(&out));
    }
    assert!(!pw.exists());
}

#[test]
fn prompts_on_a_terminal_without_echo() {
    if !require(&[Peer::Python3]) {
        return;
    }
    // python3's pty module gives the command a real terminal to prompt on. It answers each
    // prompt once it has been printed and the command has turned echo off (what a person
    // typing would see), then reads to the end (EIO once the command is gone).
    const SCRIPT: &str = r#"
import os, pty, select, sys, termios, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = b""
def read_until(want=None):
    """Reads until `want` has been printed, or (None) to the end; 10 s at most."""
    global out
    end = time.time() + 10
    while (want is None or want not in out) and time.time() < end:
        if not select.select([fd], [], [], end - time.time())[0]:
            break
        try:
            chunk = os.read(fd, 1000)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
def answer():
    """Types the password once echo is off (the master reports the terminal's modes)."""
    end = time.time() + 10
    while termios.tcgetattr(fd)[3] & termios.ECHO and time.time() < end:
        time.sleep(0.01)
    os.write(fd, b"tty-secret\n")
read_until(b"Password: "); answer()
read_until(b"Reenter password: "); answer()
read_until()
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode() + "\nstatus=%d" % status)
"#;
    let dir = tempfile::tempdir().unwrap();
    let pw = path(&dir, "pw");
    let out = std::process::Command::new("python3")
        .args(["-c", SCRIPT, env!("CARGO_BIN_EXE_mq"), "passwd", "-c"])
        .arg(&pw)
        .arg("alice")
        .output()
        .expect("python3");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Password: ") && text.contains("Reenter password: "),
        "{text}"
    );
    assert!(!text.contains("tty-secret"), "password echoed: {text}");
    assert!(text.ends_with("status=0"), "{text}");
    assert!(
        PasswordFile::load(&pw)
            .unwrap()
            .verify("alice", b"tty-secret")
    );
}
