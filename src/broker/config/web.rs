//! The listener kinds and their options: `protocol mqtt|websockets|http_api`, `http_dir` on a
//! websockets listener, `http_api_username`/`http_api_password` on an HTTP API listener.
//!
//! ```text
//! listener 8080
//! protocol websockets          MQTT over WebSockets (wss with certfile/keyfile)
//! http_dir /srv/www            static files for plain GET requests on that port
//! listener 9883 127.0.0.1
//! protocol http_api            /metrics, /api/v1/..., and the status page at /
//! http_api_username admin      HTTP basic authentication for it
//! http_api_password s3cret
//! ```

use super::{ListenerConfig, Parser, word};
use std::path::PathBuf;

/// What a listener speaks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Protocol {
    /// MQTT over TCP (or TLS).
    #[default]
    Mqtt,
    /// MQTT over WebSockets (or secure WebSockets with TLS).
    WebSockets {
        /// `http_dir`: static files served to plain GET requests.
        http_dir: Option<PathBuf>,
    },
    /// The HTTP API: Prometheus metrics, JSON views and the status page.
    HttpApi {
        /// `http_api_username` and `http_api_password`; without them the broker's password
        /// file applies when anonymous clients are refused.
        credentials: Option<HttpCredentials>,
    },
}

impl Protocol {
    /// The name used in mosquitto.conf (and in the API's listener list).
    pub fn name(&self) -> &'static str {
        match self {
            Protocol::Mqtt => "mqtt",
            Protocol::WebSockets { .. } => "websockets",
            Protocol::HttpApi { .. } => "http_api",
        }
    }
}

/// The user name and password of an HTTP API listener.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct HttpCredentials {
    /// `http_api_username`.
    pub username: String,
    /// `http_api_password`.
    pub password: String,
}

impl std::fmt::Debug for HttpCredentials {
    /// Keeps the password out of debug output and logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpCredentials")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl Parser<'_> {
    /// `protocol`, `http_dir`, `http_api_username`, `http_api_password`.
    pub(super) fn web(&mut self, name: &str, value: &str) -> Result<(), String> {
        let l = self.listener_or_default();
        if name == "protocol" {
            l.protocol = match value {
                "mqtt" => Protocol::Mqtt,
                "websockets" => Protocol::WebSockets { http_dir: None },
                "http_api" => Protocol::HttpApi { credentials: None },
                _ => {
                    return Err(format!(
                        "invalid protocol value '{value}' (expected mqtt, websockets or http_api)"
                    ));
                }
            };
            return Ok(());
        }
        let value = word(name, value)?;
        match (&mut l.protocol, name) {
            (Protocol::WebSockets { http_dir }, "http_dir") => {
                *http_dir = Some(PathBuf::from(value));
            }
            (Protocol::HttpApi { credentials }, "http_api_username" | "http_api_password") => {
                let c = credentials.get_or_insert_with(HttpCredentials::default);
                match name {
                    "http_api_username" => c.username = value.to_string(),
                    _ => c.password = value.to_string(),
                }
            }
            (_, "http_dir") => {
                return Err("http_dir belongs to a listener with protocol websockets \
                            (put it after the protocol line)"
                    .into());
            }
            _ => {
                return Err(format!(
                    "{name} belongs to a listener with protocol http_api \
                     (put it after the protocol line)"
                ));
            }
        }
        Ok(())
    }
}

/// What is wrong with a listener's web options, once the whole file is read.
pub(super) fn problem(l: &ListenerConfig) -> Option<&'static str> {
    match &l.protocol {
        Protocol::HttpApi {
            credentials: Some(c),
        } if c.username.is_empty() || c.password.is_empty() => {
            Some("both http_api_username and http_api_password must be given")
        }
        Protocol::HttpApi { .. } if l.use_identity_as_username => {
            Some("use_identity_as_username does not apply to an http_api listener")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Config, ConfigError};
    use super::*;
    use std::path::Path;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse_str(text, Path::new("web.conf"))
    }

    #[test]
    fn three_listener_kinds_in_one_file() {
        let c = parse(
            "listener 1883\nlistener 8080\nprotocol websockets\nhttp_dir /srv/www\n\
             listener 8443\nprotocol websockets\ncertfile s.pem\nkeyfile s.key\n\
             listener 9883 127.0.0.1\nprotocol http_api\nhttp_api_username admin\n\
             http_api_password pw\n",
        )
        .unwrap();
        let kinds: Vec<_> = c.listeners.iter().map(|l| l.protocol.name()).collect();
        assert_eq!(kinds, ["mqtt", "websockets", "websockets", "http_api"]);
        assert_eq!(
            c.listeners[1].protocol,
            Protocol::WebSockets {
                http_dir: Some(PathBuf::from("/srv/www"))
            }
        );
        assert!(c.listeners[2].tls.is_some());
        let Protocol::HttpApi {
            credentials: Some(creds),
        } = &c.listeners[3].protocol
        else {
            panic!("credentials expected");
        };
        assert_eq!(
            (creds.username.as_str(), creds.password.as_str()),
            ("admin", "pw")
        );
        assert!(
            !format!("{creds:?}").contains("pw"),
            "no password in debug output"
        );
    }

    #[test]
    fn misplaced_web_options_name_the_line() {
        let e = parse("listener 1883\nhttp_dir /srv").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("protocol websockets"), "{e}");
        let e = parse("listener 8080\nprotocol websockets\nhttp_api_password x").unwrap_err();
        assert!(e.message.contains("protocol http_api"), "{e}");
        let e = parse("listener 8080\nprotocol gopher").unwrap_err();
        assert!(e.message.contains("mqtt, websockets or http_api"), "{e}");
        let e = parse("listener 9883\nprotocol http_api\nhttp_api_username a").unwrap_err();
        assert!(
            e.message.contains("port 9883: both http_api_username"),
            "{e}"
        );
    }
}
