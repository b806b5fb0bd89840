//! Who may connect, publish and receive: the hook authentication and ACLs plug into.
//!
//! The router and the links call [`Access`] at CONNECT, for every PUBLISH (write), for every
//! delivery (read: live messages, retained messages on subscribe) and for wills. The only
//! policy here is [`AllowAll`]; password files, ACL files and certificate identities implement
//! the same trait in [`super::policy`](mod@super::policy).

use crate::protocol::ReasonCode;

/// Identity of a connecting client, as [`Access::check_connect`] sees it.
#[derive(Clone, Copy, Debug)]
pub struct ConnectInfo<'a> {
    /// Index of the listener in the effective listener list.
    pub listener: usize,
    /// Client identifier (after generation of an empty one).
    pub client_id: &'a str,
    /// User name from CONNECT.
    pub username: Option<&'a str>,
    /// Password from CONNECT.
    pub password: Option<&'a [u8]>,
    /// Common name of the client's TLS certificate, when it sent one.
    pub cert_identity: Option<&'a str>,
}

/// An owned [`ConnectInfo`], to run a slow check (password hashing) on a blocking thread.
#[derive(Clone, Debug)]
pub struct ConnectRequest {
    /// See [`ConnectInfo::listener`].
    pub listener: usize,
    /// See [`ConnectInfo::client_id`].
    pub client_id: String,
    /// See [`ConnectInfo::username`].
    pub username: Option<String>,
    /// See [`ConnectInfo::password`].
    pub password: Option<Vec<u8>>,
    /// See [`ConnectInfo::cert_identity`].
    pub cert_identity: Option<String>,
}

impl ConnectRequest {
    /// Copies `info`.
    pub fn new(info: &ConnectInfo<'_>) -> ConnectRequest {
        ConnectRequest {
            listener: info.listener,
            client_id: info.client_id.to_string(),
            username: info.username.map(str::to_string),
            password: info.password.map(<[u8]>::to_vec),
            cert_identity: info.cert_identity.map(str::to_string),
        }
    }

    /// Borrows it back.
    pub fn info(&self) -> ConnectInfo<'_> {
        ConnectInfo {
            listener: self.listener,
            client_id: &self.client_id,
            username: self.username.as_deref(),
            password: self.password.as_deref(),
            cert_identity: self.cert_identity.as_deref(),
        }
    }
}

/// Runs [`Access::check_connect`]: inline for a policy that allows everything, otherwise on
/// tokio's blocking pool, so that a brute force of expensive password hashes (PBKDF2) does
/// not stall the threads serving other clients.
pub async fn check_connect(
    access: std::sync::Arc<dyn Access>,
    info: &ConnectInfo<'_>,
) -> Result<Option<String>, ReasonCode> {
    if access.allows_everything() {
        return access.check_connect(info);
    }
    let req = ConnectRequest::new(info);
    tokio::task::spawn_blocking(move || access.check_connect(&req.info()))
        .await
        .unwrap_or(Err(ReasonCode::UnspecifiedError))
}

/// An access policy. Implementations are shared by every connection, so they use interior
/// mutability for [`Access::reload`].
pub trait Access: Send + Sync {
    /// Accepts a connection (returning the user name to act as) or refuses it with a CONNACK
    /// reason: `NotAuthorized`, `BadUserNameOrPassword`, ...
    fn check_connect(&self, info: &ConnectInfo<'_>) -> Result<Option<String>, ReasonCode>;

    /// May `client_id` (acting as `username`) publish to `topic`? A refused QoS 1/2 PUBLISH is
    /// still acknowledged, then dropped.
    fn can_write(&self, client_id: &str, username: Option<&str>, topic: &str) -> bool;

    /// May `client_id` receive a message published to `topic`?
    fn can_read(&self, client_id: &str, username: Option<&str>, topic: &str) -> bool;

    /// Could `client_id` ever receive a message through the filter `filter`? A SUBSCRIBE to a
    /// filter that no rule lets it read is refused rather than granted and starved.
    fn may_subscribe(&self, client_id: &str, username: Option<&str>, filter: &str) -> bool {
        let _ = (client_id, username, filter);
        true
    }

    /// Re-reads whatever files the policy comes from (SIGHUP).
    fn reload(&self) -> Result<(), String> {
        Ok(())
    }

    /// What the files in force could not use (a password file's malformed lines, each with
    /// its file and line number), for the broker to log at start and after a reload.
    fn warnings(&self) -> Vec<String> {
        Vec::new()
    }

    /// True when every check passes, so the router may skip per-delivery calls.
    fn allows_everything(&self) -> bool {
        false
    }
}

/// Anonymous clients welcome, every topic open: mosquitto 2.0's loopback-only default.
#[derive(Clone, Copy, Debug, Default)]
pub struct AllowAll;

impl Access for AllowAll {
    fn check_connect(&self, info: &ConnectInfo<'_>) -> Result<Option<String>, ReasonCode> {
        Ok(info.username.map(str::to_string))
    }

    fn can_write(&self, _: &str, _: Option<&str>, _: &str) -> bool {
        true
    }

    fn can_read(&self, _: &str, _: Option<&str>, _: &str) -> bool {
        true
    }

    fn allows_everything(&self) -> bool {
        true
    }
}
