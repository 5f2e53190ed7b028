//! ABORT and ERROR chunks (RFC 9260 §3.3.7, §3.3.10) and their error causes.

use super::{chunk_type, emit_chunk_header, pad_from, RawChunk};
use crate::Error;

/// Error cause codes this crate sends (RFC 9260 §3.3.10).
pub mod cause {
    /// Invalid stream identifier.
    pub const INVALID_STREAM: u16 = 1;
    /// Protocol violation.
    pub const PROTOCOL_VIOLATION: u16 = 13;
    /// User-initiated abort.
    pub const USER_ABORT: u16 = 12;
    /// Out of resource.
    pub const OUT_OF_RESOURCE: u16 = 4;
    /// Cookie received while shutting down (RFC 9260 §3.3.10.10).
    pub const COOKIE_WHILE_SHUTTING_DOWN: u16 = 10;
}

/// ABORT: the T bit and the error causes (kept as wire bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Abort<'a> {
    /// The T bit: the packet carries the receiver's own tag.
    pub tag_reflected: bool,
    /// Error causes as on the wire (each a TLV).
    pub causes: &'a [u8],
}

impl<'a> Abort<'a> {
    /// Parses the value.
    pub fn parse(raw: &RawChunk<'a>) -> Result<Self, Error> {
        Ok(Abort {
            tag_reflected: raw.flags & 1 != 0,
            causes: raw.value,
        })
    }

    /// The first cause code, if any.
    #[must_use]
    pub fn first_cause(&self) -> Option<u16> {
        first_cause(self.causes)
    }

    /// Appends the chunk.
    pub fn emit(&self, buf: &mut Vec<u8>) {
        let start = buf.len();
        emit_chunk_header(
            buf,
            chunk_type::ABORT,
            u8::from(self.tag_reflected),
            self.causes.len(),
        );
        buf.extend_from_slice(self.causes);
        pad_from(buf, start);
    }
}

/// ERROR: operation errors (kept as wire bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorChunk<'a> {
    /// Error causes as on the wire.
    pub causes: &'a [u8],
}

impl<'a> ErrorChunk<'a> {
    /// Parses the value.
    pub fn parse(raw: &RawChunk<'a>) -> Result<Self, Error> {
        Ok(ErrorChunk { causes: raw.value })
    }

    /// The first cause code, if any.
    #[must_use]
    pub fn first_cause(&self) -> Option<u16> {
        first_cause(self.causes)
    }

    /// Appends the chunk.
    pub fn emit(&self, buf: &mut Vec<u8>) {
        let start = buf.len();
        emit_chunk_header(buf, chunk_type::ERROR, 0, self.causes.len());
        buf.extend_from_slice(self.causes);
        pad_from(buf, start);
    }
}

fn first_cause(causes: &[u8]) -> Option<u16> {
    match causes {
        [a, b, ..] => Some(u16::from_be_bytes([*a, *b])),
        _ => None,
    }
}

/// Appends one error cause with no information besides its code (4 bytes).
pub(crate) fn cause_bytes(code: u16) -> [u8; 4] {
    let c = code.to_be_bytes();
    [c[0], c[1], 0, 4]
}
