//! What a link does with each packet, from CONNECT to the will.

use super::v5::{self, connack_properties, receive_max};
use super::{Close, Io, LinkContext, LinkLimits};
use crate::broker::log::Log;
use crate::broker::router::{Attached, Fanout, Router, SessionCell};
use crate::broker::security::ConnectInfo;
use crate::broker::store::StoreOp;
use crate::broker::sys;
use crate::protocol::{
    ConnAck, Connect, Disconnect, Packet, Props, PubResp, Publish, QoS, ReasonCode, SubAck,
    UnsubAck, Version, Will,
};
use crate::session::Stage;
use crate::session::lazy::LazyVec;
use crate::session::{Message, Outgoing, Peer};
use crate::topic::TopicName;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::io::{AsyncRead, AsyncWrite};

/// A connected client's link state: what an idle connection holds besides its socket, so
/// kept narrow (64 bytes); its client id is the session's.
pub(super) struct Link {
    pub(super) cell: Arc<SessionCell>,
    pub(super) router: Arc<Router>,
    pub(super) limits: Arc<LinkLimits>,
    pub(super) log: Log,
    /// Acknowledgements of the current batch that promise the message is stored: they go out
    /// only once the store has committed (see `durable.rs`).
    pub(super) durable: LazyVec<(crate::protocol::PacketId, QoS)>,
    /// What few links use, boxed on first use.
    pub(super) rare: Option<Box<Rare>>,
    /// Session expiry interval of the CONNECT (v5), to refuse raising it from 0 at DISCONNECT.
    connect_expiry: u32,
    pub(super) version: Version,
    /// Whether this client was told off for publishing to `$SYS` (logged once per client).
    sys_warned: bool,
    /// Whether routing the message at hand wrote to the store.
    routed_to_store: bool,
    /// A 3.x bridge (protocol level + 0x80): its subscriptions never get its own messages
    /// back and keep retain flags as published, as 5.0 bridges ask with subscription options.
    bridge: bool,
}

/// A link's state that most connections never have: one pointer in every link, allocated for
/// a client with a user name, a will or a mount point, or once it needs the rest.
#[derive(Default)]
pub(super) struct Rare {
    username: Option<Box<str>>,
    will: Option<Box<Will>>,
    /// The acknowledgement of an oversize PUBLISH, sent once its body has been skipped.
    pub(super) deferred: Option<Box<Packet>>,
    /// A subscriber whose queue the last batch filled past half.
    behind: Option<Arc<SessionCell>>,
    /// Topics of the client's topic aliases (index = alias - 1), up to the configured maximum.
    aliases: LazyVec<Option<TopicName>>,
    /// The listener's `mount_point`, put before the topics and filters this client sends.
    mount: Option<Arc<super::MountPoint>>,
}

impl Link {
    /// The client id (the session's).
    pub(super) fn client_id(&self) -> &Arc<str> {
        &self.cell.client_id
    }

    /// The user name the client acts as.
    fn username(&self) -> Option<&str> {
        self.rare.as_ref()?.username.as_deref()
    }

    /// The listener's mount point.
    fn mount(&self) -> Option<&super::MountPoint> {
        self.rare.as_ref()?.mount.as_deref()
    }

    /// The rarely used state, allocated now if it was not.
    pub(super) fn rare(&mut self) -> &mut Rare {
        self.rare.get_or_insert_with(Box::default)
    }
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
    let v5 = c.version.is_v5();
    let (id, assigned) = if !c.client_id.is_empty() {
        (c.client_id.clone(), None)
    } else if (!c.clean_start && !v5) || c.version == crate::protocol::Version::V31 {
        // MQTT 3.1 requires an id of 1 to 23 characters: an empty one is "identifier rejected".
        return Err(ReasonCode::ClientIdentifierNotValid);
    } else if !limits.allow_zero_length_clientid {
        // 5.0 leaves the code open ("MAY" use 0x85, [MQTT-3.1.3-8]); mosquitto says 0x80.
        return Err(match v5 {
            true => ReasonCode::UnspecifiedError,
            false => ReasonCode::ClientIdentifierNotValid,
        });
    } else {
        let id = generated_id(&limits.auto_id_prefix);
        (id.clone(), v5.then_some(id))
    };
    // `clientid_prefixes`, as mosquitto: any other id is not authorized (3.1.1 code 5).
    if !id.starts_with(&limits.clientid_prefix) {
        return Err(ReasonCode::NotAuthorized);
    }
    Ok((id, assigned))
}

