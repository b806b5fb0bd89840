//! Broker security in one place: who may connect, publish and receive.
//!
//! ```text
//!  CONNECT ──▶ Access::check_connect ──▶ policy::Security ──▶ authenticator::Authenticator
//!  PUBLISH ──▶ Access::can_write                               ├─ password::PasswordFile
//!  delivery ─▶ Access::can_read                                └─ acl::Acl
//!  TLS handshake ─▶ tls (listener config, client certificate identity)
//! ```
//!
//! | module | what it holds |
//! |---|---|
//! | [`access`] | the [`Access`] trait the router and links call, and [`AllowAll`] |
//! | [`policy`](mod@policy) | [`Security`]: the config's policy (global or per listener) behind [`Access`] |
//! | [`authenticator`] | one listener's password file, ACL, `allow_anonymous` and certificate identity, reloadable |
//! | [`password`] | mosquitto's password file format and hashes (shared with `mq passwd`) |
//! | [`acl`] | mosquitto's ACL file format and its matching rules |
//! | [`tls`] | listener TLS configuration, the client certificate's identity, handshake-failure wording |
//!
//! The syntax of the options lives with the rest of mosquitto.conf in
//! [`super::config`]; what they mean is decided here.

pub mod access;
pub mod acl;
pub mod authenticator;
pub mod password;
pub mod policy;
pub mod tls;

pub use access::{Access, AllowAll, ConnectInfo, ConnectRequest, check_connect};
pub use authenticator::{AuthConfig, AuthError, Authenticator};
pub use policy::{Policy, Security, SecurityError, auth_configs, policy};
