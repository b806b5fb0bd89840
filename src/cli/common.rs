//! Option groups shared by the client commands (pub, sub, rr, meteo, bench), with mosquitto's
//! flag names: `-h` is the host and `-V` the protocol version.

use crate::protocol::{QoS, Version};
use clap::Args;
use std::path::PathBuf;

/// Parses mosquitto's `-V` values: `5`, `311`, `31`, `mqttv5`, `mqttv311`, `mqttv31`.
pub fn parse_version(s: &str) -> Result<Version, String> {
    match s {
        "31" | "mqttv31" => Ok(Version::V31),
        "311" | "mqttv311" => Ok(Version::V311),
        "5" | "mqttv5" => Ok(Version::V5),
        _ => Err(format!(
            "unknown protocol version '{s}' (use mqttv31, mqttv311 or mqttv5)"
        )),
    }
}

/// Parses a QoS of 0, 1 or 2.
pub fn parse_qos(s: &str) -> Result<QoS, String> {
    s.parse::<u8>()
        .ok()
        .and_then(QoS::from_u8)
        .ok_or_else(|| format!("invalid QoS '{s}': must be 0, 1 or 2"))
}

/// Where the broker is and who we are to it (the protocol version is [`VersionArgs`]).
#[derive(Args, Debug, Clone)]
pub struct ServerArgs {
    /// Broker host name or address.
    #[arg(short = 'h', long = "host", default_value = "localhost")]
    pub host: String,
    /// Broker port (1883, or 8883 when TLS is in use).
    #[arg(short = 'p', long = "port")]
    pub port: Option<u16>,
    /// User name.
    #[arg(short = 'u', long = "username")]
    pub username: Option<String>,
    /// Password (prefer --pw-file or MQ_PASSWORD, which stay out of `ps`).
    #[arg(short = 'P', long = "pw", env = "MQ_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Read the password from the first line of this file.
    #[arg(long = "pw-file", value_name = "FILE", conflicts_with = "password")]
    pub pw_file: Option<PathBuf>,
    /// Speak MQTT over WebSockets (port 80, or 443 with TLS, unless -p says otherwise).
    #[arg(long = "ws")]
    pub ws: bool,
    /// Request path of the WebSocket upgrade [default: /mqtt]; implies --ws.
    #[arg(long = "ws-path", value_name = "PATH")]
    pub ws_path: Option<String>,
}

/// `-V`: the one protocol version a client command speaks (`mq test` has its own `-V`, which
/// may name several).
#[derive(Args, Debug, Clone)]
pub struct VersionArgs {
    /// MQTT protocol version: mqttv31, mqttv311 or mqttv5.
    #[arg(short = 'V', long = "protocol-version", value_parser = parse_version, default_value = "mqttv311")]
    pub protocol_version: Version,
}

/// The WebSocket path when nothing says otherwise.
pub const DEFAULT_WS_PATH: &str = "/mqtt";

impl ServerArgs {
    /// The WebSocket request path asked for with `--ws` or `--ws-path`; `None` for plain MQTT.
    pub fn websocket_path(&self) -> Option<String> {
        match (&self.ws_path, self.ws) {
            (Some(p), _) => Some(p.clone()),
            (None, true) => Some(DEFAULT_WS_PATH.to_string()),
            (None, false) => None,
        }
    }

    /// The port to use: `-p`, else the default of the transport (1883, 8883 with TLS, 80 and
    /// 443 over WebSockets).
    pub fn port_or_default(&self, tls: bool) -> u16 {
        self.port
            .unwrap_or_else(|| default_port(tls, self.websocket_path().is_some()))
    }
}

/// The usual port of MQTT over TCP or WebSockets, with or without TLS.
pub fn default_port(tls: bool, websocket: bool) -> u16 {
    match (websocket, tls) {
        (false, false) => 1883,
        (false, true) => 8883,
        (true, false) => 80,
        (true, true) => 443,
    }
}

