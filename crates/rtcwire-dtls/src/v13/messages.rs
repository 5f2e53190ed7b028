//! DTLS 1.3 handshake message bodies and extensions (RFC 8446 §4 with RFC 9147 §5): the
//! hellos reuse the DTLS 1.2 codecs with the 1.3 extensions read from their raw list.

use crate::codec::{Put, Reader};
use crate::handshake::{CertificateVerify, ClientHello, Extensions, ServerHello};
use crate::Error;

pub const SUPPORTED_VERSIONS: u16 = 43;
pub const COOKIE: u16 = 44;
pub const KEY_SHARE: u16 = 51;

/// DTLS 1.3's version number on the wire.
pub const DTLS13: u16 = 0xfefc;
pub const DTLS12: u16 = 0xfefd;

/// ServerHello.random of a HelloRetryRequest (SHA-256 of "HelloRetryRequest").
pub const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// The last 8 bytes of a 1.2 ServerHello.random from a server that could do 1.3 (RFC 8446
/// §4.1.3).
pub const DOWNGRADE_TLS12: [u8; 8] = *b"DOWNGRD\x01";

/// Handshake message types used by 1.3 only.
pub const NEW_SESSION_TICKET: u8 = 4;
pub const ENCRYPTED_EXTENSIONS: u8 = 8;
pub const KEY_UPDATE: u8 = 24;
/// RFC 9147 §9.
pub const NEW_CONNECTION_ID: u8 = 44;
pub const REQUEST_CONNECTION_ID: u8 = 45;
/// Most ids read from a NewConnectionId.
const MAX_NEW_CIDS: usize = 8;
pub const MESSAGE_HASH: u8 = 254;

/// Most key shares read from a ClientHello.
const MAX_SHARES: usize = 8;
/// Most certificates read from a Certificate.
const MAX_CHAIN: usize = 8;
/// Most record numbers read from an ACK.
pub const MAX_ACKS: usize = 64;

/// A raw extension by type.
pub fn ext(e: &Extensions, ty: u16) -> Option<&[u8]> {
    e.unknown
        .iter()
        .find(|(t, _)| *t == ty)
        .map(|(_, b)| b.as_slice())
}

/// Sets (or replaces) a raw extension.
pub fn set_ext(e: &mut Extensions, ty: u16, body: Vec<u8>) {
    e.unknown.retain(|(t, _)| *t != ty);
    e.unknown.push((ty, body));
}

/// ClientHello.supported_versions.
pub fn client_versions(e: &Extensions) -> Option<Vec<u16>> {
    let mut r = Reader::new(ext(e, SUPPORTED_VERSIONS)?);
    let list = r.vec8()?;
    if !r.is_empty() || list.len() % 2 != 0 {
        return None;
    }
    Some(
        list.chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect(),
    )
}

pub fn client_versions_body(versions: &[u16]) -> Vec<u8> {
    let mut b = Vec::new();
    b.put_u8((versions.len() * 2).min(254) as u8);
    for v in versions.iter().take(127) {
        b.put_u16(*v);
    }
    b
}

/// ServerHello.supported_versions (the selected version).
pub fn server_version(e: &Extensions) -> Option<u16> {
    let mut r = Reader::new(ext(e, SUPPORTED_VERSIONS)?);
    let v = r.u16()?;
    r.is_empty().then_some(v)
}

/// ClientHello.key_share: `(group, key_exchange)` entries (at most `MAX_SHARES`).
pub fn client_shares(e: &Extensions) -> Result<Vec<(u16, &[u8])>, Error> {
    let Some(body) = ext(e, KEY_SHARE) else {
        return Ok(Vec::new());
    };
    let bad = Error::Malformed("key_share");
    let mut r = Reader::new(body);
    let list = r.vec16().filter(|_| r.is_empty()).ok_or(bad.clone())?;
    let mut r = Reader::new(list);
    let mut out = Vec::new();
    while !r.is_empty() {
        let (Some(g), Some(k)) = (r.u16(), r.vec16()) else {
            return Err(bad);
        };
        if out.len() >= MAX_SHARES || k.is_empty() {
            return Err(bad);
        }
        out.push((g, k));
    }
    Ok(out)
}

