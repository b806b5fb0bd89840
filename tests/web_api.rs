//! The `http_api` listener: Prometheus metrics checked by `promtool`, the JSON views, access
//! control, and 404/405 for what it does not serve.

mod common;

use common::mq;
use common::web::{http, logged, password_file, web_broker};
use common::{Peer, require};
use std::io::Write;
use std::process::{Command, Stdio};

const API: &str = "protocol http_api";

fn get(port: u16, path: &str) -> common::web::Answer {
    http(port, "GET", path, &[])
}

fn sample(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no sample {name} in\n{metrics}"))
}

#[test]
fn metrics_count_traffic_and_pass_promtool() {
    let dir = tempfile::tempdir().unwrap();
    let b = web_broker(
        &["", "protocol websockets", API],
        &format!(
            "allow_anonymous true\nsys_interval 0\npersistence true\npersistence_location {}\n",
            dir.path().display()
        ),
    );
    let tcp = b.ports()[0].to_string();
    for i in 0..3 {
        mq().args([
            "pub",
            "-p",
            &tcp,
            "-t",
            &format!("m/{i}"),
            "-m",
            "12.5",
            "-r",
        ])
        .assert()
        .success();
    }
    let m = get(b.ports()[2], "/metrics");
    assert_eq!(m.status, 200);
    assert!(
        m.head.contains("content-type: text/plain; version=0.0.4"),
        "{}",
        m.head
    );
    let text = m.text();
    assert_eq!(sample(&text, "mq_messages_received_total"), 3.0, "{text}");
    assert_eq!(sample(&text, "mq_retained_messages"), 3.0);
    assert!(sample(&text, "mq_received_bytes_total") > 0.0);
    assert!(sample(&text, "mq_clients_maximum") >= 1.0);
    assert!(sample(&text, "mq_store_size_bytes") > 0.0, "{text}");
    let accepted = format!(
        "mq_listener_connections_accepted_total{{listener=\"0\",port=\"{tcp}\",protocol=\"mqtt\"}}"
    );
    // The three publishers (a readiness probe may add one).
    assert!(sample(&text, &accepted) >= 3.0, "{text}");
    assert!(text.contains("protocol=\"websockets\"") && text.contains("protocol=\"http_api\""));
    for line in text
        .lines()
        .filter(|l| l.starts_with("# TYPE") && l.ends_with("counter"))
    {
        assert!(
            line.split(' ').nth(2).unwrap().ends_with("_total"),
            "{line}"
        );
    }
    promtool_accepts(&m.body);
}

/// `promtool check metrics` finds nothing wrong with `body` (skipped without promtool, and a
/// failure under CI=true).
fn promtool_accepts(body: &[u8]) {
    if !require(&[Peer::Promtool]) {
        return;
    }
    let mut check = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    check.stdin.take().unwrap().write_all(body).unwrap();
    let out = check.wait_with_output().unwrap();
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "promtool: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn bridges_show_in_the_json_view_and_the_metrics() {
    if !require(&[Peer::Mosquitto]) {
        return;
    }
    let remote = common::TestBroker::mosquitto(common::Conf::new());
    let b = web_broker(
        &["", API],
        &format!(
            "allow_anonymous true\nconnection edge\naddress 127.0.0.1:{}\ntopic sensors/# out 1\n",
            remote.port()
        ),
    );
    let api = b.ports()[1];
    let connected = common::wait_until(|| {
        let v: serde_json::Value =
            serde_json::from_slice(&get(api, "/api/v1/bridges").body).unwrap();
        v[0]["name"] == "edge" && v[0]["state"] == "connected"
    });
    assert!(connected, "{}", get(api, "/api/v1/bridges").text());
    let m = get(api, "/metrics");
    let text = m.text();
    assert_eq!(
        sample(&text, "mq_bridge_up{bridge=\"edge\"}"),
        1.0,
        "{text}"
    );
    assert!(sample(&text, "mq_bridge_connects_total{bridge=\"edge\"}") >= 1.0);
    assert_eq!(sample(&text, "mq_bridges_connected"), 1.0);
    promtool_accepts(&m.body);
}

#[test]
fn json_views_list_listeners_version_and_the_sys_tree() {
    let b = web_broker(
        &["", "protocol websockets\nmax_connections 7", API],
        "allow_anonymous true\nsys_interval 1\n",
    );
    let api = b.ports()[2];
    let list: serde_json::Value =
        serde_json::from_slice(&get(api, "/api/v1/listeners").body).unwrap();
    let kinds: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["protocol"].as_str().unwrap(),
                l["port"].as_u64().unwrap() as u16,
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("mqtt", b.ports()[0]),
            ("websockets", b.ports()[1]),
            ("http_api", api)
        ]
    );
    assert_eq!(list[1]["max_connections"], 7);
    let v: serde_json::Value = serde_json::from_slice(&get(api, "/api/v1/version").body).unwrap();
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    let tree = common::wait_until(|| {
        let t: serde_json::Value =
            serde_json::from_slice(&get(api, "/api/v1/systree").body).unwrap();
        t.get("$SYS/broker/uptime").is_some() && t.get("$SYS/broker/clients/connected").is_some()
    });
    assert!(tree, "the $SYS topics appear once published");
}

#[test]
fn unknown_paths_are_404_and_other_methods_405() {
    let b = web_broker(&[API], "allow_anonymous true\n");
    let api = b.ports()[0];
    assert_eq!(get(api, "/nope").status, 404);
    assert_eq!(get(api, "/api/v2/systree").status, 404);
    assert!(logged(&b, &["GET /nope", "answered 404"]));
    for method in ["POST", "PUT", "DELETE", "PATCH"] {
        let a = http(api, method, "/metrics", &["Content-Length: 0"]);
        assert_eq!(a.status, 405, "{method}");
        assert!(a.head.contains("allow: get"));
    }
    for path in ["/", "/app.js", "/style.css", "/vendor/mqtt.min.js"] {
        assert_eq!(get(api, path).status, 200, "{path}");
    }
    assert!(get(api, "/").head.contains("content-security-policy"));
}

#[test]
fn access_needs_the_api_credentials_or_a_password_file_user() {
    let basic = |user: &str, pass: &str| {
        use base64::Engine;
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        format!("Authorization: Basic {token}")
    };
    let creds = format!("{API}\nhttp_api_username admin\nhttp_api_password s3cret");
    let b = web_broker(&[&creds], "allow_anonymous true\n");
    let api = b.ports()[0];
    let none = get(api, "/metrics");
    assert_eq!(none.status, 401);
    assert!(
        none.head.contains("www-authenticate: basic"),
        "{}",
        none.head
    );
    assert_eq!(
        http(api, "GET", "/metrics", &[&basic("admin", "wrong")]).status,
        401
    );
    assert_eq!(
        http(api, "GET", "/metrics", &[&basic("admin", "s3cret")]).status,
        200
    );

    // Without API credentials, a broker that refuses anonymous clients asks for a user of
    // its password file.
    let dir = tempfile::tempdir().unwrap();
    let pw = password_file(dir.path(), "ops", "ops-pw");
    let b = web_broker(
        &[API],
        &format!("allow_anonymous false\npassword_file {}\n", pw.display()),
    );
    let api = b.ports()[0];
    assert_eq!(get(api, "/api/v1/version").status, 401);
    assert_eq!(
        http(api, "GET", "/api/v1/version", &[&basic("ops", "nope")]).status,
        401
    );
    assert_eq!(
        http(api, "GET", "/api/v1/version", &[&basic("ops", "ops-pw")]).status,
        200
    );
}
