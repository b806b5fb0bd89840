//! OpenSSL cipher lists (`ciphers`, `ciphers_tls1.3`, `--ciphers`) mapped to rustls's suites.
//!
//! A list is OpenSSL's syntax: names or aliases separated by `:`, `,` or spaces; `!X` or `-X`
//! takes X out; `A+B` means suites that are both A and B; `@STRENGTH`, `@SECLEVEL=n` and `+X`
//! only reorder in OpenSSL and are ignored. Every suite rustls offers is strong, so exclusions
//! of weak families (`!aNULL`, `!MD5`, `!RC4`, ...) have nothing to remove. A name with no
//! rustls equivalent is an error naming it.

use rustls::SupportedCipherSuite;
use rustls::crypto::ring::cipher_suite as cs;

/// Which suites a list may name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// TLS 1.2 suites (`ciphers`).
    Tls12,
    /// TLS 1.3 suites (`ciphers_tls1.3`).
    Tls13,
    /// Both (the clients' `--ciphers`).
    Any,
}

/// A cipher list that does not select what it says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CipherError {
    /// A name or alias rustls has nothing for.
    #[error("cipher '{name}' is not available (rustls offers: {offered})")]
    Unknown {
        /// The name as written.
        name: String,
        /// The names that would work.
        offered: String,
    },
    /// A suite of the other TLS version.
    #[error("cipher '{name}' is a TLS {version} suite; {hint}")]
    WrongFamily {
        /// The name.
        name: String,
        /// Its TLS version.
        version: &'static str,
        /// Which option takes it.
        hint: &'static str,
    },
    /// Nothing left after the exclusions.
    #[error("cipher list '{0}' selects no cipher suite")]
    Empty(String),
}

/// One suite: OpenSSL's name, its IANA name, and what aliases it belongs to.
struct Entry {
    openssl: &'static str,
    iana: &'static str,
    suite: SupportedCipherSuite,
    tags: &'static [&'static str],
}

const ENTRIES: &[Entry] = &[
    Entry {
        openssl: "TLS_AES_256_GCM_SHA384",
        iana: "TLS_AES_256_GCM_SHA384",
        suite: cs::TLS13_AES_256_GCM_SHA384,
        tags: &["TLSv1.3", "AES", "AES256", "AESGCM", "SHA384"],
    },
    Entry {
        openssl: "TLS_CHACHA20_POLY1305_SHA256",
        iana: "TLS_CHACHA20_POLY1305_SHA256",
        suite: cs::TLS13_CHACHA20_POLY1305_SHA256,
        tags: &["TLSv1.3", "CHACHA20", "SHA256"],
    },
    Entry {
        openssl: "TLS_AES_128_GCM_SHA256",
        iana: "TLS_AES_128_GCM_SHA256",
        suite: cs::TLS13_AES_128_GCM_SHA256,
        tags: &["TLSv1.3", "AES", "AES128", "AESGCM", "SHA256"],
    },
    Entry {
        openssl: "ECDHE-ECDSA-AES256-GCM-SHA384",
        iana: "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        suite: cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        tags: &[
            "TLSv1.2", "ECDHE", "ECDSA", "AES", "AES256", "AESGCM", "SHA384",
        ],
    },
    Entry {
        openssl: "ECDHE-RSA-AES256-GCM-SHA384",
        iana: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        suite: cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        tags: &[
            "TLSv1.2", "ECDHE", "aRSA", "AES", "AES256", "AESGCM", "SHA384",
        ],
    },
    Entry {
        openssl: "ECDHE-ECDSA-CHACHA20-POLY1305",
        iana: "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        suite: cs::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        tags: &["TLSv1.2", "ECDHE", "ECDSA", "CHACHA20", "SHA256"],
    },
    Entry {
        openssl: "ECDHE-RSA-CHACHA20-POLY1305",
        iana: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        suite: cs::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        tags: &["TLSv1.2", "ECDHE", "aRSA", "CHACHA20", "SHA256"],
    },
    Entry {
        openssl: "ECDHE-ECDSA-AES128-GCM-SHA256",
        iana: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        suite: cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        tags: &[
            "TLSv1.2", "ECDHE", "ECDSA", "AES", "AES128", "AESGCM", "SHA256",
        ],
    },
    Entry {
        openssl: "ECDHE-RSA-AES128-GCM-SHA256",
        iana: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        suite: cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        tags: &[
            "TLSv1.2", "ECDHE", "aRSA", "AES", "AES128", "AESGCM", "SHA256",
        ],
    },
];

/// Aliases that mean "every suite" (all of rustls's are in OpenSSL's DEFAULT and HIGH).
const EVERYTHING: &[&str] = &["ALL", "DEFAULT", "HIGH", "COMPLEMENTOFALL", "SECURE"];