pub fn client_shares_body(shares: &[(u16, &[u8])]) -> Vec<u8> {
    let mut list = Vec::new();
    for (g, k) in shares {
        list.put_u16(*g);
        list.put_vec16(k);
    }
    let mut b = Vec::new();
    b.put_vec16(&list);
    b
}

/// ServerHello.key_share: one entry.
pub fn server_share(e: &Extensions) -> Option<(u16, &[u8])> {
    let mut r = Reader::new(ext(e, KEY_SHARE)?);
    let g = r.u16()?;
    let k = r.vec16()?;
    r.is_empty().then_some((g, k))
}

pub fn server_share_body(group: u16, key: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    b.put_u16(group);
    b.put_vec16(key);
    b
}

/// HelloRetryRequest.key_share: the selected group.
pub fn hrr_group(e: &Extensions) -> Option<u16> {
    let mut r = Reader::new(ext(e, KEY_SHARE)?);
    let g = r.u16()?;
    r.is_empty().then_some(g)
}

/// The cookie extension's value.
pub fn cookie(e: &Extensions) -> Option<&[u8]> {
    let mut r = Reader::new(ext(e, COOKIE)?);
    let c = r.vec16()?;
    (r.is_empty() && !c.is_empty()).then_some(c)
}

pub fn cookie_body(c: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    b.put_vec16(c);
    b
}

/// A parsed DTLS 1.3 handshake message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum Msg13 {
    ClientHello(ClientHello),
    ServerHello(ServerHello),
    EncryptedExtensions(Extensions),
    CertificateRequest {
        context: Vec<u8>,
        ext: Extensions,
    },
    Certificate {
        context: Vec<u8>,
        chain: Vec<Vec<u8>>,
    },
    CertificateVerify(CertificateVerify),
    Finished(Vec<u8>),
    KeyUpdate {
        request: bool,
    },
    NewSessionTicket,
    /// RFC 9147 §9: ids the peer offers (`immediate`: use the first one now).
    NewConnectionId {
        cids: Vec<Vec<u8>>,
        immediate: bool,
    },
    /// RFC 9147 §9: the peer asks for `num` more ids.
    RequestConnectionId {
        num: u8,
    },
}

