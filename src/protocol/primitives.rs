//! Wire primitives (section 1.5): two-byte integers, variable byte integers, UTF-8 strings and
//! binary data, and [`ByteStr`], a UTF-8 string that shares its bytes with the receive buffer.

use bytes::Bytes;
use std::fmt;

/// A string known to be valid UTF-8, stored as `Bytes` so decoding can slice it out of the
/// receive buffer without copying.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ByteStr(Bytes);

impl ByteStr {
    /// Checks `bytes` for UTF-8 and wraps them.
    pub fn from_utf8(bytes: Bytes) -> Result<ByteStr, std::str::Utf8Error> {
        std::str::from_utf8(&bytes)?;
        Ok(ByteStr(bytes))
    }

    /// Wraps `bytes` if they are plain ASCII (a cheaper check than full UTF-8 validation for
    /// the short strings of MQTT); gives them back otherwise.
    #[inline]
    pub fn from_ascii(bytes: Bytes) -> Result<ByteStr, Bytes> {
        if bytes.is_ascii() {
            Ok(ByteStr(bytes))
        } else {
            Err(bytes)
        }
    }

    /// A `ByteStr` of a static string, without allocating.
    pub const fn from_static(s: &'static str) -> ByteStr {
        ByteStr(Bytes::from_static(s.as_bytes()))
    }

    /// The string.
    pub fn as_str(&self) -> &str {
        // SAFETY: every constructor checks UTF-8 or starts from a `str`.
        unsafe { std::str::from_utf8_unchecked(&self.0) }
    }

