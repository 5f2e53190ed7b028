//! Media on the session: the transceiver calls (`addTransceiver`, direction, stop), SRTP
//! keyed from DTLS, RTP out (packetized frames, raw packets, retransmissions), RTP in
//! (routed under BUNDLE, reordered, reassembled into frames), and RTCP both ways.
//!
//! This file holds the shared state and the transceiver calls; sending and SRTP are in
//! `media_send`, receiving in `media_recv`, RTCP and the media timers in `media_rtcp`.

use std::time::Duration;

use rtcwire_rtp::codec::{
    Av1Packetizer, G711Packetizer, H264Packetizer, OpusPacketizer, Packetizer, Vp8Packetizer,
    Vp9Packetizer,
};
use rtcwire_rtp::rtcp::TwccBuilder;
use rtcwire_rtp::seq::NtpTime;

use super::*;
use crate::media::{
    Codec, Direction, MediaKind, RembEstimator, Transceiver, TransceiverId, TransceiverInit,
};

/// Largest RTP packet we write (before SRTP's tag), as browsers do.
pub(super) const MAX_RTP: usize = 1200;
/// Room kept for the RTP header and its extensions.
pub(super) const HEADER_ROOM: usize = 12 + 4 + 32;
/// Most packets waiting to be sent.
pub(super) const MAX_MEDIA_QUEUE: usize = 8192;
/// How often receive streams are serviced (jitter release, NACK, TWCC).
pub(super) const MEDIA_TICK: Duration = Duration::from_millis(10);
/// Sender and receiver reports, per transceiver.
pub(super) const REPORT_INTERVAL: Duration = Duration::from_secs(1);
/// TWCC feedback.
pub(super) const TWCC_INTERVAL: Duration = Duration::from_millis(100);
/// How long before a lost packet is asked for again, until an RTT is known.
pub(super) const NACK_INTERVAL: Duration = Duration::from_millis(100);
/// Keyframe requests of our own (after a lost frame) at most this often per stream.
pub(super) const KEYFRAME_REQUEST_INTERVAL: Duration = Duration::from_millis(500);
/// Most remote SSRCs remembered for routing.
pub(super) const MAX_REMOTE_SSRCS: usize = 1024;
/// Most transceivers in one session.
pub(super) const MAX_TRANSCEIVERS: usize = 64;
/// Unix time our NTP clock starts at (only differences matter: LSR/DLSR round trips).
pub(super) const NTP_BASE: Duration = Duration::from_secs(1_700_000_000);

/// A packetizer for whichever codec a send stream uses.
#[derive(Debug)]
pub(super) enum AnyPacketizer {
    Opus(OpusPacketizer),
    G711(G711Packetizer),
    Vp8(Vp8Packetizer),
    Vp9(Vp9Packetizer),
    H264(H264Packetizer),
    H264Single(crate::media::H264SingleNalPacketizer),
    Av1(Av1Packetizer),
}

impl AnyPacketizer {
    /// `single_nal`: H.264 packetization-mode 0.
    pub(super) fn new(codec: Codec, single_nal: bool) -> Self {
        match codec {
            Codec::H264 if single_nal => {
                AnyPacketizer::H264Single(crate::media::H264SingleNalPacketizer::default())
            }
            Codec::Opus => AnyPacketizer::Opus(OpusPacketizer),
            Codec::Pcmu | Codec::Pcma => AnyPacketizer::G711(G711Packetizer),
            Codec::Vp8 => AnyPacketizer::Vp8(Vp8Packetizer::default()),
            Codec::Vp9 => AnyPacketizer::Vp9(Vp9Packetizer::non_flexible(0)),
            Codec::H264 => AnyPacketizer::H264(H264Packetizer::new()),
            Codec::Av1 => AnyPacketizer::Av1(Av1Packetizer::default()),
        }
    }

