//! The chains webpki does not take and OpenSSL does: a version 1 peer certificate (what
//! `openssl x509 -req` makes without an extensions file, as in mosquitto-tls(7)), and a CA
//! certificate used as the peer's own (the one-step self-signed `openssl req -x509`).
//!
//! Parsing and signatures are x509-parser's (with ring); this file only walks the chain and
//! applies OpenSSL's rules to what the parser found, as strictly as webpki does on the other
//! path: every signature up to a trusted CA, the validity of every certificate including that
//! CA, the CA rules of every issuer (`X509_check_ca`: basicConstraints CA:TRUE, a version 1
//! certificate only as a self-signed root, keyCertSign, path length), the TLS purpose
//! (extended key usage, key usage, Netscape type), unknown critical extensions, the signature
//! algorithms webpki accepts (no SHA-1), and `crlfile` for the peer's certificate.

use super::names::label;
use super::problem::{CertRef, Date, Position, Problem, Role};
use super::verify::ChainVerifier;
use rustls::pki_types::{CertificateDer, UnixTime};
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::{CertificateRevocationList, FromDer, X509Certificate, X509Version};

/// OpenSSL's default maximum chain depth is 100; real chains have two or three certificates.
const MAX_DEPTH: usize = 10;

/// Signature algorithms accepted, the same set as webpki's: RSA PKCS#1 and PSS with SHA-2,
/// ECDSA with SHA-256/384, Ed25519. SHA-1 and MD5 are refused.
const ACCEPTED_SIGNATURES: &[&str] = &[
    "1.2.840.113549.1.1.11",
    "1.2.840.113549.1.1.12",
    "1.2.840.113549.1.1.13",
    "1.2.840.113549.1.1.10",
    "1.2.840.10045.4.3.2",
    "1.2.840.10045.4.3.3",
    "1.3.101.112",
];

/// Verifies `leaf` with the intermediates the peer sent (see the module docs).
pub fn verify(
    v: &ChainVerifier,
    leaf: &X509Certificate<'_>,
    intermediates: &[CertificateDer<'_>],
    now: UnixTime,
) -> Result<(), Problem> {
    let now = now.as_secs() as i64;
    let peer = CertRef::peer(label(leaf.subject()));
    check_cert(leaf, &peer, now)?;
    check_purpose(leaf, &peer, v.role)?;
    // A trusted self-signed certificate used as the peer's own: OpenSSL's chain is that one
    // certificate, trusted as it stands.
    if v.trust.contains(leaf.as_raw()) && self_issued(leaf) {
        return Ok(());
    }
    let presented: Vec<X509Certificate<'_>> = intermediates
        .iter()
        .filter_map(|d| X509Certificate::from_der(d).ok().map(|(_, c)| c))
        .collect();
    let mut used = vec![false; presented.len()];
    let (mut current, mut current_ref) = (leaf, peer.clone());
    for below in 0..MAX_DEPTH {
        let bad_signature = match trusted_issuer(v, leaf, current, &current_ref, below, now)? {
            Anchor::Found => return Ok(()),
            Anchor::WrongKey => true,
            Anchor::None => false,
        };
        let next = presented.iter().enumerate().find(|(i, c)| {
            !used[*i]
                && c.subject().as_raw() == current.issuer().as_raw()
                && matches!(signed_by(current, c, &current_ref), Ok(true))
        });
        // A self-signed certificate the peer sent is trusted only if it is in the store
        // (checked above): OpenSSL's "self-signed certificate in certificate chain".
        let (i, ca) = match next {
            Some((_, ca)) if self_issued(ca) && !bad_signature => {
                return Err(unknown_issuer_of(v, ca, peer, false));
            }
            Some((i, ca)) if !self_issued(ca) => (i, ca),
            _ if bad_signature => {
                return Err(Problem::BadSignature {
                    cert: current_ref,
                    issuer: label(current.issuer()),
                });
            }
            _ => return Err(unknown_issuer_of(v, current, peer, below == 0)),
        };
        used[i] = true;
        let ca_ref = cert_ref(ca, Position::Intermediate);
        check_ca(ca, &ca_ref, below, false)?;
        check_cert(ca, &ca_ref, now)?;
        check_purpose(ca, &ca_ref, v.role)?;
        if below == 0 {
            check_crl(v, leaf, ca, now)?;
        }
        (current, current_ref) = (ca, ca_ref);
    }
    Err(Problem::Other(format!(
        "the chain of {} certificate {} is longer than {MAX_DEPTH} certificates",
        role_word(v.role),
        label(leaf.subject())
    )))
}

/// Whether a trusted CA signed `current`.
enum Anchor {
    /// One did, and it passes as the end of the chain.
    Found,
    /// Trusted CAs with its issuer's name exist, and none of their keys verifies it.
    WrongKey,
    /// No trusted CA has its issuer's name.
    None,
}

/// Looks for `current`'s issuer among the trusted CAs (first: OpenSSL's default since 1.1.0,
/// `X509_V_FLAG_TRUSTED_FIRST`) and checks it as the end of the chain.
fn trusted_issuer(
    v: &ChainVerifier,
    leaf: &X509Certificate<'_>,
    current: &X509Certificate<'_>,
    current_ref: &CertRef,
    below: usize,
    now: i64,
) -> Result<Anchor, Problem> {
    let mut found = Anchor::None;
    for anchor in v.trust.named(current.issuer().as_raw()) {
        let Ok((_, ca)) = X509Certificate::from_der(&anchor.der) else {
            continue;
        };
        if !signed_by(current, &ca, current_ref)? {
            found = Anchor::WrongKey;
            continue;
        }
        let ca_ref = cert_ref(&ca, Position::Ca);
        check_ca(&ca, &ca_ref, below, true)?;
        check_dates(&ca, &ca_ref, now)?;
        if below == 0 {
            check_crl(v, leaf, &ca, now)?;
        }
        return Ok(Anchor::Found);
    }
    Ok(found)
}

fn role_word(role: Role) -> &'static str {
    match role {
        Role::Server => "server",
        Role::Client => "client",
    }
}

