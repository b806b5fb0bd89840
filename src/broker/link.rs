//! One task per connection: read packets, answer them, write queued deliveries.
//!
//! ```text
//!  socket ─read─▶ rbuf ─decode─▶ handle ─▶ out: Vec<Packet> ─encode─▶ wbuf ─write─▶ socket
//!                                   │                                   ▲
//!                                router ── session queue ── wake ── fill┘
//! ```
//!
//! The stream type is generic (TCP now, TLS later). Buffers exist only while there is something
//! to read or write: an idle connection reads into a small array on its own stack frame and
//! holds no heap buffer. Everything queued is encoded into one buffer and written with one
//! write call per batch. Writing stops pulling from the session queue above a high-water
//! mark, so a slow reader only fills its own bounded queue.

use super::router::{Router, SessionCell};
use crate::protocol::{self, Packet, ReasonCode, Version};
use bytes::{Buf, BytesMut};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::broadcast;
use tokio::time::Instant;

mod handle;

/// Bytes read at once while a connection is busy.
const READ_CHUNK: usize = 8 * 1024;
/// Bytes read at once while idle (on the task's stack frame, not the heap).
const IDLE_CHUNK: usize = 64;
/// Stop filling the write buffer from the session queue above this many bytes.
const HIGH_WATER: usize = 64 * 1024;

/// What a link needs to know about where it runs.
pub struct LinkContext {
    /// The shared state.
    pub router: Arc<Router>,
    /// Listener index (for access checks).
    pub listener: usize,
    /// Peer address (for logs).
    pub peer: SocketAddr,
    /// Broker shutdown.
    pub shutdown: broadcast::Receiver<()>,
    /// Limits and timeouts from the config.
    pub limits: Arc<LinkLimits>,
}

/// Per-connection limits from the config.
#[derive(Clone, Debug)]
pub struct LinkLimits {
    /// Time to wait for CONNECT.
    pub connect_timeout: Duration,
    /// Largest packet accepted.
    pub max_packet_size: u32,
    /// Largest PUBLISH payload routed (0 = any).
    pub message_size_limit: u32,
    /// Whether retained PUBLISH is allowed.
    pub retain_available: bool,
    /// Largest keepalive; v5 clients asking more are told this one.
    pub max_keepalive: u16,
    /// Whether an empty client id gets a generated one.
    pub allow_zero_length_clientid: bool,
    /// Prefix of generated ids.
    pub auto_id_prefix: String,
}

/// Why a connection ends.
#[derive(Debug)]
pub(crate) enum Close {
    /// DISCONNECT received: no will (unless v5 asked for it).
    Clean { send_will: bool },
    /// Anything else; the text goes to the log.
    Error(String, Option<ReasonCode>),
    /// The broker is shutting down.
    Shutdown,
}

/// Socket buffers and I/O helpers of one connection.
struct Io<R, W> {
    rd: R,
    wr: W,
    rbuf: BytesMut,
    wbuf: BytesMut,
    busy: bool,
    version: Version,
}

impl<R: AsyncRead + Unpin, W: AsyncWrite + Unpin> Io<R, W> {
    /// Reads more bytes; 0 means the peer closed.
    async fn read_more(rd: &mut R, rbuf: &mut BytesMut, busy: &mut bool) -> std::io::Result<usize> {
        if *busy || !rbuf.is_empty() {
            rbuf.reserve(READ_CHUNK);
            return rd.read_buf(rbuf).await;
        }
        let mut small = [0u8; IDLE_CHUNK];
        let n = rd.read(&mut small).await?;
        rbuf.extend_from_slice(&small[..n]);
        *busy = n == IDLE_CHUNK;
        Ok(n)
    }

    /// Drops the read buffer when everything in it was decoded.
    fn settle_read(&mut self, n: usize) {
        if self.rbuf.is_empty() {
            self.rbuf = BytesMut::new();
            if n < READ_CHUNK / 2 {
                self.busy = false;
            }
        }
    }

