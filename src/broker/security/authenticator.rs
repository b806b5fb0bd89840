//! Who may connect and what they may do: `allow_anonymous`, `password_file`, `acl_file` and
//! `use_identity_as_username`, combined the way mosquitto 2.0 combines them.
//!
//! One [`Authenticator`] serves all listeners, or one per listener with
//! `per_listener_settings true`. It is shared behind an `Arc`; [`Authenticator::reload`] (on
//! SIGHUP) swaps in freshly read files atomically, or keeps the old ones when the new ones are
//! broken, so connected clients keep working and lose a revoked permission from their next
//! message on.

use super::acl::{Acl, AclError, Operation};
use super::password::{PasswordFile, PasswordFileError};
use crate::protocol::ReasonCode;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

/// The configuration keys that decide authentication and authorisation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthConfig {
    /// `allow_anonymous`: clients without a username may connect.
    pub allow_anonymous: bool,
    /// `password_file`: mosquitto password file; without it, usernames are not checked.
    pub password_file: Option<PathBuf>,
    /// `acl_file`: mosquitto ACL file; without it, every topic is open.
    pub acl_file: Option<PathBuf>,
    /// `use_identity_as_username`: the client certificate's CN is the username, and no
    /// password is checked.
    pub use_identity_as_username: bool,
}

