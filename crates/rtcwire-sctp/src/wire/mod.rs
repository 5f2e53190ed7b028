//! SCTP wire format (RFC 9260 §3): the common header, chunks and their parameters.
//!
//! Two levels, as in smoltcp: [`Packet`] is a checked, borrowed view of a whole packet whose
//! [`chunks`](Packet::chunks) iterate [`RawChunk`]s; each chunk type has a `Repr` (one file
//! per chunk type) with `parse(&RawChunk)`, `value_len()` and `emit(&mut Vec<u8>)`. [`Chunk`]
//! gathers them. Parsing borrows from the datagram; emitting appends to the caller's buffer
//! (chunk header, value and padding to a multiple of four).
//!
//! Every length read from the wire is checked against the bytes present; short input is
//! [`Error::Truncated`] with what was needed and what was there.

mod abort;
mod cookie;
mod data;
mod forward_tsn;
mod heartbeat;
mod idata;
mod init;
mod list;
mod reconfig;
mod sack;
mod shutdown;

pub(crate) use abort::cause_bytes as abort_cause;
pub use abort::{cause, Abort, ErrorChunk};
pub use cookie::{CookieAck, CookieEcho};
pub(crate) use data::emit_header as emit_data_header;
pub use data::{flags as data_flags, Data, DATA_HEADER_LEN};
pub use forward_tsn::{Forward, ForwardTsn, SkippedEntry, StreamSsn};
pub use heartbeat::{Heartbeat, HeartbeatAck};
pub(crate) use idata::emit_header as emit_idata_header;
pub use idata::{IData, IForwardTsn, StreamMid, IDATA_HEADER_LEN};
pub use init::{param_type, Init, InitAck, Param, Params};
pub use list::{Item, List};
pub use reconfig::{param_type as reconfig_param_type, ReConfig, ReconfigParam, ReconfigResult};
pub use sack::{GapBlock, Sack};
pub use shutdown::{Shutdown, ShutdownAck, ShutdownComplete};

use crate::Error;

/// Length of the SCTP common header.
pub const HEADER_LEN: usize = 12;
/// Length of a chunk header (type, flags, length).
pub const CHUNK_HEADER_LEN: usize = 4;

/// Chunk type numbers (RFC 9260 §3.2, RFC 3758, RFC 6525).
pub mod chunk_type {
    /// Payload data.
    pub const DATA: u8 = 0;
    /// Initiation.
    pub const INIT: u8 = 1;
    /// Initiation acknowledgement.
    pub const INIT_ACK: u8 = 2;
    /// Selective acknowledgement.
    pub const SACK: u8 = 3;
    /// Heartbeat request.
    pub const HEARTBEAT: u8 = 4;
    /// Heartbeat acknowledgement.
    pub const HEARTBEAT_ACK: u8 = 5;
    /// Abort.
    pub const ABORT: u8 = 6;
    /// Shutdown.
    pub const SHUTDOWN: u8 = 7;
    /// Shutdown acknowledgement.
    pub const SHUTDOWN_ACK: u8 = 8;
    /// Operation error.
    pub const ERROR: u8 = 9;
    /// State cookie echo.
    pub const COOKIE_ECHO: u8 = 10;
    /// Cookie acknowledgement.
    pub const COOKIE_ACK: u8 = 11;
    /// Shutdown complete.
    pub const SHUTDOWN_COMPLETE: u8 = 14;
    /// Re-configuration (RFC 6525).
    pub const RE_CONFIG: u8 = 130;
    /// Forward cumulative TSN (RFC 3758).
    pub const FORWARD_TSN: u8 = 192;
    /// I-DATA (RFC 8260).
    pub const I_DATA: u8 = 64;
    /// I-FORWARD-TSN (RFC 8260).
    pub const I_FORWARD_TSN: u8 = 194;
}

/// Pads `len` up to a multiple of four.
#[must_use]
pub const fn padded(len: usize) -> usize {
    (len + 3) & !3
}

pub(crate) fn be16(b: &[u8], at: usize) -> Result<u16, Error> {
    match b.get(at..at + 2) {
        Some(&[x, y]) => Ok(u16::from_be_bytes([x, y])),
        _ => Err(Error::Truncated {
            needed: at + 2,
            available: b.len(),
        }),
    }
}

