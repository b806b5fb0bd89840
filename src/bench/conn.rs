//! A lean MQTT connection for the load generator: a bare `TcpStream`, a receive buffer that
//! holds memory only while a packet is partly read, and a send buffer that holds memory only
//! while something waits to be written. An idle connection costs its task and socket, no more.

use super::stats::Cause;
use super::ws::WsRequest;
use crate::connection::Framer;
use crate::protocol::{
    self, ConnAck, Connect, DecodeError, Packet, Props, QoS, ReasonCode, SubAck, Subscribe,
    Subscription, SubscriptionOptions, Version,
};
use crate::topic::TopicFilter;
use bytes::{Bytes, BytesMut};
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU16;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpSocket, TcpStream};

/// Bytes read per system call, on the stack of the reading function.
const READ_CHUNK: usize = 8192;

/// What a client sends in CONNECT.
#[derive(Clone, Debug)]
pub struct Login {
    /// Protocol version.
    pub version: Version,
    /// Client id.
    pub client_id: String,
    /// Clean session / clean start.
    pub clean: bool,
    /// Keepalive seconds.
    pub keepalive: u16,
    /// User name.
    pub username: Option<String>,
    /// Password.
    pub password: Option<Bytes>,
}

/// One connection: the socket and its two lazily allocated buffers.
#[derive(Debug)]
pub struct Wire {
    /// The socket.
    pub stream: TcpStream,
    /// The framing shared with the client and the broker: packets in its receive buffer, plain
    /// MQTT bytes waiting to be written (or, with TLS, to be handed to rustls) in its send
    /// buffer. Both are given back when drained, so an idle connection holds none.
    frames: Framer,
    /// rustls driven sans-IO over the non-blocking socket, when TLS is on.
    tls: Option<Box<rustls::ClientConnection>>,
    /// WebSocket frames not yet taken apart, once the connection is upgraded (`--ws`).
    ws: Option<BytesMut>,
}

/// `Read`/`Write` over a tokio socket's non-blocking calls, for rustls: `WouldBlock` when the
/// socket is not ready, which also clears tokio's readiness so that the next wait is real.
struct SockIo<'a>(&'a TcpStream);

impl Read for SockIo<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.try_read(buf)
    }
}

impl Write for SockIo<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.try_write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The same words as the other clients use for a refused handshake.
fn tls_cause(e: &rustls::Error) -> Cause {
    Cause::Tls(crate::tls::HandshakeFailure::from_rustls(e, crate::tls::Side::Client).to_string())
}

/// Opens a TCP connection to `addr`, from `local` if given.
pub async fn tcp(addr: SocketAddr, local: Option<IpAddr>) -> io::Result<TcpStream> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    if let Some(ip) = local {
        socket.bind(SocketAddr::new(ip, 0))?;
    }
    let stream = socket.connect(addr).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

impl Wire {
    /// Wraps a connected socket.
    pub fn new(stream: TcpStream, version: Version) -> Wire {
        Wire {
            stream,
            frames: Framer::new(version),
            tls: None,
            ws: None,
        }
    }

    /// Upgrades the connection to a WebSocket; every packet queued from now on is a frame.
    pub async fn upgrade(&mut self, request: &WsRequest) -> Result<(), Cause> {
        let (bytes, key) = request.encode();
        self.frames.encode_raw(&bytes);
        self.flush().await?;
        while !super::ws::check_answer(self.frames.rx_mut(), &key)? {
            self.stream.readable().await.map_err(|e| Cause::of_io(&e))?;
            self.try_fill()?;
        }
        // Whatever followed the answer is already framed.
        self.ws = Some(std::mem::take(self.frames.rx_mut()));
        Ok(())
    }

    /// Starts TLS on the connection; the handshake runs as the first bytes are exchanged.
    pub fn start_tls(
        &mut self,
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
    ) -> Result<(), Cause> {
        let conn = rustls::ClientConnection::new(config, name).map_err(|e| tls_cause(&e))?;
        self.tls = Some(Box::new(conn));
        Ok(())
    }

    /// Sends CONNECT and waits for CONNACK; a refusal is `Cause::ConnAck(code)`.
    pub async fn login(&mut self, login: &Login) -> Result<ConnAck, Cause> {
        let mut properties = Props::default();
        if login.version.is_v5() && !login.clean {
            // v5 ends the session at disconnect unless told otherwise.
            properties.session_expiry_interval = Some(u32::MAX);
        }
        let connect = Packet::Connect(Box::new(Connect {
            version: login.version,
            client_id: login.client_id.clone(),
            clean_start: login.clean,
            keep_alive: login.keepalive,
            username: login.username.clone(),
            password: login.password.clone(),
            will: None,
            properties,
            bridge: false,
        }));
        self.queue(&connect)?;
        self.flush().await?;
        match self.next_packet().await? {
            Packet::ConnAck(ack) if ack.reason == ReasonCode::Success => Ok(ack),
            Packet::ConnAck(ack) => Err(Cause::ConnAck(if self.frames.version().is_v5() {
                ack.reason.as_u8()
            } else {
                ack.reason.to_v3_connack()
            })),
            _ => Err(Cause::Protocol),
        }
    }

