//! SHUTDOWN, SHUTDOWN ACK and SHUTDOWN COMPLETE chunks (RFC 9260 §3.3.8, §3.3.9, §3.3.13).

use super::{be32, chunk_type, emit_chunk_header, RawChunk};
use crate::Error;

/// SHUTDOWN: the sender's cumulative TSN ack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shutdown {
    /// Cumulative TSN ack.
    pub cumulative_tsn_ack: u32,
}

impl Shutdown {
    /// Parses the value.
    pub fn parse(raw: &RawChunk<'_>) -> Result<Self, Error> {
        Ok(Shutdown {
            cumulative_tsn_ack: be32(raw.value, 0)?,
        })
    }

    /// Appends the chunk.
    pub fn emit(&self, buf: &mut Vec<u8>) {
        emit_chunk_header(buf, chunk_type::SHUTDOWN, 0, 4);
        buf.extend_from_slice(&self.cumulative_tsn_ack.to_be_bytes());
    }
}

/// SHUTDOWN ACK (no value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ShutdownAck;

impl ShutdownAck {
    /// Appends the chunk.
    pub fn emit(&self, buf: &mut Vec<u8>) {
        emit_chunk_header(buf, chunk_type::SHUTDOWN_ACK, 0, 0);
    }
}

/// SHUTDOWN COMPLETE, with the T bit (verification tag reflected).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ShutdownComplete {
    /// The T bit: the packet carries the receiver's own tag rather than the peer's.
    pub tag_reflected: bool,
}

impl ShutdownComplete {
    /// Parses the flags.
    #[must_use]
    pub fn parse(raw: &RawChunk<'_>) -> Self {
        ShutdownComplete {
            tag_reflected: raw.flags & 1 != 0,
        }
    }

    /// Appends the chunk.
    pub fn emit(&self, buf: &mut Vec<u8>) {
        emit_chunk_header(
            buf,
            chunk_type::SHUTDOWN_COMPLETE,
            u8::from(self.tag_reflected),
            0,
        );
    }
}
