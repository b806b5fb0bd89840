//! One task per connection: read packets, answer them, write queued deliveries.
//!
//! ```text
//!  socket ─read─▶ rbuf ─decode─▶ handle ─▶ out: Vec<Outgoing> ─encode─▶ wbuf ─write─▶ socket
//!                                   │                                   ▲
//!                                router ── session queue ── wake ── fill┘
//! ```
//!
//! The stream type is generic (TCP now, TLS later). Buffers exist only while there is something
//! to read or write: an idle connection polls its socket into a small array on the poller's
//! stack and holds no heap buffer. Everything queued is encoded into one buffer and written
//! with one write call per batch. Writing stops pulling from the session queue above a
//! high-water mark, so a slow reader only fills its own bounded queue. Keepalive, takeover and
//! shutdown arrive as a state change plus a wake-up on the session, so a connection carries no
//! timer and no extra channel.

use super::order::Reader;
use super::router::{Router, SessionCell};
use crate::protocol::{self, Packet, QoS, ReasonCode, Version};
use crate::session::{Message, Outgoing};
use bytes::{Buf, Bytes, BytesMut};
pub use mount::MountPoint;
use std::future::poll_fn;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::sync::broadcast;

mod alias_out;
mod durable;
mod handle;
mod mount;
mod oversize;
mod v5;

/// Bytes read at once while a connection is busy.
const READ_CHUNK: usize = 8 * 1024;
/// Bytes read at once while discarding an oversize PUBLISH: few wake-ups per megabyte, and
/// the buffer is let go of as soon as the packet has gone by.
const SKIP_CHUNK: usize = 64 * 1024;
/// Bytes read at once while idle (on the poller's stack, not the heap).
const IDLE_CHUNK: usize = 64;
/// Stop filling the write buffer from the session queue above this many bytes.
const HIGH_WATER: usize = 64 * 1024;
/// Longest a closing connection waits to write its last bytes.
pub const FLUSH_BOUND: Duration = Duration::from_secs(2);

/// What a link needs to know about where it runs.
pub struct LinkContext {
    /// The shared state.
    pub router: Arc<Router>,
    /// Listener index (for access checks).
    pub listener: usize,
    /// Peer address (for logs).
    pub peer: SocketAddr,
    /// Broker shutdown, listened to until CONNECT (then the session carries it).
    pub shutdown: broadcast::Receiver<()>,
    /// Limits and timeouts from the config.
    pub limits: Arc<LinkLimits>,
    /// Common name of the client's TLS certificate (for `use_identity_as_username`).
    pub cert_identity: Option<Arc<str>>,
}

/// Per-connection limits from the config.
#[derive(Clone, Debug)]
pub struct LinkLimits {
    /// Time to wait for CONNECT.
    pub connect_timeout: Duration,
    /// Largest packet accepted.
    pub max_packet_size: u32,
    /// Largest PUBLISH payload routed (0 = any).
    pub message_size_limit: u32,
    /// Whether retained PUBLISH is allowed.
    pub retain_available: bool,
    /// Largest keepalive; v5 clients asking more are told this one.
    pub max_keepalive: u16,
    /// Whether an empty client id gets a generated one.
    pub allow_zero_length_clientid: bool,
    /// Prefix of generated ids.
    pub auto_id_prefix: String,
    /// Our inflight window, also the receive maximum told to v5 clients (0 = none).
    pub max_inflight: u16,
    /// Highest QoS accepted from clients (v5 CONNACK maximum QoS when below 2).
    pub max_qos: u8,
    /// Topic aliases a v5 client may define (CONNACK topic alias maximum; 0 = none).
    pub max_topic_alias: u16,
    /// `clientid_prefixes`: only client ids starting with it may connect (empty = any).
    pub clientid_prefix: String,
    /// `persistent_client_expiration`, in seconds: how long a session that would be kept for
    /// ever outlives its connection.
    pub persistent_client_expiration: Option<u32>,
    /// `use_username_as_clientid`, by listener index: the user name replaces the client id.
    pub username_as_clientid: Vec<bool>,
    /// `mount_point`, by listener index: the topic prefix of the listener's clients.
    pub mount_points: Vec<Option<Arc<MountPoint>>>,
}

