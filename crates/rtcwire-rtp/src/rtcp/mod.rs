//! RTCP (RFC 3550 §6, RFC 4585, RFC 5104, RFC 5506, RFC 3611, TWCC, REMB).
//!
//! [`RtcpPacket`] is the checked view of one packet's common header; [`Compound`] walks a
//! compound datagram. [`Rtcp`] is the typed packet: every variant borrows from the datagram
//! (lists stay on the wire until iterated), and every variant can be written into a caller
//! buffer. Packet types and feedback formats this crate does not model are kept as
//! [`Rtcp::Unknown`] and written back unchanged.
//!
//! ```
//! use rtcwire_rtp::rtcp::{self, Rtcp, Pli, ReceiverReport, ReportBlock, List};
//! use rtcwire_rtp::Ssrc;
//! let blocks = [ReportBlock { ssrc: Ssrc(2), fraction_lost: 64, ..Default::default() }];
//! let packets = [
//!     Rtcp::ReceiverReport(ReceiverReport { ssrc: Ssrc(1), reports: List::Items(&blocks),
//!                                           ..Default::default() }),
//!     Rtcp::Pli(Pli { sender_ssrc: Ssrc(1), media_ssrc: Ssrc(2) }),
//! ];
//! let mut buf = [0u8; 128];
//! assert_eq!(rtcp::compound_buffer_len(&packets), 32 + 12);
//! let n = rtcp::emit_compound(&packets, &mut buf)?;
//! let parsed: Vec<Rtcp> = rtcp::parse_compound(&buf[..n]).collect::<Result<_, _>>()?;
//! assert_eq!(parsed, packets);
//! # Ok::<(), rtcwire_rtp::Error>(())
//! ```

mod app;
mod bye;
mod fir;
mod header;
mod list;
mod nack;
mod pli;
mod remb;
mod report_block;
mod rr;
mod sdes;
mod sli;
mod sr;
mod twcc;
mod xr;

pub use app::App;
pub use bye::Bye;
pub use fir::{Fir, FirEntry, FMT_FIR};
pub use header::{packet_type, validate_compound, Compound, CompoundRule, RtcpPacket, HEADER_LEN};
pub use list::{List, ListIter, WireItem};
pub use nack::{Nack, NackPair, FMT_NACK};
pub use pli::{Pli, FMT_PLI};
pub use remb::{Remb, FMT_AFB, MAX_BITRATE, REMB_ID};
pub use report_block::ReportBlock;
pub use rr::ReceiverReport;
pub use sdes::{
    item_type, Sdes, SdesChunk, SdesChunkIter, SdesChunks, SdesItem, SdesItemIter, SdesItems,
};
pub use sli::{Sli, SliEntry, FMT_SLI};
pub use sr::SenderReport;
pub use twcc::{
    emit_chunks, Chunk, PacketStatus, TransportFeedback, TwccBuilder, TwccPacket, TwccPackets,
    DELTA_TICK_US, FMT_TWCC, MAX_STATUS_COUNT, REFERENCE_TICK_US,
};
pub use xr::{DlrrItem, Xr, XrBlock, XrBlocks, BT_DLRR, BT_RRTR};

use crate::error::{room, Result};
use header::write_header;

/// One RTCP packet type's body: what follows the common header.
pub trait RtcpBody<'a>: Sized {
    /// The packet type (PT) it is sent with.
    const PACKET_TYPE: u8;
    /// Short name for errors.
    const NAME: &'static str;
    /// The 5-bit count field (report count, source count, FMT or subtype).
    fn count(&self) -> u8;
    /// Body length in bytes, before padding to a word.
    fn body_len(&self) -> usize;
    /// Parses the body (header's count and the bytes after the header, padding removed).
    fn parse_body(count: u8, body: &'a [u8]) -> Result<Self>;
    /// Writes the body at the start of `out`, which has `body_len()` bytes of room.
    fn emit_body(&self, out: &mut [u8]) -> Result<()>;

    /// Length of the whole packet, header and padding included.
    fn buffer_len(&self) -> usize {
        HEADER_LEN + self.body_len().div_ceil(4) * 4
    }

    /// Writes the whole packet (header, body, and RFC 3550 padding if the body is not a
    /// multiple of 4) and returns its length.
    fn emit(&self, out: &mut [u8]) -> Result<usize> {
        let body = self.body_len();
        let total = HEADER_LEN + body.div_ceil(4) * 4;
        room(out, total)?;
        let pad = total - HEADER_LEN - body;
        write_header(out, self.count(), Self::PACKET_TYPE, total, pad > 0)?;
        if let Some(b) = out.get_mut(HEADER_LEN..HEADER_LEN + body) {
            self.emit_body(b)?;
        }
        if pad > 0 {
            if let Some(p) = out.get_mut(total - pad..total) {
                p.fill(0);
                if let Some(last) = p.last_mut() {
                    *last = pad as u8;
                }
            }
        }
        Ok(total)
    }
}

