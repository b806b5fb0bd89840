//! Where an idle connection's bytes go: runs `mq broker` in this process under a counting
//! allocator, opens idle MQTT connections to it, and prints the heap blocks each connection
//! added, by the allocator's size class, with the process's RSS growth beside them.
//!
//! ```text
//! cargo run --release --example idle_alloc -- 9000          # 9,000 connections, MQTT 3.1.1
//! cargo run --release --example idle_alloc -- 9000 v5       # MQTT 5.0
//! cargo run --release --example idle_alloc -- 9000 ws       # MQTT 3.1.1 over WebSockets
//! IDLE_ALLOC_TRACE=48 cargo run --release --example idle_alloc -- 100   # who allocates 48 B blocks
//! ```
//!
//! The clients are blocking sockets on the main thread, which the count leaves out, so only
//! the broker's own allocations are counted. The broker logs to stderr: `2>/dev/null`.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::Duration;
use tikv_jemallocator::Jemalloc;

/// jemalloc's small size classes, then a few large buckets.
#[rustfmt::skip]
const CLASSES: [usize; 39] = [
    8, 16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640, 768, 896,
    1024, 1280, 1536, 1792, 2048, 2560, 3072, 3584, 4096, 5120, 6144, 7168, 8192, 10240, 12288,
    14336, 16384, 1 << 20, usize::MAX,
];

/// Live blocks by size class.
static LIVE: [AtomicI64; CLASSES.len()] = [const { AtomicI64::new(0) }; CLASSES.len()];
/// A size class whose allocations print their backtrace (0: none).
static TRACE: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Set on threads whose allocations are not the broker's (and while tracing).
    static UNCOUNTED: Cell<bool> = const { Cell::new(false) };
}

fn class(size: usize, align: usize) -> usize {
    let s = size.max(align);
    CLASSES
        .iter()
        .position(|&c| s <= c)
        .unwrap_or(CLASSES.len() - 1)
}

struct Counting;

impl Counting {
    fn count(&self, l: &Layout, by: i64) {
        if UNCOUNTED.with(Cell::get) {
            return;
        }
        let c = class(l.size(), l.align());
        LIVE[c].fetch_add(by, Ordering::Relaxed);
        if by > 0 && TRACE.load(Ordering::Relaxed) == CLASSES[c] {
            UNCOUNTED.with(|u| u.set(true));
            let trace = std::backtrace::Backtrace::force_capture();
            eprintln!("allocation of {} bytes:\n{trace}", l.size());
            UNCOUNTED.with(|u| u.set(false));
        }
    }
}

// SAFETY: every call is passed on to jemalloc unchanged; counting only reads the layout.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        self.count(&l, 1);
        // SAFETY: the caller's contract is jemalloc's.
        unsafe { Jemalloc.alloc(l) }
    }

    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        self.count(&l, -1);
        // SAFETY: as above.
        unsafe { Jemalloc.dealloc(p, l) }
    }

    unsafe fn realloc(&self, p: *mut u8, l: Layout, new_size: usize) -> *mut u8 {
        self.count(&l, -1);
        if let Ok(new) = Layout::from_size_align(new_size, l.align()) {
            self.count(&new, 1);
        }
        // SAFETY: as above.
        unsafe { Jemalloc.realloc(p, l, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn live() -> Vec<i64> {
    LIVE.iter().map(|a| a.load(Ordering::Relaxed)).collect()
}

/// Resident set size, in bytes.
fn rss() -> i64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: i64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// An idle client: CONNECT (clean, keepalive 60, an id like `mq bench`'s), CONNACK read.
fn connect(addr: SocketAddr, i: usize, v5: bool, ws: bool) -> std::io::Result<TcpStream> {
    let mut s = TcpStream::connect(addr)?;
    if ws {
        s.write_all(
            b"GET /mqtt HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n\
              Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
              Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n",
        )?;
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            s.read_exact(&mut byte)?;
            head.push(byte[0]);
        }
    }
    let id = format!("mqbench-12345-c{i}");
    let mut body = vec![0u8, 4, b'M', b'Q', b'T', b'T'];
    body.extend_from_slice(if v5 {
        &[5, 2, 0, 60, 0]
    } else {
        &[4, 2, 0, 60]
    });
    body.extend_from_slice(&(id.len() as u16).to_be_bytes());
    body.extend_from_slice(id.as_bytes());
    let mut packet = vec![0x10, body.len() as u8];
    packet.extend_from_slice(&body);
    if ws {
        // One binary frame, masked with a zero key (the bytes go as they are).
        let mut frame = vec![0x82, 0x80 | packet.len() as u8, 0, 0, 0, 0];
        frame.extend_from_slice(&packet);
        packet = frame;
    }
    s.write_all(&packet)?;
    let mut head = [0u8; 2];
    if ws {
        // The CONNACK's frame header.
        s.read_exact(&mut head)?;
    }
    s.read_exact(&mut head)?;
    let mut rest = vec![0u8; head[1] as usize];
    s.read_exact(&mut rest)?;
    Ok(s)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(Ok(2000), |s| s.parse())?;
    let mode = args.next().unwrap_or_default();
    let (v5, ws) = (mode == "v5", mode == "ws");
    UNCOUNTED.with(|u| u.set(true));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let protocol = if ws { "protocol websockets\n" } else { "" };
    let text = format!("listener {port} 127.0.0.1\n{protocol}allow_anonymous true\n");
    let config =
        mq::broker::config::Config::parse_str(&text, std::path::Path::new("idle_alloc.conf"))?;
    let broker = rt.block_on(mq::broker::Broker::bind(config))?;
    let addr = broker.local_addrs()[0];
    rt.spawn(broker.run(std::future::pending::<()>()));
    // A first batch settles the broker's one-time allocations (tables, thread caches).
    let warm = 200;
    let mut clients = Vec::with_capacity(warm + n);
    for i in 0..warm {
        clients.push(connect(addr, i, v5, ws)?);
    }
    std::thread::sleep(Duration::from_millis(500));
    let (before, rss_before) = (live(), rss());
    if let Ok(size) = std::env::var("IDLE_ALLOC_TRACE") {
        TRACE.store(size.parse()?, Ordering::Relaxed);
    }
    for i in warm..warm + n {
        clients.push(connect(addr, i, v5, ws)?);
    }
    std::thread::sleep(Duration::from_secs(1));
    TRACE.store(0, Ordering::Relaxed);
    let (after, rss_after) = (live(), rss());
    let mut total = 0.0;
    println!("per connection, {n} idle connections:");
    for (i, size) in CLASSES.iter().enumerate() {
        let blocks = (after[i] - before[i]) as f64 / n as f64;
        if blocks.abs() > 0.01 {
            let bytes = blocks * *size as f64;
            println!("  {blocks:+.3} blocks of {size:>7} B = {bytes:+7.1} B");
            total += bytes;
        }
    }
    println!(
        "  heap {total:.0} B, RSS growth {} B",
        (rss_after - rss_before) / n as i64
    );
    drop(clients);
    Ok(())
}
