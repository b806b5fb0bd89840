//! Why a peer's certificate was refused, in words a person can act on: which certificate
//! (the server's, a client's, an intermediate, a CA), which check, and the date, name or file
//! involved.

use std::fmt;
use std::sync::Arc;

/// Whose certificate is being checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A server's certificate, checked by a client (pub, sub, rr, meteo, bench, bridges).
    Server,
    /// A client's certificate, checked by the broker (`require_certificate true`).
    Client,
}

impl Role {
    fn word(self) -> &'static str {
        match self {
            Role::Server => "server",
            Role::Client => "client",
        }
    }
}

/// Where in the chain a certificate sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    /// The peer's own certificate.
    Peer,
    /// An intermediate CA certificate the peer sent.
    Intermediate,
    /// A trusted CA certificate (from cafile, capath or the system store).
    Ca,
}

/// One certificate, as messages name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertRef {
    /// Its place in the chain.
    pub position: Position,
    /// `CN=...` or the whole subject.
    pub label: String,
}

impl CertRef {
    /// The peer's own certificate.
    pub fn peer(label: String) -> CertRef {
        CertRef {
            position: Position::Peer,
            label,
        }
    }
}

/// A date as the messages print it, from seconds since the Unix epoch (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Date(pub i64);

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match chrono::DateTime::from_timestamp(self.0, 0) {
            Some(t) => write!(f, "{}", t.format("%Y-%m-%d %H:%M:%S UTC")),
            None => write!(f, "{} seconds after 1970", self.0),
        }
    }
}

/// The check a certificate failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// Past its notAfter date.
    Expired {
        /// The certificate.
        cert: CertRef,
        /// Its notAfter.
        not_after: Date,
    },
    /// Before its notBefore date.
    NotYetValid {
        /// The certificate.
        cert: CertRef,
        /// Its notBefore.
        not_before: Date,
    },
    /// No trusted CA signed it, nor the top of the chain the peer sent.
    UnknownIssuer {
        /// The peer's certificate.
        cert: CertRef,
        /// The CA missing from the trusted ones: the certificate's issuer, or the issuer of
        /// the top of the chain the peer sent.
        issuer: String,
        /// True when `issuer` issued the peer's certificate itself.
        direct: bool,
        /// Where trusted CAs come from (`/etc/mq/ca.crt`, a capath, the system store).
        trusted: String,
    },
    /// An issuer with the right name exists, but the signature does not verify with its key.
    BadSignature {
        /// The certificate.
        cert: CertRef,
        /// The issuer it claims.
        issuer: String,
    },
    /// The host name is not among the certificate's names.
    NameMismatch {
        /// subjectAltName DNS/IP entries, or the CN when there are none.
        names: Vec<String>,
        /// The host connected to.
        host: String,
    },
    /// Listed in the issuer's CRL.
    Revoked {
        /// The certificate.
        cert: CertRef,
        /// The crlfile.
        crlfile: String,
    },
    /// `crlfile` holds no CRL from this certificate's issuer, so its status is unknown.
    NoCrl {
        /// The certificate.
        cert: CertRef,
        /// Its issuer.
        issuer: String,
        /// The crlfile.
        crlfile: String,
    },
    /// The issuer's CRL is out of date (past its nextUpdate) or not valid yet.
    StaleCrl {
        /// The CRL's issuer.
        issuer: String,
        /// The crlfile.
        crlfile: String,
        /// When it stopped (or starts) being valid.
        when: Date,
        /// True when it is not valid yet, false when it expired.
        future: bool,
    },
    /// A certificate that signs others is not allowed to (no CA basic constraint, a version 1
    /// intermediate, no keyCertSign, path length exceeded).
    NotACa {
        /// The certificate.
        cert: CertRef,
        /// Which rule.
        why: String,
    },
    /// Its (extended) key usage does not allow TLS server or client authentication.
    WrongPurpose {
        /// The certificate.
        cert: CertRef,
    },
    /// Signed with an algorithm that is not accepted (for example SHA-1).
    UnsupportedAlgorithm {
        /// The certificate.
        cert: CertRef,
    },
    /// A critical extension that is not understood.
    UnknownCriticalExtension {
        /// The certificate.
        cert: CertRef,
        /// The extension's OID.
        oid: String,
    },
    /// Not a well-formed certificate.
    Malformed {
        /// Which one.
        position: Position,
        /// What the parser said.
        why: String,
    },
    /// Anything else, already in words.
    Other(String),
}

