//! TLS for broker listeners: the rustls `ServerConfig` from the listener's options (built by
//! [`crate::tls::server`], shared with every other TLS endpoint), the handshake with its
//! timeout, the identity the client certificate gives for `use_identity_as_username` and
//! `use_subject_as_username`, and the words for a failed handshake in the log.

pub use crate::tls::ConfigError as TlsError;
pub use crate::tls::MinTlsVersion;
pub use crate::tls::ServerOptions as ListenerTls;
pub use crate::tls::failure::{HandshakeFailure, Side, looks_like_tls};
pub use crate::tls::names::{certificate_common_name, certificate_subject};
pub use crate::tls::pem::{load_certs, load_key};
pub use crate::tls::server::server_config;

use rustls::pki_types::CertificateDer;

/// Which part of a client certificate becomes the username.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CertIdentity {
    /// Neither option: the certificate names nobody.
    #[default]
    None,
    /// `use_identity_as_username`: the subject's CN.
    CommonName,
    /// `use_subject_as_username`: the whole subject, RFC 2253 form.
    Subject,
}

impl CertIdentity {
    /// The identity `cert` gives under this rule.
    pub fn of(self, cert: &CertificateDer<'_>) -> Option<String> {
        match self {
            CertIdentity::None => None,
            CertIdentity::CommonName => certificate_common_name(cert),
            CertIdentity::Subject => certificate_subject(cert),
        }
    }
}

/// The client's verified certificate (its first), if it sent one.
pub fn client_certificate(conn: &rustls::ServerConnection) -> Option<CertificateDer<'static>> {
    conn.peer_certificates()?
        .first()
        .map(|c| c.clone().into_owned())
}

/// Runs the server side of a handshake, bounded by `timeout` (a client that connects and says
/// nothing must not hold a task forever). Returns the stream and the client's certificate, or
/// which check failed, for the log line.
pub async fn accept<IO>(
    acceptor: &tokio_rustls::TlsAcceptor,
    io: IO,
    timeout: std::time::Duration,
) -> Result<
    (
        tokio_rustls::server::TlsStream<IO>,
        Option<CertificateDer<'static>>,
    ),
    HandshakeFailure,
>
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    match tokio::time::timeout(timeout, acceptor.accept(io)).await {
        Err(_) => Err(HandshakeFailure::TimedOut),
        Ok(Err(e)) => Err(HandshakeFailure::from_io(&e, Side::Server)),
        Ok(Ok(stream)) => {
            let cert = client_certificate(stream.get_ref().1);
            Ok((stream, cert))
        }
    }
}