    /// The underlying bytes (shared, not copied).
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True for the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for ByteStr {
    fn from(s: String) -> ByteStr {
        ByteStr(Bytes::from(s))
    }
}

impl From<&str> for ByteStr {
    fn from(s: &str) -> ByteStr {
        ByteStr(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl std::ops::Deref for ByteStr {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for ByteStr {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for ByteStr {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for ByteStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for ByteStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// ---------------------------------------------------------------------------------------------
// Wire reading. Every reader takes the packet body as `&mut Bytes`, consumes what it reads and
// fails with a malformed-packet error when the body ends early: the remaining length promised
// more than the fields hold ([MQTT-2.2.3] in 3.1.1, 2.1.4 in 5.0).

use super::{DecodeError, EncodeError};
use bytes::{Buf, BufMut, BytesMut};

/// The error for a field that runs past the end of the packet.
pub(crate) const TRUNCATED: DecodeError = DecodeError::malformed(
    "2.2.3",
    "remaining length too short for the packet's fields",
);

/// Reads one byte.
#[inline]
pub(crate) fn read_u8(b: &mut Bytes) -> Result<u8, DecodeError> {
    if b.is_empty() {
        return Err(TRUNCATED);
    }
    Ok(b.get_u8())
}

/// Reads a big-endian two-byte integer (1.5.2).
#[inline]
pub(crate) fn read_u16(b: &mut Bytes) -> Result<u16, DecodeError> {
    if b.len() < 2 {
        return Err(TRUNCATED);
    }
    Ok(b.get_u16())
}

/// Reads a big-endian four-byte integer (1.5.3).
pub(crate) fn read_u32(b: &mut Bytes) -> Result<u32, DecodeError> {
    if b.len() < 4 {
        return Err(TRUNCATED);
    }
    Ok(b.get_u32())
}

/// Outcome of decoding a variable byte integer from a slice.
pub(crate) enum Varint {
    /// The value and the number of bytes it took.
    Done(u32, usize),
    /// The slice ended inside the integer.
    Incomplete,
}

/// Decodes a variable byte integer (1.5.5): at most four bytes, minimal encoding.
#[inline]
pub(crate) fn parse_varint(s: &[u8]) -> Result<Varint, DecodeError> {
    let mut value: u32 = 0;
    for i in 0..4 {
        let Some(&byte) = s.get(i) else {
            return Ok(Varint::Incomplete);
        };
        value |= u32::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            // A trailing zero byte means a longer-than-needed encoding.
            if byte == 0 && i > 0 {
                return Err(DecodeError::malformed(
                    "MQTT-1.5.5-1",
                    "variable byte integer not minimally encoded",
                ));
            }
            return Ok(Varint::Done(value, i + 1));
        }
    }
    Err(DecodeError::malformed(
        "2.2.3",
        "variable byte integer longer than four bytes",
    ))
}

/// Reads a variable byte integer inside a packet body.
pub(crate) fn read_varint(b: &mut Bytes) -> Result<u32, DecodeError> {
    match parse_varint(b)? {
        Varint::Done(v, n) => {
            b.advance(n);
            Ok(v)
        }
        Varint::Incomplete => Err(TRUNCATED),
    }
}

/// Reads two-byte-length-prefixed binary data (1.5.6), sharing the body's buffer.
#[inline]
pub(crate) fn read_binary(b: &mut Bytes) -> Result<Bytes, DecodeError> {
    let len = usize::from(read_u16(b)?);
    if b.len() < len {
        return Err(TRUNCATED);
    }
    Ok(b.split_to(len))
}

/// Checks the string rules of 1.5.4: well-formed UTF-8 and no U+0000.
#[inline]
pub(crate) fn check_utf8(s: &[u8]) -> Result<(), DecodeError> {
    if !s.is_ascii() && std::str::from_utf8(s).is_err() {
        return Err(DecodeError::malformed(
            "MQTT-1.5.3-1",
            "string is not well-formed UTF-8",
        ));
    }
    if s.contains(&0) {
        return Err(DecodeError::malformed(
            "MQTT-1.5.3-2",
            "string contains U+0000",
        ));
    }
    Ok(())
}

/// Reads a UTF-8 string (1.5.4) without copying it.
pub(crate) fn read_bytestr(b: &mut Bytes) -> Result<ByteStr, DecodeError> {
    let raw = read_binary(b)?;
    check_utf8(&raw)?;
    Ok(ByteStr(raw))
}

/// Reads a UTF-8 string into an owned `String`.
pub(crate) fn read_string(b: &mut Bytes) -> Result<String, DecodeError> {
    Ok(read_bytestr(b)?.as_str().to_owned())
}

// ---------------------------------------------------------------------------------------------
// Wire writing.

/// Bytes a variable byte integer takes.
#[inline]
pub(crate) fn varint_len(v: usize) -> usize {
    match v {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    }
}

/// Writes a variable byte integer; `v` must be at most [`super::MAX_REMAINING_LENGTH`].
#[inline]
pub(crate) fn put_varint(buf: &mut BytesMut, mut v: usize) {
    loop {
        let byte = (v & 0x7F) as u8;
        v >>= 7;
        if v == 0 {
            buf.put_u8(byte);
            return;
        }
        buf.put_u8(byte | 0x80);
    }
}

/// Writes two-byte-length-prefixed binary data.
#[inline]
pub(crate) fn put_binary(buf: &mut BytesMut, data: &[u8]) -> Result<(), EncodeError> {
    let len = u16::try_from(data.len()).map_err(|_| EncodeError::FieldTooLong(data.len()))?;
    buf.put_u16(len);
    buf.put_slice(data);
    Ok(())
}

/// Writes a UTF-8 string.
#[inline]
pub(crate) fn put_str(buf: &mut BytesMut, s: &str) -> Result<(), EncodeError> {
    put_binary(buf, s.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_boundaries_round_trip() {
        for v in [
            0usize,
            127,
            128,
            16_383,
            16_384,
            2_097_151,
            2_097_152,
            268_435_455,
        ] {
            let mut buf = BytesMut::new();
            put_varint(&mut buf, v);
            assert_eq!(buf.len(), varint_len(v));
            match parse_varint(&buf).unwrap() {
                Varint::Done(d, n) => assert_eq!((d as usize, n), (v, buf.len())),
                Varint::Incomplete => panic!("incomplete"),
            }
        }
    }

    #[test]
    fn varint_of_five_bytes_is_malformed() {
        assert!(parse_varint(&[0xFF, 0xFF, 0xFF, 0xFF, 0x01]).is_err());
    }

    #[test]
    fn varint_incomplete_waits() {
        assert!(matches!(
            parse_varint(&[0x80, 0x80]),
            Ok(Varint::Incomplete)
        ));
    }

    #[test]
    fn varint_non_minimal_is_malformed_mqtt_1_5_5_1() {
        let e = parse_varint(&[0x80, 0x00]).err().unwrap();
        assert_eq!(e.rule, "MQTT-1.5.5-1");
    }

    #[test]
    fn strings_reject_bad_utf8_and_nul() {
        let mut b = Bytes::from_static(&[0, 2, 0xC3, 0x28]);
        assert_eq!(read_bytestr(&mut b).unwrap_err().rule, "MQTT-1.5.3-1");
        let mut b = Bytes::from_static(&[0, 2, b'a', 0]);
        assert_eq!(read_bytestr(&mut b).unwrap_err().rule, "MQTT-1.5.3-2");
        let mut b = Bytes::from_static(&[0, 3, b'a']);
        assert_eq!(read_bytestr(&mut b).unwrap_err(), TRUNCATED);
    }

    #[test]
    fn put_binary_refuses_over_65535() {
        let mut buf = BytesMut::new();
        let big = vec![0u8; 65_536];
        assert_eq!(
            put_binary(&mut buf, &big),
            Err(EncodeError::FieldTooLong(65_536))
        );
    }
}
