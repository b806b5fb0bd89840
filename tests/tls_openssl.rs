//! TLS with the certificates mosquitto users already have, made with the openssl commands of
//! mosquitto-tls(7) (X.509 version 1, the host name in the CN) and the one-step self-signed
//! certificate: both ways between mq and Debian's mosquitto and its clients. Then every
//! refusal, each asserting that the connection is refused and that the message says why.

mod common;

use common::openssl::OpensslPki;
use common::{Conf, Peer, TestBroker, mq_path, require, wait_until};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

/// `mq broker` with one loopback listener, anonymous clients allowed, and `lines`.
fn mq_broker(lines: &str) -> TestBroker {
    TestBroker::mq(Conf::new().line(lines))
}

/// Debian's mosquitto, the same way.
fn mosquitto(lines: &str) -> TestBroker {
    TestBroker::mosquitto(Conf::new().line(lines))
}

/// The TLS lines of a listener with the recipe's files.
fn listener_tls(pki: &OpensslPki, cert: &str, extra: &str) -> String {
    format!(
        "cafile {}\ncertfile {}\nkeyfile {}\n{extra}",
        pki.path("ca.crt"),
        pki.path(&format!("{cert}.crt")),
        pki.path(&format!("{cert}.key"))
    )
}

/// Runs a client to completion (bounded) and returns its output.
fn run(program: &str, args: &[String]) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run client");
    let mut waited = Duration::ZERO;
    while child.try_wait().ok().flatten().is_none() && waited < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(20));
        waited += Duration::from_millis(20);
    }
    let _ = child.kill();
    child.wait_with_output().expect("client output")
}

/// `-h localhost -p PORT` and the files: `--cafile CA.crt`, and `--cert/--key NAME` if given.
fn args(pki: &OpensslPki, port: u16, ca: &str, cert: Option<&str>, rest: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = vec![
        "-h".into(),
        "localhost".into(),
        "-p".into(),
        port.to_string(),
        "--cafile".into(),
        pki.path(&format!("{ca}.crt")),
    ];
    if let Some(c) = cert {
        a.extend([
            "--cert".into(),
            pki.path(&format!("{c}.crt")),
            "--key".into(),
            pki.path(&format!("{c}.key")),
        ]);
    }
    a.extend(rest.iter().map(|s| s.to_string()));
    a
}

