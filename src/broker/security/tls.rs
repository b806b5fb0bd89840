//! TLS for broker listeners: a rustls `ServerConfig` from mosquitto's listener options
//! (`certfile`, `keyfile`, `cafile`, `capath`, `require_certificate`, `tls_version`), the client
//! certificate's CN for `use_identity_as_username`, and a plain-words account of why a
//! handshake failed, for the log line that closes the connection.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{AlertDescription, CertificateError, RootCertStore, ServerConfig};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Lowest TLS version a listener accepts (`tls_version`). rustls has nothing older than 1.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MinTlsVersion {
    /// `tlsv1.2`: TLS 1.2 and 1.3 (the default).
    #[default]
    V12,
    /// `tlsv1.3`: TLS 1.3 only.
    V13,
}

impl MinTlsVersion {
    /// Parses mosquitto's `tls_version` values.
    pub fn parse(s: &str) -> Result<MinTlsVersion, TlsError> {
        match s {
            "tlsv1.2" => Ok(MinTlsVersion::V12),
            "tlsv1.3" => Ok(MinTlsVersion::V13),
            other => Err(TlsError::Version(other.to_string())),
        }
    }
}

/// One listener's TLS options, as mosquitto.conf names them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListenerTls {
    /// `certfile`: the server certificate chain (PEM), leaf first.
    pub certfile: PathBuf,
    /// `keyfile`: its private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub keyfile: PathBuf,
    /// `cafile`: CA certificates (PEM) that client certificates must chain to.
    pub cafile: Option<PathBuf>,
    /// `capath`: a directory of such CA certificate files.
    pub capath: Option<PathBuf>,
    /// `require_certificate`: mutual TLS; clients without a valid certificate are refused.
    pub require_certificate: bool,
    /// `tls_version`: the minimum version.
    pub tls_version: MinTlsVersion,
}

/// Why a listener's TLS configuration could not be built; every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file or directory could not be read.
    #[error("unable to read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The file is not the PEM expected.
    #[error("{}: {reason}", path.display())]
    Pem {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// rustls refused the certificate or key (mismatched pair, unsupported key type, ...).
    #[error("certfile {} / keyfile {}: {reason}", certfile.display(), keyfile.display())]
    CertKey {
        /// The certificate chain.
        certfile: PathBuf,
        /// The key.
        keyfile: PathBuf,
        /// What rustls said.
        reason: String,
    },
    /// `require_certificate true` without `cafile` or `capath`.
    #[error("require_certificate needs cafile or capath to check client certificates against")]
    NoCa,
    /// A `tls_version` rustls cannot do.
    #[error("unsupported tls_version '{0}' (use tlsv1.2 or tlsv1.3)")]
    Version(String),
    /// Anything else rustls refused.
    #[error("TLS configuration: {0}")]
    Rustls(String),
}

/// Builds the rustls server configuration for one listener (ring provider).
pub fn server_config(tls: &ListenerTls) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: &[&'static rustls::SupportedProtocolVersion] = match tls.tls_version {
        MinTlsVersion::V12 => &[&rustls::version::TLS13, &rustls::version::TLS12],
        MinTlsVersion::V13 => &[&rustls::version::TLS13],
    };
    let certs = load_certs(&tls.certfile)?;
    let key = load_key(&tls.keyfile)?;
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .map_err(|e| TlsError::Rustls(e.to_string()))?;
    // Like mosquitto, client certificates are only asked for with require_certificate.
    let builder = if tls.require_certificate {
        let roots = load_roots(tls.cafile.as_deref(), tls.capath.as_deref())?;
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| TlsError::Rustls(e.to_string()))?;
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let config = builder
        .with_single_cert(certs, key)
        .map_err(|e| TlsError::CertKey {
            certfile: tls.certfile.clone(),
            keyfile: tls.keyfile.clone(),
            reason: e.to_string(),
        })?;
    Ok(Arc::new(config))
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Every certificate in a PEM file; an error if there is none.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read(path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem {
            path: path.to_path_buf(),
            reason: format!("bad PEM: {e}"),
        })?;
    if certs.is_empty() {
        return Err(TlsError::Pem {
            path: path.to_path_buf(),
            reason: "no certificate found (expected -----BEGIN CERTIFICATE-----)".into(),
        });
    }
    Ok(certs)
}

