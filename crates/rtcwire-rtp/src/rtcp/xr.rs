//! Extended reports (RFC 3611), the cheap part: blocks are kept raw, with typed access to
//! the receiver reference time (RRTR, BT 4) and DLRR (BT 5) blocks WebRTC uses for
//! receiver-side RTT.

use crate::error::{need, Error, Result};
use crate::rtcp::{packet_type, RtcpBody};
use crate::wire::{put_slice, put_u16, put_u32, put_u8, sub, u16_at, u32_at, u64_at, u8_at};
use crate::Ssrc;

/// Block type of a receiver reference time report.
pub const BT_RRTR: u8 = 4;
/// Block type of a DLRR report.
pub const BT_DLRR: u8 = 5;

/// One XR report block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct XrBlock<'a> {
    /// Block type (BT).
    pub block_type: u8,
    /// Type-specific byte.
    pub type_specific: u8,
    /// Block contents, a multiple of 4 bytes.
    pub data: &'a [u8],
}

/// One DLRR sub-block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DlrrItem {
    /// SSRC of the receiver.
    pub ssrc: Ssrc,
    /// Last RR (middle 32 bits of its RRTR NTP timestamp).
    pub last_rr: u32,
    /// Delay since that RRTR, 1/65536 s.
    pub delay_since_last_rr: u32,
}

impl<'a> XrBlock<'a> {
    /// The NTP timestamp of an RRTR block.
    pub fn rrtr(&self) -> Option<u64> {
        (self.block_type == BT_RRTR && self.data.len() == 8).then(|| u64_at(self.data, 0))
    }

    /// The sub-blocks of a DLRR block.
    pub fn dlrr(&self) -> Option<impl Iterator<Item = DlrrItem> + 'a> {
        let d = self.data;
        (self.block_type == BT_DLRR).then(|| {
            d.chunks_exact(12).map(|c| DlrrItem {
                ssrc: Ssrc(u32_at(c, 0)),
                last_rr: u32_at(c, 4),
                delay_since_last_rr: u32_at(c, 8),
            })
        })
    }

    /// Encodes an RRTR block body.
    pub fn rrtr_data(ntp: u64) -> [u8; 8] {
        ntp.to_be_bytes()
    }

    /// Encodes a DLRR sub-block.
    pub fn dlrr_data(item: &DlrrItem) -> [u8; 12] {
        let mut b = [0u8; 12];
        put_u32(&mut b, 0, item.ssrc.0);
        put_u32(&mut b, 4, item.last_rr);
        put_u32(&mut b, 8, item.delay_since_last_rr);
        b
    }
}

/// The blocks of an XR packet.
#[derive(Debug, Clone, Copy)]
pub enum XrBlocks<'a> {
    /// Blocks as received (validated).
    Wire(&'a [u8]),
    /// Blocks to write.
    Items(&'a [XrBlock<'a>]),
}

impl<'a> XrBlocks<'a> {
    /// Iterates over the blocks.
    pub fn iter(&self) -> impl Iterator<Item = XrBlock<'a>> + 'a {
        let (wire, items): (&'a [u8], &'a [XrBlock<'a>]) = match *self {
            XrBlocks::Wire(b) => (b, &[]),
            XrBlocks::Items(v) => (&[], v),
        };
        let mut pos = 0;
        let wire_iter = std::iter::from_fn(move || {
            if pos + 4 > wire.len() {
                return None;
            }
            let len = 4 * usize::from(u16_at(wire, pos + 2));
            let block = XrBlock {
                block_type: u8_at(wire, pos),
                type_specific: u8_at(wire, pos + 1),
                data: sub(wire, pos + 4, pos + 4 + len),
            };
            pos += 4 + len;
            Some(block)
        });
        wire_iter.chain(items.iter().copied())
    }
}

impl PartialEq for XrBlocks<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}
impl Eq for XrBlocks<'_> {}

/// An extended report packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Xr<'a> {
    /// SSRC of the sender.
    pub ssrc: Ssrc,
    /// Report blocks.
    pub blocks: XrBlocks<'a>,
}

impl<'a> RtcpBody<'a> for Xr<'a> {
    const PACKET_TYPE: u8 = packet_type::XR;
    const NAME: &'static str = "XR";

    fn count(&self) -> u8 {
        0
    }

    fn body_len(&self) -> usize {
        4 + self.blocks.iter().map(|b| 4 + b.data.len()).sum::<usize>()
    }

    fn parse_body(_count: u8, b: &'a [u8]) -> Result<Self> {
        let bad = |reason| Error::BadRtcp {
            what: Self::NAME,
            reason,
        };
        need(b, 4).map_err(|_| bad("no SSRC"))?;
        let mut pos = 4;
        // Each block advances at least 4 bytes.
        while pos < b.len() {
            if pos + 4 > b.len() {
                return Err(bad("block header cut"));
            }
            let len = 4 * usize::from(u16_at(b, pos + 2));
            pos += 4 + len;
            if pos > b.len() {
                return Err(bad("block overruns the packet"));
            }
        }
        Ok(Xr {
            ssrc: Ssrc(u32_at(b, 0)),
            blocks: XrBlocks::Wire(sub(b, 4, b.len())),
        })
    }

    fn emit_body(&self, b: &mut [u8]) -> Result<()> {
        put_u32(b, 0, self.ssrc.0);
        let mut pos = 4;
        for blk in self.blocks.iter() {
            if blk.data.len() % 4 != 0 || blk.data.len() / 4 > usize::from(u16::MAX) {
                return Err(Error::OutOfRange("XR block is not a multiple of 4 bytes"));
            }
            put_u8(b, pos, blk.block_type);
            put_u8(b, pos + 1, blk.type_specific);
            put_u16(b, pos + 2, (blk.data.len() / 4) as u16);
            put_slice(b, pos + 4, blk.data);
            pos += 4 + blk.data.len();
        }
        Ok(())
    }
}