fn cert_ref(c: &X509Certificate<'_>, position: Position) -> CertRef {
    CertRef {
        position,
        label: label(c.subject()),
    }
}

fn self_issued(c: &X509Certificate<'_>) -> bool {
    c.subject().as_raw() == c.issuer().as_raw()
}

/// Whether `issuer`'s key verifies `cert`'s signature; an error for an algorithm that is not
/// accepted.
fn signed_by(
    cert: &X509Certificate<'_>,
    issuer: &X509Certificate<'_>,
    cert_ref: &CertRef,
) -> Result<bool, Problem> {
    let alg = cert.signature_algorithm.algorithm.to_id_string();
    if !ACCEPTED_SIGNATURES.contains(&alg.as_str()) {
        return Err(Problem::UnsupportedAlgorithm {
            cert: cert_ref.clone(),
        });
    }
    match cert.verify_signature(Some(issuer.public_key())) {
        Ok(()) => Ok(true),
        Err(x509_parser::error::X509Error::SignatureUnsupportedAlgorithm) => {
            Err(Problem::UnsupportedAlgorithm {
                cert: cert_ref.clone(),
            })
        }
        Err(_) => Ok(false),
    }
}

/// Validity dates of one certificate.
fn check_dates(c: &X509Certificate<'_>, cert: &CertRef, now: i64) -> Result<(), Problem> {
    let validity = c.validity();
    let (from, until) = (
        validity.not_before.timestamp(),
        validity.not_after.timestamp(),
    );
    if now < from {
        return Err(Problem::NotYetValid {
            cert: cert.clone(),
            not_before: Date(from),
        });
    }
    if now > until {
        return Err(Problem::Expired {
            cert: cert.clone(),
            not_after: Date(until),
        });
    }
    Ok(())
}

/// OpenSSL's rules webpki does not apply, for an issuer in a chain webpki accepted, `below`
/// CA certificates above the peer's own: the CA rules of `X509_check_ca` (keyCertSign,
/// basicConstraints of a trusted CA), and the validity of the trusted CA (webpki takes a
/// trust anchor as it is).
pub fn check_issuer(
    der: &[u8],
    position: Position,
    below: usize,
    now: UnixTime,
) -> Result<(), Problem> {
    let Ok((_, ca)) = X509Certificate::from_der(der) else {
        return Ok(());
    };
    let ca_ref = cert_ref(&ca, position);
    let trusted = position == Position::Ca;
    check_ca(&ca, &ca_ref, below, trusted)?;
    if trusted {
        check_dates(&ca, &ca_ref, now.as_secs() as i64)?;
    }
    Ok(())
}

