//! The AEMET OpenData HTTP client.
//!
//! Every product is two requests: step 1 (`GET {base}/{path}` with the `api_key` header)
//! answers a JSON envelope whose body `estado` is the real status and whose `datos` is a
//! short-lived URL; step 2 fetches that URL at once, without the key. The URL is never kept.
//!
//! ```text
//! GET /opendata/api/observacion/convencional/datos/estacion/3195   (api_key: …)
//!   200 {"descripcion":"exito","estado":200,"datos":"https://…/sh/208c3ca3",…}
//! GET https://…/sh/208c3ca3
//!   200 [ { "idema" : "3195", … } ]           ISO-8859-15 or UTF-8
//! ```
//!
//! Step 1 requests go through one global rate limit (AEMET allows about 40 a minute per key;
//! the default of one per 2 s stays well under it). 429s (also a 500 page saying 429), 5xx
//! and network errors are retried with backoff; 401 and 404 are final.

use crate::meteo::http::{FetchError, Http, HttpConfig, nothing_else, snippet};
use crate::meteo::log;
use serde::Deserialize;
use std::time::Duration;

/// AEMET's public endpoint.
pub const DEFAULT_BASE_URL: &str = "https://opendata.aemet.es/opendata/api";

/// How the client talks to AEMET.
#[derive(Debug, Clone)]
pub struct Config {
    /// Base URL, `…/opendata/api`.
    pub base_url: String,
    /// The API key (a JWT).
    pub api_key: String,
    /// Minimum spacing of step-1 requests.
    pub request_interval: Duration,
    /// Whole-request timeout (connect, headers and body).
    pub timeout: Duration,
    /// Retries after the first attempt.
    pub retries: u32,
    /// First backoff for 5xx and network errors; doubled per retry.
    pub backoff: Duration,
    /// Wait after a 429 (AEMET's quota is per minute).
    pub backoff_429: Duration,
}

impl Config {
    /// The spacing, timeout and retry settings.
    pub fn http(&self) -> HttpConfig {
        HttpConfig {
            request_interval: self.request_interval,
            timeout: self.timeout,
            retries: self.retries,
            backoff: self.backoff,
            backoff_429: self.backoff_429,
        }
    }
}

/// The step-1 envelope.
#[derive(Debug, Deserialize)]
struct Envelope {
    #[serde(default)]
    descripcion: Option<String>,
    #[serde(default)]
    estado: Option<serde_json::Value>,
    #[serde(default)]
    datos: Option<String>,
}

/// The HTTP client with its rate limiter.
pub struct Client {
    http: Http,
    cfg: Config,
    /// Set once AEMET rejected the key: nothing else will work, so nothing else is asked.
    pub(super) key_rejected: std::cell::Cell<bool>,
}

