//! Listening sockets and the accept loop. The accept path hands any `AsyncRead + AsyncWrite`
//! stream to [`super::link::serve`]: the TCP stream itself on a plain listener, the TLS stream
//! after a handshake on a TLS one, the WebSocket byte stream after the upgrade on a websockets
//! listener. A failed handshake, plain MQTT on a TLS port and TLS on a plain port each close
//! the connection with a log line saying so. An `http_api` listener hands its connections to
//! [`super::web::Web`] instead of a link.
//!
//! ```text
//!  accept ─▶ (TLS handshake) ─┬─ mqtt ──────────────────────────────▶ link
//!                             ├─ websockets ─▶ HTTP upgrade ─▶ WsStream ─▶ link
//!                             │                  └─ plain GET ─▶ http_dir file, or 426
//!                             └─ http_api ───▶ one HTTP request ─▶ metrics, JSON, page
//! ```

use super::config::{ListenerConfig, Protocol};
use super::link::{Established, LinkContext, LinkLimits, open, serve};
use super::router::Router;
use super::security::tls::{CertIdentity, HandshakeFailure};
use super::web::{self, Web};
use crate::websocket::WsStream;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{broadcast, mpsc};
use tokio_rustls::TlsAcceptor;

/// A bound listener, ready to accept.
pub struct Listener {
    /// Index in the listener list.
    pub index: usize,
    /// The socket.
    pub socket: TcpListener,
    /// Connection limit.
    pub max_connections: Option<usize>,
    /// The TLS configuration, replaced in place when certificates are reloaded.
    pub tls: Option<SharedAcceptor>,
    /// What of a client certificate becomes the username.
    pub identity: CertIdentity,
    /// What the listener speaks.
    pub protocol: Arc<Protocol>,
    /// Connection counts, shared by every socket of the listener and read by the HTTP API.
    pub stats: Arc<ListenerStats>,
}

/// Connection counts of one listener.
#[derive(Debug, Default)]
pub struct ListenerStats {
    /// Connections open now (counted against `max_connections`).
    pub connections: AtomicUsize,
    /// Connections accepted since start.
    pub accepted: AtomicU64,
    /// Connections refused by `max_connections`.
    pub refused: AtomicU64,
}

/// A listener's TLS acceptor, shared with the reloader.
pub type SharedAcceptor = Arc<RwLock<TlsAcceptor>>;

/// Binds every address of `config`. Without an explicit address the IPv6 wildcard is tried
/// first (dual-stack on Linux), then the IPv4 one.
pub async fn bind(
    index: usize,
    config: &ListenerConfig,
    tls: Option<SharedAcceptor>,
) -> std::io::Result<Vec<Listener>> {
    let addrs = config.addrs()?;
    let mut out = Vec::new();
    let mut last_err = None;
    let protocol = Arc::new(config.protocol.clone());
    let stats = Arc::new(ListenerStats::default());
    for addr in addrs {
        match listen(addr, config.bind_interface.as_deref()) {
            Ok(socket) => {
                out.push(Listener {
                    index,
                    socket,
                    max_connections: config.max_connections,
                    tls: tls.clone(),
                    identity: config.cert_identity(),
                    protocol: protocol.clone(),
                    stats: stats.clone(),
                });
                if config.bind.is_none() {
                    break;
                }
            }
            Err(e) => last_err = Some(e),
        }
    }
    match (out.is_empty(), last_err) {
        (true, Some(e)) => Err(e),
        (true, None) => Err(std::io::Error::other("no address to listen on")),
        _ => Ok(out),
    }
}

/// Binds with a deep accept backlog (capped by the kernel's somaxconn), so bursts of new
/// connections are not refused, and with SO_REUSEADDR, so a restart does not wait out
/// TIME_WAIT. With `bind_interface` the socket only takes connections that arrive on that
/// network interface (SO_BINDTODEVICE).
fn listen(addr: SocketAddr, interface: Option<&str>) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    if let Some(name) = interface {
        socket
            .bind_device(Some(name.as_bytes()))
            .map_err(|e| std::io::Error::new(e.kind(), format!("bind_interface {name}: {e}")))?;
    }
    socket.bind(addr)?;
    socket.listen(4096)
}

