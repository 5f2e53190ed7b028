//! TURN ChannelData messages (RFC 8656 §12).
//!
//! ```text
//!  0                   1                   2                   3
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |         Channel Number        |            Length             |
//! +-------------------------------+-------------------------------+
//! /                       Application Data                        /
//! ```
//!
//! Over TCP the message is padded to a multiple of 4 bytes (the padding is not counted in
//! Length); over UDP padding is optional and a receiver ignores bytes past Length.

use crate::builder::{grow_exact, split_checked, Output};
use crate::Error;

/// Length of the ChannelData header.
pub const CHANNEL_DATA_HEADER_LEN: usize = 4;

/// Lowest channel number (RFC 8656 §12).
pub const MIN_CHANNEL: u16 = 0x4000;
/// Highest channel number.
pub const MAX_CHANNEL: u16 = 0x4FFF;

/// The transport a ChannelData message travels over, which decides its padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP (or DTLS): no padding is written.
    Udp,
    /// TCP (or TLS): padded to a multiple of 4 bytes.
    Tcp,
}

/// A ChannelData message borrowed from a received buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelData<'a> {
    /// The channel number, 0x4000–0x4FFF.
    pub number: u16,
    /// The application data.
    pub data: &'a [u8],
}

fn check_number(number: u16) -> Result<(), Error> {
    if (MIN_CHANNEL..=MAX_CHANNEL).contains(&number) {
        Ok(())
    } else {
        Err(Error::BadChannelNumber(number))
    }
}

impl<'a> ChannelData<'a> {
    /// Parses a ChannelData message at the start of `buf`. Bytes after the data (padding,
    /// or UDP trailing bytes) are ignored, as RFC 8656 §12.5 allows.
    pub fn parse(buf: &'a [u8]) -> Result<Self, Error> {
        let Some(&[n0, n1, l0, l1]) = buf.get(..CHANNEL_DATA_HEADER_LEN) else {
            return Err(Error::Truncated {
                needed: CHANNEL_DATA_HEADER_LEN,
                available: buf.len(),
            });
        };
        let number = u16::from_be_bytes([n0, n1]);
        check_number(number)?;
        let len = usize::from(u16::from_be_bytes([l0, l1]));
        let rest = buf.get(CHANNEL_DATA_HEADER_LEN..).unwrap_or_default();
        let data = rest.get(..len).ok_or(Error::Truncated {
            needed: CHANNEL_DATA_HEADER_LEN + len,
            available: buf.len(),
        })?;
        Ok(ChannelData { number, data })
    }

    /// The 4-byte header for `data_len` bytes on `number`, for callers that frame data in
    /// place (header written into headroom before the payload).
    pub fn header(number: u16, data_len: usize) -> Result<[u8; 4], Error> {
        check_number(number)?;
        let len = u16::try_from(data_len).map_err(|_| Error::TooLong(data_len))?;
        let n = number.to_be_bytes();
        let l = len.to_be_bytes();
        Ok([n[0], n[1], l[0], l[1]])
    }

    /// Bytes [`ChannelData::emit`] writes over `transport`.
    #[must_use]
    pub fn buffer_len(&self, transport: Transport) -> usize {
        let len = CHANNEL_DATA_HEADER_LEN + self.data.len();
        match transport {
            Transport::Udp => len,
            Transport::Tcp => len.next_multiple_of(4),
        }
    }

    /// Appends the message to `out` (padded with zeros over TCP); returns the bytes written.
    pub fn emit<O: Output + ?Sized>(
        &self,
        transport: Transport,
        out: &mut O,
    ) -> Result<usize, Error> {
        let header = Self::header(self.number, self.data.len())?;
        let n = self.buffer_len(transport);
        let dst = grow_exact(out, n)?;
        let (h, rest) = split_checked(dst, CHANNEL_DATA_HEADER_LEN)?;
        h.copy_from_slice(&header);
        let (d, _padding) = split_checked(rest, self.data.len())?;
        d.copy_from_slice(self.data);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::SliceBuf;

    #[test]
    fn udp_has_no_padding_and_tcp_pads_to_four() {
        let cd = ChannelData {
            number: 0x4001,
            data: b"hello",
        };
        let mut udp = Vec::new();
        assert_eq!(cd.emit(Transport::Udp, &mut udp).unwrap(), 9);
        assert_eq!(udp, b"\x40\x01\x00\x05hello");
        let mut tcp = Vec::new();
        assert_eq!(cd.emit(Transport::Tcp, &mut tcp).unwrap(), 12);
        assert_eq!(tcp, b"\x40\x01\x00\x05hello\0\0\0");
        assert_eq!(ChannelData::parse(&udp).unwrap(), cd);
        assert_eq!(ChannelData::parse(&tcp).unwrap(), cd);
    }

    #[test]
    fn rejects_bad_numbers_and_short_data() {
        assert_eq!(
            ChannelData::parse(&[0x50, 0, 0, 0]),
            Err(Error::BadChannelNumber(0x5000))
        );
        assert_eq!(
            ChannelData::parse(&[0x40, 0, 0, 4, 1, 2]),
            Err(Error::Truncated {
                needed: 8,
                available: 6
            })
        );
        assert!(ChannelData::parse(&[0x40, 0]).is_err());
        assert_eq!(
            ChannelData::header(0x3fff, 1),
            Err(Error::BadChannelNumber(0x3fff))
        );
    }

    #[test]
    fn slice_output_reports_too_small() {
        let mut arr = [0u8; 8];
        let mut out = SliceBuf::new(&mut arr);
        let cd = ChannelData {
            number: 0x4000,
            data: b"hello",
        };
        assert!(matches!(
            cd.emit(Transport::Udp, &mut out),
            Err(Error::BufferTooSmall { .. })
        ));
    }
}