/// Why a connection ends.
#[derive(Debug)]
pub(crate) enum Close {
    /// DISCONNECT received: no will (unless v5 asked for it).
    Clean { send_will: bool },
    /// Anything else; the text completes the log line "Client <id> ...".
    Error(String, Option<ReasonCode>),
    /// The broker is shutting down.
    Shutdown,
}

/// What woke the connection.
enum Event {
    Read(std::io::Result<usize>),
    Wrote(std::io::Result<usize>),
    Flushed(std::io::Result<()>),
    Wake,
}

/// `msg` as the QoS 0 PUBLISH every subscriber of [`Outgoing::Shared`] gets.
fn shared_packet(msg: &Message) -> Packet {
    Packet::Publish(protocol::Publish {
        dup: false,
        qos: QoS::AtMostOnce,
        retain: false,
        topic: msg.topic.clone(),
        packet_id: None,
        properties: msg.properties.clone(),
        payload: msg.payload.clone(),
    })
}

/// The bytes of `msg` as a QoS 0 PUBLISH for `version`, encoded by the first subscriber link
/// that needs them and shared by all the others.
fn shared_wire(msg: &Message, version: Version) -> Result<&Bytes, protocol::EncodeError> {
    let slot = &msg.wire[version.is_v5() as usize];
    if let Some(b) = slot.get() {
        return Ok(b);
    }
    let packet = shared_packet(msg);
    let mut buf = BytesMut::new();
    protocol::encode(&packet, version, &mut buf)?;
    Ok(slot.get_or_init(|| buf.freeze()))
}

/// A link's read or write buffer: nothing on the heap while empty (an idle connection holds
/// two), allocated by the first write into it and let go of, by assigning a new one, once
/// drained.
type Buffer = crate::session::lazy::Lazy<BytesMut>;

/// The socket and its buffers.
struct Io<S> {
    stream: S,
    rbuf: Buffer,
    wbuf: Buffer,
    busy: bool,
    unflushed: bool,
    version: Version,
    /// Bytes of an oversize PUBLISH still to discard as they arrive (a packet is at most
    /// 268,435,460 bytes long, which fits).
    skip: u32,
    /// What this connection's packets need beyond the shared encoding (most need nothing).
    rewrite: Option<Box<Rewrite>>,
    /// Where this connection's reads stand in the broker's reading order.
    reader: Reader,
}

/// How a connection's outgoing packets differ from the bytes every subscriber shares.
struct Rewrite {
    /// Topic aliases of what this connection sends (v5 clients that accept them).
    aliases: Option<Box<alias_out::OutAliases>>,
    /// The listener's `mount_point`, stripped from what this connection sends.
    mount: Option<Arc<MountPoint>>,
}

impl Rewrite {
    fn new(
        aliases: Option<Box<alias_out::OutAliases>>,
        mount: Option<Arc<MountPoint>>,
    ) -> Option<Box<Rewrite>> {
        (aliases.is_some() || mount.is_some()).then(|| Box::new(Rewrite { aliases, mount }))
    }

