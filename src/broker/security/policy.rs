//! The access policy a config asks for: password files, ACL files, `allow_anonymous` and
//! certificate identities, for the whole broker or (with `per_listener_settings true`) per
//! listener, plugged into the router through [`Access`].
//!
//! Every listener gets its own [`Authenticator`], because `use_identity_as_username` is always a
//! listener option; without `per_listener_settings` they all read the same files, so any of
//! them answers topic checks. With it, topic checks go to the authenticator of the listener the
//! client connected through.

use super::access::{Access, AllowAll, ConnectInfo};
use super::authenticator::{AuthConfig, Authenticator};
use crate::broker::config::{Config, ListenerConfig};
use crate::protocol::ReasonCode;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// The authentication settings of each listener in `listeners` (the effective listener list
/// of `config`), as the files and flags of `config` decide them.
pub fn auth_configs(config: &Config, listeners: &[ListenerConfig]) -> Vec<AuthConfig> {
    listeners
        .iter()
        .map(|l| {
            let (allow_anonymous, password_file, acl_file) = if config.per_listener_settings {
                (
                    l.security.allow_anonymous.unwrap_or(config.allow_anonymous),
                    l.security.password_file.clone(),
                    l.security.acl_file.clone(),
                )
            } else {
                (
                    config.allow_anonymous,
                    config.password_file.clone(),
                    config.acl_file.clone(),
                )
            };
            AuthConfig {
                allow_anonymous,
                password_file,
                acl_file,
                use_identity_as_username: l.use_identity_as_username || l.use_subject_as_username,
            }
        })
        .collect()
}

/// True when `configs` leave every client and topic open, so the router can skip all checks.
fn open(configs: &[AuthConfig]) -> bool {
    configs.iter().all(|c| {
        c.allow_anonymous
            && c.password_file.is_none()
            && c.acl_file.is_none()
            && !c.use_identity_as_username
    })
}

/// Why the access policy could not be built: a password or ACL file, with file, line, reason.
pub type SecurityError = super::authenticator::AuthError;

/// The policy the router calls, and the same policy as a [`Security`] when it is one (for
/// SIGHUP reloads).
pub type Policy = (Arc<dyn Access>, Option<Arc<Security>>);

/// The policy for a config: [`AllowAll`] when it sets nothing, else a [`Security`].
pub fn policy(config: &Config, listeners: &[ListenerConfig]) -> Result<Policy, SecurityError> {
    let configs = auth_configs(config, listeners);
    if open(&configs) {
        return Ok((Arc::new(AllowAll), None));
    }
    let security = Arc::new(Security::new(configs, config.per_listener_settings)?);
    Ok((security.clone(), Some(security)))
}

/// Password, ACL and certificate checks per listener.
#[derive(Debug)]
pub struct Security {
    /// One per listener, by listener index.
    auths: Vec<Arc<Authenticator>>,
    /// Topic checks go to the client's own listener.
    per_listener: bool,
    /// The listener each client id last connected through (only with `per_listener`).
    owners: Mutex<HashMap<String, usize>>,
    /// Settings from a re-read config file, applied by the next [`Access::reload`].
    staged: Mutex<Option<Vec<AuthConfig>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The maps stay consistent across a panic: every update is a single insert or swap.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Security {
    /// Loads every listener's files; errors name the file, line and reason.
    pub fn new(configs: Vec<AuthConfig>, per_listener: bool) -> Result<Security, SecurityError> {
        let auths = configs
            .into_iter()
            .map(|c| Authenticator::new(c).map(Arc::new))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Security {
            auths,
            per_listener,
            owners: Mutex::new(HashMap::new()),
            staged: Mutex::new(None),
        })
    }

    /// Remembers the settings of a re-read config for the next reload.
    pub fn stage(&self, configs: Vec<AuthConfig>) {
        *lock(&self.staged) = Some(configs);
    }

    /// The authenticator that decides topic access for `client_id`.
    fn for_client(&self, client_id: &str) -> Option<&Authenticator> {
        let index = if self.per_listener {
            *lock(&self.owners).get(client_id)?
        } else {
            0
        };
        self.auths.get(index).map(|a| &**a)
    }

