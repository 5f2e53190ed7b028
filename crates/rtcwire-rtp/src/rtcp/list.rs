//! Lists of fixed-size items that are either still on the wire (after parsing) or given as a
//! slice of values (for writing): parsing never allocates, writing needs no conversion.

use crate::wire::sub;
use crate::Ssrc;

/// A fixed-size RTCP list item (report block, NACK pair, FIR entry, …).
pub trait WireItem: Copy {
    /// Bytes per item on the wire.
    const SIZE: usize;
    /// Reads one item from exactly `SIZE` bytes.
    fn read(b: &[u8]) -> Self;
    /// Writes one item into exactly `SIZE` bytes.
    fn write(&self, b: &mut [u8]);
}

/// A list of `T`: wire bytes from a parsed packet, or values to write.
#[derive(Clone, Copy)]
pub enum List<'a, T> {
    /// `len × T::SIZE` bytes as received (validated by the parser).
    Wire(&'a [u8]),
    /// Values supplied by the caller.
    Items(&'a [T]),
}

impl<T> Default for List<'_, T> {
    fn default() -> Self {
        List::Items(&[])
    }
}

impl<'a, T: WireItem> List<'a, T> {
    /// Number of items.
    pub fn len(&self) -> usize {
        match self {
            List::Wire(b) => b.len() / T::SIZE,
            List::Items(v) => v.len(),
        }
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes the items take on the wire.
    pub fn buffer_len(&self) -> usize {
        self.len() * T::SIZE
    }

    /// The items, decoded on the fly.
    pub fn iter(&self) -> ListIter<'a, T> {
        ListIter {
            list: *self,
            pos: 0,
        }
    }

    /// Writes every item from the start of `out` (room checked by the caller).
    pub(crate) fn write(&self, out: &mut [u8]) {
        for (i, item) in self.iter().enumerate() {
            if let Some(b) = out.get_mut(i * T::SIZE..(i + 1) * T::SIZE) {
                item.write(b);
            }
        }
    }
}

impl<'a, T: WireItem> IntoIterator for List<'a, T> {
    type Item = T;
    type IntoIter = ListIter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Iterator over a [`List`].
#[derive(Clone)]
pub struct ListIter<'a, T> {
    list: List<'a, T>,
    pos: usize,
}

impl<T: WireItem> Iterator for ListIter<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        let i = self.pos;
        let item = match self.list {
            List::Wire(b) => {
                let chunk = sub(b, i * T::SIZE, (i + 1) * T::SIZE);
                if chunk.len() != T::SIZE {
                    return None;
                }
                T::read(chunk)
            }
            List::Items(v) => *v.get(i)?,
        };
        self.pos += 1;
        Some(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.list.len().saturating_sub(self.pos);
        (n, Some(n))
    }
}

impl<T: WireItem> ExactSizeIterator for ListIter<'_, T> {}

impl<T: WireItem + PartialEq> PartialEq for List<'_, T> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<T: WireItem + Eq> Eq for List<'_, T> {}

impl<T: WireItem + std::fmt::Debug> std::fmt::Debug for List<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl WireItem for Ssrc {
    const SIZE: usize = 4;
    fn read(b: &[u8]) -> Self {
        Ssrc(crate::wire::u32_at(b, 0))
    }
    fn write(&self, b: &mut [u8]) {
        crate::wire::put_u32(b, 0, self.0);
    }
}

impl<T: WireItem + std::fmt::Debug> std::fmt::Debug for ListIter<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListIter")
            .field("list", &self.list)
            .field("pos", &self.pos)
            .finish()
    }
}
