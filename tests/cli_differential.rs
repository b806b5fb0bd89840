//! Differential tests: the same invocation through mosquitto_pub/sub/rr and through
//! `mq pub/sub/rr`, each against a fresh broker, comparing stdout bytes, exit statuses and (for
//! pub) what a reference subscriber received.
//!
//! The broker kinds come from `MQ_TEST_BROKERS` (see [`Kind::under_test`]): both `mosquitto`
//! and `mq broker` by default.

mod common;

use common::broker::{subscriber, unsubscriber};
use common::{Conf, Kind, PATIENCE, Peer, TestBroker, require};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Which implementation runs the command under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Mosquitto,
    Mq,
}

/// One row of a table.
struct Case {
    /// The tool and its arguments; `{P}` is the broker port, `{D}` the case's temp directory.
    args: &'static str,
    /// Bytes on stdin.
    stdin: &'static [u8],
    /// Messages a reference subscriber (`-t '#'`) should collect while the command runs (pub).
    observe: usize,
    /// Messages published (topic, payload) once the command is subscribed (sub).
    live: &'static [(&'static str, &'static str)],
    /// False when mosquitto prints its usage on stdout and we print a hint on stderr instead.
    compare_stdout: bool,
    /// A mosquitto_sub invocation run afterwards to compare the broker's state.
    post: Option<&'static str>,
    /// False for a documented deviation in the exit status.
    compare_code: bool,
}

const fn case(args: &'static str) -> Case {
    Case {
        args,
        stdin: b"",
        observe: 0,
        live: &[],
        compare_stdout: true,
        post: None,
        compare_code: true,
    }
}

const fn pub_case(args: &'static str, observe: usize) -> Case {
    Case {
        observe,
        ..case(args)
    }
}

const fn stdin_case(args: &'static str, stdin: &'static [u8], observe: usize) -> Case {
    Case {
        stdin,
        observe,
        ..case(args)
    }
}

const fn live_case(args: &'static str, live: &'static [(&'static str, &'static str)]) -> Case {
    Case { live, ..case(args) }
}

const fn usage_case(args: &'static str) -> Case {
    Case {
        compare_stdout: false,
        ..case(args)
    }
}

/// `--remove-retained --retained-only`: mosquitto_sub stops reading at the first live message
/// (its own deletions coming back) but only disconnects if that deletion was not acknowledged
/// yet, so it usually hangs until `-W` (27). `mq sub` exits 0 there, once its deletions are
/// acknowledged; the output and the wiped store must still match.
const fn wipe_case(args: &'static str, post: &'static str) -> Case {
    Case {
        post: Some(post),
        compare_code: false,
        ..case(args)
    }
}

const fn post_case(args: &'static str, post: &'static str) -> Case {
    Case {
        post: Some(post),
        ..case(args)
    }
}

/// What one side produced.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    code: Option<i32>,
    stdout: String,
    observed: String,
    post: String,
}

