//! Framed packet I/O over any byte stream.
//!
//! A [`Connection`] owns a stream (TCP, TLS, an in-memory duplex in tests), a read buffer that
//! [`Connection::read_packet`] decodes packets out of, and a write buffer that
//! [`Connection::write_packet`] encodes into. Nothing reaches the socket until
//! [`Connection::flush`], so a burst of packets costs one system call.
//!
//! `read_packet` is cancel-safe: bytes read so far stay in the buffer, so it can sit in a
//! `tokio::select!` beside a command channel and a keepalive timer.

use crate::protocol::{self, DecodeError, EncodeError, MAX_REMAINING_LENGTH, Packet, Version};
use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// How much the read buffer grows by before each read.
const READ_CHUNK: usize = 16 * 1024;

/// Why a connection failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    /// The socket failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The peer sent bytes that are not a valid packet.
    #[error("malformed packet: {0}")]
    Decode(#[from] DecodeError),
    /// A packet could not be encoded.
    #[error("cannot encode packet: {0}")]
    Encode(#[from] EncodeError),
    /// The peer closed the stream in the middle of a packet.
    #[error("connection closed in the middle of a packet")]
    Truncated,
}

/// A packet stream: decode from a read buffer, encode into a write buffer.
#[derive(Debug)]
pub struct Connection<S> {
    stream: S,
    rbuf: BytesMut,
    wbuf: BytesMut,
    version: Version,
    max_packet_size: u32,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    /// Wraps `stream`, speaking `version`, accepting packets up to the protocol maximum.
    pub fn new(stream: S, version: Version) -> Connection<S> {
        Connection {
            stream,
            rbuf: BytesMut::with_capacity(READ_CHUNK),
            wbuf: BytesMut::with_capacity(READ_CHUNK),
            version,
            max_packet_size: MAX_REMAINING_LENGTH + 5,
        }
    }

    /// The protocol version used to encode and decode.
    pub fn version(&self) -> Version {
        self.version
    }

    /// Changes the protocol version (a server learns it from CONNECT).
    pub fn set_version(&mut self, version: Version) {
        self.version = version;
    }

    /// Refuses incoming packets larger than `max` bytes (whole packet, header included).
    pub fn set_max_packet_size(&mut self, max: u32) {
        self.max_packet_size = max;
    }

    /// Reads the next packet; `Ok(None)` when the peer closed the stream between packets.
    ///
    /// Cancel-safe: a partial packet stays buffered for the next call.
    pub async fn read_packet(&mut self) -> Result<Option<Packet>, ConnectionError> {
        loop {
            if let Some(p) = protocol::decode(&mut self.rbuf, self.version, self.max_packet_size)? {
                return Ok(Some(p));
            }
            self.rbuf.reserve(READ_CHUNK);
            if self.stream.read_buf(&mut self.rbuf).await? == 0 {
                return if self.rbuf.is_empty() {
                    Ok(None)
                } else {
                    Err(ConnectionError::Truncated)
                };
            }
        }
    }

    /// The bytes received and not yet decoded (for diagnosing a peer that does not speak
    /// MQTT at all).
    pub fn buffered(&self) -> &[u8] {
        &self.rbuf
    }

    /// Decodes a packet already in the read buffer, without touching the socket.
    pub fn try_read_packet(&mut self) -> Result<Option<Packet>, ConnectionError> {
        Ok(protocol::decode(
            &mut self.rbuf,
            self.version,
            self.max_packet_size,
        )?)
    }

    /// Encodes `packet` into the write buffer; call [`Connection::flush`] to send it.
    pub fn write_packet(&mut self, packet: &Packet) -> Result<(), ConnectionError> {
        protocol::encode(packet, self.version, &mut self.wbuf)?;
        Ok(())
    }

    /// Bytes encoded but not yet flushed.
    pub fn pending(&self) -> usize {
        self.wbuf.len()
    }

    /// Writes out everything buffered.
    pub async fn flush(&mut self) -> Result<(), ConnectionError> {
        if !self.wbuf.is_empty() {
            self.stream.write_all(&self.wbuf).await?;
            self.wbuf.clear();
        }
        self.stream.flush().await?;
        Ok(())
    }

    /// Flushes, then shuts the write side down (TCP FIN, TLS close_notify).
    pub async fn shutdown(&mut self) -> Result<(), ConnectionError> {
        self.flush().await?;
        self.stream.shutdown().await?;
        Ok(())
    }

    /// The underlying stream.
    pub fn get_ref(&self) -> &S {
        &self.stream
    }
}
