//! A link's buffers, one pointer wide and with nothing on the heap while empty.
//!
//! An idle connection holds two of these: as `BytesMut` they would take 32 bytes each of
//! every idle link for nothing. Each is allocated by the first write into it and let go of
//! (by assigning a new one) once it is drained. Lists get the same from
//! [`crate::session::lazy::LazyVec`].

use bytes::BytesMut;
use std::ops::{Deref, DerefMut};
use std::sync::OnceLock;

/// A `BytesMut` allocated on first mutable use.
#[derive(Default)]
pub(super) struct Buffer(Option<Box<BytesMut>>);

/// What an unallocated buffer reads as.
fn empty() -> &'static BytesMut {
    static EMPTY: OnceLock<BytesMut> = OnceLock::new();
    EMPTY.get_or_init(BytesMut::new)
}

impl Buffer {
    /// An empty buffer, holding no memory.
    pub(super) const fn new() -> Buffer {
        Buffer(None)
    }
}

impl Deref for Buffer {
    type Target = BytesMut;

    fn deref(&self) -> &BytesMut {
        match &self.0 {
            Some(b) => b,
            None => empty(),
        }
    }
}

impl DerefMut for Buffer {
    fn deref_mut(&mut self) -> &mut BytesMut {
        self.0.get_or_insert_with(Box::default)
    }
}

#[cfg(test)]
mod tests {
    use super::Buffer;
    use bytes::Buf;

    #[test]
    fn empty_buffer_holds_no_memory_until_written() {
        let mut b = Buffer::new();
        assert_eq!(std::mem::size_of::<Buffer>(), 8);
        assert!(b.is_empty());
        assert!(b.0.is_none(), "reading allocates nothing");
        b.extend_from_slice(b"abc");
        assert_eq!(&b[..], b"abc");
        b.advance(2);
        assert_eq!(&b[..], b"c");
        b = Buffer::new();
        assert!(b.is_empty() && b.0.is_none());
    }
}
