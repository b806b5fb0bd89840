//! What a link does with each packet, from CONNECT to the will.

use super::v5::{self, connack_properties, receive_max};
use super::{Close, Io, LinkContext, LinkLimits};
use crate::broker::log::Log;
use crate::broker::router::{Attached, Fanout, Router, SessionCell};
use crate::broker::security::ConnectInfo;
use crate::broker::store::StoreOp;
use crate::protocol::{
    ConnAck, Connect, Disconnect, Packet, Props, PubResp, Publish, QoS, ReasonCode, SubAck,
    UnsubAck, Version, Will,
};
use crate::session::{Message, Outgoing, Peer};
use crate::topic::TopicName;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::io::{AsyncRead, AsyncWrite};

/// A connected client's link state.
pub(super) struct Link {
    pub(super) cell: Arc<SessionCell>,
    client_id: Arc<str>,
    version: Version,
    username: Option<String>,
    will: Option<Box<Will>>,
    pub(super) router: Arc<Router>,
    log: Log,
    limits: Arc<LinkLimits>,
    /// Store changes made by this link's last batch must be on disk before its acks go out.
    needs_sync: bool,
    /// A subscriber whose queue the last batch filled past half.
    behind: Option<Arc<SessionCell>>,
    /// Topics of the client's topic aliases (index = alias - 1), up to the configured maximum.
    aliases: Vec<Option<TopicName>>,
    /// Session expiry interval of the CONNECT (v5), to refuse raising it from 0 at DISCONNECT.
    connect_expiry: u32,
}

fn proto_tag(v: Version) -> u8 {
    // mosquitto's log shows the protocol as p1 (3.1), p2 (3.1.1), p5 (5.0).
    match v {
        Version::V31 => 1,
        Version::V311 => 2,
        Version::V5 => 5,
    }
}

fn refuse(reason: ReasonCode) -> Packet {
    Packet::ConnAck(ConnAck {
        session_present: false,
        reason,
        properties: Props::default(),
    })
}

/// The client id to use: the given one, or a generated one for an empty id where allowed
/// (returned a second time for the v5 Assigned Client Identifier).
fn client_identity(
    c: &Connect,
    limits: &LinkLimits,
) -> Result<(String, Option<String>), ReasonCode> {
    if !c.client_id.is_empty() {
        return Ok((c.client_id.clone(), None));
    }
    let v5 = c.version.is_v5();
    if !limits.allow_zero_length_clientid || (!c.clean_start && !v5) {
        return Err(ReasonCode::ClientIdentifierNotValid);
    }
    let id = generated_id(&limits.auto_id_prefix);
    Ok((id.clone(), v5.then_some(id)))
}

/// The client id, a generated id to tell a v5 client, and the user name to act as; or the
/// CONNACK reason of a refusal.
type Identity = (String, Option<String>, Option<String>);

async fn identify(ctx: &LinkContext, c: &Connect) -> Result<Identity, ReasonCode> {
    let (id, assigned) = client_identity(c, &ctx.limits)?;
    if c.will
        .as_ref()
        .is_some_and(|w| w.qos as u8 > ctx.limits.max_qos)
    {
        return Err(ReasonCode::QoSNotSupported);
    }
    let info = ConnectInfo {
        listener: ctx.listener,
        client_id: &id,
        username: c.username.as_deref(),
        password: c.password.as_deref(),
        cert_identity: ctx.cert_identity.as_deref(),
    };
    // Password hashing runs off the runtime threads (see `access::check_connect`).
    let user = crate::broker::security::check_connect(ctx.router.access_arc(), &info).await?;
    Ok((id, assigned, user))
}

/// `New client connected from 127.0.0.1:54321 as c1 (p2, c1, k60, u'name').`
fn log_connected(log: Log, peer: std::net::SocketAddr, c: &Connect, client_id: &str) {
    let user = c
        .username
        .as_deref()
        .map(|u| format!(", u'{u}'"))
        .unwrap_or_default();
    log.conn(format_args!(
        "New client connected from {peer} as {client_id} (p{}, c{}, k{}{user}).",
        proto_tag(c.version),
        c.clean_start as u8,
        c.keep_alive,
    ));
}