/// OpenSSL names for families rustls has none of; selecting them selects nothing, excluding
/// them excludes nothing.
const ABSENT: &[&str] = &[
    "aNULL",
    "eNULL",
    "NULL",
    "COMPLEMENTOFDEFAULT",
    "LOW",
    "MEDIUM",
    "EXPORT",
    "EXP",
    "MD5",
    "RC4",
    "DES",
    "3DES",
    "SSLv2",
    "SSLv3",
    "PSK",
    "SRP",
    "DSS",
    "aDSS",
    "CAMELLIA",
    "SEED",
    "IDEA",
    "ADH",
    "AECDH",
    "kRSA",
    "RSAPSK",
    "DH",
    "DHE",
    "EDH",
    "kDHE",
    "kEDH",
    "aPSK",
    "SHA1",
    "SHA",
    "ARIA",
    "CCM",
    "CCM8",
    "AESCCM",
    "AESCCM8",
    "kPSK",
    "kECDHEPSK",
    "kDHEPSK",
];

/// Aliases spelled differently in OpenSSL that mean one of the tags above.
fn canonical_tag(alias: &str) -> &str {
    match alias {
        "EECDH" | "kEECDH" | "kECDHE" => "ECDHE",
        "aECDSA" => "ECDSA",
        "RSA" => "aRSA",
        "CHACHA20-POLY1305" => "CHACHA20",
        other => other,
    }
}

fn in_family(e: &Entry, family: Family) -> bool {
    match family {
        Family::Any => true,
        Family::Tls12 => e.tags.contains(&"TLSv1.2"),
        Family::Tls13 => e.tags.contains(&"TLSv1.3"),
    }
}

/// The entries one term (a name, an alias, or `A+B`) selects; `None` when it is unknown.
fn select(term: &str, family: Family) -> Result<Vec<usize>, CipherError> {
    let mut chosen: Option<Vec<usize>> = None;
    for part in term.split('+').filter(|p| !p.is_empty()) {
        let matching: Vec<usize> = if let Some(i) = ENTRIES
            .iter()
            .position(|e| e.openssl.eq_ignore_ascii_case(part) || e.iana.eq_ignore_ascii_case(part))
        {
            let e = &ENTRIES[i];
            if !in_family(e, family) {
                let (version, hint) = if e.tags.contains(&"TLSv1.3") {
                    ("1.3", "list it in ciphers_tls1.3")
                } else {
                    ("1.2", "list it in ciphers, not ciphers_tls1.3")
                };
                return Err(CipherError::WrongFamily {
                    name: part.to_string(),
                    version,
                    hint,
                });
            }
            vec![i]
        } else if EVERYTHING.contains(&part) {
            (0..ENTRIES.len()).collect()
        } else if ABSENT.contains(&part) {
            Vec::new()
        } else {
            let tag = canonical_tag(part);
            let tagged: Vec<usize> = (0..ENTRIES.len())
                .filter(|&i| ENTRIES[i].tags.contains(&tag))
                .collect();
            if tagged.is_empty() {
                return Err(unknown(part, family));
            }
            tagged
        };
        chosen = Some(match chosen {
            None => matching,
            Some(prev) => prev.into_iter().filter(|i| matching.contains(i)).collect(),
        });
    }
    Ok(chosen
        .unwrap_or_default()
        .into_iter()
        .filter(|&i| in_family(&ENTRIES[i], family))
        .collect())
}

fn unknown(name: &str, family: Family) -> CipherError {
    let offered: Vec<&str> = ENTRIES
        .iter()
        .filter(|e| in_family(e, family))
        .map(|e| e.openssl)
        .collect();
    CipherError::Unknown {
        name: name.to_string(),
        offered: offered.join(":"),
    }
}

/// The suites `list` selects, in its order.
pub fn parse(list: &str, family: Family) -> Result<Vec<SupportedCipherSuite>, CipherError> {
    let mut chosen: Vec<usize> = Vec::new();
    let mut removed: Vec<usize> = Vec::new();
    for term in list
        .split([':', ',', ' '])
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        if term.starts_with('@') || term.starts_with('+') {
            continue;
        }
        if let Some(excluded) = term.strip_prefix('!').or_else(|| term.strip_prefix('-')) {
            // Excluding a suite of the other version, or one rustls never offers, is harmless,
            // as in OpenSSL.
            let gone = select(excluded, Family::Any).unwrap_or_default();
            chosen.retain(|i| !gone.contains(i));
            if term.starts_with('!') {
                removed.extend(gone);
            }
            continue;
        }
        for i in select(term, family)? {
            if !chosen.contains(&i) && !removed.contains(&i) {
                chosen.push(i);
            }
        }
    }
    if chosen.is_empty() {
        return Err(CipherError::Empty(list.to_string()));
    }
    Ok(chosen.into_iter().map(|i| ENTRIES[i].suite).collect())
}