/// A refused certificate: whose, and why. Its `Display` is the message for the log or stderr.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyError {
    /// Whose certificate chain was checked.
    pub role: Role,
    /// What failed.
    pub problem: Problem,
}

thread_local! {
    /// The last verdict a verifier returned on this thread. rustls chooses the alert it sends
    /// the peer from the kind of certificate error alone, and OpenSSL peers print that alert
    /// ("certificate revoked", "unknown ca"), so the error handed to rustls is the specific
    /// kind; the words stay here until the code driving the handshake, which receives the
    /// error in the same poll on the same thread, takes them back.
    static LAST_VERDICT: std::cell::RefCell<Option<VerifyError>> = const { std::cell::RefCell::new(None) };
}

impl VerifyError {
    /// The error rustls carries back to whoever drives the handshake, which finds this value
    /// again with [`VerifyError::from_rustls`].
    pub fn into_rustls(self) -> rustls::Error {
        let kind = self.certificate_error();
        if !matches!(kind, rustls::CertificateError::Other(_)) {
            LAST_VERDICT.with(|v| *v.borrow_mut() = Some(self));
        }
        rustls::Error::InvalidCertificate(kind)
    }

    /// The rustls error kind for this refusal, which decides the alert the peer gets (the
    /// same alerts OpenSSL sends for these verification errors).
    fn certificate_error(&self) -> rustls::CertificateError {
        use rustls::CertificateError as C;
        match &self.problem {
            Problem::Expired { .. } => C::Expired,
            Problem::NotYetValid { .. } => C::NotValidYet,
            Problem::UnknownIssuer { .. } | Problem::NotACa { .. } => C::UnknownIssuer,
            Problem::BadSignature { .. } => C::BadSignature,
            Problem::NameMismatch { .. } => C::NotValidForName,
            Problem::Revoked { .. } => C::Revoked,
            Problem::NoCrl { .. } => C::UnknownRevocationStatus,
            Problem::StaleCrl { .. } => C::ExpiredRevocationList,
            Problem::WrongPurpose { .. } => C::InvalidPurpose,
            Problem::UnknownCriticalExtension { .. } => C::UnhandledCriticalExtension,
            Problem::Malformed { .. } => C::BadEncoding,
            Problem::UnsupportedAlgorithm { .. } | Problem::Other(_) => {
                C::Other(rustls::OtherError(Arc::new(self.clone())))
            }
        }
    }

    /// The verdict behind a rustls error made by [`VerifyError::into_rustls`] (taken: a
    /// second call finds nothing). `None` for every other error.
    pub fn from_rustls(err: &rustls::Error) -> Option<VerifyError> {
        let rustls::Error::InvalidCertificate(kind) = err else {
            return None;
        };
        if let rustls::CertificateError::Other(other) = kind {
            if let Some(v) = other.0.downcast_ref::<VerifyError>() {
                return Some(v.clone());
            }
        }
        LAST_VERDICT
            .with(|v| v.borrow_mut().take())
            .filter(|v| &v.certificate_error() == kind)
    }

    fn what(&self, cert: &CertRef) -> String {
        match cert.position {
            Position::Peer => format!("{} certificate", self.role.word()),
            Position::Intermediate => "intermediate CA certificate".to_string(),
            Position::Ca => "trusted CA certificate".to_string(),
        }
    }
}

