//! MQTT over WebSockets (MQTT 3.1.1 §6, MQTT 5.0 §6): the byte stream both sides see.
//!
//! ```text
//!  link / client ──bytes──▶ WsStream ──binary frame per write──▶ tungstenite ──▶ TCP or TLS
//!                ◀─bytes─── WsStream ◀─binary messages, any split── tungstenite ◀──
//! ```
//!
//! MQTT packets travel in binary frames and may be split across frames or share one
//! ([MQTT-6.0.0-2]), so [`WsStream`] turns a WebSocket into a plain `AsyncRead + AsyncWrite`
//! byte stream and everything above it (the broker's link, the client's connection) runs
//! unchanged. Framing, masking, ping/pong and the close handshake are tungstenite's; this module
//! only decides what a frame means for MQTT: a text frame is refused with close code 1003
//! ([MQTT-6.0.0-1]), a frame over the size limit with 1009, a malformed one with 1002.

use bytes::{Buf, Bytes};
use futures_util::{Sink, Stream};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message, error::CapacityError};

/// The subprotocols MQTT brokers answer to: `mqtt` (3.1.1 and 5.0) and `mqttv3.1` (3.1).
pub const SUBPROTOCOLS: [&str; 2] = ["mqtt", "mqttv3.1"];

/// Bytes tungstenite keeps for reading frames. Small, because every idle connection holds
/// it; a frame larger than this is still read whole (tungstenite reserves its length).
const READ_BUFFER: usize = 256;

/// Limits for one WebSocket connection: frames and messages up to `max_size` bytes (the
/// broker's packet limit), written at once (MQTT batches its own writes).
pub fn config(max_size: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_frame_size(Some(max_size))
        .max_message_size(Some(max_size))
}

/// A WebSocket carrying MQTT, read and written as a byte stream.
#[derive(Debug)]
pub struct WsStream<S> {
    ws: WebSocketStream<S>,
    /// The rest of the last binary message, not yet read.
    pending: Bytes,
    /// A frame or error received behind data, for the next read.
    held: Option<Option<Result<Message, WsError>>>,
}

/// Why a connection was closed from this side: the WebSocket close code and the words for
/// the log and the close frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The close code sent (RFC 6455 §7.4.1).
    pub code: u16,
    /// What the peer did.
    pub reason: String,
}

impl<S: AsyncRead + AsyncWrite + Unpin> WsStream<S> {
    /// Wraps a stream whose upgrade handshake is done; `leftover` are bytes read past the
    /// handshake (the first frames, if the peer did not wait).
    pub async fn after_handshake(
        stream: S,
        leftover: Vec<u8>,
        role: Role,
        config: WebSocketConfig,
    ) -> Self {
        let ws = WebSocketStream::from_partially_read(stream, leftover, role, Some(config)).await;
        WsStream::new(ws)
    }

    /// Wraps an established WebSocket.
    pub fn new(ws: WebSocketStream<S>) -> Self {
        WsStream {
            ws,
            pending: Bytes::new(),
            held: None,
        }
    }

