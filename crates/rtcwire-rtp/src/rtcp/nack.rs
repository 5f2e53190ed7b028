//! Generic NACK (RFC 4585 §6.2.1): transport-layer feedback, FMT 1.

use crate::error::{need, Error, Result};
use crate::rtcp::list::{List, WireItem};
use crate::rtcp::{packet_type, RtcpBody};
use crate::wire::{put_u16, put_u32, sub, u16_at, u32_at};
use crate::Ssrc;

/// One NACK FCI entry: a lost packet id and a bitmask of the 16 that follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct NackPair {
    /// PID: a lost sequence number.
    pub packet_id: u16,
    /// BLP: bit i set means `packet_id + i + 1` is lost too.
    pub lost_bitmask: u16,
}

impl NackPair {
    /// The sequence numbers this entry reports lost.
    #[inline]
    pub fn lost(&self) -> impl Iterator<Item = u16> {
        let (pid, blp) = (self.packet_id, self.lost_bitmask);
        std::iter::once(pid).chain(
            (0..16u16)
                .filter(move |i| blp & (1 << i) != 0)
                .map(move |i| pid.wrapping_add(i + 1)),
        )
    }

    /// Packs ascending (in wrapping order) lost sequence numbers into entries, calling
    /// `out` for each.
    pub fn pack(lost: impl IntoIterator<Item = u16>, mut out: impl FnMut(NackPair)) {
        let mut cur: Option<NackPair> = None;
        for seq in lost {
            if let Some(p) = &mut cur {
                let d = seq.wrapping_sub(p.packet_id);
                if (1..=16).contains(&d) {
                    p.lost_bitmask |= 1 << (d - 1);
                    continue;
                }
                if d == 0 {
                    continue;
                }
                out(*p);
            }
            cur = Some(NackPair {
                packet_id: seq,
                lost_bitmask: 0,
            });
        }
        if let Some(p) = cur {
            out(p);
        }
    }
}

impl WireItem for NackPair {
    const SIZE: usize = 4;
    fn read(b: &[u8]) -> Self {
        NackPair {
            packet_id: u16_at(b, 0),
            lost_bitmask: u16_at(b, 2),
        }
    }
    fn write(&self, b: &mut [u8]) {
        put_u16(b, 0, self.packet_id);
        put_u16(b, 2, self.lost_bitmask);
    }
}

/// A generic NACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Nack<'a> {
    /// SSRC of the feedback's sender.
    pub sender_ssrc: Ssrc,
    /// SSRC of the media source that lost packets.
    pub media_ssrc: Ssrc,
    /// FCI entries (at least one on the wire).
    pub pairs: List<'a, NackPair>,
}

impl Nack<'_> {
    /// Every sequence number reported lost.
    pub fn lost(&self) -> impl Iterator<Item = u16> + '_ {
        self.pairs.iter().flat_map(|p| p.lost())
    }
}

/// FMT of a generic NACK.
pub const FMT_NACK: u8 = 1;

impl<'a> RtcpBody<'a> for Nack<'a> {
    const PACKET_TYPE: u8 = packet_type::RTPFB;
    const NAME: &'static str = "NACK";

    fn count(&self) -> u8 {
        FMT_NACK
    }

    fn body_len(&self) -> usize {
        8 + self.pairs.buffer_len()
    }

    fn parse_body(_fmt: u8, b: &'a [u8]) -> Result<Self> {
        need(b, 12).map_err(|_| Error::BadRtcp {
            what: Self::NAME,
            reason: "no FCI entry",
        })?;
        let n = (b.len() - 8) / NackPair::SIZE;
        Ok(Nack {
            sender_ssrc: Ssrc(u32_at(b, 0)),
            media_ssrc: Ssrc(u32_at(b, 4)),
            pairs: List::Wire(sub(b, 8, 8 + n * NackPair::SIZE)),
        })
    }

    fn emit_body(&self, b: &mut [u8]) -> Result<()> {
        put_u32(b, 0, self.sender_ssrc.0);
        put_u32(b, 4, self.media_ssrc.0);
        self.pairs.write(b.get_mut(8..).unwrap_or(&mut []));
        Ok(())
    }
}