    pub(super) fn codec_matches(&self, codec: Codec, single_nal: bool) -> bool {
        matches!(
            (self, codec, single_nal),
            (AnyPacketizer::Opus(_), Codec::Opus, _)
                | (AnyPacketizer::G711(_), Codec::Pcmu | Codec::Pcma, _)
                | (AnyPacketizer::Vp8(_), Codec::Vp8, _)
                | (AnyPacketizer::Vp9(_), Codec::Vp9, _)
                | (AnyPacketizer::H264(_), Codec::H264, false)
                | (AnyPacketizer::H264Single(_), Codec::H264, true)
                | (AnyPacketizer::Av1(_), Codec::Av1, _)
        )
    }

    pub(super) fn get(&mut self) -> &mut dyn Packetizer {
        match self {
            AnyPacketizer::Opus(p) => p,
            AnyPacketizer::G711(p) => p,
            AnyPacketizer::Vp8(p) => p,
            AnyPacketizer::Vp9(p) => p,
            AnyPacketizer::H264(p) => p,
            AnyPacketizer::H264Single(p) => p,
            AnyPacketizer::Av1(p) => p,
        }
    }
}

/// The session's media state outside the transceivers.
#[derive(Debug, Default)]
pub(super) struct MediaState {
    pub(super) transceivers: Vec<Transceiver>,
    pub(super) next_transceiver: u32,
    /// Plaintext packets waiting for SRTP and the wire: (is RTCP, bytes).
    pub(super) out: VecDeque<(bool, Vec<u8>)>,
    pub(super) pool: Vec<Vec<u8>>,
    /// The SRTP keying material DTLS exported, kept until media needs the contexts.
    pub(super) srtp_keys: Option<rtcwire_proto::KeyingMaterial>,
    /// Made from `srtp_keys` when media first needs them
    /// ([`PeerConnection::ensure_srtp`](super::PeerConnection::ensure_srtp)); boxed: a
    /// session without media never holds them (1.3 KB each).
    pub(super) srtp_tx: Option<Box<rtcwire_srtp::Context>>,
    pub(super) srtp_rx: Option<Box<rtcwire_srtp::Context>>,
    /// The datagram being unprotected.
    pub(super) rx: Vec<u8>,
    /// Remote SSRC → transceiver.
    pub(super) ssrcs: BTreeMap<u32, TransceiverId>,
    /// By transceiver and simulcast layer.
    pub(super) packetizers: BTreeMap<(TransceiverId, usize), AnyPacketizer>,
    pub(super) twcc_seq: u16,
    pub(super) twcc: Option<TwccBuilder>,
    pub(super) twcc_count: u8,
    pub(super) next_tick: Option<Instant>,
    pub(super) next_report: Option<Instant>,
    pub(super) next_twcc: Option<Instant>,
    pub(super) epoch: Option<Instant>,
    pub(super) nack_scratch: Vec<u16>,
    pub(super) cname: String,
    /// `Config::transport_cc`, given to each new transceiver.
    pub(super) transport_cc: bool,
    /// Our receive-side estimate (REMB out).
    pub(super) remb: RembEstimator,
    pub(super) remb_sent: u64,
    pub(super) remb_last_sent: Option<u64>,
    /// The peer's latest REMB (what it says we may send), bit/s.
    pub(super) peer_remb: Option<u64>,
    /// Our send-side estimate from transport-cc feedback; made with the first packet
    /// sent with a transport-wide sequence number (8 KiB of send history).
    pub(super) send_bwe: Option<Box<crate::media::SendEstimator>>,
    /// What [`Event::BandwidthEstimate`] last said.
    pub(super) announced_estimate: Option<u64>,
    pub(super) remb_received: u64,
    /// Report blocks of the report being written (kept for its capacity).
    pub(super) report_blocks: Vec<rtcwire_rtp::rtcp::ReportBlock>,
    /// An instant and the UNIX time it corresponds to (the wall clock for SR NTP).
    pub(super) wall_clock: Option<(Instant, Duration)>,
}

pub(super) fn ntp(epoch: Instant, now: Instant) -> NtpTime {
    NtpTime::from_unix(NTP_BASE + now.saturating_duration_since(epoch))
}