fn split_args(s: &str, port: u16, dir: &Path) -> Vec<String> {
    // Single quotes group words, as in a shell; no other quoting is needed by the tables.
    let s = s
        .replace("{P}", &port.to_string())
        .replace("{D}", &dir.display().to_string());
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in s.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

fn command(side: Side, tool: &str, home: &Path) -> Command {
    let mut c = match side {
        Side::Mosquitto => Command::new(format!("mosquitto_{tool}")),
        Side::Mq => {
            let mut c = Command::new(env!("CARGO_BIN_EXE_mq"));
            c.arg(tool);
            c
        }
    };
    // No options file of the user's may leak into the comparison.
    c.env("HOME", home)
        .env("XDG_CONFIG_HOME", home)
        .env_remove("MQ_PASSWORD");
    c
}

fn mosquitto_pub(port: u16, args: &[&str]) {
    let st = Command::new("mosquitto_pub")
        .args(["-p", &port.to_string()])
        .args(args)
        .status()
        .expect("mosquitto_pub");
    assert!(st.success(), "setup publish {args:?} failed");
}

/// Retained messages every sub case starts with.
fn setup_retained(port: u16, dir: &Path) {
    let bin = dir.join("bin");
    std::fs::write(&bin, b"\x00\xffab").unwrap();
    mosquitto_pub(port, &["-t", "r/a", "-m", "hello", "-r", "-q", "1"]);
    mosquitto_pub(port, &["-t", "r/bin", "-f", bin.to_str().unwrap(), "-r"]);
    mosquitto_pub(
        port,
        &["-t", "r/j", "-m", "{\"t\": 21.5, \"ok\": true}", "-r"],
    );
    mosquitto_pub(port, &["-t", "r/sp", "-m", "with space", "-r"]);
}

fn wait_output(child: std::process::Child, limit: Duration) -> (Option<i32>, Vec<u8>) {
    let start = Instant::now();
    let mut child = child;
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().expect("output");
    (out.status.code(), out.stdout)
}

/// `"tst":"…"` holds the time of reception: mask it (2.0.11 also prints a stray `Z`).
fn mask_times(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("\"tst\":") {
        // `--pretty` puts a tab between the key and the value.
        let after = &rest[i + 6..];
        let skip = after.len() - after.trim_start_matches('\t').len() + 1;
        out.push_str(&rest[..i + 6 + skip]);
        rest = &rest[i + 6 + skip..];
        let end = rest.find('"').unwrap_or(rest.len());
        out.push_str("TIME");
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// A mosquitto_sub on `#` that records what the command under test published. A retained
/// probe message reaches it right after its SUBACK, so the test waits for that line instead of
/// guessing how long subscribing takes; the probe is left out of the record.
struct Observer {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Observer {
    fn start(port: u16, count: usize) -> Observer {
        use std::io::BufRead;
        mosquitto_pub(port, &["-t", "probe", "-m", "ready", "-r"]);
        let mut child = Command::new("mosquitto_sub")
            .args([
                "-p",
                &port.to_string(),
                "-t",
                "#",
                "-q",
                "2",
                "-W",
                "8",
                "-V",
                "5",
            ])
            .args([
                "-C",
                &(count + 1).to_string(),
                "-F",
                "%t|%q|%r|%l|%x|%C|%P|%E",
            ])
            .stdout(Stdio::piped())
            .spawn()
            .expect("observer");
        let stdout = child.stdout.take().expect("observer stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .split(b'\n')
                .map_while(Result::ok)
            {
                let _ = tx.send(String::from_utf8_lossy(&line).into_owned());
            }
        });
        // mosquitto_sub flushes after every message, so the probe line comes at once.
        let deadline = Instant::now() + Duration::from_secs(8);
        while let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            if line.starts_with("probe|") {
                break;
            }
        }
        Observer { child, lines: rx }
    }

    fn finish(self) -> String {
        let _ = wait_output(self.child, Duration::from_secs(9));
        let mut out = String::new();
        // The reader thread ends at EOF, which closes the channel.
        for line in self.lines.iter() {
            if !line.starts_with("probe|") {
                out.push_str(&line);
                out.push('\n');
            }
        }
        out
    }
}

/// Waits (bounded) until the broker has logged every `-t` subscription and `-U`
/// unsubscription in `args`: the command under test is then ready for live messages. A command
/// that never gets there shows up as a difference, so this does not fail by itself.
fn wait_subscribed(broker: &TestBroker, args: &[String]) {
    let values = |flag: &str| -> Vec<String> {
        args.windows(2)
            .filter(|w| w[0] == flag)
            .map(|w| w[1].clone())
            .collect()
    };
    let (subs, unsubs) = (values("-t"), values("-U"));
    broker.log_lines().wait_until(PATIENCE, |lines| {
        subs.iter()
            .all(|f| lines.iter().any(|l| subscriber(l, f).is_some()))
            && unsubs
                .iter()
                .all(|f| lines.iter().any(|l| unsubscriber(l, f).is_some()))
    });
}

fn run_side(kind: Kind, side: Side, tool: &str, case: &Case) -> Outcome {
    let broker = TestBroker::start(kind, Conf::new());
    let port = broker.port();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("file"), b"file\x00body\n").unwrap();
    if tool == "sub" {
        setup_retained(port, dir.path());
    }
    let observer = (case.observe > 0).then(|| Observer::start(port, case.observe));
    let args = split_args(case.args, port, dir.path());
    let mut child = command(side, tool, dir.path())
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn tool");
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(case.stdin);
    }
    if !case.live.is_empty() {
        wait_subscribed(&broker, &args);
        for (t, m) in case.live {
            if m.is_empty() {
                mosquitto_pub(port, &["-t", t, "-n"]);
            } else {
                mosquitto_pub(port, &["-t", t, "-m", m]);
            }
        }
    }
    let (code, stdout) = wait_output(child, Duration::from_secs(10));
    let observed = observer.map(Observer::finish).unwrap_or_default();
    let post = case
        .post
        .map(|p| {
            let c = Command::new("mosquitto_sub")
                .args(split_args(p, port, dir.path()))
                .stdout(Stdio::piped())
                .spawn()
                .expect("post");
            String::from_utf8_lossy(&wait_output(c, Duration::from_secs(5)).1).into_owned()
        })
        .unwrap_or_default();
    Outcome {
        code: if case.compare_code { code } else { None },
        stdout: if case.compare_stdout {
            mask_times(&String::from_utf8_lossy(&stdout))
        } else {
            String::new()
        },
        observed,
        post,
    }
}

