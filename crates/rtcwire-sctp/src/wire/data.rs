//! DATA chunk (RFC 9260 §3.3.1).

use super::{be16, be32, chunk_type, emit_chunk_header, need, pad_from, RawChunk};
use crate::Error;

/// Bytes of a DATA chunk's value before the user data.
pub const DATA_HEADER_LEN: usize = 12;

/// Flag bits of a DATA chunk.
pub mod flags {
    /// Last fragment.
    pub const END: u8 = 0x01;
    /// First fragment.
    pub const BEGIN: u8 = 0x02;
    /// Unordered.
    pub const UNORDERED: u8 = 0x04;
    /// Immediate SACK requested (RFC 7053).
    pub const IMMEDIATE: u8 = 0x08;
}

/// A DATA chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Data<'a> {
    /// Flags (see [`flags`]).
    pub flags: u8,
    /// Transmission sequence number.
    pub tsn: u32,
    /// Stream identifier.
    pub stream: u16,
    /// Stream sequence number (ordered delivery).
    pub ssn: u16,
    /// Payload protocol identifier.
    pub ppid: u32,
    /// User data (never empty on the wire).
    pub payload: &'a [u8],
}

impl<'a> Data<'a> {
    /// Parses the value of a DATA chunk. Empty user data is refused (RFC 9260 §6.2).
    pub fn parse(raw: &RawChunk<'a>) -> Result<Self, Error> {
        let v = raw.value;
        need(v, DATA_HEADER_LEN)?;
        let payload = &v[DATA_HEADER_LEN..];
        if payload.is_empty() {
            return Err(Error::EmptyData);
        }
        Ok(Data {
            flags: raw.flags,
            tsn: be32(v, 0)?,
            stream: be16(v, 4)?,
            ssn: be16(v, 6)?,
            ppid: be32(v, 8)?,
            payload,
        })
    }

    /// Whether this is the first fragment of a message.
    #[must_use]
    pub fn is_begin(&self) -> bool {
        self.flags & flags::BEGIN != 0
    }

    /// Whether this is the last fragment of a message.
    #[must_use]
    pub fn is_end(&self) -> bool {
        self.flags & flags::END != 0
    }

    /// Whether the message is unordered.
    #[must_use]
    pub fn is_unordered(&self) -> bool {
        self.flags & flags::UNORDERED != 0
    }

    /// Length of the value.
    #[must_use]
    pub fn value_len(&self) -> usize {
        DATA_HEADER_LEN + self.payload.len()
    }

    /// Appends the chunk.
    pub fn emit(&self, buf: &mut Vec<u8>) {
        let start = buf.len();
        emit_chunk_header(buf, chunk_type::DATA, self.flags, self.value_len());
        emit_header(buf, self.tsn, self.stream, self.ssn, self.ppid);
        buf.extend_from_slice(self.payload);
        pad_from(buf, start);
    }
}

/// Appends the 12 bytes after the chunk header of a DATA chunk.
pub(crate) fn emit_header(buf: &mut Vec<u8>, tsn: u32, stream: u16, ssn: u16, ppid: u32) {
    buf.extend_from_slice(&tsn.to_be_bytes());
    buf.extend_from_slice(&stream.to_be_bytes());
    buf.extend_from_slice(&ssn.to_be_bytes());
    buf.extend_from_slice(&ppid.to_be_bytes());
}
