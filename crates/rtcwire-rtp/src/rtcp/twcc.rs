//! Transport-wide congestion control feedback
//! (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1): RTPFB FMT 15.
//!
//! [`TransportFeedback`] is a zero-copy view whose [`packets`](TransportFeedback::packets)
//! iterator decodes run-length and status-vector chunks and receive deltas on the fly.
//! [`TwccBuilder`] turns arrival times into the most compact chunks.

use crate::error::{need, Error, Result};
use crate::rtcp::{packet_type, RtcpBody};
use crate::wire::{
    put_slice, put_u16, put_u24, put_u32, put_u8, sub, u16_at, u24_at, u32_at, u8_at,
};
use crate::Ssrc;

/// FMT of transport-wide feedback.
pub const FMT_TWCC: u8 = 15;
/// Receive deltas count in units of 250 µs.
pub const DELTA_TICK_US: i64 = 250;
/// The reference time counts in units of 64 ms.
pub const REFERENCE_TICK_US: i64 = 64_000;

/// Status of one packet in a feedback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketStatus {
    /// `00`: not received.
    NotReceived,
    /// `01`: received, delta in one unsigned byte.
    SmallDelta,
    /// `10`: received, delta in two signed bytes.
    LargeDelta,
    /// `11`: reserved; treated as received without a delta.
    Reserved,
}

impl PacketStatus {
    #[inline]
    fn from_bits(b: u16) -> Self {
        match b & 3 {
            0 => PacketStatus::NotReceived,
            1 => PacketStatus::SmallDelta,
            2 => PacketStatus::LargeDelta,
            _ => PacketStatus::Reserved,
        }
    }

    fn bits(self) -> u16 {
        match self {
            PacketStatus::NotReceived => 0,
            PacketStatus::SmallDelta => 1,
            PacketStatus::LargeDelta => 2,
            PacketStatus::Reserved => 3,
        }
    }

    #[inline]
    fn delta_len(self) -> usize {
        match self {
            PacketStatus::SmallDelta => 1,
            PacketStatus::LargeDelta => 2,
            _ => 0,
        }
    }
}

/// One packet chunk, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Chunk {
    /// `T=0`: `length` packets with the same status.
    RunLength {
        /// The status repeated.
        status: PacketStatus,
        /// Run length (13 bits).
        length: u16,
    },
    /// `T=1, S=0`: 14 one-bit symbols (not received / small delta), first in the MSB.
    OneBitVector(u16),
    /// `T=1, S=1`: 7 two-bit symbols, first in the MSBs.
    TwoBitVector(u16),
}

impl Chunk {
    /// Decodes a 16-bit chunk.
    #[inline]
    pub fn from_u16(v: u16) -> Self {
        if v & 0x8000 == 0 {
            Chunk::RunLength {
                status: PacketStatus::from_bits(v >> 13),
                length: v & 0x1fff,
            }
        } else if v & 0x4000 == 0 {
            Chunk::OneBitVector(v & 0x3fff)
        } else {
            Chunk::TwoBitVector(v & 0x3fff)
        }
    }

    /// Encodes the chunk.
    pub fn to_u16(self) -> u16 {
        match self {
            Chunk::RunLength { status, length } => status.bits() << 13 | (length & 0x1fff),
            Chunk::OneBitVector(bits) => 0x8000 | (bits & 0x3fff),
            Chunk::TwoBitVector(bits) => 0xc000 | (bits & 0x3fff),
        }
    }

    /// Number of symbols the chunk carries.
    #[inline]
    pub fn capacity(self) -> usize {
        match self {
            Chunk::RunLength { length, .. } => usize::from(length),
            Chunk::OneBitVector(_) => 14,
            Chunk::TwoBitVector(_) => 7,
        }
    }

    /// Receive-delta bytes needed by the first `n` (≤ capacity) statuses.
    #[inline]
    pub fn delta_bytes(self, n: usize) -> usize {
        match self {
            Chunk::RunLength { status, .. } => n * status.delta_len(),
            Chunk::OneBitVector(bits) => {
                // Every set bit is a small delta (one byte).
                (bits >> (14 - n.min(14))).count_ones() as usize
            }
            Chunk::TwoBitVector(bits) => {
                let v = bits >> (2 * (7 - n.min(7)));
                let (lo, hi) = (v & 0x1555, (v >> 1) & 0x1555);
                // 01: small (1 byte), 10: large (2 bytes), 11: reserved (none).
                (lo & !hi).count_ones() as usize + 2 * (hi & !lo).count_ones() as usize
            }
        }
    }