impl Msg13 {
    pub fn name(&self) -> &'static str {
        match self {
            Msg13::ClientHello(_) => "ClientHello",
            Msg13::ServerHello(_) => "ServerHello",
            Msg13::EncryptedExtensions(_) => "EncryptedExtensions",
            Msg13::CertificateRequest { .. } => "CertificateRequest",
            Msg13::Certificate { .. } => "Certificate",
            Msg13::CertificateVerify(_) => "CertificateVerify",
            Msg13::Finished(_) => "Finished",
            Msg13::KeyUpdate { .. } => "KeyUpdate",
            Msg13::NewSessionTicket => "NewSessionTicket",
            Msg13::NewConnectionId { .. } => "NewConnectionId",
            Msg13::RequestConnectionId { .. } => "RequestConnectionId",
        }
    }

    pub fn code(&self) -> u8 {
        match self {
            Msg13::ClientHello(_) => 1,
            Msg13::ServerHello(_) => 2,
            Msg13::EncryptedExtensions(_) => ENCRYPTED_EXTENSIONS,
            Msg13::CertificateRequest { .. } => 13,
            Msg13::Certificate { .. } => 11,
            Msg13::CertificateVerify(_) => 15,
            Msg13::Finished(_) => 20,
            Msg13::KeyUpdate { .. } => KEY_UPDATE,
            Msg13::NewSessionTicket => NEW_SESSION_TICKET,
            Msg13::NewConnectionId { .. } => NEW_CONNECTION_ID,
            Msg13::RequestConnectionId { .. } => REQUEST_CONNECTION_ID,
        }
    }

    /// Decodes a message body of type `msg_type`.
    pub fn parse(msg_type: u8, body: &[u8]) -> Result<Msg13, Error> {
        let mut r = Reader::new(body);
        let m = match msg_type {
            1 => return ClientHello::parse(body).map(Msg13::ClientHello),
            2 => return ServerHello::parse(body).map(Msg13::ServerHello),
            ENCRYPTED_EXTENSIONS => {
                let e = Extensions::parse(&mut r)?;
                if body.is_empty() {
                    return Err(Error::Malformed("EncryptedExtensions"));
                }
                Msg13::EncryptedExtensions(e)
            }
            13 => {
                let context = r
                    .vec8()
                    .ok_or_else(|| r.err("CertificateRequest"))?
                    .to_vec();
                if r.is_empty() {
                    return Err(Error::Malformed("CertificateRequest"));
                }
                Msg13::CertificateRequest {
                    context,
                    ext: Extensions::parse(&mut r)?,
                }
            }
            11 => {
                let context = r.vec8().ok_or_else(|| r.err("Certificate"))?.to_vec();
                let list = r.vec24().ok_or_else(|| r.err("Certificate"))?;
                let mut l = Reader::new(list);
                let mut chain = Vec::new();
                while !l.is_empty() {
                    let (Some(c), Some(_exts)) = (l.vec24(), l.vec16()) else {
                        return Err(Error::Malformed("CertificateEntry"));
                    };
                    if chain.len() >= MAX_CHAIN || c.is_empty() {
                        return Err(Error::Malformed("Certificate chain"));
                    }
                    chain.push(c.to_vec());
                }
                Msg13::Certificate { context, chain }
            }
            15 => return CertificateVerify::parse(body).map(Msg13::CertificateVerify),
            20 => {
                if body.len() > 64 || body.is_empty() {
                    return Err(Error::Malformed("Finished"));
                }
                return Ok(Msg13::Finished(body.to_vec()));
            }
            KEY_UPDATE => {
                return match body {
                    [0] => Ok(Msg13::KeyUpdate { request: false }),
                    [1] => Ok(Msg13::KeyUpdate { request: true }),
                    _ => Err(Error::Malformed("KeyUpdate")),
                }
            }
            NEW_SESSION_TICKET => return Ok(Msg13::NewSessionTicket),
            NEW_CONNECTION_ID => {
                let list = r.vec16().ok_or_else(|| r.err("NewConnectionId"))?;
                let usage = r.u8().ok_or_else(|| r.err("NewConnectionId"))?;
                let mut l = Reader::new(list);
                let mut cids = Vec::new();
                while !l.is_empty() {
                    let c = l.vec8().ok_or(Error::Malformed("ConnectionId"))?;
                    if cids.len() >= MAX_NEW_CIDS {
                        return Err(Error::Malformed("too many connection ids"));
                    }
                    cids.push(c.to_vec());
                }
                if usage > 1 {
                    return Err(Error::Malformed("ConnectionIdUsage"));
                }
                Msg13::NewConnectionId {
                    cids,
                    immediate: usage == 0,
                }
            }
            REQUEST_CONNECTION_ID => match body {
                [n] => return Ok(Msg13::RequestConnectionId { num: *n }),
                _ => return Err(Error::Malformed("RequestConnectionId")),
            },
            _ => return Err(Error::Malformed("handshake type")),
        };
        if !r.is_empty() {
            return Err(Error::Malformed("trailing bytes"));
        }
        Ok(m)
    }

    /// Encodes the body.
    pub fn emit_body(&self, out: &mut Vec<u8>) {
        match self {
            Msg13::ClientHello(m) => m.emit(out),
            Msg13::ServerHello(m) => m.emit(out),
            Msg13::EncryptedExtensions(e) => e.emit(out),
            Msg13::CertificateRequest { context, ext } => {
                out.put_vec8(context);
                ext.emit(out);
            }
            Msg13::Certificate { context, chain } => {
                out.put_vec8(context);
                let mut list = Vec::new();
                for c in chain {
                    list.put_vec24(c);
                    list.put_u16(0);
                }
                out.put_vec24(&list);
            }
            Msg13::CertificateVerify(cv) => cv.emit(out),
            Msg13::Finished(v) => out.extend_from_slice(v),
            Msg13::KeyUpdate { request } => out.put_u8(u8::from(*request)),
            Msg13::NewSessionTicket => {}
            Msg13::NewConnectionId { cids, immediate } => {
                let mut list = Vec::new();
                for c in cids {
                    list.put_vec8(c);
                }
                out.put_vec16(&list);
                out.put_u8(u8::from(!*immediate));
            }
            Msg13::RequestConnectionId { num } => out.put_u8(*num),
        }
    }
}

