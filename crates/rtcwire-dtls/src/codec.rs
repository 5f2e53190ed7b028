//! Bounds-checked big-endian reading and writing for the wire formats.

use crate::Error;

/// A cursor over borrowed bytes. Every read is checked; a short buffer is `None`, never a
/// panic, and the reader remembers the first shortfall so that the caller can report it as
/// [`Error::Truncated`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    /// `(needed, available)` of the first read that ran past the end.
    short: Option<(usize, usize)>,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, short: None }
    }

    /// Why the last failed read failed: [`Error::Truncated`] when the input ran out, else
    /// `Malformed(what)` (a value out of range, a length that does not add up).
    pub(crate) fn err(&self, what: &'static str) -> Error {
        match self.short {
            Some((needed, available)) => Error::Truncated { needed, available },
            None => Error::Malformed(what),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub(crate) fn rest(&self) -> &'a [u8] {
        self.buf
    }

    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.buf.len() {
            self.short.get_or_insert((n, self.buf.len()));
            return None;
        }
        let (a, b) = self.buf.split_at(n);
        self.buf = b;
        Some(a)
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        self.take(1).and_then(|b| b.first().copied())
    }

    pub(crate) fn u16(&mut self) -> Option<u16> {
        let b = self.take(2)?;
        Some(u16::from_be_bytes([*b.first()?, *b.get(1)?]))
    }

    pub(crate) fn u24(&mut self) -> Option<u32> {
        let b = self.take(3)?;
        Some(u32::from_be_bytes([0, *b.first()?, *b.get(1)?, *b.get(2)?]))
    }

    pub(crate) fn u48(&mut self) -> Option<u64> {
        let b = self.take(6)?;
        let mut v = [0u8; 8];
        v.get_mut(2..)?.copy_from_slice(b);
        Some(u64::from_be_bytes(v))
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    /// A `u8`-length-prefixed vector.
    pub(crate) fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()?;
        self.take(usize::from(n))
    }

    /// A `u16`-length-prefixed vector.
    pub(crate) fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }

    /// A `u24`-length-prefixed vector.
    pub(crate) fn vec24(&mut self) -> Option<&'a [u8]> {
        let n = self.u24()?;
        self.take(usize::try_from(n).ok()?)
    }
}

/// Appends big-endian fields to a `Vec`.
pub(crate) trait Put {
    fn put_u8(&mut self, v: u8);
    fn put_u16(&mut self, v: u16);
    fn put_u24(&mut self, v: u32);
    /// Writes a `u8` length then `body`; `body` longer than 255 is truncated by the caller's
    /// contract (all our callers bound it).
    fn put_vec8(&mut self, body: &[u8]);
    fn put_vec16(&mut self, body: &[u8]);
    fn put_vec24(&mut self, body: &[u8]);
}

impl Put for Vec<u8> {
    fn put_u8(&mut self, v: u8) {
        self.push(v);
    }
    fn put_u16(&mut self, v: u16) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_u24(&mut self, v: u32) {
        let b = v.to_be_bytes();
        self.extend_from_slice(&b[1..]);
    }
    fn put_vec8(&mut self, body: &[u8]) {
        let n = body.len().min(0xff);
        self.push(n as u8);
        self.extend_from_slice(&body[..n]);
    }
    fn put_vec16(&mut self, body: &[u8]) {
        let n = body.len().min(0xffff);
        self.put_u16(n as u16);
        self.extend_from_slice(&body[..n]);
    }
    fn put_vec24(&mut self, body: &[u8]) {
        let n = body.len().min(0xff_ffff);
        self.put_u24(n as u32);
        self.extend_from_slice(&body[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_checked() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u16(), Some(0x0102));
        assert_eq!(r.u16(), None);
        assert_eq!(r.u8(), Some(3));
        assert!(r.is_empty());
        let mut r = Reader::new(&[5, 1, 2]);
        assert_eq!(r.vec8(), None);
    }

    #[test]
    fn writes_round_trip() {
        let mut v = Vec::new();
        v.put_u24(0x0a0b0c);
        v.extend_from_slice(&[1, 2, 3, 4, 5, 6]);
        v.put_vec16(&[9, 9]);
        let mut r = Reader::new(&v);
        assert_eq!(r.u24(), Some(0x0a0b0c));
        assert_eq!(r.u48(), Some(0x0102_0304_0506));
        assert_eq!(r.vec16(), Some(&[9u8, 9][..]));
    }
}
