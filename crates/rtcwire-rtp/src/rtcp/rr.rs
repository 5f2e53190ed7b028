//! Receiver report (RFC 3550 §6.4.2).

use crate::error::{need, Error, Result};
use crate::rtcp::list::{List, WireItem};
use crate::rtcp::sr::check_reports;
use crate::rtcp::{packet_type, ReportBlock, RtcpBody};
use crate::wire::{put_slice, put_u32, sub, u32_at};
use crate::Ssrc;

/// A receiver report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReceiverReport<'a> {
    /// SSRC of the packet's sender.
    pub ssrc: Ssrc,
    /// Up to 31 reception report blocks.
    pub reports: List<'a, ReportBlock>,
    /// Profile-specific extension, kept raw.
    pub profile_extension: &'a [u8],
}

impl<'a> RtcpBody<'a> for ReceiverReport<'a> {
    const PACKET_TYPE: u8 = packet_type::RR;
    const NAME: &'static str = "RR";

    fn count(&self) -> u8 {
        self.reports.len().min(31) as u8
    }

    fn body_len(&self) -> usize {
        4 + self.reports.buffer_len() + self.profile_extension.len()
    }

    fn parse_body(count: u8, b: &'a [u8]) -> Result<Self> {
        let end = 4 + usize::from(count) * ReportBlock::SIZE;
        need(b, end).map_err(|_| Error::BadRtcp {
            what: Self::NAME,
            reason: "report count exceeds the packet",
        })?;
        Ok(ReceiverReport {
            ssrc: Ssrc(u32_at(b, 0)),
            reports: List::Wire(sub(b, 4, end)),
            profile_extension: sub(b, end, b.len()),
        })
    }

    fn emit_body(&self, b: &mut [u8]) -> Result<()> {
        check_reports(self.reports.len(), self.profile_extension.len())?;
        put_u32(b, 0, self.ssrc.0);
        self.reports.write(b.get_mut(4..).unwrap_or(&mut []));
        put_slice(b, 4 + self.reports.buffer_len(), self.profile_extension);
        Ok(())
    }
}
