//! Certificate: the sender's chain, leaf first.

use crate::codec::{Put, Reader};
use crate::Error;

/// Most certificates we accept in one chain (only the leaf is used).
const MAX_CHAIN: usize = 16;

/// A Certificate message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// DER certificates, leaf first. Empty means "no certificate".
    pub chain: Vec<Vec<u8>>,
}

impl Certificate {
    /// Decodes the message body.
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body);
        let list = r.vec24().ok_or_else(|| r.err("Certificate"))?;
        if !r.is_empty() {
            return Err(Error::Malformed("Certificate"));
        }
        let mut r = Reader::new(list);
        let mut chain = Vec::new();
        while !r.is_empty() {
            let c = r
                .vec24()
                .filter(|c| !c.is_empty())
                .ok_or_else(|| r.err("Certificate"))?;
            if chain.len() >= MAX_CHAIN {
                return Err(Error::Malformed("Certificate"));
            }
            chain.push(c.to_vec());
        }
        Ok(Certificate { chain })
    }

    /// Appends the message body.
    pub fn emit(&self, out: &mut Vec<u8>) {
        let mut list = Vec::new();
        for c in &self.chain {
            list.put_vec24(c);
        }
        out.put_vec24(&list);
    }
}
