//! The RTCP common header (RFC 3550 §6.4.1) as a checked view, and compound iteration.

use crate::error::{need, room, Error, Result};
use crate::wire::{put_u16, put_u8, sub, u16_at, u32_at, u8_at};
use crate::Ssrc;

/// RTCP packet types.
pub mod packet_type {
    /// Sender report (RFC 3550).
    pub const SR: u8 = 200;
    /// Receiver report (RFC 3550).
    pub const RR: u8 = 201;
    /// Source description (RFC 3550).
    pub const SDES: u8 = 202;
    /// Goodbye (RFC 3550).
    pub const BYE: u8 = 203;
    /// Application-defined (RFC 3550).
    pub const APP: u8 = 204;
    /// Transport-layer feedback (RFC 4585).
    pub const RTPFB: u8 = 205;
    /// Payload-specific feedback (RFC 4585).
    pub const PSFB: u8 = 206;
    /// Extended reports (RFC 3611).
    pub const XR: u8 = 207;
}

/// Length of the common header.
pub const HEADER_LEN: usize = 4;

/// A zero-copy view of one RTCP packet, checked against its own length field.
///
/// The view covers exactly the packet (`4 × (length + 1)` bytes); in a compound datagram the
/// rest belongs to the next packet, which [`Compound`] walks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtcpPacket<T: AsRef<[u8]>> {
    buffer: T,
    len: usize,
    /// Padding bytes, count byte included: one byte on the wire, so a `u8` here; the
    /// constructor checked that it leaves the header whole.
    padding: u8,
}

impl<T: AsRef<[u8]>> RtcpPacket<T> {
    /// Checks the version, the length field and the padding.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let b = buffer.as_ref();
        need(b, HEADER_LEN)?;
        let version = u8_at(b, 0) >> 6;
        if version != 2 {
            return Err(Error::BadVersion(version));
        }
        let len = 4 * (usize::from(u16_at(b, 2)) + 1);
        need(b, len)?;
        let mut padding = 0;
        if u8_at(b, 0) & 0x20 != 0 {
            padding = u8_at(b, len.saturating_sub(1));
            let pad = usize::from(padding);
            if pad == 0 || pad > len.saturating_sub(HEADER_LEN) {
                return Err(Error::BadPadding(pad));
            }
        }
        Ok(RtcpPacket {
            buffer,
            len,
            padding,
        })
    }

    /// The wrapped buffer (which may extend past this packet).
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// This packet's bytes, header to padding inclusive.
    pub fn as_bytes(&self) -> &[u8] {
        sub(self.buffer.as_ref(), 0, self.len)
    }

    /// Version (2).
    pub fn version(&self) -> u8 {
        u8_at(self.buffer.as_ref(), 0) >> 6
    }

    /// The P bit.
    pub fn has_padding(&self) -> bool {
        self.padding != 0
    }

    /// The 5-bit count field: reception report count, source count, feedback FMT or APP
    /// subtype, depending on the packet type.
    pub fn count(&self) -> u8 {
        u8_at(self.buffer.as_ref(), 0) & 0x1f
    }

    /// Packet type.
    pub fn packet_type(&self) -> u8 {
        u8_at(self.buffer.as_ref(), 1)
    }

    /// The length field: packet length in 32-bit words minus one.
    pub fn length_words(&self) -> u16 {
        u16_at(self.buffer.as_ref(), 2)
    }

    /// Packet length in bytes, padding included.
    pub fn packet_len(&self) -> usize {
        self.len
    }

    /// The SSRC of the sender (first word after the header), for every type that has one
    /// (all of RFC 3550's except an empty SDES or BYE).
    pub fn sender_ssrc(&self) -> Option<Ssrc> {
        (self.len >= 8).then(|| Ssrc(u32_at(self.buffer.as_ref(), 4)))
    }

    /// Everything after the common header, without padding.
    pub fn body(&self) -> &[u8] {
        sub(self.buffer.as_ref(), HEADER_LEN, self.body_end())
    }

    /// Where the body ends: the packet's length less its padding.
    pub(crate) fn body_end(&self) -> usize {
        self.len.saturating_sub(usize::from(self.padding))
    }

    /// Number of padding bytes (count byte included).
    pub fn padding_len(&self) -> usize {
        usize::from(self.padding)
    }
}

