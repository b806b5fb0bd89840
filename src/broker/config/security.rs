//! Parsing of the security options: `allow_anonymous`, `password_file`, `acl_file`,
//! `per_listener_settings` and the listener TLS options, plus the checks that need the whole
//! file (mosquitto 2.0's `allow_anonymous` default, complete TLS option sets).

use super::{ConfigError, Parser, boolean, word};
use crate::broker::security::tls::{ListenerTls, MinTlsVersion};
use std::path::{Path, PathBuf};

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

    /// The listener TLS options and `use_identity_as_username` (always per listener).
    pub(super) fn tls(&mut self, name: &str, value: &str) -> Result<(), String> {
        let l = self.listener_or_default();
        if name == "use_identity_as_username" {
            l.use_identity_as_username = boolean(name, value)?;
            return Ok(());
        }
        let tls = l.tls.get_or_insert_with(ListenerTls::default);
        match name {
            "certfile" => tls.certfile = PathBuf::from(word(name, value)?),
            "keyfile" => tls.keyfile = PathBuf::from(word(name, value)?),
            "cafile" => tls.cafile = Some(PathBuf::from(word(name, value)?)),
            "capath" => tls.capath = Some(PathBuf::from(word(name, value)?)),
            "require_certificate" => tls.require_certificate = boolean(name, value)?,
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
                None if l.use_identity_as_username => {
                    Some("use_identity_as_username needs a TLS listener with require_certificate")
                }
                Some(t) if l.use_identity_as_username && !t.require_certificate => {
                    Some("use_identity_as_username needs require_certificate true")
                }
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
        Ok(())
    }
}