/// Handles CONNECT: checks, session attach, CONNACK and redelivery. `None` when refused.
pub(super) async fn accept<S>(
    io: &mut Io<S>,
    ctx: &LinkContext,
    connect: Box<Connect>,
    log: Log,
) -> Option<(Link, Attached)>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let router = &ctx.router;
    let c = *connect;
    let identity = identify(ctx, &c).await;
    let (client_id, assigned, username) = match identity {
        Ok(x) => x,
        Err(reason) => {
            let _ = io.encode(&mut vec![refuse(reason).into()], router);
            let id = if c.client_id.is_empty() {
                "<unknown>"
            } else {
                &c.client_id
            };
            log.info(format_args!(
                "Client {id} from {} refused: {reason}.",
                ctx.peer
            ));
            return None;
        }
    };
    let (keep_alive, props) = connack_properties(&c, &ctx.limits, assigned);
    // 5.0 keeps a session only with a session expiry interval; 3.1.1 without clean session,
    // for ever.
    let expiry = if c.version.is_v5() {
        c.properties.session_expiry_interval.unwrap_or(0)
    } else if c.clean_start {
        0
    } else {
        u32::MAX
    };
    let attached = router.connect(&client_id, c.clean_start, expiry > 0, username.clone());
    router.set_expiry(&attached.cell, expiry);
    let now = router.stats.connected.fetch_add(1, Ordering::Relaxed) + 1;
    router.stats.connected_max.fetch_max(now, Ordering::Relaxed);
    log_connected(log, ctx.peer, &c, &client_id);
    let mut out: Vec<Outgoing> = vec![Outgoing::Packet(Packet::ConnAck(ConnAck {
        session_present: attached.present,
        reason: ReasonCode::Success,
        properties: Props::new(props),
    }))];
    let cell = &attached.cell;
    cell.last_seen.store(router.now_ms(), Ordering::Relaxed);
    cell.keepalive_ms
        .store(keep_alive as u64 * 1500, Ordering::Relaxed);
    {
        let mut st = cell.lock();
        st.session.set_peer(Peer {
            receive_max: c.properties.receive_maximum.unwrap_or(0),
            max_packet: c.properties.maximum_packet_size.unwrap_or(0),
        });
        st.session.connect(&mut out);
    }
    let _ = io.encode(&mut out, router);
    let link = Link {
        cell: attached.cell.clone(),
        client_id: attached.cell.client_id.clone(),
        version: c.version,
        username,
        will: c.will.map(Box::new),
        router: router.clone(),
        log,
        limits: ctx.limits.clone(),
        needs_sync: false,
        behind: None,
        aliases: Vec::new(),
        connect_expiry: expiry,
    };
    Some((link, attached))
}

/// Queues a packet for sending.
fn push(out: &mut Vec<Outgoing>, p: Packet) {
    out.push(Outgoing::Packet(p));
}

fn generated_id(prefix: &str) -> String {
    let n: u128 = rand::random();
    format!("{prefix}{:032X}", n)
}

impl Link {
    /// Routes a message, remembering a subscriber that is falling behind; returns the v5
    /// acknowledgement reason for a message that went nowhere.
    fn route(&mut self, msg: Message) -> Option<ReasonCode> {
        let (fanout, behind) = self.router.publish(Arc::new(msg), Some(&self.cell));
        if let Some(cell) = behind {
            self.behind.get_or_insert(cell);
        }
        match fanout {
            Fanout::Delivered => None,
            Fanout::NoSubscribers => Some(ReasonCode::NoMatchingSubscribers),
            Fanout::QueuesFull => Some(ReasonCode::QuotaExceeded),
        }
    }

    /// A subscriber this link's last batch found falling behind, to wait for.
    pub(super) fn take_behind(&mut self) -> Option<Arc<SessionCell>> {
        self.behind.take()
    }

