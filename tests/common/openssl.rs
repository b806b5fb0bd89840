//! Certificates made the way mosquitto users make them: with the `openssl` command line, as
//! mosquitto-tls(7) shows (X.509 version 1 leaves, the host name in the CN), the one-step
//! self-signed certificate, and `openssl ca` for dates in the past or future and for CRLs.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The CA key's passphrase (mosquitto-tls(7) makes an encrypted CA key).
const CA_PASS: &str = "pass:ca-secret";

/// A folder of PEM files made by openssl; deleted on drop.
pub struct OpensslPki {
    dir: tempfile::TempDir,
}

impl OpensslPki {
    /// An empty folder.
    pub fn new() -> OpensslPki {
        OpensslPki {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A file in the folder, as a string for command lines.
    pub fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// Runs openssl with `args` (split on spaces) and checks it worked.
    pub fn run(&self, args: &str) {
        let args: Vec<&str> = args.split_whitespace().collect();
        self.run_args(&args);
    }

    /// Runs openssl with `args` and checks it worked.
    pub fn run_args(&self, args: &[&str]) {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .output()
            .expect("run openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// mosquitto-tls(7), command for command, for a CA, a server (`server.crt`, CN
    /// localhost) and a client (`client.crt`, CN alice). Its commands prompt for the CA
    /// passphrase and the subject: the answers are given as `-passout`/`-passin` and `-subj`,
    /// nothing else is added. The keys are the man page's unencrypted variant.
    pub fn recipe(&self) {
        self.run(&format!(
            "req -new -x509 -days 365 -extensions v3_ca -keyout ca.key -out ca.crt \
             -passout {CA_PASS} -subj /CN=mq-test-CA"
        ));
        for (name, cn) in [("server", "localhost"), ("client", "alice")] {
            self.run(&format!("genrsa -out {name}.key 2048"));
            self.run(&format!(
                "req -out {name}.csr -key {name}.key -new -subj /CN={cn}"
            ));
            self.run(&format!(
                "x509 -req -in {name}.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
                 -out {name}.crt -days 365 -passin {CA_PASS}"
            ));
        }
    }

    /// The one-step self-signed certificate: `NAME.crt`/`NAME.key` for `/CN=CN`.
    pub fn self_signed(&self, name: &str, cn: &str) {
        let (key, crt, subj) = (
            format!("{name}.key"),
            format!("{name}.crt"),
            format!("/CN={cn}"),
        );
        self.run_args(&[
            "req", "-x509", "-newkey", "rsa:2048", "-keyout", &key, "-out", &crt, "-days", "365",
            "-nodes", "-subj", &subj,
        ]);
    }

    /// Another CA with the same name as the recipe's and its own key (`fake-ca.crt`): what
    /// it signs has a bad signature for anyone who trusts the real one.
    pub fn fake_ca(&self) {
        self.run(&format!(
            "req -new -x509 -days 365 -extensions v3_ca -keyout fake-ca.key -out fake-ca.crt \
             -passout {CA_PASS} -subj /CN=mq-test-CA"
        ));
    }

    /// A version 1 certificate `NAME.crt` for `/CN=CN` signed by `CA.crt`, as the recipe makes
    /// them.
    pub fn leaf(&self, name: &str, cn: &str, ca: &str) {
        self.run(&format!("genrsa -out {name}.key 2048"));
        self.run(&format!(
            "req -out {name}.csr -key {name}.key -new -subj /CN={cn}"
        ));
        self.run(&format!(
            "x509 -req -in {name}.csr -CA {ca}.crt -CAkey {ca}.key -CAcreateserial \
             -out {name}.crt -days 365 -passin {CA_PASS}"
        ));
    }

    /// `NAME.crt` for `/CN=CN`, signed by `CA` (`CA.crt`/`CA.key`, the recipe's passphrase)
    /// with the X.509 v3 extensions `ext` (`basicConstraints=CA:TRUE`, ...), or as version 1
    /// when `ext` is empty.
    pub fn signed(&self, name: &str, cn: &str, ca: &str, ext: &str) {
        self.run(&format!("genrsa -out {name}.key 2048"));
        self.run(&format!(
            "req -out {name}.csr -key {name}.key -new -subj /CN={cn}"
        ));
        let mut cmd = format!(
            "x509 -req -in {name}.csr -CA {ca}.crt -CAkey {ca}.key -CAcreateserial \
             -out {name}.crt -days 30 -passin {CA_PASS}"
        );
        if !ext.is_empty() {
            self.write(&format!("{name}.ext"), &ext.replace("; ", "\n"));
            cmd.push_str(&format!(" -extfile {name}.ext"));
        }
        self.run(&cmd);
    }

    /// A self-signed version 1 root `NAME.crt` (its key encrypted like the recipe's CA key).
    pub fn v1_root(&self, name: &str, cn: &str) {
        self.run(&format!(
            "genrsa -aes128 -passout {CA_PASS} -out {name}.key 2048"
        ));
        self.run(&format!(
            "req -out {name}.csr -key {name}.key -passin {CA_PASS} -new -subj /CN={cn}"
        ));
        self.run(&format!(
            "x509 -req -in {name}.csr -signkey {name}.key -passin {CA_PASS} -out {name}.crt \
             -days 30"
        ));
    }

    /// `openssl verify`'s verdict on `leaf` with `untrusted` intermediates against `cafile`,
    /// for a TLS server or client certificate.
    pub fn openssl_verifies(
        &self,
        cafile: &str,
        untrusted: &[&str],
        leaf: &str,
        server: bool,
    ) -> bool {
        self.openssl_verifies_crl(cafile, untrusted, leaf, server, None)
    }

    /// As [`OpensslPki::openssl_verifies`], with `crlfile` checked for the leaf as mosquitto's
    /// `crlfile` does (`-crl_check`).
    pub fn openssl_verifies_crl(
        &self,
        cafile: &str,
        untrusted: &[&str],
        leaf: &str,
        server: bool,
        crlfile: Option<&str>,
    ) -> bool {
        let mut cmd = Command::new("openssl");
        cmd.arg("verify").arg("-CAfile").arg(self.path(cafile));
        if let Some(crl) = crlfile {
            cmd.arg("-crl_check").arg("-CRLfile").arg(self.path(crl));
        }
        cmd.args(["-purpose", if server { "sslserver" } else { "sslclient" }]);
        for u in untrusted {
            cmd.arg("-untrusted").arg(self.path(u));
        }
        let out = cmd.arg(self.path(leaf)).output().expect("openssl verify");
        out.status.success()
    }

    fn ca_config(&self) -> String {
        let conf = self.dir.path().join("ca.cnf");
        if !conf.exists() {
            std::fs::create_dir_all(self.dir.path().join("newcerts")).unwrap();
            std::fs::write(self.dir.path().join("index.txt"), "").unwrap();
            std::fs::write(self.dir.path().join("serial"), "1000\n").unwrap();
            std::fs::write(self.dir.path().join("crlnumber"), "01\n").unwrap();
            let text = format!(
                "[ca]\ndefault_ca = mq\n[mq]\ndir = {}\ndatabase = $dir/index.txt\n\
                 new_certs_dir = $dir/newcerts\nserial = $dir/serial\ncrlnumber = $dir/crlnumber\n\
                 certificate = $dir/ca.crt\nprivate_key = $dir/ca.key\ndefault_md = sha256\n\
                 default_days = 365\ndefault_crl_days = 30\npolicy = any\nunique_subject = no\n\
                 [any]\ncommonName = supplied\n",
                self.dir.path().display()
            );
            std::fs::write(&conf, text).unwrap();
        }
        conf.display().to_string()
    }

    /// A version 1 certificate from the recipe's CA valid from `start` to `end`
    /// (`YYYYMMDDHHMMSSZ`), through `openssl ca` (what `openssl x509 -req` cannot date).
    pub fn dated_leaf(&self, name: &str, cn: &str, start: &str, end: &str) {
        let conf = self.ca_config();
        self.run(&format!("genrsa -out {name}.key 2048"));
        self.run(&format!(
            "req -out {name}.csr -key {name}.key -new -subj /CN={cn}"
        ));
        self.run(&format!(
            "ca -batch -config {conf} -passin {CA_PASS} -notext -startdate {start} \
             -enddate {end} -in {name}.csr -out {name}.crt"
        ));
    }

    /// Revokes `NAME.crt` (issued by the recipe's CA) and writes the CA's CRL to `crl.pem`.
    pub fn revoke(&self, name: &str) {
        let conf = self.ca_config();
        // A certificate `openssl ca` did not issue is added to its database as it is revoked.
        self.run(&format!(
            "ca -config {conf} -passin {CA_PASS} -revoke {name}.crt"
        ));
        self.crl();
    }

    /// Writes the recipe CA's current CRL to `crl.pem`.
    pub fn crl(&self) {
        let conf = self.ca_config();
        self.run(&format!(
            "ca -config {conf} -passin {CA_PASS} -gencrl -out crl.pem"
        ));
    }

    /// The `openssl x509 -text` of a certificate.
    pub fn text(&self, name: &str) -> String {
        let out = Command::new("openssl")
            .args(["x509", "-noout", "-text", "-in", &self.path(name)])
            .output()
            .expect("openssl x509");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Writes `text` to a file in the folder and returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}
