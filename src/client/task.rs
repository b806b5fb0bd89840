//! The background I/O task of a [`super::Client`]: it owns the connection, multiplexes handle
//! commands, incoming packets and the keep-alive timer, and keeps the QoS 1/2 bookkeeping.

use super::{ClientError, ClientOptions, EndReason, Request, debug};
use crate::connection::{Connection, ConnectionError};
use crate::protocol::{
    ConnAck, Disconnect, Packet, PacketId, PubResp, Publish, QoS, ReasonCode, SubAck, Subscribe,
    UnsubAck, Unsubscribe, Version,
};
use crate::session::keepalive::Due;
use crate::session::{Inbound, KeepAlive, Outbound, PubRec};
use crate::tls;
use crate::transport::{self, Stream};
use std::collections::{HashMap, VecDeque};
use std::io::Write;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

type Reply<T> = oneshot::Sender<Result<T, ClientError>>;

/// Everything the I/O task owns.
#[derive(Debug)]
pub(super) struct Task {
    conn: Connection<Stream>,
    client_id: String,
    debug: bool,
    message_buffer: usize,
    keep_alive: KeepAlive,
    /// QoS 1/2 publications awaiting their acknowledgement, with the caller's reply.
    inflight: Outbound<Reply<()>>,
    /// Publications waiting for room in the window.
    waiting: VecDeque<(Publish, Reply<()>)>,
    subscribes: HashMap<u16, Reply<SubAck>>,
    unsubscribes: HashMap<u16, Reply<UnsubAck>>,
    incoming_qos2: Inbound,
    /// Messages that arrived while the channel to `recv` was full, handed over as `recv`
    /// makes room (see [`Task::reading`]).
    overflow: VecDeque<Publish>,
    disconnect_reply: Option<Reply<()>>,
    /// Topic aliases the broker defined on this connection.
    aliases: super::aliases::InAliases,
}

fn lost(e: ConnectionError) -> ClientError {
    match e {
        ConnectionError::Decode(d) => ClientError::Protocol(d.to_string()),
        ConnectionError::Encode(d) => ClientError::Protocol(d.to_string()),
        other => ClientError::ConnectionLost(other.to_string()),
    }
}

/// Reads the CONNACK. The first answer is where TLS meeting plain MQTT shows: a TLS alert
/// record to a plain CONNECT, a TLS 1.3 server's refusal of our certificate, or a broker that
/// closes without a word.
async fn read_connack(
    conn: &mut Connection<transport::Stream>,
    opts: &ClientOptions,
) -> Result<ConnAck, ClientError> {
    let plain_tcp = opts.tls.is_none() && opts.unix.is_none();
    match conn.read_packet().await {
        Ok(Some(Packet::ConnAck(c))) => Ok(c),
        Ok(Some(other)) => Err(ClientError::Protocol(format!(
            "expected CONNACK, got {}",
            other.packet_type().name()
        ))),
        Err(ConnectionError::Decode(_)) if plain_tcp && tls::looks_like_tls(conn.buffered()) => {
            Err(transport::TransportError::ExpectsTls.into())
        }
        Err(ConnectionError::Io(e)) if opts.tls.is_some() && e.get_ref().is_some() => Err(
            transport::TransportError::Handshake(tls::HandshakeFailure::from_io(
                &e,
                tls::Side::Client,
            ))
            .into(),
        ),
        Err(ConnectionError::Io(e)) if plain_tcp && closed(&e) => Err(closed_before_connack()),
        Err(e) => Err(lost(e)),
        Ok(None) if plain_tcp => Err(closed_before_connack()),
        Ok(None) => Err(ClientError::ConnectionLost("closed before CONNACK".into())),
    }
}

fn closed(e: &std::io::Error) -> bool {
    use std::io::ErrorKind as K;
    matches!(
        e.kind(),
        K::ConnectionReset | K::UnexpectedEof | K::ConnectionAborted | K::BrokenPipe
    )
}

