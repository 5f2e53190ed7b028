//! Sender report (RFC 3550 §6.4.1).

use crate::error::{need, Error, Result};
use crate::rtcp::list::{List, WireItem};
use crate::rtcp::{packet_type, ReportBlock, RtcpBody};
use crate::wire::{put_slice, put_u32, put_u64, sub, u32_at, u64_at};
use crate::Ssrc;

/// A sender report: sender info, report blocks and any profile-specific extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SenderReport<'a> {
    /// SSRC of the sender.
    pub ssrc: Ssrc,
    /// NTP timestamp (64-bit, seconds since 1900 in 32.32 fixed point).
    pub ntp_time: u64,
    /// RTP timestamp corresponding to `ntp_time`.
    pub rtp_time: u32,
    /// Packets sent.
    pub packet_count: u32,
    /// Payload octets sent.
    pub octet_count: u32,
    /// Up to 31 reception report blocks.
    pub reports: List<'a, ReportBlock>,
    /// Profile-specific extension (a multiple of 4 bytes), kept raw.
    pub profile_extension: &'a [u8],
}

impl<'a> RtcpBody<'a> for SenderReport<'a> {
    const PACKET_TYPE: u8 = packet_type::SR;
    const NAME: &'static str = "SR";

    fn count(&self) -> u8 {
        self.reports.len().min(31) as u8
    }

    fn body_len(&self) -> usize {
        24 + self.reports.buffer_len() + self.profile_extension.len()
    }

    fn parse_body(count: u8, b: &'a [u8]) -> Result<Self> {
        let blocks_end = 24 + usize::from(count) * ReportBlock::SIZE;
        need(b, blocks_end).map_err(|_| Error::BadRtcp {
            what: Self::NAME,
            reason: "report count exceeds the packet",
        })?;
        Ok(SenderReport {
            ssrc: Ssrc(u32_at(b, 0)),
            ntp_time: u64_at(b, 4),
            rtp_time: u32_at(b, 12),
            packet_count: u32_at(b, 16),
            octet_count: u32_at(b, 20),
            reports: List::Wire(sub(b, 24, blocks_end)),
            profile_extension: sub(b, blocks_end, b.len()),
        })
    }

    fn emit_body(&self, b: &mut [u8]) -> Result<()> {
        check_reports(self.reports.len(), self.profile_extension.len())?;
        put_u32(b, 0, self.ssrc.0);
        put_u64(b, 4, self.ntp_time);
        put_u32(b, 12, self.rtp_time);
        put_u32(b, 16, self.packet_count);
        put_u32(b, 20, self.octet_count);
        self.reports.write(b.get_mut(24..).unwrap_or(&mut []));
        put_slice(b, 24 + self.reports.buffer_len(), self.profile_extension);
        Ok(())
    }
}

pub(crate) fn check_reports(n: usize, ext_len: usize) -> Result<()> {
    if n > 31 {
        return Err(Error::OutOfRange("more than 31 report blocks"));
    }
    if ext_len % 4 != 0 {
        return Err(Error::OutOfRange(
            "profile extension is not a multiple of 4",
        ));
    }
    Ok(())
}
