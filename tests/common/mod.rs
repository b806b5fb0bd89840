//! Test helpers shared by the integration tests: an in-process broker on port 0, free ports,
//! the `mq` binary through assert_cmd, child processes killed on drop, and a raw MQTT client
//! built on the codec for tests that need byte-level control.
#![allow(dead_code)]

pub mod brokers;
pub mod mosquitto;
pub mod pki;
pub mod web;

#[allow(unused_imports)]
pub use mosquitto::{Mosquitto, have_mosquitto, which};

use bytes::BytesMut;
use mq::broker::config::{Config, ListenerConfig};
use mq::protocol::{self, Connect, Packet, Props, QoS, Version};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

/// A broker running in this process until dropped.
pub struct TestBroker {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestBroker {
    /// The listening port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Stops the broker and waits until it has shut down (store flushed).
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for TestBroker {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// A quiet config listening on 127.0.0.1:0, `$SYS` off.
pub fn test_config() -> Config {
    let mut c = Config {
        listeners: vec![ListenerConfig::loopback(0)],
        sys_interval: 0,
        ..Config::default()
    };
    c.log.info = std::env::var_os("MQ_TEST_LOG").is_some();
    c
}

/// Starts a broker with `config` (its listeners should use port 0) on the current runtime.
pub async fn start_broker(config: Config) -> TestBroker {
    let broker = mq::broker::Broker::bind(config)
        .await
        .expect("broker binds");
    let addr = broker.local_addrs()[0];
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(broker.run(async move {
        let _ = rx.await;
    }));
    TestBroker {
        addr,
        stop: Some(tx),
        task: Some(task),
    }
}

/// A port that was free a moment ago (bind 127.0.0.1:0, read it, close).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// The `mq` binary under test.
pub fn mq() -> assert_cmd::Command {
    assert_cmd::Command::new(mq_path())
}

/// Path of the `mq` binary, for processes spawned in the background.
pub fn mq_path() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_BIN_EXE_mq"))
}

/// The `mq` binary as a plain process, for tests that spawn it or set its stdio.
pub fn mq_process() -> Command {
    Command::new(mq_path())
}

/// A path inside `dir`.
pub fn path(dir: &tempfile::TempDir, name: &str) -> std::path::PathBuf {
    dir.path().join(name)
}

/// True when `program` can be run; prints a skip notice otherwise.
pub fn have(program: &str) -> bool {
    let ok = Command::new(program)
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !ok {
        eprintln!("skipping: {program} is not installed");
    }
    ok
}

/// A child process killed (by PID) and reaped when dropped.
pub struct ChildGuard(pub Child);

impl ChildGuard {
    /// Spawns `cmd` with piped stdout and stderr.
    pub fn spawn(cmd: &mut Command) -> ChildGuard {
        ChildGuard(
            cmd.stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn"),
        )
    }

    /// Sends a signal to the child.
    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on the PID of a child we own and have not reaped yet.
        unsafe {
            libc::kill(self.0.id() as i32, sig);
        }
    }

