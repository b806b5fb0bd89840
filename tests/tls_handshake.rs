//! TLS listener configuration and handshake-failure classification, against a tokio-rustls
//! client, `openssl s_client` and `mosquitto_pub`, with a PKI made at test time.

mod common;

use common::pki::Pki;
use common::{Peer, require};
use mq::broker::security::tls::{
    HandshakeFailure, ListenerTls, MinTlsVersion, Side, TlsError, accept, certificate_common_name,
    server_config,
};
use mq::tls::Problem;
use rustls::pki_types::ServerName;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

const LIMIT: Duration = Duration::from_secs(10);

fn listener_tls(pki: &Pki, require_certificate: bool) -> ListenerTls {
    ListenerTls {
        certfile: pki.path("server.pem"),
        keyfile: pki.path("server.key"),
        cafile: Some(pki.path("ca.pem")),
        capath: None,
        require_certificate,
        tls_version: MinTlsVersion::V12,
        ..ListenerTls::default()
    }
}

/// The check that refused the client's certificate, if that is what happened.
fn refusal(outcome: &Outcome) -> Option<&Problem> {
    match outcome {
        Err(HandshakeFailure::Certificate(v)) => Some(&v.problem),
        _ => None,
    }
}

/// What the server side of one connection saw: the client's CN, or why the handshake failed.
type Outcome = Result<Option<String>, HandshakeFailure>;

/// Accepts one connection; after a good handshake answers an MQTT CONNECT with a CONNACK
/// (enough for mosquitto_pub) and reads until the client leaves.
async fn serve_one(tls: &ListenerTls) -> (u16, tokio::task::JoinHandle<Outcome>) {
    let acceptor = TlsAcceptor::from(server_config(tls).expect("server config"));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let (mut stream, cert) = accept(&acceptor, tcp, LIMIT).await?;
        let identity = cert.and_then(|c| certificate_common_name(&c));
        let mut buf = [0u8; 1024];
        if let Ok(n) = stream.read(&mut buf).await {
            if n > 0 && buf[0] == 0x10 {
                let _ = stream.write_all(&[0x20, 0x02, 0x00, 0x00]).await;
            } else if n > 0 {
                let _ = stream.write_all(b"echo").await;
            }
            let _ = stream.flush().await;
        }
        while let Ok(n) = stream.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
        Ok(identity)
    });
    (port, task)
}

fn client_config(pki: &Pki, ca: &str, cert: Option<&str>) -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    client_config_versions(pki, ca, cert, provider, rustls::DEFAULT_VERSIONS)
}