/// Dates and critical extensions: what every certificate of the chain must pass.
fn check_cert(c: &X509Certificate<'_>, cert: &CertRef, now: i64) -> Result<(), Problem> {
    check_dates(c, cert, now)?;
    for ext in c.extensions().iter().filter(|e| e.critical) {
        let understood = matches!(
            ext.parsed_extension(),
            ParsedExtension::KeyUsage(_)
                | ParsedExtension::SubjectAlternativeName(_)
                | ParsedExtension::BasicConstraints(_)
                | ParsedExtension::CertificatePolicies(_)
                | ParsedExtension::PolicyMappings(_)
                | ParsedExtension::PolicyConstraints(_)
                | ParsedExtension::InhibitAnyPolicy(_)
                | ParsedExtension::ExtendedKeyUsage(_)
                | ParsedExtension::CRLDistributionPoints(_)
                | ParsedExtension::NSCertType(_)
        );
        if !understood {
            return Err(Problem::UnknownCriticalExtension {
                cert: cert.clone(),
                oid: ext.oid.to_id_string(),
            });
        }
    }
    Ok(())
}

/// OpenSSL's purpose check for a TLS server or client: extended key usage (on every
/// certificate of the chain), key usage (on the peer's own), Netscape certificate type.
/// webpki checks extended key usage only, so chains it accepts come here too.
pub fn check_purpose(c: &X509Certificate<'_>, cert: &CertRef, role: Role) -> Result<(), Problem> {
    let wrong = || Err(Problem::WrongPurpose { cert: cert.clone() });
    if let Ok(Some(eku)) = c.extended_key_usage() {
        let ok = match role {
            Role::Server => eku.value.server_auth,
            Role::Client => eku.value.client_auth,
        };
        if !ok {
            return wrong();
        }
    }
    let is_peer = cert.position == Position::Peer;
    if let (true, Ok(Some(ku))) = (is_peer, c.key_usage()) {
        let ku = ku.value;
        let ok = match role {
            Role::Server => ku.digital_signature() || ku.key_encipherment() || ku.key_agreement(),
            Role::Client => ku.digital_signature() || ku.key_agreement(),
        };
        if !ok {
            return wrong();
        }
    }
    for ext in c.extensions() {
        if let ParsedExtension::NSCertType(t) = ext.parsed_extension() {
            let ok = match (is_peer, role) {
                (false, _) => t.ssl_ca(),
                (true, Role::Server) => t.ssl_server(),
                (true, Role::Client) => t.ssl_client(),
            };
            if !ok {
                return wrong();
            }
        }
    }
    Ok(())
}

/// OpenSSL's `X509_check_ca` as its chain check applies it to a certificate that signed
/// another, `below` CA certificates above the peer's own.
fn check_ca(
    ca: &X509Certificate<'_>,
    cert: &CertRef,
    below: usize,
    trusted: bool,
) -> Result<(), Problem> {
    let refuse = |why: String| {
        Err(Problem::NotACa {
            cert: cert.clone(),
            why,
        })
    };
    match ca.basic_constraints() {
        Ok(Some(bc)) if !bc.value.ca => return refuse("its basicConstraints say CA:FALSE".into()),
        Ok(Some(bc)) => {
            if let Some(n) = bc.value.path_len_constraint {
                if below > n as usize {
                    return refuse(format!(
                        "its path length constraint allows {n} intermediate CAs below it, \
                         the chain has {below}"
                    ));
                }
            }
        }
        Ok(None) if ca.version() == X509Version::V1 && !trusted => {
            return refuse(
                "it is an X.509 version 1 certificate, which OpenSSL accepts as a trusted \
                 self-signed root CA only, never as an intermediate"
                    .into(),
            );
        }
        Ok(None) if ca.version() == X509Version::V1 && !self_issued(ca) => {
            return refuse("it is an X.509 version 1 certificate that is not self-signed".into());
        }
        Ok(None) if ca.version() == X509Version::V1 => {}
        Ok(None) => {
            let cert_sign = ca
                .key_usage()
                .ok()
                .flatten()
                .is_some_and(|ku| ku.value.key_cert_sign());
            if !(trusted && cert_sign) {
                return refuse("it has no basicConstraints CA:TRUE".into());
            }
        }
        Err(e) => return refuse(format!("its basicConstraints do not parse ({e})")),
    }
    if let Ok(Some(ku)) = ca.key_usage() {
        if !ku.value.key_cert_sign() {
            return refuse("its key usage does not include keyCertSign".into());
        }
    }
    if let Ok(Some(_)) = ca.name_constraints() {
        return refuse(
            "it carries name constraints, which are only checked for chains of version 3 \
             certificates; reissue the peer certificate as version 3"
                .into(),
        );
    }
    Ok(())
}

