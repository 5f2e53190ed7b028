//! Writing messages into the caller's buffer.

use bytes::BytesMut;

use crate::attr::{AttrType, Attribute, MAX_TEXT, MAX_USERNAME};
use crate::header::{field, MessageType, TransactionId, HEADER_LEN, MAGIC_COOKIE, MAX_BODY_LEN};
use crate::integrity::{fingerprint, IntegrityKey, INTEGRITY_LEN, INTEGRITY_SHA256_LEN};
use crate::Error;

mod sealed {
    pub trait Sealed {}
    impl Sealed for bytes::BytesMut {}
    impl Sealed for Vec<u8> {}
    impl Sealed for super::SliceBuf<'_> {}
}

/// A buffer a message can be written into: [`BytesMut`], `Vec<u8>`, or a fixed slice
/// through [`SliceBuf`]. The message is appended after whatever the buffer already holds.
///
/// Sealed: the builder relies on `grow(n)` returning exactly `n` bytes.
pub trait Output: sealed::Sealed {
    /// Bytes written so far.
    fn written(&mut self) -> &mut [u8];
    /// Appends `n` zero bytes and returns them, or fails when the buffer cannot grow.
    fn grow(&mut self, n: usize) -> Result<&mut [u8], Error>;
}

impl Output for BytesMut {
    fn written(&mut self) -> &mut [u8] {
        self
    }
    fn grow(&mut self, n: usize) -> Result<&mut [u8], Error> {
        let start = self.len();
        self.resize(start + n, 0);
        Ok(self.get_mut(start..).unwrap_or_default())
    }
}

impl Output for Vec<u8> {
    fn written(&mut self) -> &mut [u8] {
        self
    }
    fn grow(&mut self, n: usize) -> Result<&mut [u8], Error> {
        let start = self.len();
        self.resize(start + n, 0);
        Ok(self.get_mut(start..).unwrap_or_default())
    }
}

/// `out.grow(n)`, checked to have returned exactly `n` bytes: writers slice what it returns
/// at fixed offsets, so a short region is an error here rather than a panic there.
pub(crate) fn grow_exact<O: Output + ?Sized>(out: &mut O, n: usize) -> Result<&mut [u8], Error> {
    let region = out.grow(n)?;
    if region.len() == n {
        Ok(region)
    } else {
        Err(Error::BufferTooSmall {
            needed: n,
            available: region.len(),
        })
    }
}

/// Splits `buf` at `at`, or reports how many bytes were missing.
pub(crate) fn split_checked(buf: &mut [u8], at: usize) -> Result<(&mut [u8], &mut [u8]), Error> {
    let available = buf.len();
    buf.split_at_mut_checked(at).ok_or(Error::BufferTooSmall {
        needed: at,
        available,
    })
}

/// A fixed `&mut [u8]` written from the front; [`SliceBuf::len`] tells how much is used.
#[derive(Debug)]
pub struct SliceBuf<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl<'b> SliceBuf<'b> {
    /// An empty writer over `buf`.
    pub fn new(buf: &'b mut [u8]) -> Self {
        SliceBuf { buf, len: 0 }
    }

    /// Bytes written.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is written.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The written bytes.
    #[must_use]
    pub fn as_slice(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }
}

impl Output for SliceBuf<'_> {
    fn written(&mut self) -> &mut [u8] {
        self.buf.get_mut(..self.len).unwrap_or_default()
    }
    fn grow(&mut self, n: usize) -> Result<&mut [u8], Error> {
        let end = self.len.saturating_add(n);
        let available = self.buf.len();
        let out = self
            .buf
            .get_mut(self.len..end)
            .ok_or(Error::BufferTooSmall {
                needed: end,
                available,
            })?;
        out.fill(0);
        self.len = end;
        Ok(out)
    }
}

/// Where the builder is relative to the integrity attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Body,
    AfterIntegrity,
    AfterIntegritySha256,
    AfterFingerprint,
}