impl std::error::Error for VerifyError {}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Problem as P;
        match &self.problem {
            P::Expired { cert, not_after } => {
                write!(
                    f,
                    "{} expired on {not_after} ({})",
                    self.what(cert),
                    cert.label
                )
            }
            P::NotYetValid { cert, not_before } => write!(
                f,
                "{} is not valid until {not_before} ({}); check the clock here and where it was made",
                self.what(cert),
                cert.label
            ),
            P::UnknownIssuer {
                cert,
                issuer,
                direct,
                trusted,
            } => {
                write!(
                    f,
                    "{} {} is not signed by a CA in {trusted} ",
                    self.what(cert),
                    cert.label
                )?;
                if *direct {
                    write!(f, "(its issuer is {issuer})")
                } else {
                    write!(f, "(its chain leads to {issuer}, which is not there)")
                }
            }
            P::BadSignature { cert, issuer } => write!(
                f,
                "{} {} has a bad signature: it does not verify with the key of {issuer} \
                 (another CA with the same name, or a damaged certificate)",
                self.what(cert),
                cert.label
            ),
            P::NameMismatch { names, host } => name_mismatch(f, names, host),
            P::Revoked { cert, crlfile } => write!(
                f,
                "{} {} has been revoked (listed in {crlfile})",
                self.what(cert),
                cert.label
            ),
            P::NoCrl {
                cert,
                issuer,
                crlfile,
            } => write!(
                f,
                "cannot tell whether {} {} is revoked: {crlfile} has no CRL from its issuer {issuer}",
                self.what(cert),
                cert.label
            ),
            P::StaleCrl {
                issuer,
                crlfile,
                when,
                future,
            } => {
                let state = if *future {
                    "is not valid until"
                } else {
                    "expired on"
                };
                write!(f, "the CRL from {issuer} in {crlfile} {state} {when}")
            }
            P::NotACa { cert, why } => {
                write!(
                    f,
                    "{} {} cannot sign certificates: {why}",
                    self.what(cert),
                    cert.label
                )
            }
            P::WrongPurpose { cert } => write!(
                f,
                "{} {} is not meant for TLS {} authentication (its key usage or extended key \
                 usage excludes it)",
                self.what(cert),
                cert.label,
                self.role.word()
            ),
            P::UnsupportedAlgorithm { cert } => write!(
                f,
                "{} {} is signed with an algorithm that is not accepted (SHA-1, or a key \
                 shorter than 2048 bits?)",
                self.what(cert),
                cert.label
            ),
            P::UnknownCriticalExtension { cert, oid } => write!(
                f,
                "{} {} has a critical extension that is not understood ({oid})",
                self.what(cert),
                cert.label
            ),
            P::Malformed { position, why } => {
                let cert = CertRef {
                    position: *position,
                    label: String::new(),
                };
                write!(f, "{} is not a valid certificate: {why}", self.what(&cert))
            }
            P::Other(words) => f.write_str(words),
        }
    }
}

fn name_mismatch(f: &mut fmt::Formatter<'_>, names: &[String], host: &str) -> fmt::Result {
    if names.is_empty() {
        return write!(
            f,
            "certificate names no host (no subjectAltName, no CN), so it does not match host '{host}'"
        );
    }
    let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    write!(
        f,
        "certificate for {} does not match host '{host}'",
        quoted.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(role: Role, problem: Problem) -> String {
        VerifyError { role, problem }.to_string()
    }

    #[test]
    fn messages_name_the_certificate_and_the_reason() {
        let alice = CertRef::peer("CN=alice".into());
        let got = err(
            Role::Client,
            Problem::UnknownIssuer {
                cert: alice.clone(),
                issuer: "CN=Other CA".into(),
                direct: true,
                trusted: "/etc/mq/ca.crt".into(),
            },
        );
        assert_eq!(
            got,
            "client certificate CN=alice is not signed by a CA in /etc/mq/ca.crt (its issuer is CN=Other CA)"
        );
        let got = err(
            Role::Server,
            Problem::Expired {
                cert: CertRef::peer("CN=broker".into()),
                not_after: Date(1_767_225_600),
            },
        );
        assert_eq!(
            got,
            "server certificate expired on 2026-01-01 00:00:00 UTC (CN=broker)"
        );
        let got = err(
            Role::Server,
            Problem::NameMismatch {
                names: vec!["broker.example".into()],
                host: "localhost".into(),
            },
        );
        assert_eq!(
            got,
            "certificate for 'broker.example' does not match host 'localhost'"
        );
    }

    #[test]
    fn the_verdict_survives_a_trip_through_rustls() {
        let e = VerifyError {
            role: Role::Client,
            problem: Problem::Other("x".into()),
        };
        let r = e.clone().into_rustls();
        assert_eq!(VerifyError::from_rustls(&r), Some(e));
        assert!(r.to_string().contains('x'));
        assert_eq!(VerifyError::from_rustls(&rustls::Error::DecryptError), None);
        // A specific kind, for the right alert; the words come back once.
        let revoked = VerifyError {
            role: Role::Client,
            problem: Problem::Revoked {
                cert: CertRef::peer("CN=bob".into()),
                crlfile: "crl.pem".into(),
            },
        };
        let r = revoked.clone().into_rustls();
        assert_eq!(
            r,
            rustls::Error::InvalidCertificate(rustls::CertificateError::Revoked)
        );
        assert_eq!(VerifyError::from_rustls(&r), Some(revoked));
        assert_eq!(VerifyError::from_rustls(&r), None);
    }
}