/// How long the session outlives the connection, in seconds (`u32::MAX`: for ever). 5.0 keeps
/// a session only with a session expiry interval; 3.1.1 without clean session, for ever; and
/// `persistent_client_expiration` bounds "for ever", as in mosquitto.
fn session_expiry(c: &Connect, persistent_client_expiration: Option<u32>) -> u32 {
    let asked = if c.version.is_v5() {
        c.properties.session_expiry_interval.unwrap_or(0)
    } else if c.clean_start {
        0
    } else {
        u32::MAX
    };
    match persistent_client_expiration {
        Some(limit) if asked == u32::MAX => limit,
        _ => asked,
    }
}

/// Before a new connection takes over a client id, the connection attached to it handles
/// what its client had already sent: a client that sends DISCONNECT, closes and reconnects at
/// once must find its DISCONNECT (and its session expiry) applied, as with a broker that reads
/// sockets in the order their bytes came. Bounded, so a stuck old link cannot hold this one.
async fn let_old_link_catch_up(router: &Router, client_id: &str) {
    let Some(old) = router.attached_session(client_id) else {
        return;
    };
    let wait = async {
        old.catch_up.store(true, Ordering::Relaxed);
        old.wake();
        // One `Notify` serves every session: woken, check this one again.
        loop {
            // Registered before the check, so the answer cannot come in between.
            let caught_up = old.caught_up().notified();
            tokio::pin!(caught_up);
            caught_up.as_mut().enable();
            if !old.catch_up.load(Ordering::Relaxed) || old.lock().link.is_none() {
                break;
            }
            caught_up.await;
        }
    };
    let _ = tokio::time::timeout(CATCH_UP_BOUND, wait).await;
    old.catch_up.store(false, Ordering::Relaxed);
}

/// Longest a new connection waits for the one it replaces to catch up.
const CATCH_UP_BOUND: std::time::Duration = std::time::Duration::from_millis(200);

/// The client id, a generated id to tell a v5 client, and the user name to act as; or the
/// CONNACK reason of a refusal.
type Identity = (String, Option<String>, Option<String>);

