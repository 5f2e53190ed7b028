//! Picture loss indication (RFC 4585 §6.3.1): payload-specific feedback, FMT 1.

use crate::error::{need, Error, Result};
use crate::rtcp::{packet_type, RtcpBody};
use crate::wire::{put_u32, u32_at};
use crate::Ssrc;

/// A PLI: the receiver lost an undefined amount of a picture and asks for a keyframe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Pli {
    /// SSRC of the feedback's sender.
    pub sender_ssrc: Ssrc,
    /// SSRC of the media source.
    pub media_ssrc: Ssrc,
}

/// FMT of a PLI.
pub const FMT_PLI: u8 = 1;

impl<'a> RtcpBody<'a> for Pli {
    const PACKET_TYPE: u8 = packet_type::PSFB;
    const NAME: &'static str = "PLI";

    fn count(&self) -> u8 {
        FMT_PLI
    }

    fn body_len(&self) -> usize {
        8
    }

    fn parse_body(_fmt: u8, b: &'a [u8]) -> Result<Self> {
        need(b, 8).map_err(|_| Error::BadRtcp {
            what: Self::NAME,
            reason: "shorter than the feedback header",
        })?;
        Ok(Pli {
            sender_ssrc: Ssrc(u32_at(b, 0)),
            media_ssrc: Ssrc(u32_at(b, 4)),
        })
    }

    fn emit_body(&self, b: &mut [u8]) -> Result<()> {
        put_u32(b, 0, self.sender_ssrc.0);
        put_u32(b, 4, self.media_ssrc.0);
        Ok(())
    }
}
