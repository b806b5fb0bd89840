//! The first request on a websockets listener: a WebSocket upgrade becomes a [`WsStream`]
//! for the link; a plain GET gets a file from `http_dir`, or 426 Upgrade Required without one.
//!
//! The upgrade (RFC 6455 §4.2) is checked here so that every refusal gets the right status,
//! words a person can act on and a log line: 405 for a method other than GET, 426 for a
//! WebSocket version other than 13, 400 for a missing or malformed `Sec-WebSocket-Key` and
//! for a subprotocol list without `mqtt` or `mqttv3.1`. Any path is accepted, as mosquitto
//! does. The accept key is computed by tungstenite; the frames after the upgrade are its job.

use super::http::{self, Head, Response};
use crate::broker::link::LinkContext;
use crate::websocket::{self, SUBPROTOCOLS, WsStream};
use base64::Engine;
use std::path::Path;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;

/// What to do with a request head on a websockets listener.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    /// Switch protocols: the accept key and the chosen subprotocol (none when the client
    /// offered none).
    Upgrade {
        /// `Sec-WebSocket-Accept`.
        accept: String,
        /// `Sec-WebSocket-Protocol`.
        subprotocol: Option<&'static str>,
    },
    /// A plain HTTP request (no upgrade asked for).
    Plain,
    /// A refused upgrade: the response and the reason for the log.
    Refuse(Response, String),
}

/// Decides what `head` asks for.
pub fn decide(head: &Head) -> Decision {
    let wants_ws = head.has_token("upgrade", "websocket");
    if !wants_ws {
        return Decision::Plain;
    }
    let refuse = |status: u16, why: String| {
        let resp = Response::text(status, format!("WebSocket upgrade refused: {why}"));
        Decision::Refuse(resp, why)
    };
    if head.method != "GET" {
        let why = format!("method {} (an upgrade is a GET request)", head.method);
        return refuse(405, why).with("Allow", "GET");
    }
    if !head.has_token("connection", "upgrade") {
        return refuse(400, "no 'Connection: Upgrade' header".into());
    }
    if head.header("sec-websocket-version").map(str::trim) != Some("13") {
        let why = format!(
            "WebSocket version {} (only 13 is spoken)",
            head.header("sec-websocket-version").unwrap_or("missing")
        );
        return refuse(426, why).with("Sec-WebSocket-Version", "13");
    }
    let key = head
        .header("sec-websocket-key")
        .map(str::trim)
        .unwrap_or("");
    let key_ok = base64::engine::general_purpose::STANDARD
        .decode(key)
        .is_ok_and(|k| k.len() == 16);
    if !key_ok {
        return refuse(
            400,
            "missing or malformed Sec-WebSocket-Key (16 bytes in base64)".into(),
        );
    }
    let offered: Vec<&str> = head.tokens("sec-websocket-protocol").collect();
    let subprotocol = offered.iter().find_map(|o| {
        SUBPROTOCOLS
            .iter()
            .find(|s| s.eq_ignore_ascii_case(o))
            .copied()
    });
    if !offered.is_empty() && subprotocol.is_none() {
        return refuse(
            400,
            format!(
                "subprotocol {} offered; this listener speaks {}",
                offered.join(", "),
                SUBPROTOCOLS.join(" and ")
            ),
        );
    }
    Decision::Upgrade {
        accept: derive_accept_key(key.as_bytes()),
        subprotocol,
    }
}

impl Decision {
    /// Adds a header to a refusal's response.
    fn with(self, name: &'static str, value: &str) -> Decision {
        match self {
            Decision::Refuse(r, why) => Decision::Refuse(r.with(name, value), why),
            other => other,
        }
    }
}

/// The 101 response.
fn switching(accept: &str, subprotocol: Option<&str>) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n"
    );
    if let Some(p) = subprotocol {
        r.push_str(&format!("Sec-WebSocket-Protocol: {p}\r\n"));
    }
    r.push_str("\r\n");
    r.into_bytes()
}