/// rustls's suites of one family, in its preference order (the default).
pub fn defaults(family: Family) -> Vec<SupportedCipherSuite> {
    let all = rustls::crypto::ring::default_provider().cipher_suites;
    all.into_iter()
        .filter(|s| {
            matches!(
                (family, s),
                (Family::Any, _)
                    | (Family::Tls13, SupportedCipherSuite::Tls13(_))
                    | (Family::Tls12, SupportedCipherSuite::Tls12(_))
            )
        })
        .collect()
}

/// The ring crypto provider with the suites the lists choose (each with the family it may
/// name); a TLS version no list names a suite of keeps rustls's defaults for it, as OpenSSL
/// keeps its TLS 1.3 suites whatever the TLS 1.2 cipher list says.
pub fn provider(lists: &[(&str, Family)]) -> Result<rustls::crypto::CryptoProvider, CipherError> {
    let mut chosen: Vec<SupportedCipherSuite> = Vec::new();
    for (list, family) in lists {
        chosen.extend(parse(list, *family)?);
    }
    let is13 = |s: &SupportedCipherSuite| matches!(s, SupportedCipherSuite::Tls13(_));
    let mut suites: Vec<SupportedCipherSuite> = chosen.iter().copied().filter(is13).collect();
    if suites.is_empty() {
        suites = defaults(Family::Tls13);
    }
    let tls12: Vec<SupportedCipherSuite> = chosen.iter().copied().filter(|s| !is13(s)).collect();
    if tls12.is_empty() {
        suites.extend(defaults(Family::Tls12));
    } else {
        suites.extend(tls12);
    }
    Ok(rustls::crypto::CryptoProvider {
        cipher_suites: suites,
        ..rustls::crypto::ring::default_provider()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &str, family: Family) -> Result<Vec<String>, CipherError> {
        parse(list, family).map(|v| v.iter().map(|s| format!("{:?}", s.suite())).collect())
    }

    #[test]
    fn openssl_names_map_to_rustls_suites() {
        let got = names(
            "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256",
            Family::Tls12,
        )
        .unwrap();
        assert_eq!(
            got,
            [
                "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
            ]
        );
        let got = names("TLS_AES_128_GCM_SHA256", Family::Tls13).unwrap();
        assert_eq!(got, ["TLS13_AES_128_GCM_SHA256"]);
    }

    #[test]
    fn common_openssl_lists_work() {
        // mosquitto.conf examples and OpenSSL's defaults.
        for list in [
            "DEFAULT:!aNULL:!eNULL:!LOW:!EXPORT:!SSLv2:@STRENGTH",
            "HIGH:!aNULL:!MD5:!RC4",
            "ECDHE+AESGCM:ECDHE+CHACHA20",
            "EECDH+AESGCM:EDH+AESGCM",
        ] {
            assert!(!parse(list, Family::Tls12).unwrap().is_empty(), "{list}");
        }
        let got = names("ECDHE+AESGCM:!ECDSA", Family::Tls12).unwrap();
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got.iter().all(|n| n.contains("RSA")), "{got:?}");
    }

    #[test]
    fn a_name_without_equivalent_is_an_error_naming_it() {
        let e = parse("ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA", Family::Tls12).unwrap_err();
        assert!(
            matches!(&e, CipherError::Unknown { name, .. } if name == "AES128-SHA"),
            "{e}"
        );
        assert!(e.to_string().contains("'AES128-SHA'"), "{e}");
        let e = parse("TLS_AES_128_CCM_SHA256", Family::Tls13).unwrap_err();
        assert!(e.to_string().contains("TLS_AES_128_CCM_SHA256"), "{e}");
        let e = parse("TLS_AES_128_GCM_SHA256", Family::Tls12).unwrap_err();
        assert!(e.to_string().contains("ciphers_tls1.3"), "{e}");
        let e = parse("aNULL", Family::Tls12).unwrap_err();
        assert_eq!(e, CipherError::Empty("aNULL".into()));
    }

    #[test]
    fn a_family_without_a_list_keeps_its_defaults() {
        let p = provider(&[("ECDHE-RSA-AES128-GCM-SHA256", Family::Any)]).unwrap();
        let tls13 = p
            .cipher_suites
            .iter()
            .filter(|s| matches!(s, SupportedCipherSuite::Tls13(_)))
            .count();
        assert_eq!((p.cipher_suites.len(), tls13), (4, 3));
        let p = provider(&[]).unwrap();
        assert_eq!(p.cipher_suites.len(), 9);
    }
}
