//! The client side: mosquitto's TLS flags (`--cafile`, `--capath`, `--cert`, `--key`,
//! `--insecure`, `--tls-version`, `--tls-use-os-certs`, `--ciphers`, `--tls-alpn`,
//! `--tls-keylog`) into a rustls `ClientConfig` whose server-certificate check is
//! [`super::verifier::ServerVerifier`]. pub, sub, rr, meteo, bench and bridges all come here.

use super::ciphers::{self, Family};
use super::problem::Role;
use super::trust::{TrustSources, TrustStore};
use super::verifier::ServerVerifier;
use super::verify::ChainVerifier;
use super::{ConfigError, MinTlsVersion, identity};
use rustls::ClientConfig;
use rustls::sign::SingleCertAndKey;
use std::path::PathBuf;
use std::sync::Arc;

/// Client TLS settings.
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
    /// Lowest protocol version.
    pub version: MinTlsVersion,
    /// Trust the operating system's CA bundle (also the default without cafile and capath).
    pub os_certs: bool,
    /// ALPN protocol to offer.
    pub alpn: Option<String>,
    /// OpenSSL cipher list (TLS 1.2 and 1.3 names).
    pub ciphers: Option<String>,
    /// Write the session secrets here (NSS key log format), for Wireshark.
    pub keylog: Option<PathBuf>,
}

impl TlsOptions {
    /// Builds the rustls configuration, reading every file now.
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, ConfigError> {
        let lists: Vec<(&str, Family)> = self
            .ciphers
            .as_deref()
            .map(|l| (l, Family::Any))
            .into_iter()
            .collect();
        let provider = Arc::new(ciphers::provider(&lists)?);
        let trust = TrustStore::load(&TrustSources {
            cafile: self.cafile.clone(),
            capath: self.capath.clone(),
            os: self.os_certs || (self.cafile.is_none() && self.capath.is_none()),
        })?;
        let chain = ChainVerifier {
            trust: Arc::new(trust),
            crls: None,
            role: Role::Server,
            algs: provider.signature_verification_algorithms,
        };
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&self.version.versions())
            .map_err(|e| ConfigError::Invalid(format!("TLS settings: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(ServerVerifier::new(chain, self.insecure)));
        let mut config = match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => {
                let pair = identity::load(cert, key, &provider)?;
                builder.with_client_cert_resolver(Arc::new(SingleCertAndKey::from(pair)))
            }
            (None, None) => builder.with_no_client_auth(),
            _ => {
                return Err(ConfigError::Invalid(
                    "Both certfile and keyfile must be provided if one of them is set.".into(),
                ));
            }
        };
        if let Some(p) = &self.alpn {
            config.alpn_protocols = vec![p.as_bytes().to_vec()];
        }
        if let Some(path) = &self.keylog {
            config.key_log = Arc::new(super::keylog::KeyLogFile::open(path)?);
        }
        Ok(Arc::new(config))
    }
}