/// Writes one message: header first, then attributes in call order, then (optionally)
/// MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 and FINGERPRINT, which are computed over
/// what precedes them. The header's length is kept current after every call, so the
/// message is complete at any point; [`MessageBuilder::finish`] returns its length.
///
/// ```
/// use bytes::BytesMut;
/// use rtcwire_stun::{Attribute, IntegrityKey, Message, MessageBuilder, MessageType, TransactionId};
///
/// let key = IntegrityKey::short_term("password");
/// let mut buf = BytesMut::new();
/// let mut b = MessageBuilder::new(&mut buf, MessageType::BINDING_REQUEST, TransactionId([7; 12]))?;
/// b.attr(&Attribute::Username("remote:local"))?;
/// b.attr(&Attribute::Priority(0x6e00_01ff))?;
/// b.message_integrity(&key)?;
/// b.fingerprint()?;
/// let len = b.finish();
///
/// let msg = Message::parse(&buf[..len])?;
/// msg.verify_integrity(&key)?;
/// msg.verify_fingerprint()?;
/// assert_eq!(msg.username()?, Some("remote:local"));
/// # Ok::<(), rtcwire_stun::Error>(())
/// ```
#[derive(Debug)]
pub struct MessageBuilder<'o, O: Output + ?Sized> {
    out: &'o mut O,
    start: usize,
    tid: TransactionId,
    stage: Stage,
}

impl<'o, O: Output + ?Sized> MessageBuilder<'o, O> {
    /// Starts a message of type `typ` at the end of `out`.
    pub fn new(out: &'o mut O, typ: MessageType, tid: TransactionId) -> Result<Self, Error> {
        let start = out.written().len();
        let h: &mut [u8; HEADER_LEN] =
            grow_exact(out, HEADER_LEN)?
                .try_into()
                .map_err(|_| Error::BufferTooSmall {
                    needed: HEADER_LEN,
                    available: 0,
                })?;
        h[field::TYPE].copy_from_slice(&typ.to_u16().to_be_bytes());
        h[field::COOKIE].copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
        h[field::TRANSACTION_ID].copy_from_slice(&tid.0);
        Ok(MessageBuilder {
            out,
            start,
            tid,
            stage: Stage::Body,
        })
    }

    /// The message written so far.
    pub fn as_bytes(&mut self) -> &[u8] {
        let start = self.start;
        self.out.written().get(start..).unwrap_or_default()
    }

    fn check_order(&self, attr: AttrType) -> Result<(), Error> {
        let ok = match self.stage {
            Stage::Body => true,
            Stage::AfterIntegrity => {
                attr == AttrType::MESSAGE_INTEGRITY_SHA256 || attr == AttrType::FINGERPRINT
            }
            Stage::AfterIntegritySha256 => attr == AttrType::FINGERPRINT,
            Stage::AfterFingerprint => false,
        };
        if ok {
            Ok(())
        } else {
            Err(Error::AttributeOrder(attr))
        }
    }

    /// Appends an attribute header and room for `len` value bytes plus padding, updates the
    /// header length, and returns (value, padding).
    /// `ordered`: enforce (and advance) the integrity/fingerprint ordering.
    fn append(
        &mut self,
        attr: AttrType,
        len: usize,
        ordered: bool,
    ) -> Result<(&mut [u8], &mut [u8]), Error> {
        if ordered {
            self.check_order(attr)?;
        }
        let vlen = u16::try_from(len).map_err(|_| Error::TooLong(len))?;
        let padded = len.next_multiple_of(4);
        // The builder holds `out` exclusively, so what it wrote (the header at least) is
        // still there; saturating keeps a broken buffer from wrapping around.
        let body = self
            .out
            .written()
            .len()
            .saturating_sub(self.start + HEADER_LEN);
        let new_body = body + 4 + padded;
        if new_body > MAX_BODY_LEN {
            return Err(Error::TooLong(new_body));
        }
        // Grow first: if the buffer cannot, nothing below has changed (stage, length).
        let before = self.out.written().len();
        grow_exact(self.out, 4 + padded)?;
        if ordered {
            self.stage = match attr {
                AttrType::MESSAGE_INTEGRITY => Stage::AfterIntegrity,
                AttrType::MESSAGE_INTEGRITY_SHA256 => Stage::AfterIntegritySha256,
                AttrType::FINGERPRINT => Stage::AfterFingerprint,
                _ => self.stage,
            };
        }
        let start = self.start;
        let written = self.out.written();
        if let Some(len_field) =
            written.get_mut(start + field::LENGTH.start..start + field::LENGTH.end)
        {
            len_field.copy_from_slice(&(new_body as u16).to_be_bytes());
        }
        let available = written.len();
        let a = written.get_mut(before..).ok_or(Error::BufferTooSmall {
            needed: before,
            available,
        })?;
        let (head, rest) = split_checked(a, 4)?;
        let [t0, t1, l0, l1] = head else {
            return Err(Error::BufferTooSmall {
                needed: 4,
                available: head.len(),
            });
        };
        [*t0, *t1] = attr.0.to_be_bytes();
        [*l0, *l1] = vlen.to_be_bytes();
        split_checked(rest, len)
    }