    /// Largest packet accepted from this client.
    pub(super) fn max_packet_size(&self) -> u32 {
        self.limits.max_packet_size
    }

    /// Handles one packet after CONNECT, pushing replies to `out`.
    pub(super) fn handle(&mut self, p: Packet, out: &mut Vec<Outgoing>) -> Result<(), Close> {
        match p {
            Packet::Publish(p) => self.publish(p, out),
            Packet::PubAck(r) => {
                let seq = self.cell.lock().session.puback(r.packet_id, out);
                self.forget(seq);
                Ok(())
            }
            Packet::PubRec(r) => {
                self.cell.lock().session.pubrec(r.packet_id, out);
                Ok(())
            }
            Packet::PubComp(r) => {
                let seq = self.cell.lock().session.pubcomp(r.packet_id, out);
                self.forget(seq);
                Ok(())
            }
            Packet::PubRel(r) => {
                push(out, self.cell.lock().session.pubrel(r.packet_id));
                self.store(StoreOp::IncomingDel(
                    self.client_id.clone(),
                    r.packet_id.get(),
                ));
                Ok(())
            }
            Packet::Subscribe(s) => {
                self.subscribe(s, out);
                Ok(())
            }
            Packet::Unsubscribe(u) => {
                let mut reasons = Vec::new();
                for f in &u.filters {
                    let existed = self.router.unsubscribe(&self.cell, f);
                    self.log.subscribe(format_args!("{} {}", self.client_id, f));
                    reasons.push(if existed {
                        ReasonCode::Success
                    } else {
                        ReasonCode::NoSubscriptionExisted
                    });
                }
                if !self.version.is_v5() {
                    reasons.clear();
                }
                push(
                    out,
                    Packet::UnsubAck(UnsubAck {
                        packet_id: u.packet_id,
                        reasons,
                        properties: Props::default(),
                    }),
                );
                Ok(())
            }
            Packet::PingReq => {
                push(out, Packet::PingResp);
                Ok(())
            }
            Packet::Disconnect(d) => {
                if let Some(secs) = d.properties.session_expiry_interval {
                    if self.connect_expiry == 0 && secs != 0 {
                        // [MQTT-3.14.2-2]
                        return Err(Close::Error(
                            "disconnected due to protocol error (session expiry raised from 0)"
                                .into(),
                            Some(ReasonCode::ProtocolError),
                        ));
                    }
                    self.router.set_expiry(&self.cell, secs);
                }
                Err(Close::Clean {
                    send_will: d.reason == ReasonCode::DisconnectWithWillMessage,
                })
            }
            Packet::Connect(_) => Err(Close::Error(
                "disconnected due to protocol error (second CONNECT)".into(),
                Some(ReasonCode::ProtocolError),
            )),
            other => Err(Close::Error(
                format!(
                    "disconnected due to protocol error (unexpected {:?})",
                    other.packet_type()
                ),
                Some(ReasonCode::ProtocolError),
            )),
        }
    }

    fn store(&mut self, op: StoreOp) {
        if let (Some(store), false) = (self.router.store(), self.cell.lock().clean) {
            store.send(op);
        }
    }

    fn forget(&mut self, seq: Option<u64>) {
        if let (Some(seq @ 1..), Some(store)) = (seq, self.router.store()) {
            store.send(StoreOp::Dequeue(self.client_id.clone(), seq));
        }
    }

