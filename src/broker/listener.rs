//! Listening sockets and the accept loop. The accept path hands any `AsyncRead + AsyncWrite`
//! stream to [`super::link::serve`], so a TLS acceptor slots in between accept and serve.

use super::config::ListenerConfig;
use super::link::{LinkContext, LinkLimits, serve};
use super::router::Router;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{broadcast, mpsc};

/// A bound listener, ready to accept.
pub struct Listener {
    /// Index in the listener list.
    pub index: usize,
    /// The socket.
    pub socket: TcpListener,
    /// Connection limit.
    pub max_connections: Option<usize>,
}

/// Binds every address of `config`. Without an explicit address the IPv6 wildcard is tried
/// first (dual-stack on Linux), then the IPv4 one.
pub async fn bind(index: usize, config: &ListenerConfig) -> std::io::Result<Vec<Listener>> {
    let addrs = config.addrs()?;
    let mut out = Vec::new();
    let mut last_err = None;
    for addr in addrs {
        match listen(addr) {
            Ok(socket) => {
                out.push(Listener {
                    index,
                    socket,
                    max_connections: config.max_connections,
                });
                if config.bind.is_none() {
                    break;
                }
            }
            Err(e) => last_err = Some(e),
        }
    }
    match (out.is_empty(), last_err) {
        (true, Some(e)) => Err(e),
        (true, None) => Err(std::io::Error::other("no address to listen on")),
        _ => Ok(out),
    }
}

/// Binds with a deep accept backlog (capped by the kernel's somaxconn), so bursts of new
/// connections are not refused, and with SO_REUSEADDR, so a restart does not wait out
/// TIME_WAIT.
fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(4096)
}

/// Decrements the connection count when a link ends.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Accepts connections until shutdown, one task per connection. Every task holds a clone of
/// `done`, so the broker knows when the last one ended.
pub async fn accept_loop(
    l: Listener,
    router: Arc<Router>,
    limits: Arc<LinkLimits>,
    shutdown: broadcast::Sender<()>,
    done: mpsc::Sender<()>,
) {
    let mut stop = shutdown.subscribe();
    let count = Arc::new(AtomicUsize::new(0));
    loop {
        let accepted = tokio::select! {
            r = l.socket.accept() => r,
            _ = stop.recv() => return,
        };
        let (stream, peer): (_, SocketAddr) = match accepted {
            Ok(x) => x,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                router
                    .settings()
                    .log
                    .info(format_args!("Error: accept: {e}"));
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        if let Some(max) = l.max_connections {
            if count.load(Ordering::Relaxed) >= max {
                router.settings().log.info(format_args!(
                    "Client connection from {} denied: max_connections exceeded.",
                    peer.ip()
                ));
                continue;
            }
        }
        count.fetch_add(1, Ordering::Relaxed);
        let slot = Slot(count.clone());
        // Batched writes already coalesce; Nagle would only add latency to acks.
        let _ = stream.set_nodelay(true);
        let ctx = LinkContext {
            router: router.clone(),
            listener: l.index,
            peer,
            shutdown: shutdown.subscribe(),
            limits: limits.clone(),
        };
        let done = done.clone();
        tokio::spawn(async move {
            serve(stream, ctx).await;
            drop(slot);
            drop(done);
        });
    }
}
