//! Reading certificates, private keys and CRLs from PEM files, with errors that name the file
//! and say what is wrong with it.

use super::ConfigError;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use std::path::Path;

fn read(path: &Path) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn bad(path: &Path, problem: impl Into<String>) -> ConfigError {
    ConfigError::File {
        path: path.to_path_buf(),
        problem: problem.into(),
    }
}

/// Every item of one kind in a PEM file, in file order; an error naming `what` (and the PEM
/// header that was expected) if there is none.
fn load_all<T: PemObject>(path: &Path, what: &str, header: &str) -> Result<Vec<T>, ConfigError> {
    let data = read(path)?;
    let items = T::pem_slice_iter(&data)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(path, format!("bad PEM: {e}")))?;
    if items.is_empty() {
        return Err(bad(
            path,
            format!("no {what} found (expected -----BEGIN {header}-----)"),
        ));
    }
    Ok(items)
}

/// Every certificate in a PEM file, in file order; an error if there is none.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    load_all(path, "certificate", "CERTIFICATE")
}

/// The first private key in a PEM file (PKCS#8, PKCS#1 or SEC1).
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, ConfigError> {
    let data = read(path)?;
    match PrivateKeyDer::from_pem_slice(&data) {
        Ok(key) => Ok(key),
        Err(pem::Error::NoItemsFound) if is_encrypted(&data) => Err(bad(
            path,
            "the private key is encrypted with a passphrase, which mq cannot ask for; \
             write an unencrypted copy with `openssl pkey -in KEY -out KEY.plain` and \
             keep it readable only by its owner",
        )),
        Err(pem::Error::NoItemsFound) => Err(bad(
            path,
            "no private key found (expected -----BEGIN PRIVATE KEY----- or similar)",
        )),
        Err(e) => Err(bad(path, format!("bad PEM: {e}"))),
    }
}

/// True for the two PEM forms of an encrypted key: PKCS#8 `ENCRYPTED PRIVATE KEY`, and the
/// traditional form with a `Proc-Type: 4,ENCRYPTED` header.
fn is_encrypted(pem: &[u8]) -> bool {
    let text = String::from_utf8_lossy(pem);
    text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")
        || text.contains("Proc-Type: 4,ENCRYPTED")
}

/// Every CRL in a PEM file (`crlfile`); an error if there is none.
pub fn load_crls(path: &Path) -> Result<Vec<CertificateRevocationListDer<'static>>, ConfigError> {
    load_all(path, "certificate revocation list", "X509 CRL")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encrypted_keys_are_recognised() {
        assert!(is_encrypted(
            b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n"
        ));
        assert!(is_encrypted(
            b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: DES-EDE3-CBC,00\n"
        ));
        assert!(!is_encrypted(b"-----BEGIN PRIVATE KEY-----\n"));
    }

    #[test]
    fn errors_name_the_file_and_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("enc.key");
        std::fs::write(
            &f,
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
        )
        .unwrap();
        let e = load_key(&f).unwrap_err().to_string();
        assert!(e.contains("enc.key") && e.contains("encrypted"), "{e}");
        let e = load_certs(&f).unwrap_err().to_string();
        assert!(e.contains("no certificate found"), "{e}");
        let e = load_crls(&f).unwrap_err().to_string();
        assert!(e.contains("no certificate revocation list"), "{e}");
        let e = load_certs(&dir.path().join("missing.pem"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing.pem"), "{e}");
    }
}