    /// Checks a PUBLISH: a protocol violation closes the connection, otherwise returns
    /// whether to route it and the acknowledgement's reason code.
    fn admit(&self, p: &Publish) -> Result<(bool, ReasonCode), Close> {
        if p.topic.is_empty() {
            return Err(Close::Error(
                "disconnected due to protocol error (empty topic without alias)".into(),
                Some(ReasonCode::ProtocolError),
            ));
        }
        if !p.properties.subscription_identifiers.is_empty() {
            // [MQTT-3.3.4-6]: only the server sends subscription identifiers.
            return Err(Close::Error(
                "disconnected due to protocol error (subscription identifier in PUBLISH)".into(),
                Some(ReasonCode::ProtocolError),
            ));
        }
        if p.qos as u8 > self.limits.max_qos {
            return Err(Close::Error(
                "disconnected due to QoS not supported".into(),
                Some(ReasonCode::QoSNotSupported),
            ));
        }
        if p.retain && !self.limits.retain_available {
            return Err(Close::Error(
                "disconnected due to retain not available".into(),
                Some(ReasonCode::RetainNotSupported),
            ));
        }
        let limit = self.limits.message_size_limit as usize;
        let reason = if limit != 0 && p.payload.len() > limit {
            ReasonCode::PacketTooLarge
        } else if !self.router.access().can_write(
            &self.client_id,
            self.username.as_deref(),
            &p.topic,
        ) {
            ReasonCode::NotAuthorized
        } else {
            ReasonCode::Success
        };
        let route = reason == ReasonCode::Success;
        // 3.x acknowledgements carry no reason: a refused message is acked and dropped.
        Ok((
            route,
            if self.version.is_v5() {
                reason
            } else {
                ReasonCode::Success
            },
        ))
    }

    fn log_publish(&self, p: &Publish) {
        if self.log.debug_on() {
            self.log.debug(format_args!(
                "Received PUBLISH from {} (d{}, q{}, r{}, m{}, '{}', ... ({} bytes))",
                self.client_id,
                p.dup as u8,
                p.qos as u8,
                p.retain as u8,
                p.packet_id.map_or(0, |i| i.get()),
                p.topic,
                p.payload.len()
            ));
        }
    }

    /// A v5 QoS 2 message beyond our receive maximum closes the connection ([MQTT-3.3.4-9]).
    fn check_receive_max(&self, p: &Publish) -> Result<(), Close> {
        let Some(id) = p.packet_id.filter(|_| p.qos == QoS::ExactlyOnce) else {
            return Ok(());
        };
        if !self.version.is_v5() {
            return Ok(());
        }
        let waiting = self.cell.lock().session.incoming_count(id);
        if waiting >= receive_max(&self.limits) as usize {
            return Err(Close::Error(
                "disconnected due to receive maximum exceeded".into(),
                Some(ReasonCode::ReceiveMaximumExceeded),
            ));
        }
        Ok(())
    }

    fn publish(&mut self, mut p: Publish, out: &mut Vec<Outgoing>) -> Result<(), Close> {
        self.router
            .stats
            .msgs_received
            .fetch_add(1, Ordering::Relaxed);
        v5::resolve_alias(&mut self.aliases, &self.limits, self.version, &mut p)?;
        self.log_publish(&p);
        let (route, mut reason) = self.admit(&p)?;
        let v5 = self.version.is_v5();
        self.check_receive_max(&p)?;
        let mut matched = |me: &mut Self, m: Message| {
            if let (Some(why), true) = (me.route(m), v5 && reason == ReasonCode::Success) {
                reason = why;
            }
        };
        let msg = || {
            let props = p.properties.clone();
            Message::new(p.topic.clone(), p.payload.clone(), p.qos, p.retain, props)
        };
        match (p.qos, p.packet_id) {
            (QoS::AtMostOnce, _) => {
                if route {
                    self.route(msg());
                }
            }
            (QoS::AtLeastOnce, Some(id)) => {
                if route {
                    matched(self, msg());
                    self.needs_sync = true;
                }
                push(
                    out,
                    Packet::PubAck(PubResp {
                        packet_id: id,
                        reason,
                        properties: Props::default(),
                    }),
                );
            }
            (QoS::ExactlyOnce, Some(id)) => {
                let first = self.cell.lock().session.incoming_qos2(id);
                if first && route {
                    matched(self, msg());
                }
                if first {
                    self.store(StoreOp::IncomingAdd(self.client_id.clone(), id.get()));
                    self.needs_sync = true;
                }
                push(
                    out,
                    Packet::PubRec(PubResp {
                        packet_id: id,
                        reason,
                        properties: Props::default(),
                    }),
                );
            }
            _ => {
                return Err(Close::Error(
                    "disconnected due to protocol error (no packet id)".into(),
                    Some(ReasonCode::ProtocolError),
                ));
            }
        }
        Ok(())
    }