    /// Waits up to `limit` for the child to exit, returning its status.
    pub fn wait_timeout(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let end = std::time::Instant::now() + limit;
        while std::time::Instant::now() < end {
            if let Ok(Some(st)) = self.0.try_wait() {
                return Some(st);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Waits for exit and returns everything it wrote to stdout.
    pub fn output(mut self, limit: Duration) -> String {
        let _ = self.wait_timeout(limit);
        let mut s = String::new();
        if let Some(mut out) = self.0.stdout.take() {
            let _ = std::io::Read::read_to_string(&mut out, &mut s);
        }
        s
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `mq broker` on a free loopback port with extra arguments; returns the guard and port
/// once the port accepts connections.
pub fn spawn_mq_broker(extra: &[&str]) -> (ChildGuard, u16) {
    let port = free_port();
    let mut cmd = Command::new(mq_path());
    cmd.arg("broker")
        .arg("-p")
        .arg(port.to_string())
        .args(extra);
    let guard = ChildGuard::spawn(&mut cmd);
    wait_for_port(port);
    (guard, port)
}

/// Waits until something accepts connections on 127.0.0.1:`port` (at most 10 s).
pub fn wait_for_port(port: u16) {
    if !wait_until(|| std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()) {
        panic!("nothing listening on port {port}");
    }
}

/// Polls `done` every 20 ms for up to ten seconds; false if it never became true.
pub fn wait_until(mut done: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !done() {
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// A raw MQTT client over the codec: full control of every packet.
pub struct RawClient {
    /// The socket.
    pub stream: TcpStream,
    buf: BytesMut,
    /// Version used to decode what arrives.
    pub version: Version,
}

/// A CONNECT with the given id, clean flag and keepalive.
pub fn connect_packet(id: &str, clean: bool, keep_alive: u16, version: Version) -> Packet {
    Packet::Connect(Box::new(Connect {
        version,
        client_id: id.into(),
        clean_start: clean,
        keep_alive,
        username: None,
        password: None,
        will: None,
        properties: Props::default(),
    }))
}

impl RawClient {
    /// Opens a TCP connection without sending anything.
    pub async fn open(addr: SocketAddr, version: Version) -> RawClient {
        let stream = TcpStream::connect(addr).await.expect("connect");
        RawClient {
            stream,
            buf: BytesMut::new(),
            version,
        }
    }

    /// Opens a connection, sends `connect` and returns the CONNACK.
    pub async fn connect_with(addr: SocketAddr, connect: Packet) -> (RawClient, protocol::ConnAck) {
        let version = match &connect {
            Packet::Connect(c) => c.version,
            _ => Version::V311,
        };
        let mut c = RawClient::open(addr, version).await;
        c.send(&connect).await;
        match c.recv().await {
            Some(Packet::ConnAck(a)) => (c, a),
            other => panic!("expected CONNACK, got {other:?}"),
        }
    }

    /// Connects as `id` (3.1.1) and checks the CONNACK is a success.
    pub async fn connect(addr: SocketAddr, id: &str, clean: bool) -> RawClient {
        let (c, ack) =
            RawClient::connect_with(addr, connect_packet(id, clean, 60, Version::V311)).await;
        assert_eq!(ack.reason, protocol::ReasonCode::Success);
        c
    }

    /// Sends one packet.
    pub async fn send(&mut self, p: &Packet) {
        let mut b = BytesMut::new();
        protocol::encode(p, self.version, &mut b).expect("encode");
        self.send_raw(&b).await;
    }

    /// Sends raw bytes (errors ignored: the broker may have closed already).
    pub async fn send_raw(&mut self, bytes: &[u8]) {
        let _ = self.stream.write_all(bytes).await;
    }

    /// The next packet within 3 s; `None` when the connection closed or nothing came.
    pub async fn recv(&mut self) -> Option<Packet> {
        self.recv_within(Duration::from_secs(3)).await
    }

    /// The next packet within `limit`.
    pub async fn recv_within(&mut self, limit: Duration) -> Option<Packet> {
        let end = tokio::time::Instant::now() + limit;
        loop {
            match protocol::decode(&mut self.buf, self.version, u32::MAX) {
                Ok(Some(p)) => return Some(p),
                Ok(None) => {}
                Err(e) => panic!("broker sent a malformed packet: {e}"),
            }
            self.buf.reserve(4096);
            match tokio::time::timeout_at(end, self.stream.read_buf(&mut self.buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return None,
                Ok(Ok(_)) => {}
            }
        }
    }

    /// True when the broker closes the connection within `limit` (packets before it ignored).
    pub async fn closed_within(&mut self, limit: Duration) -> bool {
        let end = tokio::time::Instant::now() + limit;
        let mut scratch = [0u8; 1024];
        loop {
            match tokio::time::timeout_at(end, self.stream.read(&mut scratch)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(_)) => {}
                Err(_) => return false,
            }
        }
    }

    /// Subscribes to one filter and returns the SUBACK reason codes.
    pub async fn subscribe(&mut self, filter: &str, qos: QoS) -> Vec<protocol::ReasonCode> {
        let sub = Packet::Subscribe(protocol::Subscribe {
            packet_id: pid(1),
            subscriptions: vec![protocol::Subscription {
                filter: filter.parse().expect("filter"),
                options: protocol::SubscriptionOptions {
                    qos,
                    ..Default::default()
                },
            }],
            properties: Props::default(),
        });
        self.send(&sub).await;
        match self.recv().await {
            Some(Packet::SubAck(a)) => a.reasons,
            other => panic!("expected SUBACK, got {other:?}"),
        }
    }

    /// Publishes (QoS 1/2 with packet id 1 unless `id` says otherwise) without waiting for acks.
    pub async fn publish(&mut self, topic: &str, payload: &[u8], qos: QoS, retain: bool) {
        self.send(&publish_packet(topic, payload, qos, retain, 1))
            .await;
    }

    /// The next PUBLISH (other packets are skipped), within 3 s.
    pub async fn next_publish(&mut self) -> Option<protocol::Publish> {
        loop {
            match self.recv().await? {
                Packet::Publish(p) => return Some(p),
                _ => continue,
            }
        }
    }
}

/// A packet id.
pub fn pid(n: u16) -> protocol::PacketId {
    protocol::PacketId::new(n).expect("non-zero id")
}

/// A PUBLISH packet.
pub fn publish_packet(topic: &str, payload: &[u8], qos: QoS, retain: bool, id: u16) -> Packet {
    Packet::Publish(protocol::Publish {
        dup: false,
        qos,
        retain,
        topic: topic.parse().expect("topic"),
        packet_id: (qos != QoS::AtMostOnce).then(|| pid(id)),
        properties: Props::default(),
        payload: bytes::Bytes::copy_from_slice(payload),
    })
}
