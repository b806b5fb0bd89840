//! TLS for the load generator: the clients' rustls `ClientConfig` from mosquitto's TLS flags.
//!
//! The connection drives rustls sans-IO over the same non-blocking socket calls as plain TCP
//! (see [`super::conn`]), so TLS adds rustls's own state and record buffers per connection and
//! nothing else.

use crate::cli::TlsArgs;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use std::sync::Arc;

/// The client configuration the TLS flags ask for (built as for pub/sub/rr), `None` without TLS.
pub fn client_config(args: &TlsArgs) -> Result<Option<Arc<ClientConfig>>, String> {
    args.client_config().map_err(|e| e.to_string())
}

/// The name the server certificate must match: the `-h` host (a name or an address).
pub fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    ServerName::try_from(host.to_string()).map_err(|_| format!("invalid TLS server name '{host}'"))
}
