//! The `http_api` listener: one GET request per connection.
//!
//! | path | answer |
//! |---|---|
//! | `/metrics` | Prometheus text exposition ([`super::metrics`]) |
//! | `/api/v1/systree` | the retained `$SYS` topics as one JSON object, topic → payload |
//! | `/api/v1/listeners` | every listener: port, address, protocol, TLS, connection counts |
//! | `/api/v1/version` | broker name and version, MQTT versions spoken |
//! | `/`, `/app.js`, ... | the status page ([`super::page`]) |
//!
//! Anything else is 404; a method other than GET is 405. Access: with `http_api_username`
//! and `http_api_password` on the listener, HTTP basic authentication with those; otherwise
//! the broker's own rules for that listener decide, as for an MQTT CONNECT: open when
//! anonymous clients are allowed, else a user of the password file. Who can reach the port
//! at all is set by the listener's address (`listener 9883 127.0.0.1`).

use super::http::{self, Head, Response};
use super::{Web, metrics, page};
use crate::broker::config::HttpCredentials;
use crate::broker::link::LinkContext;
use crate::broker::security::{self, ConnectInfo};
use crate::topic::TopicFilter;
use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::sync::atomic::Ordering;
use tokio::io::{AsyncRead, AsyncWrite};

/// The realm browsers show when they ask for credentials.
const REALM: &str = "Basic realm=\"mq broker\", charset=\"UTF-8\"";

impl Web {
    /// Answers one request on an `http_api` listener, then closes. Refusals and errors are
    /// logged.
    pub async fn serve_api<S>(
        &self,
        mut stream: S,
        ctx: &LinkContext,
        credentials: Option<&HttpCredentials>,
    ) where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let log = ctx.router.settings().log;
        let head = match http::read_head(&mut stream, ctx.limits.connect_timeout).await {
            Ok((head, _)) => head,
            Err(e) => {
                log.info(format_args!(
                    "HTTP API connection from {} closed: {e}.",
                    ctx.peer
                ));
                if let Some(r) = http::error_response(&e) {
                    let _ = r.send(&mut stream).await;
                }
                return;
            }
        };
        let resp = self.respond(&head, ctx.listener, credentials).await;
        if resp.status >= 400 {
            log.info(format_args!(
                "HTTP API: {} {} from {} answered {} {}.",
                head.method,
                head.path(),
                ctx.peer,
                resp.status,
                http::reason(resp.status)
            ));
        }
        let _ = resp.send(&mut stream).await;
    }

    /// The response to `head` on listener `listener`.
    pub async fn respond(
        &self,
        head: &Head,
        listener: usize,
        credentials: Option<&HttpCredentials>,
    ) -> Response {
        if !self.authorized(head, listener, credentials).await {
            return Response::text(401, "authentication required").with("WWW-Authenticate", REALM);
        }
        if head.method != "GET" {
            return Response::text(
                405,
                format!(
                    "{} is not allowed: this API is read-only (GET)",
                    head.method
                ),
            )
            .with("Allow", "GET");
        }
        let resp = match head.path() {
            "/metrics" => Response::new(
                200,
                metrics::CONTENT_TYPE,
                metrics::render(self).into_bytes(),
            ),
            "/api/v1/systree" => Response::json(&self.systree()),
            "/api/v1/listeners" => Response::json(&self.listeners_json()),
            "/api/v1/bridges" => Response::json(&self.bridges_json()),
            "/api/v1/version" => Response::json(&version()),
            path => match page::asset(path) {
                Some(r) => return r,
                None => Response::text(404, format!("{path}: no such page")),
            },
        };
        resp.with("Cache-Control", "no-store")
    }

    /// Whether the request may see the API.
    async fn authorized(
        &self,
        head: &Head,
        listener: usize,
        credentials: Option<&HttpCredentials>,
    ) -> bool {
        let basic = head.header("authorization").and_then(basic_credentials);
        if let Some(c) = credentials {
            return basic.is_some_and(|(u, p)| same(&u, &c.username) & same(&p, &c.password));
        }
        let access = self.router.access_arc();
        if access.allows_everything() {
            return true;
        }
        let (user, pass) = match &basic {
            Some((u, p)) => (Some(u.as_str()), Some(p.as_bytes())),
            None => (None, None),
        };
        let info = ConnectInfo {
            listener,
            client_id: "http_api",
            username: user,
            password: pass,
            cert_identity: None,
        };
        security::check_connect(access, &info).await.is_ok()
    }

    /// The retained `$SYS` topics (published every `sys_interval`), topic → payload.
    pub fn systree(&self) -> Value {
        let mut tree = serde_json::Map::new();
        if let Ok(filter) = TopicFilter::new("$SYS/#") {
            for msg in self.router.retained_matching(&filter) {
                let value = String::from_utf8_lossy(&msg.payload).into_owned();
                tree.insert(msg.topic.as_str().to_string(), Value::String(value));
            }
        }
        Value::Object(tree)
    }

    /// Every listener with its connection counts.
    pub fn listeners_json(&self) -> Value {
        let list: Vec<Value> = self
            .listeners
            .iter()
            .map(|l| {
                json!({
                    "index": l.index,
                    "port": l.port,
                    "address": l.address,
                    "protocol": l.protocol,
                    "tls": l.tls,
                    "max_connections": l.max_connections,
                    "connections": l.stats.connections.load(Ordering::Relaxed),
                    "accepted": l.stats.accepted.load(Ordering::Relaxed),
                    "refused": l.stats.refused.load(Ordering::Relaxed),
                })
            })
            .collect();
        Value::Array(list)
    }

    /// `/api/v1/bridges`: every configured bridge, its state and counters.
    pub fn bridges_json(&self) -> Value {
        let list: Vec<Value> = self
            .bridges
            .list()
            .iter()
            .map(|b| {
                json!({
                    "name": b.name,
                    "state": b.state().name(),
                    "address": b.address(),
                    "remote_clientid": b.remote_clientid,
                    "local_clientid": b.local_clientid,
                    "connects": b.connects.load(Ordering::Relaxed),
                    "failures": b.failures.load(Ordering::Relaxed),
                    "messages_sent": b.sent.load(Ordering::Relaxed),
                    "messages_received": b.received.load(Ordering::Relaxed),
                })
            })
            .collect();
        Value::Array(list)
    }
}

/// Name and versions.
fn version() -> Value {
    json!({
        "name": "mq",
        "version": env!("CARGO_PKG_VERSION"),
        "broker": crate::broker::sys::version(),
        "mqtt": ["3.1", "3.1.1", "5.0"],
    })
}

/// User name and password of an `Authorization: Basic ...` header.
fn basic_credentials(value: &str) -> Option<(String, String)> {
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some((user.to_string(), pass.to_string()))
}

/// Compares two secrets in time that does not depend on where they differ.
fn same(a: &str, b: &str) -> bool {
    let (x, y) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    x.iter()
        .zip(y.iter())
        .fold(0u8, |acc, (p, q)| acc | (p ^ q))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_decoded() {
        // "admin:pa:ss" in base64.
        assert_eq!(
            basic_credentials("Basic YWRtaW46cGE6c3M="),
            Some(("admin".into(), "pa:ss".into()))
        );
        assert_eq!(basic_credentials("Bearer abc"), None);
        assert_eq!(basic_credentials("Basic !!!"), None);
        assert!(same("secret", "secret") && !same("secret", "secreT") && !same("a", "ab"));
    }
}
