//! Hello extensions: the ones DTLS-SRTP needs, typed; every other one kept as bytes.

use crate::codec::{Put, Reader};
use crate::Error;

/// `supported_groups` (RFC 8422).
pub const SUPPORTED_GROUPS: u16 = 10;
/// `ec_point_formats` (RFC 8422).
pub const EC_POINT_FORMATS: u16 = 11;
/// `signature_algorithms` (RFC 5246).
pub const SIGNATURE_ALGORITHMS: u16 = 13;
/// `use_srtp` (RFC 5764).
pub const USE_SRTP: u16 = 14;
/// `extended_master_secret` (RFC 7627).
pub const EXTENDED_MASTER_SECRET: u16 = 23;
/// `renegotiation_info` (RFC 5746).
pub const RENEGOTIATION_INFO: u16 = 0xff01;
/// `connection_id` (RFC 9146 §3; DTLS 1.3 uses the same extension, RFC 9147 §9).
pub const CONNECTION_ID: u16 = 54;
/// Longest connection id the extension can carry (`opaque cid<0..2^8-1>`).
pub const MAX_CID_LEN: usize = 255;

/// Most extensions we keep from one hello (Chromium sends about a dozen).
const MAX_EXTENSIONS: usize = 64;

/// The `use_srtp` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UseSrtp {
    /// Protection profile ids, in the sender's preference order.
    pub profiles: Vec<u16>,
    /// `srtp_mki` (WebRTC sends it empty).
    pub mki: Vec<u8>,
}

/// The extensions of a ClientHello or ServerHello.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extensions {
    /// `supported_groups` code points.
    pub supported_groups: Option<Vec<u16>>,
    /// `ec_point_formats`.
    pub ec_point_formats: Option<Vec<u8>>,
    /// `signature_algorithms` code points.
    pub signature_algorithms: Option<Vec<u16>>,
    /// `use_srtp`.
    pub use_srtp: Option<UseSrtp>,
    /// `extended_master_secret` present.
    pub extended_master_secret: bool,
    /// `renegotiation_info`'s `renegotiated_connection` (empty on an initial handshake).
    pub renegotiation_info: Option<Vec<u8>>,
    /// `connection_id`: the CID the sender wants to find in records sent to it (empty: it
    /// can send CIDs but needs none).
    pub connection_id: Option<Vec<u8>>,
    /// Everything else, in order: ignored, kept so that encode(decode(x)) loses nothing.
    pub unknown: Vec<(u16, Vec<u8>)>,
}

fn u16_list(body: &[u8]) -> Option<Vec<u16>> {
    let mut r = Reader::new(body);
    let list = r.vec16()?;
    if !r.is_empty() || list.len() % 2 != 0 {
        return None;
    }
    Some(
        list.chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect(),
    )
}

fn put_u16_list(out: &mut Vec<u8>, list: &[u16]) {
    let n = list.len().min(0x7fff);
    out.put_u16((n * 2) as u16);
    for v in list.iter().take(n) {
        out.put_u16(*v);
    }
}

impl Extensions {
    /// Decodes the extensions block (including its `u16` length). An absent block (a hello
    /// that ends after compression methods) is an empty set.
    pub(crate) fn parse(r: &mut Reader<'_>) -> Result<Extensions, Error> {
        let mut ext = Extensions::default();
        if r.is_empty() {
            return Ok(ext);
        }
        let block = r.vec16().ok_or_else(|| r.err("extensions"))?;
        let mut r = Reader::new(block);
        let mut seen = Vec::new();
        while !r.is_empty() {
            let (ty, body) = match (r.u16(), r.vec16()) {
                (Some(t), Some(b)) => (t, b),
                _ => return Err(r.err("extension")),
            };
            if seen.contains(&ty) || seen.len() >= MAX_EXTENSIONS {
                return Err(Error::Malformed("duplicate or too many extensions"));
            }
            seen.push(ty);
            let bad = || Error::Malformed("extension body");
            match ty {
                SUPPORTED_GROUPS => ext.supported_groups = Some(u16_list(body).ok_or_else(bad)?),
                SIGNATURE_ALGORITHMS => {
                    ext.signature_algorithms = Some(u16_list(body).ok_or_else(bad)?);
                }
                EC_POINT_FORMATS => {
                    let mut b = Reader::new(body);
                    let list = b.vec8().filter(|_| b.is_empty()).ok_or_else(bad)?;
                    ext.ec_point_formats = Some(list.to_vec());
                }
                USE_SRTP => {
                    let mut b = Reader::new(body);
                    let list = b.vec16().filter(|l| l.len() % 2 == 0).ok_or_else(bad)?;
                    let mki = b.vec8().filter(|_| b.is_empty()).ok_or_else(bad)?;
                    ext.use_srtp = Some(UseSrtp {
                        profiles: list
                            .chunks_exact(2)
                            .map(|c| u16::from_be_bytes([c[0], c[1]]))
                            .collect(),
                        mki: mki.to_vec(),
                    });
                }
                EXTENDED_MASTER_SECRET => {
                    if !body.is_empty() {
                        return Err(bad());
                    }
                    ext.extended_master_secret = true;
                }
                RENEGOTIATION_INFO => {
                    let mut b = Reader::new(body);
                    let v = b.vec8().filter(|_| b.is_empty()).ok_or_else(bad)?;
                    ext.renegotiation_info = Some(v.to_vec());
                }
                CONNECTION_ID => {
                    let mut b = Reader::new(body);
                    let cid = b.vec8().filter(|_| b.is_empty()).ok_or_else(bad)?;
                    ext.connection_id = Some(cid.to_vec());
                }
                _ => ext.unknown.push((ty, body.to_vec())),
            }
        }
        Ok(ext)
    }

    /// Appends the extensions block with its `u16` length. Known extensions come first in a
    /// fixed order, then the unknown ones as kept.
    pub fn emit(&self, out: &mut Vec<u8>) {
        let mut b = Vec::new();
        let mut put = |ty: u16, body: &[u8]| {
            b.put_u16(ty);
            b.put_vec16(body);
        };
        if let Some(v) = &self.renegotiation_info {
            let mut body = Vec::new();
            body.put_vec8(v);
            put(RENEGOTIATION_INFO, &body);
        }
        if self.extended_master_secret {
            put(EXTENDED_MASTER_SECRET, &[]);
        }
        if let Some(v) = &self.supported_groups {
            let mut body = Vec::new();
            put_u16_list(&mut body, v);
            put(SUPPORTED_GROUPS, &body);
        }
        if let Some(v) = &self.ec_point_formats {
            let mut body = Vec::new();
            body.put_vec8(v);
            put(EC_POINT_FORMATS, &body);
        }
        if let Some(v) = &self.signature_algorithms {
            let mut body = Vec::new();
            put_u16_list(&mut body, v);
            put(SIGNATURE_ALGORITHMS, &body);
        }
        if let Some(s) = &self.use_srtp {
            let mut body = Vec::new();
            put_u16_list(&mut body, &s.profiles);
            body.put_vec8(&s.mki);
            put(USE_SRTP, &body);
        }
        if let Some(cid) = &self.connection_id {
            let mut body = Vec::new();
            body.put_vec8(cid.get(..MAX_CID_LEN).unwrap_or(cid));
            put(CONNECTION_ID, &body);
        }
        for (ty, body) in &self.unknown {
            put(*ty, body);
        }
        out.put_vec16(&b);
    }
}
