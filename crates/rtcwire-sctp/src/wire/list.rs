//! A list of fixed-size items that is either borrowed from the wire or from a slice of
//! values the caller built: parsing needs no allocation, building needs no encoding first.

use std::fmt;

/// A fixed-size wire item (a gap block, a TSN, a stream id...).
pub trait Item: Copy {
    /// Bytes per item on the wire.
    const SIZE: usize;
    /// Reads one item from exactly `Self::SIZE` bytes.
    fn read(b: &[u8]) -> Self;
    /// Appends one item.
    fn write(&self, buf: &mut Vec<u8>);
}

impl Item for u16 {
    const SIZE: usize = 2;
    fn read(b: &[u8]) -> Self {
        match b {
            [x, y, ..] => u16::from_be_bytes([*x, *y]),
            _ => 0,
        }
    }
    fn write(&self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(&self.to_be_bytes());
    }
}

impl Item for u32 {
    const SIZE: usize = 4;
    fn read(b: &[u8]) -> Self {
        match b {
            [w, x, y, z, ..] => u32::from_be_bytes([*w, *x, *y, *z]),
            _ => 0,
        }
    }
    fn write(&self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(&self.to_be_bytes());
    }
}

/// Items either borrowed as wire bytes (from parsing) or as values (for emitting).
#[derive(Clone, Copy)]
pub enum List<'a, T: Item> {
    /// Wire bytes; the length is a multiple of `T::SIZE`.
    Wire(&'a [u8]),
    /// Values.
    Items(&'a [T]),
}

impl<'a, T: Item> List<'a, T> {
    /// Wraps wire bytes; a trailing partial item is ignored.
    #[must_use]
    pub fn from_wire(b: &'a [u8]) -> Self {
        let whole = b.len() - b.len() % T::SIZE;
        List::Wire(b.get(..whole).unwrap_or(&[]))
    }

    /// Number of items.
    #[must_use]
    pub fn len(&self) -> usize {
        match self {
            List::Wire(b) => b.len() / T::SIZE,
            List::Items(v) => v.len(),
        }
    }

    /// Whether there are no items.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The items in order.
    pub fn iter(&self) -> impl Iterator<Item = T> + 'a {
        let (wire, items): (&'a [u8], &'a [T]) = match *self {
            List::Wire(b) => (b, &[]),
            List::Items(v) => (&[], v),
        };
        wire.chunks_exact(T::SIZE)
            .map(T::read)
            .chain(items.iter().copied())
    }

    /// Appends every item.
    pub fn write(&self, buf: &mut Vec<u8>) {
        match self {
            List::Wire(b) => buf.extend_from_slice(b),
            List::Items(v) => v.iter().for_each(|i| i.write(buf)),
        }
    }

    /// Bytes on the wire.
    #[must_use]
    pub fn wire_len(&self) -> usize {
        self.len() * T::SIZE
    }
}

impl<T: Item + PartialEq> PartialEq for List<'_, T> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().zip(other.iter()).all(|(a, b)| a == b)
    }
}

impl<T: Item + Eq> Eq for List<'_, T> {}

impl<T: Item + fmt::Debug> fmt::Debug for List<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}