impl MediaState {
    /// The NTP time of `now` for our reports: from the wall clock the driver gave
    /// (`Config::wall_clock`, [`PeerConnection::set_wall_clock`]), else a clock of our
    /// own that only round trips can use.
    pub(super) fn ntp_at(&mut self, now: Instant) -> NtpTime {
        match self.wall_clock {
            Some((at, unix)) => NtpTime::from_unix(if now >= at {
                unix.saturating_add(now.saturating_duration_since(at))
            } else {
                unix.saturating_sub(at.saturating_duration_since(now))
            }),
            None => {
                let epoch = *self.epoch.get_or_insert(now);
                ntp(epoch, now)
            }
        }
    }
}

impl PeerConnection {
    // ----- transceivers -----------------------------------------------------------------

    /// `addTransceiver(kind, init)`: a new transceiver, in the next offer as an
    /// `m=audio`/`m=video` section (BUNDLEd, rtcp-mux). Emits
    /// [`Event::NegotiationNeeded`].
    pub fn add_transceiver(
        &mut self,
        kind: MediaKind,
        init: TransceiverInit,
    ) -> Result<TransceiverId, Error> {
        self.check_open()?;
        let id = self.new_transceiver(kind, init.direction, init.stream_ids)?;
        self.events.push_back(Event::NegotiationNeeded);
        Ok(id)
    }

    /// `addTrack`: a `sendrecv` transceiver for a track of `kind` in the given streams
    /// (a free transceiver of that kind made by a remote offer is reused, as W3C says).
    pub fn add_track(
        &mut self,
        kind: MediaKind,
        stream_ids: &[&str],
    ) -> Result<TransceiverId, Error> {
        self.check_open()?;
        let reuse = self
            .media
            .transceivers
            .iter_mut()
            .find(|t| t.kind == kind && !t.stopped && !t.direction.sends() && t.mid.is_some());
        if let Some(t) = reuse {
            t.direction = Direction::from_flags(true, t.direction.receives());
            t.stream_ids = stream_ids.iter().map(|s| (*s).to_owned()).collect();
            let id = t.id;
            self.events.push_back(Event::NegotiationNeeded);
            return Ok(id);
        }
        self.add_transceiver(
            kind,
            TransceiverInit {
                direction: Direction::SendRecv,
                stream_ids: stream_ids.iter().map(|s| (*s).to_owned()).collect(),
            },
        )
    }

    pub(super) fn new_transceiver(
        &mut self,
        kind: MediaKind,
        direction: Direction,
        stream_ids: Vec<String>,
    ) -> Result<TransceiverId, Error> {
        if self.media.transceivers.len() >= MAX_TRANSCEIVERS {
            return Err(Error::TooManyTransceivers);
        }
        let ssrc = self.new_ssrc()?;
        let rtx = self.new_ssrc()?;
        if self.media.cname.is_empty() {
            let v = self.media_rng.next_u64().map_err(|_| Error::RandomSource)?;
            self.media.cname = format!("{v:016x}");
        }
        let id = TransceiverId(self.media.next_transceiver);
        self.media.next_transceiver += 1;
        let cname = self.media.cname.clone();
        let mut t = Transceiver::new(id, kind, direction, stream_ids, ssrc, rtx, cname);
        t.transport_cc = self.media.transport_cc;
        self.media.transceivers.push(t);
        Ok(id)
    }

    fn new_ssrc(&mut self) -> Result<u32, Error> {
        // Bounded: a collision among a few dozen SSRCs is rare.
        for _ in 0..16 {
            let v = (self.media_rng.next_u64().map_err(|_| Error::RandomSource)? >> 32) as u32;
            let used = v == 0
                || self
                    .media
                    .transceivers
                    .iter()
                    .flat_map(|t| t.send_streams())
                    .any(|s| s.ssrc == v || s.rtx_ssrc == Some(v))
                || self.media.ssrcs.contains_key(&v);
            if !used {
                return Ok(v);
            }
        }
        Err(Error::RandomSource)
    }

