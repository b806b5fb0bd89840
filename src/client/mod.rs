//! The async MQTT client shared by `mq pub`, `mq sub`, `mq rr`, `mq meteo` and `mq bench`.
//!
//! [`Client::connect`] opens the stream (TCP or TLS), sends CONNECT, waits for CONNACK and then
//! hands the connection to a background I/O task. Every method takes `&self` and talks to that
//! task through a channel, so one client can have many QoS 1/2 publications in flight at once
//! (up to [`ClientOptions::max_inflight`]; later ones wait for a free slot). The task answers
//! incoming QoS 1/2 publications (PUBACK, PUBREC/PUBCOMP), sends PINGREQ when the link has been
//! idle for the keep-alive interval and gives up if the PINGRESP does not come back in time.
//!
//! The client does not reconnect by itself: when the connection ends, every pending call and
//! [`Client::recv`] return the reason, and the caller decides (see `mq pub -l`, which reconnects
//! and resends what was not acknowledged).
//!
//! ```no_run
//! use mq::client::{Client, ClientOptions};
//! use mq::protocol::QoS;
//!
//! # async fn demo() -> Result<(), mq::client::ClientError> {
//! let mut opts = ClientOptions::new("localhost", 1883);
//! opts.client_id = "demo".into();
//! let (client, connack) = Client::connect(opts).await?;
//! println!("session present: {}", connack.session_present);
//!
//! client.subscribe(&[("meteo/#", QoS::AtLeastOnce)]).await?;
//! // Returns once the broker acknowledged (PUBACK).
//! client.publish("meteo/hello", "hi", QoS::AtLeastOnce, false).await?;
//!
//! // Pipelining: start many publications, then wait for their acknowledgements.
//! let mut pending = Vec::new();
//! for i in 0..100 {
//!     pending.push(client.start_publish("load/x", format!("{i}"), QoS::AtLeastOnce, false).await?);
//! }
//! for p in pending {
//!     p.wait().await?;
//! }
//!
//! let msg = client.recv().await?; // the next incoming PUBLISH
//! println!("{} {:?}", msg.topic, msg.payload);
//! client.disconnect().await?;
//! # Ok(()) }
//! ```

mod aliases;
mod debug;
mod error;
mod task;

pub use error::ClientError;
pub use task::{handshake, open_stream};

use crate::protocol::{
    ConnAck, Connect, Disconnect, Packet, Properties, Props, PubResp, Publish, QoS, ReasonCode,
    SubAck, Subscription, SubscriptionOptions, UnsubAck, Version, Will,
};
use crate::topic::{TopicFilter, TopicName};
use bytes::Bytes;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// How to reach the broker and what to say in CONNECT.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Broker host name or address.
    pub host: String,
    /// Broker port.
    pub port: u16,
    /// Protocol version.
    pub version: Version,
    /// Client identifier; empty asks the broker to assign one (needs `clean_start` before v5).
    pub client_id: String,
    /// Start a new session (true) or resume a stored one.
    pub clean_start: bool,
    /// Keep-alive interval in seconds; 0 turns pings off.
    pub keep_alive: u16,
    /// User name.
    pub username: Option<String>,
    /// Password.
    pub password: Option<Bytes>,
    /// Last Will.
    pub will: Option<Will>,
    /// TLS configuration; `None` is plain TCP.
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// Maximum QoS 1/2 publications awaiting acknowledgement (lowered to the broker's receive
    /// maximum in v5).
    pub max_inflight: u16,
    /// Time allowed for TCP, TLS and the CONNACK together.
    pub connect_timeout: Duration,
    /// CONNECT properties (v5), e.g. session expiry interval, receive maximum.
    pub properties: Properties,
    /// Largest packet accepted from the broker.
    pub max_packet_size: u32,
    /// Set TCP_NODELAY.
    pub nodelay: bool,
    /// Local address to bind the TCP socket to.
    pub bind_address: Option<std::net::IpAddr>,
    /// Connect over this unix socket instead of `host:port`.
    pub unix: Option<std::path::PathBuf>,
    /// Speak MQTT over WebSockets, upgrading at this request path (`/mqtt`); `None` is plain
    /// MQTT. With [`ClientOptions::tls`] this is `wss`.
    pub websocket: Option<String>,
    /// Print mosquitto-style `Client ID sending PUBLISH (...)` lines on stdout.
    pub debug: bool,
    /// Incoming messages buffered for [`Client::recv`]; when full, the client stops reading the
    /// socket until `recv` is called (backpressure to the broker). 0 discards incoming messages
    /// (after acknowledging them): set it for clients that only publish, so that messages queued
    /// in a persistent session can never stall them.
    pub message_buffer: usize,
    /// Announce a bridge in a 3.1/3.1.1 CONNECT (mosquitto's `try_private`): the broker then
    /// does not echo our own messages back. Ignored in 5.0.
    pub bridge: bool,
}

