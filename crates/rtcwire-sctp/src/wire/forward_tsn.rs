//! FORWARD TSN chunk (RFC 3758 §3.2).

use super::list::{Item, List};
use super::{be32, chunk_type, emit_chunk_header, need, RawChunk};
use crate::Error;

/// A stream and the last stream sequence number skipped on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamSsn {
    /// Stream identifier.
    pub stream: u16,
    /// Stream sequence number.
    pub ssn: u16,
}

impl Item for StreamSsn {
    const SIZE: usize = 4;
    fn read(b: &[u8]) -> Self {
        StreamSsn {
            stream: u16::read(b),
            ssn: u16::read(b.get(2..).unwrap_or(&[])),
        }
    }
    fn write(&self, buf: &mut Vec<u8>) {
        self.stream.write(buf);
        self.ssn.write(buf);
    }
}

/// FORWARD TSN: the receiver moves its cumulative TSN to `new_cumulative_tsn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForwardTsn<'a> {
    /// New cumulative TSN.
    pub new_cumulative_tsn: u32,
    /// Ordered streams whose sequence numbers were skipped.
    pub streams: List<'a, StreamSsn>,
}

impl<'a> ForwardTsn<'a> {
    /// Parses the value.
    pub fn parse(raw: &RawChunk<'a>) -> Result<Self, Error> {
        let v = raw.value;
        need(v, 4)?;
        Ok(ForwardTsn {
            new_cumulative_tsn: be32(v, 0)?,
            streams: List::from_wire(&v[4..]),
        })
    }

    /// Length of the value.
    #[must_use]
    pub fn value_len(&self) -> usize {
        4 + self.streams.wire_len()
    }

    /// Appends the chunk.
    pub fn emit(&self, buf: &mut Vec<u8>) {
        emit_chunk_header(buf, chunk_type::FORWARD_TSN, 0, self.value_len());
        buf.extend_from_slice(&self.new_cumulative_tsn.to_be_bytes());
        self.streams.write(buf);
    }
}
