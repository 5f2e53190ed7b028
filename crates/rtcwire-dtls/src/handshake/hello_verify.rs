//! HelloVerifyRequest (RFC 6347 §4.2.1).

use crate::codec::{Put, Reader};
use crate::Error;

/// Longest cookie DTLS 1.2 allows.
pub const MAX_COOKIE_LEN: usize = 255;

/// A HelloVerifyRequest: the server's stateless cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelloVerifyRequest {
    /// `server_version` (RFC 6347 recommends DTLS 1.0's `0xfeff` here; any is accepted).
    pub version: u16,
    /// The cookie the client must echo.
    pub cookie: Vec<u8>,
}

impl HelloVerifyRequest {
    /// Decodes the message body.
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body);
        match (r.u16(), r.vec8()) {
            (Some(version), Some(cookie)) if r.is_empty() => Ok(HelloVerifyRequest {
                version,
                cookie: cookie.to_vec(),
            }),
            _ => Err(r.err("HelloVerifyRequest")),
        }
    }

    /// Appends the message body.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.put_u16(self.version);
        out.put_vec8(&self.cookie);
    }
}
