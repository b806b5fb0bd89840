//! The fake weather service: a local HTTP/1.1 server on port 0 that answers each request
//! target (path and query) with the replies set for it, counts requests, and can reset or hang.

use super::{fixture, meteogalicia};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server answers to one request.
#[derive(Clone, Debug)]
pub enum Reply {
    /// Status, content type, body.
    Body(u16, &'static str, Vec<u8>),
    /// An envelope like [`Reply::Envelope`] with one extra response header.
    EnvelopeWithHeader(&'static str, &'static str, &'static str, &'static str),
    /// An AEMET envelope (from a fixture file) whose `datos` points at `/opendata/sh/{name}`
    /// of this server.
    Envelope(&'static str, &'static str),
    /// Close the connection with a TCP reset, without answering.
    Reset,
    /// Never answer.
    Hang,
}

impl Reply {
    /// A reply whose body is a fixture file.
    pub fn fixture(status: u16, ctype: &'static str, file: &str) -> Reply {
        Reply::Body(status, ctype, fixture(file))
    }
}

/// JSON content type as AEMET labels it.
pub const JSON_LATIN9: &str = "application/json;charset=ISO-8859-15";
/// Step-2 content type as AEMET labels it.
pub const TEXT_LATIN9: &str = "text/plain;charset=ISO-8859-15";

/// A Tomcat-style HTML 404 page.
pub fn html_404() -> Reply {
    Reply::Body(
        404,
        "text/html;charset=utf-8",
        b"<!doctype html><html><head><title>HTTP Status 404 \xe2\x80\x93 Not Found</title></head>\
          <body><h1>HTTP Status 404 \xe2\x80\x93 Not Found</h1></body></html>"
            .to_vec(),
    )
}

/// The HTML 500 page AEMET sends when it means 429.
pub fn html_500_429() -> Reply {
    Reply::Body(
        500,
        "text/html",
        b"<html><head><title>429 Too Many Requests</title></head>\
          <body><h1>429 Too Many Requests</h1></body></html>"
            .to_vec(),
    )
}

#[derive(Default)]
struct State {
    routes: HashMap<String, Vec<Reply>>,
    counts: HashMap<String, usize>,
    keys: Vec<(String, Option<String>)>,
}

/// Which service the fake server plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plays {
    /// AEMET OpenData under `/opendata`.
    Aemet,
    /// MeteoGalicia under `/mgrss`.
    MeteoGalicia,
}

/// The fake weather service (AEMET, or MeteoGalicia with [`AemetServer::meteogalicia`]).
/// Dropping it stops the server.
pub struct AemetServer {
    /// `http://127.0.0.1:PORT`.
    pub origin: String,
    /// What it plays, which decides the command's `--source` and fast settings.
    pub kind: Plays,
    state: Arc<Mutex<State>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// The API path prefix.
pub const API: &str = "/opendata/api";

impl AemetServer {
    /// A server with the standard fixture routes: station 3195, municipality 28065 (daily
    /// in ISO-8859-15 wire bytes, hourly), `todas`, `maestro/municipios`.
    pub fn start() -> Self {
        let s = Self::empty();
        s.route(
            "observacion/convencional/datos/estacion/3195",
            vec![Reply::Envelope(
                "envelope-observation-station-3195.json",
                "station-3195",
            )],
        );
        s.datos("station-3195", fixture("observation-station-3195.json"));
        s.route(
            "prediccion/especifica/municipio/diaria/28065",
            vec![Reply::Envelope(
                "envelope-forecast-daily-28065.json",
                "daily-28065",
            )],
        );
        s.datos(
            "daily-28065",
            fixture("forecast-daily-28065.iso-8859-15.json"),
        );
        s.route(
            "prediccion/especifica/municipio/horaria/28065",
            vec![Reply::Envelope(
                "envelope-forecast-hourly-28065.json",
                "hourly-28065",
            )],
        );
        s.datos("hourly-28065", fixture("forecast-hourly-28065.json"));
        s.route(
            "observacion/convencional/todas",
            vec![Reply::Envelope("envelope-observation-todas.json", "todas")],
        );
        s.datos("todas", fixture("observation-todas-sample.json"));
        s.route(
            "maestro/municipios",
            vec![Reply::Envelope(
                "envelope-observation-todas.json",
                "municipios",
            )],
        );
        s.datos("municipios", fixture("municipios-sample.iso-8859-15.json"));
        s
    }

