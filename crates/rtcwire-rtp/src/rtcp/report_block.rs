//! Reception report blocks (RFC 3550 §6.4.1), shared by SR and RR.

use crate::rtcp::list::WireItem;
use crate::wire::{put_u24, put_u32, put_u8, u24_at, u32_at, u8_at};
use crate::Ssrc;

/// One reception report block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ReportBlock {
    /// SSRC of the source reported on.
    pub ssrc: Ssrc,
    /// Fraction lost since the previous report, in 1/256.
    pub fraction_lost: u8,
    /// Cumulative packets lost: 24-bit signed (duplicates can make it negative).
    pub cumulative_lost: i32,
    /// Extended highest sequence number received (cycles << 16 | highest).
    pub extended_highest_seq: u32,
    /// Interarrival jitter, in timestamp units.
    pub jitter: u32,
    /// Middle 32 bits of the last SR's NTP timestamp (LSR), 0 if none.
    pub last_sr: u32,
    /// Delay since that SR, in 1/65536 s (DLSR).
    pub delay_since_last_sr: u32,
}

impl ReportBlock {
    /// Clamps a cumulative loss count to the 24-bit signed range of the field (RFC 3550
    /// A.3 clamps rather than wraps).
    pub fn clamp_lost(lost: i64) -> i32 {
        lost.clamp(-0x80_0000, 0x7f_ffff) as i32
    }
}

impl WireItem for ReportBlock {
    const SIZE: usize = 24;

    fn read(b: &[u8]) -> Self {
        let raw = u24_at(b, 5);
        // Sign-extend 24 bits.
        let cumulative_lost = ((raw << 8) as i32) >> 8;
        ReportBlock {
            ssrc: Ssrc(u32_at(b, 0)),
            fraction_lost: u8_at(b, 4),
            cumulative_lost,
            extended_highest_seq: u32_at(b, 8),
            jitter: u32_at(b, 12),
            last_sr: u32_at(b, 16),
            delay_since_last_sr: u32_at(b, 20),
        }
    }

    fn write(&self, b: &mut [u8]) {
        put_u32(b, 0, self.ssrc.0);
        put_u8(b, 4, self.fraction_lost);
        put_u24(
            b,
            5,
            Self::clamp_lost(i64::from(self.cumulative_lost)) as u32 & 0xff_ffff,
        );
        put_u32(b, 8, self.extended_highest_seq);
        put_u32(b, 12, self.jitter);
        put_u32(b, 16, self.last_sr);
        put_u32(b, 20, self.delay_since_last_sr);
    }
}