impl ClientOptions {
    /// Defaults for `host:port`: MQTT 3.1.1, clean session, keep-alive 60 s, 20 in flight,
    /// 10 s connect timeout, broker-assigned client id.
    pub fn new(host: impl Into<String>, port: u16) -> ClientOptions {
        ClientOptions {
            host: host.into(),
            port,
            version: Version::V311,
            client_id: String::new(),
            clean_start: true,
            keep_alive: 60,
            username: None,
            password: None,
            will: None,
            tls: None,
            max_inflight: 20,
            connect_timeout: Duration::from_secs(10),
            properties: Properties::default(),
            max_packet_size: crate::protocol::MAX_REMAINING_LENGTH + 5,
            nodelay: false,
            bind_address: None,
            unix: None,
            websocket: None,
            debug: false,
            message_buffer: 1024,
            bridge: false,
        }
    }

    /// The CONNECT packet these options describe.
    pub fn connect_packet(&self) -> Connect {
        Connect {
            version: self.version,
            client_id: self.client_id.clone(),
            clean_start: self.clean_start,
            keep_alive: self.keep_alive,
            username: self.username.clone(),
            password: self.password.clone(),
            will: self.will.clone(),
            properties: Props::new(if self.version.is_v5() {
                self.properties.clone()
            } else {
                Properties::default()
            }),
            bridge: self.bridge,
        }
    }
}

/// A request from a [`Client`] handle to its I/O task.
#[derive(Debug)]
enum Request {
    Publish(Publish, oneshot::Sender<Result<(), ClientError>>),
    Subscribe(
        Vec<Subscription>,
        Props,
        oneshot::Sender<Result<SubAck, ClientError>>,
    ),
    Unsubscribe(
        Vec<TopicFilter>,
        Props,
        oneshot::Sender<Result<UnsubAck, ClientError>>,
    ),
    Disconnect(Disconnect, oneshot::Sender<Result<(), ClientError>>),
}

/// Why the I/O task stopped, shared with every handle.
type EndReason = Arc<Mutex<Option<ClientError>>>;

/// A connected MQTT client. Dropping it closes the connection without DISCONNECT (so the broker
/// publishes the will).
#[derive(Debug)]
pub struct Client {
    commands: mpsc::Sender<Request>,
    messages: tokio::sync::Mutex<mpsc::Receiver<Publish>>,
    end: EndReason,
    client_id: String,
    version: Version,
    connack: ConnAck,
    debug: bool,
}

/// A publication handed to the I/O task, whose acknowledgement has not been awaited yet.
#[derive(Debug)]
pub struct PendingPublish {
    reply: oneshot::Receiver<Result<(), ClientError>>,
    end: EndReason,
}

impl PendingPublish {
    /// Like [`PendingPublish::wait`] without giving the handle up; call it at most once.
    pub async fn acknowledged(&mut self) -> Result<(), ClientError> {
        match (&mut self.reply).await {
            Ok(r) => r,
            Err(_) => Err(end_reason(&self.end)),
        }
    }

    /// The outcome if it is already known, without waiting.
    pub fn try_wait(&mut self) -> Option<Result<(), ClientError>> {
        match self.reply.try_recv() {
            Ok(r) => Some(r),
            Err(oneshot::error::TryRecvError::Empty) => None,
            Err(oneshot::error::TryRecvError::Closed) => Some(Err(end_reason(&self.end))),
        }
    }

