//! The server side: a listener's TLS options, as mosquitto.conf names them, into a rustls
//! `ServerConfig` whose client-certificate check is [`super::verifier::ClientVerifier`].
//! MQTT and (secure) WebSocket listeners share it.

use super::ciphers::{self, Family};
use super::keylog::KeyLogFile;
use super::problem::Role;
use super::trust::{TrustSources, TrustStore};
use super::verifier::ClientVerifier;
use super::verify::{ChainVerifier, Crls};
use super::{ConfigError, MinTlsVersion, identity};
use rustls::ServerConfig;
use rustls::sign::SingleCertAndKey;
use std::path::PathBuf;
use std::sync::Arc;

/// One listener's TLS options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerOptions {
    /// `certfile`: the server certificate chain (PEM), leaf first. Intermediate CAs missing
    /// from it are taken from `cafile`/`capath`, as OpenSSL does.
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
    /// `crlfile`: revoked client certificates (PEM CRLs); the issuer of every client
    /// certificate must have one there.
    pub crlfile: Option<PathBuf>,
    /// `ciphers`: OpenSSL cipher list for TLS 1.2.
    pub ciphers: Option<String>,
    /// `ciphers_tls1.3`: OpenSSL names of the TLS 1.3 suites.
    pub ciphers_tls13: Option<String>,
    /// `tls_keylog`: write session secrets here (debugging with Wireshark).
    pub keylog: Option<PathBuf>,
}

/// Builds the rustls server configuration for one listener (ring provider).
pub fn server_config(tls: &ServerOptions) -> Result<Arc<ServerConfig>, ConfigError> {
    let mut lists = Vec::new();
    if let Some(l) = &tls.ciphers {
        lists.push((l.as_str(), Family::Tls12));
    }
    if let Some(l) = &tls.ciphers_tls13 {
        lists.push((l.as_str(), Family::Tls13));
    }
    let provider = Arc::new(ciphers::provider(&lists)?);
    let mut pair = identity::load(&tls.certfile, &tls.keyfile, &provider)?;
    // Like mosquitto, client certificates are only asked for with require_certificate; the
    // CAs still complete our own chain.
    let trust = match (&tls.cafile, &tls.capath) {
        (None, None) if tls.require_certificate => return Err(ConfigError::NoCa),
        (None, None) => None,
        (cafile, capath) => Some(Arc::new(TrustStore::load(&TrustSources {
            cafile: cafile.clone(),
            capath: capath.clone(),
            os: false,
        })?)),
    };
    if let Some(t) = &trust {
        t.complete_chain(&mut pair.cert);
    }
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&tls.tls_version.versions())
        .map_err(|e| ConfigError::Invalid(format!("TLS settings: {e}")))?;
    let crls = match &tls.crlfile {
        Some(path) => Some(Arc::new(Crls::load(path)?)),
        None => None,
    };
    let builder = match trust {
        Some(trust) if tls.require_certificate => {
            let chain = ChainVerifier {
                trust,
                crls,
                role: Role::Client,
                algs: provider.signature_verification_algorithms,
            };
            builder.with_client_cert_verifier(Arc::new(ClientVerifier::new(chain)))
        }
        _ => builder.with_no_client_auth(),
    };
    let mut config = builder.with_cert_resolver(Arc::new(SingleCertAndKey::from(pair)));
    if let Some(path) = &tls.keylog {
        config.key_log = Arc::new(KeyLogFile::open(path)?);
    }
    Ok(Arc::new(config))
}
