//! `http_dir`: static files for plain GET requests on a websockets listener.
//!
//! A request path is percent-decoded, split into components, and refused (404) if any
//! component is `..`, holds a backslash or a NUL, or the resolved file (after symbolic links)
//! lies outside the canonical `http_dir`. A directory serves its `index.html`.

use super::http::{Head, Response};
use std::path::{Path, PathBuf};

/// Answers `head` from `dir`.
pub async fn serve(dir: &Path, head: &Head) -> Response {
    if head.method != "GET" {
        return Response::text(
            405,
            format!("{} is not allowed here: GET only", head.method),
        )
        .with("Allow", "GET");
    }
    let Some(relative) = relative_path(head.path()) else {
        return not_found(head.path());
    };
    let Some(file) = resolve(dir, &relative).await else {
        return not_found(head.path());
    };
    match tokio::fs::read(&file).await {
        Ok(body) => {
            Response::new(200, content_type(&file), body).with("X-Content-Type-Options", "nosniff")
        }
        Err(_) => not_found(head.path()),
    }
}

fn not_found(path: &str) -> Response {
    Response::text(404, format!("{path}: no such file"))
}

/// The file path a URL path names, relative to `http_dir`; `None` for a path that tries to
/// leave it or cannot name a file.
pub fn relative_path(url_path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(url_path)?;
    let mut out = PathBuf::new();
    for part in decoded.split('/') {
        match part {
            "" | "." => {}
            ".." => return None,
            p if p.contains(['\\', '\0']) => return None,
            p => out.push(p),
        }
    }
    if decoded.ends_with('/') || out.as_os_str().is_empty() {
        out.push("index.html");
    }
    Some(out)
}

/// `dir/relative` if it is a regular file inside `dir` once every link is followed (a
/// directory gives its `index.html`).
async fn resolve(dir: &Path, relative: &Path) -> Option<PathBuf> {
    let root = tokio::fs::canonicalize(dir).await.ok()?;
    let mut file = tokio::fs::canonicalize(root.join(relative)).await.ok()?;
    if tokio::fs::metadata(&file).await.ok()?.is_dir() {
        file = tokio::fs::canonicalize(file.join("index.html"))
            .await
            .ok()?;
    }
    let meta = tokio::fs::metadata(&file).await.ok()?;
    (file.starts_with(&root) && meta.is_file()).then_some(file)
}

/// Decodes `%XX` escapes; `None` for a bad escape or a result that is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The media type of a file, by its extension.
pub fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("txt") => "text/plain; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("ico") => "image/x-icon",
        Some("webp") => "image/webp",
        Some("wasm") => "application/wasm",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_in_any_spelling_is_refused() {
        for bad in [
            "/../etc/passwd",
            "/a/../../etc/passwd",
            "/%2e%2e/etc/passwd",
            "/%2E%2E%2Fetc%2Fpasswd",
            "/a/..%2f..%2fb",
            "/a\\..\\b",
            "/%00",
            "/%zz",
            "/%c0%ae%c0%ae/x",
        ] {
            assert_eq!(relative_path(bad), None, "{bad}");
        }
        assert_eq!(relative_path("/"), Some(PathBuf::from("index.html")));
        assert_eq!(
            relative_path("/docs/./a%20b.html"),
            Some(PathBuf::from("docs/a b.html"))
        );
        assert_eq!(
            relative_path("//docs/"),
            Some(PathBuf::from("docs/index.html"))
        );
    }

    fn get(path: &str) -> Head {
        Head {
            method: "GET".into(),
            target: path.into(),
            headers: vec![],
        }
    }

    #[tokio::test]
    async fn serves_files_inside_http_dir_only() {
        let root = tempfile::tempdir().unwrap();
        let www = root.path().join("www");
        std::fs::create_dir_all(www.join("sub")).unwrap();
        std::fs::write(www.join("index.html"), "<h1>hi</h1>").unwrap();
        std::fs::write(www.join("sub/app.js"), "let a = 1;").unwrap();
        std::fs::write(root.path().join("secret.txt"), "secret").unwrap();
        std::os::unix::fs::symlink(root.path().join("secret.txt"), www.join("link.txt")).unwrap();

        let r = serve(&www, &get("/")).await;
        assert_eq!((r.status, &*r.body), (200, &b"<h1>hi</h1>"[..]));
        let r = serve(&www, &get("/sub/app.js?v=2")).await;
        assert_eq!(r.status, 200);
        assert!(
            r.headers
                .iter()
                .any(|(_, v)| v.starts_with("text/javascript"))
        );
        for path in ["/link.txt", "/../secret.txt", "/nope.html", "/sub"] {
            assert_eq!(serve(&www, &get(path)).await.status, 404, "{path}");
        }
        let mut post = get("/");
        post.method = "POST".into();
        assert_eq!(serve(&www, &post).await.status, 405);
    }
}