/// The first private key in a PEM file.
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read(path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| TlsError::Pem {
        path: path.to_path_buf(),
        reason: match e {
            rustls::pki_types::pem::Error::NoItemsFound => {
                "no private key found (expected -----BEGIN PRIVATE KEY----- or similar)".into()
            }
            other => format!("bad PEM: {other}"),
        },
    })
}

/// Trust anchors from `cafile` and every certificate file in `capath`.
fn load_roots(cafile: Option<&Path>, capath: Option<&Path>) -> Result<RootCertStore, TlsError> {
    let mut files = Vec::new();
    files.extend(cafile.map(Path::to_path_buf));
    if let Some(dir) = capath {
        let err = |source| TlsError::Read {
            path: dir.to_path_buf(),
            source,
        };
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(err)? {
            let path = entry.map_err(err)?.path();
            if path.is_file() {
                entries.push(path);
            }
        }
        entries.sort();
        // A capath may hold other files (CRLs, keys, READMEs): only files that are not
        // certificates are skipped, the rest must parse.
        for path in entries {
            match load_certs(&path) {
                Ok(_) => files.push(path),
                Err(TlsError::Pem { .. }) => {}
                Err(e) => return Err(e),
            }
        }
    }
    if files.is_empty() {
        return Err(TlsError::NoCa);
    }
    let mut roots = RootCertStore::empty();
    for path in files {
        for cert in load_certs(&path)? {
            roots.add(cert).map_err(|e| TlsError::Pem {
                path: path.clone(),
                reason: format!("not a usable CA certificate: {e}"),
            })?;
        }
    }
    Ok(roots)
}

/// The CN of the client's certificate, for `use_identity_as_username`; `None` when the client
/// sent no certificate or its subject has no CN.
pub fn client_identity(conn: &rustls::ServerConnection) -> Option<String> {
    let cert = conn.peer_certificates()?.first()?;
    certificate_common_name(cert.as_ref())
}

/// The first commonName (2.5.4.3) of a DER certificate's subject.
pub fn certificate_common_name(der: &[u8]) -> Option<String> {
    // Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL, serial,
    //   signature, issuer, validity, subject, ... }, ... }   (RFC 5280 section 4.1)
    let (_, cert, _) = der_tlv(der, 0x30)?;
    let (_, tbs, _) = der_tlv(cert, 0x30)?;
    let mut rest = tbs;
    if rest.first() == Some(&0xa0) {
        rest = der_tlv(rest, 0xa0)?.2;
    }
    for _ in 0..4 {
        // serial, signature, issuer, validity
        let (_, _, next) = der_any(rest)?;
        rest = next;
    }
    let (_, mut subject, _) = der_tlv(rest, 0x30)?;
    // Name ::= SEQUENCE OF SET OF SEQUENCE { type OID, value ANY }
    while !subject.is_empty() {
        let (_, mut rdn, next) = der_tlv(subject, 0x31)?;
        subject = next;
        while !rdn.is_empty() {
            let (_, atv, next) = der_tlv(rdn, 0x30)?;
            rdn = next;
            let (_, oid, value) = der_tlv(atv, 0x06)?;
            if oid == [0x55, 0x04, 0x03] {
                let (tag, text, _) = der_any(value)?;
                return decode_directory_string(tag, text);
            }
        }
    }
    None
}

/// One DER element: (tag, contents, rest).
fn der_any(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |l, &b| (l << 8) | usize::from(b));
        rest = &rest[n..];
        len
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// One DER element that must have `tag`.
fn der_tlv(input: &[u8], tag: u8) -> Option<(u8, &[u8], &[u8])> {
    der_any(input).filter(|(t, _, _)| *t == tag)
}