impl Client {
    /// Builds the client; fails only if the TLS stack cannot be set up.
    pub fn new(cfg: Config) -> Result<Self, FetchError> {
        let http = Http::new(cfg.http())?;
        Ok(Client {
            http,
            cfg,
            key_rejected: std::cell::Cell::new(false),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Fetches a product (`path` after the base URL) and returns its decoded text.
    pub async fn fetch(&self, path: &str) -> Result<String, FetchError> {
        self.http
            .retrying(path, nothing_else, || self.fetch_once(path))
            .await
    }

    async fn fetch_once(&self, path: &str) -> Result<String, FetchError> {
        self.http.throttle().await;
        let url = format!("{}/{}", self.cfg.base_url.trim_end_matches('/'), path);
        let headers = [
            ("api_key", self.cfg.api_key.as_str()),
            ("Cache-Control", "no-cache"),
        ];
        let resp = self.http.get(&url, &headers).await?;
        if let Some(left) = quota_left(&resp.headers) {
            if left <= QUOTA_WARN {
                log::warn(format_args!(
                    "AEMET quota nearly used up: {left} requests left"
                ));
            }
        }
        match classify(resp.status, &resp.text)? {
            Step1::Data => Ok(resp.text),
            Step1::Datos(url) => self.fetch_datos(&url).await,
        }
    }

    /// Step 2: the `datos` URL, at once and without the key.
    async fn fetch_datos(&self, url: &str) -> Result<String, FetchError> {
        let resp = self.http.get(url, &[]).await?;
        let text = resp.text;
        match resp.status {
            200 if text.trim().is_empty() => Err(FetchError::Empty),
            200 => Ok(text),
            404 => Err(FetchError::NotFound(
                "the datos URL answered 404 (expired or never valid)".into(),
            )),
            429 => Err(FetchError::RateLimited(describe(&text))),
            s if s >= 500 && text.contains("429") => Err(FetchError::RateLimited(format!(
                "HTTP {s} page saying 429 Too Many Requests"
            ))),
            s if s >= 500 => Err(FetchError::Server(s)),
            s => Err(FetchError::Unexpected(format!("datos answered HTTP {s}"))),
        }
    }
}

/// At or under this many requests left, say so.
const QUOTA_WARN: u64 = 5;

/// The remaining quota AEMET reports; the header's name has changed over the years.
fn quota_left(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    ["remaining-request-count", "remaining-request-endpoint"]
        .iter()
        .find_map(|h| headers.get(*h)?.to_str().ok()?.trim().parse().ok())
}

/// What step 1 said.
#[derive(Debug, PartialEq)]
enum Step1 {
    /// The body already is the data (a JSON array, as `maestro/municipios` sent before 2024).
    Data,
    /// Fetch this URL.
    Datos(String),
}

/// Reads step 1 by its HTTP status and its body's `estado`.
fn classify(status: u16, text: &str) -> Result<Step1, FetchError> {
    match status {
        200 => {}
        401 => return Err(FetchError::Auth(describe(text))),
        429 => return Err(FetchError::RateLimited(describe(text))),
        404 => {
            return Err(FetchError::NotFound(
                "HTTP 404 (unknown route; check --base-url)".into(),
            ));
        }
        s if s >= 500 && text.contains("429") => {
            return Err(FetchError::RateLimited(format!(
                "HTTP {s} page saying 429 Too Many Requests"
            )));
        }
        s if s >= 500 => return Err(FetchError::Server(s)),
        s => return Err(FetchError::Unexpected(format!("HTTP {s}"))),
    }
    let body = text.trim_start();
    if body.is_empty() {
        return Err(FetchError::Empty);
    }
    if body.starts_with('[') {
        return Ok(Step1::Data);
    }
    let env: Envelope = serde_json::from_str(body)
        .map_err(|_| FetchError::Unexpected(format!("not a JSON envelope: {}", snippet(body))))?;
    let estado = env.estado.as_ref().and_then(|v| match v {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    });
    let desc = env.descripcion.unwrap_or_default();
    match (estado, env.datos) {
        (Some(200), Some(url)) if !url.trim().is_empty() => Ok(Step1::Datos(url)),
        (Some(401), _) => Err(FetchError::Auth(desc)),
        (Some(404), _) => Err(FetchError::NotFound(desc)),
        (Some(429), _) => Err(FetchError::RateLimited(desc)),
        (Some(s), _) if s >= 500 => Err(FetchError::Server(u16::try_from(s).unwrap_or(500))),
        (e, _) => Err(FetchError::Unexpected(format!(
            "estado {} without datos: {desc}",
            e.map_or("missing".to_string(), |e| e.to_string())
        ))),
    }
}

/// AEMET's `descripcion` if the body is a JSON error, else the start of the body.
fn describe(text: &str) -> String {
    serde_json::from_str::<Envelope>(text)
        .ok()
        .and_then(|e| e.descripcion)
        .unwrap_or_else(|| snippet(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_with_datos() {
        let t = r#"{"descripcion":"exito","estado":200,"datos":"http://x/sh/1"}"#;
        assert_eq!(classify(200, t), Ok(Step1::Datos("http://x/sh/1".into())));
    }

    #[test]
    fn estado_in_body_wins_over_http_200() {
        let t = r#"{"descripcion" : "No hay datos que satisfagan esos criterios","estado" : 404}"#;
        assert!(matches!(classify(200, t), Err(FetchError::NotFound(d)) if d.contains("No hay")));
    }

    #[test]
    fn array_body_is_data() {
        assert_eq!(classify(200, "[ {} ]"), Ok(Step1::Data));
    }

    #[test]
    fn html_500_saying_429_is_rate_limit() {
        let t = "<html><body><h1>429 Too Many Requests</h1></body></html>";
        assert!(matches!(classify(500, t), Err(FetchError::RateLimited(_))));
        assert_eq!(classify(503, "<h1>down</h1>"), Err(FetchError::Server(503)));
    }

    #[test]
    fn empty_and_html_bodies() {
        assert_eq!(classify(200, " \n"), Err(FetchError::Empty));
        assert!(matches!(
            classify(200, "<html>"),
            Err(FetchError::Unexpected(_))
        ));
        assert!(matches!(
            classify(404, "<html>"),
            Err(FetchError::NotFound(_))
        ));
    }
}
