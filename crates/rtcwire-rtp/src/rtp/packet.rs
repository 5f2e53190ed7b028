//! The RTP fixed header, CSRCs, extension block and padding as a checked view (RFC 3550 §5.1).

use crate::error::{need, Error, Result};
use crate::rtp::ext::{ExtensionBlock, Extensions};
use crate::wire::{put_u16, put_u32, put_u8, sub, u16_at, u32_at, u8_at};
use crate::{PayloadType, Ssrc};
use std::ops::Range;

/// Byte ranges of the fixed header (RFC 3550 §5.1).
pub mod field {
    use std::ops::Range;
    /// V(2) P(1) X(1) CC(4).
    pub const VPXCC: usize = 0;
    /// M(1) PT(7).
    pub const MPT: usize = 1;
    /// Sequence number.
    pub const SEQ: Range<usize> = 2..4;
    /// Timestamp.
    pub const TIMESTAMP: Range<usize> = 4..8;
    /// SSRC.
    pub const SSRC: Range<usize> = 8..12;
    /// Start of the CSRC list.
    pub const CSRC: usize = 12;
}

/// Length of the fixed RTP header.
pub const FIXED_HEADER_LEN: usize = 12;

/// A zero-copy view of an RTP packet whose header has been checked.
///
/// Building the view ([`RtpPacket::new_checked`]) validates the version, that the CSRC list
/// and extension block fit, and (unless built with [`RtpPacket::new_header_only`]) the
/// padding. Accessors then read straight from the buffer.
///
/// ```
/// use rtcwire_rtp::rtp::RtpPacket;
/// use rtcwire_rtp::{PayloadType, Ssrc};
/// let bytes = [0x80, 0xe0, 0x00, 0x01, 0, 0, 0, 0x10, 0xde, 0xad, 0xbe, 0xef, 0xaa];
/// let p = RtpPacket::new_checked(&bytes[..]).unwrap();
/// assert!(p.marker());
/// assert_eq!(p.payload_type(), PayloadType(96));
/// assert_eq!(p.sequence_number(), 1);
/// assert_eq!(p.ssrc(), Ssrc(0xdead_beef));
/// assert_eq!(p.payload(), &[0xaa]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<T: AsRef<[u8]>> {
    buffer: T,
    header_len: usize,
    payload_end: usize,
    /// Padding bytes at the end, count byte included (0–255: the count is one byte, so the
    /// type itself bounds it).
    padding: u8,
}

