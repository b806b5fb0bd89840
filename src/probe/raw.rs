//! A bare MQTT connection for payloads too large to hold: a PUBLISH is written as its header
//! followed by the payload in small chunks, and an incoming PUBLISH over [`SMALL`] bytes is
//! skipped as it arrives, counted but never buffered. Probing a broker up to MQTT's 256 MiB
//! limit therefore costs this process a few kilobytes, not a copy of each payload.
//!
//! It speaks just enough MQTT for that probe (CONNECT, SUBSCRIBE, PUBLISH in and out, reading
//! what comes back); everything else goes through the shared [`crate::client`].

use crate::client::{ClientError, ClientOptions, open_stream};
use crate::protocol::{self, ConnAck, Packet, PacketType, Publish, Version};
use crate::transport::Stream;
use bytes::{Buf, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Packets up to this size are buffered and decoded; larger PUBLISH packets are skipped.
pub const SMALL: usize = 64 * 1024;
/// Bytes written or read per system call while streaming.
const CHUNK: usize = 64 * 1024;

/// What arrived.
#[derive(Debug)]
pub enum Incoming {
    /// A packet small enough to decode.
    Packet(Packet),
    /// A PUBLISH whose remaining length (variable header and payload) was this many bytes,
    /// read and dropped.
    Large(usize),
}

/// A connection that streams large payloads.
#[derive(Debug)]
pub struct RawLink {
    stream: Stream,
    buf: BytesMut,
    version: Version,
}

fn lost(e: impl std::fmt::Display) -> ClientError {
    ClientError::ConnectionLost(e.to_string())
}

impl RawLink {
    /// Opens the stream `opts` describe, sends their CONNECT and waits for a successful
    /// CONNACK (within `opts.connect_timeout`).
    pub async fn connect(opts: &ClientOptions) -> Result<(RawLink, ConnAck), ClientError> {
        let open = async {
            let stream = open_stream(opts).await?;
            let mut link = RawLink {
                stream,
                buf: BytesMut::with_capacity(4096),
                version: opts.version,
            };
            link.send(&Packet::Connect(Box::new(opts.connect_packet())))
                .await?;
            match link.recv().await? {
                Incoming::Packet(Packet::ConnAck(ack)) if ack.reason.is_error() => {
                    Err(ClientError::Refused {
                        version: opts.version,
                        reason: ack.reason,
                    })
                }
                Incoming::Packet(Packet::ConnAck(ack)) => Ok((link, ack)),
                other => Err(ClientError::Protocol(format!(
                    "expected CONNACK, got {other:?}"
                ))),
            }
        };
        tokio::time::timeout(opts.connect_timeout, open)
            .await
            .unwrap_or(Err(ClientError::Timeout))
    }

    /// Sends one packet.
    pub async fn send(&mut self, packet: &Packet) -> Result<(), ClientError> {
        let mut out = BytesMut::new();
        protocol::encode(packet, self.version, &mut out)
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        self.stream.write_all(&out).await.map_err(lost)?;
        self.stream.flush().await.map_err(lost)
    }

    /// Sends `publish` (whose own payload is empty) with a payload of `size` zero bytes,
    /// written a chunk at a time.
    pub async fn send_streamed(
        &mut self,
        publish: &Publish,
        size: usize,
    ) -> Result<(), ClientError> {
        let mut head = BytesMut::new();
        protocol::encode_publish_head(publish, size, self.version, &mut head)
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        self.stream.write_all(&head).await.map_err(lost)?;
        let zeros = [0u8; CHUNK];
        let mut left = size;
        while left > 0 {
            let n = left.min(CHUNK);
            self.stream.write_all(&zeros[..n]).await.map_err(lost)?;
            left -= n;
        }
        self.stream.flush().await.map_err(lost)
    }

    /// The next packet, or the size of a large PUBLISH that went by.
    pub async fn recv(&mut self) -> Result<Incoming, ClientError> {
        loop {
            let header = protocol::peek_header(&self.buf, self.version)
                .map_err(|e| ClientError::Protocol(e.to_string()))?;
            if let Some((kind, header_len, remaining)) = header {
                if kind == PacketType::Publish && header_len + remaining > SMALL {
                    self.buf.advance(header_len);
                    self.skip(remaining).await?;
                    return Ok(Incoming::Large(remaining));
                }
                let decoded = protocol::decode(&mut self.buf, self.version, u32::MAX)
                    .map_err(|e| ClientError::Protocol(e.to_string()))?;
                if let Some(p) = decoded {
                    return Ok(Incoming::Packet(p));
                }
            }
            self.fill().await?;
        }
    }

    /// Reads more bytes into the buffer.
    async fn fill(&mut self) -> Result<(), ClientError> {
        self.buf.reserve(CHUNK);
        match self.stream.read_buf(&mut self.buf).await {
            Ok(0) => Err(ClientError::ConnectionLost("closed by the broker".into())),
            Ok(_) => Ok(()),
            Err(e) => Err(lost(e)),
        }
    }

    /// Drops the next `n` bytes of the stream, buffered ones first.
    async fn skip(&mut self, mut n: usize) -> Result<(), ClientError> {
        let buffered = n.min(self.buf.len());
        self.buf.advance(buffered);
        n -= buffered;
        let mut scratch = vec![0u8; CHUNK];
        while n > 0 {
            let want = n.min(CHUNK);
            match self.stream.read(&mut scratch[..want]).await {
                Ok(0) => return Err(ClientError::ConnectionLost("closed mid-packet".into())),
                Ok(got) => n -= got,
                Err(e) => return Err(lost(e)),
            }
        }
        Ok(())
    }
}