    fn transceiver(&self, id: TransceiverId) -> Result<&Transceiver, Error> {
        self.media
            .transceivers
            .iter()
            .find(|t| t.id == id)
            .ok_or(Error::NoSuchTransceiver(id))
    }

    pub(super) fn transceiver_mut(&mut self, id: TransceiverId) -> Result<&mut Transceiver, Error> {
        self.media
            .transceivers
            .iter_mut()
            .find(|t| t.id == id)
            .ok_or(Error::NoSuchTransceiver(id))
    }

    /// Every transceiver, in creation order.
    #[must_use]
    pub fn transceivers(&self) -> Vec<TransceiverId> {
        self.media.transceivers.iter().map(|t| t.id).collect()
    }

    /// A transceiver's kind.
    #[must_use]
    pub fn transceiver_kind(&self, id: TransceiverId) -> Option<MediaKind> {
        self.transceiver(id).ok().map(|t| t.kind)
    }

    /// A transceiver's `mid`, once it is in a description.
    #[must_use]
    pub fn transceiver_mid(&self, id: TransceiverId) -> Option<&str> {
        self.transceiver(id).ok().and_then(|t| t.mid.as_deref())
    }

    /// `currentDirection`: what the last completed exchange settled (`None` before one, or
    /// when stopped or rejected).
    #[must_use]
    pub fn current_direction(&self, id: TransceiverId) -> Option<Direction> {
        self.transceiver(id)
            .ok()
            .filter(|t| !t.stopped)
            .and_then(|t| t.current)
    }

    /// The codecs negotiated on a transceiver: payload type and codec, in preference
    /// order (the offerer's payload types).
    #[must_use]
    pub fn negotiated_codecs(&self, id: TransceiverId) -> Vec<(u8, Codec)> {
        self.transceiver(id)
            .map(|t| t.codecs.iter().map(|c| (c.payload_type, c.codec)).collect())
            .unwrap_or_default()
    }

    /// The payload type negotiated for `codec` on a transceiver.
    #[must_use]
    pub fn payload_type(&self, id: TransceiverId, codec: Codec) -> Option<u8> {
        self.transceiver(id)
            .ok()
            .and_then(|t| t.codecs.iter().find(|c| c.codec == codec))
            .map(|c| c.payload_type)
    }

    /// Whether a negotiated H.264 payload type is in packetization-mode 0 (single NAL
    /// unit: every NAL unit of a frame must fit one packet, about 1150 bytes, or
    /// `write_frame` refuses the frame). `None` for other payload types.
    #[must_use]
    pub fn h264_single_nal(&self, id: TransceiverId, payload_type: u8) -> Option<bool> {
        self.transceiver(id)
            .ok()
            .and_then(|t| t.codec(payload_type))
            .filter(|c| c.codec == Codec::H264)
            .map(|c| c.single_nal)
    }

    /// Our SSRC on a transceiver (the `a=ssrc` of its section).
    #[must_use]
    pub fn send_ssrc(&self, id: TransceiverId) -> Option<u32> {
        self.transceiver(id).ok().map(|t| t.send.ssrc)
    }

    /// Our send streams on a transceiver: `(rid, SSRC)` for each simulcast layer (one,
    /// without a rid, when the transceiver does not send simulcast).
    #[must_use]
    pub fn send_ssrcs(&self, id: TransceiverId) -> Vec<(Option<String>, u32)> {
        self.transceiver(id)
            .map(|t| t.send_streams().map(|s| (s.rid.clone(), s.ssrc)).collect())
            .unwrap_or_default()
    }

