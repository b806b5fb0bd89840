//! The TLS session and the broker's certificate, as the client's own TLS settings (`--cafile`,
//! `--insecure`, `--tls-version`, ...) negotiated them: protocol version, cipher suite, key
//! exchange, ALPN, and the leaf certificate's subject, issuer, validity and names.

use super::outcome::{Check, Outcome, Status};
use super::target::Target;
use crate::client::open_stream;
use crate::protocol::Version;
use crate::transport::Stream;
use rustls::ProtocolVersion;
use serde_json::{Value, json};
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

/// The TLS session and certificate outcomes.
pub async fn session(t: &Target) -> Vec<Outcome> {
    if !t.tls() {
        let plain = "plain TCP (TLS needs --cafile, --capath, --tls-use-os-certs or mqtts://)";
        return vec![
            Outcome::new(Check::Tls, None, Status::NotApplicable, plain, Value::Null),
            Outcome::new(
                Check::Certificate,
                None,
                Status::NotApplicable,
                "plain TCP",
                Value::Null,
            ),
        ];
    }
    let tls = match open_stream(&t.options(Version::V311)).await {
        Ok(Stream::Tls(tls)) => tls,
        Ok(_) => return Vec::new(),
        Err(e) => {
            let figure = super::target::why(&e);
            return vec![Outcome::new(
                Check::Tls,
                None,
                Status::No,
                figure,
                Value::Null,
            )];
        }
    };
    let conn = tls.get_ref().1;
    let version = match conn.protocol_version() {
        Some(ProtocolVersion::TLSv1_3) => "TLS 1.3".to_string(),
        Some(ProtocolVersion::TLSv1_2) => "TLS 1.2".to_string(),
        Some(other) => format!("{other:?}"),
        None => "unknown".to_string(),
    };
    let suite = conn
        .negotiated_cipher_suite()
        .map(|s| format!("{:?}", s.suite()));
    let group = conn
        .negotiated_key_exchange_group()
        .map(|g| format!("{:?}", g.name()));
    let alpn = conn
        .alpn_protocol()
        .map(|a| String::from_utf8_lossy(a).into_owned());
    let mut figure = version.clone();
    for part in [&suite, &group].into_iter().flatten() {
        figure.push_str(", ");
        figure.push_str(part);
    }
    if let Some(a) = &alpn {
        figure.push_str(&format!(", ALPN {a}"));
    }
    let session = Outcome::new(
        Check::Tls,
        None,
        Status::Ok,
        figure,
        json!({"version": version, "cipher_suite": suite, "key_exchange": group, "alpn": alpn}),
    );
    let chain = conn.peer_certificates().unwrap_or(&[]);
    vec![session, certificate(chain)]
}

/// The leaf certificate (first of `chain`), described.
fn certificate(chain: &[rustls::pki_types::CertificateDer<'_>]) -> Outcome {
    let outcome = |status, figure: String, value| {
        Outcome::new(Check::Certificate, None, status, figure, value)
    };
    let Some(leaf) = chain.first() else {
        return outcome(Status::No, "none presented".into(), Value::Null);
    };
    match X509Certificate::from_der(leaf.as_ref()) {
        Ok((_, cert)) => {
            let d = describe(&cert, chain.len());
            outcome(Status::Ok, d.0, d.1)
        }
        Err(e) => outcome(Status::No, format!("unreadable: {e}"), Value::Null),
    }
}

/// The figure and the JSON value of a parsed certificate.
fn describe(cert: &X509Certificate<'_>, chain_len: usize) -> (String, Value) {
    let subject = crate::tls::names::rfc2253(cert.subject());
    let issuer = crate::tls::names::rfc2253(cert.issuer());
    let not_after = cert.validity().not_after.timestamp();
    let until = chrono::DateTime::from_timestamp(not_after, 0).map_or_else(
        || not_after.to_string(),
        |d| d.format("%Y-%m-%d").to_string(),
    );
    let days_left = (not_after - chrono::Utc::now().timestamp()) / 86_400;
    let names: Vec<String> = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| san.value.general_names.iter().filter_map(name).collect())
        .unwrap_or_default();
    let mut figure = format!("{subject}, issued by {issuer}, valid until {until} ");
    figure.push_str(&if days_left >= 0 {
        format!("({days_left} days left)")
    } else {
        "(EXPIRED)".to_string()
    });
    if !names.is_empty() {
        figure.push_str(&format!(", names {}", names.join(" ")));
    }
    figure.push_str(&format!(", chain of {chain_len}"));
    let value = json!({
        "subject": subject,
        "issuer": issuer,
        "not_after": until,
        "days_left": days_left,
        "names": names,
        "chain": chain_len,
    });
    (figure, value)
}

/// A DNS name or IP address of the subject alternative names.
fn name(n: &GeneralName<'_>) -> Option<String> {
    match n {
        GeneralName::DNSName(d) => Some((*d).to_string()),
        GeneralName::IPAddress(b) => match b.len() {
            4 => <[u8; 4]>::try_from(*b)
                .ok()
                .map(|a| std::net::Ipv4Addr::from(a).to_string()),
            16 => <[u8; 16]>::try_from(*b)
                .ok()
                .map(|a| std::net::Ipv6Addr::from(a).to_string()),
            _ => None,
        },
        _ => None,
    }
}
