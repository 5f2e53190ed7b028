//! Finished (RFC 5246 §7.4.9).

use crate::Error;

/// A Finished message: 12 bytes of verify_data for TLS 1.2 suites.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// `verify_data`.
    pub verify_data: Vec<u8>,
}

impl Finished {
    /// Decodes the message body (any length up to 64 bytes; the state machine compares it
    /// with the expected 12).
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        if body.len() > 64 {
            return Err(Error::Malformed("Finished"));
        }
        Ok(Finished {
            verify_data: body.to_vec(),
        })
    }

    /// Appends the message body.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.verify_data);
    }
}
