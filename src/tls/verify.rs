//! The one certificate-chain check every peer goes through: a server's certificate in every
//! client (pub, sub, rr, meteo, bench, bridges), a client's certificate in the broker.
//!
//! It accepts what OpenSSL's default verification accepts and refuses what it refuses:
//!
//! - chains of version 3 certificates go to webpki, with the CRLs of `crlfile` for the peer's
//!   own certificate (OpenSSL's `X509_V_FLAG_CRL_CHECK`: a CRL from its issuer must be there),
//!   then OpenSSL's rules webpki leaves out: key usage of the peer's certificate and of its
//!   issuers, and the validity and CA rules of the trusted CA that ends the chain;
//! - chains webpki does not take — a version 1 peer certificate (what `openssl x509 -req`
//!   makes without an extensions file), a CA certificate used as the peer's own (the one-step
//!   self-signed `openssl req -x509`), a version 1 intermediate (refused, like OpenSSL) — go
//!   to [`super::legacy`], which applies the same checks with x509-parser.

use super::legacy;
use super::problem::{CertRef, Date, Position, Problem, Role, VerifyError};
use super::trust::TrustStore;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, UnixTime};
use std::path::PathBuf;
use std::sync::Arc;
use webpki::{
    CertRevocationList, ExpirationPolicy, KeyUsage, OwnedCertRevocationList, RevocationCheckDepth,
    RevocationOptionsBuilder, UnknownStatusPolicy,
};
use x509_parser::prelude::{FromDer, X509Certificate, X509Version};

/// The CRLs of `crlfile`.
#[derive(Debug)]
pub struct Crls {
    /// The file, for messages.
    pub path: PathBuf,
    /// The CRLs as DER (for the legacy path).
    pub der: Vec<CertificateRevocationListDer<'static>>,
    webpki: Vec<CertRevocationList<'static>>,
}

