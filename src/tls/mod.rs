//! TLS for every command, on rustls: the configurations built from mosquitto's options, and
//! the one certificate check all of them share.
//!
//! | file | what it holds |
//! |---|---|
//! | [`client`] | `--cafile`, `--cert`, `--insecure`, ... into a rustls `ClientConfig` (pub, sub, rr, meteo, bench, bridges) |
//! | [`server`] | a listener's `certfile`, `cafile`, `require_certificate`, `crlfile`, ... into a `ServerConfig` |
//! | [`verify`], [`legacy`] | the chain check: webpki for version 3 chains, OpenSSL's rules over x509-parser for the rest |
//! | [`verifier`] | that check as rustls's server- and client-certificate verifiers |
//! | [`name`] | the host name rule (subjectAltName first, CN without DNS names) |
//! | [`trust`] | cafile, capath and the system CA store |
//! | [`problem`], [`failure`] | why a certificate or a handshake was refused, in words |
//! | [`pem`], [`identity`], [`names`] | PEM files, our own certificate and key, distinguished names |
//! | [`ciphers`], [`keylog`] | OpenSSL cipher lists, the NSS key log |

pub mod ciphers;
pub mod client;
pub mod failure;
pub mod identity;
pub mod keylog;
pub mod legacy;
pub mod name;
pub mod names;
pub mod pem;
pub mod problem;
pub mod server;
pub mod trust;
pub mod verifier;
pub mod verify;

pub use ciphers::CipherError;
pub use client::TlsOptions;
pub use failure::{HandshakeFailure, Side, looks_like_tls};
pub use problem::{Problem, Role, VerifyError};
pub use server::ServerOptions;

use std::path::PathBuf;

/// Lowest TLS version spoken (`tls_version`, `--tls-version`). rustls has nothing older
/// than 1.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MinTlsVersion {
    /// `tlsv1.2`: TLS 1.2 and 1.3 (the default).
    #[default]
    V12,
    /// `tlsv1.3`: TLS 1.3 only.
    V13,
}

impl MinTlsVersion {
    /// Parses mosquitto's values.
    pub fn parse(s: &str) -> Result<MinTlsVersion, ConfigError> {
        match s {
            "tlsv1.2" => Ok(MinTlsVersion::V12),
            "tlsv1.3" => Ok(MinTlsVersion::V13),
            other => Err(ConfigError::Version(other.to_string())),
        }
    }

    /// The rustls protocol versions allowed.
    pub fn versions(self) -> Vec<&'static rustls::SupportedProtocolVersion> {
        match self {
            MinTlsVersion::V12 => vec![&rustls::version::TLS13, &rustls::version::TLS12],
            MinTlsVersion::V13 => vec![&rustls::version::TLS13],
        }
    }
}

/// What mq says about pre-shared keys (`psk_hint`, `psk_file`, `--psk`, `--psk-identity`).
pub const PSK_UNSUPPORTED: &str = "TLS-PSK is not supported: rustls, the TLS library mq uses, \
     has no pre-shared key support; use certificates instead (see mosquitto-tls(7))";

/// Why a TLS configuration could not be built; every message names the file or option.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file or directory could not be read (or, for a key log, written).
    #[error("unable to open {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The file is not what it should be.
    #[error("{}: {problem}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// The certificate and key do not go together, or the key is unusable.
    #[error("certificate {} with key {}: {reason}", certfile.display(), keyfile.display())]
    CertKey {
        /// The certificate chain.
        certfile: PathBuf,
        /// The key.
        keyfile: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// No trusted CA certificate to check the peer against.
    #[error(
        "no trusted CA certificate to check certificates against: give cafile or capath \
         (--cafile, --capath or --tls-use-os-certs for the clients)"
    )]
    NoCa,
    /// A TLS version rustls does not speak.
    #[error("unsupported TLS version '{0}' (use tlsv1.2 or tlsv1.3; rustls has nothing older)")]
    Version(String),
    /// A cipher list that names something rustls does not have.
    #[error("{0}")]
    Cipher(#[from] CipherError),
    /// Options that do not fit together.
    #[error("{0}")]
    Invalid(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_versions_follow_mosquitto_names() {
        assert_eq!(MinTlsVersion::parse("tlsv1.2").unwrap(), MinTlsVersion::V12);
        assert_eq!(MinTlsVersion::parse("tlsv1.3").unwrap(), MinTlsVersion::V13);
        let err = MinTlsVersion::parse("tlsv1.1").unwrap_err().to_string();
        assert!(err.contains("tlsv1.1") && err.contains("tlsv1.2"), "{err}");
    }
}