fn client_config_versions(
    pki: &Pki,
    ca: &str,
    cert: Option<&str>,
    provider: Arc<rustls::crypto::CryptoProvider>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    for c in mq::broker::security::tls::load_certs(&pki.path(ca)).unwrap() {
        roots.add(c).unwrap();
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(roots);
    match cert {
        Some(name) => {
            let certs =
                mq::broker::security::tls::load_certs(&pki.path(&format!("{name}.pem"))).unwrap();
            let key =
                mq::broker::security::tls::load_key(&pki.path(&format!("{name}.key"))).unwrap();
            builder.with_client_auth_cert(certs, key).unwrap()
        }
        None => builder.with_no_client_auth(),
    }
}

/// One handshake with a tokio-rustls client; the server's outcome.
async fn handshake(tls: &ListenerTls, client: rustls::ClientConfig) -> Outcome {
    let (port, server) = serve_one(tls).await;
    let connector = TlsConnector::from(Arc::new(client));
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    if let Ok(mut s) = connector.connect(name, tcp).await {
        // TLS 1.3 clients finish before the server has checked their certificate: talk, so
        // that the outcome is settled either way.
        let _ = s.write_all(b"ping").await;
        let mut buf = [0u8; 4];
        let _ = tokio::time::timeout(LIMIT, s.read(&mut buf)).await;
        let _ = s.shutdown().await;
    }
    tokio::time::timeout(LIMIT, server).await.unwrap().unwrap()
}

#[tokio::test]
async fn server_authenticated_tls_works() {
    let pki = Pki::new();
    let got = handshake(
        &listener_tls(&pki, false),
        client_config(&pki, "ca.pem", None),
    )
    .await;
    assert_eq!(got, Ok(None));
    // A client certificate is not even asked for without require_certificate.
    let cc = client_config(&pki, "ca.pem", Some("client"));
    assert_eq!(handshake(&listener_tls(&pki, false), cc).await, Ok(None));
}

#[tokio::test]
async fn mutual_tls_yields_the_certificate_cn() {
    let pki = Pki::new();
    let cc = client_config(&pki, "ca.pem", Some("client"));
    let got = handshake(&listener_tls(&pki, true), cc).await;
    assert_eq!(got, Ok(Some("device7".to_string())));
}

#[tokio::test]
async fn capath_directory_holds_the_trusted_cas() {
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(pki.path("ca.pem"), dir.path().join("ca.pem")).unwrap();
    std::fs::write(dir.path().join("README"), "not a certificate\n").unwrap();
    let mut tls = listener_tls(&pki, true);
    tls.cafile = None;
    tls.capath = Some(dir.path().to_path_buf());
    let cc = client_config(&pki, "ca.pem", Some("client"));
    assert_eq!(handshake(&tls, cc).await, Ok(Some("device7".to_string())));
    let cc = client_config(&pki, "ca.pem", Some("other"));
    let got = handshake(&tls, cc).await;
    assert!(
        matches!(refusal(&got), Some(Problem::UnknownIssuer { .. })),
        "{got:?}"
    );
}

#[tokio::test]
async fn failed_handshakes_say_which_check_failed() {
    let pki = Pki::new();
    let mtls = listener_tls(&pki, true);
    let got = handshake(&mtls, client_config(&pki, "ca.pem", None)).await;
    assert_eq!(got, Err(HandshakeFailure::NoClientCertificate));
    let got = handshake(&mtls, client_config(&pki, "ca.pem", Some("other"))).await;
    assert!(
        matches!(refusal(&got), Some(Problem::UnknownIssuer { .. })),
        "{got:?}"
    );
    let words = got.unwrap_err().to_string();
    let ca = pki.path("ca.pem").display().to_string();
    assert!(
        words.contains("client certificate CN=intruder is not signed by a CA in")
            && words.contains(&ca),
        "{words}"
    );
    let got = handshake(&mtls, client_config(&pki, "ca.pem", Some("expired"))).await;
    assert!(
        matches!(refusal(&got), Some(Problem::Expired { .. })),
        "{got:?}"
    );
    let words = got.unwrap_err().to_string();
    assert!(
        words.contains("client certificate expired on 2020-01-01"),
        "{words}"
    );
    // The client does not trust our certificate: it says so with an alert.
    let got = handshake(&mtls, client_config(&pki, "ca2.pem", Some("client"))).await;
    match got {
        Err(f @ HandshakeFailure::PeerAlert { .. }) => {
            assert!(f.to_string().contains("unknown CA"), "{f}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn plain_mqtt_on_the_tls_port_is_a_record_layer_error() {
    let pki = Pki::new();
    let (port, server) = serve_one(&listener_tls(&pki, false)).await;
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    // An MQTT 3.1.1 CONNECT, client id "c".
    let connect = [
        0x10, 0x0d, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x01, b'c',
    ];
    tcp.write_all(&connect).await.unwrap();
    let got = tokio::time::timeout(LIMIT, server).await.unwrap().unwrap();
    match got {
        Err(f @ HandshakeFailure::NotTls { .. }) => {
            assert!(f.to_string().contains("this port expects TLS"), "{f}")
        }
        other => panic!("{other:?}"),
    }
    // A client that connects and says nothing times out.
    let pki2 = listener_tls(&pki, false);
    let acceptor = TlsAcceptor::from(server_config(&pki2).unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let _silent = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (tcp, _) = listener.accept().await.unwrap();
    let got = accept(&acceptor, tcp, Duration::from_millis(100)).await;
    assert_eq!(got.err(), Some(HandshakeFailure::TimedOut));
    // And a client that hangs up mid-handshake.
    let (port, server) = serve_one(&listener_tls(&pki, false)).await;
    drop(TcpStream::connect(("127.0.0.1", port)).await.unwrap());
    let got = tokio::time::timeout(LIMIT, server).await.unwrap().unwrap();
    assert_eq!(got, Err(HandshakeFailure::Closed { side: Side::Server }));
}

#[tokio::test]
async fn tls_version_sets_the_minimum() {
    let pki = Pki::new();
    let mut tls13 = listener_tls(&pki, false);
    tls13.tls_version = MinTlsVersion::V13;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let only12 = client_config_versions(&pki, "ca.pem", None, provider, &[&rustls::version::TLS12]);
    match handshake(&tls13, only12).await {
        Err(HandshakeFailure::Incompatible(_)) => {}
        other => panic!("{other:?}"),
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let only12 = client_config_versions(&pki, "ca.pem", None, provider, &[&rustls::version::TLS12]);
    assert_eq!(
        handshake(&listener_tls(&pki, false), only12).await,
        Ok(None)
    );
}

#[test]
fn configuration_errors_name_the_file() {
    let pki = Pki::new();
    let base = listener_tls(&pki, true);
    let err = |tls: ListenerTls| server_config(&tls).unwrap_err();

    let mut t = base.clone();
    t.certfile = pki.path("missing.pem");
    let e = err(t);
    assert!(
        matches!(e, TlsError::Read { .. }) && e.to_string().contains("missing.pem"),
        "{e}"
    );

    let mut t = base.clone();
    t.keyfile = pki.path("server.pem");
    let e = err(t).to_string();
    assert!(
        e.contains("server.pem") && e.contains("no private key"),
        "{e}"
    );

    let mut t = base.clone();
    t.certfile = pki.path("server.key");
    let e = err(t).to_string();
    assert!(
        e.contains("server.key") && e.contains("no certificate"),
        "{e}"
    );

    let mut t = base.clone();
    t.keyfile = pki.path("client.key");
    let e = err(t);
    assert!(matches!(e, TlsError::CertKey { .. }), "{e}");

    let mut t = base.clone();
    t.cafile = None;
    assert!(matches!(err(t), TlsError::NoCa));

    let mut t = base.clone();
    t.cafile = Some(pki.path("garbage.pem"));
    std::fs::write(
        pki.path("garbage.pem"),
        "-----BEGIN CERTIFICATE-----\n!!!\n",
    )
    .unwrap();
    let e = err(t).to_string();
    assert!(e.contains("garbage.pem"), "{e}");
}

/// Runs an external TLS client to completion (bounded) and returns whether it succeeded, with
/// the server's outcome.
async fn external(tls: &ListenerTls, program: &str, args: &[String]) -> (bool, Outcome) {
    let (port, server) = serve_one(tls).await;
    let args: Vec<String> = args
        .iter()
        .map(|a| a.replace("PORT", &port.to_string()))
        .collect();
    let child = tokio::process::Command::new(program)
        .args(&args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .status();
    let ok = matches!(tokio::time::timeout(LIMIT, child).await, Ok(Ok(s)) if s.success());
    let outcome = tokio::time::timeout(LIMIT, server).await.unwrap().unwrap();
    (ok, outcome)
}

fn mosquitto_pub_args(pki: &Pki, ca: &str, cert: Option<&str>) -> Vec<String> {
    let mut args: Vec<String> = ["-h", "localhost", "-p", "PORT", "-t", "t", "-m", "x"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(["--cafile".into(), pki.path(ca).display().to_string()]);
    args.extend(pki.cert_args(cert));
    args
}

#[tokio::test]
async fn mosquitto_pub_connects_over_tls_and_mutual_tls() {
    if !require(&[Peer::MosquittoClients]) {
        return;
    }
    let pki = Pki::new();
    let (plain, mtls) = (listener_tls(&pki, false), listener_tls(&pki, true));
    let run = |tls, ca, cert| {
        let args = mosquitto_pub_args(&pki, ca, cert);
        async move { external(tls, "mosquitto_pub", &args).await }
    };
    assert_eq!(run(&plain, "ca.pem", None).await, (true, Ok(None)));
    let want = (true, Ok(Some("device7".to_string())));
    assert_eq!(run(&mtls, "ca.pem", Some("client")).await, want);

    let (ok, got) = run(&mtls, "ca.pem", None).await;
    assert!(!ok);
    assert_eq!(got, Err(HandshakeFailure::NoClientCertificate));
    let (ok, got) = run(&mtls, "ca.pem", Some("expired")).await;
    assert!(!ok);
    assert!(
        matches!(refusal(&got), Some(Problem::Expired { .. })),
        "{got:?}"
    );
    let (ok, got) = run(&mtls, "ca.pem", Some("other")).await;
    assert!(!ok);
    assert!(
        matches!(refusal(&got), Some(Problem::UnknownIssuer { .. })),
        "{got:?}"
    );
    let (ok, got) = run(&plain, "ca2.pem", None).await;
    assert!(!ok);
    assert!(
        matches!(&got, Err(f @ HandshakeFailure::PeerAlert { .. }) if f.to_string().contains("unknown CA")),
        "{got:?}"
    );
}

#[tokio::test]
async fn openssl_s_client_handshakes() {
    if !require(&[Peer::Openssl]) {
        return;
    }
    let pki = Pki::new();
    let p = |n: &str| pki.path(n).display().to_string();
    let mut args: Vec<String> = ["s_client", "-connect", "127.0.0.1:PORT"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend([
        "-servername".into(),
        "localhost".into(),
        "-verify_return_error".into(),
    ]);
    args.extend(["-CAfile".into(), p("ca.pem")]);
    let mut with_cert = args.clone();
    with_cert.extend([
        "-cert".into(),
        p("client.pem"),
        "-key".into(),
        p("client.key"),
    ]);

    let got = external(&listener_tls(&pki, true), "openssl", &with_cert).await;
    assert_eq!(got, (true, Ok(Some("device7".to_string()))));

    let mut tls13 = listener_tls(&pki, false);
    tls13.tls_version = MinTlsVersion::V13;
    let mut old = args.clone();
    old.push("-tls1_2".into());
    let (ok, got) = external(&tls13, "openssl", &old).await;
    assert!(!ok);
    assert!(
        matches!(got, Err(HandshakeFailure::Incompatible(_))),
        "{got:?}"
    );
}
