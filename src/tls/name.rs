//! Does a server certificate name the host we connected to? mosquitto 2.0's clients' rule:
//! subjectAltName DNS and IP entries first; the CN only when the certificate has no DNS
//! subjectAltName (which is what OpenSSL's `X509_check_host` does for a host name too). The
//! subjectAltName match is webpki's; the CN match (for certificates without subjectAltName,
//! among them every X.509 version 1 certificate) allows a `*.` wildcard over exactly one
//! leftmost label, and not over a bare top-level domain.

use super::problem::Problem;
use rustls::pki_types::{CertificateDer, ServerName};
use std::net::IpAddr;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

/// Checks `cert` against `host`.
pub fn check(cert: &CertificateDer<'_>, host: &ServerName<'_>) -> Result<(), Problem> {
    let parsed = X509Certificate::from_der(cert)
        .map_err(|e| Problem::Other(format!("server certificate: {e}")))?
        .1;
    let (dns, ips) = alt_names(&parsed);
    if !dns.is_empty() || !ips.is_empty() {
        // Only a version 3 certificate has subjectAltName, and webpki reads those.
        let matched = webpki::EndEntityCert::try_from(cert)
            .is_ok_and(|ee| ee.verify_is_valid_for_subject_name(host).is_ok());
        if matched {
            return Ok(());
        }
    }
    let host_text = match host {
        ServerName::DnsName(d) => d.as_ref().to_string(),
        ServerName::IpAddress(ip) => IpAddr::from(*ip).to_string(),
        _ => String::new(),
    };
    let cn = super::names::common_name(parsed.subject());
    if dns.is_empty() {
        if let Some(cn) = &cn {
            if cn_matches(cn, &host_text) {
                return Ok(());
            }
        }
    }
    let mut names = dns;
    names.extend(ips.iter().map(IpAddr::to_string));
    if names.is_empty() {
        names.extend(cn);
    }
    Err(Problem::NameMismatch {
        names,
        host: host_text,
    })
}

/// The DNS and IP subjectAltName entries.
fn alt_names(cert: &X509Certificate<'_>) -> (Vec<String>, Vec<IpAddr>) {
    let (mut dns, mut ips) = (Vec::new(), Vec::new());
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(d) => dns.push(d.to_string()),
                GeneralName::IPAddress(bytes) => {
                    if let Ok(b) = <[u8; 4]>::try_from(*bytes) {
                        ips.push(IpAddr::from(b));
                    } else if let Ok(b) = <[u8; 16]>::try_from(*bytes) {
                        ips.push(IpAddr::from(b));
                    }
                }
                _ => {}
            }
        }
    }
    (dns, ips)
}

/// A CN against the host: equal ignoring ASCII case (an address compared as an address), or
/// `*.rest` against `label.rest` where `rest` has at least two labels.
fn cn_matches(cn: &str, host: &str) -> bool {
    if let (Ok(a), Ok(b)) = (cn.parse::<IpAddr>(), host.parse::<IpAddr>()) {
        return a == b;
    }
    if let Some(rest) = cn.strip_prefix("*.") {
        let Some((label, host_rest)) = host.split_once('.') else {
            return false;
        };
        return !label.is_empty()
            && rest.contains('.')
            && !rest.starts_with('.')
            && host.parse::<IpAddr>().is_err()
            && host_rest.eq_ignore_ascii_case(rest);
    }
    cn.eq_ignore_ascii_case(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cn_matching_follows_mosquitto() {
        assert!(cn_matches("localhost", "LOCALHOST"));
        assert!(cn_matches("broker.example", "broker.example"));
        assert!(!cn_matches("broker.example", "localhost"));
        assert!(cn_matches("*.example.org", "mqtt.example.org"));
        assert!(!cn_matches("*.example.org", "a.b.example.org"));
        assert!(!cn_matches("*.example.org", "example.org"));
        assert!(
            !cn_matches("*.org", "example.org"),
            "no wildcard over a TLD"
        );
        assert!(!cn_matches("f*.example.org", "foo.example.org"));
        assert!(cn_matches("127.0.0.1", "127.0.0.1"));
        assert!(cn_matches("::1", "0:0:0:0:0:0:0:1"));
        assert!(!cn_matches("*.0.0.1", "127.0.0.1"));
    }

    fn cert(sans: &[&str], cn: &str) -> CertificateDer<'static> {
        let mut params =
            rcgen::CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, cn);
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().clone()
    }

    fn host(h: &str) -> ServerName<'static> {
        ServerName::try_from(h.to_string()).unwrap()
    }

    #[test]
    fn alt_names_come_first_and_the_cn_only_without_dns_names() {
        let c = cert(&["broker.example", "10.0.0.1"], "localhost");
        assert!(check(&c, &host("broker.example")).is_ok());
        assert!(check(&c, &host("10.0.0.1")).is_ok());
        // The CN is not looked at when there is a DNS subjectAltName.
        let e = check(&c, &host("localhost")).unwrap_err();
        assert_eq!(
            e,
            Problem::NameMismatch {
                names: vec!["broker.example".into(), "10.0.0.1".into()],
                host: "localhost".into()
            }
        );
        // An IP subjectAltName alone does not hide the CN (mosquitto 2.0, OpenSSL).
        let c = cert(&["10.0.0.1"], "localhost");
        assert!(check(&c, &host("localhost")).is_ok());
        // No subjectAltName at all: the CN.
        let c = cert(&[], "localhost");
        assert!(check(&c, &host("localhost")).is_ok());
        let e = check(&c, &host("127.0.0.1")).unwrap_err();
        assert!(
            matches!(&e, Problem::NameMismatch { names, .. } if names == &["localhost"]),
            "{e:?}"
        );
    }
}
