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

/// What a forward-TSN chunk lists per stream, and which chunk carries it.
pub trait SkippedEntry: Item {
    /// The chunk type: FORWARD TSN for stream sequence numbers, I-FORWARD-TSN for message
    /// identifiers.
    const CHUNK_TYPE: u8;
}

impl SkippedEntry for StreamSsn {
    const CHUNK_TYPE: u8 = chunk_type::FORWARD_TSN;
}

/// FORWARD TSN (RFC 3758 §3.2) and I-FORWARD-TSN (RFC 8260 §2.3): the receiver moves its
/// cumulative TSN to `new_cumulative_tsn`; the entries say what was skipped on which stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forward<'a, E: SkippedEntry> {
    /// New cumulative TSN.
    pub new_cumulative_tsn: u32,
    /// Streams whose messages were skipped.
    pub streams: List<'a, E>,
}

/// FORWARD TSN: ordered streams and the last stream sequence number skipped on each.
pub type ForwardTsn<'a> = Forward<'a, StreamSsn>;

impl<'a, E: SkippedEntry> Forward<'a, E> {
    /// Parses the value.
    pub fn parse(raw: &RawChunk<'a>) -> Result<Self, Error> {
        let v = raw.value;
        need(v, 4)?;
        Ok(Forward {
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
        emit_chunk_header(buf, E::CHUNK_TYPE, 0, self.value_len());
        buf.extend_from_slice(&self.new_cumulative_tsn.to_be_bytes());
        self.streams.write(buf);
    }
}