pub(crate) fn be32(b: &[u8], at: usize) -> Result<u32, Error> {
    match b.get(at..at + 4) {
        Some(&[w, x, y, z]) => Ok(u32::from_be_bytes([w, x, y, z])),
        _ => Err(Error::Truncated {
            needed: at + 4,
            available: b.len(),
        }),
    }
}

pub(crate) fn need(b: &[u8], needed: usize) -> Result<(), Error> {
    if b.len() < needed {
        return Err(Error::Truncated {
            needed,
            available: b.len(),
        });
    }
    Ok(())
}

/// Appends a chunk header for a value of `value_len` bytes. Values longer than a chunk can
/// carry are the caller's bug; they are clamped here (the packet then fails to parse) rather
/// than panicking.
pub(crate) fn emit_chunk_header(buf: &mut Vec<u8>, typ: u8, flags: u8, value_len: usize) {
    let len = u16::try_from(CHUNK_HEADER_LEN + value_len).unwrap_or(u16::MAX);
    buf.push(typ);
    buf.push(flags);
    buf.extend_from_slice(&len.to_be_bytes());
}

/// Appends zero bytes until `buf.len()` is a multiple of four past `start`.
pub(crate) fn pad_from(buf: &mut Vec<u8>, start: usize) {
    let len = buf.len() - start;
    buf.resize(start + padded(len), 0);
}

/// The SCTP common header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommonHeader {
    /// Sender's port.
    pub source_port: u16,
    /// Receiver's port.
    pub destination_port: u16,
    /// Verification tag.
    pub verification_tag: u32,
}

impl CommonHeader {
    /// Appends the header with a zero checksum; [`finish_packet`] fills the checksum in.
    pub fn emit(&self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(&self.source_port.to_be_bytes());
        buf.extend_from_slice(&self.destination_port.to_be_bytes());
        buf.extend_from_slice(&self.verification_tag.to_be_bytes());
        buf.extend_from_slice(&[0; 4]);
    }
}

/// The CRC-32c (Castagnoli, RFC 9260 Appendix B) of `bytes`.
#[must_use]
pub fn crc32c(bytes: &[u8]) -> u32 {
    crc32c::crc32c(bytes)
}

/// The CRC-32c of a packet, computed as if its checksum field (bytes 8..12) were zero.
#[must_use]
pub fn checksum(packet: &[u8]) -> u32 {
    let head = packet.get(..8).unwrap_or(packet);
    let crc = crc32c::crc32c_append(0, head);
    if packet.len() < HEADER_LEN {
        return crc;
    }
    let crc = crc32c::crc32c_append(crc, &[0; 4]);
    crc32c::crc32c_append(crc, packet.get(HEADER_LEN..).unwrap_or(&[]))
}

/// Writes the CRC-32c of `packet` into its checksum field (least-significant byte first, as
/// RFC 9260 Appendix B places it).
pub fn finish_packet(packet: &mut [u8]) {
    let crc = checksum(packet);
    if let Some(field) = packet.get_mut(8..12) {
        field.copy_from_slice(&crc.to_le_bytes());
    }
}

/// A checked, borrowed view of an SCTP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    /// The common header.
    pub header: CommonHeader,
    /// The checksum field as sent (CRC-32c, least-significant byte first).
    pub checksum: u32,
    body: &'a [u8],
}

impl<'a> Packet<'a> {
    /// Parses the common header. Chunks are checked as they are iterated.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, Error> {
        need(bytes, HEADER_LEN)?;
        let header = CommonHeader {
            source_port: be16(bytes, 0)?,
            destination_port: be16(bytes, 2)?,
            verification_tag: be32(bytes, 4)?,
        };
        let checksum = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        Ok(Packet {
            header,
            checksum,
            body: &bytes[HEADER_LEN..],
        })
    }

    /// Parses and checks the CRC-32c.
    pub fn parse_checked(bytes: &'a [u8]) -> Result<Self, Error> {
        let p = Self::parse(bytes)?;
        let actual = checksum(bytes);
        if actual != p.checksum {
            return Err(Error::BadChecksum {
                expected: p.checksum,
                actual,
            });
        }
        Ok(p)
    }

    /// The chunks, in order. Iteration stops after the first malformed chunk (yielding its
    /// error).
    #[must_use]
    pub fn chunks(&self) -> Chunks<'a> {
        Chunks {
            rest: self.body,
            failed: false,
        }
    }
}

