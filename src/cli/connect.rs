//! What pub, sub and rr share: turning the connection flags into [`ClientOptions`] (with
//! mosquitto's checks and wording), `-L` URLs and passwords from files.

use super::properties::PropertyArgs;
use crate::cli::{ClientArgs, ServerArgs, TlsArgs, WillArgs};
use crate::client::{ClientError, ClientOptions};
use crate::protocol::{Props, Version, Will};
use crate::topic::TopicName;
use bytes::Bytes;

/// An argument error, in mosquitto's words; the command turns it into
/// [`crate::cmd::Error::Usage`] with its tool's name.
#[derive(Debug)]
pub struct Usage(pub String);

/// Where `-L mqtt(s)://user:pass@host:port/topic` or `ws(s)://user:pass@host:port/path/topic`
/// points.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Url {
    /// TLS (mqtts, wss).
    pub tls: bool,
    /// The WebSocket request path (ws, wss); `None` for MQTT over TCP.
    pub websocket: Option<String>,
    /// User name.
    pub username: Option<String>,
    /// Password.
    pub password: Option<String>,
    /// Host.
    pub host: String,
    /// Port (1883, 8883, 80 or 443 when absent).
    pub port: u16,
    /// Topic (the path without its leading `/`).
    pub topic: Option<String>,
}

/// Parses an `-L` URL as mosquitto does, plus `ws://` and `wss://`. `ws_path` is
/// `--ws-path`: the part of a WebSocket URL's path that is the request path, the rest being
/// the topic; without it the first path segment is the request path.
pub fn parse_url(s: &str, ws_path: Option<&str>) -> Result<Url, Usage> {
    let bad = || Usage(format!("Unsupported URL scheme or malformed URL '{s}'."));
    let schemes = [
        ("mqtts://", true, false),
        ("mqtt://", false, false),
        ("wss://", true, true),
        ("ws://", false, true),
    ];
    let (tls, ws, rest) = schemes
        .iter()
        .find_map(|(p, tls, ws)| s.strip_prefix(p).map(|r| (*tls, *ws, r)))
        .ok_or_else(bad)?;
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (websocket, topic) = if ws {
        let (p, t) = split_ws_path(path, ws_path).ok_or_else(|| {
            Usage(format!(
                "The URL '{s}' does not start with the WebSocket path '{}'.",
                ws_path.unwrap_or_default()
            ))
        })?;
        (Some(p), t)
    } else {
        (None, path)
    };
    let mut url = Url {
        tls,
        websocket,
        port: super::common::default_port(tls, ws),
        topic: (!topic.is_empty()).then(|| topic.to_string()),
        ..Url::default()
    };
    let hostport = match authority.rsplit_once('@') {
        Some((cred, hp)) => {
            match cred.split_once(':') {
                Some((u, p)) => {
                    url.username = Some(u.to_string());
                    url.password = Some(p.to_string());
                }
                None => url.username = Some(cred.to_string()),
            }
            hp
        }
        None => authority,
    };
    match hostport.rsplit_once(':') {
        Some((h, p)) if !h.contains(']') || h.ends_with(']') => {
            url.host = h.trim_matches(|c| c == '[' || c == ']').to_string();
            url.port = p.parse().map_err(|_| bad())?;
        }
        _ => url.host = hostport.to_string(),
    }
    if url.host.is_empty() {
        return Err(bad());
    }
    Ok(url)
}

/// Splits the path of a WebSocket URL (after the host's `/`) into request path and topic.
fn split_ws_path<'a>(path: &'a str, given: Option<&str>) -> Option<(String, &'a str)> {
    match given {
        Some(g) => {
            let g = g.trim_start_matches('/');
            let rest = path.strip_prefix(g)?;
            if !(rest.is_empty() || rest.starts_with('/') || g.is_empty()) {
                return None;
            }
            Some((format!("/{g}"), rest.trim_start_matches('/')))
        }
        None => {
            let (p, t) = path.split_once('/').unwrap_or((path, ""));
            Some((format!("/{p}"), t))
        }
    }
}

/// A client id for when none is given: mosquitto's clients use `mosq-` and random letters.
fn random_id() -> String {
    const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut id = String::from("mq-");
    for _ in 0..16 {
        id.push(char::from(ALNUM[rand::random_range(0..ALNUM.len())]));
    }
    id
}