    /// Subscribes to `filter` and waits for the SUBACK.
    pub async fn subscribe(&mut self, filter: TopicFilter, qos: QoS) -> Result<(), Cause> {
        let id = NonZeroU16::MIN;
        let sub = Packet::Subscribe(Subscribe {
            packet_id: id,
            subscriptions: vec![Subscription {
                filter,
                options: SubscriptionOptions {
                    qos,
                    ..SubscriptionOptions::default()
                },
            }],
            properties: Props::default(),
        });
        self.queue(&sub)?;
        self.flush().await?;
        loop {
            match self.next_packet().await? {
                Packet::SubAck(SubAck {
                    packet_id, reasons, ..
                }) if packet_id == id => {
                    return match reasons.first() {
                        Some(r) if !r.is_error() => Ok(()),
                        _ => Err(Cause::SubAckRefused),
                    };
                }
                // Retained messages may arrive before the SUBACK.
                Packet::Publish(_) => {}
                _ => return Err(Cause::Protocol),
            }
        }
    }

    /// Encodes `packet` into the send buffer.
    pub fn queue(&mut self, packet: &Packet) -> Result<(), Cause> {
        if self.ws.is_none() {
            return self.frames.encode(packet).map_err(|_| Cause::Protocol);
        }
        let mut bytes = BytesMut::new();
        protocol::encode(packet, self.frames.version(), &mut bytes).map_err(|_| Cause::Protocol)?;
        self.queue_raw(&bytes);
        Ok(())
    }

    /// Appends already encoded bytes to the send buffer (as one frame over WebSockets).
    pub fn queue_raw(&mut self, bytes: &[u8]) {
        match self.ws {
            Some(_) => super::ws::frame(bytes, self.frames.tx_mut()),
            None => self.frames.encode_raw(bytes),
        }
    }

    /// Bytes waiting to be written.
    pub fn pending_out(&self) -> usize {
        let tls_pending = self.tls.as_ref().is_some_and(|t| t.wants_write());
        self.frames.pending() + usize::from(tls_pending)
    }

