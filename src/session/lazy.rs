//! Collections one pointer wide that hold no memory while empty, for state most sessions and
//! links never use: as a `Vec` it would take 24 bytes of every idle connection for nothing,
//! as a `VecDeque` 32, as a `BTreeMap` 24, as a `BytesMut` (a link's read and write buffers,
//! allocated by the first write and let go of, by assigning a new one, once drained) 32.

use bytes::BytesMut;
use std::collections::{BTreeMap, VecDeque};
use std::ops::{Deref, DerefMut};
use std::sync::OnceLock;

/// A collection allocated on first mutable use. Reading an empty one allocates nothing, so
/// callers check emptiness (through `Deref`) before a mutable call that has nothing to do.
#[derive(Debug)]
#[allow(clippy::box_collection)] // One pointer wide, where the collection is three or four.
pub struct Lazy<C>(Option<Box<C>>);

/// A `Vec` allocated on first mutable use.
pub type LazyVec<T> = Lazy<Vec<T>>;

impl<C> Default for Lazy<C> {
    fn default() -> Self {
        Lazy::new()
    }
}

impl<C> Lazy<C> {
    /// An empty one, holding no memory.
    pub const fn new() -> Lazy<C> {
        Lazy(None)
    }
}

impl<C: Default> Lazy<C> {
    /// Its items, leaving it empty and holding no memory.
    pub fn take(&mut self) -> C {
        self.0.take().map(|v| *v).unwrap_or_default()
    }
}

impl<C> From<C> for Lazy<C> {
    fn from(c: C) -> Self {
        Lazy(Some(Box::new(c)))
    }
}

/// A collection that an unallocated [`Lazy`] reads as.
pub trait Empty: Default {
    /// An empty one, shared.
    fn empty<'a>() -> &'a Self
    where
        Self: 'a;
}

impl<T> Empty for Vec<T> {
    fn empty<'a>() -> &'a Self
    where
        Self: 'a,
    {
        const { &Vec::new() }
    }
}

impl<T> Empty for VecDeque<T> {
    fn empty<'a>() -> &'a Self
    where
        Self: 'a,
    {
        const { &VecDeque::new() }
    }
}

impl<K, V> Empty for BTreeMap<K, V> {
    fn empty<'a>() -> &'a Self
    where
        Self: 'a,
    {
        const { &BTreeMap::new() }
    }
}

impl Empty for BytesMut {
    fn empty<'a>() -> &'a Self {
        // `BytesMut::new` is not a `const fn`.
        static EMPTY: OnceLock<BytesMut> = OnceLock::new();
        EMPTY.get_or_init(BytesMut::new)
    }
}

impl<C: Empty> Deref for Lazy<C> {
    type Target = C;

    fn deref(&self) -> &C {
        match &self.0 {
            Some(c) => c,
            None => C::empty(),
        }
    }
}

impl<C: Empty> DerefMut for Lazy<C> {
    fn deref_mut(&mut self) -> &mut C {
        self.0.get_or_insert_with(Box::default)
    }
}

#[cfg(test)]
mod tests {
    use super::LazyVec;

    #[test]
    fn empty_list_holds_no_memory_until_pushed() {
        let mut v: LazyVec<u32> = LazyVec::default();
        assert_eq!(std::mem::size_of::<LazyVec<u32>>(), 8);
        assert!(v.is_empty() && v.0.is_none());
        v.push(7);
        let taken = std::mem::take(&mut v);
        assert_eq!(&taken[..], [7]);
        assert!(v.is_empty() && v.0.is_none());
        v.push(8);
        assert_eq!(v.take(), [8]);
        assert!(v.0.is_none());
    }

    #[test]
    fn queues_and_maps_read_empty_without_allocating() {
        let mut q: super::Lazy<std::collections::VecDeque<u8>> = Default::default();
        assert_eq!(std::mem::size_of_val(&q), 8);
        assert!(q.front().is_none() && q.0.is_none());
        q.push_back(1);
        assert_eq!(q.pop_front(), Some(1));
        let m: super::Lazy<std::collections::BTreeMap<u8, u8>> = Default::default();
        assert!(m.get(&1).is_none() && m.0.is_none());
    }

    #[test]
    fn empty_buffer_holds_no_memory_until_written() {
        use bytes::Buf;
        let mut b: super::Lazy<bytes::BytesMut> = super::Lazy::new();
        assert_eq!(std::mem::size_of_val(&b), 8);
        assert!(b.is_empty());
        assert!(b.0.is_none(), "reading allocates nothing");
        b.extend_from_slice(b"abc");
        assert_eq!(&b[..], b"abc");
        b.advance(2);
        assert_eq!(&b[..], b"c");
        b = super::Lazy::new();
        assert!(b.is_empty() && b.0.is_none());
    }
}
