//! Framed packet I/O over any byte stream.
//!
//! [`Framer`] is the framing `mq`'s connections share, free of I/O: bytes in, packets out
//! (streaming decode, oversize refused from the fixed header), packets in, bytes out. Each driver
//! moves its bytes in the shape its job needs:
//!
//! - [`Connection`] here, for the [`crate::client`]: any `AsyncRead + AsyncWrite` stream (TCP,
//!   TLS, WebSocket, an in-memory duplex in tests), awaited in a `select!` beside a command
//!   channel and a keepalive timer;
//! - the load generator's connection (`bench::conn`), over a bare non-blocking socket with TLS
//!   driven sans-IO, which gives both buffers back when drained so that 10,000 idle clients
//!   cost their sockets and not 32 KiB each;
//! - the broker's link (`broker::link`) keeps its own two buffers beside the codec for now: it
//!   polls its socket by hand into a small stack array while idle, and reads oversize PUBLISH
//!   bodies past the codec without holding them.
//!
//! A protocol rule about framing (maximum packet size, a version switch after CONNECT) lands in
//! [`Framer`] once.
//!
//! In a [`Connection`], nothing reaches the socket until [`Connection::flush`], so a burst of
//! packets costs one system call. `read_packet` is cancel-safe: bytes read so far stay in the
//! buffer.

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

/// MQTT framing without I/O: a receive buffer packets are decoded out of, and a send buffer
/// packets are encoded into.
#[derive(Debug)]
pub struct Framer {
    rx: BytesMut,
    tx: BytesMut,
    version: Version,
    max_packet_size: u32,
}

impl Framer {
    /// Empty buffers (they allocate on first use), speaking `version`, accepting packets up to
    /// the protocol maximum.
    pub fn new(version: Version) -> Framer {
        Framer {
            rx: BytesMut::new(),
            tx: BytesMut::new(),
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

    /// Refuses incoming packets larger than `max` bytes (whole packet, header included), from
    /// their fixed header, before their body is buffered.
    pub fn set_max_packet_size(&mut self, max: u32) {
        self.max_packet_size = max;
    }

    /// The receive buffer, for a driver to read into.
    pub fn rx_mut(&mut self) -> &mut BytesMut {
        &mut self.rx
    }

    /// The bytes received and not yet decoded.
    pub fn rx(&self) -> &[u8] {
        &self.rx
    }

    /// Bytes received and not yet decoded.
    pub fn rx_len(&self) -> usize {
        self.rx.len()
    }

    /// The next whole packet received, if any.
    pub fn decode(&mut self) -> Result<Option<Packet>, DecodeError> {
        protocol::decode(&mut self.rx, self.version, self.max_packet_size)
    }

    /// Gives the receive buffer's memory back once everything in it was decoded (for drivers
    /// that keep idle connections bufferless).
    pub fn release_rx_if_drained(&mut self) {
        if self.rx.is_empty() {
            self.rx = BytesMut::new();
        }
    }

    /// Encodes `packet` at the end of the send buffer.
    pub fn encode(&mut self, packet: &Packet) -> Result<(), EncodeError> {
        protocol::encode(packet, self.version, &mut self.tx)
    }

    /// Appends bytes already encoded (a PUBLISH shared by many subscribers, say).
    pub fn encode_raw(&mut self, bytes: &[u8]) {
        self.tx.extend_from_slice(bytes);
    }

    /// Both buffers at once, for a driver that unwraps what it reads into the receive buffer
    /// and must answer on the send one (WebSocket pings, say).
    pub fn buffers_mut(&mut self) -> (&mut BytesMut, &mut BytesMut) {
        (&mut self.rx, &mut self.tx)
    }

    /// The send buffer, for a driver that wraps what it holds (WebSocket frames, say).
    pub fn tx_mut(&mut self) -> &mut BytesMut {
        &mut self.tx
    }

    /// Bytes encoded and not yet written.
    pub fn tx(&self) -> &[u8] {
        &self.tx
    }

    /// Number of bytes encoded and not yet written.
    pub fn pending(&self) -> usize {
        self.tx.len()
    }

    /// `n` bytes of the send buffer were written; its memory is given back once it is empty.
    pub fn written(&mut self, n: usize) {
        if n >= self.tx.len() {
            self.tx = BytesMut::new();
        } else {
            let _ = self.tx.split_to(n);
        }
    }

    /// Empties the send buffer but keeps its memory (for drivers that write often).
    pub fn clear_tx(&mut self) {
        self.tx.clear();
    }
}

/// A packet stream for the client: a [`Framer`] over an async stream.
#[derive(Debug)]
pub struct Connection<S> {
    stream: S,
    frames: Framer,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    /// Wraps `stream`, speaking `version`, accepting packets up to the protocol maximum.
    pub fn new(stream: S, version: Version) -> Connection<S> {
        Connection {
            stream,
            frames: Framer::new(version),
        }
    }

    /// The protocol version used to encode and decode.
    pub fn version(&self) -> Version {
        self.frames.version()
    }

    /// Changes the protocol version (a server learns it from CONNECT).
    pub fn set_version(&mut self, version: Version) {
        self.frames.set_version(version);
    }

    /// Refuses incoming packets larger than `max` bytes (whole packet, header included).
    pub fn set_max_packet_size(&mut self, max: u32) {
        self.frames.set_max_packet_size(max);
    }

    /// Reads the next packet; `Ok(None)` when the peer closed the stream between packets.
    ///
    /// Cancel-safe: a partial packet stays buffered for the next call.
    pub async fn read_packet(&mut self) -> Result<Option<Packet>, ConnectionError> {
        loop {
            if let Some(p) = self.frames.decode()? {
                return Ok(Some(p));
            }
            let rx = self.frames.rx_mut();
            rx.reserve(READ_CHUNK);
            if self.stream.read_buf(rx).await? == 0 {
                return if self.frames.rx_len() == 0 {
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
        self.frames.rx()
    }

    /// Decodes a packet already in the read buffer, without touching the socket.
    pub fn try_read_packet(&mut self) -> Result<Option<Packet>, ConnectionError> {
        Ok(self.frames.decode()?)
    }

    /// Encodes `packet` into the write buffer; call [`Connection::flush`] to send it.
    pub fn write_packet(&mut self, packet: &Packet) -> Result<(), ConnectionError> {
        self.frames.encode(packet)?;
        Ok(())
    }

    /// Bytes encoded but not yet flushed.
    pub fn pending(&self) -> usize {
        self.frames.pending()
    }

    /// Writes out everything buffered.
    pub async fn flush(&mut self) -> Result<(), ConnectionError> {
        if self.frames.pending() > 0 {
            self.stream.write_all(self.frames.tx()).await?;
            self.frames.clear_tx();
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