fn mq(sub: &str, a: Vec<String>) -> Output {
    let mut all = vec![sub.to_string()];
    all.extend(a);
    run(&mq_path().display().to_string(), &all)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Publishes a retained message with `publisher`, then reads it back with `subscriber`.
fn round_trip(publisher: &dyn Fn(&[&str]) -> Output, subscriber: &dyn Fn(&[&str]) -> Output) {
    let p = publisher(&["-t", "tls/check", "-m", "over-tls", "-r", "-q", "1"]);
    assert!(p.status.success(), "publish: {}", stderr(&p));
    let s = subscriber(&["-t", "tls/check", "-C", "1", "-W", "10"]);
    assert!(s.status.success(), "subscribe: {}", stderr(&s));
    assert_eq!(String::from_utf8_lossy(&s.stdout).trim(), "over-tls");
}

fn recipe() -> Option<OpensslPki> {
    if !require(&[Peer::Openssl, Peer::Mosquitto, Peer::MosquittoClients]) {
        return None;
    }
    let pki = OpensslPki::new();
    pki.recipe();
    // What makes these certificates special: version 1, the host only in the CN.
    for name in ["server.crt", "client.crt"] {
        let text = pki.text(name);
        assert!(text.contains("Version: 1 (0x0)"), "{name}: {text}");
    }
    Some(pki)
}

#[test]
fn mosquitto_clients_use_the_recipe_certificates_with_mq_broker() {
    let Some(pki) = recipe() else { return };
    for require in [false, true] {
        let extra = if require {
            "require_certificate true\n"
        } else {
            ""
        };
        let broker = mq_broker(&listener_tls(&pki, "server", extra));
        let cert = require.then_some("client");
        let port = broker.port();
        round_trip(
            &|r| run("mosquitto_pub", &args(&pki, port, "ca", cert, r)),
            &|r| run("mosquitto_sub", &args(&pki, port, "ca", cert, r)),
        );
        round_trip(
            &|r| mq("pub", args(&pki, broker.port(), "ca", cert, r)),
            &|r| mq("sub", args(&pki, broker.port(), "ca", cert, r)),
        );
    }
}

#[test]
fn mq_clients_use_the_recipe_certificates_with_mosquitto() {
    let Some(pki) = recipe() else { return };
    for require in [false, true] {
        let extra = if require {
            "require_certificate true\nuse_identity_as_username true\n"
        } else {
            "allow_anonymous true\n"
        };
        let broker = mosquitto(&listener_tls(&pki, "server", extra));
        let cert = require.then_some("client");
        round_trip(
            &|r| mq("pub", args(&pki, broker.port(), "ca", cert, r)),
            &|r| mq("sub", args(&pki, broker.port(), "ca", cert, r)),
        );
    }
}

#[test]
fn a_self_signed_server_certificate_is_its_own_cafile() {
    let Some(pki) = recipe() else { return };
    pki.self_signed("self", "localhost");
    let files = format!(
        "allow_anonymous true\ncertfile {}\nkeyfile {}\n",
        pki.path("self.crt"),
        pki.path("self.key")
    );
    let mosquitto = mosquitto(&files);
    let mq_broker = mq_broker(&files);
    for port in [mosquitto.port(), mq_broker.port()] {
        let rest = ["-t", "t", "-m", "x"];
        let theirs = run("mosquitto_pub", &args(&pki, port, "self", None, &rest));
        assert!(theirs.status.success(), "{}", stderr(&theirs));
        let ours = mq("pub", args(&pki, port, "self", None, &rest));
        assert!(ours.status.success(), "{}", stderr(&ours));
    }
}

/// Asserts that a client failed and said `words`.
fn refused(o: &Output, words: &str) {
    assert!(!o.status.success(), "expected a refusal naming: {words}");
    let e = stderr(o);
    assert!(e.contains(words), "stderr does not say '{words}': {e}");
}

/// Starts mosquitto with the recipe CA and the server certificate `cert`.
fn mosquitto_with(pki: &OpensslPki, cert: &str) -> TestBroker {
    mosquitto(&listener_tls(pki, cert, ""))
}

const PUBLISH: [&str; 4] = ["-t", "t", "-m", "x"];

#[test]
fn an_expired_server_certificate_is_refused() {
    let Some(pki) = recipe() else { return };
    pki.dated_leaf("old", "localhost", "20200101000000Z", "20210101000000Z");
    let broker = mosquitto_with(&pki, "old");
    let o = mq("pub", args(&pki, broker.port(), "ca", None, &PUBLISH));
    refused(&o, "server certificate expired on 2021-01-01");
}

#[test]
fn a_server_certificate_not_yet_valid_is_refused() {
    let Some(pki) = recipe() else { return };
    pki.dated_leaf("early", "localhost", "20990101000000Z", "21000101000000Z");
    let broker = mosquitto_with(&pki, "early");
    let o = mq("pub", args(&pki, broker.port(), "ca", None, &PUBLISH));
    refused(&o, "server certificate is not valid until 2099-01-01");
}

#[test]
fn a_server_certificate_from_an_untrusted_ca_is_refused() {
    let Some(pki) = recipe() else { return };
    pki.self_signed("other-ca", "Other CA");
    let broker = mosquitto_with(&pki, "server");
    let o = mq("pub", args(&pki, broker.port(), "other-ca", None, &PUBLISH));
    refused(
        &o,
        &format!(
            "server certificate CN=localhost is not signed by a CA in {}",
            pki.path("other-ca.crt")
        ),
    );
    let theirs = run(
        "mosquitto_pub",
        &args(&pki, broker.port(), "other-ca", None, &PUBLISH),
    );
    // MOSQ_ERR_TLS, as mosquitto_pub exits when the handshake fails inside its connect (it
    // says 1 when the failure comes up later in its loop, which depends on timing).
    assert!(!theirs.status.success());
    assert_eq!(o.status.code(), Some(8), "exit status");
    // --insecure skips the name check only.
    let mut a = args(&pki, broker.port(), "other-ca", None, &PUBLISH);
    a.push("--insecure".into());
    refused(&mq("pub", a), "is not signed by a CA in");
}

#[test]
fn a_bad_signature_is_refused() {
    let Some(pki) = recipe() else { return };
    pki.fake_ca();
    let broker = mosquitto_with(&pki, "server");
    let o = mq("pub", args(&pki, broker.port(), "fake-ca", None, &PUBLISH));
    refused(&o, "server certificate CN=localhost has a bad signature");
}

#[test]
fn a_name_mismatch_is_refused_and_insecure_skips_it() {
    let Some(pki) = recipe() else { return };
    pki.leaf("named", "broker.example", "ca");
    let broker = mosquitto_with(&pki, "named");
    let o = mq("pub", args(&pki, broker.port(), "ca", None, &PUBLISH));
    refused(
        &o,
        "certificate for 'broker.example' does not match host 'localhost'",
    );
    // mosquitto_pub agrees; mq exits with MOSQ_ERR_TLS.
    let theirs = run(
        "mosquitto_pub",
        &args(&pki, broker.port(), "ca", None, &PUBLISH),
    );
    assert!(!theirs.status.success());
    assert_eq!(o.status.code(), Some(8));
    let mut a = args(&pki, broker.port(), "ca", None, &PUBLISH);
    a.push("--insecure".into());
    let o = mq("pub", a);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn a_revoked_client_certificate_is_refused_per_crlfile() {
    let Some(pki) = recipe() else { return };
    pki.leaf("bob", "bob", "ca");
    pki.revoke("bob");
    let extra = format!(
        "require_certificate true\ncrlfile {}\n",
        pki.path("crl.pem")
    );
    let broker = mq_broker(&listener_tls(&pki, "server", &extra));
    let theirs = run(
        "mosquitto_pub",
        &args(&pki, broker.port(), "ca", Some("bob"), &PUBLISH),
    );
    assert!(!theirs.status.success());
    broker.wait_log("client certificate CN=bob has been revoked");
    let o = mq(
        "pub",
        args(&pki, broker.port(), "ca", Some("bob"), &PUBLISH),
    );
    refused(&o, "the server says our client certificate is revoked");
    // A certificate the CRL does not list still gets in.
    let o = mq(
        "pub",
        args(&pki, broker.port(), "ca", Some("client"), &PUBLISH),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let theirs = run(
        "mosquitto_pub",
        &args(&pki, broker.port(), "ca", Some("client"), &PUBLISH),
    );
    assert!(theirs.status.success(), "{}", stderr(&theirs));
}

#[test]
fn a_missing_client_certificate_is_refused_when_required() {
    let Some(pki) = recipe() else { return };
    let broker = mq_broker(&listener_tls(&pki, "server", "require_certificate true\n"));
    let theirs = run(
        "mosquitto_pub",
        &args(&pki, broker.port(), "ca", None, &PUBLISH),
    );
    assert!(!theirs.status.success());
    broker.wait_log("the client sent no certificate, and require_certificate is set");
    let o = mq("pub", args(&pki, broker.port(), "ca", None, &PUBLISH));
    refused(&o, "the server requires a client certificate");
}

#[test]
fn expired_and_untrusted_client_certificates_are_refused() {
    let Some(pki) = recipe() else { return };
    pki.dated_leaf("old", "old-device", "20200101000000Z", "20210101000000Z");
    pki.self_signed("eve", "eve");
    let broker = mq_broker(&listener_tls(&pki, "server", "require_certificate true\n"));
    let theirs = run(
        "mosquitto_pub",
        &args(&pki, broker.port(), "ca", Some("old"), &PUBLISH),
    );
    assert!(!theirs.status.success());
    broker.wait_log("client certificate expired on 2021-01-01");
    let o = mq(
        "pub",
        args(&pki, broker.port(), "ca", Some("eve"), &PUBLISH),
    );
    assert!(!o.status.success());
    let words = format!(
        "client certificate CN=eve is not signed by a CA in {}",
        pki.path("ca.crt")
    );
    broker.wait_log(&words);
}

#[test]
fn tls_meeting_plain_mqtt_is_named_both_ways() {
    let Some(pki) = recipe() else { return };
    let plain = mq_broker("");
    let o = mq("pub", args(&pki, plain.port(), "ca", None, &PUBLISH));
    refused(&o, "the server speaks plain MQTT on this port, not TLS");
    plain.wait_log("it sent a TLS handshake");

    let tls = mq_broker(&listener_tls(&pki, "server", ""));
    let a = [
        "-h",
        "localhost",
        "-p",
        &tls.port().to_string(),
        "-t",
        "t",
        "-m",
        "x",
    ];
    let o = mq("pub", a.iter().map(|s| s.to_string()).collect());
    refused(&o, "this port expects TLS");
    tls.wait_log("this port expects TLS, but the client sent plain MQTT");
    // Against mosquitto's TLS port, which closes without a word, the hint still says it.
    let broker = mosquitto_with(&pki, "server");
    let a = [
        "-h",
        "localhost",
        "-p",
        &broker.port().to_string(),
        "-t",
        "t",
        "-m",
        "x",
    ];
    let o = mq("pub", a.iter().map(|s| s.to_string()).collect());
    refused(&o, "if this port expects TLS");
}

#[test]
fn use_subject_as_username_is_openssls_rfc2253_subject() {
    let Some(pki) = recipe() else { return };
    pki.run("genrsa -out dev.key 2048");
    pki.run_args(&[
        "req",
        "-new",
        "-key",
        "dev.key",
        "-out",
        "dev.csr",
        "-subj",
        "/C=GB/ST=Derbyshire/O=Server, Ltd/OU=Production/CN=test client/emailAddress=dev@example.org",
    ]);
    pki.run("x509 -req -in dev.csr -CA ca.crt -CAkey ca.key -out dev.crt -days 30 -passin pass:ca-secret");
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-subject", "-nameopt", "RFC2253", "-in"])
        .arg(pki.path("dev.crt"))
        .output()
        .unwrap();
    let theirs = String::from_utf8_lossy(&out.stdout)
        .trim()
        .trim_start_matches("subject=")
        .to_string();
    let der = mq::tls::pem::load_certs(std::path::Path::new(&pki.path("dev.crt"))).unwrap();
    assert_eq!(mq::tls::names::certificate_subject(&der[0]), Some(theirs));
    assert_eq!(
        mq::tls::names::certificate_common_name(&der[0]).as_deref(),
        Some("test client")
    );
}

#[test]
fn cipher_lists_use_openssl_names() {
    let Some(pki) = recipe() else { return };
    let broker = mq_broker(&listener_tls(
        &pki,
        "server",
        "ciphers ECDHE-RSA-AES128-GCM-SHA256\nciphers_tls1.3 TLS_CHACHA20_POLY1305_SHA256\n",
    ));
    let s_client = |extra: &[&str]| {
        let mut a: Vec<String> = ["s_client", "-connect"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        a.push(format!("127.0.0.1:{}", broker.port()));
        a.extend(["-CAfile".into(), pki.path("ca.crt")]);
        a.extend(extra.iter().map(|s| s.to_string()));
        run("openssl", &a)
    };
    let ok = s_client(&["-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"]);
    assert!(
        String::from_utf8_lossy(&ok.stdout).contains("ECDHE-RSA-AES128-GCM-SHA256"),
        "{}",
        stderr(&ok)
    );
    let no = s_client(&["-tls1_2", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384"]);
    assert!(!no.status.success() || !String::from_utf8_lossy(&no.stdout).contains("AES256"));
    let ok = s_client(&["-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"]);
    assert!(
        String::from_utf8_lossy(&ok.stdout).contains("TLS_CHACHA20_POLY1305_SHA256"),
        "{}",
        stderr(&ok)
    );
    // mq pub: the same names; nothing in common is said in words.
    let mut a = args(&pki, broker.port(), "ca", None, &PUBLISH);
    a.extend(["--ciphers".into(), "TLS_CHACHA20_POLY1305_SHA256".into()]);
    assert!(mq("pub", a).status.success());
    let mut a = args(&pki, broker.port(), "ca", None, &PUBLISH);
    a.extend([
        "--tls-version".into(),
        "tlsv1.3".into(),
        "--ciphers".into(),
        "TLS_AES_128_GCM_SHA256".into(),
    ]);
    let o = mq("pub", a);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("cipher suite"), "{}", stderr(&o));
    let mut a = args(&pki, broker.port(), "ca", None, &PUBLISH);
    a.extend(["--ciphers".into(), "RC4-SHA".into()]);
    refused(&mq("pub", a), "cipher 'RC4-SHA' is not available");
}

#[test]
fn key_logs_hold_the_session_secrets() {
    let Some(pki) = recipe() else { return };
    let server_log = pki.path("server-keys.log");
    let broker = mq_broker(&listener_tls(
        &pki,
        "server",
        &format!("tls_keylog {server_log}\n"),
    ));
    let client_log = pki.path("client-keys.log");
    let mut a = args(&pki, broker.port(), "ca", None, &PUBLISH);
    a.extend(["--tls-keylog".into(), client_log.clone()]);
    let o = mq("pub", a);
    assert!(o.status.success(), "{}", stderr(&o));
    let client = std::fs::read_to_string(&client_log).unwrap();
    assert!(client.contains("CLIENT_TRAFFIC_SECRET_0 "), "{client}");
    assert!(wait_until(|| std::fs::read_to_string(&server_log)
        .is_ok_and(|s| s.contains("SERVER_TRAFFIC_SECRET_0 "))));
    // Both ends logged the same session.
    let random = client.split_whitespace().nth(1).unwrap().to_string();
    assert!(
        std::fs::read_to_string(&server_log)
            .unwrap()
            .contains(&random)
    );
}

#[test]
fn psk_is_refused_with_the_reason() {
    let Some(pki) = recipe() else { return };
    let a = vec![
        "-h".to_string(),
        "localhost".into(),
        "--psk".into(),
        "deadbeef".into(),
        "--psk-identity".into(),
        "me".into(),
        "-t".into(),
        "t".into(),
        "-m".into(),
        "x".into(),
    ];
    refused(
        &mq("pub", a),
        "rustls, the TLS library mq uses, has no pre-shared key support",
    );
    let conf = pki.write("psk.conf", "listener 8883\npsk_hint mq\n");
    let o = run(
        &mq_path().display().to_string(),
        &["broker".into(), "-c".into(), conf.display().to_string()],
    );
    refused(&o, "psk.conf:2: psk_hint: TLS-PSK is not supported");
}

/// Our verdict on `leaf` (with the intermediates in `bundle`) against `cafile`.
fn our_verdict(pki: &OpensslPki, cafile: &str, bundle: &[&str], leaf: &str, server: bool) -> bool {
    our_verdict_crl(pki, cafile, bundle, leaf, server, None)
}

fn our_verdict_crl(
    pki: &OpensslPki,
    cafile: &str,
    bundle: &[&str],
    leaf: &str,
    server: bool,
    crlfile: Option<&str>,
) -> bool {
    use mq::tls::trust::{TrustSources, TrustStore};
    use mq::tls::verify::ChainVerifier;
    use std::path::Path;
    let load = |name: &str| mq::tls::pem::load_certs(Path::new(&pki.path(name))).unwrap();
    let trust = TrustStore::load(&TrustSources {
        cafile: Some(pki.path(cafile).into()),
        ..TrustSources::default()
    })
    .unwrap();
    let provider = rustls::crypto::ring::default_provider();
    let crls = crlfile.map(|c| {
        Arc::new(mq::tls::verify::Crls::load(std::path::Path::new(&pki.path(c))).unwrap())
    });
    let chain = ChainVerifier {
        trust: Arc::new(trust),
        crls,
        role: if server {
            mq::tls::Role::Server
        } else {
            mq::tls::Role::Client
        },
        algs: provider.signature_verification_algorithms,
    };
    let intermediates: Vec<_> = bundle.iter().flat_map(|b| load(b)).collect();
    let verdict = chain.verify(
        &load(leaf)[0],
        &intermediates,
        rustls::pki_types::UnixTime::now(),
    );
    if let Err(e) = &verdict {
        eprintln!("{leaf}: {e}");
    }
    verdict.is_ok()
}

#[test]
fn chains_get_the_verdict_of_openssl_verify() {
    let Some(pki) = recipe() else { return };
    let ca_true = "basicConstraints=critical,CA:TRUE";
    pki.signed("int1", "Int-V1", "ca", "");
    pki.signed("via-int1", "localhost", "int1", "");
    pki.signed("int3", "Int-V3", "ca", ca_true);
    pki.signed("via-int3", "localhost", "int3", "");
    pki.signed(
        "pl0",
        "PL0",
        "ca",
        "basicConstraints=critical,CA:TRUE,pathlen:0",
    );
    pki.signed("sub", "Sub", "pl0", ca_true);
    pki.signed("deep", "localhost", "sub", "");
    pki.self_signed("self", "localhost");
    pki.signed("caleaf", "localhost", "ca", "basicConstraints=CA:TRUE");
    pki.v1_root("root1", "Root-V1");
    pki.signed("from-root1", "localhost", "root1", "");
    pki.signed(
        "clientonly",
        "localhost",
        "ca",
        "extendedKeyUsage=clientAuth",
    );
    pki.signed("kucrl", "localhost", "ca", "keyUsage=critical,cRLSign");
    pki.fake_ca();
    pki.self_signed("other", "Other");
    pki.signed("notca", "NotCA", "ca", "basicConstraints=CA:FALSE");
    pki.signed("under-notca", "localhost", "notca", "");
    pki.signed(
        "nocs",
        "NoCS",
        "ca",
        "basicConstraints=critical,CA:TRUE; keyUsage=critical,digitalSignature",
    );
    pki.signed("under-nocs", "localhost", "nocs", "");
    let san = "subjectAltName=DNS:localhost";
    pki.signed("modern", "localhost", "ca", san);
    pki.signed(
        "modern-kucrl",
        "localhost",
        "ca",
        &format!("{san}; keyUsage=critical,cRLSign"),
    );
    pki.signed("modern-under-nocs", "localhost", "nocs", san);
    pki.signed("modern-deep", "localhost", "sub", san);
    pki.signed(
        "crit",
        "localhost",
        "ca",
        "basicConstraints=CA:TRUE; 1.2.3.4=critical,ASN1:NULL",
    );
    let bundle = |names: &[&str], out: &str| {
        let text: String = names
            .iter()
            .map(|n| std::fs::read_to_string(pki.path(n)).unwrap())
            .collect();
        pki.write(out, &text);
    };
    bundle(&["pl0.crt", "sub.crt"], "pl0-sub.crt");
    // (what, cafile, intermediates, leaf, as a server certificate, accepted)
    let cases: &[(&str, &str, &str, &str, bool, bool)] = &[
        ("v1 leaf, v3 CA", "ca.crt", "", "server.crt", true, true),
        ("v1 client leaf", "ca.crt", "", "client.crt", false, true),
        (
            "v1 intermediate",
            "ca.crt",
            "int1.crt",
            "via-int1.crt",
            true,
            false,
        ),
        (
            "v3 intermediate, v1 leaf",
            "ca.crt",
            "int3.crt",
            "via-int3.crt",
            true,
            true,
        ),
        (
            "path length exceeded",
            "ca.crt",
            "pl0-sub.crt",
            "deep.crt",
            true,
            false,
        ),
        (
            "trusted self-signed leaf",
            "self.crt",
            "",
            "self.crt",
            true,
            true,
        ),
        (
            "CA:TRUE leaf from the CA",
            "ca.crt",
            "",
            "caleaf.crt",
            true,
            true,
        ),
        (
            "v1 root and leaf",
            "root1.crt",
            "",
            "from-root1.crt",
            true,
            true,
        ),
        (
            "clientAuth only, as server",
            "ca.crt",
            "",
            "clientonly.crt",
            true,
            false,
        ),
        (
            "clientAuth only, as client",
            "ca.crt",
            "",
            "clientonly.crt",
            false,
            true,
        ),
        (
            "key usage cRLSign only",
            "ca.crt",
            "",
            "kucrl.crt",
            true,
            false,
        ),
        (
            "same-name CA, other key",
            "fake-ca.crt",
            "",
            "server.crt",
            true,
            false,
        ),
        ("unrelated CA", "other.crt", "", "server.crt", true, false),
        (
            "CA:FALSE intermediate",
            "ca.crt",
            "notca.crt",
            "under-notca.crt",
            true,
            false,
        ),
        (
            "intermediate without keyCertSign",
            "ca.crt",
            "nocs.crt",
            "under-nocs.crt",
            true,
            false,
        ),
        (
            "v3 leaf with subjectAltName",
            "ca.crt",
            "",
            "modern.crt",
            true,
            true,
        ),
        (
            "v3 leaf, key usage cRLSign only",
            "ca.crt",
            "",
            "modern-kucrl.crt",
            true,
            false,
        ),
        (
            "v3 leaf, intermediate without keyCertSign",
            "ca.crt",
            "nocs.crt",
            "modern-under-nocs.crt",
            true,
            false,
        ),
        (
            "v3 leaf, path length exceeded",
            "ca.crt",
            "pl0-sub.crt",
            "modern-deep.crt",
            true,
            false,
        ),
        (
            "unknown critical extension",
            "ca.crt",
            "",
            "crit.crt",
            true,
            false,
        ),
    ];
    for (what, cafile, inter, leaf, server, accepted) in cases {
        let bundle: Vec<&str> = inter.split_whitespace().collect();
        let theirs = pki.openssl_verifies(cafile, &bundle, leaf, *server);
        let ours = our_verdict(&pki, cafile, &bundle, leaf, *server);
        assert_eq!(theirs, *accepted, "openssl verify, {what}");
        assert_eq!(ours, theirs, "{what}: mq and openssl disagree");
    }
}

#[test]
fn crlfile_gets_the_verdict_of_openssl_verify() {
    let Some(pki) = recipe() else { return };
    pki.signed("bob", "bob", "ca", "");
    pki.signed("carol", "carol", "ca", "subjectAltName=DNS:carol.example");
    pki.signed("dave", "dave", "ca", "subjectAltName=DNS:dave.example");
    pki.revoke("bob");
    pki.revoke("dave");
    pki.self_signed("other", "Other");
    pki.signed("stranger", "stranger", "other", "");
    let both = format!(
        "{}{}",
        std::fs::read_to_string(pki.path("ca.crt")).unwrap(),
        std::fs::read_to_string(pki.path("other.crt")).unwrap()
    );
    pki.write("both.crt", &both);
    // (what, leaf, accepted) as client certificates, cafile both.crt, crlfile crl.pem
    let cases = [
        ("v1, not revoked", "client.crt", true),
        ("v1, revoked", "bob.crt", false),
        ("v3, not revoked", "carol.crt", true),
        ("v3, revoked", "dave.crt", false),
        ("no CRL from its issuer", "stranger.crt", false),
    ];
    for (what, leaf, accepted) in cases {
        let theirs = pki.openssl_verifies_crl("both.crt", &[], leaf, false, Some("crl.pem"));
        let ours = our_verdict_crl(&pki, "both.crt", &[], leaf, false, Some("crl.pem"));
        assert_eq!(theirs, accepted, "openssl verify, {what}");
        assert_eq!(ours, theirs, "{what}: mq and openssl disagree");
    }
}
