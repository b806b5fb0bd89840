//! Client byte streams: plain TCP, TLS over TCP (rustls), a unix socket, or MQTT over
//! WebSockets on either of the first two, and the TLS configuration built from PEM files.
//!
//! Every failure to load a file names the file and what is wrong with it, because "a TLS error
//! occurred" is the most common complaint about mosquitto's clients.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// The system CA bundle on Debian-like systems, used by `--tls-use-os-certs` and `mqtts://`.
const OS_CA_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
];

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
    /// A TLS file is missing, unreadable or not what it should be.
    #[error("TLS: {}: {problem}", path.display())]
    TlsFile {
        /// The file at fault.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// The TLS options are inconsistent (e.g. an unknown `--tls-version`).
    #[error("TLS: {0}")]
    TlsConfig(String),
    /// The TLS handshake failed; the message says which check.
    #[error("TLS handshake failed: {0}")]
    Handshake(io::Error),
    /// The WebSocket upgrade failed (an HTTP error status, no `mqtt` subprotocol, ...).
    #[error("WebSocket handshake failed: {0}")]
    WebSocket(String),
}

/// Minimum and maximum TLS protocol version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TlsVersion {
    /// TLS 1.2 or 1.3 (the default).
    #[default]
    Any,
    /// TLS 1.2 only.
    Tls12,
    /// TLS 1.3 only.
    Tls13,
}

impl TlsVersion {
    /// Parses mosquitto's `--tls-version` values (`tlsv1.2`, `tlsv1.3`).
    pub fn parse(s: &str) -> Result<TlsVersion, TransportError> {
        match s {
            "tlsv1.2" => Ok(TlsVersion::Tls12),
            "tlsv1.3" => Ok(TlsVersion::Tls13),
            "tlsv1.1" | "tlsv1" => Err(TransportError::TlsConfig(format!(
                "{s} is not supported: use tlsv1.2 or tlsv1.3"
            ))),
            _ => Err(TransportError::TlsConfig(format!(
                "unknown TLS version '{s}'"
            ))),
        }
    }
}

/// Client TLS settings, as mosquitto's `--cafile`, `--capath`, `--cert`, `--key`, `--insecure`,
/// `--tls-version` and `--tls-use-os-certs` give them.
#[derive(Clone, Debug, Default)]
pub struct TlsOptions {
    /// PEM bundle of trusted CAs.
    pub cafile: Option<PathBuf>,
    /// Directory of PEM CA files.
    pub capath: Option<PathBuf>,
    /// Client certificate chain (PEM).
    pub cert: Option<PathBuf>,
    /// Client private key (PEM).
    pub key: Option<PathBuf>,
    /// Accept a certificate whose name does not match the host (the chain is still checked).
    pub insecure: bool,
    /// Protocol versions allowed.
    pub version: TlsVersion,
    /// Trust the operating system's CA bundle.
    pub os_certs: bool,
    /// ALPN protocol to offer.
    pub alpn: Option<String>,
}

