//! The fixed header (section 2.1): packet type, flags and remaining length.

/// The control packet type in the high nibble of the first byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PacketType {
    /// 1
    Connect = 1,
    /// 2
    ConnAck = 2,
    /// 3
    Publish = 3,
    /// 4
    PubAck = 4,
    /// 5
    PubRec = 5,
    /// 6
    PubRel = 6,
    /// 7
    PubComp = 7,
    /// 8
    Subscribe = 8,
    /// 9
    SubAck = 9,
    /// 10
    Unsubscribe = 10,
    /// 11
    UnsubAck = 11,
    /// 12
    PingReq = 12,
    /// 13
    PingResp = 13,
    /// 14
    Disconnect = 14,
    /// 15 (v5 only)
    Auth = 15,
}

impl PacketType {
    /// The packet's name in capitals, as logs print it.
    pub fn name(self) -> &'static str {
        match self {
            PacketType::Connect => "CONNECT",
            PacketType::ConnAck => "CONNACK",
            PacketType::Publish => "PUBLISH",
            PacketType::PubAck => "PUBACK",
            PacketType::PubRec => "PUBREC",
            PacketType::PubRel => "PUBREL",
            PacketType::PubComp => "PUBCOMP",
            PacketType::Subscribe => "SUBSCRIBE",
            PacketType::SubAck => "SUBACK",
            PacketType::Unsubscribe => "UNSUBSCRIBE",
            PacketType::UnsubAck => "UNSUBACK",
            PacketType::PingReq => "PINGREQ",
            PacketType::PingResp => "PINGRESP",
            PacketType::Disconnect => "DISCONNECT",
            PacketType::Auth => "AUTH",
        }
    }
}
