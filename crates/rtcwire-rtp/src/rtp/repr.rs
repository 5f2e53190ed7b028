//! A high-level RTP header representation that parses from and emits to the wire.

use crate::error::{room, Error, Result};
use crate::rtp::ext::{write_block, ExtensionBlock};
use crate::rtp::packet::{field, RtpPacket, FIXED_HEADER_LEN};
use crate::wire::{put_slice, put_u16, put_u32, put_u8};
use crate::{PayloadType, Ssrc};

/// Up to 15 contributing sources (CSRCs, which are SSRCs of the mixed streams), stored inline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Csrcs {
    ids: [Ssrc; 15],
    len: u8,
}

impl Csrcs {
    /// An empty list.
    pub const fn new() -> Self {
        Csrcs {
            ids: [Ssrc(0); 15],
            len: 0,
        }
    }

    /// Builds a list from a slice of at most 15 ids.
    pub fn from_slice(ids: &[Ssrc]) -> Result<Self> {
        let mut c = Csrcs::new();
        for &id in ids {
            c.push(id)?;
        }
        Ok(c)
    }

    /// Appends a CSRC.
    pub fn push(&mut self, id: Ssrc) -> Result<()> {
        let slot = self
            .ids
            .get_mut(usize::from(self.len))
            .ok_or(Error::OutOfRange("more than 15 CSRCs"))?;
        *slot = id;
        self.len += 1;
        Ok(())
    }

    /// The ids.
    pub fn as_slice(&self) -> &[Ssrc] {
        self.ids.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// Number of ids.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// An RTP packet as values: parse it from an [`RtpPacket`] view, or fill it in and
/// [`emit`](RtpRepr::emit) it into a caller buffer. Borrowed parts (extension block, payload)
/// point into the source buffer, so parse → emit is lossless and allocation-free.
///
/// ```
/// use rtcwire_rtp::rtp::{RtpRepr, RtpPacket, ExtensionsBuilder};
/// use rtcwire_rtp::{PayloadType, Ssrc};
/// let mut ext = ExtensionsBuilder::new();
/// ext.push(1, b"audio").unwrap();
/// let repr = RtpRepr {
///     marker: true,
///     payload_type: PayloadType(111),
///     sequence_number: 7,
///     timestamp: 960,
///     ssrc: Ssrc(0x1234_5678),
///     extension: Some(ext.block()),
///     payload: b"opus",
///     ..RtpRepr::default()
/// };
/// let mut buf = [0u8; 64];
/// let n = repr.emit(&mut buf).unwrap();
/// let packet = RtpPacket::new_checked(&buf[..n]).unwrap();
/// assert_eq!(packet.extension(1), Some(&b"audio"[..]));
/// assert_eq!(RtpRepr::parse(&packet).unwrap(), repr);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RtpRepr<'a> {
    /// Marker bit.
    pub marker: bool,
    /// Payload type, 0–127.
    pub payload_type: PayloadType,
    /// Sequence number.
    pub sequence_number: u16,
    /// RTP timestamp.
    pub timestamp: u32,
    /// SSRC.
    pub ssrc: Ssrc,
    /// CSRC list.
    pub csrcs: Csrcs,
    /// Header extension block (X bit), kept raw.
    pub extension: Option<ExtensionBlock<'a>>,
    /// Payload.
    pub payload: &'a [u8],
    /// Padding bytes to append, including the final count byte (0: none; else 1–255).
    pub padding: u8,
}

impl<'a> RtpRepr<'a> {
    /// Reads every field of a checked packet.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &'a RtpPacket<&'a T>) -> Result<Self> {
        let mut csrcs = Csrcs::new();
        for c in packet.csrcs() {
            csrcs.push(c)?;
        }
        Ok(RtpRepr {
            marker: packet.marker(),
            payload_type: packet.payload_type(),
            sequence_number: packet.sequence_number(),
            timestamp: packet.timestamp(),
            ssrc: packet.ssrc(),
            csrcs,
            extension: packet.extension_block(),
            payload: packet.payload(),
            padding: u8::try_from(packet.padding_len())
                .map_err(|_| Error::BadPadding(packet.padding_len()))?,
        })
    }

    /// Header length: fixed part, CSRCs and extension block.
    pub fn header_len(&self) -> usize {
        FIXED_HEADER_LEN + 4 * self.csrcs.len() + self.extension.map_or(0, |e| 4 + e.data.len())
    }

    /// Total length of the emitted packet.
    pub fn buffer_len(&self) -> usize {
        self.header_len() + self.payload.len() + usize::from(self.padding)
    }

    /// Writes the header only (for callers that place the payload themselves) and returns
    /// its length. The padding bit is set if `padding` is non-zero.
    pub fn emit_header(&self, buf: &mut [u8]) -> Result<usize> {
        let hl = self.header_len();
        room(buf, hl)?;
        if self.payload_type.0 > 127 {
            return Err(Error::OutOfRange("payload type is 7 bits"));
        }
        let mut first = 0x80 | self.csrcs.len() as u8;
        if self.padding > 0 {
            first |= 0x20;
        }
        if self.extension.is_some() {
            first |= 0x10;
        }
        put_u8(buf, field::VPXCC, first);
        put_u8(
            buf,
            field::MPT,
            if self.marker { 0x80 } else { 0 } | self.payload_type.0,
        );
        put_u16(buf, field::SEQ.start, self.sequence_number);
        put_u32(buf, field::TIMESTAMP.start, self.timestamp);
        put_u32(buf, field::SSRC.start, self.ssrc.0);
        let mut at = field::CSRC;
        for &c in self.csrcs.as_slice() {
            put_u32(buf, at, c.0);
            at += 4;
        }
        if let Some(e) = &self.extension {
            if e.data.len() % 4 != 0 || e.data.len() / 4 > usize::from(u16::MAX) {
                return Err(Error::BadExtension(
                    "block length is not a multiple of 4 or too long",
                ));
            }
            write_block(buf, at, e);
        }
        Ok(hl)
    }

    /// Writes the whole packet into `buf` and returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let total = self.buffer_len();
        room(buf, total)?;
        let hl = self.emit_header(buf)?;
        put_slice(buf, hl, self.payload);
        if self.padding > 0 {
            let start = hl + self.payload.len();
            if let Some(p) = buf.get_mut(start..total) {
                p.fill(0);
            }
            put_u8(buf, total - 1, self.padding);
        }
        Ok(total)
    }
}