/// A password or ACL file that could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The password file.
    #[error(transparent)]
    Password(#[from] PasswordFileError),
    /// The ACL file.
    #[error(transparent)]
    Acl(#[from] AclError),
}

/// The loaded files, replaced as a whole on reload.
#[derive(Debug)]
struct State {
    config: AuthConfig,
    passwords: Option<PasswordFile>,
    acl: Option<Acl>,
}

impl State {
    fn load(config: AuthConfig) -> Result<State, AuthError> {
        let passwords = match &config.password_file {
            Some(p) => Some(PasswordFile::load(p)?),
            None => None,
        };
        let acl = match &config.acl_file {
            Some(p) => Some(Acl::load(p)?),
            None => None,
        };
        Ok(State {
            config,
            passwords,
            acl,
        })
    }
}

/// Decides CONNECTs and topic access for one listener (or all of them).
#[derive(Debug)]
pub struct Authenticator {
    state: RwLock<Arc<State>>,
}

impl Authenticator {
    /// Loads the files `config` names. Errors name the file, line and reason, for the broker to
    /// print before refusing to start.
    pub fn new(config: AuthConfig) -> Result<Authenticator, AuthError> {
        Ok(Authenticator {
            state: RwLock::new(Arc::new(State::load(config)?)),
        })
    }

    fn current(&self) -> Arc<State> {
        // A poisoned lock still holds a complete state: the swap is a single assignment.
        match self.state.read() {
            Ok(s) => Arc::clone(&s),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Re-reads the same files (SIGHUP). On error the old state stays in force.
    pub fn reload(&self) -> Result<(), AuthError> {
        let config = self.current().config.clone();
        self.reconfigure(config)
    }

    /// Switches to a new configuration (SIGHUP with an edited config file). On error the old
    /// state stays in force.
    pub fn reconfigure(&self, config: AuthConfig) -> Result<(), AuthError> {
        let fresh = Arc::new(State::load(config)?);
        match self.state.write() {
            Ok(mut s) => *s = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
        Ok(())
    }

    /// The unusable lines of the password file in force.
    pub fn warnings(&self) -> Vec<String> {
        let state = self.current();
        let problems = state.passwords.as_ref().map(PasswordFile::problems);
        problems
            .unwrap_or_default()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    /// The configuration in force.
    pub fn config(&self) -> AuthConfig {
        self.current().config.clone()
    }

    /// Decides a CONNECT. `Ok(username)` is the name the client is known by from now on (for
    /// ACL checks): the certificate's CN with `use_identity_as_username`, else the CONNECT's
    /// username; `None` for an anonymous client.
    ///
    /// Refusals: [`ReasonCode::NotAuthorized`] (3.1.1 CONNACK 5) for an anonymous client when
    /// `allow_anonymous` is false, a username with no password file to check it against, an
    /// unknown user or a wrong or missing password (as mosquitto 2.0);
    /// [`ReasonCode::BadUserNameOrPassword`] (3.1.1 CONNACK 4) for a missing certificate identity.
    ///
    /// This hashes the password (PBKDF2: up to hundreds of milliseconds for files written by
    /// mosquitto 2.1), so async callers run it on a blocking thread: see
    /// [`Authenticator::check_connect_blocking`].
    pub fn check_connect(
        &self,
        client_id: &str,
        username: Option<&str>,
        password: Option<&[u8]>,
        cert_identity: Option<&str>,
    ) -> Result<Option<String>, ReasonCode> {
        let _ = client_id; // Part of the interface for plugins and logs; no check uses it.
        let state = self.current();
        if state.config.use_identity_as_username {
            return match cert_identity {
                Some(cn) => Ok(Some(cn.to_string())),
                None => Err(ReasonCode::BadUserNameOrPassword),
            };
        }
        let Some(user) = username else {
            return if state.config.allow_anonymous {
                Ok(None)
            } else {
                Err(ReasonCode::NotAuthorized)
            };
        };
        match &state.passwords {
            Some(file) => {
                // A missing password still costs a hash, like a missing user.
                let ok = file.verify(user, password.unwrap_or(b"")) && password.is_some();
                // mosquitto 2.0 answers a wrong or missing password "not authorized" (5).
                if ok {
                    Ok(Some(user.to_string()))
                } else {
                    Err(ReasonCode::NotAuthorized)
                }
            }
            // mosquitto 2.0: with no password file a username is taken at its word when
            // anonymous clients are welcome anyway, and refused otherwise.
            None if state.config.allow_anonymous => Ok(Some(user.to_string())),
            None => Err(ReasonCode::NotAuthorized),
        }
    }

    /// [`Authenticator::check_connect`] on tokio's blocking pool, so that a brute force of
    /// expensive password hashes does not stall the runtime threads serving other clients.
    pub async fn check_connect_blocking(
        self: &Arc<Self>,
        client_id: String,
        username: Option<String>,
        password: Option<Vec<u8>>,
        cert_identity: Option<String>,
    ) -> Result<Option<String>, ReasonCode> {
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            this.check_connect(
                &client_id,
                username.as_deref(),
                password.as_deref(),
                cert_identity.as_deref(),
            )
        })
        .await
        .unwrap_or(Err(ReasonCode::UnspecifiedError))
    }

    /// True when the client may receive a message published to `topic` (checked per message
    /// at delivery, and for each retained message sent on subscribe).
    pub fn can_read(&self, client_id: &str, username: Option<&str>, topic: &str) -> bool {
        match &self.current().acl {
            Some(acl) => acl.check(client_id, username, topic, Operation::Read),
            None => true,
        }
    }

    /// True when some topic matching `filter` is one the client may read (checked on
    /// SUBSCRIBE; without an ACL file, every filter).
    pub fn may_subscribe(&self, client_id: &str, username: Option<&str>, filter: &str) -> bool {
        match &self.current().acl {
            Some(acl) => acl.may_read_some(client_id, username, filter),
            None => true,
        }
    }

    /// True when the client may publish to `topic` (checked on PUBLISH, and for a will when it
    /// is sent). Like mosquitto, nobody publishes into `$SYS` (except a bridge's
    /// `$SYS/broker/connection/+/state`) or to a `$share/` name, ACL file or not.
    pub fn can_write(&self, client_id: &str, username: Option<&str>, topic: &str) -> bool {
        if !crate::broker::sys::client_may_publish(topic) {
            return false;
        }
        if topic.starts_with("$share") {
            return false;
        }
        match &self.current().acl {
            Some(acl) => acl.check(client_id, username, topic, Operation::Write),
            None => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    const ALICE: &str = "alice:$7$101$I6BmT2mWlBkdVcTY$BI+zdXjNh2q6dLSC/+giQ/8af3FwnYvOY7bEs9utKeaYNTGCcpaBzlUtFzYPgvdSFxdBGfbF//+Lw8hSqTSPsQ==\n";

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    fn auth(anon: bool, pw: Option<&tempfile::NamedTempFile>) -> Authenticator {
        Authenticator::new(AuthConfig {
            allow_anonymous: anon,
            password_file: pw.map(|f| f.path().to_path_buf()),
            ..AuthConfig::default()
        })
        .unwrap()
    }

    type Outcome = Result<Option<String>, ReasonCode>;

    #[test]
    fn connect_decisions_match_mosquitto() {
        use ReasonCode::NotAuthorized as NotAuth;
        let pw = file(ALICE);
        let ok = |u: &str| -> Outcome { Ok(Some(u.to_string())) };
        type Case<'a> = (Authenticator, Option<&'a str>, Option<&'a [u8]>, Outcome);
        let cases: Vec<Case> = vec![
            (auth(false, Some(&pw)), None, None, Err(NotAuth)),
            (
                auth(false, Some(&pw)),
                Some("alice"),
                Some(b"secret"),
                ok("alice"),
            ),
            (
                auth(false, Some(&pw)),
                Some("alice"),
                Some(b"wrong"),
                Err(NotAuth),
            ),
            (auth(false, Some(&pw)), Some("alice"), None, Err(NotAuth)),
            (
                auth(false, Some(&pw)),
                Some("bob"),
                Some(b"secret"),
                Err(NotAuth),
            ),
            (auth(true, Some(&pw)), None, None, Ok(None)),
            (
                auth(true, Some(&pw)),
                Some("alice"),
                Some(b"wrong"),
                Err(NotAuth),
            ),
            (auth(true, None), Some("anyone"), Some(b"x"), ok("anyone")),
            (auth(false, None), Some("anyone"), Some(b"x"), Err(NotAuth)),
            (auth(false, None), None, None, Err(NotAuth)),
        ];
        for (i, (a, user, pass, want)) in cases.into_iter().enumerate() {
            assert_eq!(a.check_connect("c", user, pass, None), want, "case {i}");
        }
        assert_eq!(ReasonCode::NotAuthorized.to_v3_connack(), 5);
        assert_eq!(ReasonCode::BadUserNameOrPassword.to_v3_connack(), 4);
    }

    #[test]
    fn certificate_identity_replaces_the_username() {
        let pw = file(ALICE);
        let a = Authenticator::new(AuthConfig {
            allow_anonymous: false,
            password_file: Some(pw.path().to_path_buf()),
            use_identity_as_username: true,
            ..AuthConfig::default()
        })
        .unwrap();
        let got = a.check_connect("c", Some("alice"), Some(b"wrong"), Some("device7"));
        assert_eq!(got, Ok(Some("device7".into())));
        let got = a.check_connect("c", None, None, None);
        assert_eq!(got, Err(ReasonCode::BadUserNameOrPassword));
    }

    #[test]
    fn acl_checks_and_sys_protection() {
        let acl = file("topic read pub/#\nuser alice\ntopic alice/#\n");
        let a = Authenticator::new(AuthConfig {
            allow_anonymous: true,
            acl_file: Some(acl.path().to_path_buf()),
            ..AuthConfig::default()
        })
        .unwrap();
        assert!(a.can_read("c", None, "pub/x"));
        assert!(!a.can_write("c", None, "pub/x"));
        assert!(a.can_write("c", Some("alice"), "alice/x"));
        assert!(!a.can_read("c", Some("alice"), "pub/x"));
        let open = auth(true, None);
        assert!(open.can_read("c", None, "anything"));
        assert!(open.can_write("c", None, "anything"));
        assert!(!open.can_write("c", None, "$SYS/broker/uptime"));
        assert!(open.can_write("c", None, "$SYS/broker/connection/b1/state"));
        assert!(!open.can_write("c", None, "$share/g/t"));
        assert!(open.can_read("c", None, "$SYS/broker/uptime"));
    }

    #[test]
    fn reload_picks_up_changes_and_keeps_old_state_on_error() {
        let dir = tempfile::tempdir().unwrap();
        let (pw, acl) = (dir.path().join("pw"), dir.path().join("acl"));
        std::fs::write(&pw, ALICE).unwrap();
        std::fs::write(&acl, "user alice\ntopic a/#\n").unwrap();
        let a = Authenticator::new(AuthConfig {
            allow_anonymous: false,
            password_file: Some(pw.clone()),
            acl_file: Some(acl.clone()),
            use_identity_as_username: false,
        })
        .unwrap();
        assert!(a.can_write("c", Some("alice"), "a/x"));

        std::fs::write(&acl, "user alice\ntopic read a/#\n").unwrap();
        a.reload().unwrap();
        assert!(!a.can_write("c", Some("alice"), "a/x"), "revoked on reload");

        std::fs::write(&acl, "user alice\ntopic bogus a/#\n").unwrap();
        let err = a.reload().unwrap_err().to_string();
        assert!(err.contains("line 2") && err.contains("bogus"), "{err}");
        assert!(a.can_read("c", Some("alice"), "a/x"), "old ACL kept");

        // A malformed line denies its user and is reported; the file still loads.
        std::fs::write(&acl, "user alice\ntopic a/#\n").unwrap();
        std::fs::write(&pw, format!("alice:plain\n{ALICE}bob:plain\n")).unwrap();
        a.reload().unwrap();
        let ok = a.check_connect("c", Some("alice"), Some(b"secret"), None);
        assert_eq!(
            ok,
            Ok(Some("alice".into())),
            "the valid line for alice comes last"
        );
        let denied = a.check_connect("c", Some("bob"), Some(b"plain"), None);
        assert_eq!(denied, Err(ReasonCode::NotAuthorized));
        let warnings = a.warnings();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[1].contains("line 3") && warnings[1].contains("'bob'"));

        std::fs::remove_file(&pw).unwrap();
        let err = a.reload().unwrap_err().to_string();
        assert!(err.contains("unable to open password file"), "{err}");
    }

    #[test]
    fn malformed_lines_are_reported_with_the_file_and_line() {
        let bad = file("x\n");
        let a = Authenticator::new(AuthConfig {
            password_file: Some(bad.path().to_path_buf()),
            ..AuthConfig::default()
        })
        .unwrap();
        let w = a.warnings().join("\n");
        assert!(w.contains(&bad.path().display().to_string()) && w.contains("line 1"));
        let missing = Authenticator::new(AuthConfig {
            password_file: Some("/nonexistent/pw".into()),
            ..AuthConfig::default()
        });
        assert!(missing.unwrap_err().to_string().contains("/nonexistent/pw"));
    }

    #[tokio::test]
    async fn blocking_check_runs_off_the_runtime() {
        let pw = file(ALICE);
        let a = Arc::new(auth(false, Some(&pw)));
        let got = a
            .check_connect_blocking(
                "c".into(),
                Some("alice".into()),
                Some(b"secret".to_vec()),
                None,
            )
            .await;
        assert_eq!(got, Ok(Some("alice".into())));
    }
}