    /// Waits until the broker acknowledged (QoS 1: PUBACK, QoS 2: PUBCOMP) or, for QoS 0, until
    /// the packet was handed to the socket.
    pub async fn wait(self) -> Result<(), ClientError> {
        match self.reply.await {
            Ok(r) => r,
            Err(_) => Err(end_reason(&self.end)),
        }
    }
}

fn end_reason(end: &EndReason) -> ClientError {
    end.lock()
        .ok()
        .and_then(|g| g.clone())
        .unwrap_or(ClientError::Closed)
}

impl Client {
    /// Connects, sends CONNECT and waits for a successful CONNACK.
    ///
    /// A refusal is [`ClientError::Refused`] with the broker's reason.
    pub async fn connect(opts: ClientOptions) -> Result<(Client, ConnAck), ClientError> {
        let timeout = opts.connect_timeout;
        let opts_debug = opts.debug;
        match tokio::time::timeout(timeout, task::open(opts)).await {
            Ok(Ok((task, connack))) => {
                let (commands, cmd_rx) = mpsc::channel(256);
                let (msg_tx, msg_rx) = mpsc::channel(task.message_buffer().max(1));
                let end: EndReason = Arc::default();
                let client_id = task.client_id().to_string();
                let version = task.version();
                tokio::spawn(task.run(cmd_rx, msg_tx, end.clone()));
                let client = Client {
                    commands,
                    messages: tokio::sync::Mutex::new(msg_rx),
                    end,
                    client_id,
                    version,
                    connack: connack.clone(),
                    debug: opts_debug,
                };
                Ok((client, connack))
            }
            Ok(Err(e)) => Err(e),
            Err(_) => Err(ClientError::Timeout),
        }
    }

    /// The client identifier in use (the broker's assigned one when ours was empty, in v5).
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The protocol version of the connection.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The broker's CONNACK.
    pub fn connack(&self) -> &ConnAck {
        &self.connack
    }

    async fn send(&self, cmd: Request) -> Result<(), ClientError> {
        self.commands
            .send(cmd)
            .await
            .map_err(|_| end_reason(&self.end))
    }

    /// Publishes and waits for the acknowledgement (see [`PendingPublish::wait`]).
    pub async fn publish(
        &self,
        topic: &str,
        payload: impl Into<Bytes>,
        qos: QoS,
        retain: bool,
    ) -> Result<(), ClientError> {
        self.start_publish(topic, payload, qos, retain)
            .await?
            .wait()
            .await
    }

    /// Hands a publication to the I/O task and returns without waiting for its acknowledgement.
    /// Waits only while the command queue is full.
    pub async fn start_publish(
        &self,
        topic: &str,
        payload: impl Into<Bytes>,
        qos: QoS,
        retain: bool,
    ) -> Result<PendingPublish, ClientError> {
        let topic = TopicName::new(topic).map_err(ClientError::InvalidTopic)?;
        let publish = Publish {
            dup: false,
            qos,
            retain,
            topic,
            packet_id: None,
            properties: Props::default(),
            payload: payload.into(),
        };
        self.start_publish_message(publish).await
    }

    /// Like [`Client::start_publish`] for a prepared PUBLISH (v5 properties, ...). Its packet id
    /// is ignored: the I/O task assigns one.
    pub async fn start_publish_message(
        &self,
        publish: Publish,
    ) -> Result<PendingPublish, ClientError> {
        let (tx, rx) = oneshot::channel();
        self.send(Request::Publish(publish, tx)).await?;
        Ok(PendingPublish {
            reply: rx,
            end: self.end.clone(),
        })
    }

    /// Publishes a prepared PUBLISH and waits for the acknowledgement.
    pub async fn publish_message(&self, publish: Publish) -> Result<(), ClientError> {
        self.start_publish_message(publish).await?.wait().await
    }