fn run_table(tool: &str, cases: &[Case]) {
    let kinds = Kind::under_test();
    let mut peers = vec![Peer::MosquittoClients];
    peers.extend(kinds.iter().flat_map(|k| k.peers()));
    if !require(&peers) {
        return;
    }
    let mut failures = Vec::new();
    for kind in kinds {
        for case in cases {
            let want = run_side(kind, Side::Mosquitto, tool, case);
            let got = run_side(kind, Side::Mq, tool, case);
            if want != got {
                failures.push(format!(
                    "[{kind:?}] {tool} {}\n  mosquitto: {want:?}\n  mq:        {got:?}",
                    case.args
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn pub_matches_mosquitto_pub() {
    run_table(
        "pub",
        &[
            pub_case("-p {P} -t a/b -m hello", 1),
            pub_case("-p {P} -t a/b -m hello -q 1", 1),
            pub_case("-p {P} -t a/b -m hello -q 2", 1),
            pub_case("-p {P} -t a/b -m hello -r", 1),
            pub_case("-p {P} -t a/b -n", 1),
            pub_case("-p {P} -t a/b -m ''", 1),
            pub_case("-p {P} -t a/b -f {D}/file", 1),
            case("-p {P} -t a/b -f {D}/missing"),
            stdin_case("-p {P} -t a/b -s", b"multi\nline\n", 1),
            stdin_case("-p {P} -t a/b -s", b"", 0),
            stdin_case("-p {P} -t a/b -l", b"one\n\ntwo\r\nthree", 4),
            stdin_case("-p {P} -t a/b -l -q 1", b"x\ny\n", 2),
            // -M 1: with a wider window both tools may send the second line before the first
            // one's PUBCOMP, or not, depending on timing; one in flight makes the order fixed.
            stdin_case("-p {P} -t a/b -l -q 2 -M 1 -d -i lines", b"x\ny\n", 2),
            stdin_case("-p {P} -t a/b -l", b"", 0),
            pub_case("-p {P} -t a/b -m x --repeat 3", 3),
            pub_case("-p {P} -t a/b -m x --repeat 2 --repeat-delay 0.1", 2),
            pub_case("-p {P} -t a/b -m x -d -i dbg", 1),
            pub_case("-p {P} -t a/b -m x -d -i dbg -q 1", 1),
            pub_case("-p {P} -t a/b -m x -d -i dbg -q 2 --repeat 2", 2),
            case("-p {P} -t a/# -m x"),
            case("-p {P} -t a/+ -m x"),
            usage_case("-p {P} -t a/b"),
            usage_case("-p {P} -m x"),
            case("-p {P} -t a/b -m x -n"),
            case("-p {P} -t a/b -m x -c"),
            pub_case("-p {P} -t a/b -m x -c -i pers -q 1", 1),
            case("-p {P} -t a/b -m x -k 2"),
            case("-p {P} -t a/b -m x -i a -I b"),
            pub_case("-p {P} -t a/b -m x -I pfx", 1),
            case("-p {P} -t a/b -m x --repeat 0"),
            pub_case("-p {P} -t a/b -m x -V mqttv31 -i v31", 1),
            pub_case("-p {P} -t a/b -m x -V mqttv311", 1),
            pub_case("-p {P} -t a/b -m x -V mqttv5 -q 1", 1),
            pub_case(
                "-p {P} -t a/b -m x -V 5 -D publish content-type text/plain",
                1,
            ),
            case("-p {P} -t a/b -m x -V 5 -D connect receive-maximum 70000"),
            case("-p {P} -t a/b -m x -V 5 -D puback user-property a b"),
            case("-p {P} -t a/b -m x -V 7"),
            pub_case(
                "-p {P} -t a/b -m x --will-topic w --will-payload bye -k 5",
                1,
            ),
            case("-p {P} -t a/b -m x --will-topic w/#"),
            case("-p {P} -t a/b -m x -p 1"),
            case("-p {P} -t a/b -m x -p 1 --quiet"),
            case("-p {P} -t a/b -m x -h no.such.host.invalid"),
            pub_case("-L mqtt://127.0.0.1:{P}/a/url -m x", 1),
            pub_case("-p {P} -t a/b -m x -u user -P pass", 1),
            case("-p {P} -t a/b -m x -P pass"),
            case("-p {P} -t a/b -m x -q 3"),
            pub_case("-p {P} -t a/b -m x -V 5 -c -i sess -x 60", 1),
            pub_case("-p {P} -t a/b -m x -M 1 -q 1 --nodelay", 1),
            pub_case("-p {P} -t a/b -m x -A 127.0.0.1", 1),
            case("-p {P} -t a/b -m x --foo"),
        ],
    );
}

const LIVE: &[(&str, &str)] = &[("l/1", "live1"), ("l/2", ""), ("l/3", "live3")];

#[test]
fn sub_matches_mosquitto_sub() {
    run_table(
        "sub",
        &[
            case("-p {P} -t r/# -C 4"),
            case("-p {P} -t r/# -C 4 -v"),
            case("-p {P} -t r/# -C 4 -N"),
            case("-p {P} -t r/# -C 4 -v -N"),
            case("-p {P} -t r/# -C 4 -F %t|%p|%l|%q|%r|%m|%x|%X"),
            case("-p {P} -t r/# -C 4 -F %j"),
            case("-p {P} -t r/# -C 4 -F %J"),
            case("-p {P} -t r/j -C 1 -F %J --pretty"),
            case("-p {P} -t r/sp -C 1 -F %j --pretty"),
            case("-p {P} -t r/# -C 4 -F %10t|%-10p|%05l|%.2t|%-4m|"),
            case("-p {P} -t r/# -C 4 -F \\t%t\\n\\\\\\e@@%%"),
            case("-p {P} -t r/# -C 4 -F %x -N"),
            case("-p {P} -t r/a -C 1 -q 1 -F %q:%m:%r"),
            case("-p {P} -t r/a -C 1 -q 2 -F %q:%m:%r -V 5"),
            live_case(
                "-p {P} -t l/# -C 1 -F %C|%P|%p -D subscribe user-property a b",
                &[("l/1", "x")],
            ),
            live_case("-p {P} -t r/# -t l/# -C 7", LIVE),
            live_case("-p {P} -t l/# -C 3 -v", LIVE),
            live_case("-p {P} -t l/# -C 3 -v -N", LIVE),
            live_case("-p {P} -t l/# -C 3", LIVE),
            live_case("-p {P} -t r/# -t l/# -R -C 1", LIVE),
            live_case("-p {P} -t r/# -t l/# -R -C 1 -V 5", LIVE),
            case("-p {P} -t r/# --retained-only -W 1"),
            live_case("-p {P} -t r/# -t l/# --retained-only", LIVE),
            case("-p {P} -t r/# -T r/j -T r/bin -C 2"),
            case("-p {P} -t r/# -W 1 -C 100"),
            case("-p {P} -t nothing/here -W 1"),
            case("-p {P} -t r/# -E"),
            case("-p {P} -t r/# -C 0"),
            case("-p {P} -t r/# -R --retained-only"),
            case("-p {P} -t r/# -F %Z"),
            case("-p {P} -t r/# -F abc\\q"),
            case("-p {P} -t a/#/b -C 1"),
            case("-p {P} -t r/# -C 1 -k 2"),
            usage_case("-p {P} -C 1"),
            case("-p {P} -t r/# -C 4 -d -i dsub"),
            // Retained messages come at QoS 1 and 2 here: the PUBACK/PUBREC debug lines follow
            // their PUBLISH line, before the message, as mosquitto_sub prints them.
            case("-p {P} -t r/# -C 4 -q 2 -d -i dsubq"),
            case("-L mqtt://127.0.0.1:{P}/r/a -C 1 -v"),
            live_case("-p {P} -t l/# -U l/# -W 1", LIVE),
            wipe_case(
                "-p {P} -t r/# --remove-retained --retained-only -W 1",
                "-p {P} -t r/# -W 1 -v",
            ),
            wipe_case(
                "-p {P} -t r/# -T r/a --remove-retained --retained-only -W 1",
                "-p {P} -t r/# -W 1 -v",
            ),
            case("-p {P} -t r/# -p 1"),
            case("-p {P} -t r/# -c"),
            post_case("-p {P} -t q/# -c -i keep -q 1 -E", "-p {P} -t q/# -W 1"),
        ],
    );
}

#[test]
fn rr_matches_mosquitto_rr() {
    run_table(
        "rr",
        &[
            case("-p {P} -t req -e resp -m ping -W 1"),
            usage_case("-p {P} -t req -m ping -W 1"),
            case("-p {P} -t req -e resp/# -m ping -W 1"),
            case("-p {P} -t req -e resp -m ping -n"),
        ],
    );
}

#[test]
fn rr_gets_the_response_from_a_responder() {
    if !require(&[Peer::Mosquitto, Peer::MosquittoClients]) {
        return;
    }
    for side in [Side::Mosquitto, Side::Mq] {
        let b = TestBroker::mosquitto(Conf::new());
        let p = b.port().to_string();
        // The responder answers on the response topic it is given (%R).
        let responder = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "t=$(mosquitto_sub -p {p} -t req -C 1 -V 5 -F %R) && mosquitto_pub -p {p} -t \"$t\" -m pong"
            ))
            .spawn()
            .unwrap();
        b.wait_subscribed("req");
        let home = tempfile::tempdir().unwrap();
        let child = command(side, "rr", home.path())
            .args([
                "-p", &p, "-t", "req", "-e", "resp/me", "-m", "ping", "-W", "5",
            ])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let (code, out) = wait_output(child, Duration::from_secs(8));
        let _ = wait_output(responder, Duration::from_secs(2));
        assert_eq!((code, out), (Some(0), b"pong\n".to_vec()), "{side:?}");
    }
}
