//! ServerHello.

use super::extensions::Extensions;
use crate::codec::{Put, Reader};
use crate::Error;

/// A ServerHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    /// `server_version`.
    pub version: u16,
    /// `random`.
    pub random: [u8; 32],
    /// `session_id` (at most 32 bytes).
    pub session_id: Vec<u8>,
    /// The chosen suite.
    pub cipher_suite: u16,
    /// The chosen compression method (0).
    pub compression_method: u8,
    /// Extensions.
    pub extensions: Extensions,
}

impl ServerHello {
    /// Decodes the message body.
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body);
        let version = r.u16().ok_or_else(|| r.err("ServerHello"))?;
        let random = r.array::<32>().ok_or_else(|| r.err("ServerHello"))?;
        let session_id = r
            .vec8()
            .filter(|s| s.len() <= 32)
            .ok_or_else(|| r.err("ServerHello"))?;
        let cipher_suite = r.u16().ok_or_else(|| r.err("ServerHello"))?;
        let compression_method = r.u8().ok_or_else(|| r.err("ServerHello"))?;
        let extensions = Extensions::parse(&mut r)?;
        if !r.is_empty() {
            return Err(Error::Malformed("ServerHello"));
        }
        Ok(ServerHello {
            version,
            random,
            session_id: session_id.to_vec(),
            cipher_suite,
            compression_method,
            extensions,
        })
    }

    /// Appends the message body.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.put_u16(self.version);
        out.extend_from_slice(&self.random);
        out.put_vec8(&self.session_id);
        out.put_u16(self.cipher_suite);
        out.put_u8(self.compression_method);
        self.extensions.emit(out);
    }
}
