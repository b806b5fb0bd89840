//! A list one pointer wide that holds no memory while empty, for state most sessions and
//! links never use: as a `Vec` it would take 24 bytes of every idle connection for nothing.

use std::ops::{Deref, DerefMut};

/// A `Vec` allocated on first mutable use.
#[derive(Debug)]
#[allow(clippy::box_collection)] // One pointer wide, where a `Vec` is three.
pub struct LazyVec<T>(Option<Box<Vec<T>>>);

impl<T> Default for LazyVec<T> {
    fn default() -> Self {
        LazyVec(None)
    }
}

impl<T> LazyVec<T> {
    /// Its items, leaving it empty and holding no memory.
    pub fn take(&mut self) -> Vec<T> {
        self.0.take().map(|v| *v).unwrap_or_default()
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
}
