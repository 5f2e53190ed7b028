//! SACK chunk (RFC 9260 §3.3.4).

use super::list::{Item, List};
use super::{be16, be32, chunk_type, emit_chunk_header, need, RawChunk};
use crate::Error;

/// A gap ack block: TSNs `cum + start ..= cum + end` were received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GapBlock {
    /// Offset of the first TSN from the cumulative TSN ack.
    pub start: u16,
    /// Offset of the last TSN.
    pub end: u16,
}

impl Item for GapBlock {
    const SIZE: usize = 4;
    fn read(b: &[u8]) -> Self {
        GapBlock {
            start: u16::read(b),
            end: u16::read(b.get(2..).unwrap_or(&[])),
        }
    }
    fn write(&self, buf: &mut Vec<u8>) {
        self.start.write(buf);
        self.end.write(buf);
    }
}

/// SACK: cumulative ack, window, gap blocks and duplicate TSNs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sack<'a> {
    /// Cumulative TSN ack.
    pub cumulative_tsn_ack: u32,
    /// Advertised receiver window credit.
    pub a_rwnd: u32,
    /// Gap ack blocks.
    pub gap_blocks: List<'a, GapBlock>,
    /// Duplicate TSNs.
    pub duplicate_tsns: List<'a, u32>,
}

impl<'a> Sack<'a> {
    /// Parses the value.
    pub fn parse(raw: &RawChunk<'a>) -> Result<Self, Error> {
        let v = raw.value;
        need(v, 12)?;
        let gaps = usize::from(be16(v, 8)?);
        let dups = usize::from(be16(v, 10)?);
        let end_gaps = 12 + gaps * 4;
        let end = end_gaps + dups * 4;
        need(v, end)?;
        Ok(Sack {
            cumulative_tsn_ack: be32(v, 0)?,
            a_rwnd: be32(v, 4)?,
            gap_blocks: List::from_wire(&v[12..end_gaps]),
            duplicate_tsns: List::from_wire(&v[end_gaps..end]),
        })
    }

    /// Length of the value.
    #[must_use]
    pub fn value_len(&self) -> usize {
        12 + self.gap_blocks.wire_len() + self.duplicate_tsns.wire_len()
    }

    /// Appends the chunk.
    pub fn emit(&self, buf: &mut Vec<u8>) {
        emit_chunk_header(buf, chunk_type::SACK, 0, self.value_len());
        buf.extend_from_slice(&self.cumulative_tsn_ack.to_be_bytes());
        buf.extend_from_slice(&self.a_rwnd.to_be_bytes());
        let g = u16::try_from(self.gap_blocks.len()).unwrap_or(u16::MAX);
        let d = u16::try_from(self.duplicate_tsns.len()).unwrap_or(u16::MAX);
        buf.extend_from_slice(&g.to_be_bytes());
        buf.extend_from_slice(&d.to_be_bytes());
        self.gap_blocks.write(buf);
        self.duplicate_tsns.write(buf);
    }
}
