//! Persistence in an embedded redb database: retained messages, persistent sessions with their
//! subscriptions, queued messages and incoming QoS 2 state.
//!
//! ```text
//!  retained  topic             -> message
//!  retained_origin topic       -> its publisher (client id, user name)
//!  sessions  client id         -> subscriptions, session expiry interval
//!  queue     (client id, seq)  -> message + delivery QoS      one row per stored delivery
//!  incoming  (client id, id)   -> ()                          QoS 2 awaiting PUBREL
//!  message:  [qos][retain][topic len: u16 BE][topic][payload]
//!       or:  [qos | 0x80][retain][a v5 QoS 0 PUBLISH: topic, properties, payload]
//! ```
//!
//! The second form keeps a message's v5 properties (its message expiry interval as what is
//! left when written); messages without properties keep the compact first form.
//!
//! Writers send [`StoreOp`]s over a channel to one thread (`writer`) that applies everything
//! waiting in a single transaction (group commit) and then answers every [`StoreTx::barrier`]
//! waiting on it. A link sends its PUBACK/PUBREC only after a successful barrier, so an
//! acknowledged message is on disk; a failed one turns the acknowledgement into a refusal.

use crate::protocol::{self, Packet, Publish, QoS, RetainHandling, SubscriptionOptions, Version};
use crate::session::{Message, Origin};
use crate::topic::{TopicFilter, TopicName};
use bytes::{Bytes, BytesMut};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::path::Path;
use std::sync::Arc;
use tokio::sync::oneshot;

mod writer;

pub use writer::{StoreFault, StoreTx, start};

const RETAINED: TableDefinition<&str, &[u8]> = TableDefinition::new("retained");
const SESSIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("sessions");
/// Who published each retained message (for `check_retain_source` after a restart):
/// client id, then the user name if any, each a 2-byte length and its bytes.
const RETAINED_ORIGIN: TableDefinition<&str, &[u8]> = TableDefinition::new("retained_origin");
const QUEUE: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("queue");
const INCOMING: TableDefinition<(&str, u16), ()> = TableDefinition::new("incoming");

/// A store failure.
#[derive(Debug, thiserror::Error)]
#[error("persistence store {path}: {message}")]
pub struct StoreError {
    /// The database file.
    pub path: String,
    /// What failed.
    pub message: String,
}

/// One change to persist.
#[derive(Debug)]
pub enum StoreOp {
    /// A retained message was set (or, with an empty payload, deleted).
    Retain(Arc<Message>),
    /// A persistent session's subscriptions, written whole.
    Session(Arc<str>, SessionRecord),
    /// A session ended for good: forget it and everything it had.
    DropSession(Arc<str>),
    /// A delivery was queued for a persistent session.
    Enqueue(Arc<str>, u64, Arc<Message>, QoS),
    /// A delivery completed.
    Dequeue(Arc<str>, u64),
    /// An incoming QoS 2 id awaits PUBREL.
    IncomingAdd(Arc<str>, u16),
    /// PUBREL arrived.
    IncomingDel(Arc<str>, u16),
    /// Answer once everything before is committed, or the commit failed.
    Barrier(oneshot::Sender<Result<(), StoreFault>>),
    /// Commit everything before, then stop the writer (broker shutdown).
    Close(oneshot::Sender<()>),
}

/// A persistent session as read back at start.
#[derive(Debug, Default)]
pub struct RestoredSession {
    /// Client identifier.
    pub client_id: String,
    /// Its subscriptions with their v5 subscription identifiers (0 = none).
    pub subscriptions: Vec<StoredSub>,
    /// Session expiry interval in seconds (`u32::MAX`: never).
    pub expiry: u32,
    /// Queued deliveries in order: store key, message, delivery QoS.
    pub queue: Vec<(u64, Message, QoS)>,
    /// Incoming QoS 2 ids awaiting PUBREL.
    pub incoming: Vec<u16>,
}

/// Everything read back at start.
#[derive(Debug, Default)]
pub struct Restored {
    /// Retained messages.
    pub retained: Vec<Message>,
    /// Persistent sessions.
    pub sessions: Vec<RestoredSession>,
    /// The largest queue key in use, so new keys do not collide.
    pub max_seq: u64,
    /// Retained `$SYS` messages found in the store and removed: only the broker publishes
    /// there, and it publishes its own afresh.
    pub removed_sys: u64,
}