impl<T: AsRef<[u8]>> RtpPacket<T> {
    /// Checks the header, CSRCs, extension block and padding, and wraps `buffer`.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let mut p = Self::new_header_only(buffer)?;
        let b = p.buffer.as_ref();
        if u8_at(b, 0) & 0x20 != 0 {
            let count = u8_at(b, b.len().saturating_sub(1));
            let pad = usize::from(count);
            // Room after the header; `new_header_only` checked that the header fits, but
            // this does not rely on it.
            let room = b.len().checked_sub(p.header_len).ok_or(Error::Truncated {
                needed: p.header_len,
                available: b.len(),
            })?;
            match room.checked_sub(pad) {
                Some(payload_len) if pad > 0 => {
                    p.payload_end = p.header_len + payload_len;
                    p.padding = count;
                }
                _ => return Err(Error::BadPadding(pad)),
            }
        }
        Ok(p)
    }

    /// Checks the fixed header, CSRCs and extension block but does not interpret padding:
    /// for packets whose payload (and so whose padding count) is still encrypted, as in
    /// SRTP. [`RtpPacket::payload_range`] then runs to the end of the buffer.
    pub fn new_header_only(buffer: T) -> Result<Self> {
        let b = buffer.as_ref();
        need(b, FIXED_HEADER_LEN)?;
        let version = u8_at(b, 0) >> 6;
        if version != 2 {
            return Err(Error::BadVersion(version));
        }
        let header_len = header_len(b)?;
        let payload_end = b.len();
        Ok(RtpPacket {
            buffer,
            header_len,
            payload_end,
            padding: 0,
        })
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The whole packet.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Version (always 2 once checked).
    #[inline]
    pub fn version(&self) -> u8 {
        u8_at(self.buffer.as_ref(), field::VPXCC) >> 6
    }

    /// The P bit: the packet ends with padding.
    #[inline]
    pub fn has_padding(&self) -> bool {
        u8_at(self.buffer.as_ref(), field::VPXCC) & 0x20 != 0
    }

    /// The X bit: a header extension follows the CSRCs.
    #[inline]
    pub fn has_extension(&self) -> bool {
        u8_at(self.buffer.as_ref(), field::VPXCC) & 0x10 != 0
    }

    /// Number of CSRCs (0–15).
    #[inline]
    pub fn csrc_count(&self) -> u8 {
        u8_at(self.buffer.as_ref(), field::VPXCC) & 0x0f
    }

    /// The marker bit.
    #[inline]
    pub fn marker(&self) -> bool {
        u8_at(self.buffer.as_ref(), field::MPT) & 0x80 != 0
    }

    /// Payload type (0–127).
    #[inline]
    pub fn payload_type(&self) -> PayloadType {
        PayloadType(u8_at(self.buffer.as_ref(), field::MPT) & 0x7f)
    }

    /// Sequence number.
    #[inline]
    pub fn sequence_number(&self) -> u16 {
        u16_at(self.buffer.as_ref(), field::SEQ.start)
    }

    /// RTP timestamp.
    #[inline]
    pub fn timestamp(&self) -> u32 {
        u32_at(self.buffer.as_ref(), field::TIMESTAMP.start)
    }

    /// Synchronization source.
    #[inline]
    pub fn ssrc(&self) -> Ssrc {
        Ssrc(u32_at(self.buffer.as_ref(), field::SSRC.start))
    }

    /// The contributing sources.
    pub fn csrcs(&self) -> impl ExactSizeIterator<Item = Ssrc> + '_ {
        let b = self.buffer.as_ref();
        (0..usize::from(self.csrc_count())).map(move |i| Ssrc(u32_at(b, field::CSRC + 4 * i)))
    }

    /// Length of the header: fixed part, CSRCs and extension block.
    #[inline]
    pub fn header_len(&self) -> usize {
        self.header_len
    }

    /// Byte range of the payload (after the header, before any padding).
    #[inline]
    pub fn payload_range(&self) -> Range<usize> {
        self.header_len..self.payload_end
    }

    /// The payload, without padding.
    #[inline]
    pub fn payload(&self) -> &[u8] {
        sub(self.buffer.as_ref(), self.header_len, self.payload_end)
    }

    /// Number of padding bytes at the end, including the count byte (0 without padding, and
    /// always 0 for a view built with [`RtpPacket::new_header_only`]).
    #[inline]
    pub fn padding_len(&self) -> usize {
        usize::from(self.padding)
    }

    /// The header extension block (profile and raw elements), if the X bit is set.
    pub fn extension_block(&self) -> Option<ExtensionBlock<'_>> {
        if !self.has_extension() {
            return None;
        }
        let b = self.buffer.as_ref();
        let at = field::CSRC + 4 * usize::from(self.csrc_count());
        Some(ExtensionBlock {
            profile: u16_at(b, at),
            data: sub(b, at + 4, self.header_len),
        })
    }

    /// Iterates over the RFC 8285 header extension elements (none if there is no block or
    /// its profile is neither one-byte nor two-byte).
    pub fn extensions(&self) -> Extensions<'_> {
        match self.extension_block() {
            Some(block) => block.elements(),
            None => Extensions::empty(),
        }
    }

    /// The data of the extension element with local identifier `id`, if present.
    pub fn extension(&self, id: u8) -> Option<&[u8]> {
        self.extensions()
            .find(|e| e.as_ref().is_ok_and(|e| e.id == id))
            .and_then(|e| e.ok())
            .map(|e| e.data)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> RtpPacket<T> {
    /// Sets the marker bit.
    pub fn set_marker(&mut self, marker: bool) {
        let b = self.buffer.as_mut();
        let v = (u8_at(b, field::MPT) & 0x7f) | if marker { 0x80 } else { 0 };
        put_u8(b, field::MPT, v);
    }

    /// Sets the payload type (the top bit is ignored).
    pub fn set_payload_type(&mut self, pt: PayloadType) {
        let b = self.buffer.as_mut();
        let v = (u8_at(b, field::MPT) & 0x80) | (pt.0 & 0x7f);
        put_u8(b, field::MPT, v);
    }

    /// Sets the sequence number.
    pub fn set_sequence_number(&mut self, seq: u16) {
        put_u16(self.buffer.as_mut(), field::SEQ.start, seq);
    }

    /// Sets the timestamp.
    pub fn set_timestamp(&mut self, ts: u32) {
        put_u32(self.buffer.as_mut(), field::TIMESTAMP.start, ts);
    }

    /// Sets the SSRC.
    pub fn set_ssrc(&mut self, ssrc: Ssrc) {
        put_u32(self.buffer.as_mut(), field::SSRC.start, ssrc.0);
    }

    /// The payload, mutably (for in-place encryption).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let r = self.payload_range();
        self.buffer.as_mut().get_mut(r).unwrap_or(&mut [])
    }

    /// The whole packet, mutably.
    pub fn as_bytes_mut(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }
}

/// Length of the RTP header at the start of `b` (fixed part, CSRCs, extension block), after
/// checking that it fits. Does not check the version.
#[inline]
pub fn header_len(b: &[u8]) -> Result<usize> {
    need(b, FIXED_HEADER_LEN)?;
    let first = u8_at(b, 0);
    let mut len = FIXED_HEADER_LEN + 4 * usize::from(first & 0x0f);
    need(b, len)?;
    if first & 0x10 != 0 {
        need(b, len + 4)?;
        let words = usize::from(u16_at(b, len + 2));
        len += 4 + 4 * words;
        need(b, len)?;
    }
    Ok(len)
}
