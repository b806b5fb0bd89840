//! What `mq bench` writes for plotting: the `--csv` rows and the `--hdr-out` percentile
//! distributions parse, climb and add up to the summary; `-m` templates expand as documented
//! and still carry the send time.

mod common;

use common::{ChildGuard, Conf, TestBroker, mq, mq_path};
use serde_json::Value;
use std::process::Command;
use std::time::Duration;

/// One `.hgrm` row: value (ms), percentile, total count.
type Row = (f64, f64, u64);

/// The rows and the footer numbers of a percentile distribution file.
fn parse_hgrm(text: &str) -> (Vec<Row>, Vec<f64>) {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["Value", "Percentile", "TotalCount", "1/(1-Percentile)"]
    );
    assert_eq!(lines.next(), Some(""), "a blank line follows the header");
    let (mut rows, mut footer) = (Vec::new(), Vec::new());
    for line in lines {
        if let Some(rest) = line.strip_prefix("#[") {
            for part in rest.trim_end_matches(']').split(',') {
                footer.push(part.split('=').nth(1).unwrap().trim().parse().unwrap());
            }
        } else {
            let f: Vec<&str> = line.split_whitespace().collect();
            assert!(
                f.len() == 4 || (f.len() == 3 && f[1] == "1.000000000000"),
                "{line}"
            );
            rows.push((
                f[0].parse().unwrap(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
            ));
        }
    }
    assert_eq!(
        footer.len(),
        6,
        "Mean, StdDeviation, Max, Total count, Buckets, SubBuckets"
    );
    (rows, footer)
}

/// Checks a distribution file and returns its total count.
fn check_hgrm(path: &std::path::Path, max_us: u64) -> u64 {
    let text = std::fs::read_to_string(path).unwrap();
    let (rows, footer) = parse_hgrm(&text);
    assert!(
        rows.windows(2).all(|w| w[0].0 <= w[1].0),
        "values climb: {text}"
    );
    assert!(
        rows.windows(2).all(|w| w[0].1 < w[1].1),
        "percentiles climb"
    );
    assert!(rows.windows(2).all(|w| w[0].2 <= w[1].2), "counts climb");
    let last = rows.last().expect("rows");
    assert_eq!(last.1, 1.0);
    assert_eq!(last.2 as f64, footer[3], "the last row counts every sample");
    assert!(
        (footer[2] - max_us as f64 / 1000.0).abs() < 0.01,
        "max in ms: {footer:?}"
    );
    assert_eq!(footer[5], 2048.0);
    last.2
}

