//! ServerKeyExchange and ClientKeyExchange for ECDHE (RFC 8422 §5.4, §5.7).

use crate::codec::{Put, Reader};
use crate::Error;

/// `ECCurveType.named_curve`.
const NAMED_CURVE: u8 = 3;

/// A signed ECDHE ServerKeyExchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerKeyExchange {
    /// The group of the key share.
    pub group: u16,
    /// The server's public key share.
    pub public: Vec<u8>,
    /// `SignatureAndHashAlgorithm` code point.
    pub scheme: u16,
    /// The signature over `client_random ‖ server_random ‖ params`.
    pub signature: Vec<u8>,
}

impl ServerKeyExchange {
    /// The `ServerECDHParams` bytes that are signed.
    #[must_use]
    pub fn params(&self) -> Vec<u8> {
        Self::params_of(self.group, &self.public)
    }

    /// `ServerECDHParams` for a group and share.
    #[must_use]
    pub fn params_of(group: u16, public: &[u8]) -> Vec<u8> {
        let mut p = Vec::with_capacity(4 + public.len());
        p.put_u8(NAMED_CURVE);
        p.put_u16(group);
        p.put_vec8(public);
        p
    }

    /// Decodes the message body.
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body);
        match r.u8() {
            Some(NAMED_CURVE) => {}
            Some(_) => return Err(Error::Malformed("ServerKeyExchange")),
            None => return Err(r.err("ServerKeyExchange")),
        }
        let group = r.u16().ok_or_else(|| r.err("ServerKeyExchange"))?;
        let public = r
            .vec8()
            .filter(|p| !p.is_empty())
            .ok_or_else(|| r.err("ServerKeyExchange"))?;
        let scheme = r.u16().ok_or_else(|| r.err("ServerKeyExchange"))?;
        let signature = r.vec16().ok_or_else(|| r.err("ServerKeyExchange"))?;
        if !r.is_empty() {
            return Err(Error::Malformed("ServerKeyExchange"));
        }
        Ok(ServerKeyExchange {
            group,
            public: public.to_vec(),
            scheme,
            signature: signature.to_vec(),
        })
    }

    /// Appends the message body.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.params());
        out.put_u16(self.scheme);
        out.put_vec16(&self.signature);
    }
}

/// An ECDHE ClientKeyExchange: the client's public key share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientKeyExchange {
    /// The client's public key share.
    pub public: Vec<u8>,
}

impl ClientKeyExchange {
    /// Decodes the message body.
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body);
        match r.vec8() {
            Some(p) if r.is_empty() && !p.is_empty() => {
                Ok(ClientKeyExchange { public: p.to_vec() })
            }
            _ => Err(r.err("ClientKeyExchange")),
        }
    }

    /// Appends the message body.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.put_vec8(&self.public);
    }
}