    /// Splits the whole message, after `append` added an attribute of `value_len` bytes,
    /// into (what the attribute covers, the attribute's value).
    fn covered_and_value(&mut self, value_len: usize) -> Result<(&mut [u8], &mut [u8]), Error> {
        let msg = self.whole();
        let available = msg.len();
        let split = available
            .checked_sub(value_len + 4)
            .ok_or(Error::BufferTooSmall {
                needed: value_len + 4,
                available,
            })?;
        let (covered, attr) = split_checked(msg, split)?;
        let value = attr.get_mut(4..).unwrap_or_default();
        Ok((covered, value))
    }

    /// Appends a typed attribute. Values are checked as the decoder checks them: error
    /// codes 300–699, channel numbers 0x4000–0x4FFF, USERNAME up to 512 bytes, other text up
    /// to 763 bytes, lengths that fit 16 bits.
    pub fn attr(&mut self, a: &Attribute<'_>) -> Result<&mut Self, Error> {
        match a {
            Attribute::ErrorCode(e) | Attribute::AddressErrorCode(_, e)
                if !(300..700).contains(&e.code) =>
            {
                return Err(Error::BadErrorCode(e.code));
            }
            Attribute::ChannelNumber(n) if !(0x4000..=0x4FFF).contains(n) => {
                return Err(Error::BadChannelNumber(*n));
            }
            _ => {}
        }
        // Text the decoder would refuse is refused here too, so what we write parses.
        let text_len = match a {
            Attribute::Username(s) if s.len() > MAX_USERNAME => Some(s.len()),
            Attribute::Realm(s)
            | Attribute::Nonce(s)
            | Attribute::Software(s)
            | Attribute::AlternateDomain(s)
                if s.len() > MAX_TEXT =>
            {
                Some(s.len())
            }
            Attribute::ErrorCode(e) | Attribute::AddressErrorCode(_, e)
                if e.reason.len() > MAX_TEXT =>
            {
                Some(e.reason.len() + 4)
            }
            _ => None,
        };
        if let Some(len) = text_len {
            return Err(Error::BadAttributeLength {
                attr: a.attr_type(),
                len,
            });
        }
        let tid = self.tid;
        let (value, _) = self.append(a.attr_type(), a.value_len(), true)?;
        a.emit_value(&tid, value);
        Ok(self)
    }

    /// Appends an attribute from raw value bytes, zero-padded.
    ///
    /// Raw attributes bypass the ordering checks (so that any parsed message, even one with
    /// attributes after MESSAGE-INTEGRITY, can be reproduced) and are copied as given: a raw
    /// MESSAGE-INTEGRITY or FINGERPRINT is not recomputed.
    pub fn raw(&mut self, attr: AttrType, value: &[u8]) -> Result<&mut Self, Error> {
        self.raw_padded(attr, value, &[])
    }

    /// Appends an attribute from raw value bytes with the given padding bytes (used to
    /// reproduce a received message byte for byte; missing padding bytes are zero).
    pub fn raw_padded(
        &mut self,
        attr: AttrType,
        value: &[u8],
        padding: &[u8],
    ) -> Result<&mut Self, Error> {
        let (v, pad) = self.append(attr, value.len(), false)?;
        v.copy_from_slice(value);
        for (d, s) in pad.iter_mut().zip(padding) {
            *d = *s;
        }
        Ok(self)
    }

