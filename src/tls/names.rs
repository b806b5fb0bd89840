//! Distinguished names as people and mosquitto write them: the CN alone, a short label for
//! messages (`CN=alice`), and the RFC 2253 form mosquitto makes for `use_subject_as_username`
//! (OpenSSL's `X509_NAME_print_ex` with `XN_FLAG_RFC2253`: last RDN first, `,` between RDNs,
//! `+` inside one, OpenSSL's short attribute names, special characters escaped).

use x509_parser::asn1_rs::Tag;
use x509_parser::prelude::{AttributeTypeAndValue, FromDer, X509Certificate, X509Name};

/// The first commonName of a DER certificate's subject; `None` when the certificate does not
/// parse or has no CN.
pub fn certificate_common_name(der: &[u8]) -> Option<String> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    common_name(cert.subject())
}

/// The subject of a DER certificate in RFC 2253 form, as mosquitto's `use_subject_as_username`
/// writes it, e.g. `CN=test client,OU=Production,O=Server,L=Nottingham,ST=Nottinghamshire,C=GB`.
pub fn certificate_subject(der: &[u8]) -> Option<String> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    Some(rfc2253(cert.subject()))
}

/// The first CN of a name.
pub fn common_name(name: &X509Name<'_>) -> Option<String> {
    name.iter_common_name().next().and_then(value_text)
}

/// A short label for messages: `CN=alice` when there is a CN, else the whole name, else
/// `(empty subject)`.
pub fn label(name: &X509Name<'_>) -> String {
    match common_name(name) {
        Some(cn) => format!("CN={cn}"),
        None if name.iter_attributes().next().is_none() => "(empty subject)".into(),
        None => rfc2253(name),
    }
}

/// The text of an attribute value, for every string type a name may use.
fn value_text(attr: &AttributeTypeAndValue<'_>) -> Option<String> {
    let value = attr.attr_value();
    let bytes = attr.as_slice();
    match value.tag() {
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::NumericString
        | Tag::VisibleString => std::str::from_utf8(bytes).ok().map(str::to_string),
        // OpenSSL reads T61String as Latin-1.
        Tag::T61String => Some(bytes.iter().map(|&b| char::from(b)).collect()),
        Tag::BmpString => value.as_bmpstring().ok().map(|s| s.string()),
        Tag::UniversalString => value.as_universalstring().ok().map(|s| s.string()),
        _ => None,
    }
}

/// OpenSSL's short name for the attribute types it knows; the dotted OID otherwise.
fn attribute_name(attr: &AttributeTypeAndValue<'_>) -> String {
    let oid = attr.attr_type().to_id_string();
    let known = match oid.as_str() {
        "2.5.4.3" => "CN",
        "2.5.4.4" => "SN",
        "2.5.4.5" => "serialNumber",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "street",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.12" => "title",
        "2.5.4.42" => "GN",
        "2.5.4.43" => "initials",
        "2.5.4.44" => "generationQualifier",
        "2.5.4.46" => "dnQualifier",
        "2.5.4.65" => "pseudonym",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        "1.2.840.113549.1.9.1" => "emailAddress",
        _ => return oid,
    };
    known.to_string()
}

/// The whole name in RFC 2253 form (see the module docs).
pub fn rfc2253(name: &X509Name<'_>) -> String {
    let rdns: Vec<String> = name
        .iter_rdn()
        .map(|rdn| {
            rdn.iter()
                .map(|attr| {
                    let value = match value_text(attr) {
                        Some(text) => escape(&text),
                        // Not a string: OpenSSL dumps the DER value as #hex.
                        None => format!("#{}", hex(attr.attr_value().as_bytes())),
                    };
                    format!("{}={value}", attribute_name(attr))
                })
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect();
    rdns.into_iter().rev().collect::<Vec<_>>().join(",")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// RFC 2253 escaping as OpenSSL does it (`ASN1_STRFLGS_RFC2253`): `, + " \ < > ;` get a
/// backslash, so do a leading `#` or space and a trailing space; control characters and every
/// byte of a non-ASCII character become `\XX`.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let last = text.chars().count().saturating_sub(1);
    for (i, c) in text.chars().enumerate() {
        match c {
            ',' | '+' | '"' | '\\' | '<' | '>' | ';' => {
                out.push('\\');
                out.push(c);
            }
            '#' | ' ' if i == 0 => {
                out.push('\\');
                out.push(c);
            }
            ' ' if i == last => out.push_str("\\ "),
            c if c.is_ascii_control() || !c.is_ascii() => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("\\{b:02X}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc2253_escaping_follows_openssl() {
        assert_eq!(escape("test client"), "test client");
        assert_eq!(escape("a,b+c"), "a\\,b\\+c");
        assert_eq!(escape("#x "), "\\#x\\ ");
        assert_eq!(escape(" x"), "\\ x");
        assert_eq!(escape("d\u{e9}v"), "d\\C3\\A9v");
        assert_eq!(escape("q\"<>;\\"), "q\\\"\\<\\>\\;\\\\");
    }

    #[test]
    fn names_of_a_generated_certificate() {
        // The order of several attributes is checked against OpenSSL-made certificates in
        // tests/tls_openssl.rs; here one attribute, with a character to escape.
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        let dn = &mut params.distinguished_name;
        dn.push(rcgen::DnType::CommonName, "client, 7");
        let key = rcgen::KeyPair::generate().unwrap();
        let der = params.self_signed(&key).unwrap().der().to_vec();
        assert_eq!(certificate_common_name(&der).as_deref(), Some("client, 7"));
        assert_eq!(certificate_subject(&der).as_deref(), Some("CN=client\\, 7"));
        assert_eq!(certificate_common_name(b"not a certificate"), None);
    }

    proptest::proptest! {
        #[test]
        fn common_name_never_panics_on_garbage(bytes in proptest::collection::vec(0u8..=255, 0..200)) {
            let _ = certificate_common_name(&bytes);
            let _ = certificate_subject(&bytes);
        }
    }
}
