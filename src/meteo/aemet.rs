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

use super::decode::decode_text;
use serde::Deserialize;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

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

/// Why a product could not be fetched.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FetchError {
    /// 401: the key is invalid or expired.
    #[error("API key rejected (401): {0}")]
    Auth(String),
    /// HTTP 200 with `estado` 404, or an HTTP 404 page.
    #[error("not found: {0}")]
    NotFound(String),
    /// 429, after the retries.
    #[error("rate limited: {0}")]
    RateLimited(String),
    /// A 5xx, after the retries.
    #[error("server error: HTTP {0}")]
    Server(u16),
    /// Connection refused or reset, TLS failure, a truncated transfer; after the retries.
    #[error("network error: {0}")]
    Network(String),
    /// No answer in time, after the retries.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// HTTP 200 with an empty body (AEMET's answer when the key is missing).
    #[error("empty response (AEMET answers so when the API key is missing or not accepted)")]
    Empty,
    /// Anything else that is not what the API promises.
    #[error("unexpected response: {0}")]
    Unexpected(String),
}

impl FetchError {
    /// The wait before retrying, or `None` if this error is final.
    fn retry_after(&self, cfg: &Config, attempt: u32) -> Option<Duration> {
        match self {
            FetchError::RateLimited(_) => Some(cfg.backoff_429),
            FetchError::Server(_) | FetchError::Network(_) | FetchError::Timeout(_) => {
                Some(cfg.backoff.saturating_mul(1 << attempt.min(10)))
            }
            _ => None,
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
    http: reqwest::Client,
    cfg: Config,
    next_slot: Mutex<Instant>,
}

impl Client {
    /// Builds the client; fails only if the TLS stack cannot be set up.
    pub fn new(cfg: Config) -> Result<Self, FetchError> {
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .connect_timeout(cfg.timeout.min(Duration::from_secs(15)))
            .user_agent(concat!("mq-meteo/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| FetchError::Network(chain(&e)))?;
        Ok(Client {
            http,
            cfg,
            next_slot: Mutex::new(Instant::now()),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Fetches a product (`path` after the base URL) and returns its decoded text.
    pub async fn fetch(&self, path: &str) -> Result<String, FetchError> {
        let mut attempt = 0;
        loop {
            let err = match self.fetch_once(path).await {
                Ok(text) => return Ok(text),
                Err(e) => e,
            };
            match err.retry_after(&self.cfg, attempt) {
                Some(wait) if attempt < self.cfg.retries => {
                    eprintln!("Warning: {path}: {err}; retrying in {wait:?}");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                _ => return Err(err),
            }
        }
    }

    /// Waits for the next rate-limit slot.
    async fn throttle(&self) {
        let mut next = self.next_slot.lock().await;
        let now = Instant::now();
        if *next > now {
            tokio::time::sleep_until(*next).await;
        }
        *next = Instant::now() + self.cfg.request_interval;
    }

    async fn fetch_once(&self, path: &str) -> Result<String, FetchError> {
        self.throttle().await;
        let url = format!("{}/{}", self.cfg.base_url.trim_end_matches('/'), path);
        let req = self
            .http
            .get(&url)
            .header("api_key", &self.cfg.api_key)
            .header("Cache-Control", "no-cache");
        let resp = req.send().await.map_err(|e| self.net(&e))?;
        if let Some(left) = quota_left(resp.headers()) {
            if left <= QUOTA_WARN {
                eprintln!("Warning: AEMET quota nearly used up: {left} requests left");
            }
        }
        let (status, text) = self.read(resp).await?;
        match classify(status, &text)? {
            Step1::Data => Ok(text),
            Step1::Datos(url) => self.fetch_datos(&url).await,
        }
    }

    /// Step 2: the `datos` URL, at once and without the key.
    async fn fetch_datos(&self, url: &str) -> Result<String, FetchError> {
        let (status, text) = self.send(self.http.get(url)).await?;
        match status {
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

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<(u16, String), FetchError> {
        let resp = req.send().await.map_err(|e| self.net(&e))?;
        self.read(resp).await
    }

    async fn read(&self, resp: reqwest::Response) -> Result<(u16, String), FetchError> {
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(|e| self.net(&e))?;
        Ok((status, decode_text(&body)))
    }

    fn net(&self, e: &reqwest::Error) -> FetchError {
        if e.is_timeout() {
            FetchError::Timeout(self.cfg.timeout)
        } else {
            FetchError::Network(chain(e))
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

fn snippet(text: &str) -> String {
    let t: String = text.trim().chars().take(80).collect();
    t.replace(['\n', '\r'], " ")
}

/// An error with its sources, since reqwest's own message hides the cause.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        s.push_str(": ");
        s.push_str(&c.to_string());
        src = c.source();
    }
    s
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

    #[test]
    fn retry_policy() {
        let cfg = Config {
            base_url: String::new(),
            api_key: String::new(),
            request_interval: Duration::ZERO,
            timeout: Duration::from_secs(1),
            retries: 3,
            backoff: Duration::from_millis(100),
            backoff_429: Duration::from_secs(60),
        };
        let r = |e: FetchError, a| e.retry_after(&cfg, a);
        assert_eq!(r(FetchError::Auth("x".into()), 0), None);
        assert_eq!(r(FetchError::NotFound("x".into()), 0), None);
        assert_eq!(r(FetchError::Empty, 0), None);
        assert_eq!(
            r(FetchError::Server(502), 2),
            Some(Duration::from_millis(400))
        );
        assert_eq!(
            r(FetchError::RateLimited("x".into()), 1),
            Some(Duration::from_secs(60))
        );
    }
}