    /// The whole message, after `append` added the attribute being computed (the header's
    /// length field already counts it, as the HMAC and CRC require).
    fn whole(&mut self) -> &mut [u8] {
        let start = self.start;
        self.out.written().get_mut(start..).unwrap_or_default()
    }

    /// Appends MESSAGE-INTEGRITY: HMAC-SHA1 with `key` over the message so far.
    pub fn message_integrity(&mut self, key: &IntegrityKey) -> Result<&mut Self, Error> {
        self.append(AttrType::MESSAGE_INTEGRITY, INTEGRITY_LEN, true)?;
        let (covered, value) = self.covered_and_value(INTEGRITY_LEN)?;
        let mac = key.hmac_sha1(&[covered]);
        value.copy_from_slice(&mac);
        Ok(self)
    }

    /// Appends MESSAGE-INTEGRITY-SHA256 (full 32 bytes): HMAC-SHA256 with `key` over the
    /// message so far.
    pub fn message_integrity_sha256(&mut self, key: &IntegrityKey) -> Result<&mut Self, Error> {
        self.append(
            AttrType::MESSAGE_INTEGRITY_SHA256,
            INTEGRITY_SHA256_LEN,
            true,
        )?;
        let (covered, value) = self.covered_and_value(INTEGRITY_SHA256_LEN)?;
        let mac = key.hmac_sha256(&[covered]);
        value.copy_from_slice(&mac);
        Ok(self)
    }

    /// Appends FINGERPRINT, the last attribute.
    pub fn fingerprint(&mut self) -> Result<&mut Self, Error> {
        self.append(AttrType::FINGERPRINT, 4, true)?;
        let (covered, value) = self.covered_and_value(4)?;
        let crc = fingerprint(covered);
        value.copy_from_slice(&crc.to_be_bytes());
        Ok(self)
    }