    /// Status `i` (`i < capacity`).
    #[inline]
    pub fn status(self, i: usize) -> PacketStatus {
        match self {
            Chunk::RunLength { status, .. } => status,
            Chunk::OneBitVector(bits) => PacketStatus::from_bits((bits >> (13 - i.min(13))) & 1),
            Chunk::TwoBitVector(bits) => PacketStatus::from_bits(bits >> (2 * (6 - i.min(6)))),
        }
    }
}

/// One packet reported by a feedback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TwccPacket {
    /// Transport-wide sequence number.
    pub seq: u16,
    /// Status.
    pub status: PacketStatus,
    /// Receive delta in 250 µs units from the previous received packet (or from the
    /// reference time for the first), when the status carries one.
    pub delta: Option<i16>,
}

/// A transport-wide congestion control feedback packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TransportFeedback<'a> {
    /// SSRC of the feedback's sender.
    pub sender_ssrc: Ssrc,
    /// SSRC of the media source.
    pub media_ssrc: Ssrc,
    /// First sequence number reported.
    pub base_seq: u16,
    /// Number of packets reported.
    pub status_count: u16,
    /// Reference time, 24-bit signed, in 64 ms units.
    pub reference_time: i32,
    /// Feedback packet counter (wraps).
    pub fb_pkt_count: u8,
    /// Packet chunks, 2 bytes each (validated: they cover `status_count`).
    pub chunks: &'a [u8],
    /// Receive deltas (validated: as many bytes as the statuses need).
    pub deltas: &'a [u8],
}

fn bad(reason: &'static str) -> Error {
    Error::BadRtcp {
        what: "TWCC",
        reason,
    }
}

impl<'a> TransportFeedback<'a> {
    /// Iterates over every reported packet, in sequence order.
    #[inline]
    pub fn packets(&self) -> TwccPackets<'a> {
        TwccPackets {
            chunks: self.chunks,
            deltas: self.deltas,
            remaining: usize::from(self.status_count),
            seq: self.base_seq,
            chunk: None,
            in_chunk: 0,
            chunk_pos: 0,
            delta_pos: 0,
        }
    }

    /// The reference time in microseconds.
    pub fn reference_time_us(&self) -> i64 {
        i64::from(self.reference_time) * REFERENCE_TICK_US
    }

    /// Received packets with their arrival time in microseconds (in the feedback sender's
    /// time base, starting from the reference time).
    pub fn arrivals(&self) -> impl Iterator<Item = (u16, i64)> + 'a {
        let mut t = self.reference_time_us();
        self.packets().filter_map(move |p| {
            let d = p.delta?;
            t += i64::from(d) * DELTA_TICK_US;
            Some((p.seq, t))
        })
    }
}

/// Iterator over the packets of a [`TransportFeedback`].
#[derive(Debug, Clone)]
pub struct TwccPackets<'a> {
    chunks: &'a [u8],
    deltas: &'a [u8],
    remaining: usize,
    seq: u16,
    chunk: Option<Chunk>,
    in_chunk: usize,
    chunk_pos: usize,
    delta_pos: usize,
}

impl Iterator for TwccPackets<'_> {
    type Item = TwccPacket;

    #[inline]
    fn next(&mut self) -> Option<TwccPacket> {
        if self.remaining == 0 {
            return None;
        }
        // Skips empty run-length chunks; bounded by the chunk bytes.
        loop {
            match self.chunk {
                Some(c) if self.in_chunk < c.capacity() => break,
                _ => {
                    if self.chunk_pos + 2 > self.chunks.len() {
                        self.remaining = 0;
                        return None;
                    }
                    self.chunk = Some(Chunk::from_u16(u16_at(self.chunks, self.chunk_pos)));
                    self.chunk_pos += 2;
                    self.in_chunk = 0;
                }
            }
        }
        let status = self.chunk?.status(self.in_chunk);
        self.in_chunk += 1;
        let delta = match status {
            PacketStatus::SmallDelta => {
                let d = i16::from(u8_at(self.deltas, self.delta_pos));
                self.delta_pos += 1;
                Some(d)
            }
            PacketStatus::LargeDelta => {
                let d = u16_at(self.deltas, self.delta_pos) as i16;
                self.delta_pos += 2;
                Some(d)
            }
            _ => None,
        };
        let seq = self.seq;
        self.seq = self.seq.wrapping_add(1);
        self.remaining -= 1;
        Some(TwccPacket { seq, status, delta })
    }
}

