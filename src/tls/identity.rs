//! Our own certificate and key (`certfile`/`keyfile`, `--cert`/`--key`), paired without
//! rustls's own consistency check: that check parses the certificate with webpki, which
//! refuses the version 1 certificates mosquitto-tls(7) makes. The pair is compared here by
//! SubjectPublicKeyInfo, as rustls does, with the certificate read by x509-parser.

use super::{ConfigError, pem};
use rustls::crypto::CryptoProvider;
use rustls::sign::CertifiedKey;
use std::path::Path;
use x509_parser::prelude::{FromDer, X509Certificate};

/// The chain of `cert` (leaf first) with the private key of `key`, checked to belong together.
pub fn load(
    cert: &Path,
    key: &Path,
    provider: &CryptoProvider,
) -> Result<CertifiedKey, ConfigError> {
    let chain = pem::load_certs(cert)?;
    let key_der = pem::load_key(key)?;
    let pair_error = |reason: String| ConfigError::CertKey {
        certfile: cert.to_path_buf(),
        keyfile: key.to_path_buf(),
        reason,
    };
    let signing = provider
        .key_provider
        .load_private_key(key_der)
        .map_err(|e| pair_error(format!("unsupported private key ({e})")))?;
    let leaf = X509Certificate::from_der(&chain[0])
        .map_err(|e| ConfigError::File {
            path: cert.to_path_buf(),
            problem: format!("the first certificate does not parse: {e}"),
        })?
        .1;
    if let Some(spki) = signing.public_key() {
        if spki.as_ref() != leaf.public_key().raw {
            return Err(pair_error(
                "the private key does not belong to the certificate".into(),
            ));
        }
    }
    Ok(CertifiedKey::new(chain, signing))
}