fn decode_directory_string(tag: u8, bytes: &[u8]) -> Option<String> {
    match tag {
        // UTF8String, PrintableString, IA5String, TeletexString (treated as Latin-1 subset)
        0x0c | 0x13 | 0x16 => String::from_utf8(bytes.to_vec()).ok(),
        0x14 => Some(bytes.iter().map(|&b| char::from(b)).collect()),
        // BMPString: UTF-16BE
        0x1e if bytes.len() % 2 == 0 => {
            let units = bytes.chunks(2).map(|c| u16::from_be_bytes([c[0], c[1]]));
            char::decode_utf16(units)
                .collect::<Result<String, _>>()
                .ok()
        }
        _ => None,
    }
}

/// Runs the server side of a handshake, bounded by `timeout` (a client that connects and says
/// nothing must not hold a task forever). Returns the stream and the client certificate's CN,
/// or which check failed, for the log line.
pub async fn accept<IO>(
    acceptor: &tokio_rustls::TlsAcceptor,
    io: IO,
    timeout: std::time::Duration,
) -> Result<(tokio_rustls::server::TlsStream<IO>, Option<String>), HandshakeFailure>
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    match tokio::time::timeout(timeout, acceptor.accept(io)).await {
        Err(_) => Err(HandshakeFailure::TimedOut),
        Ok(Err(e)) => Err(HandshakeFailure::classify(&e)),
        Ok(Ok(stream)) => {
            let cn = client_identity(stream.get_ref().1);
            Ok((stream, cn))
        }
    }
}

/// True when the first bytes a plain listener received look like a TLS ClientHello record
/// (content type 22, version 3.x): a TLS client knocking on a plain MQTT port.
pub fn looks_like_tls(first_bytes: &[u8]) -> bool {
    matches!(first_bytes, [0x16, 0x03, ..])
}

/// Which check a failed TLS handshake tripped over, for the log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakeFailure {
    /// The peer did not speak TLS at all (a record-layer error), e.g. plain MQTT sent to the
    /// TLS port.
    NotTls(String),
    /// The client certificate does not chain to `cafile`/`capath`.
    UnknownCa,
    /// The client certificate has expired.
    Expired,
    /// The client certificate is not valid yet.
    NotYetValid,
    /// `require_certificate` is set and the client sent none.
    NoClientCertificate,
    /// The client certificate is otherwise unacceptable.
    BadCertificate(String),
    /// The client refused our certificate or the handshake, with this alert.
    PeerAlert(String),
    /// No TLS version or cipher suite in common.
    Incompatible(String),
    /// The connection ended in the middle of the handshake.
    Closed,
    /// The handshake timed out.
    TimedOut,
    /// Something else.
    Other(String),
}

impl HandshakeFailure {
    /// Classifies the error tokio-rustls' `accept` returned.
    pub fn classify(err: &std::io::Error) -> HandshakeFailure {
        if let Some(tls) = err
            .get_ref()
            .and_then(|e| e.downcast_ref::<rustls::Error>())
        {
            return HandshakeFailure::from_rustls(tls);
        }
        match err.kind() {
            std::io::ErrorKind::UnexpectedEof
            | std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::BrokenPipe => HandshakeFailure::Closed,
            std::io::ErrorKind::TimedOut => HandshakeFailure::TimedOut,
            _ => HandshakeFailure::Other(err.to_string()),
        }
    }

    /// Classifies a rustls error.
    pub fn from_rustls(err: &rustls::Error) -> HandshakeFailure {
        use rustls::Error as E;
        match err {
            E::InvalidMessage(m) => HandshakeFailure::NotTls(format!("{m:?}")),
            E::InvalidCertificate(c) => match c {
                CertificateError::UnknownIssuer => HandshakeFailure::UnknownCa,
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    HandshakeFailure::Expired
                }
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    HandshakeFailure::NotYetValid
                }
                other => HandshakeFailure::BadCertificate(format!("{other:?}")),
            },
            E::NoCertificatesPresented => HandshakeFailure::NoClientCertificate,
            E::AlertReceived(a) => HandshakeFailure::PeerAlert(alert_words(*a)),
            E::PeerIncompatible(p) => HandshakeFailure::Incompatible(format!("{p:?}")),
            other => HandshakeFailure::Other(other.to_string()),
        }
    }
}

