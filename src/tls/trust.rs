//! The trusted CA certificates: `cafile`, every certificate file in `capath`, and the operating
//! system's bundle, kept both as webpki trust anchors and as the certificates themselves (the
//! legacy path, the expiry of the anchor, and completing a server's chain need the latter).

use super::{ConfigError, pem};
use rustls::pki_types::{CertificateDer, TrustAnchor};
use std::path::{Path, PathBuf};
use x509_parser::prelude::{FromDer, X509Certificate};

/// The system CA bundles of the common Linux distributions, used by `--tls-use-os-certs`,
/// `mqtts://` URLs and port 8883 without a CA option.
pub const OS_CA_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
];

/// Where the trusted CAs come from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustSources {
    /// A PEM file of CA certificates; every one must parse.
    pub cafile: Option<PathBuf>,
    /// A directory of PEM files; files that hold no certificate, and certificates that
    /// cannot be trust anchors, are skipped.
    pub capath: Option<PathBuf>,
    /// The operating system's bundle.
    pub os: bool,
}

/// One trusted certificate.
#[derive(Debug)]
pub struct Anchor {
    /// The certificate.
    pub der: CertificateDer<'static>,
    /// Its subject, DER-encoded (to find the issuer of a certificate by name).
    pub subject: Vec<u8>,
}

/// The trusted CAs, and how to name them in messages.
#[derive(Debug)]
pub struct TrustStore {
    anchors: Vec<Anchor>,
    webpki: Vec<TrustAnchor<'static>>,
    described: String,
}

impl TrustStore {
    /// Reads every source now.
    pub fn load(sources: &TrustSources) -> Result<TrustStore, ConfigError> {
        let mut store = TrustStore {
            anchors: Vec::new(),
            webpki: Vec::new(),
            described: String::new(),
        };
        let mut described = Vec::new();
        if let Some(f) = &sources.cafile {
            for der in pem::load_certs(f)? {
                store.add(der).map_err(|problem| ConfigError::File {
                    path: f.clone(),
                    problem,
                })?;
            }
            described.push(f.display().to_string());
        }
        if let Some(dir) = &sources.capath {
            store.add_dir(dir)?;
            described.push(dir.display().to_string());
        }
        if sources.os {
            if let Some(f) = OS_CA_BUNDLES.iter().map(Path::new).find(|p| p.exists()) {
                // A distribution bundle may carry a certificate webpki cannot use; the others
                // still count.
                for der in pem::load_certs(f)? {
                    let _ = store.add(der);
                }
                described.push(format!("the system CA store ({})", f.display()));
            }
        }
        if store.anchors.is_empty() {
            return Err(ConfigError::NoCa);
        }
        store.described = described.join(" or ");
        Ok(store)
    }

    fn add(&mut self, der: CertificateDer<'static>) -> Result<(), String> {
        let subject = match X509Certificate::from_der(&der) {
            Ok((_, cert)) => cert.subject().as_raw().to_vec(),
            Err(e) => return Err(format!("not a valid CA certificate: {e}")),
        };
        let anchor = webpki::anchor_from_trusted_cert(&der)
            .map_err(|e| format!("not a usable CA certificate: {e:?}"))?
            .to_owned();
        self.webpki.push(anchor);
        self.anchors.push(Anchor { der, subject });
        Ok(())
    }

    fn add_dir(&mut self, dir: &Path) -> Result<(), ConfigError> {
        let err = |source| ConfigError::Read {
            path: dir.to_path_buf(),
            source,
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(err)? {
            let path = entry.map_err(err)?.path();
            if path.is_file() {
                files.push(path);
            }
        }
        files.sort();
        let before = self.anchors.len();
        // A capath holds other files too (CRLs, keys, READMEs), and `openssl rehash` links
        // that repeat the certificates: only files with certificates count, and twice is
        // harmless.
        for path in files {
            // A certificate that cannot be a trust anchor is not trusted, as OpenSSL would not
            // find a use for it either; the directory is often /etc/ssl/certs.
            match pem::load_certs(&path) {
                Ok(certs) => {
                    for der in certs {
                        let _ = self.add(der);
                    }
                }
                Err(ConfigError::File { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        if self.anchors.len() == before {
            return Err(ConfigError::File {
                path: dir.to_path_buf(),
                problem: "no PEM CA certificate in this directory".into(),
            });
        }
        Ok(())
    }

    /// The trusted certificates.
    pub fn anchors(&self) -> &[Anchor] {
        &self.anchors
    }

    /// The same, as webpki trust anchors (same order).
    pub fn webpki_anchors(&self) -> &[TrustAnchor<'static>] {
        &self.webpki
    }

    /// Where the CAs came from, for messages: `/etc/mq/ca.crt`, `/etc/mq/ca.crt or /etc/mq/cas`.
    pub fn described(&self) -> &str {
        &self.described
    }

    /// The trusted certificates whose subject is `name` (DER).
    pub fn named<'s>(&'s self, name: &'s [u8]) -> impl Iterator<Item = &'s Anchor> + 's {
        self.anchors.iter().filter(move |a| a.subject == name)
    }

    /// True when exactly this certificate is trusted.
    pub fn contains(&self, der: &[u8]) -> bool {
        self.anchors.iter().any(|a| a.der.as_ref() == der)
    }

    /// `chain` (a server's certfile, leaf first) completed with the intermediate CAs from
    /// this store that it lacks, as OpenSSL does for mosquitto: a certfile holding only the
    /// leaf still lets clients that trust only the root verify it. The self-signed root
    /// itself is not sent: the client must have it anyway.
    pub fn complete_chain(&self, chain: &mut Vec<CertificateDer<'static>>) {
        const MAX_EXTRA: usize = 8;
        for _ in 0..MAX_EXTRA {
            let Some(last) = chain.last() else { return };
            let Ok((_, cert)) = X509Certificate::from_der(last) else {
                return;
            };
            if cert.subject().as_raw() == cert.issuer().as_raw() {
                return;
            }
            let issuer = self.named(cert.issuer().as_raw()).find(|a| {
                X509Certificate::from_der(&a.der)
                    .is_ok_and(|(_, ca)| cert.verify_signature(Some(ca.public_key())).is_ok())
            });
            let Some(issuer) = issuer else { return };
            let self_signed = X509Certificate::from_der(&issuer.der)
                .is_ok_and(|(_, ca)| ca.subject().as_raw() == ca.issuer().as_raw());
            if self_signed || chain.iter().any(|c| c == &issuer.der) {
                return;
            }
            chain.push(issuer.der.clone());
        }
    }
}
