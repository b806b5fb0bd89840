//! The bridge's state on its notification topic (`$SYS/broker/connection/REMOTE_ID/state` by
//! default): `1` retained while connected, `0` otherwise, on both brokers.
//!
//! ```text
//!  local broker:  0 at start ─▶ 1 on CONNACK ─▶ 0 when the connection ends (published here)
//!  remote broker: 1 on CONNACK (published by the bridge) ─▶ 0 by the bridge's Last Will
//! ```
//!
//! The remote learns about a dead bridge through the will it was given in CONNECT, so even a
//! crashed or unplugged edge broker shows `0` there once the remote's keepalive runs out.

use super::config::BridgeConfig;
use crate::broker::router::{Router, SessionCell};
use crate::protocol::{PacketId, Props, Publish, QoS, Will};
use crate::session::Message;
use bytes::Bytes;
use std::sync::Arc;

fn payload(up: bool) -> Bytes {
    Bytes::from_static(if up { b"1" } else { b"0" })
}

/// The Last Will for the remote CONNECT: `0`, retained, QoS 1.
pub fn will(cfg: &BridgeConfig) -> Option<Will> {
    Some(Will {
        topic: cfg.remote_notifications()?.clone(),
        payload: payload(false),
        qos: QoS::AtLeastOnce,
        retain: true,
        properties: Props::default(),
    })
}

/// Publishes the state on this broker, as if from the bridge's own session (`from`), so that
/// the bridge never forwards its own notification.
pub fn publish_local(
    router: &Router,
    cfg: &BridgeConfig,
    from: Option<&Arc<SessionCell>>,
    up: bool,
) {
    if let Some(topic) = &cfg.notification_topic {
        let msg = Message::new(
            topic.clone(),
            payload(up),
            QoS::AtLeastOnce,
            true,
            Props::default(),
        );
        let _ = router.publish(Arc::new(msg), from);
    }
}

/// The `1` to send the remote once connected: QoS 1 unless the remote takes QoS 0 only,
/// retained unless it has no retained messages. `None` when the remote gets no notifications.
pub fn remote_up(
    cfg: &BridgeConfig,
    packet_id: impl FnOnce() -> Option<PacketId>,
    max_qos: QoS,
    retain_available: bool,
) -> Option<Publish> {
    let topic = cfg.remote_notifications()?.clone();
    let qos = QoS::AtLeastOnce.min(max_qos);
    let packet_id = match qos {
        QoS::AtMostOnce => None,
        _ => Some(packet_id()?),
    };
    Some(Publish {
        dup: false,
        qos,
        retain: retain_available,
        topic,
        packet_id,
        properties: Props::default(),
        payload: payload(true),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bridge(local_only: bool) -> BridgeConfig {
        let mut b = BridgeConfig::new("n");
        b.notifications_local_only = local_only;
        b.resolve_ids(Some("r".into()), None, true, None).unwrap();
        b
    }

    #[test]
    fn remote_gets_a_will_and_a_one_unless_local_only() {
        let b = bridge(false);
        let w = will(&b).unwrap();
        assert_eq!(w.topic.as_str(), "$SYS/broker/connection/r/state");
        assert_eq!(
            (&w.payload[..], w.qos, w.retain),
            (&b"0"[..], QoS::AtLeastOnce, true)
        );
        let p = remote_up(&b, || PacketId::new(3), QoS::ExactlyOnce, true).unwrap();
        assert_eq!(
            (&p.payload[..], p.qos, p.retain),
            (&b"1"[..], QoS::AtLeastOnce, true)
        );
        let p = remote_up(&b, || None, QoS::AtMostOnce, false).unwrap();
        assert_eq!(
            (p.qos, p.packet_id, p.retain),
            (QoS::AtMostOnce, None, false)
        );
        let quiet = bridge(true);
        assert!(will(&quiet).is_none());
        assert!(remote_up(&quiet, || PacketId::new(1), QoS::ExactlyOnce, true).is_none());
    }
}