fn alert_words(alert: AlertDescription) -> String {
    match alert {
        AlertDescription::UnknownCA => {
            "unknown CA: the client does not trust our certificate".into()
        }
        AlertDescription::CertificateExpired => {
            "certificate expired: the client finds our certificate expired".into()
        }
        AlertDescription::BadCertificate => {
            "bad certificate: the client rejects our certificate".into()
        }
        AlertDescription::ProtocolVersion => "protocol version: no TLS version in common".into(),
        AlertDescription::HandshakeFailure => "handshake failure: no cipher suite in common".into(),
        other => format!("{other:?}"),
    }
}

impl fmt::Display for HandshakeFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandshakeFailure::NotTls(why) => {
                write!(
                    f,
                    "not TLS (record layer: {why}); plain MQTT on a TLS port?"
                )
            }
            HandshakeFailure::UnknownCa => {
                f.write_str("client certificate not issued by a trusted CA (unknown CA)")
            }
            HandshakeFailure::Expired => f.write_str("client certificate expired"),
            HandshakeFailure::NotYetValid => f.write_str("client certificate not yet valid"),
            HandshakeFailure::NoClientCertificate => {
                f.write_str("no client certificate (require_certificate is set)")
            }
            HandshakeFailure::BadCertificate(why) => write!(f, "bad client certificate: {why}"),
            HandshakeFailure::PeerAlert(why) => write!(f, "client aborted the handshake: {why}"),
            HandshakeFailure::Incompatible(why) => write!(f, "nothing in common: {why}"),
            HandshakeFailure::Closed => f.write_str("connection closed during the TLS handshake"),
            HandshakeFailure::TimedOut => f.write_str("TLS handshake timed out"),
            HandshakeFailure::Other(why) => write!(f, "TLS handshake failed: {why}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_versions_follow_mosquitto_names() {
        assert_eq!(MinTlsVersion::parse("tlsv1.2").unwrap(), MinTlsVersion::V12);
        assert_eq!(MinTlsVersion::parse("tlsv1.3").unwrap(), MinTlsVersion::V13);
        let err = MinTlsVersion::parse("tlsv1.1").unwrap_err().to_string();
        assert!(err.contains("tlsv1.1"), "{err}");
    }

    #[test]
    fn der_lengths_short_and_long_form() {
        assert_eq!(
            der_any(&[0x04, 0x02, 1, 2, 9]),
            Some((4, &[1u8, 2][..], &[9u8][..]))
        );
        let mut long = vec![0x04, 0x82, 0x01, 0x00];
        long.extend(std::iter::repeat_n(7u8, 256));
        assert_eq!(der_any(&long).map(|(_, c, _)| c.len()), Some(256));
        assert_eq!(der_any(&[0x04, 0x05, 1]), None, "truncated");
        assert_eq!(der_any(&[0x04, 0x80]), None, "indefinite length is not DER");
    }

    #[test]
    fn directory_strings_decode() {
        assert_eq!(
            decode_directory_string(0x0c, b"dev\xc3\xa9").as_deref(),
            Some("dev\u{e9}")
        );
        assert_eq!(
            decode_directory_string(0x13, b"device7").as_deref(),
            Some("device7")
        );
        assert_eq!(
            decode_directory_string(0x1e, &[0, b'a', 0, b'b']).as_deref(),
            Some("ab")
        );
        assert_eq!(decode_directory_string(0x02, b"x"), None);
    }

    #[test]
    fn tls_records_are_recognised_on_a_plain_port() {
        assert!(looks_like_tls(&[0x16, 0x03, 0x01, 0x02, 0x00]));
        assert!(!looks_like_tls(&[
            0x10, 0x0c, 0x00, 0x04, b'M', b'Q', b'T', b'T'
        ]));
        assert!(!looks_like_tls(&[0x16]));
    }

    proptest::proptest! {
        #[test]
        fn common_name_never_panics_on_garbage(bytes in proptest::collection::vec(0u8..=255, 0..200)) {
            let _ = certificate_common_name(&bytes);
        }
    }
}
