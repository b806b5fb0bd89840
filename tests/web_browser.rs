//! The status page in a real browser: headless Chromium (Debian's), driven over the DevTools
//! protocol, loads the page from the `http_api` listener; the page talks MQTT over the
//! broker's websockets listener with the embedded MQTT.js; values published with `mq pub`
//! must appear in its topic tree. A screenshot is saved under the test's output
//! (`target/tmp/status-page.png`).

mod common;

use common::web::web_broker;
use common::{ChildGuard, mq};
use common::{Peer, require};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

const CHROMIUM: &str = "/usr/bin/chromium";

/// A DevTools protocol session with one page.
struct Page {
    ws: WebSocketStream<TcpStream>,
    session: String,
    next_id: u64,
}

impl Page {
    /// Opens a page on `url` in the browser listening on `port` at `path`.
    async fn open(port: u16, path: &str, url: &str) -> Page {
        let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let (ws, _) = tokio_tungstenite::client_async(format!("ws://127.0.0.1:{port}{path}"), tcp)
            .await
            .expect("DevTools WebSocket");
        let mut page = Page {
            ws,
            session: String::new(),
            next_id: 0,
        };
        let target = page
            .call("Target.createTarget", json!({ "url": "about:blank" }))
            .await;
        let attached = page
            .call(
                "Target.attachToTarget",
                json!({ "targetId": target["targetId"], "flatten": true }),
            )
            .await;
        page.session = attached["sessionId"].as_str().unwrap().to_string();
        page.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": 1200, "height": 1000, "deviceScaleFactor": 1, "mobile": false }),
        )
        .await;
        page.call("Page.navigate", json!({ "url": url })).await;
        page
    }

    /// Sends a command (to the page once attached) and waits for its result.
    async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if !self.session.is_empty() {
            msg["sessionId"] = json!(self.session);
        }
        self.ws
            .send(Message::Text(msg.to_string().into()))
            .await
            .unwrap();
        loop {
            let next = tokio::time::timeout(Duration::from_secs(30), self.ws.next()).await;
            let Ok(Some(Ok(Message::Text(text)))) = next else {
                panic!("DevTools connection ended waiting for {method}");
            };
            let v: Value = serde_json::from_str(&text).unwrap();
            if v["id"] == id {
                assert!(v.get("error").is_none(), "{method}: {v}");
                return v["result"].clone();
            }
        }
    }

    /// Evaluates `expr` in the page.
    async fn eval(&mut self, expr: &str) -> Value {
        let r = self
            .call(
                "Runtime.evaluate",
                json!({ "expression": expr, "returnByValue": true }),
            )
            .await;
        r["result"]["value"].clone()
    }

    /// Waits (up to 20 s) until `expr` is true in the page.
    async fn wait_for(&mut self, expr: &str) -> bool {
        let end = Instant::now() + Duration::from_secs(20);
        while Instant::now() < end {
            if self.eval(expr).await == json!(true) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }
}

/// Starts Chromium with a fresh profile; its DevTools port and browser path.
fn chromium(profile: &Path) -> (ChildGuard, u16, String) {
    let mut cmd = Command::new(CHROMIUM);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--remote-debugging-port=0",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .arg("about:blank");
    let guard = ChildGuard::spawn(&mut cmd);
    let file = profile.join("DevToolsActivePort");
    assert!(
        common::wait_until(|| std::fs::read_to_string(&file).is_ok_and(|s| s.lines().count() >= 2)),
        "Chromium did not open its DevTools port"
    );
    let text = std::fs::read_to_string(&file).unwrap();
    let mut lines = text.lines();
    let port = lines.next().unwrap().trim().parse().unwrap();
    (guard, port, lines.next().unwrap().trim().to_string())
}

fn publish(port: u16, topic: &str, value: &str) {
    mq().args([
        "pub",
        "-p",
        &port.to_string(),
        "-t",
        topic,
        "-m",
        value,
        "-r",
    ])
    .assert()
    .success();
}

/// The text shown for `topic` in the page's topic tree.
fn shown(topic: &str, value: &str) -> String {
    format!(
        "document.querySelector('[data-topic=\"{topic}\"] > details > summary .value')\
         ?.textContent === '{value}'"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_page_shows_values_published_with_mq_pub() {
    if !require(&[Peer::Chromium]) {
        return;
    }
    let b = web_broker(
        &["", "protocol websockets", "protocol http_api"],
        "allow_anonymous true\nsys_interval 1\n",
    );
    let (tcp, api) = (b.ports()[0], b.ports()[2]);
    publish(tcp, "meteo/status", "online");
    publish(tcp, "meteo/aemet/station/1387/humidity", "81");
    let profile = tempfile::tempdir().unwrap();
    let (_browser, devtools, path) = chromium(profile.path());
    let mut page = Page::open(devtools, &path, &format!("http://127.0.0.1:{api}/")).await;

    // Connected over WebSockets: the retained values arrive with the subscription.
    assert!(
        page.wait_for("document.getElementById('mqtt-state').classList.contains('ok')")
            .await,
        "the page connected over MQTT: {:?}\n{}",
        page.eval("document.getElementById('mqtt-error').textContent")
            .await,
        b.log()
    );
    assert!(page.wait_for(&shown("meteo/status", "online")).await);
    // Live values published now appear, and numbers draw a trend line.
    let topic = "meteo/aemet/station/1387/temperature";
    for t in ["14.2", "14.8", "15.3", "15.1", "15.9"] {
        publish(tcp, topic, t);
        assert!(page.wait_for(&shown(topic, t)).await, "{topic} = {t} shown");
    }
    publish(
        tcp,
        "meteo/aemet/station/1387",
        r#"{"temperature":15.9,"humidity":81}"#,
    );
    assert!(
        page.wait_for(&format!(
            "!document.querySelector('[data-topic=\"{topic}\"] canvas').hidden"
        ))
        .await
    );
    // The broker's state: the listeners table and the metrics cards.
    assert!(
        page.wait_for("document.querySelectorAll('#listeners tbody tr').length === 3")
            .await
    );
    assert!(
        page.wait_for("Number(document.getElementById('retained').textContent) >= 4")
            .await
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;

    let shot = page
        .call("Page.captureScreenshot", json!({ "format": "png" }))
        .await;
    use base64::Engine;
    let png = base64::engine::general_purpose::STANDARD
        .decode(shot["data"].as_str().unwrap())
        .unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("status-page.png");
    std::fs::write(&out, &png).unwrap();
    eprintln!("screenshot: {}", out.display());
}