impl<'a> RtcpBody<'a> for TransportFeedback<'a> {
    const PACKET_TYPE: u8 = packet_type::RTPFB;
    const NAME: &'static str = "TWCC";

    fn count(&self) -> u8 {
        FMT_TWCC
    }

    fn body_len(&self) -> usize {
        16 + self.chunks.len() + self.deltas.len()
    }

    fn parse_body(_fmt: u8, b: &'a [u8]) -> Result<Self> {
        need(b, 16).map_err(|_| bad("shorter than the TWCC header"))?;
        let status_count = u16_at(b, 10);
        let mut remaining = usize::from(status_count);
        let mut pos = 16;
        let mut delta_bytes = 0usize;
        // Each iteration consumes one chunk of a bounded buffer.
        while remaining > 0 {
            if pos + 2 > b.len() {
                return Err(bad("chunks end before the status count is covered"));
            }
            let c = Chunk::from_u16(u16_at(b, pos));
            pos += 2;
            let n = c.capacity().min(remaining);
            delta_bytes += c.delta_bytes(n);
            remaining -= n;
        }
        let end = pos + delta_bytes;
        if end > b.len() {
            return Err(bad("receive deltas overrun the packet"));
        }
        let rt = u24_at(b, 12);
        Ok(TransportFeedback {
            sender_ssrc: Ssrc(u32_at(b, 0)),
            media_ssrc: Ssrc(u32_at(b, 4)),
            base_seq: u16_at(b, 8),
            status_count,
            reference_time: ((rt << 8) as i32) >> 8,
            fb_pkt_count: u8_at(b, 15),
            chunks: sub(b, 16, pos),
            deltas: sub(b, pos, end),
        })
    }

    fn emit_body(&self, b: &mut [u8]) -> Result<()> {
        if self.chunks.len() % 2 != 0 {
            return Err(Error::OutOfRange("TWCC chunks are 2 bytes each"));
        }
        put_u32(b, 0, self.sender_ssrc.0);
        put_u32(b, 4, self.media_ssrc.0);
        put_u16(b, 8, self.base_seq);
        put_u16(b, 10, self.status_count);
        put_u24(b, 12, (self.reference_time as u32) & 0xff_ffff);
        put_u8(b, 15, self.fb_pkt_count);
        put_slice(b, 16, self.chunks);
        put_slice(b, 16 + self.chunks.len(), self.deltas);
        Ok(())
    }
}

/// Builds a transport-wide feedback from packet arrivals. Buffers are kept between
/// feedbacks ([`TwccBuilder::reset`]) so steady state does not allocate.
///
/// ```
/// use rtcwire_rtp::rtcp::{TwccBuilder, PacketStatus};
/// use rtcwire_rtp::Ssrc;
/// let mut b = TwccBuilder::new(Ssrc(1), Ssrc(2));
/// b.push(100, 1_000_000).unwrap();
/// b.push(102, 1_000_500).unwrap(); // 101 lost
/// let fb = b.build(0);
/// let statuses: Vec<_> = fb.packets().map(|p| p.status).collect();
/// assert_eq!(statuses, [PacketStatus::SmallDelta, PacketStatus::NotReceived,
///                       PacketStatus::SmallDelta]);
/// let arrivals: Vec<_> = fb.arrivals().collect();
/// assert_eq!(arrivals, [(100, 1_000_000), (102, 1_000_500)]);
/// ```
#[derive(Debug, Clone, Default)]
pub struct TwccBuilder {
    sender_ssrc: Ssrc,
    media_ssrc: Ssrc,
    base_seq: u16,
    next_seq: u16,
    reference_time: i32,
    last_tick: i64,
    statuses: Vec<PacketStatus>,
    deltas: Vec<u8>,
    chunks: Vec<u8>,
}

/// Most packets one feedback reports.
pub const MAX_STATUS_COUNT: usize = 0xffff;

impl TwccBuilder {
    /// An empty builder for feedback from `sender_ssrc` about `media_ssrc`.
    pub fn new(sender_ssrc: Ssrc, media_ssrc: Ssrc) -> Self {
        TwccBuilder {
            sender_ssrc,
            media_ssrc,
            ..Self::default()
        }
    }

    /// Forgets every packet, keeping the buffers.
    pub fn reset(&mut self) {
        self.statuses.clear();
        self.deltas.clear();
        self.chunks.clear();
    }

