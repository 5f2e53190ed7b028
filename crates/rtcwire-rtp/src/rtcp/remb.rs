//! Receiver estimated maximum bitrate (draft-alvestrand-rmcat-remb-03): application-layer
//! feedback (PSFB FMT 15) with the "REMB" identifier.

use crate::error::{need, Error, Result};
use crate::rtcp::list::List;
use crate::rtcp::{packet_type, RtcpBody};
use crate::wire::{put_slice, put_u32, put_u8, sub, u32_at, u8_at};
use crate::Ssrc;

/// A REMB packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Remb<'a> {
    /// SSRC of the feedback's sender.
    pub sender_ssrc: Ssrc,
    /// Media source field (0 per the draft), kept as received.
    pub media_ssrc: Ssrc,
    /// Estimated bitrate in bits per second (as far as 6-bit exponent, 18-bit mantissa can
    /// represent; [`Remb::emit_body`] rounds down).
    pub bitrate: u64,
    /// SSRCs the estimate applies to (up to 255).
    pub ssrcs: List<'a, Ssrc>,
}

/// FMT of application-layer feedback.
pub const FMT_AFB: u8 = 15;
/// The largest bitrate a REMB can carry within 64 bits (18-bit mantissa, exponent 46).
pub const MAX_BITRATE: u64 = 0x3_ffff << 46;

/// The unique identifier of REMB.
pub const REMB_ID: [u8; 4] = *b"REMB";

impl Remb<'_> {
    /// Exponent and mantissa for `bitrate`, rounding down to a representable value.
    pub fn encode_bitrate(bitrate: u64) -> (u8, u32) {
        let mut exp = 0u8;
        let mut m = bitrate.min(MAX_BITRATE);
        while m > 0x3_ffff && exp < 63 {
            m >>= 1;
            exp += 1;
        }
        (exp, m.min(0x3_ffff) as u32)
    }
}

/// Whether an AFB body (after the two SSRCs) is a REMB.
pub(crate) fn is_remb(body: &[u8]) -> bool {
    sub(body, 8, 12) == REMB_ID
}

impl<'a> RtcpBody<'a> for Remb<'a> {
    const PACKET_TYPE: u8 = packet_type::PSFB;
    const NAME: &'static str = "REMB";

    fn count(&self) -> u8 {
        FMT_AFB
    }

    fn body_len(&self) -> usize {
        16 + self.ssrcs.buffer_len()
    }

    fn parse_body(_fmt: u8, b: &'a [u8]) -> Result<Self> {
        let bad = |reason| Error::BadRtcp {
            what: Self::NAME,
            reason,
        };
        need(b, 16).map_err(|_| bad("shorter than the REMB header"))?;
        if !is_remb(b) {
            return Err(bad("identifier is not REMB"));
        }
        let n = usize::from(u8_at(b, 12));
        let v = u32_at(b, 12);
        let exp = (v >> 18) & 0x3f;
        let mantissa = u64::from(v & 0x3_ffff);
        let end = 16 + 4 * n;
        need(b, end).map_err(|_| bad("SSRC count exceeds the packet"))?;
        Ok(Remb {
            sender_ssrc: Ssrc(u32_at(b, 0)),
            media_ssrc: Ssrc(u32_at(b, 4)),
            // Beyond 64 bits, saturate to the largest value the field can carry back.
            bitrate: u64::try_from(u128::from(mantissa) << exp).unwrap_or(MAX_BITRATE),
            ssrcs: List::Wire(sub(b, 16, end)),
        })
    }

    fn emit_body(&self, b: &mut [u8]) -> Result<()> {
        let n = u8::try_from(self.ssrcs.len())
            .map_err(|_| Error::OutOfRange("more than 255 REMB SSRCs"))?;
        let (exp, mantissa) = Self::encode_bitrate(self.bitrate);
        put_u32(b, 0, self.sender_ssrc.0);
        put_u32(b, 4, self.media_ssrc.0);
        put_slice(b, 8, &REMB_ID);
        put_u32(b, 12, u32::from(exp) << 18 | mantissa);
        put_u8(b, 12, n);
        self.ssrcs.write(b.get_mut(16..).unwrap_or(&mut []));
        Ok(())
    }
}