fn read_password_file(path: &std::path::Path) -> Result<String, Usage> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Usage(format!(
            "Unable to read password file \"{}\": {e}.",
            path.display()
        ))
    })?;
    Ok(text.lines().next().unwrap_or("").to_string())
}

/// The connection flags of every client command, checked.
#[derive(Debug)]
pub struct ConnectPlan {
    /// Options for [`crate::client::Client::connect`].
    pub options: ClientOptions,
    /// The topic of an `-L` URL.
    pub url_topic: Option<String>,
    /// `--quiet`.
    pub quiet: bool,
}

/// Checks the shared flags and builds the client options. `default_v5` is for rr.
pub fn plan(
    server: &ServerArgs,
    version: Version,
    client: &ClientArgs,
    tls: &TlsArgs,
    will: &WillArgs,
    props: &PropertyArgs,
    default_v5: bool,
) -> Result<ConnectPlan, Usage> {
    if client.id.is_some() && client.id_prefix.is_some() {
        return Err(Usage(
            "-i and -I argument cannot be used together.\n".into(),
        ));
    }
    if !(5..=65535).contains(&client.keepalive) {
        return Err(Usage(
            "Invalid keepalive given, it must be between 5 and 65535 inclusive.\n".into(),
        ));
    }
    if client.disable_clean_session && client.id.is_none() && client.id_prefix.is_none() {
        return Err(Usage(
            "You must provide a client id if you are using the -c option.".into(),
        ));
    }
    let ws_path = server.ws_path.as_deref();
    let url = client
        .url
        .as_deref()
        .map(|u| parse_url(u, ws_path))
        .transpose()?;
    let mut version = version;
    // As mosquitto's clients: rr speaks v5 by default, and -D properties switch to v5.
    if (default_v5 || !client.property.is_empty()) && version == Version::V311 {
        version = Version::V5;
    }
    let will = will_of(will, version)?;
    let mut o = ClientOptions::new(server.host.clone(), 1883);
    o.version = version;
    o.keep_alive = client.keepalive as u16;
    o.clean_start = !client.disable_clean_session;
    o.max_inflight = client.max_inflight.max(1);
    o.nodelay = client.nodelay;
    o.unix = client.unix.clone();
    o.bind_address = match &client.bind_address {
        Some(a) => Some(resolve_bind(a)?),
        None => None,
    };
    o.debug = client.debug;
    o.will = will;
    o.client_id = client_id(client, version);
    let use_tls = address_and_credentials(&mut o, server, tls, url.as_ref())?;
    if version.is_v5() {
        o.properties = props.connect.clone();
        o.properties.session_expiry_interval = session_expiry(client)?;
        if let Some(w) = &mut o.will {
            w.properties = Props::new(props.will.clone());
        }
    }
    if use_tls || (o.port == 8883 && o.websocket.is_none()) {
        o.tls = Some(tls_options(tls, url.as_ref().is_some_and(|u| u.tls))?);
    }
    Ok(ConnectPlan {
        options: o,
        url_topic: url.and_then(|u| u.topic),
        quiet: client.quiet,
    })
}

fn client_id(client: &ClientArgs, version: Version) -> String {
    match (&client.id, &client.id_prefix) {
        (Some(id), _) => id.clone(),
        (None, Some(pfx)) => format!("{pfx}{}", std::process::id()),
        (None, None) if version.is_v5() => String::new(),
        (None, None) => random_id(),
    }
}

/// Host, port and credentials from the flags, the `-L` URL and the password file; returns
/// whether TLS is asked for.
fn address_and_credentials(
    o: &mut ClientOptions,
    server: &ServerArgs,
    tls: &TlsArgs,
    url: Option<&Url>,
) -> Result<bool, Usage> {
    o.username = server.username.clone();
    let mut password = server.password.clone();
    if let Some(f) = &server.pw_file {
        password = Some(read_password_file(f)?);
    }
    let mut use_tls = tls.enabled();
    o.websocket = server.websocket_path();
    if let Some(u) = url {
        o.host = u.host.clone();
        use_tls |= u.tls;
        o.username = u.username.clone().or(o.username.take());
        password = u.password.clone().or(password);
        if u.websocket.is_some() {
            o.websocket = u.websocket.clone();
        }
    }
    o.port = match url {
        Some(u) => server.port.unwrap_or(u.port),
        None => server.port_or_default(use_tls),
    };
    if password.is_some() && o.username.is_none() && !o.version.is_v5() {
        return Err(Usage("Problem setting username and/or password.".into()));
    }
    o.password = password.map(Bytes::from);
    Ok(use_tls)
}

