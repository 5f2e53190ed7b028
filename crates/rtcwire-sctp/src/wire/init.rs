//! INIT and INIT ACK chunks (RFC 9260 §3.3.2, §3.3.3) and the TLV parameters they carry.

use super::{be16, be32, emit_chunk_header, need, pad_from, padded, RawChunk};
use crate::Error;

/// Bytes of the fixed part of an INIT / INIT ACK value.
pub(crate) const INIT_FIXED_LEN: usize = 16;

/// Parameter types used in INIT / INIT ACK.
pub mod param_type {
    /// Heartbeat info (in HEARTBEAT).
    pub const HEARTBEAT_INFO: u16 = 1;
    /// State cookie (INIT ACK).
    pub const STATE_COOKIE: u16 = 7;
    /// Supported extensions (RFC 5061): a list of chunk types.
    pub const SUPPORTED_EXTENSIONS: u16 = 0x8008;
    /// Forward-TSN supported (RFC 3758).
    pub const FORWARD_TSN_SUPPORTED: u16 = 0xc000;
    /// Zero checksum acceptable (RFC 9653), with an error detection method id.
    pub const ZERO_CHECKSUM_ACCEPTABLE: u16 = 0x8001;
}

/// INIT: how the sender wants the association.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Init<'a> {
    /// The tag the receiver must put in every packet it sends.
    pub initiate_tag: u32,
    /// Advertised receiver window credit.
    pub a_rwnd: u32,
    /// Number of outbound streams.
    pub outbound_streams: u16,
    /// Maximum number of inbound streams.
    pub inbound_streams: u16,
    /// Initial TSN.
    pub initial_tsn: u32,
    /// Optional/variable-length parameters, as on the wire (checked when parsed).
    pub params: Params<'a>,
}

/// INIT ACK: same layout as INIT; its parameters must hold a state cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InitAck<'a>(pub Init<'a>);

impl<'a> Init<'a> {
    /// Parses the value of an INIT or INIT ACK.
    pub fn parse(raw: &RawChunk<'a>) -> Result<Self, Error> {
        let v = raw.value;
        need(v, INIT_FIXED_LEN)?;
        let params = Params::parse(&v[INIT_FIXED_LEN..])?;
        Ok(Init {
            initiate_tag: be32(v, 0)?,
            a_rwnd: be32(v, 4)?,
            outbound_streams: be16(v, 8)?,
            inbound_streams: be16(v, 10)?,
            initial_tsn: be32(v, 12)?,
            params,
        })
    }

    /// Length of the value.
    #[must_use]
    pub fn value_len(&self) -> usize {
        INIT_FIXED_LEN + self.params.0.len()
    }

    /// Appends the chunk with the given type (INIT or INIT ACK).
    pub fn emit(&self, buf: &mut Vec<u8>, typ: u8) {
        let start = buf.len();
        emit_chunk_header(buf, typ, 0, self.value_len());
        emit_fixed(buf, self);
        buf.extend_from_slice(self.params.0);
        pad_from(buf, start);
    }
}

pub(crate) fn emit_fixed(buf: &mut Vec<u8>, i: &Init<'_>) {
    buf.extend_from_slice(&i.initiate_tag.to_be_bytes());
    buf.extend_from_slice(&i.a_rwnd.to_be_bytes());
    buf.extend_from_slice(&i.outbound_streams.to_be_bytes());
    buf.extend_from_slice(&i.inbound_streams.to_be_bytes());
    buf.extend_from_slice(&i.initial_tsn.to_be_bytes());
}

/// A checked run of TLV parameters (each 4-byte aligned; the last may lack padding).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Params<'a>(pub &'a [u8]);

/// Parameters in a run: at most this many are looked at (a peer cannot make us loop long).
pub(crate) const MAX_PARAMS: usize = 64;

impl<'a> Params<'a> {
    /// Checks that `b` is a sequence of well-formed TLVs.
    pub fn parse(b: &'a [u8]) -> Result<Self, Error> {
        let mut rest = b;
        let mut n = 0;
        while !rest.is_empty() {
            n += 1;
            if n > MAX_PARAMS {
                return Err(Error::TooMany { what: "parameters" });
            }
            let (_, used) = split_param(rest)?;
            rest = rest.get(used..).unwrap_or(&[]);
        }
        Ok(Params(b))
    }

    /// The parameters in order.
    pub fn iter(&self) -> impl Iterator<Item = Param<'a>> + 'a {
        let mut rest = self.0;
        std::iter::from_fn(move || {
            let (p, used) = split_param(rest).ok()?;
            rest = rest.get(used..).unwrap_or(&[]);
            Some(p)
        })
        .take(MAX_PARAMS)
    }

    /// The value of the first parameter of type `typ`.
    #[must_use]
    pub fn find(&self, typ: u16) -> Option<&'a [u8]> {
        self.iter().find(|p| p.typ == typ).map(|p| p.value)
    }
}

/// One TLV parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param<'a> {
    /// Parameter type.
    pub typ: u16,
    /// Value (without padding).
    pub value: &'a [u8],
}

impl Param<'_> {
    /// Appends a parameter with padding.
    pub fn emit(typ: u16, value: &[u8], buf: &mut Vec<u8>) {
        let start = buf.len();
        let len = u16::try_from(4 + value.len()).unwrap_or(u16::MAX);
        buf.extend_from_slice(&typ.to_be_bytes());
        buf.extend_from_slice(&len.to_be_bytes());
        buf.extend_from_slice(value);
        pad_from(buf, start);
    }
}

pub(crate) fn split_param(b: &[u8]) -> Result<(Param<'_>, usize), Error> {
    need(b, 4)?;
    let typ = be16(b, 0)?;
    let len = usize::from(be16(b, 2)?);
    if len < 4 {
        return Err(Error::BadLength {
            what: "parameter",
            length: len,
        });
    }
    need(b, len)?;
    Ok((
        Param {
            typ,
            value: &b[4..len],
        },
        padded(len).min(b.len()),
    ))
}
