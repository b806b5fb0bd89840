//! The MeteoGalicia HTTP client: one `GET` per product under the `mgrss` base, no key.
//!
//! ```text
//! GET {base}/observacion/ultimos10minEstacionsMeteo.action?idEst=10124
//!   200 {"listUltimos10min":[{"idEstacion":10124,"instanteLecturaUTC":"2026-09-27T21:30:00",…}]}
//! GET {base}/predicion/jsonPredConcellos.action?idConc=99999
//!   200 {"predConcello":null}                      an unknown id is not a 404
//! ```
//!
//! MeteoGalicia's outages show as 5xx, 404 or HTML pages, empty bodies and slow answers: all
//! are retried with backoff. A JSON answer is final, also when it says there is no such id.

use crate::meteo::http::{FetchError, Http, HttpConfig, snippet};

/// MeteoGalicia's public endpoint for its JSON services.
pub const DEFAULT_BASE_URL: &str = "https://servizos.meteogalicia.gal/mgrss";

/// How the client talks to MeteoGalicia.
#[derive(Debug, Clone)]
pub struct Config {
    /// Base URL, `…/mgrss`.
    pub base_url: String,
    /// Spacing, timeout and retries.
    pub http: HttpConfig,
}

/// The HTTP client.
pub struct Client {
    http: Http,
    cfg: Config,
}

/// Outages, not answers: retried like a 5xx.
fn outage(e: &FetchError) -> bool {
    matches!(e, FetchError::Unexpected(_) | FetchError::EmptyBody)
}

impl Client {
    /// Builds the client; fails only if the TLS stack cannot be set up.
    pub fn new(cfg: Config) -> Result<Self, FetchError> {
        let http = Http::new(cfg.http.clone())?;
        Ok(Client { http, cfg })
    }

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Fetches `path` (with its query, after the base URL) and returns the JSON text.
    pub async fn fetch(&self, path: &str) -> Result<String, FetchError> {
        self.http
            .retrying(path, outage, || self.fetch_once(path))
            .await
    }

    async fn fetch_once(&self, path: &str) -> Result<String, FetchError> {
        self.http.throttle().await;
        let url = format!("{}/{}", self.cfg.base_url.trim_end_matches('/'), path);
        let resp = self.http.get(&url, &[]).await?;
        classify(resp.status, resp.text)
    }
}

/// A response by its status and body: JSON text, or why not.
fn classify(status: u16, text: String) -> Result<String, FetchError> {
    match status {
        200 => {}
        429 => return Err(FetchError::RateLimited(snippet(&text))),
        s if s >= 500 => return Err(FetchError::Server(s)),
        s => {
            return Err(FetchError::Unexpected(format!(
                "HTTP {s}: {}",
                snippet(&text)
            )));
        }
    }
    let body = text.trim_start_matches('\u{feff}').trim_start();
    if body.is_empty() {
        return Err(FetchError::EmptyBody);
    }
    if !body.starts_with(['{', '[']) {
        return Err(FetchError::Unexpected(format!(
            "not JSON (an HTML page?): {}",
            snippet(body)
        )));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_empty_and_errors_are_told_apart() {
        assert_eq!(classify(200, "{}".into()), Ok("{}".into()));
        assert_eq!(classify(200, " \n".into()), Err(FetchError::EmptyBody));
        assert!(matches!(
            classify(200, "<!DOCTYPE html><h1>Mantemento</h1>".into()),
            Err(FetchError::Unexpected(m)) if m.contains("Mantemento")
        ));
        assert_eq!(classify(502, "".into()), Err(FetchError::Server(502)));
        assert!(matches!(
            classify(404, "<h1>404</h1>".into()),
            Err(FetchError::Unexpected(_))
        ));
        assert!(outage(&FetchError::EmptyBody));
        assert!(!outage(&FetchError::NotFound("x".into())));
    }
}
