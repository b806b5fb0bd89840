//! Client byte streams: plain TCP, TLS over TCP (rustls), a unix socket, or MQTT over
//! WebSockets on either of the first two. The TLS configuration itself comes from
//! [`crate::tls::client`].

use crate::tls::{ConfigError, HandshakeFailure, Side};
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// Why a stream could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The host name did not resolve.
    #[error("unable to resolve host '{host}': {source}")]
    Resolve {
        /// The host asked for.
        host: String,
        /// The resolver's error.
        source: io::Error,
    },
    /// TCP connect failed (refused, unreachable, ...).
    #[error("{0}")]
    Connect(io::Error),
    /// A TLS file or option is missing, unreadable or wrong; the message names it.
    #[error("TLS: {0}")]
    Tls(#[from] ConfigError),
    /// The host is not a valid TLS server name.
    #[error("TLS: invalid server name '{0}'")]
    ServerName(String),
    /// The TLS handshake failed (or, with TLS 1.3, the server refused our certificate
    /// right after it); the message says which check.
    #[error("{0}")]
    Handshake(HandshakeFailure),
    /// A plain connection got a TLS record back.
    #[error(
        "this port expects TLS (the broker answered with a TLS record): add --cafile, --capath \
         or --tls-use-os-certs"
    )]
    ExpectsTls,
    /// The WebSocket upgrade failed (an HTTP error status, no `mqtt` subprotocol, ...).
    #[error("WebSocket handshake failed: {0}")]
    WebSocket(String),
}

/// A client stream: TCP, or TLS over TCP.
#[derive(Debug)]
pub enum Stream {
    /// Plain TCP.
    Tcp(TcpStream),
    /// TLS over TCP.
    Tls(Box<TlsStream<TcpStream>>),
    /// A unix-domain socket.
    Unix(tokio::net::UnixStream),
    /// MQTT over WebSockets, on TCP or TLS.
    WebSocket(Box<crate::websocket::WsStream<Stream>>),
}

/// Socket options for the TCP connection.
#[derive(Clone, Copy, Debug, Default)]
pub struct TcpOptions {
    /// Set TCP_NODELAY.
    pub nodelay: bool,
    /// Local address to bind to before connecting.
    pub bind: Option<std::net::IpAddr>,
}

async fn tcp_connect(
    addr: std::net::SocketAddr,
    bind: Option<std::net::IpAddr>,
) -> io::Result<TcpStream> {
    let Some(local) = bind else {
        return TcpStream::connect(addr).await;
    };
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.bind(std::net::SocketAddr::new(local, 0))?;
    socket.connect(addr).await
}

/// Opens a TCP connection to `host:port`, then a TLS session over it when `tls` is given.
pub async fn connect(
    host: &str,
    port: u16,
    tls: Option<Arc<ClientConfig>>,
    opts: TcpOptions,
) -> Result<Stream, TransportError> {
    // Resolved on this thread, as libmosquitto does: tokio's lookup_host would start a
    // blocking-pool thread, a measurable part of a one-message `mq pub`.
    let addrs: Vec<std::net::SocketAddr> = match host.parse::<std::net::IpAddr>() {
        Ok(ip) => vec![std::net::SocketAddr::new(ip, port)],
        Err(_) => std::net::ToSocketAddrs::to_socket_addrs(&(host, port))
            .map_err(|source| TransportError::Resolve {
                host: host.to_string(),
                source,
            })?
            .collect(),
    };
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address for host");
    let mut tcp = None;
    for addr in addrs {
        match tcp_connect(addr, opts.bind).await {
            Ok(s) => {
                tcp = Some(s);
                break;
            }
            Err(e) => last = e,
        }
    }
    let tcp = tcp.ok_or(TransportError::Connect(last))?;
    if opts.nodelay {
        let _ = tcp.set_nodelay(true);
    }
    let Some(config) = tls else {
        return Ok(Stream::Tcp(tcp));
    };
    let name = ServerName::try_from(host.to_string())
        .map_err(|_| TransportError::ServerName(host.to_string()))?;
    let tls = TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|e| TransportError::Handshake(HandshakeFailure::from_io(&e, Side::Client)))?;
    Ok(Stream::Tls(Box::new(tls)))
}

/// Opens a TCP (or TLS) connection to `host:port`, then upgrades it to a WebSocket at
/// `path` with the `mqtt` subprotocol; frames may be up to `max_size` bytes.
pub async fn connect_websocket(
    host: &str,
    port: u16,
    tls: Option<Arc<ClientConfig>>,
    opts: TcpOptions,
    path: &str,
    max_size: usize,
) -> Result<Stream, TransportError> {
    let secure = tls.is_some();
    let inner = connect(host, port, tls, opts).await?;
    let ws = crate::websocket::connect(inner, host, port, path, secure, max_size)
        .await
        .map_err(TransportError::WebSocket)?;
    Ok(Stream::WebSocket(Box::new(ws)))
}

/// Opens a unix-domain socket connection (`--unix`).
pub async fn connect_unix(path: &Path) -> Result<Stream, TransportError> {
    tokio::net::UnixStream::connect(path)
        .await
        .map(Stream::Unix)
        .map_err(TransportError::Connect)
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Stream::Unix(s) => Pin::new(s).poll_read(cx, buf),
            Stream::WebSocket(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Stream::Unix(s) => Pin::new(s).poll_write(cx, buf),
            Stream::WebSocket(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Stream::Unix(s) => Pin::new(s).poll_flush(cx),
            Stream::WebSocket(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Stream::Unix(s) => Pin::new(s).poll_shutdown(cx),
            Stream::WebSocket(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
