//! `mq bench --ws`: MQTT over WebSockets for the lean connection, sans-IO like its TLS.
//!
//! ```text
//!  queue(packet) ─▶ one masked binary frame per packet ─▶ tx ─▶ (TLS) ─▶ socket
//!  socket ─▶ (TLS) ─▶ raw ─▶ frames: binary payloads ─▶ rx ─▶ decode
//!                              ping ─▶ pong into tx; close ─▶ the connection ends
//! ```
//!
//! One frame per packet is what browser clients (MQTT.js) send, so the broker sees the same
//! framing work as from a web page. Frame headers are built and parsed by tungstenite's
//! [`FrameHeader`]; the upgrade request is checked against tungstenite's accept key.

use super::stats::Cause;
use bytes::{Buf, BytesMut};
use std::io::Cursor;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::FrameHeader;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Control, Data, OpCode};

/// Where the upgrade goes: the `Host` header value and the request path.
#[derive(Clone, Debug)]
pub struct WsRequest {
    /// `host:port`.
    pub host: String,
    /// The request path (`/mqtt`).
    pub path: String,
}

impl WsRequest {
    /// The upgrade request and the key its answer must be derived from.
    pub fn encode(&self) -> (Vec<u8>, String) {
        use base64::Engine;
        let key = base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 16]>());
        let req = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Protocol: mqtt\r\n\r\n",
            self.path, self.host
        );
        (req.into_bytes(), key)
    }
}

/// Checks the answer to the upgrade at the start of `rx`; removes it. `Ok(false)` while
/// the answer is incomplete.
pub fn check_answer(rx: &mut BytesMut, key: &str) -> Result<bool, Cause> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut resp = httparse::Response::new(&mut headers);
    let used = match resp.parse(rx) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(false),
        Err(_) => return Err(Cause::Protocol),
    };
    if resp.code != Some(101) {
        return Err(Cause::WebSocket(resp.code.unwrap_or(0)));
    }
    let expected = derive_accept_key(key.as_bytes());
    let accepted = resp.headers.iter().any(|h| {
        h.name.eq_ignore_ascii_case("sec-websocket-accept") && h.value == expected.as_bytes()
    });
    if !accepted {
        return Err(Cause::Protocol);
    }
    rx.advance(used);
    Ok(true)
}

/// Appends `payload` to `out` as one masked binary frame.
pub fn frame(payload: &[u8], out: &mut BytesMut) {
    frame_with(OpCode::Data(Data::Binary), payload, out);
}

fn frame_with(opcode: OpCode, payload: &[u8], out: &mut BytesMut) {
    let mask: [u8; 4] = rand::random();
    let header = FrameHeader {
        opcode,
        mask: Some(mask),
        ..FrameHeader::default()
    };
    let mut head = Vec::with_capacity(14);
    // Writing into a Vec cannot fail.
    let _ = header.format(payload.len() as u64, &mut head);
    out.extend_from_slice(&head);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i & 3]));
}

/// Moves the payloads of the complete frames in `raw` into `rx`; answers pings into `tx`.
pub fn deframe(raw: &mut BytesMut, rx: &mut BytesMut, tx: &mut BytesMut) -> Result<(), Cause> {
    loop {
        let mut cursor = Cursor::new(&raw[..]);
        let Some((header, len)) = FrameHeader::parse(&mut cursor).map_err(|_| Cause::Protocol)?
        else {
            return Ok(());
        };
        let start = cursor.position() as usize;
        let Some(end) = usize::try_from(len).ok().and_then(|l| start.checked_add(l)) else {
            return Err(Cause::Protocol);
        };
        if raw.len() < end {
            return Ok(());
        }
        let payload = &raw[start..end];
        match header.opcode {
            OpCode::Data(Data::Binary | Data::Continue) => rx.extend_from_slice(payload),
            OpCode::Control(Control::Ping) => {
                frame_with(OpCode::Control(Control::Pong), payload, tx)
            }
            OpCode::Control(Control::Pong) => {}
            OpCode::Control(Control::Close) => return Err(Cause::Closed),
            _ => return Err(Cause::Protocol),
        }
        raw.advance(end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_pings_are_answered() {
        let mut wire = BytesMut::new();
        frame(&[0xc0, 0x00], &mut wire);
        assert_eq!(wire[0], 0x82);
        assert_eq!(wire[1], 0x80 | 2, "masked, two bytes");
        // A server frame (unmasked): a ping, then a binary frame split in the middle.
        let mut raw = BytesMut::from(&[0x89, 0x01, 0x07, 0x82, 0x02, 0xd0][..]);
        let (mut rx, mut tx) = (BytesMut::new(), BytesMut::new());
        deframe(&mut raw, &mut rx, &mut tx).unwrap();
        assert!(rx.is_empty() && raw.len() == 3);
        assert_eq!(&tx[..2], &[0x8a, 0x81], "a masked pong");
        raw.extend_from_slice(&[0x00]);
        deframe(&mut raw, &mut rx, &mut tx).unwrap();
        assert_eq!(&rx[..], &[0xd0, 0x00]);
        let mut close = BytesMut::from(&[0x88, 0x00][..]);
        assert!(matches!(
            deframe(&mut close, &mut rx, &mut tx),
            Err(Cause::Closed)
        ));
    }

    #[test]
    fn the_answer_must_switch_protocols_with_the_right_key() {
        let key = "dGhlIHNhbXBsZSBub25jZQ==";
        let good = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
                    Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x10";
        let mut rx = BytesMut::from(good.as_bytes());
        assert!(check_answer(&mut rx, key).unwrap());
        assert_eq!(&rx[..], b"\x10");
        let mut rx = BytesMut::from(&b"HTTP/1.1 404 Not Found\r\n\r\n"[..]);
        assert!(matches!(
            check_answer(&mut rx, key),
            Err(Cause::WebSocket(404))
        ));
        let mut rx = BytesMut::from(&b"HTTP/1.1 101 OK\r\n"[..]);
        assert!(!check_answer(&mut rx, key).unwrap());
    }
}