impl TlsOptions {
    /// Builds the rustls configuration, reading every file now.
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, TransportError> {
        let mut roots = RootCertStore::empty();
        if let Some(f) = &self.cafile {
            add_ca_file(&mut roots, f)?;
        }
        if let Some(dir) = &self.capath {
            add_ca_dir(&mut roots, dir)?;
        }
        if self.os_certs || (self.cafile.is_none() && self.capath.is_none()) {
            if let Some(f) = OS_CA_BUNDLES.iter().map(Path::new).find(|p| p.exists()) {
                add_ca_file(&mut roots, f)?;
            }
        }
        if roots.is_empty() {
            return Err(TransportError::TlsConfig(
                "no trusted CA certificate loaded".into(),
            ));
        }
        let versions: &[&rustls::SupportedProtocolVersion] = match self.version {
            TlsVersion::Any => rustls::DEFAULT_VERSIONS,
            TlsVersion::Tls12 => &[&rustls::version::TLS12],
            TlsVersion::Tls13 => &[&rustls::version::TLS13],
        };
        let roots = Arc::new(roots);
        let builder = ClientConfig::builder_with_protocol_versions(versions);
        let builder = if self.insecure {
            let inner = rustls::client::WebPkiServerVerifier::builder(roots)
                .build()
                .map_err(|e| TransportError::TlsConfig(e.to_string()))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(IgnoreName(inner)))
        } else {
            builder.with_root_certificates(roots)
        };
        let config = match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => {
                let chain = read_certs(cert)?;
                let key_der = read_key(key)?;
                builder.with_client_auth_cert(chain, key_der).map_err(|e| {
                    TransportError::TlsFile {
                        path: key.clone(),
                        problem: format!("does not match the certificate: {e}"),
                    }
                })?
            }
            (None, None) => builder.with_no_client_auth(),
            _ => {
                return Err(TransportError::TlsConfig(
                    "Both certfile and keyfile must be provided if one of them is set.".into(),
                ));
            }
        };
        let mut config = config;
        if let Some(p) = &self.alpn {
            config.alpn_protocols = vec![p.as_bytes().to_vec()];
        }
        Ok(Arc::new(config))
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, TransportError> {
    std::fs::read(path).map_err(|e| TransportError::TlsFile {
        path: path.to_path_buf(),
        problem: e.to_string(),
    })
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TransportError> {
    let data = read_file(path)?;
    let certs: Result<Vec<_>, _> = rustls_pemfile::certs(&mut data.as_slice()).collect();
    let certs = certs.map_err(|e| TransportError::TlsFile {
        path: path.to_path_buf(),
        problem: format!("bad PEM: {e}"),
    })?;
    if certs.is_empty() {
        return Err(TransportError::TlsFile {
            path: path.to_path_buf(),
            problem: "no PEM certificate in file".into(),
        });
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TransportError> {
    let data = read_file(path)?;
    match rustls_pemfile::private_key(&mut data.as_slice()) {
        Ok(Some(k)) => Ok(k),
        Ok(None) => Err(TransportError::TlsFile {
            path: path.to_path_buf(),
            problem: "no PEM private key in file".into(),
        }),
        Err(e) => Err(TransportError::TlsFile {
            path: path.to_path_buf(),
            problem: format!("bad PEM: {e}"),
        }),
    }
}

fn add_ca_file(roots: &mut RootCertStore, path: &Path) -> Result<(), TransportError> {
    for cert in read_certs(path)? {
        roots.add(cert).map_err(|e| TransportError::TlsFile {
            path: path.to_path_buf(),
            problem: format!("unusable CA certificate: {e}"),
        })?;
    }
    Ok(())
}

fn add_ca_dir(roots: &mut RootCertStore, dir: &Path) -> Result<(), TransportError> {
    let entries = std::fs::read_dir(dir).map_err(|e| TransportError::TlsFile {
        path: dir.to_path_buf(),
        problem: e.to_string(),
    })?;
    for entry in entries.flatten() {
        let path = entry.path();
        // Hash links made by `openssl rehash` point at the same files: duplicates are harmless.
        if path.is_file() {
            if let Ok(data) = std::fs::read(&path) {
                for cert in rustls_pemfile::certs(&mut data.as_slice()).flatten() {
                    let _ = roots.add(cert);
                }
            }
        }
    }
    if roots.is_empty() {
        return Err(TransportError::TlsFile {
            path: dir.to_path_buf(),
            problem: "no PEM CA certificate in directory".into(),
        });
    }
    Ok(())
}

/// `--insecure`: checks the chain and signatures but not the host name, as mosquitto 2.0 does.
#[derive(Debug)]
struct IgnoreName(Arc<rustls::client::WebPkiServerVerifier>);

impl ServerCertVerifier for IgnoreName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        use rustls::{CertificateError, Error};
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
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
        .map_err(|e| TransportError::TlsConfig(format!("invalid server name '{host}': {e}")))?;
    let tls = TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(TransportError::Handshake)?;
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
