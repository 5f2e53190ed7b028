//! A transceiver's RTP state: the send stream (sequence numbers, history for NACK) and
//! the receive streams (reordering, reassembly, loss detection, statistics).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rtcwire_rtp::codec::{
    Av1Depacketizer, Frame, FrameAssembler, G711Depacketizer, H264Depacketizer, OpusDepacketizer,
    Vp8Depacketizer, Vp9Depacketizer,
};
use rtcwire_rtp::jitter::JitterBuffer;
use rtcwire_rtp::rtp::ExtensionMap;
use rtcwire_rtp::seq::SeqUnwrapper;
use rtcwire_rtp::stats::ReceiverStats;
use rtcwire_rtp::Ssrc;

use super::{Codec, Direction, MediaKind, NegotiatedCodec, TransceiverId};

/// Packets kept for retransmission, per send stream (video; audio keeps none).
pub(crate) const HISTORY: usize = 1024;
/// The room a history slot is given (the largest RTP packet we write, with its
/// extensions).
const HISTORY_SLOT: usize = 1280;
/// Most sequence numbers a receive stream asks again for at once.
const MAX_MISSING: usize = 512;
/// A missing packet is asked for at most this many times.
const MAX_NACKS: u8 = 10;
/// Most receive streams (SSRCs) per transceiver.
pub(crate) const MAX_RECV_STREAMS: usize = 8;
/// Most packets a receive stream holds back while waiting for a lost one.
const JITTER_DEPTH_VIDEO: usize = 512;
const JITTER_DEPTH_AUDIO: usize = 16;

/// One transceiver.
#[derive(Debug)]
pub(crate) struct Transceiver {
    pub(crate) id: TransceiverId,
    pub(crate) kind: MediaKind,
    pub(crate) mid: Option<String>,
    /// What the application wants.
    pub(crate) direction: Direction,
    /// What the last exchange settled (our point of view), once negotiated.
    pub(crate) current: Option<Direction>,
    pub(crate) stopped: bool,
    pub(crate) stream_ids: Vec<String>,
    pub(crate) track_id: String,
    pub(crate) cname: String,
    pub(crate) codecs: Vec<NegotiatedCodec>,
    pub(crate) ext: ExtensionMap,
    pub(crate) rtcp_rsize: bool,
    /// Transport-wide congestion control is offered and accepted (`Config::transport_cc`).
    pub(crate) transport_cc: bool,
    pub(crate) send: SendStream,
    /// Simulcast layers after the first (`t.send`, whose `rid` is then the first rid),
    /// each with its own SSRC and RTX SSRC.
    pub(crate) layers: Vec<SendStream>,
    /// The peer accepted our simulcast (`a=simulcast:recv` in its answer, or it offered
    /// to receive it): every layer sends with its rid. Otherwise only the first layer
    /// sends, without a rid.
    pub(crate) simulcast_accepted: bool,
    /// The rids the peer sends us in simulcast (`a=simulcast:send` of its section).
    pub(crate) remote_simulcast: Vec<String>,
    pub(crate) recv: Vec<RecvStream>,
    /// Primary SSRCs the peer announced, with their RTX SSRCs.
    pub(crate) remote_ssrcs: Vec<(u32, Option<u32>)>,
    pub(crate) remote_rids: Vec<String>,
    pub(crate) remote_stream_ids: Vec<String>,
    /// `Event::Track` was emitted.
    pub(crate) track_fired: bool,
    /// The peer asked for a keyframe: counters.
    pub(crate) plis_received: u64,
    pub(crate) firs_received: u64,
    pub(crate) fir_seq: u8,
}

impl Transceiver {
    pub(crate) fn new(
        id: TransceiverId,
        kind: MediaKind,
        direction: Direction,
        stream_ids: Vec<String>,
        ssrc: u32,
        rtx_ssrc: u32,
        cname: String,
    ) -> Self {
        Transceiver {
            id,
            kind,
            mid: None,
            direction,
            current: None,
            stopped: false,
            stream_ids,
            track_id: format!("track-{}", id.0),
            cname,
            codecs: Vec::new(),
            ext: ExtensionMap::new(),
            rtcp_rsize: false,
            transport_cc: true,
            send: SendStream::new(ssrc, (kind == MediaKind::Video).then_some(rtx_ssrc)),
            layers: Vec::new(),
            simulcast_accepted: false,
            remote_simulcast: Vec::new(),
            recv: Vec::new(),
            remote_ssrcs: Vec::new(),
            remote_rids: Vec::new(),
            remote_stream_ids: Vec::new(),
            track_fired: false,
            plis_received: 0,
            firs_received: 0,
            fir_seq: 0,
        }
    }