    fn subscribe(&mut self, s: crate::protocol::Subscribe, out: &mut Vec<Outgoing>) {
        let mut reasons = Vec::with_capacity(s.subscriptions.len());
        let mut added = Vec::new();
        let sub_id = s
            .properties
            .subscription_identifiers
            .first()
            .copied()
            .unwrap_or(0);
        let max_qos = QoS::from_u8(self.limits.max_qos).unwrap_or(QoS::ExactlyOnce);
        for sub in &s.subscriptions {
            let mut sub = sub.clone();
            sub.options.qos = sub.options.qos.min(max_qos);
            let new = self
                .router
                .subscribe(&self.cell, &sub.filter, sub.options, sub_id);
            self.log.subscribe(format_args!(
                "{} {} {}",
                self.client_id, sub.options.qos as u8, sub.filter
            ));
            reasons.push(match sub.options.qos {
                QoS::AtMostOnce => ReasonCode::Success,
                QoS::AtLeastOnce => ReasonCode::GrantedQoS1,
                QoS::ExactlyOnce => ReasonCode::GrantedQoS2,
            });
            added.push((sub.filter.clone(), sub.options, new));
        }
        push(
            out,
            Packet::SubAck(SubAck {
                packet_id: s.packet_id,
                reasons,
                properties: Props::default(),
            }),
        );
        // Retained messages go after SUBACK ([MQTT-3.8.4-4] order), through the session queue.
        for (filter, opts, new) in added {
            self.router
                .send_retained(&self.cell, &filter, opts, new, sub_id);
        }
    }

    /// Waits for the store when this batch's acknowledgements promise durability.
    /// The wait is boxed: it is rare, and inline it would widen every idle connection.
    pub(super) async fn sync_store(&mut self) {
        if std::mem::take(&mut self.needs_sync) {
            if let Some(store) = self.router.store() {
                Box::pin(store.barrier()).await;
            }
        }
    }

    /// Ends the connection: DISCONNECT for v5 errors, the will unless clean, detach.
    pub(super) async fn finish<S>(mut self, io: &mut Io<S>, close: Close, generation: u64)
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let id = self.client_id.clone();
        let send_will = match &close {
            Close::Clean { send_will } => {
                self.log.conn(format_args!("Client {id} disconnected."));
                *send_will
            }
            Close::Error(why, reason) => {
                self.log.conn(format_args!("Client {id} {why}."));
                if let (true, Some(reason)) = (self.version.is_v5(), reason) {
                    let mut out: Vec<Outgoing> = vec![
                        Packet::Disconnect(Disconnect {
                            reason: *reason,
                            properties: Props::default(),
                        })
                        .into(),
                    ];
                    let _ = io.encode(&mut out, &self.router);
                }
                true
            }
            Close::Shutdown => {
                if self.version.is_v5() {
                    let mut out: Vec<Outgoing> = vec![
                        Packet::Disconnect(Disconnect {
                            reason: ReasonCode::ServerShuttingDown,
                            properties: Props::default(),
                        })
                        .into(),
                    ];
                    let _ = io.encode(&mut out, &self.router);
                }
                false
            }
        };
        self.sync_store().await;
        io.flush_all().await;
        let will = self.will.take().filter(|_| send_will);
        self.router.stats.connected.fetch_sub(1, Ordering::Relaxed);
        self.router.disconnect(&self.cell, generation);
        if let Some(will) = will {
            v5::send_will(
                &self.router,
                &self.cell,
                self.username.as_deref(),
                *will,
                self.limits.retain_available,
            );
        }
    }
}
