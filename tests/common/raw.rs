//! A raw MQTT client built on the codec, for tests that need byte-level control, and the
//! barriers that let such a test wait for the broker instead of sleeping:
//! [`RawClient::ping`] (everything sent before has been handled) and [`RawClient::hang_up`]
//! (the broker has let go of the connection).

use bytes::BytesMut;
use mq::protocol::{self, Connect, Packet, Props, QoS, Version};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A raw MQTT client over the codec: full control of every packet.
pub struct RawClient {
    /// The socket.
    pub stream: TcpStream,
    buf: BytesMut,
    /// Packets read while waiting for a PINGRESP, handed out first by [`RawClient::recv`].
    pending: VecDeque<Packet>,
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
        bridge: false,
    }))
}

/// An MQTT 5 CONNECT (keepalive 60) with the given properties.
pub fn connect_v5(id: &str, clean: bool, props: protocol::Properties) -> Packet {
    let mut packet = connect_packet(id, clean, 60, Version::V5);
    if let Packet::Connect(c) = &mut packet {
        c.properties = Props::new(props);
    }
    packet
}

impl RawClient {
    /// Opens a TCP connection without sending anything.
    pub async fn open(addr: SocketAddr, version: Version) -> RawClient {
        let stream = TcpStream::connect(addr).await.expect("connect");
        RawClient {
            stream,
            buf: BytesMut::new(),
            pending: VecDeque::new(),
            version,
        }
    }

    /// The server side of a connection accepted from `listener`: a fake broker (the remote of
    /// a bridge) that reads and writes raw packets.
    pub async fn accept(listener: &tokio::net::TcpListener, version: Version) -> RawClient {
        let accepted = tokio::time::timeout(super::PATIENCE, listener.accept()).await;
        let (stream, _) = accepted.expect("a connection in time").expect("accept");
        RawClient {
            stream,
            buf: BytesMut::new(),
            pending: VecDeque::new(),
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
        if let Some(p) = self.pending.pop_front() {
            return Some(p);
        }
        self.read_within(limit).await
    }

    async fn read_within(&mut self, limit: Duration) -> Option<Packet> {
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

    /// Sends PINGREQ and waits for the PINGRESP. The broker handles a connection's packets in
    /// order, so once it answers, everything sent before (publishes included) has been
    /// handled. Packets that arrive meanwhile are kept for [`RawClient::recv`].
    pub async fn ping(&mut self) {
        self.send(&Packet::PingReq).await;
        loop {
            match self.read_within(Duration::from_secs(10)).await {
                Some(Packet::PingResp) => return,
                Some(other) => self.pending.push_back(other),
                None => panic!("no PINGRESP"),
            }
        }
    }

    /// Closes the connection without DISCONNECT, as a client that dies does, and waits until
    /// the broker closes its side too: by then it has ended the session's link (a will sent,
    /// a persistent session detached) and a reconnection is not a takeover.
    pub async fn hang_up(mut self) {
        let _ = self.stream.shutdown().await;
        assert!(
            self.closed_within(Duration::from_secs(10)).await,
            "the broker did not close the connection"
        );
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

    /// Publishes (QoS 1/2 with packet id 1) without waiting for acks.
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
