//! A link's buffers and lists, one pointer wide and with nothing on the heap while empty.
//!
//! An idle connection holds several of these: as `BytesMut` and `Vec` they would take 24 to
//! 32 bytes each of every idle link for nothing. Each is allocated by the first write into
//! it and let go of (assigning a new one, or `std::mem::take`) once it is drained.

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

/// A `Vec` allocated on first mutable use.
#[allow(clippy::box_collection)] // One pointer wide, where a `Vec` is three.
pub(super) struct LazyVec<T>(Option<Box<Vec<T>>>);

impl<T> Default for LazyVec<T> {
    fn default() -> Self {
        LazyVec(None)
    }
}

impl<T> Deref for LazyVec<T> {
    type Target = Vec<T>;

    fn deref(&self) -> &Vec<T> {
        match &self.0 {
            Some(v) => v,
            None => const { &Vec::new() },
        }
    }
}

impl<T> DerefMut for LazyVec<T> {
    fn deref_mut(&mut self) -> &mut Vec<T> {
        self.0.get_or_insert_with(Box::default)
    }
}

#[cfg(test)]
mod tests {
    use super::{Buffer, LazyVec};
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

    #[test]
    fn empty_list_holds_no_memory_until_pushed() {
        let mut v: LazyVec<u32> = LazyVec::default();
        assert_eq!(std::mem::size_of::<LazyVec<u32>>(), 8);
        assert!(v.is_empty() && v.0.is_none());
        v.push(7);
        let taken = std::mem::take(&mut v);
        assert_eq!(&taken[..], [7]);
        assert!(v.is_empty() && v.0.is_none());
    }
}