    /// Whether no packet was pushed since the last reset.
    pub fn is_empty(&self) -> bool {
        self.statuses.is_empty()
    }

    /// Records that `seq` arrived at `arrival_us` (receiver's clock, microseconds).
    /// Sequence numbers must increase (gaps are reported as not received). Fails, leaving
    /// the builder unchanged, when the packet cannot join this feedback (older sequence, too
    /// many packets, or a delta beyond ±8.2 s): send this feedback and start a new one.
    pub fn push(&mut self, seq: u16, arrival_us: i64) -> Result<()> {
        let tick = arrival_us.div_euclid(DELTA_TICK_US);
        if self.statuses.is_empty() {
            let reference = arrival_us.div_euclid(REFERENCE_TICK_US);
            self.base_seq = seq;
            self.next_seq = seq;
            // 24-bit signed field: wrap the reference the way receivers expect.
            self.reference_time = (((reference as u32) << 8) as i32) >> 8;
            self.last_tick = reference * (REFERENCE_TICK_US / DELTA_TICK_US);
        }
        let gap = usize::from(seq.wrapping_sub(self.next_seq));
        if gap >= 0x8000 {
            return Err(Error::OutOfRange("TWCC sequence number went backwards"));
        }
        if self.statuses.len() + gap + 1 > MAX_STATUS_COUNT {
            return Err(Error::OutOfRange("TWCC feedback is full"));
        }
        let delta = tick - self.last_tick;
        let status = if (0..=255).contains(&delta) {
            PacketStatus::SmallDelta
        } else if (i64::from(i16::MIN)..=i64::from(i16::MAX)).contains(&delta) {
            PacketStatus::LargeDelta
        } else {
            return Err(Error::OutOfRange("TWCC receive delta does not fit 16 bits"));
        };
        self.statuses
            .extend(std::iter::repeat_n(PacketStatus::NotReceived, gap));
        self.statuses.push(status);
        if status == PacketStatus::SmallDelta {
            self.deltas.push(delta as u8);
        } else {
            self.deltas.extend_from_slice(&(delta as i16).to_be_bytes());
        }
        self.last_tick = tick;
        self.next_seq = seq.wrapping_add(1);
        Ok(())
    }

    /// Encodes the chunks and returns the feedback, numbered `fb_pkt_count`.
    pub fn build(&mut self, fb_pkt_count: u8) -> TransportFeedback<'_> {
        self.chunks.clear();
        emit_chunks(&self.statuses, &mut self.chunks);
        TransportFeedback {
            sender_ssrc: self.sender_ssrc,
            media_ssrc: self.media_ssrc,
            base_seq: self.base_seq,
            status_count: self.statuses.len() as u16,
            reference_time: self.reference_time,
            fb_pkt_count,
            chunks: &self.chunks,
            deltas: &self.deltas,
        }
    }
}

/// Greedy chunk encoding: long runs become run-length chunks, mixed stretches become
/// one-bit vectors when no large delta is among them and two-bit vectors otherwise.
pub fn emit_chunks(statuses: &[PacketStatus], out: &mut Vec<u8>) {
    let mut i = 0;
    while let Some(&first) = statuses.get(i) {
        let rest = statuses.get(i..).unwrap_or(&[]);
        let run = rest
            .iter()
            .take(0x1fff)
            .take_while(|&&s| s == first)
            .count();
        let window14 = rest.get(..14.min(rest.len())).unwrap_or(&[]);
        let one_bit_ok = window14
            .iter()
            .all(|s| matches!(s, PacketStatus::NotReceived | PacketStatus::SmallDelta));
        let chunk = if run >= 14 || run == rest.len() && run >= 7 {
            i += run;
            Chunk::RunLength {
                status: first,
                length: run as u16,
            }
        } else if one_bit_ok {
            let mut bits = 0u16;
            for (k, s) in window14.iter().enumerate() {
                bits |= s.bits() << (13 - k);
            }
            i += window14.len();
            Chunk::OneBitVector(bits)
        } else if run >= 7 {
            i += run;
            Chunk::RunLength {
                status: first,
                length: run as u16,
            }
        } else {
            let window7 = rest.get(..7.min(rest.len())).unwrap_or(&[]);
            let mut bits = 0u16;
            for (k, s) in window7.iter().enumerate() {
                bits |= s.bits() << (2 * (6 - k));
            }
            i += window7.len();
            Chunk::TwoBitVector(bits)
        };
        out.extend_from_slice(&chunk.to_u16().to_be_bytes());
    }
}