/// What a listener's connections share: its counters, and a clone of the broker's `done`
/// sender, dropped with the last of them (and the accept loop), so the broker knows when the
/// last connection ended.
struct Live {
    stats: Arc<ListenerStats>,
    #[allow(dead_code)] // Held for its drop.
    done: mpsc::Sender<()>,
}

/// A connection's place in its listener: lives exactly as long as the connection, and
/// decrements the connection count when it ends.
struct Slot(Arc<Live>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.stats.connections.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What every connection task of the broker shares.
#[derive(Clone)]
pub struct Shared {
    /// The router.
    pub router: Arc<Router>,
    /// Link limits from the config.
    pub limits: Arc<LinkLimits>,
    /// The HTTP side (WebSocket upgrades, the HTTP API).
    pub web: Arc<Web>,
}

/// Accepts connections until shutdown, one task per connection. Every task holds a clone of
/// `done`, so the broker knows when the last one ended.
pub async fn accept_loop(
    l: Listener,
    shared: Shared,
    shutdown: broadcast::Sender<()>,
    done: mpsc::Sender<()>,
) {
    let Shared {
        router,
        limits,
        web,
    } = shared;
    let mut stop = shutdown.subscribe();
    let count = &l.stats.connections;
    let live = Arc::new(Live {
        stats: l.stats.clone(),
        done,
    });
    loop {
        let accepted = tokio::select! {
            r = l.socket.accept() => r,
            _ = stop.recv() => return,
        };
        let (stream, peer): (_, SocketAddr) = match accepted {
            Ok(x) => x,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                router
                    .settings()
                    .log
                    .info(format_args!("Error: accept: {e}"));
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        if let Some(max) = l.max_connections {
            if count.load(Ordering::Relaxed) >= max {
                l.stats.refused.fetch_add(1, Ordering::Relaxed);
                router.settings().log.info(format_args!(
                    "Client connection from {} denied: max_connections exceeded.",
                    peer.ip()
                ));
                continue;
            }
        }
        count.fetch_add(1, Ordering::Relaxed);
        l.stats.accepted.fetch_add(1, Ordering::Relaxed);
        router.stats.sockets.fetch_add(1, Ordering::Relaxed);
        let slot = Slot(live.clone());
        // Batched writes already coalesce; Nagle would only add latency to acks.
        let _ = stream.set_nodelay(true);
        let ctx = LinkContext {
            router: router.clone(),
            listener: l.index,
            peer,
            shutdown: shutdown.subscribe(),
            limits: limits.clone(),
            cert_identity: None,
        };
        let acceptor = l
            .tls
            .as_ref()
            .map(|t| t.read().unwrap_or_else(|e| e.into_inner()).clone());
        let accepted = Box::new(Accepted {
            stream,
            ctx,
            acceptor,
            identity: l.identity,
            slot,
            protocol: l.protocol.clone(),
            web: web.clone(),
        });
        match (&l.tls, &*l.protocol) {
            (None, Protocol::Mqtt) => tokio::spawn(connection(accepted, Opened::plain)),
            (None, Protocol::WebSockets { .. }) => {
                tokio::spawn(connection(accepted, Opened::websocket))
            }
            _ => tokio::spawn(other_connection(accepted)),
        };
    }
}

/// What an accepted connection starts with. Boxed into its task, so the task's future does
/// not carry these for its whole life (an async fn keeps its arguments).
struct Accepted {
    stream: TcpStream,
    ctx: LinkContext,
    acceptor: Option<TlsAcceptor>,
    identity: CertIdentity,
    slot: Slot,
    protocol: Arc<Protocol>,
    web: Arc<Web>,
}

/// What the steps of an accepted connection up to CONNACK leave to serve: a plain listener's
/// connection opens `Plain`, a WebSockets listener's `Ws`, the others are served to their end
/// in those steps.
enum Opened {
    /// An MQTT link over TCP.
    Plain(Box<Established<TcpStream>>),
    /// An MQTT link over WebSockets.
    Ws(Box<Established<WsStream<TcpStream>>>),
    /// Served to its end already (TLS, the HTTP API), or closed before CONNACK.
    Done,
}

impl Opened {
    /// The plain MQTT link, if that is what this is.
    fn plain(self) -> Option<Established<TcpStream>> {
        match self {
            Opened::Plain(conn) => Some(conn.unbox()),
            _ => None,
        }
    }

    /// The MQTT over WebSockets link, if that is what this is.
    fn websocket(self) -> Option<Established<WsStream<TcpStream>>> {
        match self {
            Opened::Ws(conn) => Some(conn.unbox()),
            _ => None,
        }
    }
}

/// One connection's task on a plain MQTT or WebSockets listener, whose link `pick` takes out
/// of what the steps up to CONNACK opened (nothing when the connection closed before).
/// Everything before CONNACK runs in a boxed future that is freed once done, so an idle
/// connection's task holds only the established link's future and its [`Slot`]: an async fn
/// keeps every local of its scope (moved-from ones too) for its whole life, and the accepted
/// socket, context and TLS settings would otherwise widen every task. The link lives in the
/// task itself: one allocation for both.
async fn connection<S>(accepted: Box<Accepted>, pick: fn(Opened) -> Option<Established<S>>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (opened, slot) = Box::pin(open_accepted(accepted)).await;
    // Not `if let`: its scrutinee would stay in the future beside the link it moved into it.
    let Some(conn) = pick(opened) else {
        return;
    };
    conn.serve_holding(slot).await;
}

/// [`connection`] for the other listeners (TLS, the HTTP API): they are served to their end
/// in the steps [`open_accepted`] runs, a TLS link boxed with its future.
async fn other_connection(accepted: Box<Accepted>) {
    let _served = Box::pin(open_accepted(accepted)).await;
}

/// Runs an accepted connection up to its CONNACK (TLS and the HTTP API to their end).
async fn open_accepted(accepted: Box<Accepted>) -> (Opened, Slot) {
    // Unpacked in a block, so the box is freed now: an argument is kept for the whole call.
    let Accepted {
        stream,
        ctx,
        acceptor,
        identity,
        slot,
        protocol,
        web,
    } = {
        let accepted = accepted;
        *accepted
    };
    let opened = match (acceptor, &*protocol) {
        (Some(a), _) => {
            let tls = serve_tls(stream, a, identity, ctx, &protocol, &web);
            Box::pin(tls).await;
            Opened::Done
        }
        (None, Protocol::Mqtt) => open_plain(stream, ctx)
            .await
            .map_or(Opened::Done, Opened::Plain),
        (None, Protocol::WebSockets { http_dir }) => open_ws(stream, ctx, http_dir.as_deref())
            .await
            .map_or(Opened::Done, Opened::Ws),
        (None, Protocol::HttpApi { .. }) => {
            Box::pin(serve_stream(stream, ctx, &protocol, &web)).await;
            Opened::Done
        }
    };
    (opened, slot)
}

/// Runs the TLS handshake, then what the listener speaks; a failed handshake is logged with
/// the check that failed.
async fn serve_tls(
    stream: TcpStream,
    acceptor: TlsAcceptor,
    identity: CertIdentity,
    mut ctx: LinkContext,
    protocol: &Protocol,
    web: &Web,
) {
    match handshake(stream, &acceptor, ctx.limits.connect_timeout).await {
        Ok((tls, cert)) => {
            ctx.cert_identity = cert.and_then(|c| identity.of(&c)).map(Arc::from);
            serve_stream(tls, ctx, protocol, web).await;
        }
        Err(why) => ctx.router.settings().log.info(format_args!(
            "Client connection from {} failed: TLS handshake: {why}",
            ctx.peer
        )),
    }
}

/// Serves an open stream (TCP or TLS) as its listener's kind says.
async fn serve_stream<S>(stream: S, ctx: LinkContext, protocol: &Protocol, web: &Web)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    match protocol {
        Protocol::Mqtt => serve(stream, ctx).await,
        Protocol::WebSockets { http_dir } => {
            if let Some(conn) = Box::pin(open_ws(stream, ctx, http_dir.as_deref())).await {
                conn.unbox().serve().await;
            }
        }
        Protocol::HttpApi { credentials } => {
            Box::pin(web.serve_api(stream, &ctx, credentials.as_ref())).await;
        }
    }
}

/// The server side of the handshake within `limit`, and the client's certificate.
async fn handshake(
    stream: TcpStream,
    acceptor: &TlsAcceptor,
    limit: std::time::Duration,
) -> Result<TlsWithCert, HandshakeFailure> {
    let deadline = tokio::time::Instant::now() + limit;
    // An MQTT CONNECT where the ClientHello should be: rustls only sees "not TLS", the log
    // can say what it was. rustls still answers it with an alert, which tells the client.
    let mut first = [0u8; 1];
    let plain_mqtt = match tokio::time::timeout_at(deadline, stream.peek(&mut first)).await {
        Ok(Ok(1)) => first[0] == 0x10,
        Ok(_) => false,
        Err(_) => return Err(HandshakeFailure::TimedOut),
    };
    let left = deadline.saturating_duration_since(tokio::time::Instant::now());
    super::security::tls::accept(acceptor, stream, left)
        .await
        .map_err(|why| match why {
            HandshakeFailure::NotTls { side, .. } => HandshakeFailure::NotTls { side, plain_mqtt },
            other => other,
        })
}

/// A TLS stream and the client certificate that came with it.
type TlsWithCert = (
    tokio_rustls::server::TlsStream<TcpStream>,
    Option<rustls::pki_types::CertificateDer<'static>>,
);

/// Runs the WebSocket upgrade (or answers a plain HTTP request), then waits for CONNECT over
/// the WebSocket. Boxed by the caller like [`open_plain`], so an idle connection keeps only
/// the established link.
async fn open_ws<S>(
    stream: S,
    ctx: LinkContext,
    http_dir: Option<&std::path::Path>,
) -> Option<Box<Established<WsStream<S>>>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let ws = web::upgrade::accept(stream, &ctx, http_dir).await?;
    open(ws, ctx).await
}

