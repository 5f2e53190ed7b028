//! Slice loss indication (RFC 4585 §6.3.2): payload-specific feedback, FMT 2.

use crate::error::{need, Error, Result};
use crate::rtcp::list::{List, WireItem};
use crate::rtcp::{packet_type, RtcpBody};
use crate::wire::{put_u32, sub, u32_at};
use crate::Ssrc;

/// One SLI entry: a run of lost macroblocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SliEntry {
    /// First lost macroblock (13 bits).
    pub first: u16,
    /// Number of lost macroblocks (13 bits).
    pub number: u16,
    /// Six least significant bits of the picture id.
    pub picture_id: u8,
}

impl WireItem for SliEntry {
    const SIZE: usize = 4;
    fn read(b: &[u8]) -> Self {
        let v = u32_at(b, 0);
        SliEntry {
            first: (v >> 19) as u16,
            number: ((v >> 6) & 0x1fff) as u16,
            picture_id: (v & 0x3f) as u8,
        }
    }
    fn write(&self, b: &mut [u8]) {
        let v = (u32::from(self.first) & 0x1fff) << 19
            | (u32::from(self.number) & 0x1fff) << 6
            | u32::from(self.picture_id) & 0x3f;
        put_u32(b, 0, v);
    }
}

/// An SLI packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sli<'a> {
    /// SSRC of the feedback's sender.
    pub sender_ssrc: Ssrc,
    /// SSRC of the media source.
    pub media_ssrc: Ssrc,
    /// Lost slices.
    pub entries: List<'a, SliEntry>,
}

/// FMT of an SLI.
pub const FMT_SLI: u8 = 2;

impl<'a> RtcpBody<'a> for Sli<'a> {
    const PACKET_TYPE: u8 = packet_type::PSFB;
    const NAME: &'static str = "SLI";

    fn count(&self) -> u8 {
        FMT_SLI
    }

    fn body_len(&self) -> usize {
        8 + self.entries.buffer_len()
    }

    fn parse_body(_fmt: u8, b: &'a [u8]) -> Result<Self> {
        need(b, 12).map_err(|_| Error::BadRtcp {
            what: Self::NAME,
            reason: "no FCI entry",
        })?;
        let n = (b.len() - 8) / SliEntry::SIZE;
        Ok(Sli {
            sender_ssrc: Ssrc(u32_at(b, 0)),
            media_ssrc: Ssrc(u32_at(b, 4)),
            entries: List::Wire(sub(b, 8, 8 + n * SliEntry::SIZE)),
        })
    }

    fn emit_body(&self, b: &mut [u8]) -> Result<()> {
        if self
            .entries
            .iter()
            .any(|e| e.first > 0x1fff || e.number > 0x1fff || e.picture_id > 0x3f)
        {
            return Err(Error::OutOfRange("SLI field wider than its bits"));
        }
        put_u32(b, 0, self.sender_ssrc.0);
        put_u32(b, 4, self.media_ssrc.0);
        self.entries.write(b.get_mut(8..).unwrap_or(&mut []));
        Ok(())
    }
}
