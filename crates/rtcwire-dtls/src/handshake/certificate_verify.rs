//! CertificateVerify (RFC 5246 §7.4.8): the client proves it holds its certificate's key.

use crate::codec::{Put, Reader};
use crate::Error;

/// A CertificateVerify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateVerify {
    /// `SignatureAndHashAlgorithm` code point.
    pub scheme: u16,
    /// Signature over every handshake message so far.
    pub signature: Vec<u8>,
}

impl CertificateVerify {
    /// Decodes the message body.
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body);
        match (r.u16(), r.vec16()) {
            (Some(scheme), Some(sig)) if r.is_empty() => Ok(CertificateVerify {
                scheme,
                signature: sig.to_vec(),
            }),
            _ => Err(r.err("CertificateVerify")),
        }
    }

    /// Appends the message body.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.put_u16(self.scheme);
        out.put_vec16(&self.signature);
    }
}