/// Opens (or creates) the store and reads its content.
pub fn open(path: &Path) -> Result<(Database, Restored), StoreError> {
    let err = |e: &dyn std::fmt::Display| StoreError {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| err(&e))?;
    }
    let db = Database::create(path).map_err(|e| err(&e))?;
    let removed_sys = prepare(&db).map_err(|e| err(&e))?;
    let mut restored = read_all(&db).map_err(|e| err(&e))?;
    restored.removed_sys = removed_sys;
    Ok((db, restored))
}

/// Creates missing tables and removes retained `$SYS` messages (written by clients before
/// `$SYS` was closed to them, or by the broker before it stopped storing its own); returns
/// how many were removed.
fn prepare(db: &Database) -> Result<u64, redb::Error> {
    let tx = db.begin_write()?;
    let mut removed = 0;
    tx.open_table(RETAINED)?.retain(|topic, _| {
        let sys = crate::broker::sys::is_sys_topic(topic);
        removed += sys as u64;
        !sys
    })?;
    tx.open_table(SESSIONS)?;
    tx.open_table(RETAINED_ORIGIN)?;
    tx.open_table(QUEUE)?;
    tx.open_table(INCOMING)?;
    tx.commit()?;
    Ok(removed)
}

fn read_all(db: &Database) -> Result<Restored, redb::Error> {
    let tx = db.begin_read()?;
    let mut out = Restored::default();
    let origins = tx.open_table(RETAINED_ORIGIN)?;
    for row in tx.open_table(RETAINED)?.iter()? {
        let (k, v) = row?;
        if let Some((mut m, _)) = decode_message(v.value()) {
            if let Some(o) = origins.get(k.value())? {
                m.origin = decode_origin(o.value()).map(Arc::new);
            }
            out.retained.push(m);
        }
    }
    let queue = tx.open_table(QUEUE)?;
    let incoming = tx.open_table(INCOMING)?;
    for row in tx.open_table(SESSIONS)?.iter()? {
        let (k, v) = row?;
        let id = k.value().to_string();
        let record = decode_subs(v.value());
        let mut s = RestoredSession {
            subscriptions: record.subs,
            expiry: record.expiry,
            ..Default::default()
        };
        for q in queue.range((id.as_str(), 0)..=(id.as_str(), u64::MAX))? {
            let (key, v) = q?;
            let seq = key.value().1;
            out.max_seq = out.max_seq.max(seq);
            if let Some((m, qos)) = decode_message(v.value()) {
                s.queue.push((seq, m, qos));
            }
        }
        for r in incoming.range((id.as_str(), 0)..=(id.as_str(), u16::MAX))? {
            s.incoming.push(r?.0.value().1);
        }
        s.client_id = id;
        out.sessions.push(s);
    }
    Ok(out)
}

/// Applies `ops` in one transaction and commits it.
fn apply<'a>(db: &Database, ops: impl Iterator<Item = &'a StoreOp>) -> Result<(), redb::Error> {
    let tx = db.begin_write()?;
    {
        let mut retained = tx.open_table(RETAINED)?;
        let mut origins = tx.open_table(RETAINED_ORIGIN)?;
        let mut sessions = tx.open_table(SESSIONS)?;
        let mut queue = tx.open_table(QUEUE)?;
        let mut incoming = tx.open_table(INCOMING)?;
        for op in ops {
            match op {
                StoreOp::Retain(m) if m.payload.is_empty() => {
                    retained.remove(m.topic.as_str())?;
                    origins.remove(m.topic.as_str())?;
                }
                StoreOp::Retain(m) => {
                    retained.insert(m.topic.as_str(), encode_message(m, m.qos).as_slice())?;
                    match &m.origin {
                        Some(o) => origins.insert(m.topic.as_str(), encode_origin(o).as_slice())?,
                        None => origins.remove(m.topic.as_str())?,
                    };
                }
                StoreOp::Session(id, record) => {
                    sessions.insert(&**id, encode_subs(record).as_slice())?;
                }
                StoreOp::DropSession(id) => {
                    sessions.remove(&**id)?;
                    queue.retain_in((&**id, 0)..=(&**id, u64::MAX), |_, _| false)?;
                    incoming.retain_in((&**id, 0)..=(&**id, u16::MAX), |_, _| false)?;
                }
                StoreOp::Enqueue(id, seq, m, qos) => {
                    queue.insert((&**id, *seq), encode_message(m, *qos).as_slice())?;
                }
                StoreOp::Dequeue(id, seq) => {
                    queue.remove((&**id, *seq))?;
                }
                StoreOp::IncomingAdd(id, pid) => {
                    incoming.insert((&**id, *pid), ())?;
                }
                StoreOp::IncomingDel(id, pid) => {
                    incoming.remove((&**id, *pid))?;
                }
                StoreOp::Barrier(_) | StoreOp::Close(_) => {}
            }
        }
    }
    tx.commit()?;
    Ok(())
}