async fn identify(ctx: &LinkContext, c: &Connect) -> Result<Identity, ReasonCode> {
    // A client that connects after a SIGHUP is judged by the files that SIGHUP re-read.
    ctx.router.reloads.settled().await;
    let (id, assigned) = client_identity(c, &ctx.limits)?;
    if c.will
        .as_ref()
        .is_some_and(|w| w.qos as u8 > ctx.limits.max_qos)
    {
        return Err(ReasonCode::QoSNotSupported);
    }
    // A will over message_size_limit could never be published: refused as mosquitto does
    // (0x95 in 5.0; "not authorized" in 3.1.1, which has no better code).
    let limit = ctx.limits.message_size_limit as usize;
    if limit > 0 && c.will.as_ref().is_some_and(|w| w.payload.len() > limit) {
        return Err(match c.version.is_v5() {
            true => ReasonCode::PacketTooLarge,
            false => ReasonCode::NotAuthorized,
        });
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
    // `use_username_as_clientid`, as mosquitto: after authentication, and a client without a
    // user name is not authorized.
    if ctx.limits.username_as_clientid.get(ctx.listener) == Some(&true) {
        return match user {
            Some(name) => Ok((name.clone(), None, Some(name))),
            None => Err(ReasonCode::NotAuthorized),
        };
    }
    Ok((id, assigned, user))
}

/// `New client connected from 127.0.0.1:54321 as c1 (p2, c1, k60, u'name').`
fn log_connected(log: Log, peer: std::net::SocketAddr, c: &Connect, client_id: &str) {
    let user = c
        .username
        .as_deref()
        .map(|u| format!(", u'{u}'"))
        .unwrap_or_default();
    let kind = if c.bridge { "bridge" } else { "client" };
    log.conn(format_args!(
        "New {kind} connected from {peer} as {client_id} (p{}, c{}, k{}{user}).",
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
    let mut c = *connect;
    let mount = ctx.limits.mount_points.get(ctx.listener).cloned().flatten();
    let identity = match super::mount::mount_will(mount.as_deref(), &mut c) {
        Ok(()) => identify(ctx, &c).await,
        Err(reason) => Err(reason),
    };
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
    let expiry = session_expiry(&c, ctx.limits.persistent_client_expiration);
    let_old_link_catch_up(router, &client_id).await;
    let attached = router.connect(&client_id, c.clean_start, expiry > 0, username.clone());
    router.set_expiry(&attached.cell, expiry);
    router.stats.connects.fetch_add(1, Ordering::Relaxed);
    router
        .stats
        .packets_received
        .fetch_add(1, Ordering::Relaxed);
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
        .store(u32::from(keep_alive) * 1500, Ordering::Relaxed);
    {
        let mut st = cell.lock();
        st.session.set_peer(Peer {
            receive_max: c.properties.receive_maximum.unwrap_or(0),
            max_packet: c.properties.maximum_packet_size.unwrap_or(0),
        });
        st.session.connect(&mut out);
    }
    // Aliases start afresh with each connection ([MQTT-3.3.2-7]).
    io.rewrite = super::Rewrite::new(
        super::alias_out::OutAliases::for_client(
            c.version,
            c.properties.topic_alias_maximum,
            c.properties.maximum_packet_size,
        ),
        mount.clone(),
    );
    let _ = io.encode(&mut out, router);
    let username = username.map(String::into_boxed_str);
    let rare = (username.is_some() || c.will.is_some() || mount.is_some()).then(|| {
        Box::new(Rare {
            username,
            will: c.will.map(Box::new),
            mount,
            ..Rare::default()
        })
    });
    let link = Link {
        cell: attached.cell.clone(),
        router: router.clone(),
        limits: ctx.limits.clone(),
        log,
        durable: Default::default(),
        rare,
        connect_expiry: expiry,
        version: c.version,
        sys_warned: false,
        routed_to_store: false,
        bridge: c.bridge,
    };
    Some((link, attached))
}

/// The message a PUBLISH carries.
fn message(p: &Publish) -> Message {
    let props = p.properties.clone();
    Message::new(p.topic.clone(), p.payload.clone(), p.qos, p.retain, props)
}

impl Link {
    /// The message a PUBLISH of this client carries; a retained one remembers its publisher.
    fn message(&self, p: &Publish) -> Message {
        let mut m = message(p);
        if p.retain {
            m.origin = Some(Arc::new(crate::session::Origin {
                client_id: self.client_id().clone(),
                username: self.username().map(Arc::from),
            }));
        }
        m
    }
}

/// A PUBACK, PUBREC, PUBREL or PUBCOMP body.
pub(super) fn resp(packet_id: crate::protocol::PacketId, reason: ReasonCode) -> PubResp {
    PubResp {
        packet_id,
        reason,
        properties: Props::default(),
    }
}

/// Most `/` separators in a topic or filter, as mosquitto: deeper ones close the connection
/// (5.0: DISCONNECT 0x82 for a PUBLISH, 0x81 for a SUBSCRIBE), which bounds the work and the
/// subscription tree depth one packet can ask for.
const MAX_LEVELS: usize = 200;

fn too_deep(topic: &str) -> bool {
    topic.bytes().filter(|&b| b == b'/').count() > MAX_LEVELS
}

/// Queues a packet for sending.
fn push(out: &mut Vec<Outgoing>, p: Packet) {
    out.push(Outgoing::Packet(p));
}

/// A generated client id: the prefix and a random UUID in its usual 8-4-4-4-12 form, as
/// mosquitto 2.0 makes them (`auto-` and 36 characters by default).
fn generated_id(prefix: &str) -> String {
    let n: u128 = rand::random();
    let h = format!("{n:032x}");
    format!(
        "{prefix}{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

impl Link {
    /// Routes a message, remembering a subscriber that is falling behind; returns the v5
    /// acknowledgement reason for a message that went nowhere.
    fn route(&mut self, msg: Message) -> Option<ReasonCode> {
        let routed = self.router.publish(Arc::new(msg), Some(&self.cell));
        if let Some(cell) = routed.behind {
            self.rare().behind.get_or_insert(cell);
        }
        self.routed_to_store |= routed.stored;
        match routed.fanout {
            Fanout::Delivered => None,
            Fanout::NoSubscribers => Some(ReasonCode::NoMatchingSubscribers),
            Fanout::QueuesFull => Some(ReasonCode::QuotaExceeded),
        }
    }

    /// A subscriber this link's last batch found falling behind, to wait for.
    pub(super) fn take_behind(&mut self) -> Option<Arc<SessionCell>> {
        self.rare.as_mut()?.behind.take()
    }

    /// Largest packet accepted from this client.
    pub(super) fn max_packet_size(&self) -> u32 {
        self.limits.max_packet_size
    }

    /// Handles one packet after CONNECT, pushing replies to `out`.
    pub(super) fn handle(&mut self, p: Packet, out: &mut Vec<Outgoing>) -> Result<(), Close> {
        let stats = &self.router.stats;
        stats.packets_received.fetch_add(1, Ordering::Relaxed);
        if let Packet::Publish(p) = &p {
            let n = p.payload.len() as u64;
            stats.pub_bytes_received.fetch_add(n, Ordering::Relaxed);
        }
        match p {
            Packet::Publish(p) => self.publish(p, out),
            Packet::PubAck(r) => {
                self.check_ack(r.packet_id, QoS::AtLeastOnce, "PUBACK")?;
                let seq = self.cell.lock().session.puback(r.packet_id, out);
                self.forget(seq);
                Ok(())
            }
            Packet::PubRec(r) => {
                self.check_ack(r.packet_id, QoS::ExactlyOnce, "PUBREC")?;
                if self.version.is_v5() && r.reason.is_error() {
                    let seq = self.cell.lock().session.pubrec_refused(r.packet_id, out);
                    self.forget(seq);
                    return Ok(());
                }
                self.cell.lock().session.pubrec(r.packet_id, out);
                Ok(())
            }
            Packet::PubComp(r) => {
                self.check_ack(r.packet_id, QoS::ExactlyOnce, "PUBCOMP")?;
                let seq = self.cell.lock().session.pubcomp(r.packet_id, out);
                self.forget(seq);
                Ok(())
            }
            Packet::PubRel(r) => {
                push(out, self.cell.lock().session.pubrel(r.packet_id));
                self.store(StoreOp::IncomingDel(
                    self.client_id().clone(),
                    r.packet_id.get(),
                ));
                Ok(())
            }
            Packet::Subscribe(s) => {
                if s.subscriptions.iter().any(|x| too_deep(&x.filter)) {
                    return Err(Close::Error(
                        format!("disconnected due to a topic filter of over {MAX_LEVELS} levels"),
                        Some(ReasonCode::MalformedPacket),
                    ));
                }
                self.subscribe(s, out);
                Ok(())
            }
            Packet::Unsubscribe(u) => {
                let mut reasons = Vec::new();
                for f in &u.filters {
                    let mounted = self.mount().map(|m| m.filter_in(f));
                    let f = match &mounted {
                        None => f,
                        Some(Some(full)) => full,
                        // No filter of this client can be that one.
                        Some(None) => {
                            reasons.push(ReasonCode::NoSubscriptionExisted);
                            continue;
                        }
                    };
                    let existed = self.router.unsubscribe(&self.cell, f);
                    self.log
                        .unsubscribe(format_args!("{} {}", self.client_id(), f));
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
            // [MQTT-3.1.0-2]: a protocol error; like mosquitto, closed without DISCONNECT.
            Packet::Connect(_) => Err(Close::Error(
                "disconnected due to protocol error (second CONNECT)".into(),
                None,
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

    /// An acknowledgement of the wrong kind for a delivery in flight (PUBCOMP for a QoS 1
    /// message, PUBACK for a QoS 2 one) is a protocol error ([MQTT-4.3.2], [MQTT-4.3.3]);
    /// like mosquitto, the connection is closed without DISCONNECT. An unknown id is ignored.
    fn check_ack(&self, id: crate::protocol::PacketId, qos: QoS, kind: &str) -> Result<(), Close> {
        let state = self.cell.lock().session.inflight_state(id);
        // PUBCOMP before PUBREC skips a step of the QoS 2 exchange.
        let early = kind == "PUBCOMP" && state.is_some_and(|(_, s)| s == Stage::Published);
        match state.map(|(q, _)| q) {
            Some(q) if q != qos || early => Err(Close::Error(
                format!(
                    "disconnected due to protocol error ({kind} for a QoS {} message)",
                    q as u8
                ),
                None,
            )),
            _ => Ok(()),
        }
    }

    /// Sends a change of this client's session state to the store (persistent sessions only).
    /// Returns whether it was sent.
    pub(super) fn store(&mut self, op: StoreOp) -> bool {
        match (self.router.store(), self.cell.lock().clean) {
            (Some(store), false) => {
                store.send(op);
                true
            }
            _ => false,
        }
    }

    fn forget(&mut self, seq: Option<u64>) {
        if let (Some(seq @ 1..), Some(store)) = (seq, self.router.store()) {
            store.send(StoreOp::Dequeue(self.client_id().clone(), seq));
        }
    }

    /// Checks a PUBLISH: a protocol violation closes the connection, otherwise returns
    /// whether to route it and the acknowledgement's reason code.
    fn admit(&mut self, p: &Publish) -> Result<(bool, ReasonCode), Close> {
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
        // A payload over message_size_limit never gets here: see `oversize.rs`.
        let reason = if !sys::client_may_publish(&p.topic) {
            self.refuse_sys(p);
            ReasonCode::NotAuthorized
        } else if !self
            .router
            .access()
            .can_write(self.client_id(), self.username(), &p.topic)
        {
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

    /// Counts a publish to `$SYS` and logs the first of each client.
    fn refuse_sys(&mut self, p: &Publish) {
        self.router
            .stats
            .sys_refused
            .fetch_add(1, Ordering::Relaxed);
        if !std::mem::replace(&mut self.sys_warned, true) {
            self.log.info(format_args!(
                "Client {} published to '{}': dropped, clients may not publish to $SYS or $share \
                 (further attempts are not logged).",
                self.client_id(),
                p.topic
            ));
        }
    }

    fn log_publish(&self, p: &Publish) {
        if self.log.debug_on() {
            self.log.debug(format_args!(
                "Received PUBLISH from {} (d{}, q{}, r{}, m{}, '{}', ... ({} bytes))",
                self.client_id(),
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
        // Only a PUBLISH that uses an alias needs the aliases (allocated then).
        if p.properties.topic_alias.is_some() {
            let rare = self.rare.get_or_insert_with(Box::default);
            v5::resolve_alias(&mut rare.aliases, &self.limits, self.version, &mut p)?;
        }
        if let Some(mount) = self.mount() {
            // Judged (ACL, $SYS) and routed by its full topic, as mosquitto does.
            p.topic = mount.topic_in(&p.topic).ok_or_else(|| {
                Close::Error(
                    "disconnected due to a topic too long under the mount point".into(),
                    Some(ReasonCode::TopicNameInvalid),
                )
            })?;
        }
        if too_deep(&p.topic) {
            return Err(Close::Error(
                format!("disconnected due to a topic of over {MAX_LEVELS} levels"),
                Some(ReasonCode::ProtocolError),
            ));
        }
        self.log_publish(&p);
        let (route, reason) = self.admit(&p)?;
        self.check_receive_max(&p)?;
        let (route, mut reason) = self.admit_to_store(&p, route, reason)?;
        self.routed_to_store = false;
        match (p.qos, p.packet_id) {
            (QoS::AtMostOnce, _) => {
                if route {
                    let m = self.message(&p);
                    self.route(m);
                }
            }
            (QoS::AtLeastOnce, Some(id)) => {
                if route {
                    self.route_acked(&p, &mut reason);
                }
                // PUBACK promises what routing wrote to the store is there.
                if self.routed_to_store {
                    self.durable.push((id, QoS::AtLeastOnce));
                }
                push(out, Packet::PubAck(resp(id, reason)));
            }
            (QoS::ExactlyOnce, Some(id)) => self.publish_qos2(&p, id, route, reason, out),
            _ => {
                return Err(Close::Error(
                    "disconnected due to protocol error (no packet id)".into(),
                    Some(ReasonCode::ProtocolError),
                ));
            }
        }
        Ok(())
    }

    /// Routes an acknowledged message; a v5 success turns into the reason it went nowhere.
    fn route_acked(&mut self, p: &Publish, reason: &mut ReasonCode) {
        let m = self.message(p);
        let why = self.route(m);
        if let (Some(why), true) = (why, self.version.is_v5() && *reason == ReasonCode::Success) {
            *reason = why;
        }
    }

    /// The first half of the QoS 2 exchange: route once, remember the id, answer PUBREC.
    fn publish_qos2(
        &mut self,
        p: &Publish,
        id: crate::protocol::PacketId,
        route: bool,
        mut reason: ReasonCode,
        out: &mut Vec<Outgoing>,
    ) {
        let first = self.cell.lock().session.incoming_qos2(id);
        if first && route {
            // Like mosquitto, a PUBREC says Success when nobody subscribes (0x10 is for PUBACK).
            let m = self.message(p);
            let why = self.route(m);
            if why == Some(ReasonCode::QuotaExceeded)
                && self.version.is_v5()
                && reason == ReasonCode::Success
            {
                reason = ReasonCode::QuotaExceeded;
            }
        }
        if self.version.is_v5() && reason.is_error() {
            // A refusing PUBREC ends the exchange: the id is free for the client's next
            // message, which must not be taken for a resend of this one.
            if first {
                let _ = self.cell.lock().session.pubrel(id);
            }
        } else {
            let kept =
                first && self.store(StoreOp::IncomingAdd(self.client_id().clone(), id.get()));
            // PUBREC promises the message and its id are held. A resend's first delivery is
            // past knowing: it waits for the store too.
            if kept || self.routed_to_store || !first {
                self.durable.push((id, QoS::ExactlyOnce));
            }
        }
        push(out, Packet::PubRec(resp(id, reason)));
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
            if let Some(mount) = self.mount() {
                let Some(filter) = mount.filter_in(&sub.filter) else {
                    reasons.push(ReasonCode::TopicFilterInvalid);
                    continue;
                };
                sub.filter = filter;
            }
            sub.options.qos = sub.options.qos.min(max_qos);
            if self.bridge {
                // Loop prevention for 3.x bridges (mosquitto does the same).
                sub.options.no_local = true;
                sub.options.retain_as_published = true;
            }
            // A filter the ACL never lets this client read is refused (0x87; 0x80 in 3.1.1).
            let pattern = sub.filter.pattern();
            if !self
                .router
                .access()
                .may_subscribe(self.client_id(), self.username(), pattern)
            {
                self.log.subscribe(format_args!(
                    "{} {} {} (denied by the ACL)",
                    self.client_id(),
                    sub.options.qos as u8,
                    sub.filter
                ));
                reasons.push(ReasonCode::NotAuthorized);
                continue;
            }
            let new = self
                .router
                .subscribe(&self.cell, &sub.filter, sub.options, sub_id);
            self.log.subscribe(format_args!(
                "{} {} {}",
                self.client_id(),
                sub.options.qos as u8,
                sub.filter
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

    /// Ends the connection: DISCONNECT for v5 errors, the will unless clean, detach.
    pub(super) async fn finish<S>(mut self, io: &mut Io<S>, close: Close, generation: u64)
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let id = self.client_id().clone();
        if !matches!(close, Close::Clean { .. }) {
            // Only a DISCONNECT is ordered: nothing else read before waits for the close.
            io.reader.close();
        }
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
                // The server closes the connection without the client's DISCONNECT, so the
                // will is published ([MQTT-3.1.2-8]); a will delay is cut short, since nothing
                // would keep the will across the restart (see `Router::publish_will`).
                true
            }
        };
        io.flush_all().await;
        if matches!(&close, Close::Error(_, Some(_))) && self.version.is_v5() {
            // The client is to read our DISCONNECT: what it had already sent is read first,
            // or closing with unread bytes would reset the connection and could lose it.
            io.drain_before_close().await;
        }
        let will = self.rare.as_mut().and_then(|r| r.will.take());
        let will = will.filter(|_| send_will);
        self.router.stats.connected.fetch_sub(1, Ordering::Relaxed);
        self.router.disconnect(&self.cell, generation);
        // A PUBLISH read after the DISCONNECT finds the session detached.
        io.reader.close();
        self.cell.signal_caught_up();
        if let Some(will) = will {
            v5::send_will(
                &self.router,
                &self.cell,
                self.username(),
                *will,
                self.limits.retain_available,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connect(version: Version, clean_start: bool, expiry: Option<u32>) -> Connect {
        let mut properties = Props::default();
        properties.session_expiry_interval = expiry;
        Connect {
            version,
            client_id: "c".into(),
            clean_start,
            keep_alive: 60,
            username: None,
            password: None,
            will: None,
            properties,
            bridge: false,
        }
    }

    #[test]
    fn persistent_client_expiration_bounds_sessions_kept_for_ever() {
        let v3 = connect(Version::V311, false, None);
        assert_eq!(session_expiry(&v3, None), u32::MAX);
        assert_eq!(session_expiry(&v3, Some(86400)), 86400);
        let clean = connect(Version::V311, true, None);
        assert_eq!(session_expiry(&clean, Some(86400)), 0);
        let v5_forever = connect(Version::V5, false, Some(u32::MAX));
        assert_eq!(session_expiry(&v5_forever, Some(3600)), 3600);
        let v5_short = connect(Version::V5, false, Some(30));
        assert_eq!(session_expiry(&v5_short, Some(3600)), 30);
    }
}