fn closed_before_connack() -> ClientError {
    ClientError::ConnectionLost(
        "closed by the broker before CONNACK (if this port expects TLS, add --cafile, --capath \
         or --tls-use-os-certs)"
            .into(),
    )
}

/// Opens the byte stream `opts` point at (a unix socket, TCP, TLS, or a WebSocket over either)
/// without saying anything yet: [`Client::connect`](super::Client::connect) speaks MQTT over it,
/// and `mq test` uses it bare to stream payloads too large to buffer and to look at the TLS
/// session.
pub async fn open_stream(opts: &ClientOptions) -> Result<Stream, ClientError> {
    let tcp = transport::TcpOptions {
        nodelay: opts.nodelay,
        bind: opts.bind_address,
    };
    Ok(match (&opts.unix, &opts.websocket) {
        (Some(path), _) => transport::connect_unix(path).await?,
        (None, Some(path)) => {
            let max = opts.max_packet_size as usize;
            let tls = opts.tls.clone();
            transport::connect_websocket(&opts.host, opts.port, tls, tcp, path, max).await?
        }
        (None, None) => transport::connect(&opts.host, opts.port, opts.tls.clone(), tcp).await?,
    })
}

/// Opens the stream ([`open_stream`]), sends the CONNECT `opts` describe and
/// reads the CONNACK: the connection every client of `mq` starts with. A refused CONNACK is
/// [`ClientError::Refused`].
///
/// [`super::Client`] hands the connection to its I/O task; the broker's bridges drive it
/// themselves, with the broker's session state, so that packet identifiers and unacknowledged
/// messages carry over from one connection to the next.
pub async fn handshake(opts: &ClientOptions) -> Result<(Connection<Stream>, ConnAck), ClientError> {
    let stream = open_stream(opts).await?;
    let mut conn = Connection::new(stream, opts.version);
    conn.set_max_packet_size(opts.max_packet_size);
    let connect = Packet::Connect(Box::new(opts.connect_packet()));
    if opts.debug {
        print_debug(&debug::sending(&opts.client_id, &connect));
    }
    conn.write_packet(&connect).map_err(lost)?;
    conn.flush().await.map_err(lost)?;
    let connack = read_connack(&mut conn, opts).await?;
    let client_id = connack
        .properties
        .assigned_client_identifier
        .as_deref()
        .unwrap_or(&opts.client_id);
    if opts.debug {
        print_debug(&debug::received(
            client_id,
            &Packet::ConnAck(connack.clone()),
        ));
    }
    if connack.reason.is_error() {
        return Err(ClientError::Refused {
            version: opts.version,
            reason: connack.reason,
        });
    }
    Ok((conn, connack))
}

/// Opens the connection ([`handshake`]) and prepares the I/O task.
pub(super) async fn open(opts: ClientOptions) -> Result<(Task, ConnAck), ClientError> {
    let (conn, connack) = handshake(&opts).await?;
    let mut client_id = opts.client_id.clone();
    if let Some(id) = &connack.properties.assigned_client_identifier {
        client_id = id.clone();
    }
    let keep_alive = connack
        .properties
        .server_keep_alive
        .unwrap_or(opts.keep_alive);
    let mut inflight = Outbound::new(0);
    inflight.set_window(
        opts.max_inflight.max(1),
        connack.properties.receive_maximum.unwrap_or(0),
    );
    let task = Task {
        conn,
        client_id,
        debug: opts.debug,
        message_buffer: opts.message_buffer,
        keep_alive: KeepAlive::new(keep_alive, std::time::Instant::now()),
        inflight,
        waiting: VecDeque::new(),
        subscribes: HashMap::new(),
        unsubscribes: HashMap::new(),
        incoming_qos2: Inbound::default(),
        overflow: VecDeque::new(),
        disconnect_reply: None,
        aliases: super::aliases::InAliases::new(match opts.version.is_v5() {
            true => opts.properties.topic_alias_maximum,
            false => None,
        }),
    };
    Ok((task, connack))
}