    /// Writes what the socket takes now without waiting; frees the buffer once empty.
    pub fn try_flush(&mut self) -> Result<(), Cause> {
        if self.tls.is_some() {
            return self.try_flush_tls();
        }
        while self.frames.pending() > 0 {
            match self.stream.try_write(self.frames.tx()) {
                Ok(0) => return Err(Cause::Closed),
                Ok(n) => self.frames.written(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(Cause::of_io(&e)),
            }
        }
        Ok(())
    }

    /// TLS: writes pending records, then hands the next plain bytes to rustls only once the
    /// previous records are out, so that rustls buffers at most one batch.
    fn try_flush_tls(&mut self) -> Result<(), Cause> {
        let Some(tls) = self.tls.as_mut() else {
            return Ok(());
        };
        loop {
            while tls.wants_write() {
                match tls.write_tls(&mut SockIo(&self.stream)) {
                    Ok(0) => return Err(Cause::Closed),
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                    Err(e) => return Err(Cause::of_io(&e)),
                }
            }
            let n = self.frames.pending();
            if n == 0 {
                return Ok(());
            }
            tls.writer()
                .write_all(self.frames.tx())
                .map_err(|e| Cause::of_io(&e))?;
            self.frames.written(n);
        }
    }

    /// Writes the whole send buffer.
    pub async fn flush(&mut self) -> Result<(), Cause> {
        loop {
            self.try_flush()?;
            if self.pending_out() == 0 {
                return Ok(());
            }
            self.stream.writable().await.map_err(|e| Cause::of_io(&e))?;
        }
    }

    /// Reads what the socket has now into the receive buffer (through TLS and WebSocket
    /// frames when they are on); `Ok(false)` if nothing was ready.
    pub fn try_fill(&mut self) -> Result<bool, Cause> {
        let any = if self.tls.is_some() {
            self.try_fill_tls()?
        } else {
            self.try_fill_plain()?
        };
        if let Some(raw) = &mut self.ws {
            let (rx, tx) = self.frames.buffers_mut();
            super::ws::deframe(raw, rx, tx)?;
            if raw.is_empty() {
                *raw = BytesMut::new();
            }
        }
        Ok(any)
    }

    /// The bytes read land in the WebSocket buffer once upgraded, else in the packet buffer.
    fn inbox(&mut self) -> &mut BytesMut {
        match &mut self.ws {
            Some(raw) => raw,
            None => self.frames.rx_mut(),
        }
    }

    /// Reads at most `max` bytes of what a plain TCP socket has now into the packet buffer
    /// (a slow reader's paced read); returns how many.
    pub fn try_fill_at_most(&mut self, max: usize) -> Result<usize, Cause> {
        let mut chunk = [0u8; READ_CHUNK];
        let mut total = 0;
        while total < max {
            let want = (max - total).min(READ_CHUNK);
            match self.stream.try_read(&mut chunk[..want]) {
                Ok(0) => return Err(Cause::Closed),
                Ok(n) => {
                    self.frames.rx_mut().extend_from_slice(&chunk[..n]);
                    total += n;
                    if n < want {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(Cause::of_io(&e)),
            }
        }
        Ok(total)
    }

    fn try_fill_plain(&mut self) -> Result<bool, Cause> {
        let mut chunk = [0u8; READ_CHUNK];
        let mut any = false;
        loop {
            match self.stream.try_read(&mut chunk) {
                Ok(0) => return Err(Cause::Closed),
                Ok(n) => {
                    self.inbox().extend_from_slice(&chunk[..n]);
                    any = true;
                    if n < READ_CHUNK {
                        return Ok(any);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(any),
                Err(e) => return Err(Cause::of_io(&e)),
            }
        }
    }

    /// TLS: feeds rustls the records that arrived, takes the plain bytes out, and sends what the
    /// handshake asks for.
    fn try_fill_tls(&mut self) -> Result<bool, Cause> {
        let Some(tls) = self.tls.as_mut() else {
            return Ok(false);
        };
        let mut chunk = [0u8; READ_CHUNK];
        let mut any = false;
        loop {
            let eof = match tls.read_tls(&mut SockIo(&self.stream)) {
                Ok(n) => n == 0,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(Cause::of_io(&e)),
            };
            tls.process_new_packets().map_err(|e| tls_cause(&e))?;
            let inbox = match &mut self.ws {
                Some(raw) => raw,
                None => self.frames.rx_mut(),
            };
            loop {
                match tls.reader().read(&mut chunk) {
                    Ok(0) => return Err(Cause::Closed),
                    Ok(n) => {
                        inbox.extend_from_slice(&chunk[..n]);
                        any = true;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => return Err(Cause::of_io(&e)),
                }
            }
            if eof {
                return Err(Cause::Closed);
            }
        }
        self.try_flush_tls()?;
        Ok(any)
    }

    /// The next complete packet already received, if any; frees the buffer once drained.
    pub fn decode(&mut self) -> Result<Option<Packet>, Cause> {
        if self.frames.rx_len() == 0 {
            return Ok(None);
        }
        let packet = self
            .frames
            .decode()
            .map_err(|_: DecodeError| Cause::Protocol)?;
        self.frames.release_rx_if_drained();
        Ok(packet)
    }

    /// Waits for the next packet.
    pub async fn next_packet(&mut self) -> Result<Packet, Cause> {
        loop {
            if let Some(p) = self.decode()? {
                return Ok(p);
            }
            self.stream.readable().await.map_err(|e| Cause::of_io(&e))?;
            self.try_fill()?;
        }
    }

    /// Sends DISCONNECT without waiting on a full socket.
    pub fn disconnect(&mut self) {
        if self
            .queue(&Packet::Disconnect(protocol::Disconnect::default()))
            .is_ok()
        {
            let _ = self.try_flush();
        }
    }
}

/// How to reach the broker: address, local address, TLS and WebSocket settings.
#[derive(Clone, Copy)]
pub struct Route<'a> {
    /// The broker.
    pub addr: SocketAddr,
    /// Local address to bind.
    pub local: Option<IpAddr>,
    /// TLS client configuration and server name.
    pub tls: Option<&'a (Arc<ClientConfig>, ServerName<'static>)>,
    /// The WebSocket upgrade, with `--ws`.
    pub ws: Option<&'a WsRequest>,
}

/// Opens, logs in and (for subscribers) subscribes, all within `timeout`.
pub async fn establish(
    route: Route<'_>,
    login: &Login,
    subscribe: Option<(TopicFilter, QoS)>,
    timeout: Duration,
) -> Result<Wire, Cause> {
    let work = async {
        let stream = tcp(route.addr, route.local)
            .await
            .map_err(|e| Cause::of_io(&e))?;
        let mut link = Wire::new(stream, login.version);
        if let Some((config, name)) = route.tls {
            link.start_tls(config.clone(), name.clone())?;
        }
        if let Some(request) = route.ws {
            link.upgrade(request).await?;
        }
        link.login(login).await?;
        if let Some((filter, qos)) = subscribe {
            link.subscribe(filter, qos).await?;
        }
        Ok(link)
    };
    tokio::time::timeout(timeout, work)
        .await
        .unwrap_or(Err(Cause::Timeout))
}
