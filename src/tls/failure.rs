//! Why a TLS handshake failed, in words, for the broker's log and the clients' stderr: our
//! verdict on the peer's certificate, the peer's alert about ours, TLS meeting plain MQTT,
//! nothing in common.

use super::problem::VerifyError;
use rustls::{AlertDescription, PeerIncompatible};
use std::fmt;

/// Which end of the connection we are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// A client (pub, sub, rr, meteo, bench, a bridge).
    Client,
    /// The broker.
    Server,
}

/// What went wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HandshakeFailure {
    /// We refused the peer's certificate.
    Certificate(VerifyError),
    /// `require_certificate` is set and the client sent none.
    NoClientCertificate,
    /// The peer ended the handshake with this alert (usually: it refused our certificate).
    PeerAlert {
        /// The alert.
        alert: AlertDescription,
        /// Our end.
        side: Side,
    },
    /// The peer's bytes are not TLS.
    NotTls {
        /// Our end.
        side: Side,
        /// The broker saw an MQTT CONNECT where a ClientHello was expected.
        plain_mqtt: bool,
    },
    /// No TLS version, cipher suite or signature scheme in common.
    Incompatible(String),
    /// The connection ended in the middle of the handshake.
    Closed {
        /// Our end.
        side: Side,
    },
    /// The handshake took longer than the connect timeout.
    TimedOut,
    /// Anything else, in words.
    Other(String),
}

impl HandshakeFailure {
    /// Classifies an error from tokio-rustls's `connect`/`accept` (or a later read, when a
    /// TLS 1.3 server refuses our certificate after the client finished).
    pub fn from_io(err: &std::io::Error, side: Side) -> HandshakeFailure {
        if let Some(tls) = err
            .get_ref()
            .and_then(|e| e.downcast_ref::<rustls::Error>())
        {
            return HandshakeFailure::from_rustls(tls, side);
        }
        use std::io::ErrorKind as K;
        match err.kind() {
            K::UnexpectedEof | K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => {
                HandshakeFailure::Closed { side }
            }
            K::TimedOut => HandshakeFailure::TimedOut,
            _ => HandshakeFailure::Other(err.to_string()),
        }
    }

    /// Classifies a rustls error.
    pub fn from_rustls(err: &rustls::Error, side: Side) -> HandshakeFailure {
        use rustls::Error as E;
        if let Some(v) = VerifyError::from_rustls(err) {
            return HandshakeFailure::Certificate(v);
        }
        match err {
            E::InvalidMessage(_) => HandshakeFailure::NotTls {
                side,
                plain_mqtt: false,
            },
            E::NoCertificatesPresented => HandshakeFailure::NoClientCertificate,
            E::AlertReceived(alert) => HandshakeFailure::PeerAlert {
                alert: *alert,
                side,
            },
            E::PeerIncompatible(p) => HandshakeFailure::Incompatible(incompatible(p, side)),
            E::InvalidCertificate(_) => HandshakeFailure::Other(format!(
                "the {} certificate could not be read",
                peer_word(side)
            )),
            other => HandshakeFailure::Other(other.to_string()),
        }
    }
}

fn peer_word(side: Side) -> &'static str {
    match side {
        Side::Client => "server",
        Side::Server => "client",
    }
}

fn incompatible(p: &PeerIncompatible, side: Side) -> String {
    use PeerIncompatible as P;
    let (peer, hint) = match side {
        Side::Client => ("server", "--tls-version, --ciphers"),
        Side::Server => ("client", "tls_version, ciphers, ciphers_tls1.3"),
    };
    let what = match p {
        P::NoCipherSuitesInCommon => "no cipher suite",
        P::NoSignatureSchemesInCommon => "no signature scheme",
        P::NoKxGroupsInCommon | P::NoEcPointFormatsInCommon => "no key exchange group",
        P::Tls12NotOffered
        | P::Tls12NotOfferedOrEnabled
        | P::Tls13RequiredForQuic
        | P::ServerDoesNotSupportTls12Or13
        | P::SupportedVersionsExtensionRequired => "no TLS version (mq speaks TLS 1.2 and 1.3)",
        _ => "no TLS parameters",
    };
    format!("{what} in common with the {peer} (see {hint})")
}

/// An alert's name in words.
fn alert_words(alert: AlertDescription) -> String {
    use AlertDescription as A;
    let words = match alert {
        A::UnknownCA => "unknown CA",
        A::BadCertificate => "bad certificate",
        A::UnsupportedCertificate => "unsupported certificate",
        A::CertificateUnknown => "certificate unknown",
        A::CertificateExpired => "certificate expired",
        A::CertificateRevoked => "certificate revoked",
        A::CertificateRequired => "certificate required",
        A::HandshakeFailure => "handshake failure",
        A::ProtocolVersion => "protocol version",
        A::InsufficientSecurity => "insufficient security",
        A::DecryptError => "decrypt error",
        A::DecodeError => "decode error",
        A::IllegalParameter => "illegal parameter",
        A::AccessDenied => "access denied",
        A::InternalError => "internal error",
        A::UnexpectedMessage => "unexpected message",
        A::NoApplicationProtocol => "no application protocol",
        A::UnrecognisedName => "unrecognised name",
        other => return format!("alert {}", u8::from(other)),
    };
    words.to_string()
}