    pub(crate) fn codec(&self, pt: u8) -> Option<&NegotiatedCodec> {
        self.codecs.iter().find(|c| c.payload_type == pt)
    }

    /// The primary codec an RTX payload type repairs.
    pub(crate) fn rtx_primary(&self, pt: u8) -> Option<&NegotiatedCodec> {
        self.codecs.iter().find(|c| c.rtx == Some(pt))
    }

    pub(crate) fn sending(&self) -> bool {
        !self.stopped && self.current.is_some_and(Direction::sends)
    }

    pub(crate) fn receiving(&self) -> bool {
        !self.stopped && self.current.is_some_and(Direction::receives)
    }

    pub(crate) fn recv_stream(&mut self, ssrc: u32) -> Option<&mut RecvStream> {
        self.recv.iter_mut().find(|r| r.ssrc == ssrc)
    }

    /// Our send streams: the first, then the simulcast layers.
    pub(crate) fn send_streams(&self) -> impl Iterator<Item = &SendStream> {
        std::iter::once(&self.send).chain(self.layers.iter())
    }

    /// Send stream `layer` (0: the first).
    pub(crate) fn send_layer(&mut self, layer: usize) -> Option<&mut SendStream> {
        match layer {
            0 => Some(&mut self.send),
            n => self.layers.get_mut(n - 1),
        }
    }

    /// Which of our send streams has this SSRC (its primary one).
    pub(crate) fn layer_of(&self, ssrc: u32) -> Option<usize> {
        self.send_streams().position(|s| s.ssrc == ssrc)
    }

    /// Whether we send simulcast on this transceiver now.
    pub(crate) fn simulcast(&self) -> bool {
        self.simulcast_accepted && !self.layers.is_empty()
    }
}

/// Our one outgoing stream of a transceiver (plus its RTX stream).
#[derive(Debug)]
pub(crate) struct SendStream {
    /// Its rid when the transceiver sends simulcast (RFC 8851).
    pub(crate) rid: Option<String>,
    pub(crate) ssrc: u32,
    pub(crate) rtx_ssrc: Option<u32>,
    pub(crate) seq: u16,
    pub(crate) rtx_seq: u16,
    /// Sent packets by `seq % HISTORY` (plaintext, for NACK).
    pub(crate) history: Vec<(u16, Vec<u8>)>,
    pub(crate) packets: u64,
    pub(crate) bytes: u64,
    pub(crate) frames: u64,
    pub(crate) retransmitted: u64,
    pub(crate) nacks_received: u64,
    /// The last frame's RTP timestamp, clock rate, and when it was written.
    pub(crate) last: Option<(u32, u32, Instant)>,
    /// From the peer's receiver reports.
    pub(crate) remote_lost: i64,
    pub(crate) remote_fraction_lost: u8,
    pub(crate) remote_jitter: u32,
    pub(crate) rtt: Option<Duration>,
}

impl SendStream {
    pub(crate) fn new(ssrc: u32, rtx_ssrc: Option<u32>) -> Self {
        SendStream {
            rid: None,
            ssrc,
            rtx_ssrc,
            seq: (ssrc >> 16) as u16 & 0x7fff,
            rtx_seq: (ssrc & 0x7fff) as u16,
            history: Vec::new(),
            packets: 0,
            bytes: 0,
            frames: 0,
            retransmitted: 0,
            nacks_received: 0,
            last: None,
            remote_lost: 0,
            remote_fraction_lost: 0,
            remote_jitter: 0,
            rtt: None,
        }
    }

    /// Keeps a sent packet for retransmission, reusing the slot's buffer.
    pub(crate) fn remember(&mut self, seq: u16, packet: &[u8]) {
        if self.history.is_empty() {
            self.history.resize_with(HISTORY, || (0, Vec::new()));
        }
        if let Some(slot) = self.history.get_mut(usize::from(seq) % HISTORY) {
            slot.0 = seq;
            slot.1.clear();
            // Room for the largest packet at once: a slot that first held a short one
            // (a frame's last) would otherwise grow again when a full one lands there.
            if slot.1.capacity() < packet.len() {
                slot.1.reserve_exact(packet.len().max(HISTORY_SLOT));
            }
            slot.1.extend_from_slice(packet);
        }
    }