/// Writes a common header at the start of `buf` for a packet of `total` bytes (a multiple
/// of 4, at least 4). `padding` is the number of padding bytes already placed at the end.
pub(crate) fn write_header(
    buf: &mut [u8],
    count: u8,
    packet_type: u8,
    total: usize,
    padding: bool,
) -> Result<()> {
    room(buf, total)?;
    if count > 31 {
        return Err(Error::OutOfRange("RTCP count is 5 bits"));
    }
    if total % 4 != 0 {
        return Err(Error::OutOfRange(
            "RTCP packet length is not a whole number of words",
        ));
    }
    let words = (total / 4)
        .checked_sub(1)
        .ok_or(Error::OutOfRange("RTCP packet shorter than its header"))?;
    let words = u16::try_from(words).map_err(|_| Error::OutOfRange("RTCP packet too long"))?;
    put_u8(buf, 0, 0x80 | if padding { 0x20 } else { 0 } | count);
    put_u8(buf, 1, packet_type);
    put_u16(buf, 2, words);
    Ok(())
}

/// Iterator over the packets of a compound RTCP datagram. Yields an error for a malformed
/// packet and then stops (the rest cannot be framed).
///
/// ```
/// use rtcwire_rtp::rtcp::{Compound, packet_type};
/// // An empty RR (SSRC 1) followed by a PLI.
/// let bytes = [0x80, 201, 0, 1, 0, 0, 0, 1,
///              0x81, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2];
/// let types: Vec<u8> = Compound::new(&bytes).map(|p| p.unwrap().packet_type()).collect();
/// assert_eq!(types, [packet_type::RR, packet_type::PSFB]);
/// ```
#[derive(Debug, Clone)]
pub struct Compound<'a> {
    rest: &'a [u8],
}

impl<'a> Compound<'a> {
    /// Iterates over the packets in `datagram`.
    pub fn new(datagram: &'a [u8]) -> Self {
        Compound { rest: datagram }
    }
}

impl<'a> Iterator for Compound<'a> {
    type Item = Result<RtcpPacket<&'a [u8]>>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match RtcpPacket::new_checked(self.rest) {
            Ok(p) => {
                self.rest = self.rest.get(p.packet_len()..).unwrap_or(&[]);
                Some(Ok(RtcpPacket {
                    buffer: sub(p.buffer, 0, p.len),
                    len: p.len,
                    padding: p.padding,
                }))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

/// Whether a compound datagram must follow RFC 3550's rules or may be reduced-size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompoundRule {
    /// RFC 3550 §6.1 / A.2: first packet SR or RR, only the last may be padded.
    Full,
    /// RFC 5506: any packet may come alone or first (`a=rtcp-rsize` negotiated).
    ReducedSize,
}

/// Validates a compound datagram's framing (RFC 3550 A.2, relaxed by RFC 5506 for
/// [`CompoundRule::ReducedSize`]) and returns the number of packets.
pub fn validate_compound(datagram: &[u8], rule: CompoundRule) -> Result<usize> {
    let mut n = 0usize;
    let mut padded_before = false;
    for p in Compound::new(datagram) {
        let p = p?;
        if n == 0
            && rule == CompoundRule::Full
            && !matches!(p.packet_type(), packet_type::SR | packet_type::RR)
        {
            return Err(Error::BadCompound("first packet is neither SR nor RR"));
        }
        if padded_before {
            return Err(Error::BadCompound(
                "padding on a packet that is not the last",
            ));
        }
        padded_before = p.has_padding();
        n += 1;
    }
    if n == 0 {
        return Err(Error::BadCompound("empty datagram"));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_length_that_is_not_whole_words_is_an_error() {
        let mut buf = [0u8; 16];
        for total in [0, 2, 6] {
            assert!(matches!(
                write_header(&mut buf, 0, 200, total, false),
                Err(Error::OutOfRange(_))
            ));
        }
        write_header(&mut buf, 0, 200, 8, false).unwrap();
        assert_eq!(&buf[..4], &[0x80, 200, 0, 1]);
    }

    #[test]
    fn padding_count_past_the_header_is_refused() {
        // P bit, one word: the count byte says 5 (more than the 4 bytes after the header).
        let b = [0xa0, 200, 0, 1, 0, 0, 0, 5];
        assert_eq!(
            RtcpPacket::new_checked(&b[..]).err(),
            Some(Error::BadPadding(5))
        );
        let b = [0xa0, 200, 0, 1, 0, 0, 0, 4];
        let p = RtcpPacket::new_checked(&b[..]).unwrap();
        assert_eq!((p.padding_len(), p.body()), (4, &[][..]));
    }
}