    /// Ends the message; returns its length in bytes.
    pub fn finish(self) -> usize {
        self.out.written().len().saturating_sub(self.start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Message;

    /// An output that breaks the `grow` contract: it hands back fewer bytes than asked
    /// (at most `cap` in all), as a buggy buffer would.
    struct Short {
        buf: Vec<u8>,
        cap: usize,
    }
    impl sealed::Sealed for Short {}
    impl Output for Short {
        fn written(&mut self) -> &mut [u8] {
            &mut self.buf
        }
        fn grow(&mut self, n: usize) -> Result<&mut [u8], Error> {
            let start = self.buf.len();
            let end = (start + n).min(self.cap);
            self.buf.resize(end, 0);
            Ok(&mut self.buf[start..])
        }
    }

    #[test]
    fn a_refused_attribute_leaves_the_message_unchanged() {
        let mut arr = [0u8; 32];
        let mut out = SliceBuf::new(&mut arr);
        let mut b = MessageBuilder::new(
            &mut out,
            MessageType::BINDING_REQUEST,
            TransactionId([3; 12]),
        )
        .unwrap();
        // FINGERPRINT needs 8 bytes; a 16-byte SOFTWARE needs 20 of the 12 left.
        assert!(matches!(
            b.attr(&Attribute::Software("0123456789abcdef")),
            Err(Error::BufferTooSmall { .. })
        ));
        assert_eq!(&b.as_bytes()[2..4], &[0, 0]);
        b.fingerprint().unwrap();
        let n = b.finish();
        let msg = Message::parse(&arr[..n]).unwrap();
        msg.verify_fingerprint().unwrap();
    }

    #[test]
    fn an_output_that_grows_short_is_an_error_not_a_panic() {
        let tid = TransactionId([1; 12]);
        let mut out = Short {
            buf: Vec::new(),
            cap: 8,
        };
        assert_eq!(
            MessageBuilder::new(&mut out, MessageType::BINDING_REQUEST, tid).err(),
            Some(Error::BufferTooSmall {
                needed: 20,
                available: 8
            })
        );
        // Room for the header, then short for every kind of attribute.
        for cap in [20, 22, 26, 30] {
            let mut out = Short {
                buf: Vec::new(),
                cap,
            };
            let mut b = MessageBuilder::new(&mut out, MessageType::BINDING_REQUEST, tid).unwrap();
            assert!(matches!(
                b.attr(&Attribute::Software("abcdefgh")),
                Err(Error::BufferTooSmall { .. })
            ));
            assert!(matches!(b.fingerprint(), Err(Error::BufferTooSmall { .. })));
            let key = IntegrityKey::short_term("pw");
            assert!(matches!(
                b.message_integrity(&key),
                Err(Error::BufferTooSmall { .. })
            ));
        }
        let mut out = Short {
            buf: Vec::new(),
            cap: 5,
        };
        assert_eq!(
            crate::framer::write_rfc4571(b"abcdef", &mut out),
            Err(Error::BufferTooSmall {
                needed: 8,
                available: 5
            })
        );
        let mut out = Short {
            buf: Vec::new(),
            cap: 6,
        };
        let cd = crate::ChannelData {
            number: 0x4000,
            data: b"abcdef",
        };
        assert_eq!(
            cd.emit(crate::Transport::Udp, &mut out),
            Err(Error::BufferTooSmall {
                needed: 10,
                available: 6
            })
        );
    }

    #[test]
    fn appends_after_existing_bytes_and_keeps_the_length_current() {
        let mut buf = BytesMut::from(&b"\x00\x00"[..]); // e.g. room for an RFC 4571 length
        let mut b = MessageBuilder::new(
            &mut buf,
            MessageType::BINDING_REQUEST,
            TransactionId([5; 12]),
        )
        .unwrap();
        assert_eq!(b.as_bytes().len(), HEADER_LEN);
        b.attr(&Attribute::Software("abc")).unwrap();
        // The header's length counts the attribute (4 + 3 + 1 padding) already.
        assert_eq!(&b.as_bytes()[2..4], &[0, 8]);
        assert!(Message::parse(b.as_bytes()).is_ok());
        b.fingerprint().unwrap();
        let n = b.finish();
        assert_eq!(n, HEADER_LEN + 8 + 8);
        assert_eq!(&buf[..2], b"\x00\x00");
        let msg = Message::parse(&buf[2..]).unwrap();
        msg.verify_fingerprint().unwrap();
        assert_eq!(msg.software().unwrap(), Some("abc"));
    }

    #[test]
    fn padding_is_zero_unless_given() {
        let mut v = Vec::new();
        let mut b =
            MessageBuilder::new(&mut v, MessageType::BINDING_REQUEST, TransactionId([0; 12]))
                .unwrap();
        b.raw(AttrType::USERNAME, b"a").unwrap();
        b.raw_padded(AttrType::SOFTWARE, b"b", b"  ").unwrap();
        b.finish();
        assert_eq!(&v[20..], b"\x00\x06\x00\x01a\0\0\0\x80\x22\x00\x01b  \0");
    }

    #[test]
    fn slice_buf_reports_what_was_written() {
        let mut arr = [0xffu8; 64];
        let mut out = SliceBuf::new(&mut arr);
        assert!(out.is_empty());
        let mut b = MessageBuilder::new(
            &mut out,
            MessageType::BINDING_REQUEST,
            TransactionId([0; 12]),
        )
        .unwrap();
        b.attr(&Attribute::UseCandidate).unwrap();
        assert_eq!(b.finish(), 24);
        assert_eq!(out.len(), 24);
        assert_eq!(&out.as_slice()[20..], &[0x00, 0x25, 0, 0]);
        let mut tiny = [0u8; 10];
        let mut out = SliceBuf::new(&mut tiny);
        assert_eq!(
            MessageBuilder::new(
                &mut out,
                MessageType::BINDING_REQUEST,
                TransactionId([0; 12])
            )
            .err(),
            Some(Error::BufferTooSmall {
                needed: 20,
                available: 10
            })
        );
    }
}
