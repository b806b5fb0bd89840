//! Helpers of the web tests: waiting for a broker's log line, a raw HTTP client, and a raw
//! WebSocket client for byte-level frames.

use super::{Conf, PATIENCE, TestBroker};
use bytes::BytesMut;
use mq::protocol::{self, Packet, Version};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// `mq broker` with one loopback listener per entry of `listeners` (the lines that follow
/// its `listener` line), then the global `extra` lines.
pub fn web_broker(listeners: &[&str], extra: &str) -> TestBroker {
    let mut conf = Conf::bare().line(listeners[0]);
    for l in &listeners[1..] {
        conf = conf.listener().line(l);
    }
    TestBroker::mq(conf.line(extra))
}

/// A password file in `dir` with one user, written by `mq passwd -b`.
pub fn password_file(dir: &std::path::Path, user: &str, pass: &str) -> std::path::PathBuf {
    let file = dir.join("passwd");
    let st = super::mq_process()
        .args(["passwd", "-c", "-b"])
        .arg(&file)
        .args([user, pass])
        .status()
        .unwrap();
    assert!(st.success(), "mq passwd");
    file
}

/// Waits (up to [`PATIENCE`]) for a log line of `broker` containing every one of `needles`.
pub fn logged(broker: &TestBroker, needles: &[&str]) -> bool {
    broker.log_lines().wait_until(PATIENCE, |lines| {
        lines.iter().any(|l| needles.iter().all(|n| l.contains(n)))
    })
}

/// An HTTP answer: status, head (lower-cased header lines) and body.
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// The header lines, lower case.
    pub head: String,
    /// The body.
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends `request` as is to 127.0.0.1:`port` and reads the answer until the server closes.
pub fn http_raw(port: u16, request: &[u8]) -> Answer {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request).unwrap();
    let mut all = Vec::new();
    let _ = s.read_to_end(&mut all);
    parse_answer(&all)
}

fn parse_answer(all: &[u8]) -> Answer {
    let split = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP head in {:?}", String::from_utf8_lossy(all)));
    let head = String::from_utf8_lossy(&all[..split]).to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap();
    Answer {
        status,
        head,
        body: all[split + 4..].to_vec(),
    }
}

/// `METHOD path` with optional extra header lines.
pub fn http(port: u16, method: &str, path: &str, headers: &[&str]) -> Answer {
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n");
    for h in headers {
        req.push_str(h);
        req.push_str("\r\n");
    }
    req.push_str("\r\n");
    http_raw(port, req.as_bytes())
}

/// The header lines of a good upgrade request, without the subprotocol.
pub const UPGRADE: &str = "Upgrade: websocket\r\nConnection: Upgrade\r\n\
     Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

/// A WebSocket client at the byte level: masked frames out, frames in.
pub struct RawWs {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl RawWs {
    /// Upgrades with `headers` (the request's header lines); the answer when it is not 101.
    pub fn open(port: u16, headers: &str) -> Result<RawWs, Answer> {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let req = format!("GET /mqtt HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n");
        s.write_all(req.as_bytes()).unwrap();
        let mut all = Vec::new();
        let mut byte = [0u8; 1];
        while !all.ends_with(b"\r\n\r\n") {
            match s.read(&mut byte) {
                Ok(1) => all.push(byte[0]),
                _ => break,
            }
        }
        if all.starts_with(b"HTTP/1.1 101") {
            return Ok(RawWs {
                stream: s,
                buf: Vec::new(),
            });
        }
        let _ = s.read_to_end(&mut all);
        Err(parse_answer(&all))
    }

    /// Upgrades with the `mqtt` subprotocol and sends CONNECT for `id` (3.1.1); CONNACK read.
    pub fn mqtt(port: u16, id: &str) -> RawWs {
        let mut ws = RawWs::open(port, &format!("{UPGRADE}Sec-WebSocket-Protocol: mqtt\r\n"))
            .unwrap_or_else(|a| panic!("upgrade refused: {} {}", a.status, a.text()));
        ws.send_packet(&super::connect_packet(id, true, 60, Version::V311));
        let (op, payload) = ws.frame().expect("CONNACK frame");
        assert_eq!((op, &payload[..]), (2, &[0x20, 2, 0, 0][..]));
        ws
    }

    /// Sends `packet` in one binary frame.
    pub fn send_packet(&mut self, packet: &Packet) {
        let mut b = BytesMut::new();
        protocol::encode(packet, Version::V311, &mut b).unwrap();
        self.send(2, &b);
    }

    /// Sends one masked frame with `opcode`.
    pub fn send(&mut self, opcode: u8, payload: &[u8]) {
        let bytes = masked_frame(opcode, payload);
        self.send_raw(&bytes);
    }

    /// Writes bytes as they are.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// The next frame (opcode, payload); `None` when the connection closed.
    pub fn frame(&mut self) -> Option<(u8, Vec<u8>)> {
        loop {
            if self.buf.len() >= 2 {
                let op = self.buf[0] & 0x0f;
                let (len, start) = match self.buf[1] & 0x7f {
                    126 if self.buf.len() >= 4 => {
                        (u16::from_be_bytes([self.buf[2], self.buf[3]]) as usize, 4)
                    }
                    126 | 127 => (usize::MAX, 0),
                    n => (n as usize, 2),
                };
                if len != usize::MAX && self.buf.len() >= start + len {
                    let payload = self.buf[start..start + len].to_vec();
                    self.buf.drain(..start + len);
                    return Some((op, payload));
                }
            }
            let mut chunk = [0u8; 4096];
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Reads frames until a close frame; its status code.
    pub fn close_code(&mut self) -> Option<u16> {
        while let Some((op, payload)) = self.frame() {
            if op == 8 {
                return (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]));
            }
        }
        None
    }
}

/// A client frame: FIN, `opcode`, masked `payload`.
pub fn masked_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mask = [0x11u8, 0x22, 0x33, 0x44];
    let mut f = vec![0x80 | opcode];
    match payload.len() {
        n if n < 126 => f.push(0x80 | n as u8),
        n if n < 65536 => {
            f.push(0x80 | 126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(0x80 | 127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    f.extend_from_slice(&mask);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    f
}