/// TLS on the client side.
#[derive(Args, Debug, Clone, Default)]
pub struct TlsArgs {
    /// PEM file of trusted CA certificates; enables TLS.
    #[arg(long = "cafile", value_name = "FILE")]
    pub cafile: Option<PathBuf>,
    /// Directory of PEM CA certificates; enables TLS.
    #[arg(long = "capath", value_name = "DIR")]
    pub capath: Option<PathBuf>,
    /// Client certificate (PEM), for brokers that require one.
    #[arg(long = "cert", value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,
    /// Client private key (PEM).
    #[arg(long = "key", value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// Do not check that the server certificate's name matches the host (the chain, dates
    /// and signatures are still checked).
    #[arg(long = "insecure")]
    pub insecure: bool,
    /// Lowest TLS version: tlsv1.2 (the default, also allows 1.3) or tlsv1.3.
    #[arg(long = "tls-version", value_name = "VERSION")]
    pub tls_version: Option<String>,
    /// Trust the operating system's CA certificates; enables TLS.
    #[arg(long = "tls-use-os-certs")]
    pub tls_use_os_certs: bool,
    /// OpenSSL cipher list, e.g. ECDHE-RSA-AES128-GCM-SHA256:TLS_AES_256_GCM_SHA384.
    #[arg(long = "ciphers", value_name = "LIST")]
    pub ciphers: Option<String>,
    /// TLS ALPN protocol to offer.
    #[arg(long = "tls-alpn", value_name = "PROTOCOL")]
    pub tls_alpn: Option<String>,
    /// Append the TLS session secrets to FILE (NSS key log format, for Wireshark).
    #[arg(long = "tls-keylog", value_name = "FILE")]
    pub tls_keylog: Option<PathBuf>,
    /// TLS-PSK key (refused: rustls has no pre-shared key support).
    #[arg(long = "psk", value_name = "HEX")]
    pub psk: Option<String>,
    /// TLS-PSK identity (refused: rustls has no pre-shared key support).
    #[arg(long = "psk-identity", value_name = "ID")]
    pub psk_identity: Option<String>,
}

impl TlsArgs {
    /// True when any option asks for TLS (a PSK too, which is then refused).
    pub fn enabled(&self) -> bool {
        self.cafile.is_some()
            || self.capath.is_some()
            || self.tls_use_os_certs
            || self.psk.is_some()
            || self.psk_identity.is_some()
    }

    /// The client TLS settings these flags describe; `os_certs` adds the system CA store (as
    /// `mqtts://` URLs and port 8883 do).
    pub fn to_options(
        &self,
        os_certs: bool,
    ) -> Result<crate::tls::TlsOptions, crate::tls::ConfigError> {
        if self.psk.is_some() || self.psk_identity.is_some() {
            return Err(crate::tls::ConfigError::Invalid(
                crate::tls::PSK_UNSUPPORTED.into(),
            ));
        }
        let version = match &self.tls_version {
            Some(v) => crate::tls::MinTlsVersion::parse(v)?,
            None => crate::tls::MinTlsVersion::V12,
        };
        Ok(crate::tls::TlsOptions {
            cafile: self.cafile.clone(),
            capath: self.capath.clone(),
            cert: self.cert.clone(),
            key: self.key.clone(),
            insecure: self.insecure,
            version,
            os_certs: os_certs || self.tls_use_os_certs,
            alpn: self.tls_alpn.clone(),
            ciphers: self.ciphers.clone(),
            keylog: self.tls_keylog.clone(),
        })
    }

    /// The rustls client configuration, `None` when no option asks for TLS.
    pub fn client_config(
        &self,
    ) -> Result<Option<std::sync::Arc<rustls::ClientConfig>>, crate::tls::ConfigError> {
        if !self.enabled() {
            return Ok(None);
        }
        self.to_options(false)?.client_config().map(Some)
    }
}

