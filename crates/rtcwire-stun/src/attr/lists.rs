//! List-valued attributes: UNKNOWN-ATTRIBUTES and PASSWORD-ALGORITHMS.
//!
//! Both are borrowed either from a received message (wire bytes, validated when parsed)
//! or from a caller's slice (for building), and compare equal by content.

use super::AttrType;
use crate::Error;

/// The list of attribute types in UNKNOWN-ATTRIBUTES.
#[derive(Debug, Clone, Copy)]
pub enum AttrTypeList<'a> {
    /// Big-endian 16-bit types as received (even length, checked).
    Wire(&'a [u8]),
    /// Types given by the caller.
    Types(&'a [AttrType]),
}

impl<'a> AttrTypeList<'a> {
    pub(crate) fn parse(attr: AttrType, v: &'a [u8]) -> Result<Self, Error> {
        if v.len() % 2 != 0 {
            return Err(Error::BadAttributeLength { attr, len: v.len() });
        }
        Ok(AttrTypeList::Wire(v))
    }

    /// The types, in order.
    pub fn iter(&self) -> impl Iterator<Item = AttrType> + 'a {
        let (wire, types): (&'a [u8], &'a [AttrType]) = match *self {
            AttrTypeList::Wire(w) => (w, &[]),
            AttrTypeList::Types(t) => (&[], t),
        };
        wire.chunks_exact(2)
            .map(|c| AttrType(u16::from_be_bytes([c[0], c[1]])))
            .chain(types.iter().copied())
    }

    /// Number of types.
    #[must_use]
    pub fn len(&self) -> usize {
        match self {
            AttrTypeList::Wire(w) => w.len() / 2,
            AttrTypeList::Types(t) => t.len(),
        }
    }

    /// Whether the list is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn buffer_len(&self) -> usize {
        self.len() * 2
    }

    pub(crate) fn emit(&self, out: &mut [u8]) {
        for (chunk, t) in out.chunks_exact_mut(2).zip(self.iter()) {
            chunk.copy_from_slice(&t.0.to_be_bytes());
        }
    }
}

impl PartialEq for AttrTypeList<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}
impl Eq for AttrTypeList<'_> {}

/// A password algorithm with its parameters (RFC 8489 §14.11, §14.12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordAlgorithm<'a> {
    /// The algorithm number: [`PasswordAlgorithm::MD5`] or [`PasswordAlgorithm::SHA256`].
    pub algorithm: u16,
    /// Its parameters (empty for both registered algorithms).
    pub params: &'a [u8],
}

impl<'a> PasswordAlgorithm<'a> {
    /// MD5 key derivation (the classic long-term credential).
    pub const MD5: u16 = 0x0001;
    /// SHA-256 key derivation.
    pub const SHA256: u16 = 0x0002;

    /// Decodes one entry from the front of `v`; returns it and the bytes after its padding.
    /// The last entry's padding may be missing (the attribute's own padding covers it).
    fn parse_one(attr: AttrType, v: &'a [u8]) -> Result<(Self, &'a [u8]), Error> {
        let bad = || Error::BadAttributeLength { attr, len: v.len() };
        let (head, rest) = v.split_at_checked(4).ok_or_else(bad)?;
        let algorithm = u16::from_be_bytes([head[0], head[1]]);
        let plen = usize::from(u16::from_be_bytes([head[2], head[3]]));
        let params = rest.get(..plen).ok_or_else(bad)?;
        let padded = plen.next_multiple_of(4);
        let after = rest.get(padded..).unwrap_or(&[]);
        Ok((PasswordAlgorithm { algorithm, params }, after))
    }

    /// Decodes the PASSWORD-ALGORITHM value: exactly one entry.
    pub(crate) fn parse(attr: AttrType, v: &'a [u8]) -> Result<Self, Error> {
        let (alg, rest) = Self::parse_one(attr, v)?;
        if !rest.is_empty() {
            return Err(Error::BadAttributeLength { attr, len: v.len() });
        }
        Ok(alg)
    }

    pub(crate) fn buffer_len(&self) -> usize {
        4 + self.params.len().next_multiple_of(4)
    }

    /// Writes the entry (with zero padding) into `out`, exactly [`Self::buffer_len`] bytes.
    pub(crate) fn emit(&self, out: &mut [u8]) {
        let len = self.params.len() as u16;
        let mut head = [0u8; 4];
        head[..2].copy_from_slice(&self.algorithm.to_be_bytes());
        head[2..].copy_from_slice(&len.to_be_bytes());
        for (d, s) in out
            .iter_mut()
            .zip(head.iter().chain(self.params).chain(std::iter::repeat(&0)))
        {
            *d = *s;
        }
    }
}

/// The list in PASSWORD-ALGORITHMS.
#[derive(Debug, Clone, Copy)]
pub enum PasswordAlgorithmList<'a> {
    /// Entries as received (validated when decoded).
    Wire(&'a [u8]),
    /// Entries given by the caller.
    Algorithms(&'a [PasswordAlgorithm<'a>]),
}

/// An iterator over the entries of a [`PasswordAlgorithmList`].
#[derive(Debug, Clone)]
pub struct PasswordAlgorithms<'a> {
    wire: &'a [u8],
    given: std::slice::Iter<'a, PasswordAlgorithm<'a>>,
}

impl<'a> Iterator for PasswordAlgorithms<'a> {
    type Item = PasswordAlgorithm<'a>;
    fn next(&mut self) -> Option<Self::Item> {
        if let Some(a) = self.given.next() {
            return Some(*a);
        }
        // Wire bytes were validated by `decode`; a malformed tail just ends the list.
        let (alg, rest) =
            PasswordAlgorithm::parse_one(AttrType::PASSWORD_ALGORITHMS, self.wire).ok()?;
        self.wire = rest;
        Some(alg)
    }
}

impl<'a> PasswordAlgorithmList<'a> {
    pub(crate) fn parse(attr: AttrType, v: &'a [u8]) -> Result<Self, Error> {
        // Validate every entry now so that iteration cannot meet a malformed one. The loop
        // is bounded: every entry consumes at least 4 bytes.
        let mut rest = v;
        while !rest.is_empty() {
            rest = PasswordAlgorithm::parse_one(attr, rest)?.1;
        }
        Ok(PasswordAlgorithmList::Wire(v))
    }

    /// The entries, in order of preference.
    #[must_use]
    pub fn iter(&self) -> PasswordAlgorithms<'a> {
        match *self {
            PasswordAlgorithmList::Wire(w) => PasswordAlgorithms {
                wire: w,
                given: [].iter(),
            },
            PasswordAlgorithmList::Algorithms(a) => PasswordAlgorithms {
                wire: &[],
                given: a.iter(),
            },
        }
    }

    pub(crate) fn buffer_len(&self) -> usize {
        self.iter().map(|a| a.buffer_len()).sum()
    }

    pub(crate) fn emit(&self, out: &mut [u8]) {
        let mut rest = out;
        for a in self.iter() {
            let (now, later) = rest.split_at_mut(a.buffer_len().min(rest.len()));
            a.emit(now);
            rest = later;
        }
    }
}

impl PartialEq for PasswordAlgorithmList<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}
impl Eq for PasswordAlgorithmList<'_> {}
