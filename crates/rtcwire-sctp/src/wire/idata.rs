//! I-DATA and I-FORWARD-TSN chunks (RFC 8260 §2.1, §2.3): DATA with a message identifier
//! and fragment sequence number, so that messages of different streams can interleave.

use super::chunk_type::{I_DATA, I_FORWARD_TSN};
use super::forward_tsn::{Forward, SkippedEntry};
use super::list::Item;
use super::{be16, be32, emit_chunk_header, need, pad_from, RawChunk};
use crate::Error;

/// Bytes of an I-DATA chunk's value before the user data.
pub const IDATA_HEADER_LEN: usize = 16;

/// An I-DATA chunk. Flags are those of DATA (`data_flags`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IData<'a> {
    /// Flags (U, B, E, I).
    pub flags: u8,
    /// Transmission sequence number.
    pub tsn: u32,
    /// Stream identifier.
    pub stream: u16,
    /// Message identifier.
    pub mid: u32,
    /// The PPID on the first fragment (B set), the fragment sequence number otherwise.
    pub ppid_or_fsn: u32,
    /// User data (never empty).
    pub payload: &'a [u8],
}

impl<'a> IData<'a> {
    /// Parses the value of an I-DATA chunk.
    pub fn parse(raw: &RawChunk<'a>) -> Result<Self, Error> {
        let v = raw.value;
        need(v, IDATA_HEADER_LEN)?;
        let payload = &v[IDATA_HEADER_LEN..];
        if payload.is_empty() {
            return Err(Error::EmptyData);
        }
        Ok(IData {
            flags: raw.flags,
            tsn: be32(v, 0)?,
            stream: be16(v, 4)?,
            mid: be32(v, 8)?,
            ppid_or_fsn: be32(v, 12)?,
            payload,
        })
    }

    /// Length of the value.
    #[must_use]
    pub fn value_len(&self) -> usize {
        IDATA_HEADER_LEN + self.payload.len()
    }

    /// Appends the chunk.
    pub fn emit(&self, buf: &mut Vec<u8>) {
        let start = buf.len();
        emit_chunk_header(buf, I_DATA, self.flags, self.value_len());
        emit_header(buf, self.tsn, self.stream, self.mid, self.ppid_or_fsn);
        buf.extend_from_slice(self.payload);
        pad_from(buf, start);
    }
}

/// Appends the 16 bytes after the chunk header of an I-DATA chunk.
pub(crate) fn emit_header(buf: &mut Vec<u8>, tsn: u32, stream: u16, mid: u32, ppid_or_fsn: u32) {
    buf.extend_from_slice(&tsn.to_be_bytes());
    buf.extend_from_slice(&stream.to_be_bytes());
    buf.extend_from_slice(&[0, 0]);
    buf.extend_from_slice(&mid.to_be_bytes());
    buf.extend_from_slice(&ppid_or_fsn.to_be_bytes());
}

/// One I-FORWARD-TSN entry: skip messages up to `mid` on `stream` (ordered or not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamMid {
    /// Stream identifier.
    pub stream: u16,
    /// The U bit: the entry is for unordered messages.
    pub unordered: bool,
    /// Message identifier.
    pub mid: u32,
}

impl Item for StreamMid {
    const SIZE: usize = 8;
    fn read(b: &[u8]) -> Self {
        StreamMid {
            stream: u16::read(b),
            unordered: b.get(3).is_some_and(|f| f & 1 != 0),
            mid: u32::read(b.get(4..).unwrap_or(&[])),
        }
    }
    fn write(&self, buf: &mut Vec<u8>) {
        self.stream.write(buf);
        buf.extend_from_slice(&[0, u8::from(self.unordered)]);
        self.mid.write(buf);
    }
}

impl SkippedEntry for StreamMid {
    const CHUNK_TYPE: u8 = I_FORWARD_TSN;
}

/// I-FORWARD-TSN: streams, ordered or not, and the last message identifier skipped on each.
pub type IForwardTsn<'a> = Forward<'a, StreamMid>;
