//! What every source's HTTP client shares: one reqwest client with timeouts, a spacing between
//! requests, retries with exponential backoff, bodies decoded without loss, and the errors.
//!
//! 429s, 5xx, timeouts and network errors are always retried; a source may retry more (an HTML
//! maintenance page, an empty body) through the `also_retry` predicate of [`Http::retrying`].

use super::decode::decode_text;
use super::log;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// How a client talks to its source.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Minimum spacing of requests.
    pub request_interval: Duration,
    /// Whole-request timeout (connect, headers and body).
    pub timeout: Duration,
    /// Retries after the first attempt.
    pub retries: u32,
    /// First backoff for 5xx and network errors; doubled per retry.
    pub backoff: Duration,
    /// Wait after a 429.
    pub backoff_429: Duration,
}

/// Why a product could not be fetched.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FetchError {
    /// 401: the key is invalid or expired.
    #[error("API key rejected (401): {0}")]
    Auth(String),
    /// The source says there is no such thing (an unknown id or route).
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
    /// HTTP 200 with an empty body from a source that needs no key.
    #[error("empty response")]
    EmptyBody,
    /// Anything else that is not what the API promises (an HTML page, another status).
    #[error("unexpected response: {0}")]
    Unexpected(String),
}

impl FetchError {
    /// The wait before retrying, or `None` if this error is final.
    pub fn retry_after(
        &self,
        cfg: &HttpConfig,
        attempt: u32,
        also_retry: fn(&FetchError) -> bool,
    ) -> Option<Duration> {
        match self {
            FetchError::RateLimited(_) => Some(cfg.backoff_429),
            FetchError::Server(_) | FetchError::Network(_) | FetchError::Timeout(_) => {
                Some(cfg.backoff.saturating_mul(1 << attempt.min(10)))
            }
            e if also_retry(e) => Some(cfg.backoff.saturating_mul(1 << attempt.min(10))),
            _ => None,
        }
    }
}

/// Retries only what [`FetchError::retry_after`] always retries.
pub fn nothing_else(_: &FetchError) -> bool {
    false
}

/// A response, decoded.
#[derive(Debug)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body as text (UTF-8, else ISO-8859-15).
    pub text: String,
}

/// The HTTP client with its request spacing.
pub struct Http {
    client: reqwest::Client,
    cfg: HttpConfig,
    next_slot: Mutex<Instant>,
}

impl Http {
    /// Builds the client; fails only if the TLS stack cannot be set up.
    pub fn new(cfg: HttpConfig) -> Result<Self, FetchError> {
        let client = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .connect_timeout(cfg.timeout.min(Duration::from_secs(15)))
            .user_agent(concat!("mq-meteo/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| FetchError::Network(chain(&e)))?;
        Ok(Http {
            client,
            cfg,
            next_slot: Mutex::new(Instant::now()),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &HttpConfig {
        &self.cfg
    }

    /// Waits for the next request slot.
    pub async fn throttle(&self) {
        let mut next = self.next_slot.lock().await;
        let now = Instant::now();
        if *next > now {
            tokio::time::sleep_until(*next).await;
        }
        *next = Instant::now() + self.cfg.request_interval;
    }

    /// `GET url` with extra headers; the body is read whole and decoded.
    pub async fn get(&self, url: &str, headers: &[(&str, &str)]) -> Result<Response, FetchError> {
        log::debug(format_args!("GET {url}"));
        let mut req = self.client.get(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.map_err(|e| self.net(&e))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map_err(|e| self.net(&e))?;
        Ok(Response {
            status,
            headers,
            text: decode_text(&body),
        })
    }

    /// Runs `attempt` until it succeeds, fails for good or runs out of retries; each retry is
    /// logged with its reason and wait.
    pub async fn retrying<F, Fut>(
        &self,
        what: &str,
        also_retry: fn(&FetchError) -> bool,
        mut attempt: F,
    ) -> Result<String, FetchError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<String, FetchError>>,
    {
        let mut n = 0;
        loop {
            let err = match attempt().await {
                Ok(text) => return Ok(text),
                Err(e) => e,
            };
            match err.retry_after(&self.cfg, n, also_retry) {
                Some(wait) if n < self.cfg.retries => {
                    log::warn(format_args!("{what}: {err}; retrying in {wait:?}"));
                    tokio::time::sleep(wait).await;
                    n += 1;
                }
                _ => return Err(err),
            }
        }
    }

    fn net(&self, e: &reqwest::Error) -> FetchError {
        if e.is_timeout() {
            FetchError::Timeout(self.cfg.timeout)
        } else {
            FetchError::Network(chain(e))
        }
    }
}

/// The start of a body, on one line, for error messages.
pub fn snippet(text: &str) -> String {
    let t: String = text.trim().chars().take(80).collect();
    t.replace(['\n', '\r'], " ")
}

/// An error with its sources, since reqwest's own message hides the cause.
pub fn chain(e: &dyn std::error::Error) -> String {
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

    fn cfg() -> HttpConfig {
        HttpConfig {
            request_interval: Duration::ZERO,
            timeout: Duration::from_secs(1),
            retries: 3,
            backoff: Duration::from_millis(100),
            backoff_429: Duration::from_secs(60),
        }
    }

    #[test]
    fn retry_policy() {
        let r = |e: FetchError, a| e.retry_after(&cfg(), a, nothing_else);
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

    #[test]
    fn a_source_may_retry_more() {
        let html = FetchError::Unexpected("HTML page".into());
        let lenient = |e: &FetchError| matches!(e, FetchError::Unexpected(_));
        assert_eq!(html.retry_after(&cfg(), 0, nothing_else), None);
        assert_eq!(
            html.retry_after(&cfg(), 1, lenient),
            Some(Duration::from_millis(200))
        );
    }
}
