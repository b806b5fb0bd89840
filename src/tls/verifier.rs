//! The chain check of [`super::verify`] plugged into rustls, for both sides: the client's
//! server-certificate verifier (with the host name check, which `--insecure` alone skips) and
//! the broker's client-certificate verifier.
//!
//! The handshake signatures are checked with the public key taken from the certificate by
//! x509-parser and verified by webpki, so version 1 certificates (which webpki will not parse
//! as certificates) sign handshakes like any other.

use super::name;
use super::problem::{Role, VerifyError};
use super::verify::ChainVerifier;
use rustls::DistinguishedName;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, SubjectPublicKeyInfoDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use x509_parser::prelude::{FromDer, X509Certificate};

/// Checks server certificates (every client command, bridges).
#[derive(Debug)]
pub struct ServerVerifier {
    chain: ChainVerifier,
    check_name: bool,
}

impl ServerVerifier {
    /// `insecure` skips the host name check, and only that (mosquitto's `--insecure`).
    pub fn new(chain: ChainVerifier, insecure: bool) -> ServerVerifier {
        ServerVerifier {
            chain,
            check_name: !insecure,
        }
    }
}

impl ServerCertVerifier for ServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.chain
            .verify(end_entity, intermediates, now)
            .map_err(VerifyError::into_rustls)?;
        if self.check_name {
            name::check(end_entity, server_name).map_err(|problem| {
                VerifyError {
                    role: Role::Server,
                    problem,
                }
                .into_rustls()
            })?;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        tls12_signature(message, cert, dss, &self.chain.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        tls13_signature(message, cert, dss, &self.chain.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.chain.algs.supported_schemes()
    }
}

/// Checks client certificates (the broker's `require_certificate`).
#[derive(Debug)]
pub struct ClientVerifier {
    chain: ChainVerifier,
    subjects: Vec<DistinguishedName>,
}

impl ClientVerifier {
    /// Asks every client for a certificate and refuses those that send none.
    pub fn new(chain: ChainVerifier) -> ClientVerifier {
        let subjects = chain
            .trust
            .anchors()
            .iter()
            .map(|a| DistinguishedName::from(a.subject.clone()))
            .collect();
        ClientVerifier { chain, subjects }
    }
}

impl ClientCertVerifier for ClientVerifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.subjects
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.chain
            .verify(end_entity, intermediates, now)
            .map_err(VerifyError::into_rustls)?;
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        tls12_signature(message, cert, dss, &self.chain.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        tls13_signature(message, cert, dss, &self.chain.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.chain.algs.supported_schemes()
    }
}

/// The certificate's SubjectPublicKeyInfo.
fn spki(cert: &CertificateDer<'_>) -> Result<SubjectPublicKeyInfoDer<'static>, rustls::Error> {
    X509Certificate::from_der(cert)
        .map(|(_, c)| SubjectPublicKeyInfoDer::from(c.public_key().raw.to_vec()))
        .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))
}

fn tls13_signature(
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
    algs: &WebPkiSupportedAlgorithms,
) -> Result<HandshakeSignatureValid, rustls::Error> {
    rustls::crypto::verify_tls13_signature_with_raw_key(message, &spki(cert)?, dss, algs)
}

/// As rustls's own TLS 1.2 check, with the key read from any certificate version: every
/// webpki algorithm for the scheme is tried until one fits the key.
fn tls12_signature(
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
    algs: &WebPkiSupportedAlgorithms,
) -> Result<HandshakeSignatureValid, rustls::Error> {
    let spki = spki(cert)?;
    let key = webpki::RawPublicKeyEntity::try_from(&spki)
        .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
    let candidates = algs
        .mapping
        .iter()
        .filter(|(scheme, _)| *scheme == dss.scheme)
        .flat_map(|(_, algs)| algs.iter());
    for alg in candidates {
        match key.verify_signature(*alg, message, dss.signature()) {
            Ok(()) => return Ok(HandshakeSignatureValid::assertion()),
            Err(webpki::Error::UnsupportedSignatureAlgorithmForPublicKeyContext(_)) => continue,
            Err(_) => {
                return Err(rustls::Error::InvalidCertificate(
                    CertificateError::BadSignature,
                ));
            }
        }
    }
    Err(rustls::Error::PeerMisbehaved(
        rustls::PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme,
    ))
}
