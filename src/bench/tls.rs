//! TLS for the load generator: a rustls `ClientConfig` from mosquitto's TLS flags.
//!
//! The connection drives rustls sans-IO over the same non-blocking socket calls as plain TCP
//! (see [`super::conn`]), so TLS adds rustls's own state and record buffers per connection and
//! nothing else.

use crate::cli::TlsArgs;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::path::Path;
use std::sync::Arc;

/// The CA bundle of Debian-like systems, for `--tls-use-os-certs`.
const OS_CA_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
];

/// The client configuration the TLS flags ask for, `None` without TLS.
pub fn client_config(args: &TlsArgs) -> Result<Option<Arc<ClientConfig>>, String> {
    if !args.enabled() {
        return Ok(None);
    }
    let roots = Arc::new(roots(args)?);
    let versions: &[&rustls::SupportedProtocolVersion] = match args.tls_version.as_deref() {
        None => rustls::DEFAULT_VERSIONS,
        Some("tlsv1.2") => &[&rustls::version::TLS12],
        Some("tlsv1.3") => &[&rustls::version::TLS13],
        Some(v) => {
            return Err(format!(
                "unsupported --tls-version '{v}' (use tlsv1.2 or tlsv1.3)"
            ));
        }
    };
    let builder = ClientConfig::builder_with_protocol_versions(versions);
    let builder = if args.insecure {
        let inner = WebPkiServerVerifier::builder(roots)
            .build()
            .map_err(|e| format!("TLS: {e}"))?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyName(inner)))
    } else {
        builder.with_root_certificates(roots)
    };
    let config = match (&args.cert, &args.key) {
        (Some(cert), Some(key)) => {
            let certs = load_certs(cert)?;
            let key = rustls_pemfile::private_key(&mut read(key)?.as_slice())
                .map_err(|e| format!("{}: {e}", key.display()))?
                .ok_or_else(|| format!("{}: no private key", key.display()))?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| format!("TLS client certificate: {e}"))?
        }
        _ => builder.with_no_client_auth(),
    };
    Ok(Some(Arc::new(config)))
}

/// The name the server certificate must match: the `-h` host (a name or an address).
pub fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    ServerName::try_from(host.to_string()).map_err(|_| format!("invalid TLS server name '{host}'"))
}

fn roots(args: &TlsArgs) -> Result<RootCertStore, String> {
    let mut files = Vec::new();
    files.extend(args.cafile.clone());
    if let Some(dir) = &args.capath {
        let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        files.extend(entries.flatten().map(|e| e.path()).filter(|p| p.is_file()));
    }
    if args.tls_use_os_certs {
        let bundle = OS_CA_BUNDLES.iter().map(Path::new).find(|p| p.exists());
        files.push(
            bundle
                .ok_or("no operating system CA bundle found")?
                .to_path_buf(),
        );
    }
    let mut store = RootCertStore::empty();
    for file in &files {
        for cert in load_certs(file)? {
            // A capath may hold files that are not certificates; skip what does not parse.
            let _ = store.add(cert);
        }
    }
    if store.is_empty() {
        return Err("no usable CA certificate in the TLS options".into());
    }
    Ok(store)
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    rustls_pemfile::certs(&mut read(path)?.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// `--insecure`: the chain is checked, the name is not (as mosquitto's `--insecure`).
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName))
            | Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}