    /// `sendEncodings` with rids (RFC 8853 simulcast, RFC 8851 rids): the video
    /// transceiver sends one stream per rid, each with its own SSRC (and RTX SSRC), its
    /// packets carrying the rid header extension (repaired-rid on retransmissions). The
    /// next offer says `a=rid:<rid> send` for each and `a=simulcast:send <rid>;<rid>...`
    /// in this order (lowest quality first, by custom). Write each layer's frames with
    /// [`write_frame_rid`](Self::write_frame_rid). Only before the transceiver's first
    /// negotiation; 2 to 4 rids of 1 to 16 letters, digits, `-` or `_`. If the answer
    /// does not accept simulcast, only the first rid's stream is sent (without a rid).
    pub fn set_send_rids(&mut self, id: TransceiverId, rids: &[&str]) -> Result<(), Error> {
        self.check_open()?;
        let t = self.transceiver(id)?;
        if t.kind != MediaKind::Video {
            return Err(Error::WrongState("simulcast is for video transceivers"));
        }
        if !t.codecs.is_empty() || t.mid.is_some() {
            return Err(Error::WrongState(
                "simulcast rids are set before the transceiver is negotiated",
            ));
        }
        let valid = |r: &str| {
            (1..=16).contains(&r.len())
                && r.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if !(2..=4).contains(&rids.len())
            || !rids.iter().all(|r| valid(r))
            || rids.iter().enumerate().any(|(i, r)| rids[..i].contains(r))
        {
            return Err(Error::WrongState(
                "2 to 4 distinct rids of 1-16 letters, digits, '-' or '_'",
            ));
        }
        let mut layers = Vec::with_capacity(rids.len() - 1);
        for rid in rids.iter().skip(1) {
            let ssrc = self.new_ssrc()?;
            let rtx = self.new_ssrc()?;
            let mut s = crate::media::stream::SendStream::new(ssrc, Some(rtx));
            s.rid = Some((*rid).to_owned());
            layers.push(s);
        }
        let t = self.transceiver_mut(id)?;
        t.send.rid = rids.first().map(|r| (*r).to_owned());
        t.layers = layers;
        self.events.push_back(Event::NegotiationNeeded);
        Ok(())
    }

    /// Tells the session the wall clock: `unix_time` (since 1970-01-01 UTC) is the time
    /// at `at`. Our sender reports then carry NTP timestamps of real time (RFC 3550 §6.4.1)
    /// mapped from the session's `now`, so a peer can synchronise our audio and video and
    /// knows when we sent. The session never reads a clock itself; a driver calls this
    /// once at start (or sets `Config::wall_clock`) and again when the clock is stepped.
    pub fn set_wall_clock(&mut self, at: Instant, unix_time: Duration) {
        self.media.wall_clock = Some((at, unix_time));
    }

    /// `direction = ...`: takes effect with the next exchange
    /// ([`Event::NegotiationNeeded`]).
    pub fn set_direction(&mut self, id: TransceiverId, direction: Direction) -> Result<(), Error> {
        self.check_open()?;
        let t = self.transceiver_mut(id)?;
        if t.direction != direction {
            t.direction = direction;
            self.events.push_back(Event::NegotiationNeeded);
        }
        Ok(())
    }

    /// `stop()`: the transceiver neither sends nor receives from now on (RTCP BYE goes
    /// for the streams it sent); the next offer gives its section port 0.
    pub fn stop_transceiver(&mut self, id: TransceiverId) -> Result<(), Error> {
        self.check_open()?;
        let index = self
            .media
            .transceivers
            .iter()
            .position(|t| t.id == id)
            .ok_or(Error::NoSuchTransceiver(id))?;
        if self
            .media
            .transceivers
            .get(index)
            .is_some_and(|t| !t.stopped)
        {
            // The peer hears at once that our streams end (RFC 3550 §6.6).
            self.send_bye(index);
            if let Some(t) = self.media.transceivers.get_mut(index) {
                t.stopped = true;
                t.direction = Direction::Inactive;
            }
            self.events.push_back(Event::NegotiationNeeded);
            let now = self.now;
            self.pump(now);
        }
        Ok(())
    }
}

/// abs-send-time: 6.18 fixed-point seconds, 24 bits.
pub(super) fn abs_send_time(d: Duration) -> u32 {
    ((d.as_micros() << 18) / 1_000_000) as u32 & 0x00ff_ffff
}
