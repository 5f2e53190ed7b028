//! Application-defined packet (RFC 3550 §6.7).

use crate::error::{need, Error, Result};
use crate::rtcp::{packet_type, RtcpBody};
use crate::wire::{put_slice, put_u32, sub, u32_at};
use crate::Ssrc;

/// An APP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct App<'a> {
    /// 5-bit subtype.
    pub subtype: u8,
    /// SSRC/CSRC.
    pub ssrc: Ssrc,
    /// Four ASCII characters naming the application.
    pub name: [u8; 4],
    /// Application data, a multiple of 4 bytes.
    pub data: &'a [u8],
}

impl<'a> RtcpBody<'a> for App<'a> {
    const PACKET_TYPE: u8 = packet_type::APP;
    const NAME: &'static str = "APP";

    fn count(&self) -> u8 {
        self.subtype
    }

    fn body_len(&self) -> usize {
        8 + self.data.len()
    }

    fn parse_body(count: u8, b: &'a [u8]) -> Result<Self> {
        need(b, 8).map_err(|_| Error::BadRtcp {
            what: Self::NAME,
            reason: "shorter than SSRC and name",
        })?;
        let mut name = [0u8; 4];
        name.copy_from_slice(sub(b, 4, 8));
        Ok(App {
            subtype: count,
            ssrc: Ssrc(u32_at(b, 0)),
            name,
            data: sub(b, 8, b.len()),
        })
    }

    fn emit_body(&self, b: &mut [u8]) -> Result<()> {
        if self.data.len() % 4 != 0 {
            return Err(Error::OutOfRange("APP data is not a multiple of 4"));
        }
        put_u32(b, 0, self.ssrc.0);
        put_slice(b, 4, &self.name);
        put_slice(b, 8, self.data);
        Ok(())
    }
}