    fn encode(&mut self, packets: &mut Vec<Packet>, router: &Router) -> Result<(), String> {
        for p in packets.drain(..) {
            if matches!(p, Packet::Publish(_)) {
                router.stats.msgs_sent.fetch_add(1, Ordering::Relaxed);
            }
            protocol::encode(&p, self.version, &mut self.wbuf).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// Writes everything buffered (used before closing).
    async fn flush_all(&mut self) {
        if !self.wbuf.is_empty() {
            let _ = self.wr.write_all(&self.wbuf).await;
            self.wbuf.clear();
        }
        let _ = self.wr.flush().await;
    }
}

/// Serves one connection until it closes.
pub async fn serve<S>(stream: S, mut ctx: LinkContext)
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (rd, wr) = tokio::io::split(stream);
    let mut io = Io {
        rd,
        wr,
        rbuf: BytesMut::new(),
        wbuf: BytesMut::new(),
        busy: false,
        version: Version::V311,
    };
    let log = ctx.router.settings().log;
    let timeout = ctx.limits.connect_timeout;
    let max_packet = ctx.limits.max_packet_size;
    let connect = tokio::select! {
        r = tokio::time::timeout(timeout, read_connect(&mut io, &ctx.router, max_packet)) => r,
        _ = ctx.shutdown.recv() => return,
    };
    let connect = match connect {
        Ok(Ok(c)) => c,
        Ok(Err(why)) => {
            log.info(format_args!(
                "Client <unknown> from {} disconnected: {why}.",
                ctx.peer
            ));
            io.flush_all().await;
            return;
        }
        Err(_) => {
            log.info(format_args!(
                "Client <unknown> from {} disconnected: no CONNECT within {}s.",
                ctx.peer,
                timeout.as_secs()
            ));
            return;
        }
    };
    io.version = connect.version;
    let Some((mut link, attached)) = handle::accept(&mut io, &ctx, connect, log).await else {
        io.flush_all().await;
        return;
    };
    let close = run(&mut io, &mut link, attached.kicked, &mut ctx).await;
    link.finish(&mut io, close, attached.generation).await;
}

/// Reads until a whole first packet is there; it must be CONNECT.
async fn read_connect<R, W>(
    io: &mut Io<R, W>,
    router: &Router,
    max_packet: u32,
) -> Result<Box<protocol::Connect>, String>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    loop {
        match protocol::decode(&mut io.rbuf, Version::V5, max_packet) {
            Ok(Some(Packet::Connect(c))) => return Ok(c),
            Ok(Some(other)) => return Err(format!("{:?} before CONNECT", other.packet_type())),
            Ok(None) => {}
            Err(e) => return Err(format!("malformed CONNECT {e}")),
        }
        let n = Io::<R, W>::read_more(&mut io.rd, &mut io.rbuf, &mut io.busy)
            .await
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("closed before CONNECT".into());
        }
        router
            .stats
            .bytes_received
            .fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// The main loop after CONNACK.
async fn run<R, W>(
    io: &mut Io<R, W>,
    link: &mut handle::Link,
    mut kicked: tokio::sync::oneshot::Receiver<()>,
    ctx: &mut LinkContext,
) -> Close
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let router = ctx.router.clone();
    let cell: Arc<SessionCell> = link.cell.clone();
    let keepalive =
        (link.keep_alive > 0).then(|| Duration::from_millis(link.keep_alive as u64 * 1500));
    let far = Duration::from_secs(86400 * 365);
    let sleep = tokio::time::sleep(keepalive.unwrap_or(far));
    tokio::pin!(sleep);
    let mut out = Vec::new();
    loop {
        if io.wbuf.len() < HIGH_WATER {
            cell.lock().session.fill(&mut out);
        }
        if let Err(e) = io.encode(&mut out, &router) {
            return Close::Error(format!("encode error: {e}"), None);
        }
        let writing = !io.wbuf.is_empty();
        tokio::select! {
            r = Io::<R, W>::read_more(&mut io.rd, &mut io.rbuf, &mut io.busy) => {
                let n = match r {
                    Ok(0) => return Close::Error("closed its connection".into(), None),
                    Ok(n) => n,
                    Err(e) => return Close::Error(format!("socket error: {e}"), None),
                };
                router.stats.bytes_received.fetch_add(n as u64, Ordering::Relaxed);
                if let Some(ka) = keepalive {
                    sleep.as_mut().reset(Instant::now() + ka);
                }
                loop {
                    match protocol::decode(&mut io.rbuf, io.version, ctx.limits.max_packet_size) {
                        Ok(Some(p)) => {
                            if let Err(close) = link.handle(p, &mut out).await {
                                let _ = io.encode(&mut out, &router);
                                return close;
                            }
                        }
                        Ok(None) => break,
                        Err(e) => return Close::Error(format!("malformed packet {e}"), Some(e.reason)),
                    }
                }
                io.settle_read(n);
                link.sync_store().await;
            }
            r = io.wr.write(&io.wbuf), if writing => {
                match r {
                    Ok(0) | Err(_) => return Close::Error("socket error on write".into(), None),
                    Ok(n) => {
                        router.stats.bytes_sent.fetch_add(n as u64, Ordering::Relaxed);
                        io.wbuf.advance(n);
                        if io.wbuf.is_empty() {
                            io.wbuf = BytesMut::new();
                            if io.wr.flush().await.is_err() {
                                return Close::Error("socket error on flush".into(), None);
                            }
                        }
                    }
                }
            }
            _ = cell.wake.notified() => {}
            _ = &mut kicked => return Close::Error("session taken over".into(), Some(ReasonCode::SessionTakenOver)),
            _ = &mut sleep, if keepalive.is_some() => {
                return Close::Error("exceeded timeout".into(), Some(ReasonCode::KeepAliveTimeout));
            }
            _ = ctx.shutdown.recv() => return Close::Shutdown,
        }
    }
}

#[cfg(test)]
mod size_tests {
    #[tokio::test]
    async fn connection_future_stays_small() {
        let config = crate::broker::config::Config::default();
        let router = std::sync::Arc::new(super::Router::new(
            crate::broker::settings(&config),
            std::sync::Arc::new(crate::broker::access::AllowAll),
            None,
        ));
        let (tx, _) = tokio::sync::broadcast::channel(1);
        let ctx = super::LinkContext {
            router,
            listener: 0,
            peer: "127.0.0.1:1".parse().unwrap(),
            shutdown: tx.subscribe(),
            limits: std::sync::Arc::new(crate::broker::link_limits(&config)),
        };
        let (a, _b) = tokio::io::duplex(64);
        let f = super::serve(a, ctx);
        // Every idle connection holds one of these: keep it small (budget: 1.5 KiB per connection).
        let size = std::mem::size_of_val(&f);
        assert!(size <= 1536, "serve future is {size} bytes");
    }
}