impl Crls {
    /// Reads `path`.
    pub fn load(path: &std::path::Path) -> Result<Crls, super::ConfigError> {
        let der = super::pem::load_crls(path)?;
        let webpki = der
            .iter()
            .map(|d| {
                OwnedCertRevocationList::from_der(d)
                    .map(CertRevocationList::from)
                    .map_err(|e| super::ConfigError::File {
                        path: path.to_path_buf(),
                        problem: format!("not a usable CRL ({})", webpki_words(&e)),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Crls {
            path: path.to_path_buf(),
            der,
            webpki,
        })
    }
}

/// Verifies certificate chains of one role against one trust store.
#[derive(Debug)]
pub struct ChainVerifier {
    /// The trusted CAs.
    pub trust: Arc<TrustStore>,
    /// `crlfile`, when set.
    pub crls: Option<Arc<Crls>>,
    /// Whose certificates this checks.
    pub role: Role,
    /// The signature algorithms accepted, from the crypto provider.
    pub algs: WebPkiSupportedAlgorithms,
}

impl ChainVerifier {
    /// Checks `end_entity` (with the `intermediates` the peer sent) at `now`.
    pub fn verify(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<(), VerifyError> {
        let result = match X509Certificate::from_der(end_entity) {
            Err(e) => Err(Problem::Malformed {
                position: Position::Peer,
                why: e.to_string(),
            }),
            Ok((_, leaf)) if needs_legacy(&leaf, intermediates) => {
                legacy::verify(self, &leaf, intermediates, now)
            }
            Ok((_, leaf)) => self.modern(end_entity, &leaf, intermediates, now),
        };
        result.map_err(|problem| VerifyError {
            role: self.role,
            problem,
        })
    }

    fn modern(
        &self,
        der: &CertificateDer<'_>,
        leaf: &X509Certificate<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<(), Problem> {
        let ee = webpki::EndEntityCert::try_from(der).map_err(|e| Problem::Malformed {
            position: Position::Peer,
            why: webpki_words(&e).to_string(),
        })?;
        let crl_refs: Vec<&CertRevocationList<'_>> = match &self.crls {
            Some(c) => c.webpki.iter().collect(),
            None => Vec::new(),
        };
        let revocation = RevocationOptionsBuilder::new(&crl_refs).ok().map(|b| {
            b.with_depth(RevocationCheckDepth::EndEntity)
                .with_status_policy(UnknownStatusPolicy::Deny)
                .with_expiration_policy(ExpirationPolicy::Enforce)
                .build()
        });
        let usage = match self.role {
            Role::Server => KeyUsage::server_auth(),
            Role::Client => KeyUsage::client_auth(),
        };
        let anchors = self.trust.webpki_anchors();
        match ee.verify_for_usage(
            self.algs.all,
            anchors,
            intermediates,
            now,
            usage,
            revocation,
            None,
        ) {
            Ok(path) => {
                let mut below = 0;
                for ca in path.intermediate_certificates() {
                    legacy::check_issuer(&ca.der(), Position::Intermediate, below, now)?;
                    below += 1;
                }
                let index = anchors.iter().position(|a| std::ptr::eq(a, path.anchor()));
                if let Some(anchor) = index.map(|i| &self.trust.anchors()[i]) {
                    // A trusted self-signed peer certificate is its own chain, not a CA.
                    if anchor.der.as_ref() != der.as_ref() {
                        legacy::check_issuer(&anchor.der, Position::Ca, below, now)?;
                    }
                }
                let peer = CertRef::peer(super::names::label(leaf.subject()));
                legacy::check_purpose(leaf, &peer, self.role)
            }
            Err(e) => Err(self.explain(&e, leaf, intermediates)),
        }
    }

    /// Words for webpki's verdict, naming the certificate it is about.
    fn explain(
        &self,
        err: &webpki::Error,
        leaf: &X509Certificate<'_>,
        intermediates: &[CertificateDer<'_>],
    ) -> Problem {
        use webpki::Error as E;
        let peer = CertRef::peer(super::names::label(leaf.subject()));
        match err {
            E::CertExpired { not_after, .. } => {
                let t = not_after.as_secs() as i64;
                let cert = self.whose_date(leaf, intermediates, |c| {
                    c.validity().not_after.timestamp() == t
                });
                Problem::Expired {
                    cert,
                    not_after: Date(t),
                }
            }
            E::CertNotValidYet { not_before, .. } => {
                let t = not_before.as_secs() as i64;
                let cert = self.whose_date(leaf, intermediates, |c| {
                    c.validity().not_before.timestamp() == t
                });
                Problem::NotYetValid {
                    cert,
                    not_before: Date(t),
                }
            }
            E::UnknownIssuer => legacy::unknown_issuer(self, leaf, intermediates),
            E::InvalidSignatureForPublicKey => Problem::BadSignature {
                cert: peer,
                issuer: super::names::label(leaf.issuer()),
            },
            E::CertRevoked => Problem::Revoked {
                cert: peer,
                crlfile: self.crl_path(),
            },
            E::UnknownRevocationStatus => Problem::NoCrl {
                cert: peer,
                issuer: super::names::label(leaf.issuer()),
                crlfile: self.crl_path(),
            },
            E::CrlExpired { next_update, .. } => Problem::StaleCrl {
                issuer: super::names::label(leaf.issuer()),
                crlfile: self.crl_path(),
                when: Date(next_update.as_secs() as i64),
                future: false,
            },
            E::RequiredEkuNotFoundContext(_) => Problem::WrongPurpose { cert: peer },
            E::UnsupportedSignatureAlgorithmContext(_)
            | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
                Problem::UnsupportedAlgorithm { cert: peer }
            }
            E::UnsupportedCriticalExtension => Problem::UnknownCriticalExtension {
                cert: peer,
                oid: "one webpki does not handle".into(),
            },
            E::PathLenConstraintViolated => Problem::NotACa {
                cert: peer,
                why: "the chain is longer than a CA's path length constraint allows".into(),
            },
            E::EndEntityUsedAsCa => Problem::NotACa {
                cert: peer,
                why: "a certificate in the chain is not a CA but signed another".into(),
            },
            other => Problem::Other(format!(
                "{} certificate {}: {}",
                match self.role {
                    Role::Server => "server",
                    Role::Client => "client",
                },
                peer.label,
                webpki_words(other)
            )),
        }
    }

    /// The certificate among the leaf, the intermediates and the trusted CAs whose date
    /// matches (webpki reports the date, not the certificate).
    fn whose_date(
        &self,
        leaf: &X509Certificate<'_>,
        intermediates: &[CertificateDer<'_>],
        matches: impl Fn(&X509Certificate<'_>) -> bool,
    ) -> CertRef {
        if matches(leaf) {
            return CertRef::peer(super::names::label(leaf.subject()));
        }
        let found = |list: &mut dyn Iterator<Item = &[u8]>, position| {
            list.filter_map(|d| X509Certificate::from_der(d).ok().map(|(_, c)| c))
                .find(|c| matches(c))
                .map(|c| CertRef {
                    position,
                    label: super::names::label(c.subject()),
                })
        };
        found(
            &mut intermediates.iter().map(|c| c.as_ref()),
            Position::Intermediate,
        )
        .or_else(|| {
            found(
                &mut self.trust.anchors().iter().map(|a| a.der.as_ref()),
                Position::Ca,
            )
        })
        .unwrap_or_else(|| CertRef::peer(super::names::label(leaf.subject())))
    }

    /// The crlfile, for messages.
    pub fn crl_path(&self) -> String {
        self.crls
            .as_ref()
            .map(|c| c.path.display().to_string())
            .unwrap_or_default()
    }
}

/// True when webpki cannot judge this chain and OpenSSL can: a version 1 peer certificate, a
/// CA certificate as the peer's own, or a version 1 certificate among the intermediates.
fn needs_legacy(leaf: &X509Certificate<'_>, intermediates: &[CertificateDer<'_>]) -> bool {
    leaf.version() != X509Version::V3
        || leaf.is_ca()
        || intermediates.iter().any(|d| {
            X509Certificate::from_der(d).is_ok_and(|(_, c)| c.version() != X509Version::V3)
        })
}

/// webpki's errors in words (its own `Display` is a Rust debug value).
pub fn webpki_words(err: &webpki::Error) -> &'static str {
    use webpki::Error as E;
    match err {
        E::BadDer | E::BadDerTime | E::TrailingData(_) => "malformed DER",
        E::UnsupportedCertVersion => "unsupported certificate version",
        E::UnsupportedCrlVersion => "unsupported CRL version",
        E::UnsupportedCriticalExtension => "a critical extension that is not understood",
        E::UnsupportedCrlSignatureAlgorithmContext(_)
        | E::UnsupportedCrlSignatureAlgorithmForPublicKeyContext(_) => {
            "the CRL is signed with an algorithm that is not accepted"
        }
        E::InvalidCrlSignatureForPublicKey => "the CRL's signature does not verify",
        E::IssuerNotCrlSigner => "the CRL's issuer may not sign CRLs",
        E::InvalidCertValidity => "its validity period is invalid",
        E::MaximumPathBuildCallsExceeded
        | E::MaximumPathDepthExceeded
        | E::MaximumSignatureChecksExceeded => "the chain is too long or too tangled to verify",
        E::NameConstraintViolation => "a name outside what its CA may certify (name constraints)",
        E::CaUsedAsEndEntity => "a CA certificate used as a peer certificate",
        _ => "it could not be verified",
    }
}