fn encode_origin(o: &Origin) -> Vec<u8> {
    let mut v = Vec::new();
    let mut put = |s: &str| {
        v.extend_from_slice(&(s.len().min(u16::MAX as usize) as u16).to_be_bytes());
        v.extend_from_slice(&s.as_bytes()[..s.len().min(u16::MAX as usize)]);
    };
    put(&o.client_id);
    if let Some(u) = &o.username {
        put(u);
    }
    v
}

fn decode_origin(b: &[u8]) -> Option<Origin> {
    let take = |b: &[u8]| -> Option<(String, usize)> {
        let n = u16::from_be_bytes([*b.first()?, *b.get(1)?]) as usize;
        let s = std::str::from_utf8(b.get(2..2 + n)?).ok()?;
        Some((s.to_string(), 2 + n))
    };
    let (client_id, used) = take(b)?;
    let rest = &b[used..];
    let username = if rest.is_empty() {
        None
    } else {
        Some(take(rest)?.0)
    };
    Some(Origin {
        client_id: client_id.into(),
        username: username.map(Arc::from),
    })
}

/// Marks the message form carrying v5 properties.
const WITH_PROPERTIES: u8 = 0x80;

fn encode_message(m: &Message, qos: QoS) -> Vec<u8> {
    if !m.properties.is_empty() {
        let mut properties = m.properties.clone();
        if let Some(left) = m.remaining_secs(std::time::Instant::now()) {
            properties.message_expiry_interval = Some(left);
        }
        let packet = Packet::Publish(Publish {
            dup: false,
            qos: QoS::AtMostOnce,
            retain: false,
            topic: m.topic.clone(),
            packet_id: None,
            properties,
            payload: m.payload.clone(),
        });
        let mut buf = BytesMut::new();
        if protocol::encode(&packet, Version::V5, &mut buf).is_ok() {
            let mut v = Vec::with_capacity(2 + buf.len());
            v.push(qos as u8 | WITH_PROPERTIES);
            v.push(m.retain as u8);
            v.extend_from_slice(&buf);
            return v;
        }
    }
    let topic = m.topic.as_bytes();
    let mut v = Vec::with_capacity(4 + topic.len() + m.payload.len());
    v.push(qos as u8);
    v.push(m.retain as u8);
    v.extend_from_slice(&(topic.len() as u16).to_be_bytes());
    v.extend_from_slice(topic);
    v.extend_from_slice(&m.payload);
    v
}

fn decode_message(b: &[u8]) -> Option<(Message, QoS)> {
    let first = *b.first()?;
    let qos = QoS::from_u8(first & !WITH_PROPERTIES)?;
    let retain = *b.get(1)? != 0;
    if first & WITH_PROPERTIES != 0 {
        let mut buf = BytesMut::from(b.get(2..)?);
        let Ok(Some(Packet::Publish(p))) = protocol::decode(&mut buf, Version::V5, u32::MAX) else {
            return None;
        };
        let msg = Message::new(p.topic, p.payload, qos, retain, p.properties);
        return Some((msg, qos));
    }
    let len = u16::from_be_bytes([*b.get(2)?, *b.get(3)?]) as usize;
    let topic = std::str::from_utf8(b.get(4..4 + len)?).ok()?;
    let topic = TopicName::new(topic).ok()?;
    let payload = Bytes::copy_from_slice(b.get(4 + len..)?);
    let msg = Message::new(topic, payload, qos, retain, Default::default());
    Some((msg, qos))
}