pub(super) fn print_debug(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

impl Task {
    pub(super) fn client_id(&self) -> &str {
        &self.client_id
    }

    pub(super) fn version(&self) -> Version {
        self.conn.version()
    }

    pub(super) fn message_buffer(&self) -> usize {
        self.message_buffer
    }

    /// Runs until disconnect or failure, then fails whatever is still pending with the reason.
    pub(super) async fn run(
        mut self,
        mut commands: mpsc::Receiver<Request>,
        messages: mpsc::Sender<Publish>,
        end: EndReason,
    ) {
        let reason = self.serve(&mut commands, &messages).await;
        if let Ok(mut g) = end.lock() {
            *g = Some(reason.clone());
        }
        drop(messages);
        commands.close();
        for reply in self.inflight.drain() {
            let _ = reply.send(Err(reason.clone()));
        }
        for (_, r) in self.waiting.drain(..) {
            let _ = r.send(Err(reason.clone()));
        }
        for (_, r) in self.subscribes.drain() {
            let _ = r.send(Err(reason.clone()));
        }
        for (_, r) in self.unsubscribes.drain() {
            let _ = r.send(Err(reason.clone()));
        }
        if let Some(r) = self.disconnect_reply.take() {
            let _ = r.send(Ok(()));
        }
    }

    async fn serve(
        &mut self,
        commands: &mut mpsc::Receiver<Request>,
        messages: &mpsc::Sender<Publish>,
    ) -> ClientError {
        loop {
            let deadline = self.keep_alive.deadline().map(Instant::from_std);
            let step = tokio::select! {
                permit = messages.reserve(), if !self.overflow.is_empty() => {
                    match (permit, self.overflow.pop_front()) {
                        (Ok(permit), Some(m)) => permit.send(m),
                        // Every handle is gone; the task ends on the next command poll.
                        (Err(_), _) => self.overflow.clear(),
                        (Ok(_), None) => {}
                    }
                    Ok(())
                }
                r = self.conn.read_packet(), if self.reading() => match r {
                    Ok(Some(p)) => self.incoming(p, messages).await,
                    Ok(None) => Err(ClientError::ConnectionLost("closed by the broker".into())),
                    Err(e) => Err(lost(e)),
                },
                cmd = commands.recv() => match cmd {
                    Some(c) => self.commands(c, commands),
                    // Every handle is gone: close without DISCONNECT, as a crash would.
                    None => Err(ClientError::Closed),
                },
                _ = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                    self.keep_alive_due()
                }
            };
            if let Err(e) = step {
                return e;
            }
            if let Err(e) = self.flush().await {
                return e;
            }
            if self.disconnect_reply.is_some() {
                let _ = self.conn.shutdown().await;
                return ClientError::Closed;
            }
        }
    }

    async fn flush(&mut self) -> Result<(), ClientError> {
        if self.conn.pending() > 0 {
            self.conn.flush().await.map_err(lost)?;
            self.keep_alive.sent(std::time::Instant::now());
        }
        Ok(())
    }

    fn keep_alive_due(&mut self) -> Result<(), ClientError> {
        match self.keep_alive.due(std::time::Instant::now()) {
            Due::Expired => Err(ClientError::KeepAlive),
            Due::Ping => self.write(&Packet::PingReq),
        }
    }

    fn write(&mut self, packet: &Packet) -> Result<(), ClientError> {
        if self.debug {
            print_debug(&debug::sending(&self.client_id, packet));
        }
        self.conn.write_packet(packet).map_err(lost)
    }

    /// Handles one command and whatever else is already queued, so a burst is one flush.
    fn commands(
        &mut self,
        first: Request,
        commands: &mut mpsc::Receiver<Request>,
    ) -> Result<(), ClientError> {
        self.command(first)?;
        while self.conn.pending() < 64 * 1024 && self.disconnect_reply.is_none() {
            match commands.try_recv() {
                Ok(c) => self.command(c)?,
                Err(_) => break,
            }
        }
        Ok(())
    }

    /// A packet identifier free for a PUBLISH, SUBSCRIBE or UNSUBSCRIBE.
    fn next_id(&mut self) -> Result<PacketId, ClientError> {
        let (subs, unsubs) = (&self.subscribes, &self.unsubscribes);
        self.inflight
            .next_id(|id| subs.contains_key(&id.get()) || unsubs.contains_key(&id.get()))
            .ok_or_else(|| ClientError::Protocol("no free packet identifier".into()))
    }

    fn command(&mut self, cmd: Request) -> Result<(), ClientError> {
        match cmd {
            Request::Publish(p, reply) => {
                if p.qos != QoS::AtMostOnce && !self.inflight.has_room() {
                    self.waiting.push_back((p, reply));
                    return Ok(());
                }
                self.send_publish(p, reply)
            }
            Request::Subscribe(subscriptions, properties, reply) => {
                let packet_id = self.next_id()?;
                self.subscribes.insert(packet_id.get(), reply);
                self.write(&Packet::Subscribe(Subscribe {
                    packet_id,
                    subscriptions,
                    properties,
                }))
            }
            Request::Unsubscribe(filters, properties, reply) => {
                let packet_id = self.next_id()?;
                self.unsubscribes.insert(packet_id.get(), reply);
                self.write(&Packet::Unsubscribe(Unsubscribe {
                    packet_id,
                    filters,
                    properties,
                }))
            }
            Request::Disconnect(d, reply) => {
                self.disconnect_reply = Some(reply);
                self.write(&Packet::Disconnect(d))
            }
        }
    }

    fn send_publish(&mut self, mut p: Publish, reply: Reply<()>) -> Result<(), ClientError> {
        if p.qos == QoS::AtMostOnce {
            p.packet_id = None;
            let packet = Packet::Publish(p);
            if self.debug {
                // libmosquitto numbers QoS 0 messages too; its log shows that number.
                let mut shown = packet.clone();
                if let Packet::Publish(sp) = &mut shown {
                    sp.packet_id = self.inflight.next_id(|_| false);
                }
                print_debug(&debug::sending(&self.client_id, &shown));
            }
            let r = self.conn.write_packet(&packet).map_err(lost);
            // Handed to the socket buffer: that is all QoS 0 promises.
            let _ = reply.send(r.clone());
            return r;
        }
        let id = self.next_id()?;
        p.packet_id = Some(id);
        let qos = p.qos;
        self.write(&Packet::Publish(p))?;
        self.inflight.push(id, qos, reply);
        Ok(())
    }

    /// A slot in the inflight window freed up: send the next waiting publication.
    fn release_slot(&mut self) -> Result<(), ClientError> {
        while self.inflight.has_room() {
            let Some((p, reply)) = self.waiting.pop_front() else {
                break;
            };
            self.send_publish(p, reply)?;
        }
        Ok(())
    }

    /// A publication's handshake ended (with `reason`): answer its caller, start the next.
    fn finish(&mut self, reply: Option<Reply<()>>, reason: ReasonCode) -> Result<(), ClientError> {
        if let Some(reply) = reply {
            let r = if reason.is_error() {
                Err(ClientError::Rejected(reason))
            } else {
                Ok(())
            };
            let _ = reply.send(r);
        }
        self.release_slot()
    }

    async fn incoming(
        &mut self,
        packet: Packet,
        messages: &mpsc::Sender<Publish>,
    ) -> Result<(), ClientError> {
        // A delivered PUBLISH is logged by `Client::recv`, so the line comes right before the
        // message's own output, as in mosquitto_sub.
        let logged_on_recv = matches!(packet, Packet::Publish(_)) && self.message_buffer > 0;
        if self.debug && !logged_on_recv {
            print_debug(&debug::received(&self.client_id, &packet));
        }
        match packet {
            Packet::Publish(p) => return self.incoming_publish(p, messages).await,
            Packet::PubAck(r) => {
                let reply = self.inflight.puback(r.packet_id);
                self.finish(reply, r.reason)?;
            }
            Packet::PubComp(r) => {
                let reply = self.inflight.pubcomp(r.packet_id);
                self.finish(reply, r.reason)?;
            }
            Packet::PubRec(r) => match self.inflight.pubrec(r.packet_id, r.reason.is_error()) {
                PubRec::Refused(reply) => self.finish(Some(reply), r.reason)?,
                // PUBREL answers only a PUBREC below 0x80 ([MQTT-4.3.3-3] in 5.0).
                PubRec::Unknown if r.reason.is_error() => {}
                PubRec::Release | PubRec::Unknown => {
                    self.write(&Packet::PubRel(PubResp::new(r.packet_id)))?
                }
            },
            Packet::PubRel(r) => {
                self.incoming_qos2.release(r.packet_id);
                self.write(&Packet::PubComp(PubResp::new(r.packet_id)))?;
            }
            Packet::SubAck(s) => {
                if let Some(reply) = self.subscribes.remove(&s.packet_id.get()) {
                    let _ = reply.send(Ok(s));
                }
            }
            Packet::UnsubAck(u) => {
                if let Some(reply) = self.unsubscribes.remove(&u.packet_id.get()) {
                    let _ = reply.send(Ok(u));
                }
            }
            Packet::PingResp => self.keep_alive.pong(),
            Packet::Disconnect(Disconnect { reason, .. }) => {
                return Err(ClientError::ServerDisconnect(reason));
            }
            Packet::Auth(_) => {}
            other => {
                return Err(ClientError::Protocol(format!(
                    "unexpected {} from the broker",
                    other.packet_type().name()
                )));
            }
        }
        Ok(())
    }

    async fn incoming_publish(
        &mut self,
        mut p: Publish,
        messages: &mpsc::Sender<Publish>,
    ) -> Result<(), ClientError> {
        self.aliases.resolve(&mut p)?;
        let ack = match (p.qos, p.packet_id) {
            (QoS::AtMostOnce, _) => None,
            (QoS::AtLeastOnce, Some(id)) => Some(Packet::PubAck(PubResp::new(id))),
            (QoS::ExactlyOnce, Some(id)) => {
                // A redelivery of a message we already have (PUBREC lost) is not passed on twice.
                if !self.incoming_qos2.publish(id) {
                    return self.write(&Packet::PubRec(PubResp::new(id)));
                }
                Some(Packet::PubRec(PubResp::new(id)))
            }
            _ => return Err(ClientError::Protocol("PUBLISH without packet id".into())),
        };
        if self.message_buffer == 0 {
            return match ack {
                Some(ack) => self.write(&ack),
                None => Ok(()),
            };
        }
        self.deliver(p, messages);
        // The debug lines of a delivered message and of its acknowledgement are printed by
        // `Client::recv`, in mosquitto_sub's order, right before the message's own output.
        match ack {
            Some(ack) => self.conn.write_packet(&ack).map_err(lost),
            None => Ok(()),
        }
    }

    /// Hands a message to `recv`, or keeps it in the overflow when the channel is full.
    fn deliver(&mut self, p: Publish, messages: &mpsc::Sender<Publish>) {
        if self.overflow.is_empty() {
            match messages.try_send(p) {
                Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => {}
                Err(mpsc::error::TrySendError::Full(p)) => self.overflow.push_back(p),
            }
        } else {
            self.overflow.push_back(p);
        }
    }

    /// Whether to read from the broker now. Messages `recv` has not taken yet hold reading
    /// back (backpressure to the broker), except while a SUBACK or UNSUBACK is awaited: it
    /// may sit behind those messages on the wire, and its caller is waiting for it. Commands
    /// are taken in any case, so a SUBSCRIBE sent while the buffer is full is still sent.
    fn reading(&self) -> bool {
        self.overflow.is_empty() || !self.subscribes.is_empty() || !self.unsubscribes.is_empty()
    }
}
