//! Goodbye (RFC 3550 §6.6).

use crate::error::{need, Error, Result};
use crate::rtcp::list::List;
use crate::rtcp::{packet_type, RtcpBody};
use crate::wire::{put_slice, put_u8, sub, u8_at};
use crate::Ssrc;

/// A BYE packet: the sources leaving and an optional reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bye<'a> {
    /// Up to 31 SSRC/CSRCs.
    pub sources: List<'a, Ssrc>,
    /// Reason for leaving (at most 255 bytes; empty for none).
    pub reason: &'a [u8],
}

impl<'a> RtcpBody<'a> for Bye<'a> {
    const PACKET_TYPE: u8 = packet_type::BYE;
    const NAME: &'static str = "BYE";

    fn count(&self) -> u8 {
        self.sources.len().min(31) as u8
    }

    fn body_len(&self) -> usize {
        let reason = if self.reason.is_empty() {
            0
        } else {
            (1 + self.reason.len()).div_ceil(4) * 4
        };
        self.sources.buffer_len() + reason
    }

    fn parse_body(count: u8, b: &'a [u8]) -> Result<Self> {
        let end = 4 * usize::from(count);
        need(b, end).map_err(|_| Error::BadRtcp {
            what: Self::NAME,
            reason: "source count exceeds the packet",
        })?;
        let mut reason: &[u8] = &[];
        if b.len() > end {
            let len = usize::from(u8_at(b, end));
            if end + 1 + len > b.len() {
                return Err(Error::BadRtcp {
                    what: Self::NAME,
                    reason: "reason overruns the packet",
                });
            }
            reason = sub(b, end + 1, end + 1 + len);
        }
        Ok(Bye {
            sources: List::Wire(sub(b, 0, end)),
            reason,
        })
    }

    fn emit_body(&self, b: &mut [u8]) -> Result<()> {
        if self.sources.len() > 31 {
            return Err(Error::OutOfRange("more than 31 BYE sources"));
        }
        let rlen = u8::try_from(self.reason.len())
            .map_err(|_| Error::OutOfRange("BYE reason longer than 255 bytes"))?;
        self.sources.write(b);
        if !self.reason.is_empty() {
            let at = self.sources.buffer_len();
            if let Some(z) = b.get_mut(at..self.body_len()) {
                z.fill(0);
            }
            put_u8(b, at, rlen);
            put_slice(b, at + 1, self.reason);
        }
        Ok(())
    }
}