    /// Starts the close handshake with `code` (best effort: the caller is giving up on the
    /// connection anyway, and the frame goes out with the next flush).
    fn refuse(&mut self, cx: &mut Context<'_>, refusal: &Refusal) {
        let frame = CloseFrame {
            code: CloseCode::from(refusal.code),
            reason: refusal.reason.as_str().into(),
        };
        let mut ws = Pin::new(&mut self.ws);
        if ws.as_mut().start_send(Message::Close(Some(frame))).is_ok() {
            let _ = ws.poll_flush(cx);
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WsStream<S> {
    /// The read result for a frame-level error: refused with its close code, the end of the
    /// stream for a peer that went away, or the socket error.
    fn fail(&mut self, cx: &mut Context<'_>, e: WsError) -> io::Result<()> {
        if let Some(r) = refusal(&e) {
            self.refuse(cx, &r);
            let msg = format!("{} (close code {})", r.reason, r.code);
            return Err(io::Error::new(io::ErrorKind::InvalidData, msg));
        }
        match e {
            WsError::Protocol(_) | WsError::ConnectionClosed | WsError::AlreadyClosed => Ok(()),
            e => Err(io_error(e)),
        }
    }
}

/// What a frame-level error means for MQTT; `None` for a peer that simply went away.
pub fn refusal(e: &WsError) -> Option<Refusal> {
    let (code, reason) = match e {
        WsError::Capacity(CapacityError::MessageTooLong { size, max_size }) => (
            1009,
            format!("frame of {size} bytes exceeds the limit of {max_size}"),
        ),
        WsError::Capacity(c) => (1009, c.to_string()),
        WsError::Utf8(_) => (1007, "invalid UTF-8 in a text frame".into()),
        WsError::Protocol(p) => {
            use tokio_tungstenite::tungstenite::error::ProtocolError;
            if matches!(p, ProtocolError::ResetWithoutClosingHandshake) {
                return None;
            }
            (1002, format!("WebSocket protocol error: {p}"))
        }
        _ => return None,
    };
    Some(Refusal { code, reason })
}

fn io_error(e: WsError) -> io::Error {
    match e {
        WsError::Io(e) => e,
        other => io::Error::new(io::ErrorKind::InvalidData, other.to_string()),
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for WsStream<S> {
    /// Copies the payloads of every binary frame already received (a reader that got one
    /// small frame per call would handle, and yield, once per MQTT packet). Anything else
    /// that arrives behind data is held for the next call.
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let start = buf.filled().len();
        loop {
            if !this.pending.is_empty() {
                let n = this.pending.len().min(buf.remaining());
                buf.put_slice(&this.pending[..n]);
                this.pending.advance(n);
                if !this.pending.is_empty() {
                    return Poll::Ready(Ok(()));
                }
                this.pending = Bytes::new();
            }
            let copied = buf.filled().len() > start;
            let item = match this.held.take() {
                Some(item) => item,
                None => match Pin::new(&mut this.ws).poll_next(cx) {
                    Poll::Ready(item) => item,
                    Poll::Pending if copied => return Poll::Ready(Ok(())),
                    Poll::Pending => return Poll::Pending,
                },
            };
            match item {
                Some(Ok(Message::Binary(b))) => this.pending = b,
                // Pings are answered by tungstenite.
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                other if copied => {
                    this.held = Some(other);
                    return Poll::Ready(Ok(()));
                }
                // The peer closed (with or without a close frame): end of stream.
                None | Some(Ok(Message::Close(_))) => return Poll::Ready(Ok(())),
                Some(Ok(Message::Text(_))) => {
                    let r = Refusal {
                        code: 1003,
                        reason: "text frame: MQTT travels in binary frames [MQTT-6.0.0-1]".into(),
                    };
                    this.refuse(cx, &r);
                    return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, r.reason)));
                }
                Some(Err(e)) => return Poll::Ready(this.fail(cx, e)),
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for WsStream<S> {
    /// Sends `buf` as one binary frame: the link and the client write whole batches.
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut ws = Pin::new(&mut self.get_mut().ws);
        ready!(ws.as_mut().poll_ready(cx)).map_err(io_error)?;
        ws.start_send(Message::Binary(Bytes::copy_from_slice(buf)))
            .map_err(io_error)?;
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match ready!(Pin::new(&mut self.get_mut().ws).poll_flush(cx)) {
            Ok(()) | Err(WsError::AlreadyClosed) => Poll::Ready(Ok(())),
            Err(e) => Poll::Ready(Err(io_error(e))),
        }
    }

    /// Sends a normal close frame, then shuts the stream down.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match ready!(Pin::new(&mut self.get_mut().ws).poll_close(cx)) {
            Ok(()) | Err(WsError::AlreadyClosed) | Err(WsError::ConnectionClosed) => {
                Poll::Ready(Ok(()))
            }
            Err(e) => Poll::Ready(Err(io_error(e))),
        }
    }
}

/// Why the client side of the upgrade failed, in words a person can act on.
pub fn handshake_error(e: WsError) -> String {
    match e {
        WsError::Http(resp) => {
            let status = resp.status();
            let body = resp
                .body()
                .as_deref()
                .map(|b| String::from_utf8_lossy(b).trim().to_string())
                .filter(|b| !b.is_empty());
            match body {
                Some(b) => format!("the server answered HTTP {status}: {b}"),
                None => format!("the server answered HTTP {status}"),
            }
        }
        WsError::Protocol(p) => format!("{p}"),
        other => other.to_string(),
    }
}

/// Runs the client side of the upgrade over `stream` (TCP or TLS), asking for the `mqtt`
/// subprotocol at `host:port` + `path`.
pub async fn connect<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    host: &str,
    port: u16,
    path: &str,
    tls: bool,
    max_size: usize,
) -> Result<WsStream<S>, String> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::http::HeaderValue;
    let scheme = if tls { "wss" } else { "ws" };
    let path = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    };
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    let url = format!("{scheme}://{host}:{port}{path}");
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| format!("invalid WebSocket URL '{url}': {e}"))?;
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("mqtt"));
    let (ws, _) =
        tokio_tungstenite::client_async_with_config(request, stream, Some(config(max_size)))
            .await
            .map_err(handshake_error)?;
    Ok(WsStream::new(ws))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Feeds `wire` to a server stream with frame limit `max`: the read must fail and the
    /// close frame sent back must carry `code`; returns the read error's text.
    async fn refused_with(wire: &[u8], max: usize, code: u16) -> String {
        let (a, mut b) = tokio::io::duplex(1024);
        let mut ws = server_after_upgrade(a, max).await;
        b.write_all(wire).await.unwrap();
        let mut buf = [0u8; 8];
        let err = ws.read(&mut buf).await.unwrap_err().to_string();
        ws.flush().await.unwrap();
        let mut close = [0u8; 4];
        b.read_exact(&mut close).await.unwrap();
        assert_eq!(close[0], 0x88, "a close frame");
        assert_eq!(u16::from_be_bytes([close[2], close[3]]), code, "{err}");
        err
    }

    async fn server_after_upgrade<S: AsyncRead + AsyncWrite + Unpin>(
        stream: S,
        max_size: usize,
    ) -> WsStream<S> {
        WsStream::after_handshake(stream, Vec::new(), Role::Server, config(max_size)).await
    }

    /// A masked client frame: FIN + `opcode`, `payload` (short lengths only).
    fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mask = [1u8, 2, 3, 4];
        let mut f = vec![0x80 | opcode, 0x80 | payload.len() as u8];
        f.extend_from_slice(&mask);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        f
    }

    #[tokio::test]
    async fn binary_frames_read_as_one_byte_stream_split_anywhere() {
        let (a, mut b) = tokio::io::duplex(1024);
        let mut ws = server_after_upgrade(a, 1 << 20).await;
        // One PINGREQ split over two frames, the second sent in two writes mid-header.
        b.write_all(&frame(2, &[0xc0])).await.unwrap();
        let second = frame(2, &[0x00]);
        b.write_all(&second[..1]).await.unwrap();
        b.flush().await.unwrap();
        tokio::task::yield_now().await;
        b.write_all(&second[1..]).await.unwrap();
        let mut got = [0u8; 2];
        ws.read_exact(&mut got).await.unwrap();
        assert_eq!(got, [0xc0, 0x00]);
        // Writes go out as single binary frames (unmasked from the server).
        ws.write_all(&[0xd0, 0x00]).await.unwrap();
        ws.flush().await.unwrap();
        let mut out = [0u8; 4];
        b.read_exact(&mut out).await.unwrap();
        assert_eq!(out, [0x82, 2, 0xd0, 0x00]);
    }

    #[tokio::test]
    async fn frames_already_received_are_read_at_once_and_a_text_frame_behind_them_waits() {
        let (a, mut b) = tokio::io::duplex(1024);
        let mut ws = server_after_upgrade(a, 1 << 20).await;
        let mut wire = frame(2, &[0xc0, 0x00]);
        wire.extend(frame(2, &[0xc0, 0x00]));
        wire.extend(frame(1, b"x"));
        b.write_all(&wire).await.unwrap();
        let mut buf = [0u8; 64];
        assert_eq!(
            ws.read(&mut buf).await.unwrap(),
            4,
            "both frames in one read"
        );
        assert!(
            ws.read(&mut buf).await.is_err(),
            "then the text frame is refused"
        );
    }

    #[tokio::test]
    async fn a_text_frame_is_refused_with_close_code_1003() {
        let err = refused_with(&frame(1, b"hello"), 1 << 20, 1003).await;
        assert!(err.contains("[MQTT-6.0.0-1]"), "{err}");
    }

    #[tokio::test]
    async fn an_oversized_frame_is_refused_with_close_code_1009() {
        let err = refused_with(&frame(2, &[0u8; 100]), 16, 1009).await;
        assert!(err.contains("1009"), "{err}");
    }

    #[tokio::test]
    async fn an_unmasked_client_frame_is_a_protocol_error_1002() {
        refused_with(&[0x82, 1, 0xc0], 1 << 20, 1002).await;
    }

    #[tokio::test]
    async fn a_peer_vanishing_mid_header_is_the_end_of_the_stream() {
        let (a, mut b) = tokio::io::duplex(1024);
        let mut ws = server_after_upgrade(a, 1 << 20).await;
        b.write_all(&frame(2, &[0xc0, 0x00])[..3]).await.unwrap();
        drop(b);
        let mut buf = [0u8; 8];
        assert_eq!(ws.read(&mut buf).await.unwrap(), 0);
    }
}