    pub(crate) fn lookup(&self, seq: u16) -> Option<&[u8]> {
        self.history
            .get(usize::from(seq) % HISTORY)
            .filter(|(s, p)| *s == seq && !p.is_empty())
            .map(|(_, p)| p.as_slice())
    }
}

/// Reassembly for whichever codec a stream carries.
#[derive(Debug)]
pub(crate) enum Assembler {
    Opus(FrameAssembler<OpusDepacketizer>),
    G711(FrameAssembler<G711Depacketizer>),
    Vp8(FrameAssembler<Vp8Depacketizer>),
    Vp9(FrameAssembler<Vp9Depacketizer>),
    H264(FrameAssembler<H264Depacketizer>),
    Av1(FrameAssembler<Av1Depacketizer>),
}

/// Largest frame a receive stream assembles.
const MAX_FRAME: usize = 4 * 1024 * 1024;

impl Assembler {
    pub(crate) fn new(codec: Codec) -> Self {
        match codec {
            Codec::Opus => Assembler::Opus(FrameAssembler::with_max_frame_size(
                OpusDepacketizer,
                MAX_FRAME,
            )),
            Codec::Pcmu | Codec::Pcma => Assembler::G711(FrameAssembler::with_max_frame_size(
                G711Depacketizer,
                MAX_FRAME,
            )),
            Codec::Vp8 => Assembler::Vp8(FrameAssembler::with_max_frame_size(
                Vp8Depacketizer::default(),
                MAX_FRAME,
            )),
            Codec::Vp9 => Assembler::Vp9(FrameAssembler::with_max_frame_size(
                Vp9Depacketizer::default(),
                MAX_FRAME,
            )),
            Codec::H264 => Assembler::H264(FrameAssembler::with_max_frame_size(
                H264Depacketizer::default(),
                MAX_FRAME,
            )),
            Codec::Av1 => Assembler::Av1(FrameAssembler::with_max_frame_size(
                Av1Depacketizer::default(),
                MAX_FRAME,
            )),
        }
    }

    pub(crate) fn push(&mut self, seq: u16, ts: u32, marker: bool, payload: &[u8]) -> bool {
        match self {
            Assembler::Opus(a) => a.push(seq, ts, marker, payload),
            Assembler::G711(a) => a.push(seq, ts, marker, payload),
            Assembler::Vp8(a) => a.push(seq, ts, marker, payload),
            Assembler::Vp9(a) => a.push(seq, ts, marker, payload),
            Assembler::H264(a) => a.push(seq, ts, marker, payload),
            Assembler::Av1(a) => a.push(seq, ts, marker, payload),
        }
    }

    pub(crate) fn pop_frame(&mut self) -> Option<Frame> {
        match self {
            Assembler::Opus(a) => a.pop_frame(),
            Assembler::G711(a) => a.pop_frame(),
            Assembler::Vp8(a) => a.pop_frame(),
            Assembler::Vp9(a) => a.pop_frame(),
            Assembler::H264(a) => a.pop_frame(),
            Assembler::Av1(a) => a.pop_frame(),
        }
    }

    pub(crate) fn dropped_frames(&self) -> u64 {
        match self {
            Assembler::Opus(a) => a.dropped_frames(),
            Assembler::G711(a) => a.dropped_frames(),
            Assembler::Vp8(a) => a.dropped_frames(),
            Assembler::Vp9(a) => a.dropped_frames(),
            Assembler::H264(a) => a.dropped_frames(),
            Assembler::Av1(a) => a.dropped_frames(),
        }
    }
}

/// Lost sequence numbers to ask again for (RFC 4585 generic NACK).
#[derive(Debug, Default)]
pub(crate) struct NackTracker {
    unwrapper: SeqUnwrapper,
    highest: Option<u64>,
    /// Missing extended sequence number → (times asked, last asked).
    missing: BTreeMap<u64, (u8, Option<Instant>)>,
    pub(crate) recovered: u64,
    pub(crate) given_up: u64,
}