fn session_expiry(client: &ClientArgs) -> Result<Option<u32>, Usage> {
    match client.session_expiry {
        None if client.disable_clean_session => Ok(Some(u32::MAX)),
        None => Ok(None),
        Some(-1) => Ok(Some(u32::MAX)),
        Some(v) if (0..=i64::from(u32::MAX)).contains(&v) => Ok(Some(v as u32)),
        Some(_) => Err(Usage("session-expiry-interval out of range.".into())),
    }
}

fn will_of(w: &WillArgs, _version: Version) -> Result<Option<Will>, Usage> {
    let Some(topic) = &w.will_topic else {
        return Ok(None);
    };
    let topic = TopicName::new(topic.as_str()).map_err(|_| {
        Usage(format!(
            "Invalid will topic '{topic}', does it contain '+' or '#'?"
        ))
    })?;
    Ok(Some(Will {
        topic,
        payload: Bytes::from(w.will_payload.clone().unwrap_or_default()),
        qos: w.will_qos,
        retain: w.will_retain,
        properties: Props::default(),
    }))
}

fn resolve_bind(a: &str) -> Result<std::net::IpAddr, Usage> {
    use std::net::ToSocketAddrs;
    (a, 0)
        .to_socket_addrs()
        .ok()
        .and_then(|mut it| it.next())
        .map(|sa| sa.ip())
        .ok_or_else(|| Usage(format!("Invalid bind address '{a}'.")))
}

fn tls_options(
    tls: &TlsArgs,
    os_certs: bool,
) -> Result<std::sync::Arc<rustls::ClientConfig>, Usage> {
    let opts = tls.to_options(os_certs).map_err(|e| Usage(e.to_string()))?;
    opts.client_config().map_err(|e| Usage(e.to_string()))
}

/// True when the error means the connection is gone (worth reconnecting), rather than a
/// refusal of one request.
pub fn is_lost(e: &ClientError) -> bool {
    matches!(
        e,
        ClientError::ConnectionLost(_)
            | ClientError::KeepAlive
            | ClientError::ServerDisconnect(_)
            | ClientError::Closed
            | ClientError::Protocol(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_give_host_port_credentials_and_topic() {
        let parse_url = |s| super::parse_url(s, None);
        let u = parse_url("mqtts://al:pw@example.org:1234/a/b").unwrap();
        assert_eq!(
            u,
            Url {
                tls: true,
                websocket: None,
                username: Some("al".into()),
                password: Some("pw".into()),
                host: "example.org".into(),
                port: 1234,
                topic: Some("a/b".into()),
            }
        );
        let u = parse_url("mqtt://localhost").unwrap();
        assert_eq!((u.port, u.topic, u.username), (1883, None, None));
        assert_eq!(parse_url("mqtts://h/t").unwrap().port, 8883);
        assert!(parse_url("http://h/t").is_err());
        assert!(parse_url("mqtt://h:x/t").is_err());
    }

    #[test]
    fn websocket_urls_split_path_and_topic() {
        let u = parse_url("ws://u:p@h:8080/mqtt/a/b", None).unwrap();
        assert_eq!(
            (u.websocket.as_deref(), u.topic.as_deref(), u.port, u.tls),
            (Some("/mqtt"), Some("a/b"), 8080, false)
        );
        let u = parse_url("wss://h", None).unwrap();
        assert_eq!(
            (u.websocket.as_deref(), u.port, u.tls),
            (Some("/"), 443, true)
        );
        assert_eq!(parse_url("ws://h/x", None).unwrap().port, 80);
        let u = parse_url("ws://h/ws/mqtt/t", Some("/ws/mqtt")).unwrap();
        assert_eq!(
            (u.websocket.as_deref(), u.topic.as_deref()),
            (Some("/ws/mqtt"), Some("t"))
        );
        assert!(parse_url("ws://h/other/t", Some("/mqtt")).is_err());
        assert!(parse_url("ws://h/mqttx/t", Some("/mqtt")).is_err());
    }
}