/// Opens a plain connection, unless its first bytes are a TLS ClientHello: that client is
/// told nothing (it expects TLS) and the log says what happened.
async fn open_plain(stream: TcpStream, ctx: LinkContext) -> Option<Box<Established<TcpStream>>> {
    let mut first = [0u8; 3];
    let peeked = tokio::time::timeout(ctx.limits.connect_timeout, stream.peek(&mut first)).await;
    let Ok(peeked) = peeked else {
        return None; // Silent for the whole connect timeout: nothing to serve.
    };
    if let Ok(n) = peeked {
        if super::security::tls::looks_like_tls(&first[..n]) {
            ctx.router.settings().log.info(format_args!(
                "Client connection from {} closed: it sent a TLS handshake, and this port \
                 speaks plain MQTT, not TLS (connect without TLS, or to the TLS port).",
                ctx.peer
            ));
            return None;
        }
    }
    open(stream, ctx).await
}

#[cfg(test)]
mod size_tests {
    /// The size of the futures `f` returns.
    fn future_size<A, Fut, F: Fn(A) -> Fut>(_: F) -> usize {
        std::mem::size_of::<Fut>()
    }

    #[test]
    fn plain_connection_task_stays_within_384_bytes() {
        // tokio allocates a task as one cache-line aligned cell: its header, scheduler and id,
        // the future and a trailer, 104 bytes besides the future. Every idle plain connection
        // is one such cell, its link included: at most 280 bytes of future keep it at 384.
        // A debug build lays the future out a little wider; the bound that counts is the
        // optimized one, which is what runs.
        let bound = if cfg!(debug_assertions) { 312 } else { 280 };
        let size = future_size(|a| super::connection(a, super::Opened::plain));
        assert!(size <= bound, "plain connection future is {size} bytes");
        // A WebSocket link lives in its task too, in a 768-byte cell (tungstenite's state is
        // most of it).
        let size = future_size(|a| super::connection(a, super::Opened::websocket));
        assert!(size <= 664, "websocket connection future is {size} bytes");
        // The other kinds box their link: their task stays smaller still.
        let size = future_size(super::other_connection);
        assert!(size <= 152, "boxed connection future is {size} bytes");
    }
}