    /// Subscribes to `(filter, max QoS)` pairs and returns the SUBACK.
    pub async fn subscribe(&self, filters: &[(&str, QoS)]) -> Result<SubAck, ClientError> {
        let mut subs = Vec::with_capacity(filters.len());
        for (f, qos) in filters {
            subs.push(Subscription {
                filter: TopicFilter::new(*f).map_err(ClientError::InvalidTopic)?,
                options: SubscriptionOptions {
                    qos: *qos,
                    ..SubscriptionOptions::default()
                },
            });
        }
        self.subscribe_with(subs, Properties::default()).await
    }

    /// Subscribes with full options and SUBSCRIBE properties (v5).
    pub async fn subscribe_with(
        &self,
        subscriptions: Vec<Subscription>,
        properties: Properties,
    ) -> Result<SubAck, ClientError> {
        let (tx, rx) = oneshot::channel();
        self.send(Request::Subscribe(subscriptions, properties.into(), tx))
            .await?;
        rx.await.unwrap_or_else(|_| Err(end_reason(&self.end)))
    }

    /// Unsubscribes from `filters`.
    pub async fn unsubscribe(&self, filters: &[&str]) -> Result<UnsubAck, ClientError> {
        let mut fs = Vec::with_capacity(filters.len());
        for f in filters {
            fs.push(TopicFilter::new(*f).map_err(ClientError::InvalidTopic)?);
        }
        self.unsubscribe_with(fs, Properties::default()).await
    }

    /// Unsubscribes with UNSUBSCRIBE properties (v5).
    pub async fn unsubscribe_with(
        &self,
        filters: Vec<TopicFilter>,
        properties: Properties,
    ) -> Result<UnsubAck, ClientError> {
        let (tx, rx) = oneshot::channel();
        self.send(Request::Unsubscribe(filters, properties.into(), tx))
            .await?;
        rx.await.unwrap_or_else(|_| Err(end_reason(&self.end)))
    }

    /// The next incoming message, or why the connection ended ([`ClientError::Closed`] after
    /// [`Client::disconnect`]).
    pub async fn recv(&self) -> Result<Publish, ClientError> {
        let mut rx = self.messages.lock().await;
        match rx.recv().await {
            Some(m) => Ok(self.log_received(m)),
            None => Err(end_reason(&self.end)),
        }
    }

    fn log_received(&self, m: Publish) -> Publish {
        if self.debug {
            task::print_debug(&debug::received_publish(&self.client_id, &m));
            let ack = match (m.qos, m.packet_id) {
                (QoS::AtLeastOnce, Some(id)) => Some(Packet::PubAck(PubResp::new(id))),
                (QoS::ExactlyOnce, Some(id)) => Some(Packet::PubRec(PubResp::new(id))),
                _ => None,
            };
            if let Some(ack) = ack {
                task::print_debug(&debug::sending(&self.client_id, &ack));
            }
        }
        m
    }

    /// The next incoming message if one is already buffered, without waiting.
    pub fn try_recv(&self) -> Option<Publish> {
        let m = self.messages.try_lock().ok()?.try_recv().ok()?;
        Some(self.log_received(m))
    }

    /// Sends DISCONNECT (normal disconnection: the will is discarded) and closes the stream.
    pub async fn disconnect(&self) -> Result<(), ClientError> {
        self.disconnect_with(Disconnect::default()).await
    }

    /// Sends the given DISCONNECT (v5 reason and properties) and closes the stream.
    pub async fn disconnect_with(&self, disconnect: Disconnect) -> Result<(), ClientError> {
        let (tx, rx) = oneshot::channel();
        self.send(Request::Disconnect(disconnect, tx)).await?;
        rx.await.unwrap_or_else(|_| Err(end_reason(&self.end)))
    }
}

/// The exit status mosquitto's clients give for a CONNACK refusal: the 3.x return code, or the
/// v5 reason code.
pub fn refusal_code(version: Version, reason: ReasonCode) -> u8 {
    if version.is_v5() {
        reason.as_u8()
    } else {
        reason.to_v3_connack()
    }
}

#[cfg(test)]
mod scripted;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_code_is_v3_return_code_or_v5_reason() {
        assert_eq!(refusal_code(Version::V311, ReasonCode::NotAuthorized), 5);
        assert_eq!(refusal_code(Version::V5, ReasonCode::NotAuthorized), 135);
    }
}