    /// Rewrites `p` for this connection; false when it is not to be sent (outside the mount
    /// point).
    fn apply(&mut self, p: &mut Packet) -> bool {
        if let Some(mount) = &self.mount
            && !mount.outgoing(p)
        {
            return false;
        }
        if let Some(aliases) = &mut self.aliases {
            aliases.apply(p);
        }
        true
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Io<S> {
    /// Polls for more bytes; `Ready(Ok(0))` means the peer closed. The socket is polled with
    /// the connection's [`Reader`] waker, so what it reads takes its place in the reading order.
    fn poll_read_more(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<usize>> {
        let waker = self.reader.waker(cx);
        let r = self.poll_read_with(&mut Context::from_waker(&waker));
        match r {
            Poll::Ready(_) => self.reader.read(),
            Poll::Pending => self.reader.idle(),
        }
        r
    }

    fn poll_read_with(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<usize>> {
        if self.skip > 0 || self.busy || !self.rbuf.is_empty() {
            let chunk = if self.skip > 0 {
                SKIP_CHUNK
            } else {
                READ_CHUNK
            };
            let start = self.rbuf.len();
            self.rbuf.resize(start + chunk, 0);
            let mut rb = ReadBuf::new(&mut self.rbuf[start..]);
            let r = Pin::new(&mut self.stream).poll_read(cx, &mut rb);
            let n = rb.filled().len();
            self.rbuf.truncate(start + n);
            return r.map_ok(|()| n);
        }
        let mut small = [0u8; IDLE_CHUNK];
        let mut rb = ReadBuf::new(&mut small);
        match Pin::new(&mut self.stream).poll_read(cx, &mut rb) {
            Poll::Ready(Ok(())) => {
                let n = rb.filled().len();
                self.rbuf.extend_from_slice(rb.filled());
                self.busy = n == IDLE_CHUNK;
                Poll::Ready(Ok(n))
            }
            other => other.map_ok(|()| 0),
        }
    }

    async fn read_more(&mut self) -> std::io::Result<usize> {
        poll_fn(|cx| self.poll_read_more(cx)).await
    }

    /// Drops the read buffer when everything in it was decoded.
    fn settle_read(&mut self, n: usize) {
        if self.rbuf.is_empty() {
            self.rbuf = Buffer::new();
            if n < READ_CHUNK / 2 {
                self.busy = false;
            }
        }
    }

    fn encode(&mut self, packets: &mut Vec<Outgoing>, router: &Router) -> Result<(), String> {
        let (mut sent, mut payload) = (0, 0);
        let packets_sent = packets.len() as u64;
        for p in packets.drain(..) {
            let mut p = match p {
                Outgoing::Shared(msg) if self.rewrite.is_none() => {
                    sent += 1;
                    payload += msg.payload.len() as u64;
                    let wire = shared_wire(&msg, self.version).map_err(|e| e.to_string())?;
                    self.wbuf.extend_from_slice(wire);
                    continue;
                }
                // Its bytes differ from one connection to the next: encoded here.
                Outgoing::Shared(msg) => shared_packet(&msg),
                Outgoing::Packet(p) => p,
            };
            if let Some(rewrite) = &mut self.rewrite
                && !rewrite.apply(&mut p)
            {
                continue;
            }
            if let Packet::Publish(p) = &p {
                sent += 1;
                payload += p.payload.len() as u64;
            }
            protocol::encode(&p, self.version, &mut self.wbuf).map_err(|e| e.to_string())?;
        }
        let stats = &router.stats;
        stats
            .packets_sent
            .fetch_add(packets_sent, Ordering::Relaxed);
        if sent > 0 {
            stats.msgs_sent.fetch_add(sent, Ordering::Relaxed);
            stats.pub_bytes_sent.fetch_add(payload, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Writes everything buffered (used before closing), for at most [`FLUSH_BOUND`]: a peer
    /// that does not read must not keep its connection, or the broker's shutdown, waiting.
    async fn flush_all(&mut self) {
        let write = async {
            if !self.wbuf.is_empty() {
                let _ = self.stream.write_all(&self.wbuf).await;
            }
            let _ = self.stream.flush().await;
        };
        let _ = tokio::time::timeout(FLUSH_BOUND, write).await;
        self.wbuf = Buffer::new();
    }

    /// Half-closes the connection and reads and discards what the peer still sends, until it
    /// closes too or [`DRAIN_BOUND`] passes: a close with unread bytes would send a reset,
    /// which can make the peer lose the DISCONNECT just written.
    async fn drain_before_close(&mut self) {
        let _ = self.stream.shutdown().await;
        let drain = async {
            loop {
                self.rbuf.clear();
                match self.read_more().await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        };
        let _ = tokio::time::timeout(DRAIN_BOUND, drain).await;
        self.rbuf = Buffer::new();
    }

    /// Waits for the first of: bytes to read, write progress, a wake-up of the session.
    fn poll_event(
        &mut self,
        cx: &mut Context<'_>,
        cell: &SessionCell,
        generation: u64,
    ) -> Poll<Event> {
        // Woken to read: read first, others' PUBLISH may be waiting for this connection.
        if self.reader.woken()
            && let Poll::Ready(r) = self.poll_read_more(cx)
        {
            return Poll::Ready(Event::Read(r));
        }
        if !self.wbuf.is_empty() {
            if let Poll::Ready(r) = Pin::new(&mut self.stream).poll_write(cx, &self.wbuf) {
                return Poll::Ready(Event::Wrote(r));
            }
        } else if self.unflushed {
            if let Poll::Ready(r) = Pin::new(&mut self.stream).poll_flush(cx) {
                return Poll::Ready(Event::Flushed(r));
            }
        }
        if let Poll::Ready(r) = self.poll_read_more(cx) {
            return Poll::Ready(Event::Read(r));
        }
        cell.poll_wake(cx, generation).map(|()| Event::Wake)
    }
}

/// Longest a connection closed with a DISCONNECT reads what its client still sends.
const DRAIN_BOUND: Duration = Duration::from_millis(500);

/// Serves one connection until it closes.
pub async fn serve<S>(stream: S, ctx: LinkContext)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    if let Some(conn) = Box::pin(open(stream, ctx)).await {
        conn.unbox().serve().await;
    }
}

/// A connection past CONNACK: all that an idle connection holds between packets, apart from
/// its session. Kept apart from the handshake so the task's future is only as wide as this.
///
/// An idle plain connection is five allocations: its task (this, its serving loop and
/// tokio's header: a 384-byte cell, tested in `listener.rs`), tokio's registration of its
/// socket (256 bytes), its session cell (192, tested in `cell.rs`), the waker its reads are
/// ordered by (48, tested in `order.rs`) and its client id.
pub struct Established<S> {
    io: Io<S>,
    link: handle::Link,
    generation: u64,
}

/// Waits for CONNECT and answers it; `None` when the connection ended before or with CONNACK.
/// Meant to be boxed by the caller: its state (timer, shutdown receiver, context) is dropped
/// once the connection is established.
pub async fn open<S>(stream: S, ctx: LinkContext) -> Option<Box<Established<S>>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut io = Io {
        stream,
        rbuf: Buffer::new(),
        wbuf: Buffer::new(),
        busy: false,
        unflushed: false,
        version: Version::V311,
        skip: 0,
        rewrite: None,
        reader: Reader::new(super::order::Global),
    };
    match handshake(&mut io, ctx).await {
        Some((link, generation)) => Some(Box::new(Established {
            io,
            link,
            generation,
        })),
        None => {
            io.reader.close();
            io.flush_all().await;
            None
        }
    }
}

impl<S> Established<S> {
    /// The link out of its box, the box freed now (moved out in place, it would be freed
    /// only when the caller's scope ends, after the connection).
    #[allow(clippy::boxed_local)] // Taking the box is the point: it is freed here.
    pub fn unbox(self: Box<Self>) -> Self {
        *self
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Established<S> {
    /// Runs the connection until it closes, then ends the session's link. Taken by value, so
    /// a task that awaits this holds the link in its own allocation, not in a second one.
    /// Not an `async fn`: that would move `self` into a local beside the captured argument
    /// and hold the link twice; the block uses the captured one in place.
    #[allow(clippy::manual_async_fn)] // See above: the async fn form holds the link twice.
    pub fn serve(self) -> impl std::future::Future<Output = ()> {
        self.serve_holding(())
    }

    /// [`Established::serve`], keeping `guard` until the connection has ended.
    #[allow(clippy::manual_async_fn)] // As `serve`.
    pub fn serve_holding<G>(mut self, guard: G) -> impl std::future::Future<Output = ()> {
        async move {
            let close = run(&mut self).await;
            // The ending is boxed: unpacked here, its state would widen this future (every
            // idle connection's) by its whole size.
            Box::pin(self.finish(close)).await;
            drop(guard);
        }
    }

    /// Ends the session's link once the connection closed.
    async fn finish(self, close: Close) {
        let Established {
            mut io,
            link,
            generation,
        } = self;
        link.finish(&mut io, close, generation).await;
    }
}

/// Waits for CONNECT (bounded by the connect timeout) and answers it.
async fn handshake<S>(io: &mut Io<S>, mut ctx: LinkContext) -> Option<(handle::Link, u64)>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let log = ctx.router.settings().log;
    let timeout = ctx.limits.connect_timeout;
    let max_packet = connect_max(&ctx.limits);
    let connect = tokio::select! {
        r = tokio::time::timeout(timeout, read_connect(io, &ctx.router, max_packet)) => r,
        _ = ctx.shutdown.recv() => return None,
    };
    let connect = match connect {
        Ok(Ok(c)) => c,
        Ok(Err(why)) => {
            log.info(format_args!(
                "Client <unknown> from {} disconnected: {why}.",
                ctx.peer
            ));
            return None;
        }
        Err(_) => {
            let secs = timeout.as_secs_f32();
            log.info(format_args!(
                "Client <unknown> from {} disconnected: no CONNECT within {secs}s.",
                ctx.peer
            ));
            return None;
        }
    };
    io.version = connect.version;
    if io.rbuf.is_empty() {
        // Let go of the CONNECT's receive buffer now rather than at the next read.
        io.rbuf = Buffer::new();
        // Nothing came behind the CONNECT that others could have to wait for.
        io.reader.release();
    }
    let (link, attached) = handle::accept(io, &ctx, connect, log).await?;
    Some((link, attached.generation))
}

/// Room a CONNECT needs besides its will payload: client id, will topic, user name and password
/// (65,535 bytes at most each) and properties, generously.
const CONNECT_OVERHEAD: u32 = 1 << 20;

/// The largest CONNECT accepted. With `message_size_limit` set, a will payload cannot exceed
/// it, so a CONNECT much larger is refused from its fixed header: a client that has not yet
/// authenticated cannot make the broker hold up to `max_packet_size` bytes.
fn connect_max(limits: &LinkLimits) -> u32 {
    match limits.message_size_limit {
        0 => limits.max_packet_size,
        limit => limits
            .max_packet_size
            .min(limit.saturating_add(CONNECT_OVERHEAD)),
    }
}

/// Reads until a whole first packet is there; it must be CONNECT.
async fn read_connect<S>(
    io: &mut Io<S>,
    router: &Router,
    max_packet: u32,
) -> Result<Box<protocol::Connect>, String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    loop {
        match protocol::decode(&mut io.rbuf, Version::V5, max_packet) {
            Ok(Some(Packet::Connect(c))) => return Ok(c),
            Ok(Some(other)) => return Err(format!("{:?} before CONNECT", other.packet_type())),
            Ok(None) => {}
            Err(e) => {
                if e.rule == "MQTT-3.1.2-2" {
                    // [MQTT-3.1.2-2]: an unsupported level is answered with CONNACK 0x01
                    // (3.1.1 form: the client's own version is the unknown).
                    io.wbuf.extend_from_slice(b"\x20\x02\x00\x01");
                    io.flush_all().await;
                }
                return Err(format!("malformed CONNECT {e}"));
            }
        }
        let n = io.read_more().await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("closed before CONNECT".into());
        }
        router
            .stats
            .bytes_received
            .fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// Why the session says this link must stop, if it does.
fn must_close(router: &Router, cell: &SessionCell, generation: u64) -> Option<Close> {
    if router.is_closing() {
        return Some(Close::Shutdown);
    }
    let st = cell.lock();
    if st.link != Some(generation) {
        return Some(Close::Error(
            "already connected, closing old connection".into(),
            Some(ReasonCode::SessionTakenOver),
        ));
    }
    if st.link_expired {
        return Some(Close::Error(
            "has exceeded timeout, disconnecting".into(),
            Some(ReasonCode::KeepAliveTimeout),
        ));
    }
    None
}

/// Tells publishers whether this link is waiting for its socket rather than the CPU (see
/// [`SessionCell::write_bound`]); written only when it changes.
fn mark_write_bound(cell: &SessionCell, bound: bool) {
    if cell.write_bound.load(Ordering::Relaxed) != bound {
        cell.write_bound.store(bound, Ordering::Relaxed);
    }
}

/// Longest a publisher waits for one lagging subscriber before reading on.
const DRAIN_WAIT: Duration = Duration::from_millis(20);

/// Waits (bounded) until `sub` has drained its queue below half.
pub(crate) async fn wait_for_drain(router: &Router, sub: &SessionCell) {
    let wait = async {
        // One `Notify` serves every session: woken, check this one again.
        loop {
            // Created before the flag and the check, so a wake-up in between is not lost.
            let drained = sub.drained().notified();
            sub.pressured.store(true, Ordering::Relaxed);
            if !sub.is_behind(router.now_ms()) {
                return;
            }
            drained.await;
        }
    };
    let _ = tokio::time::timeout(DRAIN_WAIT, wait).await;
}

/// Handles the packets that `n` newly read bytes completed, and encodes the replies.
async fn on_read<S>(io: &mut Io<S>, link: &mut handle::Link, n: usize) -> Result<(), Close>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let router = link.router.clone();
    let mut out = Vec::new();
    let out = &mut out;
    router
        .stats
        .bytes_received
        .fetch_add(n as u64, Ordering::Relaxed);
    link.cell
        .last_seen
        .store(router.now_ms(), Ordering::Relaxed);
    // Others' PUBLISH wait for this read only while it still holds a packet that changes who
    // receives them (see `order`).
    let mut ordered = ordered_packets(&io.rbuf, io.version);
    if ordered == 0 {
        io.reader.release();
    }
    loop {
        if !io.skip_oversize() {
            break;
        }
        // An oversize PUBLISH that has gone by, now or before, is answered.
        link.skipped(out);
        match oversize::check(io, link) {
            Ok(oversize::Step::Decode) => {}
            Ok(oversize::Step::Wait) => break,
            Ok(oversize::Step::Skipping) => continue,
            Err(close) => return Err(close_batch(io, link, out, close).await),
        }
        match protocol::decode(&mut io.rbuf, io.version, link.max_packet_size()) {
            Ok(Some(p)) => {
                if matches!(p, Packet::Publish(_)) {
                    io.reader.wait_turn().await;
                }
                // A DISCONNECT's ticket is released once its session is detached.
                let orders = matches!(p, Packet::Subscribe(_) | Packet::Unsubscribe(_));
                if let Err(close) = link.handle(p, out) {
                    return Err(close_batch(io, link, out, close).await);
                }
                if orders {
                    ordered = ordered.saturating_sub(1);
                    if ordered == 0 {
                        io.reader.release();
                    }
                }
                // A subscriber is falling behind: give it time before routing more, the
                // backpressure a single-threaded broker gets for free.
                if let Some(sub) = link.take_behind() {
                    Box::pin(wait_for_drain(&router, &sub)).await;
                }
            }
            Ok(None) => break,
            Err(e) => {
                if e.reason == ReasonCode::PacketTooLarge {
                    router.stats.oversize.fetch_add(1, Ordering::Relaxed);
                }
                let why = format!("disconnected due to malformed packet {e}");
                // A packet only a server sends (CONNACK, SUBACK, UNSUBACK, PINGRESP) tells
                // of a peer that is no MQTT client: closed without a DISCONNECT, as mosquitto.
                let server_only = matches!(io.rbuf.first().map(|b| b >> 4), Some(2 | 9 | 11 | 13));
                let close = Close::Error(why, (!server_only).then_some(e.reason));
                return Err(close_batch(io, link, out, close).await);
            }
        }
    }
    io.reader.release();
    io.settle_read(n);
    link.sync_store(out).await?;
    io.encode(out, &router).map_err(encode_failed)?;
    // Let the links this batch woke drain their queues before reading more, as a
    // single-threaded broker would: a burst then fills sockets, not bounded queues. What
    // arrives meanwhile is read without a wake-up: it is ordered from here.
    io.reader.arm();
    tokio::task::yield_now().await;
    Ok(())
}

/// How many of the whole packets at the start of `buf` are SUBSCRIBE, UNSUBSCRIBE or
/// DISCONNECT: the ones a PUBLISH read later on another connection must go after. Counting
/// stops at a malformed or incomplete header: decoding will deal with it.
fn ordered_packets(mut buf: &[u8], version: Version) -> usize {
    use protocol::PacketType::{Disconnect, Subscribe, Unsubscribe};
    let mut n = 0;
    while let Ok(Some((kind, header, remaining))) = protocol::peek_header(buf, version) {
        let Some(rest) = buf.get(header + remaining..) else {
            break;
        };
        n += usize::from(matches!(kind, Subscribe | Unsubscribe | Disconnect));
        buf = rest;
    }
    n
}

/// Ends a batch cut short by `close`: its acknowledgements still wait for the store (and
/// are withdrawn if it failed) before they are encoded.
async fn close_batch<S>(
    io: &mut Io<S>,
    link: &mut handle::Link,
    out: &mut Vec<Outgoing>,
    close: Close,
) -> Close
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let close = match link.sync_store(out).await {
        Ok(()) => close,
        Err(unstored) => unstored,
    };
    let _ = io.encode(out, &link.router);
    close
}

/// Handles whatever the client has sent that can be read now without waiting (a new
/// connection for the same client id is about to take over).
async fn catch_up<S>(io: &mut Io<S>, link: &mut handle::Link) -> Result<(), Close>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    loop {
        let r = poll_fn(|cx| Poll::Ready(io.poll_read_more(cx))).await;
        match r {
            Poll::Pending => return Ok(()),
            Poll::Ready(Ok(0)) => return Err(Close::Error("closed its connection".into(), None)),
            Poll::Ready(Err(e)) => {
                return Err(Close::Error(
                    format!("disconnected due to socket error: {e}"),
                    None,
                ));
            }
            Poll::Ready(Ok(n)) => Box::pin(on_read(io, link, n)).await?,
        }
    }
}

/// Why a connection ends when its packets cannot be encoded.
fn encode_failed(e: String) -> Close {
    Close::Error(format!("disconnected due to encode error: {e}"), None)
}

thread_local! {
    /// What a link takes from its session queue, encoded at once: one list per thread, not
    /// one per connection, as no link keeps anything in it between two polls.
    static FILLED: std::cell::Cell<Vec<Outgoing>> = const { std::cell::Cell::new(Vec::new()) };
}

/// Most entries the per-thread list keeps room for once a link is done with it.
const FILLED_KEPT: usize = 4096;

impl<S: AsyncRead + AsyncWrite + Unpin> Io<S> {
    /// Takes what the session has queued for the client (below the write buffer's high-water
    /// mark) and encodes it.
    fn deliver(&mut self, link: &handle::Link) -> Result<(), Close> {
        let (router, cell) = (&*link.router, &*link.cell);
        if self.wbuf.is_empty() {
            cell.last_progress.store(router.now_ms(), Ordering::Relaxed);
        }
        if self.wbuf.len() < HIGH_WATER {
            let mut out = FILLED.take();
            let mut st = cell.lock();
            st.session.fill(&mut out);
            let (queued, max) = (st.session.queued(), st.session.limits().max_queued);
            let dropped = st.session.take_dropped_keys();
            drop(st);
            if let (false, Some(store)) = (dropped.is_empty(), router.store()) {
                for seq in dropped {
                    store.send(crate::broker::store::StoreOp::Dequeue(
                        cell.client_id.clone(),
                        seq,
                    ));
                }
            }
            cell.signal_drained(queued, max);
            let encoded = self.encode(&mut out, router);
            out.clear();
            if out.capacity() <= FILLED_KEPT {
                FILLED.set(out);
            }
            encoded.map_err(encode_failed)?;
        }
        mark_write_bound(cell, self.wbuf.len() >= HIGH_WATER);
        Ok(())
    }
}

/// The main loop after CONNACK. Its state is part of every idle connection's task: across its
/// waits it keeps one reference (and what it awaits).
async fn run<S>(conn: &mut Established<S>) -> Close
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    // Clients may send packets right behind CONNECT without waiting for CONNACK; whatever
    // arrived with it is still buffered and must be handled now, not at the next read.
    if !conn.io.rbuf.is_empty()
        && let Err(close) = Box::pin(on_read(&mut conn.io, &mut conn.link, 0)).await
    {
        return close;
    }
    loop {
        // A wake-up after the state check is remembered by the session (`poll_wake`).
        if let Some(close) = must_close(&conn.link.router, &conn.link.cell, conn.generation) {
            return close;
        }
        if conn.link.cell.catch_up.load(Ordering::Relaxed) {
            if let Err(close) = Box::pin(catch_up(&mut conn.io, &mut conn.link)).await {
                return close;
            }
            conn.link.cell.signal_caught_up();
        }
        if let Err(close) = conn.io.deliver(&conn.link) {
            return close;
        }
        let n = match poll_fn(|cx| conn.poll_event(cx)).await {
            Event::Read(Ok(0)) => return Close::Error("closed its connection".into(), None),
            Event::Read(Err(e)) => {
                return Close::Error(format!("disconnected due to socket error: {e}"), None);
            }
            Event::Read(Ok(n)) => n,
            Event::Wrote(Ok(0)) | Event::Wrote(Err(_)) | Event::Flushed(Err(_)) => {
                return Close::Error("disconnected due to socket error on write".into(), None);
            }
            Event::Wrote(Ok(n)) => {
                conn.wrote(n);
                continue;
            }
            Event::Flushed(Ok(())) => {
                conn.io.unflushed = false;
                continue;
            }
            Event::Wake => continue,
        };
        // Boxed: decoding and routing state would otherwise widen every idle link.
        if let Err(close) = Box::pin(on_read(&mut conn.io, &mut conn.link, n)).await {
            return close;
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Established<S> {
    /// [`Io::poll_event`] for this link.
    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Event> {
        self.io.poll_event(cx, &self.link.cell, self.generation)
    }

    /// `n` bytes of the write buffer went out.
    fn wrote(&mut self, n: usize) {
        let router = &self.link.router;
        self.link
            .cell
            .last_progress
            .store(router.now_ms(), Ordering::Relaxed);
        router
            .stats
            .bytes_sent
            .fetch_add(n as u64, Ordering::Relaxed);
        self.io.wbuf.advance(n);
        if self.io.wbuf.is_empty() {
            self.io.wbuf = Buffer::new();
            self.io.unflushed = true;
        }
    }
}

#[cfg(test)]
mod size_tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A link context; keep the sender: dropping it reads as broker shutdown.
    fn context() -> (super::LinkContext, tokio::sync::broadcast::Sender<()>) {
        let config = crate::broker::config::Config::default();
        let router = std::sync::Arc::new(super::Router::new(
            crate::broker::settings(&config),
            std::sync::Arc::new(crate::broker::security::AllowAll),
            None,
        ));
        let (tx, _) = tokio::sync::broadcast::channel(1);
        let ctx = super::LinkContext {
            router,
            listener: 0,
            peer: "127.0.0.1:1".parse().unwrap(),
            shutdown: tx.subscribe(),
            limits: std::sync::Arc::new(crate::broker::link_limits(&config)),
            cert_identity: None,
        };
        (ctx, tx)
    }

    #[tokio::test]
    async fn connection_future_stays_small() {
        let (a, _b) = tokio::io::duplex(64);
        let f = super::serve(a, context().0);
        // Every idle connection holds one of these: keep it small (budget: 1.5 KiB per connection).
        let size = std::mem::size_of_val(&f);
        assert!(size <= 1024, "serve future is {size} bytes");
    }

    #[tokio::test]
    async fn established_link_future_stays_small() {
        let (a, mut b) = tokio::io::duplex(256);
        // CONNECT, MQTT 3.1.1, clean session, keepalive 60, client id "c".
        b.write_all(&[
            0x10, 13, 0, 4, b'M', b'Q', b'T', b'T', 4, 2, 0, 60, 0, 1, b'c',
        ])
        .await
        .unwrap();
        let (ctx, _shutdown) = context();
        let conn = super::open(a, ctx).await.expect("connection accepted");
        // The handshake's state is gone: what an idle connection's task holds is this future,
        // the link included.
        let f = conn.unbox().serve();
        let size = std::mem::size_of_val(&f);
        assert!(size <= 256, "established link future is {size} bytes");
        // It still serves: CONNACK goes out, and the peer's close ends it.
        let serving = tokio::spawn(f);
        let mut connack = [0u8; 4];
        b.read_exact(&mut connack).await.unwrap();
        assert_eq!(connack, [0x20, 2, 0, 0]);
        drop(b);
        serving.await.unwrap();
    }
}