/// A packet of a type (or feedback format) this crate does not model, kept verbatim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Unknown<'a> {
    /// The 5-bit count/FMT field.
    pub count: u8,
    /// Packet type.
    pub packet_type: u8,
    /// Body after the common header, without padding (a multiple of 4 to be written).
    pub body: &'a [u8],
}

/// A typed RTCP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rtcp<'a> {
    /// SR (200).
    SenderReport(SenderReport<'a>),
    /// RR (201).
    ReceiverReport(ReceiverReport<'a>),
    /// SDES (202).
    Sdes(Sdes<'a>),
    /// BYE (203).
    Bye(Bye<'a>),
    /// APP (204).
    App(App<'a>),
    /// RTPFB FMT 1 (RFC 4585).
    Nack(Nack<'a>),
    /// RTPFB FMT 15 (transport-wide CC).
    TransportFeedback(TransportFeedback<'a>),
    /// PSFB FMT 1.
    Pli(Pli),
    /// PSFB FMT 2.
    Sli(Sli<'a>),
    /// PSFB FMT 4 (RFC 5104).
    Fir(Fir<'a>),
    /// PSFB FMT 15 with the "REMB" identifier.
    Remb(Remb<'a>),
    /// XR (207).
    Xr(Xr<'a>),
    /// Anything else, kept.
    Unknown(Unknown<'a>),
}

impl<'a> Rtcp<'a> {
    /// Types a checked packet view.
    #[inline]
    pub fn parse(packet: &RtcpPacket<&'a [u8]>) -> Result<Self> {
        let count = packet.count();
        let body: &'a [u8] = crate::wire::sub(packet_bytes(packet), HEADER_LEN, packet.body_end());
        Ok(match (packet.packet_type(), count) {
            (packet_type::SR, _) => Rtcp::SenderReport(SenderReport::parse_body(count, body)?),
            (packet_type::RR, _) => Rtcp::ReceiverReport(ReceiverReport::parse_body(count, body)?),
            (packet_type::SDES, _) => Rtcp::Sdes(Sdes::parse_body(count, body)?),
            (packet_type::BYE, _) => Rtcp::Bye(Bye::parse_body(count, body)?),
            (packet_type::APP, _) => Rtcp::App(App::parse_body(count, body)?),
            (packet_type::RTPFB, FMT_NACK) => Rtcp::Nack(Nack::parse_body(count, body)?),
            (packet_type::RTPFB, FMT_TWCC) => {
                Rtcp::TransportFeedback(TransportFeedback::parse_body(count, body)?)
            }
            (packet_type::PSFB, FMT_PLI) => Rtcp::Pli(Pli::parse_body(count, body)?),
            (packet_type::PSFB, FMT_SLI) => Rtcp::Sli(Sli::parse_body(count, body)?),
            (packet_type::PSFB, FMT_FIR) => Rtcp::Fir(Fir::parse_body(count, body)?),
            (packet_type::PSFB, FMT_AFB) if remb::is_remb(body) => {
                Rtcp::Remb(Remb::parse_body(count, body)?)
            }
            (packet_type::XR, _) => Rtcp::Xr(Xr::parse_body(count, body)?),
            (pt, _) => Rtcp::Unknown(Unknown {
                count,
                packet_type: pt,
                body,
            }),
        })
    }

    /// Parses a single packet from the start of `bytes`.
    pub fn parse_bytes(bytes: &'a [u8]) -> Result<Self> {
        Rtcp::parse(&RtcpPacket::new_checked(bytes)?)
    }

    /// The packet type it is sent with.
    pub fn packet_type(&self) -> u8 {
        match self {
            Rtcp::SenderReport(_) => packet_type::SR,
            Rtcp::ReceiverReport(_) => packet_type::RR,
            Rtcp::Sdes(_) => packet_type::SDES,
            Rtcp::Bye(_) => packet_type::BYE,
            Rtcp::App(_) => packet_type::APP,
            Rtcp::Nack(_) | Rtcp::TransportFeedback(_) => packet_type::RTPFB,
            Rtcp::Pli(_) | Rtcp::Sli(_) | Rtcp::Fir(_) | Rtcp::Remb(_) => packet_type::PSFB,
            Rtcp::Xr(_) => packet_type::XR,
            Rtcp::Unknown(u) => u.packet_type,
        }
    }

    /// Length of the written packet.
    pub fn buffer_len(&self) -> usize {
        match self {
            Rtcp::SenderReport(p) => p.buffer_len(),
            Rtcp::ReceiverReport(p) => p.buffer_len(),
            Rtcp::Sdes(p) => p.buffer_len(),
            Rtcp::Bye(p) => p.buffer_len(),
            Rtcp::App(p) => p.buffer_len(),
            Rtcp::Nack(p) => p.buffer_len(),
            Rtcp::TransportFeedback(p) => p.buffer_len(),
            Rtcp::Pli(p) => p.buffer_len(),
            Rtcp::Sli(p) => p.buffer_len(),
            Rtcp::Fir(p) => p.buffer_len(),
            Rtcp::Remb(p) => p.buffer_len(),
            Rtcp::Xr(p) => p.buffer_len(),
            Rtcp::Unknown(u) => HEADER_LEN + u.body.len().div_ceil(4) * 4,
        }
    }

    /// Writes the packet into `out` and returns its length.
    pub fn emit(&self, out: &mut [u8]) -> Result<usize> {
        match self {
            Rtcp::SenderReport(p) => p.emit(out),
            Rtcp::ReceiverReport(p) => p.emit(out),
            Rtcp::Sdes(p) => p.emit(out),
            Rtcp::Bye(p) => p.emit(out),
            Rtcp::App(p) => p.emit(out),
            Rtcp::Nack(p) => p.emit(out),
            Rtcp::TransportFeedback(p) => p.emit(out),
            Rtcp::Pli(p) => p.emit(out),
            Rtcp::Sli(p) => p.emit(out),
            Rtcp::Fir(p) => p.emit(out),
            Rtcp::Remb(p) => p.emit(out),
            Rtcp::Xr(p) => p.emit(out),
            Rtcp::Unknown(u) => {
                if u.body.len() % 4 != 0 {
                    return Err(crate::Error::OutOfRange(
                        "unknown RTCP body is not a multiple of 4",
                    ));
                }
                let total = HEADER_LEN + u.body.len();
                write_header(out, u.count, u.packet_type, total, false)?;
                crate::wire::put_slice(out, HEADER_LEN, u.body);
                Ok(total)
            }
        }
    }
}

fn packet_bytes<'a>(p: &RtcpPacket<&'a [u8]>) -> &'a [u8] {
    let inner: &'a [u8] = p.into_inner();
    crate::wire::sub(inner, 0, p.packet_len())
}

/// Parses every packet of a compound datagram. Yields an error for a malformed packet
/// and stops there.
pub fn parse_compound(datagram: &[u8]) -> impl Iterator<Item = Result<Rtcp<'_>>> {
    let mut failed = false;
    Compound::new(datagram).map_while(move |p| {
        if failed {
            return None;
        }
        let r = p.and_then(|p| Rtcp::parse(&p));
        failed = r.is_err();
        Some(r)
    })
}

/// Length of the compound datagram [`emit_compound`] writes for `packets`.
pub fn compound_buffer_len(packets: &[Rtcp<'_>]) -> usize {
    packets.iter().map(Rtcp::buffer_len).sum()
}

/// Emits packets back to back as one compound datagram and returns its length
/// ([`compound_buffer_len`]). Whether the first is an SR or RR (RFC 3550) or not (RFC 5506
/// reduced size) is the caller's choice.
pub fn emit_compound(packets: &[Rtcp<'_>], out: &mut [u8]) -> Result<usize> {
    let total = compound_buffer_len(packets);
    room(out, total)?;
    let mut at = 0;
    for p in packets {
        at += p.emit(out.get_mut(at..).unwrap_or(&mut []))?;
    }
    Ok(at)
}
