//! Parsing of the security options: `allow_anonymous`, `password_file`, `acl_file`,
//! `per_listener_settings` and the listener TLS options, plus the checks that need the whole
//! file (mosquitto 2.0's `allow_anonymous` default, complete TLS option sets).

use super::{ConfigError, Parser, boolean, word};
use crate::broker::security::tls::{ListenerTls, MinTlsVersion};
use crate::tls::PSK_UNSUPPORTED;
use crate::tls::ciphers::Family;
use std::path::{Path, PathBuf};

/// A cipher list, checked now so that a name rustls lacks is reported with its line.
fn cipher_list(name: &str, value: &str, family: Family) -> Result<String, String> {
    crate::tls::ciphers::parse(value, family).map_err(|e| format!("{name}: {e}"))?;
    Ok(value.to_string())
}

impl Parser<'_> {
    /// `allow_anonymous`, `password_file`, `acl_file`: global, or the current listener's with
    /// `per_listener_settings true`.
    pub(super) fn security(&mut self, name: &str, value: &str) -> Result<(), String> {
        if name == "per_listener_settings" {
            if !self.config.listeners.is_empty() || self.anonymous_seen || self.security_seen {
                return Err(
                    "per_listener_settings must come before listeners and security options".into(),
                );
            }
            self.config.per_listener_settings = boolean(name, value)?;
            return Ok(());
        }
        let per_listener = self.config.per_listener_settings;
        if !per_listener && name == "allow_anonymous" {
            self.config.allow_anonymous = boolean(name, value)?;
            self.anonymous_seen = true;
            return Ok(());
        }
        let sec = if per_listener {
            &mut self.listener_or_default().security
        } else {
            self.security_seen = true;
            let c = &mut *self.config;
            let path = PathBuf::from(word(name, value)?);
            match name {
                "password_file" => c.password_file = Some(path),
                _ => c.acl_file = Some(path),
            }
            return Ok(());
        };
        match name {
            "allow_anonymous" => sec.allow_anonymous = Some(boolean(name, value)?),
            "password_file" => sec.password_file = Some(PathBuf::from(word(name, value)?)),
            _ => sec.acl_file = Some(PathBuf::from(word(name, value)?)),
        }
        Ok(())
    }

    /// The listener TLS options, `use_identity_as_username` and `use_subject_as_username`
    /// (always per listener).
    pub(super) fn tls(&mut self, name: &str, value: &str) -> Result<(), String> {
        let l = self.listener_or_default();
        match name {
            "use_identity_as_username" => {
                l.use_identity_as_username = boolean(name, value)?;
                return Ok(());
            }
            "use_subject_as_username" => {
                l.use_subject_as_username = boolean(name, value)?;
                return Ok(());
            }
            "psk_hint" | "psk_file" => return Err(format!("{name}: {PSK_UNSUPPORTED}")),
            // rustls has no finite-field Diffie-Hellman suites: its ECDHE suites give the
            // forward secrecy dhparamfile is for, so the file changes nothing.
            "dhparamfile" => return word(name, value).map(|_| ()),
            _ => {}
        }
        let tls = l.tls.get_or_insert_with(ListenerTls::default);
        let path = || word(name, value).map(PathBuf::from);
        match name {
            "certfile" => tls.certfile = path()?,
            "keyfile" => tls.keyfile = path()?,
            "cafile" => tls.cafile = Some(path()?),
            "capath" => tls.capath = Some(path()?),
            "crlfile" => tls.crlfile = Some(path()?),
            "tls_keylog" => tls.keylog = Some(path()?),
            "require_certificate" => tls.require_certificate = boolean(name, value)?,
            "ciphers" => tls.ciphers = Some(cipher_list(name, value, Family::Tls12)?),
            "ciphers_tls1.3" => tls.ciphers_tls13 = Some(cipher_list(name, value, Family::Tls13)?),
            _ => {
                tls.tls_version = MinTlsVersion::parse(value).map_err(|_| {
                    format!("invalid tls_version value '{value}' (expected tlsv1.2 or tlsv1.3)")
                })?
            }
        }
        Ok(())
    }

    /// Checks that need the whole file: TLS option sets, and mosquitto 2.0's
    /// `allow_anonymous` default (false once the file defines a listener).
    pub(super) fn finish(&mut self, file: &Path) -> Result<(), ConfigError> {
        let c = &mut *self.config;
        if !self.anonymous_seen && !c.listeners.is_empty() {
            c.allow_anonymous = false;
        }
        for l in &c.listeners {
            let problem = match &l.tls {
                Some(t)
                    if t.certfile.as_os_str().is_empty() || t.keyfile.as_os_str().is_empty() =>
                {
                    Some("both certfile and keyfile must be given for a TLS listener")
                }
                Some(t) if t.require_certificate && t.cafile.is_none() && t.capath.is_none() => {
                    Some("require_certificate needs cafile or capath")
                }
                // Without require_certificate a client may come without a certificate; it is
                // then refused at CONNECT (bad username or password), as with mosquitto.
                None if l.use_identity_as_username || l.use_subject_as_username => Some(
                    "use_identity_as_username and use_subject_as_username need a TLS listener \
                     (certfile and keyfile)",
                ),
                _ => None,
            };
            if let Some(p) = problem.or_else(|| super::web::problem(l)) {
                return Err(ConfigError {
                    file: file.to_path_buf(),
                    line: 0,
                    message: format!("listener on port {}: {p}", l.port),
                });
            }
        }
        self.finish_bridges()
    }
}