fn peer_alert(f: &mut fmt::Formatter<'_>, alert: AlertDescription, side: Side) -> fmt::Result {
    use AlertDescription as A;
    let name = alert_words(alert);
    match (side, alert) {
        (Side::Client, A::UnknownCA) => write!(
            f,
            "the server does not trust our client certificate ({name}): it was not signed by a CA the server knows"
        ),
        (Side::Client, A::CertificateRequired) => write!(
            f,
            "the server requires a client certificate ({name}): give --cert and --key"
        ),
        (Side::Client, A::CertificateExpired) => {
            write!(
                f,
                "the server finds our client certificate expired ({name})"
            )
        }
        (Side::Client, A::CertificateRevoked) => {
            write!(
                f,
                "the server says our client certificate is revoked ({name})"
            )
        }
        (Side::Client, A::BadCertificate | A::UnsupportedCertificate | A::CertificateUnknown) => {
            write!(f, "the server rejected our client certificate ({name})")
        }
        (Side::Client, A::HandshakeFailure) => write!(
            f,
            "the server ended the handshake ({name}): no cipher suite in common, or it requires \
             a client certificate (--cert and --key)"
        ),
        (Side::Client, A::ProtocolVersion) => write!(
            f,
            "the server does not accept our TLS version ({name}; see --tls-version)"
        ),
        (Side::Client, _) => write!(f, "the server ended the TLS handshake ({name})"),
        (Side::Server, A::UnknownCA) => write!(
            f,
            "the client does not trust our certificate ({name}): give it the CA that signed certfile"
        ),
        (Side::Server, A::CertificateUnknown) => write!(
            f,
            "the client rejected our certificate ({name}): its name does not match the host the \
             client asked for, or the client does not trust its CA"
        ),
        (Side::Server, A::CertificateExpired) => {
            write!(f, "the client finds our certificate expired ({name})")
        }
        (Side::Server, A::BadCertificate | A::UnsupportedCertificate) => {
            write!(f, "the client rejected our certificate ({name})")
        }
        (Side::Server, A::ProtocolVersion | A::HandshakeFailure) => write!(
            f,
            "no TLS version or cipher suite in common with the client ({name})"
        ),
        (Side::Server, _) => write!(f, "the client ended the TLS handshake ({name})"),
    }
}

impl fmt::Display for HandshakeFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandshakeFailure::Certificate(e) => write!(f, "{e}"),
            HandshakeFailure::NoClientCertificate => {
                f.write_str("the client sent no certificate, and require_certificate is set")
            }
            HandshakeFailure::PeerAlert { alert, side } => peer_alert(f, *alert, *side),
            HandshakeFailure::NotTls {
                side: Side::Server,
                plain_mqtt: true,
            } => f.write_str("this port expects TLS, but the client sent plain MQTT"),
            HandshakeFailure::NotTls {
                side: Side::Server,
                plain_mqtt: false,
            } => f.write_str("this port expects TLS, but the client did not send a TLS handshake"),
            HandshakeFailure::NotTls {
                side: Side::Client, ..
            } => f.write_str(
                "the server speaks plain MQTT on this port, not TLS (its answer to our TLS \
                 handshake was not TLS)",
            ),
            HandshakeFailure::Incompatible(words) => f.write_str(words),
            HandshakeFailure::Closed { side: Side::Client } => f.write_str(
                "the server speaks plain MQTT on this port, not TLS (it closed the connection \
                 at our TLS handshake)",
            ),
            HandshakeFailure::Closed { side: Side::Server } => {
                f.write_str("the client closed the connection during the TLS handshake")
            }
            HandshakeFailure::TimedOut => f.write_str("the TLS handshake timed out"),
            HandshakeFailure::Other(words) => write!(f, "TLS handshake failed: {words}"),
        }
    }
}

impl std::error::Error for HandshakeFailure {}

/// True when the first bytes a plain listener (or a plain client) received look like a TLS
/// record: content type 20 to 23 (handshake 22 for a ClientHello, alert 21 for a server's
/// refusal), then version 3.x.
pub fn looks_like_tls(first_bytes: &[u8]) -> bool {
    matches!(first_bytes, [20..=23, 0x03, ..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_records_are_recognised() {
        assert!(looks_like_tls(&[0x16, 0x03, 0x01, 0x02, 0x00]));
        assert!(looks_like_tls(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x32]));
        assert!(!looks_like_tls(&[
            0x10, 0x0c, 0x00, 0x04, b'M', b'Q', b'T', b'T'
        ]));
        assert!(!looks_like_tls(&[0x20, 0x02, 0x00, 0x00]));
        assert!(!looks_like_tls(&[0x16]));
    }

    #[test]
    fn errors_become_words() {
        let closed = std::io::Error::from(std::io::ErrorKind::UnexpectedEof);
        let f = HandshakeFailure::from_io(&closed, Side::Client);
        assert!(
            f.to_string()
                .contains("the server speaks plain MQTT on this port, not TLS"),
            "{f}"
        );
        let alert = rustls::Error::AlertReceived(AlertDescription::UnknownCA);
        let f = HandshakeFailure::from_rustls(&alert, Side::Server);
        assert!(
            f.to_string().contains("does not trust our certificate"),
            "{f}"
        );
        let f = HandshakeFailure::from_rustls(
            &rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType),
            Side::Server,
        );
        assert!(f.to_string().starts_with("this port expects TLS"), "{f}");
        let f = HandshakeFailure::from_rustls(
            &rustls::Error::PeerIncompatible(PeerIncompatible::NoCipherSuitesInCommon),
            Side::Client,
        );
        assert_eq!(
            f.to_string(),
            "no cipher suite in common with the server (see --tls-version, --ciphers)"
        );
    }
}
