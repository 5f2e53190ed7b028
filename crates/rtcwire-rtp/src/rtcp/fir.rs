//! Full intra request (RFC 5104 §4.3.1): payload-specific feedback, FMT 4.

use crate::error::{need, Error, Result};
use crate::rtcp::list::{List, WireItem};
use crate::rtcp::{packet_type, RtcpBody};
use crate::wire::{put_u32, put_u8, sub, u32_at, u8_at};
use crate::Ssrc;

/// One FIR entry: the media sender asked for a decoder refresh, with a command sequence
/// number that increases per new request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FirEntry {
    /// SSRC of the media sender asked.
    pub ssrc: Ssrc,
    /// Command sequence number.
    pub seq: u8,
}

impl WireItem for FirEntry {
    const SIZE: usize = 8;
    fn read(b: &[u8]) -> Self {
        FirEntry {
            ssrc: Ssrc(u32_at(b, 0)),
            seq: u8_at(b, 4),
        }
    }
    fn write(&self, b: &mut [u8]) {
        put_u32(b, 0, self.ssrc.0);
        put_u8(b, 4, self.seq);
        put_u8(b, 5, 0);
        put_u8(b, 6, 0);
        put_u8(b, 7, 0);
    }
}

/// A FIR packet (the media source SSRC field is 0 per RFC 5104).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Fir<'a> {
    /// SSRC of the feedback's sender.
    pub sender_ssrc: Ssrc,
    /// Media source field, kept as received (RFC 5104 says 0).
    pub media_ssrc: Ssrc,
    /// Requests.
    pub entries: List<'a, FirEntry>,
}

/// FMT of a FIR.
pub const FMT_FIR: u8 = 4;

impl<'a> RtcpBody<'a> for Fir<'a> {
    const PACKET_TYPE: u8 = packet_type::PSFB;
    const NAME: &'static str = "FIR";

    fn count(&self) -> u8 {
        FMT_FIR
    }

    fn body_len(&self) -> usize {
        8 + self.entries.buffer_len()
    }

    fn parse_body(_fmt: u8, b: &'a [u8]) -> Result<Self> {
        need(b, 16).map_err(|_| Error::BadRtcp {
            what: Self::NAME,
            reason: "no FCI entry",
        })?;
        let n = (b.len() - 8) / FirEntry::SIZE;
        Ok(Fir {
            sender_ssrc: Ssrc(u32_at(b, 0)),
            media_ssrc: Ssrc(u32_at(b, 4)),
            entries: List::Wire(sub(b, 8, 8 + n * FirEntry::SIZE)),
        })
    }

    fn emit_body(&self, b: &mut [u8]) -> Result<()> {
        put_u32(b, 0, self.sender_ssrc.0);
        put_u32(b, 4, self.media_ssrc.0);
        self.entries.write(b.get_mut(8..).unwrap_or(&mut []));
        Ok(())
    }
}
