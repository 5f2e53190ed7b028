//! COOKIE ECHO and COOKIE ACK chunks (RFC 9260 §3.3.11, §3.3.12).

use super::{chunk_type, emit_chunk_header, pad_from, RawChunk};

/// COOKIE ECHO: the state cookie, returned as it was received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CookieEcho<'a> {
    /// The opaque cookie.
    pub cookie: &'a [u8],
}

impl<'a> CookieEcho<'a> {
    /// Parses the value.
    #[must_use]
    pub fn parse(raw: &RawChunk<'a>) -> Self {
        CookieEcho { cookie: raw.value }
    }

    /// Appends the chunk.
    pub fn emit(&self, buf: &mut Vec<u8>) {
        let start = buf.len();
        emit_chunk_header(buf, chunk_type::COOKIE_ECHO, 0, self.cookie.len());
        buf.extend_from_slice(self.cookie);
        pad_from(buf, start);
    }
}

/// COOKIE ACK (no value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CookieAck;

impl CookieAck {
    /// Appends the chunk.
    pub fn emit(&self, buf: &mut Vec<u8>) {
        emit_chunk_header(buf, chunk_type::COOKIE_ACK, 0, 0);
    }
}