/// Reads the first request and upgrades it; `None` when the connection was answered over
/// HTTP (a file, a refusal) or went away. Every outcome but an upgrade is logged.
pub async fn accept<S>(
    mut stream: S,
    ctx: &LinkContext,
    http_dir: Option<&Path>,
) -> Option<WsStream<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    use tokio::io::AsyncWriteExt;
    let log = ctx.router.settings().log;
    let peer = ctx.peer;
    let (head, leftover) = match http::read_head(&mut stream, ctx.limits.connect_timeout).await {
        Ok(x) => x,
        Err(e) => {
            log.info(format_args!(
                "Client connection from {peer} closed: WebSocket listener: {e}."
            ));
            if let Some(r) = http::error_response(&e) {
                let _ = r.send(&mut stream).await;
            }
            return None;
        }
    };
    match decide(&head) {
        Decision::Upgrade {
            accept,
            subprotocol,
        } => {
            let reply = switching(&accept, subprotocol);
            if stream.write_all(&reply).await.is_err() || stream.flush().await.is_err() {
                return None;
            }
            let max = ctx.limits.max_packet_size as usize;
            Some(
                WsStream::after_handshake(stream, leftover, Role::Server, websocket::config(max))
                    .await,
            )
        }
        Decision::Refuse(resp, why) => {
            log.info(format_args!(
                "Client connection from {peer} refused: WebSocket upgrade to {}: {why} (HTTP {}).",
                head.path(),
                resp.status
            ));
            let _ = resp.send(&mut stream).await;
            None
        }
        Decision::Plain => {
            let resp = match http_dir {
                Some(dir) => super::files::serve(dir, &head).await,
                None => not_websocket(&head),
            };
            if resp.status >= 400 {
                log.info(format_args!(
                    "Client connection from {peer}: HTTP {} {} answered {} {}.",
                    head.method,
                    head.path(),
                    resp.status,
                    http::reason(resp.status)
                ));
            }
            let _ = resp.send(&mut stream).await;
            None
        }
    }
}

/// The answer to a plain HTTP request on a websockets listener without `http_dir`.
fn not_websocket(head: &Head) -> Response {
    Response::text(
        426,
        format!(
            "{} {}: this port speaks MQTT over WebSockets; connect with a WebSocket client \
             (subprotocol mqtt).",
            head.method,
            head.path()
        ),
    )
    .with("Upgrade", "websocket")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(method: &str, headers: &[(&str, &str)]) -> Head {
        Head {
            method: method.into(),
            target: "/mqtt".into(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        }
    }

    const GOOD: &[(&str, &str)] = &[
        ("upgrade", "websocket"),
        ("connection", "keep-alive, Upgrade"),
        ("sec-websocket-version", "13"),
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];

    fn status(d: Decision) -> u16 {
        match d {
            Decision::Refuse(r, _) => r.status,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_good_upgrade_gets_rfc_6455s_accept_key_and_mqtt() {
        let mut h = head("GET", GOOD);
        h.headers
            .push(("sec-websocket-protocol".into(), "foo, mqtt".into()));
        assert_eq!(
            decide(&h),
            Decision::Upgrade {
                // The example of RFC 6455 §1.3.
                accept: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".into(),
                subprotocol: Some("mqtt"),
            }
        );
        let mut h = head("GET", GOOD);
        h.headers
            .push(("sec-websocket-protocol".into(), "mqttv3.1".into()));
        assert!(matches!(
            decide(&h),
            Decision::Upgrade {
                subprotocol: Some("mqttv3.1"),
                ..
            }
        ));
        assert!(matches!(
            decide(&head("GET", GOOD)),
            Decision::Upgrade {
                subprotocol: None,
                ..
            }
        ));
    }

    #[test]
    fn bad_upgrades_get_the_right_status() {
        assert_eq!(decide(&head("GET", &[("host", "h")])), Decision::Plain);
        assert_eq!(status(decide(&head("POST", GOOD))), 405);
        let mut h = head("GET", GOOD);
        h.headers[2].1 = "8".into();
        assert_eq!(status(decide(&h)), 426);
        let mut h = head("GET", GOOD);
        h.headers[3].1 = "short".into();
        assert_eq!(status(decide(&h)), 400);
        let mut h = head("GET", GOOD);
        h.headers.remove(1);
        assert_eq!(status(decide(&h)), 400);
        let mut h = head("GET", GOOD);
        h.headers
            .push(("sec-websocket-protocol".into(), "chat".into()));
        let Decision::Refuse(r, why) = decide(&h) else {
            panic!("refused expected")
        };
        assert_eq!(r.status, 400);
        assert!(why.contains("chat") && why.contains("mqtt"), "{why}");
    }
}