/// A chunk as it is on the wire: type, flags and the value (without padding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawChunk<'a> {
    /// Chunk type.
    pub typ: u8,
    /// Chunk flags.
    pub flags: u8,
    /// The value (the chunk minus its 4-byte header and padding).
    pub value: &'a [u8],
}

impl RawChunk<'_> {
    /// Appends this chunk as it is (header, value, padding).
    pub fn emit(&self, buf: &mut Vec<u8>) {
        let start = buf.len();
        emit_chunk_header(buf, self.typ, self.flags, self.value.len());
        buf.extend_from_slice(self.value);
        pad_from(buf, start);
    }
}

/// Iterator over the chunks of a packet.
#[derive(Debug, Clone)]
pub struct Chunks<'a> {
    rest: &'a [u8],
    failed: bool,
}

impl<'a> Iterator for Chunks<'a> {
    type Item = Result<RawChunk<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        let r = parse_raw(self.rest);
        match r {
            Ok((chunk, used)) => {
                self.rest = self.rest.get(used..).unwrap_or(&[]);
                Some(Ok(chunk))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// Splits one chunk off the front of `b`; returns it and the bytes it used with padding.
fn parse_raw(b: &[u8]) -> Result<(RawChunk<'_>, usize), Error> {
    need(b, CHUNK_HEADER_LEN)?;
    let len = usize::from(be16(b, 2)?);
    if len < CHUNK_HEADER_LEN {
        return Err(Error::BadLength {
            what: "chunk",
            length: len,
        });
    }
    need(b, len)?;
    let chunk = RawChunk {
        typ: b[0],
        flags: b[1],
        value: &b[CHUNK_HEADER_LEN..len],
    };
    // The last chunk's padding may be missing.
    Ok((chunk, padded(len).min(b.len())))
}

/// Any chunk, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Chunk<'a> {
    /// DATA.
    Data(Data<'a>),
    /// INIT.
    Init(Init<'a>),
    /// INIT ACK.
    InitAck(InitAck<'a>),
    /// SACK.
    Sack(Sack<'a>),
    /// HEARTBEAT.
    Heartbeat(Heartbeat<'a>),
    /// HEARTBEAT ACK.
    HeartbeatAck(HeartbeatAck<'a>),
    /// ABORT.
    Abort(Abort<'a>),
    /// SHUTDOWN.
    Shutdown(Shutdown),
    /// SHUTDOWN ACK.
    ShutdownAck(ShutdownAck),
    /// ERROR.
    Error(ErrorChunk<'a>),
    /// COOKIE ECHO.
    CookieEcho(CookieEcho<'a>),
    /// COOKIE ACK.
    CookieAck(CookieAck),
    /// SHUTDOWN COMPLETE.
    ShutdownComplete(ShutdownComplete),
    /// FORWARD TSN.
    ForwardTsn(ForwardTsn<'a>),
    /// RE-CONFIG.
    ReConfig(ReConfig<'a>),
    /// I-DATA (RFC 8260).
    IData(IData<'a>),
    /// I-FORWARD-TSN (RFC 8260).
    IForwardTsn(IForwardTsn<'a>),
    /// A chunk type this crate does not know; kept as it was.
    Unknown(RawChunk<'a>),
}

impl<'a> Chunk<'a> {
    /// Parses a raw chunk by its type.
    pub fn parse(raw: &RawChunk<'a>) -> Result<Self, Error> {
        use chunk_type as t;
        Ok(match raw.typ {
            t::DATA => Chunk::Data(Data::parse(raw)?),
            t::INIT => Chunk::Init(Init::parse(raw)?),
            t::INIT_ACK => Chunk::InitAck(InitAck(Init::parse(raw)?)),
            t::SACK => Chunk::Sack(Sack::parse(raw)?),
            t::HEARTBEAT => Chunk::Heartbeat(Heartbeat::parse(raw)?),
            t::HEARTBEAT_ACK => Chunk::HeartbeatAck(HeartbeatAck(Heartbeat::parse(raw)?)),
            t::ABORT => Chunk::Abort(Abort::parse(raw)?),
            t::SHUTDOWN => Chunk::Shutdown(Shutdown::parse(raw)?),
            t::SHUTDOWN_ACK => Chunk::ShutdownAck(ShutdownAck),
            t::ERROR => Chunk::Error(ErrorChunk::parse(raw)?),
            t::COOKIE_ECHO => Chunk::CookieEcho(CookieEcho::parse(raw)),
            t::COOKIE_ACK => Chunk::CookieAck(CookieAck),
            t::SHUTDOWN_COMPLETE => Chunk::ShutdownComplete(ShutdownComplete::parse(raw)),
            t::FORWARD_TSN => Chunk::ForwardTsn(ForwardTsn::parse(raw)?),
            t::RE_CONFIG => Chunk::ReConfig(ReConfig::parse(raw)?),
            t::I_DATA => Chunk::IData(IData::parse(raw)?),
            t::I_FORWARD_TSN => Chunk::IForwardTsn(IForwardTsn::parse(raw)?),
            _ => Chunk::Unknown(*raw),
        })
    }

    /// The bytes [`emit`](Self::emit) appends, padding included.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        padded(
            CHUNK_HEADER_LEN
                + match self {
                    Chunk::Data(c) => c.value_len(),
                    Chunk::Init(c) => c.value_len(),
                    Chunk::InitAck(c) => c.0.value_len(),
                    Chunk::Sack(c) => c.value_len(),
                    Chunk::Heartbeat(c) => c.value_len(),
                    Chunk::HeartbeatAck(c) => c.0.value_len(),
                    Chunk::Abort(c) => c.causes.len(),
                    Chunk::Error(c) => c.causes.len(),
                    Chunk::Shutdown(_) => 4,
                    Chunk::ShutdownAck(_) | Chunk::CookieAck(_) | Chunk::ShutdownComplete(_) => 0,
                    Chunk::CookieEcho(c) => c.cookie.len(),
                    Chunk::ForwardTsn(c) => c.value_len(),
                    Chunk::ReConfig(c) => c.params.len(),
                    Chunk::IData(c) => c.value_len(),
                    Chunk::IForwardTsn(c) => c.value_len(),
                    Chunk::Unknown(c) => c.value.len(),
                },
        )
    }

    /// Appends the chunk (header, value, padding).
    pub fn emit(&self, buf: &mut Vec<u8>) {
        match self {
            Chunk::Data(c) => c.emit(buf),
            Chunk::Init(c) => c.emit(buf, chunk_type::INIT),
            Chunk::InitAck(c) => c.0.emit(buf, chunk_type::INIT_ACK),
            Chunk::Sack(c) => c.emit(buf),
            Chunk::Heartbeat(c) => c.emit(buf, chunk_type::HEARTBEAT),
            Chunk::HeartbeatAck(c) => c.0.emit(buf, chunk_type::HEARTBEAT_ACK),
            Chunk::Abort(c) => c.emit(buf),
            Chunk::Error(c) => c.emit(buf),
            Chunk::Shutdown(c) => c.emit(buf),
            Chunk::ShutdownAck(c) => c.emit(buf),
            Chunk::CookieEcho(c) => c.emit(buf),
            Chunk::CookieAck(c) => c.emit(buf),
            Chunk::ShutdownComplete(c) => c.emit(buf),
            Chunk::ForwardTsn(c) => c.emit(buf),
            Chunk::ReConfig(c) => c.emit(buf),
            Chunk::IData(c) => c.emit(buf),
            Chunk::IForwardTsn(c) => c.emit(buf),
            Chunk::Unknown(c) => c.emit(buf),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_header_is_truncated() {
        assert_eq!(
            Packet::parse(&[0; 5]),
            Err(Error::Truncated {
                needed: 12,
                available: 5
            })
        );
    }

    #[test]
    fn chunk_length_below_header_is_refused() {
        let mut p = vec![0u8; 12];
        p.extend_from_slice(&[0, 0, 0, 2]);
        let pkt = Packet::parse(&p).unwrap();
        let mut it = pkt.chunks();
        assert!(matches!(it.next(), Some(Err(Error::BadLength { .. }))));
        assert!(it.next().is_none());
    }

    #[test]
    fn missing_final_padding_is_tolerated() {
        let mut p = vec![0u8; 12];
        p.extend_from_slice(&[0xee, 0, 0, 5, 9]);
        let pkt = Packet::parse(&p).unwrap();
        let chunks: Vec<_> = pkt.chunks().collect();
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].as_ref().unwrap().value, &[9]);
    }
}
