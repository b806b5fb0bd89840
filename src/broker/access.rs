//! Who may connect, publish and receive: the hook authentication and ACLs plug into.
//!
//! The router and the links call [`Access`] at CONNECT, for every PUBLISH (write), for every
//! delivery (read: live messages, retained messages on subscribe) and for wills. The only
//! policy here is [`AllowAll`]; password files and ACL files implement the same trait.

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

    /// Re-reads whatever files the policy comes from (SIGHUP).
    fn reload(&self) -> Result<(), String> {
        Ok(())
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
