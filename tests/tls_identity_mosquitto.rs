//! `use_identity_as_username` + ACL in Debian's mosquitto and in `Authenticator` agree: the
//! client certificate's CN becomes the username the ACL sees. Also shows that mosquitto accepts
//! the test PKI, so broker TLS tests can share it.

mod common;

use common::pki::Pki;
use common::{Conf, Peer, TestBroker, require};
use mq::broker::security::tls::{certificate_common_name, load_certs};
use mq::broker::security::{AuthConfig, Authenticator};
use std::process::{Command, Stdio};

const ACL: &str = "pattern readwrite dev/%u/#\nuser device7\ntopic read other/#\n";
const TOPICS: &[&str] = &["dev/device7/x", "dev/intruder/x", "other/x"];

fn tls_args(pki: &Pki, port: u16, cert: Option<&str>) -> Vec<String> {
    let mut args = vec![
        "-h".to_string(),
        "localhost".into(),
        "-p".into(),
        port.to_string(),
        "--cafile".into(),
        pki.path("ca.pem").display().to_string(),
    ];
    args.extend(pki.cert_args(cert));
    args
}

#[test]
fn certificate_cn_is_the_acl_username_in_both() {
    if !require(&[Peer::Mosquitto, Peer::MosquittoClients]) {
        return;
    }
    let pki = Pki::new();
    let acl = pki.path("acl");
    std::fs::write(&acl, ACL).unwrap();
    let p = |n: &str| pki.path(n).display().to_string();
    let broker = TestBroker::mosquitto(Conf::bare().line(&format!(
        "cafile {}\ncertfile {}\nkeyfile {}\nrequire_certificate true\n\
         use_identity_as_username true\nallow_anonymous false\nacl_file {}",
        p("ca.pem"),
        p("server.pem"),
        p("server.key"),
        acl.display()
    )));
    // Retained publishes: the ones mosquitto's ACL lets through are stored and come back.
    for topic in TOPICS {
        let st = Command::new("mosquitto_pub")
            .args(tls_args(&pki, broker.port(), Some("client")))
            .args(["-r", "-q", "1", "-t", topic, "-m", "m"])
            .stdin(Stdio::null())
            .status()
            .unwrap();
        assert!(st.success(), "publish to {topic}");
    }
    let out = Command::new("mosquitto_sub")
        .args(tls_args(&pki, broker.port(), Some("client")))
        .args(["-v", "-W", "2", "-t", "#"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let got: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim_end_matches(" m").to_string())
        .collect();

    let cn = certificate_common_name(load_certs(&pki.path("client.pem")).unwrap()[0].as_ref());
    assert_eq!(cn.as_deref(), Some("device7"));
    let auth = Authenticator::new(AuthConfig {
        allow_anonymous: false,
        password_file: None,
        acl_file: Some(acl),
        use_identity_as_username: true,
    })
    .unwrap();
    let user = auth.check_connect("c", None, None, cn.as_deref()).unwrap();
    assert_eq!(user.as_deref(), Some("device7"));
    let want: Vec<String> = TOPICS
        .iter()
        .filter(|t| {
            auth.can_write("c", user.as_deref(), t) && auth.can_read("c", user.as_deref(), t)
        })
        .map(|t| t.to_string())
        .collect();
    assert_eq!(want, ["dev/device7/x"], "the ACL under test");
    assert_eq!(got, want, "mosquitto delivered {got:?}");

    // Without a certificate, or with one from another CA, mosquitto refuses the connection.
    for cert in [None, Some("other"), Some("expired")] {
        let st = Command::new("mosquitto_pub")
            .args(tls_args(&pki, broker.port(), cert))
            .args(["-t", "dev/x", "-m", "m"])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(!st.success(), "certificate {cert:?} accepted");
    }
}
