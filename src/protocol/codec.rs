//! Entry points of the codec: streaming decode and encode. (Scaffold: replaced by the codec work.)

use super::{DecodeError, EncodeError, Packet, Version};
use bytes::BytesMut;

/// Decodes one packet from the front of `buf`.
///
/// `Ok(None)` means more bytes are needed. `version` is the connection's version; CONNECT carries
/// its own. A packet whose total size exceeds `max_packet_size` is refused from its fixed header.
pub fn decode(
    buf: &mut BytesMut,
    version: Version,
    max_packet_size: u32,
) -> Result<Option<Packet>, DecodeError> {
    let _ = (buf, version, max_packet_size);
    todo!("codec")
}

/// Encodes `packet` for `version` at the end of `buf`.
pub fn encode(packet: &Packet, version: Version, buf: &mut BytesMut) -> Result<(), EncodeError> {
    let _ = (packet, version, buf);
    todo!("codec")
}

/// The number of bytes [`encode`] writes for `packet`.
pub fn encoded_len(packet: &Packet, version: Version) -> usize {
    let _ = (packet, version);
    todo!("codec")
}