#[test]
fn csv_rows_and_distributions_add_up_to_the_summary() {
    let broker = TestBroker::mq(Conf::new());
    let port = broker.port();
    let dir = tempfile::tempdir().unwrap();
    let (csv, hgrm) = (dir.path().join("run.csv"), dir.path().join("lat.hgrm"));
    let out = mq()
        .args([
            "bench",
            "pubsub",
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .args(["-c", "3", "-q", "1", "-I", "20ms", "-d", "2", "--json"])
        .arg("--csv")
        .arg(&csv)
        .arg("--hdr-out")
        .arg(&hgrm)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    let m = &summary["messages"];
    assert!(m["received"].as_u64().unwrap() > 100, "{m}");

    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    let names: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert!(rows.len() >= 3, "{text}");
    assert!(rows.iter().all(|r| r.len() == names.len()), "{text}");
    let col = |name: &str| names.iter().position(|n| *n == name).unwrap();
    let num = |r: &Vec<&str>, name: &str| r[col(name)].parse::<f64>().unwrap();
    for pair in rows.windows(2) {
        assert!(num(&pair[0], "time_s") < num(&pair[1], "time_s"), "{text}");
        for counter in ["sent", "acked", "received"] {
            assert!(
                num(&pair[0], counter) <= num(&pair[1], counter),
                "{counter}: {text}"
            );
        }
    }
    let last = rows.last().unwrap();
    assert_eq!(last[col("phase")], "end");
    for counter in ["sent", "acked", "received"] {
        assert_eq!(
            num(last, counter),
            m[counter].as_f64().unwrap(),
            "{counter}"
        );
    }
    let sum = |name: &str| rows.iter().map(|r| num(r, name)).sum::<f64>() as u64;
    let latency = m["latency_us"]["count"].as_u64().unwrap();
    let acks = m["ack_latency_us"]["count"].as_u64().unwrap();
    assert_eq!(sum("latency_count"), latency, "per-second samples add up");
    assert_eq!(sum("ack_count"), acks);
    assert_eq!(acks, m["acked"].as_u64().unwrap(), "one ack sample per ack");

    let max = |p: &Value| p["max"].as_u64().unwrap();
    assert_eq!(check_hgrm(&hgrm, max(&m["latency_us"])), latency);
    let ack = dir.path().join("lat-ack.hgrm");
    assert_eq!(check_hgrm(&ack, max(&m["ack_latency_us"])), acks);
    let connect = dir.path().join("lat-connect.hgrm");
    let c = &summary["connections"]["latency_us"];
    assert_eq!(check_hgrm(&connect, max(c)), 6);
}

#[test]
fn templates_expand_client_number_and_sequence_after_the_stamp() {
    let broker = TestBroker::mq(Conf::new());
    let port = broker.port();
    let p = port.to_string();
    // mq sub -d prints the SUBACK, so the publisher starts only once the subscription is in.
    let sub = ChildGuard::spawn(
        Command::new(mq_path())
            .args([
                "sub",
                "-h",
                "127.0.0.1",
                "-p",
                &p,
                "-t",
                "tmpl/#",
                "-C",
                "3",
            ])
            .args(["-W", "30", "-d", "-F", "msg %t %x"]),
    );
    sub.stdout.wait_for("SUBACK");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("payload.txt");
    std::fs::write(&file, "dev %i seq %n (100%%)").unwrap();
    let status = mq()
        .args([
            "bench",
            "pub",
            "-h",
            "127.0.0.1",
            "-p",
            &p,
            "-c",
            "1",
            "-L",
            "3",
        ])
        .args([
            "-t",
            "tmpl/%i",
            "--start-number",
            "7",
            "-I",
            "0",
            "--payload-file",
        ])
        .arg(&file)
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let is_message = |l: &String| l.starts_with("msg ");
    let all_in = |lines: &[String]| lines.iter().filter(|l| is_message(l)).count() >= 3;
    assert!(sub.stdout.wait_until(Duration::from_secs(10), all_in));
    let messages: Vec<String> = sub.stdout.lines().into_iter().filter(is_message).collect();
    for (seq, line) in (1..).zip(&messages) {
        let (topic, hex) = line["msg ".len()..].split_once(' ').unwrap();
        assert_eq!(topic, "tmpl/7");
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        assert_eq!(&bytes[..4], b"mqb1", "the stamp comes first");
        assert_eq!(
            String::from_utf8_lossy(&bytes[12..]),
            format!("dev 7 seq {seq} (100%)")
        );
    }
    assert_eq!(messages.len(), 3);
}

#[test]
fn size_help_states_the_smallest_stamped_payload() {
    let out = mq().args(["bench", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    let stamp = mq::bench::message::STAMP_LEN.to_string();
    let size = help.split("--size").nth(1).unwrap();
    let size = &size[..size.find("\n  -").unwrap_or(size.len())];
    assert!(size.contains(&format!("at least {stamp} bytes")), "{size}");
}

#[test]
fn conn_lines_show_connections_only() {
    let broker = TestBroker::mq(Conf::new());
    let port = broker.port();
    let out = mq()
        .args(["bench", "conn", "-h", "127.0.0.1", "-p", &port.to_string()])
        .args(["-c", "2", "-d", "1.5"])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert!(out.status.success());
    let lines = String::from_utf8_lossy(&out.stderr);
    let second = lines
        .lines()
        .find(|l| l.contains("1.0s"))
        .expect("a line per second");
    assert!(
        second.contains("conn 2") && second.contains("connects/s"),
        "{second}"
    );
    assert!(
        !second.contains("sent") && !second.contains("recv"),
        "{second}"
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("in this load generator (not the broker)"),
        "{table}"
    );
    assert!(!table.contains("received"), "{table}");
}