/// `crlfile`, for the peer's own certificate: a CRL from its issuer must be there, signed by
/// that issuer, current, and must not list it (OpenSSL's `X509_V_FLAG_CRL_CHECK`).
fn check_crl(
    v: &ChainVerifier,
    leaf: &X509Certificate<'_>,
    issuer: &X509Certificate<'_>,
    now: i64,
) -> Result<(), Problem> {
    let Some(crls) = &v.crls else { return Ok(()) };
    let peer = CertRef::peer(label(leaf.subject()));
    let crlfile = v.crl_path();
    for der in &crls.der {
        let Ok((_, crl)) = CertificateRevocationList::from_der(der) else {
            continue;
        };
        let alg = crl.signature_algorithm.algorithm.to_id_string();
        if crl.issuer().as_raw() != leaf.issuer().as_raw()
            || !ACCEPTED_SIGNATURES.contains(&alg.as_str())
            || crl.verify_signature(issuer.public_key()).is_err()
        {
            continue;
        }
        if let Ok(Some(ku)) = issuer.key_usage() {
            if !ku.value.crl_sign() {
                continue;
            }
        }
        let stale = |when: i64, future: bool| Problem::StaleCrl {
            issuer: label(crl.issuer()),
            crlfile: crlfile.clone(),
            when: Date(when),
            future,
        };
        if crl.last_update().timestamp() > now {
            return Err(stale(crl.last_update().timestamp(), true));
        }
        if let Some(next) = crl.next_update() {
            if next.timestamp() < now {
                return Err(stale(next.timestamp(), false));
            }
        }
        if crl
            .iter_revoked_certificates()
            .any(|r| r.raw_serial() == leaf.raw_serial())
        {
            return Err(Problem::Revoked {
                cert: peer,
                crlfile,
            });
        }
        return Ok(());
    }
    Err(Problem::NoCrl {
        cert: peer,
        issuer: label(leaf.issuer()),
        crlfile,
    })
}

/// `top` (the highest certificate of the chain found) has no trusted issuer.
fn unknown_issuer_of(
    v: &ChainVerifier,
    top: &X509Certificate<'_>,
    peer: CertRef,
    direct: bool,
) -> Problem {
    Problem::UnknownIssuer {
        cert: peer,
        issuer: label(top.issuer()),
        direct,
        trusted: v.trust.described().to_string(),
    }
}

/// webpki found no trusted issuer: name the certificate at the top of what the peer sent
/// (following issuer names through its intermediates) and the issuer it lacks.
pub fn unknown_issuer(
    v: &ChainVerifier,
    leaf: &X509Certificate<'_>,
    intermediates: &[CertificateDer<'_>],
) -> Problem {
    let presented: Vec<X509Certificate<'_>> = intermediates
        .iter()
        .filter_map(|d| X509Certificate::from_der(d).ok().map(|(_, c)| c))
        .collect();
    let mut top = leaf;
    for _ in 0..MAX_DEPTH {
        match presented
            .iter()
            .find(|c| c.subject().as_raw() == top.issuer().as_raw() && !self_issued(top))
        {
            Some(next) => top = next,
            None => break,
        }
    }
    let direct = std::ptr::eq(top, leaf);
    unknown_issuer_of(v, top, CertRef::peer(label(leaf.subject())), direct)
}