fn options_byte(o: &SubscriptionOptions) -> u8 {
    o.qos as u8
        | (o.no_local as u8) << 2
        | (o.retain_as_published as u8) << 3
        | (o.retain_handling as u8) << 4
}

/// A subscription as stored: filter, options, v5 subscription identifier (0 = none).
pub type StoredSub = (TopicFilter, SubscriptionOptions, u32);

/// What is stored of a persistent session besides its messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    /// Its subscriptions.
    pub subs: Vec<StoredSub>,
    /// Session expiry interval in seconds (`u32::MAX`: never).
    pub expiry: u32,
}

/// Options-byte flag: a 4-byte subscription identifier follows the filter.
const WITH_SUB_ID: u8 = 0x40;
/// A record that is not a subscription: the session expiry interval, 4 bytes.
const EXPIRY_RECORD: u8 = 0x80;

/// `[options][len: u16 BE][filter]([sub id: u32 BE])` per subscription, then
/// `[0x80][expiry: u32 BE]` unless the session never expires.
fn encode_subs(record: &SessionRecord) -> Vec<u8> {
    let mut v = Vec::new();
    for (f, o, id) in &record.subs {
        v.push(options_byte(o) | if *id != 0 { WITH_SUB_ID } else { 0 });
        v.extend_from_slice(&(f.len() as u16).to_be_bytes());
        v.extend_from_slice(f.as_bytes());
        if *id != 0 {
            v.extend_from_slice(&id.to_be_bytes());
        }
    }
    if record.expiry != u32::MAX {
        v.push(EXPIRY_RECORD);
        v.extend_from_slice(&record.expiry.to_be_bytes());
    }
    v
}

fn be32(b: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(..4)?.try_into().ok()?))
}