/// Parses an ACK record body: `(epoch, sequence)` pairs (at most [`MAX_ACKS`] kept).
pub fn parse_ack(body: &[u8]) -> Option<Vec<(u64, u64)>> {
    let mut r = Reader::new(body);
    let list = r.vec16()?;
    if !r.is_empty() || list.len() % 16 != 0 {
        return None;
    }
    Some(
        list.chunks_exact(16)
            .take(MAX_ACKS)
            .filter_map(|c| {
                let e = u64::from_be_bytes(c.get(..8)?.try_into().ok()?);
                let s = u64::from_be_bytes(c.get(8..)?.try_into().ok()?);
                Some((e, s))
            })
            .collect(),
    )
}

/// Encodes an ACK record body.
pub fn emit_ack(records: &[(u64, u64)], out: &mut Vec<u8>) {
    let n = records.len().min(MAX_ACKS);
    out.put_u16((n * 16) as u16);
    for (e, s) in records.iter().take(n) {
        out.extend_from_slice(&e.to_be_bytes());
        out.extend_from_slice(&s.to_be_bytes());
    }
}

/// The TLS-form message (type, 24-bit length, body) the transcript hashes (RFC 9147 §5.2).
pub fn transcript_form(msg_type: u8, body: &[u8], out: &mut Vec<u8>) {
    out.put_u8(msg_type);
    out.put_u24(body.len().min(0xff_ffff) as u32);
    out.extend_from_slice(body);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(m: &Msg13) {
        let mut b = Vec::new();
        m.emit_body(&mut b);
        assert_eq!(&Msg13::parse(m.code(), &b).unwrap(), m);
    }

    #[test]
    fn messages_round_trip() {
        let mut ext = Extensions {
            signature_algorithms: Some(vec![0x0403]),
            ..Extensions::default()
        };
        round_trip(&Msg13::CertificateRequest {
            context: vec![],
            ext: ext.clone(),
        });
        round_trip(&Msg13::Certificate {
            context: vec![1, 2],
            chain: vec![vec![0x30, 1, 2], vec![9; 300]],
        });
        round_trip(&Msg13::KeyUpdate { request: true });
        round_trip(&Msg13::NewConnectionId {
            cids: vec![vec![1, 2, 3], vec![]],
            immediate: true,
        });
        round_trip(&Msg13::NewConnectionId {
            cids: vec![vec![9; 20]],
            immediate: false,
        });
        round_trip(&Msg13::RequestConnectionId { num: 2 });
        round_trip(&Msg13::Finished(vec![7; 32]));
        set_ext(&mut ext, KEY_SHARE, server_share_body(29, &[5; 32]));
        round_trip(&Msg13::EncryptedExtensions(ext.clone()));
        assert_eq!(server_share(&ext), Some((29, &[5u8; 32][..])));
    }

    #[test]
    fn hrr_random_is_sha256_of_its_name() {
        let d = ring::digest::digest(&ring::digest::SHA256, b"HelloRetryRequest");
        assert_eq!(d.as_ref(), &HRR_RANDOM);
    }

    proptest! {
        #[test]
        fn any_body_parses_or_errs(t in prop::sample::select(vec![1u8, 2, 4, 8, 11, 13, 15, 20, 24, 99]),
                                   body in prop::collection::vec(any::<u8>(), 0..300)) {
            let _ = Msg13::parse(t, &body);
            let _ = parse_ack(&body);
        }

        #[test]
        fn acks_round_trip(recs in prop::collection::vec((any::<u64>(), any::<u64>()), 0..40)) {
            let mut b = Vec::new();
            emit_ack(&recs, &mut b);
            prop_assert_eq!(parse_ack(&b), Some(recs));
        }

        #[test]
        fn shares_round_trip(shares in prop::collection::vec((any::<u16>(), prop::collection::vec(any::<u8>(), 1..100)), 0..8)) {
            let refs: Vec<(u16, &[u8])> = shares.iter().map(|(g, k)| (*g, k.as_slice())).collect();
            let mut e = Extensions::default();
            set_ext(&mut e, KEY_SHARE, client_shares_body(&refs));
            prop_assert_eq!(client_shares(&e).unwrap(), refs);
        }
    }
}
