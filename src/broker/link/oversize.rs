//! A PUBLISH over `message_size_limit`, refused from its head and skipped as it streams in.
//!
//! mosquitto reads such a message to its end, then drops it; here its bytes are discarded as
//! they arrive, so a 268 MB publish costs a read buffer, not 268 MB. Like mosquitto, the client
//! stays connected and its QoS 1/2 message is answered once the whole packet has gone by:
//! v5 with 0x97 "quota exceeded" (mosquitto sends 0x95 "packet too large", which MQTT 5.0
//! does not allow in PUBACK or PUBREC, 3.4.2.1), 3.1.1 with a plain acknowledgement, which
//! carries no reason. A packet over `max_packet_size` is refused from its fixed header by the
//! decoder and closes the connection (v5: DISCONNECT 0x95).

use super::handle::{Link, resp};
use super::{Close, Io};
use crate::protocol::{self, Packet, Peek, PublishHead, QoS, ReasonCode};
use crate::session::Outgoing;
use bytes::Buf;
use std::sync::atomic::Ordering;

/// What to do with the bytes at the front of the read buffer.
pub(super) enum Step {
    /// Decode them.
    Decode,
    /// Wait for more: the head of an oversize PUBLISH is not complete.
    Wait,
    /// An oversize PUBLISH began; its bytes are being skipped.
    Skipping,
}

impl<S> Io<S> {
    /// Discards what remains of a skipped PUBLISH from the read buffer; true when it is all
    /// gone (or nothing was being skipped).
    pub(super) fn skip_oversize(&mut self) -> bool {
        let n = (self.skip as usize).min(self.rbuf.len());
        self.rbuf.advance(n);
        self.skip -= n as u32;
        self.skip == 0
    }
}

/// Checks the packet at the front of the read buffer against `message_size_limit`.
pub(super) fn check<S>(io: &mut Io<S>, link: &mut Link) -> Result<Step, Close> {
    let limit = link.limits.message_size_limit as usize;
    if limit == 0 || io.rbuf.is_empty() {
        return Ok(Step::Decode);
    }
    let max = link.max_packet_size();
    match protocol::peek_publish(&io.rbuf, io.version, max, limit) {
        Ok(Peek::Decode) => Ok(Step::Decode),
        Ok(Peek::NeedMore) => Ok(Step::Wait),
        Ok(Peek::TooLarge(head)) => {
            let now = head.total.min(io.rbuf.len());
            io.rbuf.advance(now);
            io.skip = u32::try_from(head.total - now).unwrap_or(u32::MAX);
            link.too_large(&head);
            Ok(Step::Skipping)
        }
        Err(e) => Err(Close::Error(
            format!("disconnected due to malformed packet {e}"),
            Some(e.reason),
        )),
    }
}

impl Link {
    /// Logs and counts an oversize PUBLISH, and prepares its acknowledgement.
    fn too_large(&mut self, head: &PublishHead) {
        let stats = &self.router.stats;
        stats.msgs_received.fetch_add(1, Ordering::Relaxed);
        stats.packets_received.fetch_add(1, Ordering::Relaxed);
        stats.oversize.fetch_add(1, Ordering::Relaxed);
        self.log.info(format_args!(
            "Client {} sent a PUBLISH to '{}' with {} bytes of payload, over message_size_limit \
             {}: dropped unread.",
            self.client_id(),
            head.topic,
            head.payload_len,
            self.limits.message_size_limit
        ));
        let v5 = self.version.is_v5();
        let reason = match v5 {
            // mosquitto says 0x95, which a PUBACK may not carry ([MQTT-3.4.2-1]).
            true => ReasonCode::QuotaExceeded,
            false => ReasonCode::Success,
        };
        let deferred = match (head.qos, head.packet_id) {
            (QoS::AtLeastOnce, Some(id)) => Some(Box::new(Packet::PubAck(resp(id, reason)))),
            (QoS::ExactlyOnce, Some(id)) => {
                // 3.1.1: the exchange goes on to PUBREL, which must find the id.
                if !v5 {
                    self.cell.lock().session.incoming_qos2(id);
                }
                Some(Box::new(Packet::PubRec(resp(id, reason))))
            }
            _ => None,
        };
        if deferred.is_some() {
            self.rare().deferred = deferred;
        }
    }

    /// The acknowledgement of a skipped PUBLISH, once its last byte has gone by.
    pub(super) fn skipped(&mut self, out: &mut Vec<Outgoing>) {
        if let Some(p) = self.rare.as_mut().and_then(|r| r.deferred.take()) {
            out.push(Outgoing::Packet(*p));
        }
    }
}
