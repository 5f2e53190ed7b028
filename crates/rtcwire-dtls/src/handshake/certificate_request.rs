//! CertificateRequest (RFC 5246 §7.4.4).

use crate::codec::{Put, Reader};
use crate::Error;

/// `ClientCertificateType.rsa_sign`.
pub const RSA_SIGN: u8 = 1;
/// `ClientCertificateType.ecdsa_sign`.
pub const ECDSA_SIGN: u8 = 64;

/// A CertificateRequest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRequest {
    /// Acceptable certificate types.
    pub certificate_types: Vec<u8>,
    /// Acceptable signature scheme code points.
    pub signature_algorithms: Vec<u16>,
    /// The `certificate_authorities` block, kept raw (WebRTC peers send it empty).
    pub authorities: Vec<u8>,
}

impl CertificateRequest {
    /// Decodes the message body.
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body);
        let types = r.vec8().ok_or_else(|| r.err("CertificateRequest"))?;
        let algs = r
            .vec16()
            .filter(|a| a.len() % 2 == 0)
            .ok_or_else(|| r.err("CertificateRequest"))?;
        let authorities = r.vec16().ok_or_else(|| r.err("CertificateRequest"))?;
        if !r.is_empty() {
            return Err(Error::Malformed("CertificateRequest"));
        }
        Ok(CertificateRequest {
            certificate_types: types.to_vec(),
            signature_algorithms: algs
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect(),
            authorities: authorities.to_vec(),
        })
    }

    /// Appends the message body.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.put_vec8(&self.certificate_types);
        let n = self.signature_algorithms.len().min(0x7fff);
        out.put_u16((n * 2) as u16);
        for a in self.signature_algorithms.iter().take(n) {
            out.put_u16(*a);
        }
        out.put_vec16(&self.authorities);
    }
}