fn decode_subs(mut b: &[u8]) -> SessionRecord {
    let mut out = SessionRecord {
        subs: Vec::new(),
        expiry: u32::MAX,
    };
    while b.len() >= 3 {
        let o = b[0];
        if o & EXPIRY_RECORD != 0 {
            out.expiry = be32(&b[1..]).unwrap_or(u32::MAX);
            b = b.get(5..).unwrap_or_default();
            continue;
        }
        let len = u16::from_be_bytes([b[1], b[2]]) as usize;
        let Some(f) = b.get(3..3 + len) else { break };
        let id_len = if o & WITH_SUB_ID != 0 { 4 } else { 0 };
        let id = match id_len {
            0 => 0,
            _ => be32(b.get(3 + len..).unwrap_or_default()).unwrap_or(0),
        };
        let opts = SubscriptionOptions {
            qos: QoS::from_u8(o & 3).unwrap_or_default(),
            no_local: o & 4 != 0,
            retain_as_published: o & 8 != 0,
            retain_handling: match (o >> 4) & 3 {
                1 => RetainHandling::SendIfNew,
                2 => RetainHandling::DoNotSend,
                _ => RetainHandling::SendOnSubscribe,
            },
        };
        if let Ok(Ok(filter)) = std::str::from_utf8(f).map(TopicFilter::new) {
            out.subs.push((filter, opts, id));
        }
        b = b.get(3 + len + id_len..).unwrap_or_default();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retained_message_keeps_its_publisher() {
        for username in [None, Some(Arc::from("alice"))] {
            let o = Origin {
                client_id: "c1".into(),
                username,
            };
            assert_eq!(decode_origin(&encode_origin(&o)), Some(o));
        }
        assert_eq!(decode_origin(b"\x00\x05ab"), None, "truncated");
    }

    fn msg(topic: &str, payload: &'static [u8]) -> Arc<Message> {
        Arc::new(Message::new(
            TopicName::new(topic).unwrap(),
            Bytes::from_static(payload),
            QoS::AtLeastOnce,
            true,
            Default::default(),
        ))
    }

    #[test]
    fn v5_properties_survive_the_message_encoding() {
        let props = crate::protocol::Properties {
            content_type: Some("text/plain".into()),
            user_properties: vec![("k".into(), "v".into())],
            message_expiry_interval: Some(120),
            correlation_data: Some(Bytes::from_static(b"\x00\x01")),
            ..Default::default()
        };
        let m = Message::new(
            TopicName::new("p/q").unwrap(),
            Bytes::from_static(b"body"),
            QoS::ExactlyOnce,
            true,
            crate::protocol::Props::new(props),
        );
        let (back, qos) = decode_message(&encode_message(&m, QoS::AtLeastOnce)).unwrap();
        assert_eq!(qos, QoS::AtLeastOnce);
        assert!(back.retain);
        assert_eq!(
            (back.topic.as_str(), &back.payload[..]),
            ("p/q", &b"body"[..])
        );
        assert_eq!(back.properties.content_type.as_deref(), Some("text/plain"));
        assert_eq!(
            back.properties.user_properties,
            m.properties.user_properties
        );
        assert_eq!(
            back.properties.correlation_data,
            m.properties.correlation_data
        );
        let left = back.properties.message_expiry_interval.unwrap();
        assert!((119..=120).contains(&left), "{left}");
        assert!(back.expires.is_some(), "expiry runs again after a restart");
        let plain = msg("a", b"x");
        let (back, _) = decode_message(&encode_message(&plain, QoS::AtMostOnce)).unwrap();
        assert_eq!(back.payload, plain.payload);
        assert!(back.properties.is_empty());
    }

    #[tokio::test]
    async fn everything_written_is_read_back_after_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/mq.db");
        let (db, restored) = open(&path).unwrap();
        assert!(restored.sessions.is_empty() && restored.retained.is_empty());
        let log = super::super::log::Log(Default::default());
        let (tx, handle) = start(db, path.clone(), log);
        let id: Arc<str> = "c1".into();
        let opts = SubscriptionOptions {
            qos: QoS::ExactlyOnce,
            no_local: true,
            ..Default::default()
        };
        tx.send(StoreOp::Retain(msg("r/1", b"kept")));
        tx.send(StoreOp::Retain(msg("r/2", b"gone")));
        tx.send(StoreOp::Retain(msg("r/2", b"")));
        let subs = vec![
            (TopicFilter::new("a/#").unwrap(), opts, 0),
            (TopicFilter::new("b/+").unwrap(), opts, 268_435_455),
        ];
        tx.send(StoreOp::Session(
            id.clone(),
            SessionRecord {
                subs: subs.clone(),
                expiry: 90,
            },
        ));
        for seq in 1..=3 {
            tx.send(StoreOp::Enqueue(
                id.clone(),
                seq,
                msg("a/b", b"q"),
                QoS::AtLeastOnce,
            ));
        }
        tx.send(StoreOp::Dequeue(id.clone(), 2));
        tx.send(StoreOp::IncomingAdd(id.clone(), 9));
        tx.send(StoreOp::IncomingAdd(id.clone(), 10));
        tx.send(StoreOp::IncomingDel(id.clone(), 9));
        let empty = SessionRecord {
            subs: vec![],
            expiry: u32::MAX,
        };
        tx.send(StoreOp::Session("gone".into(), empty));
        tx.send(StoreOp::Enqueue(
            "gone".into(),
            4,
            msg("a/b", b"q"),
            QoS::AtLeastOnce,
        ));
        tx.send(StoreOp::DropSession("gone".into()));
        assert_eq!(tx.barrier().await, Ok(()));
        tx.close().await;
        handle.join().unwrap();

        let (_db, r) = open(&path).unwrap();
        assert_eq!(r.retained.len(), 1);
        assert_eq!(&r.retained[0].payload[..], b"kept");
        assert_eq!(r.sessions.len(), 1);
        let s = &r.sessions[0];
        assert_eq!(s.client_id, "c1");
        assert_eq!(s.subscriptions, subs);
        assert_eq!(s.expiry, 90);
        let seqs: Vec<u64> = s.queue.iter().map(|q| q.0).collect();
        assert_eq!(seqs, vec![1, 3]);
        assert_eq!(s.incoming, vec![10]);
        assert_eq!(r.max_seq, 3);
    }
}