impl NackTracker {
    pub(crate) fn on_packet(&mut self, seq: u16) {
        let s = self.unwrapper.unwrap(seq);
        match self.highest {
            None => self.highest = Some(s),
            Some(h) if s > h => {
                if s - h > MAX_MISSING as u64 {
                    // A jump, not loss: start over.
                    self.given_up += self.missing.len() as u64;
                    self.missing.clear();
                } else {
                    for m in h + 1..s {
                        self.missing.insert(m, (0, None));
                    }
                }
                self.highest = Some(s);
            }
            Some(_) => {
                if self.missing.remove(&s).is_some() {
                    self.recovered += 1;
                }
            }
        }
        while self.missing.len() > MAX_MISSING {
            if self.missing.pop_first().is_some() {
                self.given_up += 1;
            }
        }
    }

    /// The sequence numbers to ask for now (at most every `interval` each).
    pub(crate) fn due(&mut self, now: Instant, interval: Duration, out: &mut Vec<u16>) {
        out.clear();
        let mut expired = Vec::new();
        for (&s, (tries, last)) in self.missing.iter_mut() {
            if last.is_some_and(|l| now.saturating_duration_since(l) < interval) {
                continue;
            }
            if *tries >= MAX_NACKS {
                expired.push(s);
                continue;
            }
            *tries += 1;
            *last = Some(now);
            out.push(s as u16);
        }
        for s in expired {
            self.missing.remove(&s);
            self.given_up += 1;
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.missing.is_empty()
    }
}

/// One remote SSRC received on a transceiver.
#[derive(Debug)]
pub(crate) struct RecvStream {
    pub(crate) ssrc: u32,
    /// The rid its packets carry (simulcast), once seen.
    pub(crate) rid: Option<std::sync::Arc<str>>,
    pub(crate) rtx_ssrc: Option<u32>,
    pub(crate) payload_type: u8,
    pub(crate) codec: Codec,
    pub(crate) assembler: Assembler,
    pub(crate) jitter: JitterBuffer<Vec<u8>>,
    /// Emptied packet buffers for the jitter buffer to take again.
    pub(crate) pool: Vec<Vec<u8>>,
    pub(crate) stats: ReceiverStats,
    pub(crate) nack: NackTracker,
    pub(crate) packets: u64,
    pub(crate) bytes: u64,
    pub(crate) frames: u64,
    pub(crate) keyframes: u64,
    pub(crate) nacks_sent: u64,
    pub(crate) plis_sent: u64,
    pub(crate) firs_sent: u64,
    pub(crate) rtx_packets: u64,
    /// No keyframe since the stream began or since a frame was lost.
    pub(crate) waiting_keyframe: bool,
    pub(crate) dropped_seen: u64,
    pub(crate) last_keyframe_request: Option<Instant>,
    /// The source said RTCP BYE.
    pub(crate) bye: bool,
    /// The latest sender report from this source.
    pub(crate) remote_sr: Option<crate::connection::RemoteOutboundRtpStats>,
}

impl RecvStream {
    pub(crate) fn new(ssrc: u32, payload_type: u8, codec: Codec, kind: MediaKind) -> Self {
        let (depth, delay) = match kind {
            MediaKind::Video => (JITTER_DEPTH_VIDEO, Duration::from_millis(400)),
            MediaKind::Audio => (JITTER_DEPTH_AUDIO, Duration::from_millis(60)),
        };
        RecvStream {
            ssrc,
            rid: None,
            rtx_ssrc: None,
            payload_type,
            codec,
            assembler: Assembler::new(codec),
            jitter: JitterBuffer::new(depth).with_max_delay(delay),
            pool: Vec::new(),
            stats: ReceiverStats::new(Ssrc(ssrc), codec.clock_rate()),
            nack: NackTracker::default(),
            packets: 0,
            bytes: 0,
            frames: 0,
            keyframes: 0,
            nacks_sent: 0,
            plis_sent: 0,
            firs_sent: 0,
            rtx_packets: 0,
            waiting_keyframe: true,
            dropped_seen: 0,
            last_keyframe_request: None,
            remote_sr: None,
            bye: false,
        }
    }

    /// A buffer for one packet: a recycled one when there is one.
    pub(crate) fn take_buffer(&mut self) -> Vec<u8> {
        let mut b = self.pool.pop().unwrap_or_default();
        b.clear();
        b
    }

    pub(crate) fn recycle(&mut self, b: Vec<u8>) {
        if self.pool.len() < 64 {
            self.pool.push(b);
        }
    }
}
