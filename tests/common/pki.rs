//! A throw-away PKI made at test time with rcgen: two CAs, a server certificate for
//! localhost/127.0.0.1 and client certificates (good, from the other CA, expired), written as
//! PEM files into a temporary directory.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, date_time_ymd,
};
use std::path::{Path, PathBuf};

/// PEM files of the test PKI.
pub struct Pki {
    /// Directory holding everything (deleted on drop).
    pub dir: tempfile::TempDir,
}

impl Pki {
    /// `--cert NAME.pem --key NAME.key` for mosquitto's or mq's clients; nothing for `None`.
    pub fn cert_args(&self, cert: Option<&str>) -> Vec<String> {
        let Some(c) = cert else {
            return Vec::new();
        };
        let file = |ext: &str| self.path(&format!("{c}.{ext}")).display().to_string();
        vec!["--cert".into(), file("pem"), "--key".into(), file("key")]
    }

    /// Path of one of the files: `ca.pem`, `ca2.pem`, `server.pem`/`server.key`,
    /// `localhost.pem`/`localhost.key` (named for localhost only, not 127.0.0.1),
    /// `client.pem`/`client.key` (CN device7, from ca), `other.pem`/`other.key` (CN intruder,
    /// from ca2), `expired.pem`/`expired.key` (CN old-device, from ca, expired in 2020).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Makes the whole set.
    pub fn new() -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let (ca_params, ca_key) = ca("mq test CA");
        std::fs::write(
            dir.path().join("ca.pem"),
            ca_params.self_signed(&ca_key).unwrap().pem(),
        )
        .unwrap();
        let (ca2_params, ca2_key) = ca("another CA");
        std::fs::write(
            dir.path().join("ca2.pem"),
            ca2_params.self_signed(&ca2_key).unwrap().pem(),
        )
        .unwrap();
        let ca1 = Issuer::new(ca_params, ca_key);
        let ca2 = Issuer::new(ca2_params, ca2_key);

        let mut server =
            CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
        server
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        leaf(dir.path(), "server", server, &ca1);
        // Named for localhost only, so that a client reaching it by IP address sees a mismatch.
        let mut named = CertificateParams::new(vec!["localhost".into()]).unwrap();
        named
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        named.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        leaf(dir.path(), "localhost", named, &ca1);

        leaf(dir.path(), "client", client("device7"), &ca1);
        leaf(dir.path(), "other", client("intruder"), &ca2);
        let mut expired = client("old-device");
        expired.not_before = date_time_ymd(2019, 1, 1);
        expired.not_after = date_time_ymd(2020, 1, 1);
        leaf(dir.path(), "expired", expired, &ca1);
        Pki { dir }
    }
}

fn ca(name: &str) -> (CertificateParams, KeyPair) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    (params, KeyPair::generate().unwrap())
}

fn client(cn: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(DnType::OrganizationName, "mq tests");
    params.distinguished_name.push(DnType::CommonName, cn);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params
}

fn leaf(dir: &Path, name: &str, params: CertificateParams, issuer: &Issuer<'_, KeyPair>) {
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, issuer).unwrap();
    std::fs::write(dir.join(format!("{name}.pem")), cert.pem()).unwrap();
    std::fs::write(dir.join(format!("{name}.key")), key.serialize_pem()).unwrap();
}