    /// Loads every new setting first, so that one broken file leaves all listeners on their
    /// old rules, then swaps them in.
    fn apply(&self, configs: Vec<AuthConfig>) -> Result<(), String> {
        if configs.len() != self.auths.len() {
            return Err("the listeners changed; restart the broker to apply that".into());
        }
        for c in &configs {
            Authenticator::new(c.clone()).map_err(|e| e.to_string())?;
        }
        for (auth, c) in self.auths.iter().zip(configs) {
            auth.reconfigure(c).map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

impl Access for Security {
    fn check_connect(&self, info: &ConnectInfo<'_>) -> Result<Option<String>, ReasonCode> {
        let auth = self
            .auths
            .get(info.listener)
            .ok_or(ReasonCode::UnspecifiedError)?;
        let user = auth.check_connect(
            info.client_id,
            info.username,
            info.password,
            info.cert_identity,
        )?;
        if self.per_listener {
            lock(&self.owners).insert(info.client_id.to_string(), info.listener);
        }
        Ok(user)
    }

    fn can_write(&self, client_id: &str, username: Option<&str>, topic: &str) -> bool {
        self.for_client(client_id)
            .is_some_and(|a| a.can_write(client_id, username, topic))
    }

    fn can_read(&self, client_id: &str, username: Option<&str>, topic: &str) -> bool {
        self.for_client(client_id)
            .is_some_and(|a| a.can_read(client_id, username, topic))
    }

    fn may_subscribe(&self, client_id: &str, username: Option<&str>, filter: &str) -> bool {
        self.for_client(client_id)
            .is_some_and(|a| a.may_subscribe(client_id, username, filter))
    }

    fn warnings(&self) -> Vec<String> {
        let mut all: Vec<String> = Vec::new();
        // Without per-listener settings every listener reads the same file: say it once.
        for w in self.auths.iter().flat_map(|a| a.warnings()) {
            if !all.contains(&w) {
                all.push(w);
            }
        }
        all
    }

    fn reload(&self) -> Result<(), String> {
        let staged = lock(&self.staged).take();
        let configs = staged.unwrap_or_else(|| self.auths.iter().map(|a| a.config()).collect());
        self.apply(configs)
            .map_err(|e| format!("{e} (keeping the previous password and ACL rules)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn parse(text: &str) -> Config {
        Config::parse_str(text, Path::new("t.conf")).unwrap()
    }

    #[test]
    fn open_config_gets_allow_all() {
        let c = Config::default();
        let (access, sec) = policy(&c, &c.effective_listeners(&[])).unwrap();
        assert!(access.allows_everything() && sec.is_none());
    }

    #[test]
    fn listeners_in_a_file_refuse_anonymous_by_default() {
        let c = parse("listener 1884\n");
        let (access, _) = policy(&c, &c.listeners).unwrap();
        let info = ConnectInfo {
            listener: 0,
            client_id: "c",
            username: None,
            password: None,
            cert_identity: None,
        };
        assert_eq!(access.check_connect(&info), Err(ReasonCode::NotAuthorized));
    }

    #[test]
    fn per_listener_settings_give_each_listener_its_own_rules() {
        let dir = tempfile::tempdir().unwrap();
        let acl = dir.path().join("acl");
        std::fs::write(&acl, "topic read open/#\n").unwrap();
        let c = parse(&format!(
            "per_listener_settings true\nlistener 1\nallow_anonymous true\n\
             listener 2\nallow_anonymous true\nacl_file {}\n",
            acl.display()
        ));
        let (access, _) = policy(&c, &c.listeners).unwrap();
        for (listener, id) in [(0, "free"), (1, "ruled")] {
            let info = ConnectInfo {
                listener,
                client_id: id,
                username: None,
                password: None,
                cert_identity: None,
            };
            assert_eq!(access.check_connect(&info), Ok(None));
        }
        assert!(access.can_read("free", None, "x"));
        assert!(!access.can_read("ruled", None, "x"));
        assert!(access.can_read("ruled", None, "open/1"));
        assert!(!access.can_read("never-connected", None, "open/1"));
    }
}