    /// A server that answers every path with an HTML 404.
    pub fn empty() -> Self {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        std_listener.set_nonblocking(true).expect("nonblocking");
        let origin = format!("http://{}", std_listener.local_addr().expect("addr"));
        let state = Arc::new(Mutex::new(State::default()));
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let st = state.clone();
        let org = origin.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = TcpListener::from_std(std_listener).expect("listener");
                tokio::select! {
                    _ = accept_loop(listener, st, org) => {}
                    _ = stopped => {}
                }
            });
        });
        AemetServer {
            origin,
            kind: Plays::Aemet,
            state,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// `{origin}/opendata/api`, or `{origin}/mgrss` for MeteoGalicia.
    pub fn base_url(&self) -> String {
        match self.kind {
            Plays::Aemet => format!("{}{API}", self.origin),
            Plays::MeteoGalicia => format!("{}{}", self.origin, meteogalicia::MGRSS),
        }
    }

    /// Sets the replies of an API path (after `/opendata/api/`), in order; the last repeats.
    pub fn route(&self, api_path: &str, replies: Vec<Reply>) {
        self.raw_route(&format!("{API}/{api_path}"), replies);
    }

    /// Sets the replies of any path.
    pub fn raw_route(&self, path: &str, replies: Vec<Reply>) {
        self.state
            .lock()
            .unwrap()
            .routes
            .insert(path.to_owned(), replies);
    }

    /// Serves `body` at `/opendata/sh/{name}` as AEMET labels step 2.
    pub fn datos(&self, name: &str, body: Vec<u8>) {
        self.raw_route(
            &format!("/opendata/sh/{name}"),
            vec![Reply::Body(200, TEXT_LATIN9, body)],
        );
    }

    /// Requests seen on an API path.
    pub fn count(&self, api_path: &str) -> usize {
        self.raw_count(&format!("{API}/{api_path}"))
    }

    /// Requests seen on any path.
    pub fn raw_count(&self, path: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .counts
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    /// Every request as (path, api_key header).
    pub fn requests(&self) -> Vec<(String, Option<String>)> {
        self.state.lock().unwrap().keys.clone()
    }
}

impl Drop for AemetServer {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn accept_loop(listener: TcpListener, state: Arc<Mutex<State>>, origin: String) {
    loop {
        let Ok((sock, _)) = listener.accept().await else {
            continue;
        };
        let st = state.clone();
        let org = origin.clone();
        tokio::spawn(async move {
            let _ = serve(sock, st, org).await;
        });
    }
}

/// Reads one request head: (path, api_key header).
async fn read_head(sock: &mut TcpStream) -> std::io::Result<Option<(String, Option<String>)>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = sock.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let mut lines = head.split("\r\n");
    // The request target with its query: MeteoGalicia's ids are query parameters.
    let path = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or("/")
        .to_owned();
    let key = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("api_key"))
        .map(|(_, v)| v.trim().to_owned());
    Ok(Some((path, key)))
}

async fn serve(
    mut sock: TcpStream,
    state: Arc<Mutex<State>>,
    origin: String,
) -> std::io::Result<()> {
    let Some((path, key)) = read_head(&mut sock).await? else {
        return Ok(());
    };
    let reply = {
        let mut st = state.lock().unwrap();
        st.keys.push((path.clone(), key.clone()));
        let n = st.counts.entry(path.clone()).or_default();
        let i = *n;
        *n += 1;
        // An exact route (with the query) wins over one for the path alone.
        let bare = path.split('?').next().unwrap_or(&path);
        match st.routes.get(&path).or_else(|| st.routes.get(bare)) {
            Some(r) if !r.is_empty() => r[i.min(r.len() - 1)].clone(),
            _ => html_404(),
        }
    };
    // AEMET answers a step-1 request without a key with an empty 200.
    let reply = if path.starts_with(API) && key.is_none() {
        Reply::Body(200, "text/plain", Vec::new())
    } else {
        reply
    };
    let envelope = |file: &str, name: &str| {
        let mut v: serde_json::Value =
            serde_json::from_slice(&fixture(file)).expect("envelope fixture");
        v["datos"] = format!("{origin}/opendata/sh/{name}").into();
        v.to_string().into_bytes()
    };
    let mut extra = String::new();
    let (status, ctype, body) = match reply {
        Reply::Body(s, c, b) => (s, c, b),
        Reply::Envelope(file, name) => (200, JSON_LATIN9, envelope(file, name)),
        Reply::EnvelopeWithHeader(file, name, h, v) => {
            extra = format!("{h}: {v}\r\n");
            (200, JSON_LATIN9, envelope(file, name))
        }
        Reply::Reset => {
            #[allow(deprecated)] // a zero linger is exactly what sends the RST
            sock.set_linger(Some(Duration::ZERO))?;
            drop(sock);
            return Ok(());
        }
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return Ok(());
        }
    };
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n",
        body.len()
    );
    sock.write_all(head.as_bytes()).await?;
    sock.write_all(&body).await?;
    sock.shutdown().await
}
