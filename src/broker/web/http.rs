//! Just enough HTTP/1.1 for the broker: read one request head, bounded in size and time, and
//! write one response, then close. The WebSocket upgrade, `http_dir` files and the HTTP API
//! all answer GET requests without bodies, so there is no keep-alive, no chunking and no
//! request body to read.
//!
//! ```text
//!  GET /path HTTP/1.1\r\n        request line     ─┐
//!  Header: value\r\n             up to 64 headers  ├─ at most 8 KiB, within the connect timeout
//!  \r\n                                           ─┘
//! ```

use std::borrow::Cow;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Largest request head accepted (request line and headers).
pub const MAX_HEAD: usize = 8 * 1024;
/// Most headers accepted in one request.
const MAX_HEADERS: usize = 64;

/// A parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The method (`GET`, `POST`, ...).
    pub method: String,
    /// The request target as sent (path and query).
    pub target: String,
    /// Header names (lower case) and values, in order.
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The comma-separated tokens of every `name` header, trimmed.
    pub fn tokens<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n == name)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|t| !t.is_empty())
    }

    /// Whether header `name` lists `token` (case-insensitive), as `Connection: Upgrade` does.
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.tokens(name).any(|t| t.eq_ignore_ascii_case(token))
    }

    /// The path of the target, without query string or fragment.
    pub fn path(&self) -> &str {
        let end = self.target.find(['?', '#']).unwrap_or(self.target.len());
        &self.target[..end]
    }
}

/// Why no request head could be read.
#[derive(Debug, thiserror::Error)]
pub enum HeadError {
    /// The head is larger than [`MAX_HEAD`] or has too many headers (answered with 431).
    #[error("request head larger than {MAX_HEAD} bytes or {MAX_HEADERS} headers")]
    TooLarge,
    /// Not HTTP (answered with 400); `tls` when the bytes were a TLS handshake.
    #[error("{}", if *.tls { "it sent a TLS handshake to a plain HTTP port" } else { "malformed HTTP request" })]
    Malformed {
        /// The first bytes looked like a TLS ClientHello.
        tls: bool,
    },
    /// The peer closed before a whole head arrived.
    #[error("closed before sending a whole HTTP request")]
    Closed,
    /// The head did not arrive in time.
    #[error("no complete HTTP request within {0:?}")]
    Timeout(Duration),
    /// A socket error.
    #[error("socket error: {0}")]
    Io(#[from] std::io::Error),
}

/// Reads one request head within `timeout`; returns it with any bytes read past it (a
/// WebSocket client may send its first frame right behind the upgrade request).
pub async fn read_head<S: AsyncRead + Unpin>(
    stream: &mut S,
    timeout: Duration,
) -> Result<(Head, Vec<u8>), HeadError> {
    tokio::time::timeout(timeout, read_head_untimed(stream))
        .await
        .unwrap_or(Err(HeadError::Timeout(timeout)))
}

async fn read_head_untimed<S: AsyncRead + Unpin>(
    stream: &mut S,
) -> Result<(Head, Vec<u8>), HeadError> {
    let mut buf = Vec::with_capacity(1024);
    loop {
        let mut chunk = [0u8; 1024];
        let room = (MAX_HEAD + 1 - buf.len()).min(chunk.len());
        let n = stream.read(&mut chunk[..room]).await?;
        if n == 0 {
            return Err(HeadError::Closed);
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some((head, used)) = parse(&buf)? {
            return Ok((head, buf.split_off(used)));
        }
        if buf.len() > MAX_HEAD {
            return Err(HeadError::TooLarge);
        }
    }
}

/// Parses a complete head at the start of `buf`; `Ok(None)` when more bytes are needed.
fn parse(buf: &[u8]) -> Result<Option<(Head, usize)>, HeadError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let used = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooLarge),
        Err(_) => {
            let tls = crate::broker::security::tls::looks_like_tls(&buf[..buf.len().min(3)]);
            return Err(HeadError::Malformed { tls });
        }
    };
    let head = Head {
        method: req.method.unwrap_or_default().to_string(),
        target: req.path.unwrap_or_default().to_string(),
        headers: req
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_ascii_lowercase(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect(),
    };
    Ok(Some((head, used)))
}

/// One response; always sent with `Content-Length` and `Connection: close`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: Cow<'static, [u8]>,
}

