//! The `-d` protocol log, worded as libmosquitto's so scripts that grep it keep working.

use crate::protocol::{Packet, Publish};

fn publish_line(p: &Publish) -> String {
    format!(
        "(d{}, q{}, r{}, m{}, '{}', ... ({} bytes))",
        u8::from(p.dup),
        p.qos as u8,
        u8::from(p.retain),
        p.packet_id.map_or(0, |id| id.get()),
        p.topic,
        p.payload.len()
    )
}

/// The log line for a packet sent by the client.
pub(crate) fn sending(id: &str, packet: &Packet) -> String {
    let what = match packet {
        Packet::Publish(p) => format!("PUBLISH {}", publish_line(p)),
        Packet::PubAck(r) => format!("PUBACK (m{}, rc{})", r.packet_id, r.reason.as_u8()),
        Packet::PubRec(r) => format!("PUBREC (m{}, rc{})", r.packet_id, r.reason.as_u8()),
        Packet::PubRel(r) => format!("PUBREL (m{})", r.packet_id),
        Packet::PubComp(r) => format!("PUBCOMP (m{})", r.packet_id),
        Packet::Subscribe(s) => {
            let mut lines = Vec::new();
            for sub in &s.subscriptions {
                let o = &sub.options;
                let opts = u8::from(o.no_local) << 2
                    | u8::from(o.retain_as_published) << 3
                    | (o.retain_handling as u8) << 4;
                lines.push(format!(
                    "Client {id} sending SUBSCRIBE (Mid: {}, Topic: {}, QoS: {}, Options: 0x{:02x})",
                    s.packet_id, sub.filter, o.qos as u8, opts
                ));
            }
            return lines.join("\n");
        }
        Packet::Unsubscribe(u) => {
            let mut lines = Vec::new();
            for f in &u.filters {
                lines.push(format!(
                    "Client {id} sending UNSUBSCRIBE (Mid: {}, Topic: {f})",
                    u.packet_id
                ));
            }
            return lines.join("\n");
        }
        other => other.packet_type().name().to_string(),
    };
    format!("Client {id} sending {what}")
}

/// The log line for a PUBLISH received by the client.
pub(crate) fn received_publish(id: &str, p: &Publish) -> String {
    format!("Client {id} received PUBLISH {}", publish_line(p))
}

/// The log line for a packet received by the client.
pub(crate) fn received(id: &str, packet: &Packet) -> String {
    let what = match packet {
        Packet::ConnAck(c) => format!("CONNACK ({})", c.reason.as_u8()),
        Packet::Publish(p) => format!("PUBLISH {}", publish_line(p)),
        Packet::PubAck(r) => format!("PUBACK (Mid: {}, RC:{})", r.packet_id, r.reason.as_u8()),
        Packet::PubRec(r) => format!("PUBREC (Mid: {})", r.packet_id),
        Packet::PubRel(r) => format!("PUBREL (Mid: {})", r.packet_id),
        Packet::PubComp(r) => format!("PUBCOMP (Mid: {}, RC:{})", r.packet_id, r.reason.as_u8()),
        other => other.packet_type().name().to_string(),
    };
    format!("Client {id} received {what}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{PacketId, Props, PubResp, QoS};
    use crate::topic::TopicName;

    #[test]
    fn publish_lines_match_libmosquitto() {
        let p = Publish {
            dup: false,
            qos: QoS::ExactlyOnce,
            retain: false,
            topic: TopicName::new("d/1").unwrap(),
            packet_id: PacketId::new(1),
            properties: Props::default(),
            payload: "hello".into(),
        };
        assert_eq!(
            received("dbgsub", &Packet::Publish(p)),
            "Client dbgsub received PUBLISH (d0, q2, r0, m1, 'd/1', ... (5 bytes))"
        );
        let ack = Packet::PubAck(PubResp::new(PacketId::MIN));
        assert_eq!(
            received("x", &ack),
            "Client x received PUBACK (Mid: 1, RC:0)"
        );
        assert_eq!(sending("x", &Packet::PingReq), "Client x sending PINGREQ");
    }
}
