//! The status page of the `http_api` listener, embedded in the binary: `web/index.html`, its
//! script and style, and the vendored MQTT.js browser bundle (`web/vendor/`, MIT). The page
//! polls `/metrics` and `/api/v1/listeners` for the broker's state and talks MQTT from the
//! browser over the broker's own websockets listener for the topic browser; nothing is
//! fetched from anywhere else.

use super::http::Response;

/// One embedded file.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($path:literal, $file:literal, $type:literal) => {
        Asset {
            path: $path,
            content_type: $type,
            body: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/web/", $file)),
        }
    };
}

const ASSETS: &[Asset] = &[
    asset!("/", "index.html", "text/html; charset=utf-8"),
    asset!("/app.js", "app.js", "text/javascript; charset=utf-8"),
    asset!("/style.css", "style.css", "text/css; charset=utf-8"),
    asset!(
        "/vendor/mqtt.min.js",
        "vendor/mqtt.min.js",
        "text/javascript; charset=utf-8"
    ),
    asset!(
        "/vendor/LICENSE-mqtt.js.md",
        "vendor/LICENSE-mqtt.js.md",
        "text/plain; charset=utf-8"
    ),
];

/// Scripts only from this origin, no inline code; WebSockets to any port of any host (the
/// broker's websockets listener is another port, perhaps another address).
const CSP: &str = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; \
                   style-src 'self'; script-src 'self'; frame-ancestors 'none'";

/// The embedded file at `path` (`/index.html` is `/`).
pub fn asset(path: &str) -> Option<Response> {
    let path = if path == "/index.html" { "/" } else { path };
    let a = ASSETS.iter().find(|a| a.path == path)?;
    Some(
        Response::new(200, a.content_type, a.body)
            .with("Cache-Control", "no-cache")
            .with("X-Content-Type-Options", "nosniff")
            .with("Content-Security-Policy", CSP),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_and_its_scripts_are_embedded() {
        let index = asset("/").unwrap();
        let html = String::from_utf8_lossy(&index.body);
        for needed in ["/app.js", "/style.css", "/vendor/mqtt.min.js"] {
            assert!(html.contains(needed), "index.html loads {needed}");
            assert_eq!(asset(needed).unwrap().status, 200);
        }
        assert!(asset("/vendor/mqtt.min.js").unwrap().body.len() > 100_000);
        assert!(asset("/nope").is_none());
    }
}