impl Response {
    /// A response with a body of `content_type`.
    pub fn new(status: u16, content_type: &str, body: impl Into<Cow<'static, [u8]>>) -> Self {
        Response {
            status,
            headers: vec![("Content-Type", content_type.to_string())],
            body: body.into(),
        }
    }

    /// A plain-text response (error pages, explanations); a newline ends the body.
    pub fn text(status: u16, body: impl Into<String>) -> Self {
        let mut body = body.into();
        body.push('\n');
        Response::new(status, "text/plain; charset=utf-8", body.into_bytes())
    }

    /// A JSON response.
    pub fn json(value: &serde_json::Value) -> Self {
        let mut body = value.to_string();
        body.push('\n');
        Response::new(200, "application/json", body.into_bytes())
    }

    /// Adds a header.
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The status line, headers and body as sent.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (name, value) in &self.headers {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        out.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.body.len()
        ));
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }

    /// Writes the response and shuts the stream down (bounded: a peer that does not read
    /// does not hold the task).
    pub async fn send<S: AsyncWrite + Unpin>(&self, stream: &mut S) -> std::io::Result<()> {
        let bytes = self.to_bytes();
        let write = async {
            stream.write_all(&bytes).await?;
            stream.shutdown().await
        };
        tokio::time::timeout(Duration::from_secs(10), write)
            .await
            .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
    }
}

/// The reason phrase of the status codes used here.
pub fn reason(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        _ => "Unknown",
    }
}

/// The response for a head that could not be read, if one is worth sending.
pub fn error_response(e: &HeadError) -> Option<Response> {
    match e {
        HeadError::TooLarge => Some(Response::text(431, e.to_string())),
        HeadError::Malformed { tls: false } => Some(Response::text(400, e.to_string())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn reads_a_head_and_keeps_what_follows() {
        let (mut a, mut b) = tokio::io::duplex(4096);
        b.write_all(
            b"GET /mqtt?x=1 HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\n\r\n\x82\x00",
        )
        .await
        .unwrap();
        let (head, rest) = read_head(&mut a, Duration::from_secs(1)).await.unwrap();
        assert_eq!((head.method.as_str(), head.path()), ("GET", "/mqtt"));
        assert_eq!(head.header("host"), Some("h"));
        assert!(head.has_token("connection", "upgrade"));
        assert_eq!(rest, [0x82, 0x00]);
    }

    #[tokio::test]
    async fn oversized_malformed_tls_and_slow_heads_are_refused() {
        let (mut a, mut b) = tokio::io::duplex(64 * 1024);
        let big = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(MAX_HEAD));
        b.write_all(big.as_bytes()).await.unwrap();
        let e = read_head(&mut a, Duration::from_secs(1)).await.unwrap_err();
        assert!(matches!(e, HeadError::TooLarge), "{e}");
        assert_eq!(error_response(&e).unwrap().status, 431);

        let (mut a, mut b) = tokio::io::duplex(4096);
        b.write_all(b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c")
            .await
            .unwrap();
        let e = read_head(&mut a, Duration::from_secs(1)).await.unwrap_err();
        assert!(matches!(e, HeadError::Malformed { tls: false }), "{e}");

        let (mut a, mut b) = tokio::io::duplex(4096);
        b.write_all(&[0x16, 0x03, 0x01, 0x00, 0x10]).await.unwrap();
        let e = read_head(&mut a, Duration::from_secs(1)).await.unwrap_err();
        assert!(e.to_string().contains("TLS handshake"), "{e}");
        assert!(error_response(&e).is_none());

        let (mut a, mut b) = tokio::io::duplex(4096);
        b.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        let e = read_head(&mut a, Duration::from_millis(50))
            .await
            .unwrap_err();
        assert!(matches!(e, HeadError::Timeout(_)), "{e}");
    }

    #[test]
    fn responses_carry_length_and_close() {
        let r = Response::text(404, "no such page").with("X-A", "b");
        let text = String::from_utf8(r.to_bytes()).unwrap();
        assert!(text.starts_with("HTTP/1.1 404 Not Found\r\n"), "{text}");
        assert!(text.contains("X-A: b\r\n") && text.contains("Content-Length: 13\r\n"));
        assert!(
            text.ends_with("Connection: close\r\n\r\nno such page\n"),
            "{text}"
        );
    }
}