/// The Last Will, as mosquitto's `--will-*` flags set it.
#[derive(Args, Debug, Clone, Default)]
pub struct WillArgs {
    /// Topic of the will message.
    #[arg(long = "will-topic", value_name = "TOPIC")]
    pub will_topic: Option<String>,
    /// Payload of the will message.
    #[arg(long = "will-payload", value_name = "PAYLOAD", requires = "will_topic")]
    pub will_payload: Option<String>,
    /// QoS of the will message.
    #[arg(long = "will-qos", value_name = "QOS", value_parser = parse_qos, default_value = "0")]
    pub will_qos: QoS,
    /// Retain the will message.
    #[arg(long = "will-retain", requires = "will_topic")]
    pub will_retain: bool,
}

/// How sub and rr print what they receive (mosquitto_sub's names, plus `--json`).
#[derive(Args, Debug, Clone, Default)]
pub struct OutputArgs {
    /// Print the topic before the payload.
    #[arg(short = 'v', long = "verbose")]
    pub verbose: bool,
    /// Do not print a newline after each message.
    #[arg(short = 'N')]
    pub no_eol: bool,
    /// Output format (see the -F specifiers of mosquitto_sub).
    #[arg(short = 'F', value_name = "FORMAT", allow_hyphen_values = true)]
    pub format: Option<String>,
    /// Pretty-print %j and %J JSON.
    #[arg(long = "pretty")]
    pub pretty: bool,
    /// One JSON object per message (NDJSON): payload as JSON when it parses, else as a string,
    /// base64 for binary.
    #[arg(long = "json", conflicts_with = "format")]
    pub json: bool,
}

/// Session, identity and diagnostics flags shared by pub, sub and rr (mosquitto's names).
#[derive(Args, Debug, Clone, Default)]
pub struct ClientArgs {
    /// Client identifier (default: generated, or assigned by the broker in v5).
    #[arg(short = 'i', long = "id", value_name = "ID")]
    pub id: Option<String>,
    /// Client identifier prefix; the process id is appended.
    #[arg(short = 'I', long = "id-prefix", value_name = "PREFIX")]
    pub id_prefix: Option<String>,
    /// Keep-alive interval in seconds (5 to 65535).
    #[arg(
        short = 'k',
        long = "keepalive",
        value_name = "SECS",
        default_value = "60"
    )]
    pub keepalive: u32,
    /// Keep the session after disconnecting (clean session off); needs -i.
    #[arg(short = 'c', long = "disable-clean-session")]
    pub disable_clean_session: bool,
    /// v5 session expiry interval in seconds; -1 means never.
    #[arg(short = 'x', value_name = "SECS", allow_hyphen_values = true)]
    pub session_expiry: Option<i64>,
    /// Print the protocol exchange on stdout.
    #[arg(short = 'd', long = "debug")]
    pub debug: bool,
    /// Add an MQTT v5 property: CMD ID VALUE, or CMD user-property NAME VALUE.
    #[arg(short = 'D', long = "property", num_args = 3..=4, value_names = ["CMD", "ID", "VALUE"], action = clap::ArgAction::Append)]
    pub property: Vec<String>,
    /// URL `mqtt(s)://[user[:password]@]host[:port]/topic` or
    /// `ws(s)://[user[:password]@]host[:port]/path/topic` (the first path segment is the
    /// WebSocket path unless --ws-path says more).
    #[arg(short = 'L', long = "url", value_name = "URL")]
    pub url: Option<String>,
    /// Maximum QoS 1/2 messages in flight.
    #[arg(short = 'M', value_name = "N", default_value = "20")]
    pub max_inflight: u16,
    /// Disable Nagle's algorithm.
    #[arg(long = "nodelay")]
    pub nodelay: bool,
    /// Do not print runtime errors.
    #[arg(long = "quiet")]
    pub quiet: bool,
    /// Bind the outgoing socket to this local address.
    #[arg(short = 'A', value_name = "ADDRESS")]
    pub bind_address: Option<String>,
    /// Connect over this unix socket instead of TCP.
    #[arg(long = "unix", value_name = "PATH")]
    pub unix: Option<PathBuf>,
}
