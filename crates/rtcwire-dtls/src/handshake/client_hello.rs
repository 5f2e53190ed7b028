//! ClientHello (RFC 6347 §4.2.1: with the DTLS cookie field).

use super::extensions::Extensions;
use crate::codec::{Put, Reader};
use crate::Error;

/// A ClientHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHello {
    /// `client_version` (DTLS 1.2 is `0xfefd`).
    pub version: u16,
    /// `random`.
    pub random: [u8; 32],
    /// `session_id` (at most 32 bytes).
    pub session_id: Vec<u8>,
    /// The HelloVerifyRequest cookie echoed back (empty on the first hello).
    pub cookie: Vec<u8>,
    /// Offered cipher suite code points, in preference order.
    pub cipher_suites: Vec<u16>,
    /// Compression methods (must contain null, 0).
    pub compression_methods: Vec<u8>,
    /// Extensions.
    pub extensions: Extensions,
}

impl ClientHello {
    /// Decodes the message body.
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body);
        let version = r.u16().ok_or_else(|| r.err("ClientHello"))?;
        let random = r.array::<32>().ok_or_else(|| r.err("ClientHello"))?;
        let session_id = r
            .vec8()
            .filter(|s| s.len() <= 32)
            .ok_or_else(|| r.err("ClientHello"))?;
        let cookie = r.vec8().ok_or_else(|| r.err("ClientHello"))?;
        let suites = r
            .vec16()
            .filter(|s| s.len() % 2 == 0)
            .ok_or_else(|| r.err("ClientHello"))?;
        let compression = r.vec8().ok_or_else(|| r.err("ClientHello"))?;
        let extensions = Extensions::parse(&mut r)?;
        if !r.is_empty() {
            return Err(Error::Malformed("ClientHello"));
        }
        Ok(ClientHello {
            version,
            random,
            session_id: session_id.to_vec(),
            cookie: cookie.to_vec(),
            cipher_suites: suites
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect(),
            compression_methods: compression.to_vec(),
            extensions,
        })
    }

    /// Appends the message body.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.put_u16(self.version);
        out.extend_from_slice(&self.random);
        out.put_vec8(&self.session_id);
        out.put_vec8(&self.cookie);
        let n = self.cipher_suites.len().min(0x7fff);
        out.put_u16((n * 2) as u16);
        for s in self.cipher_suites.iter().take(n) {
            out.put_u16(*s);
        }
        out.put_vec8(&self.compression_methods);
        self.extensions.emit(out);
    }
}
