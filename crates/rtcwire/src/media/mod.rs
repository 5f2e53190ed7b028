//! Media: transceivers (W3C `RTCRtpTransceiver`), the codecs and header extensions we
//! negotiate, and the RTP/RTCP state of each transceiver's send and receive streams.

use std::fmt;

mod bwe;
mod h264_single;
mod negotiate;
mod send_bwe;

pub(crate) use bwe::RembEstimator;
pub(crate) use h264_single::H264SingleNalPacketizer;
pub(crate) use send_bwe::SendEstimator;

pub(crate) use negotiate::{
    answer_section, offer_section, read_media_section, NegotiatedCodec, RemoteMedia,
};
pub(crate) use negotiate::{match_codecs, match_extensions, rejected, stopped_section};
pub(crate) use stream::{RecvStream, Transceiver};

pub(crate) mod stream;

/// Most receive streams per transceiver.
pub(crate) fn stream_limit() -> usize {
    stream::MAX_RECV_STREAMS
}

/// `RTCRtpTransceiver.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// `m=audio`.
    Audio,
    /// `m=video`.
    Video,
}

impl MediaKind {
    /// The SDP media token.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Audio => "audio",
            MediaKind::Video => "video",
        }
    }
}

/// `RTCRtpTransceiverDirection` (without `stopped`, which is
/// [`PeerConnection::stop_transceiver`](crate::PeerConnection::stop_transceiver)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Send and receive.
    SendRecv,
    /// Send only.
    SendOnly,
    /// Receive only.
    RecvOnly,
    /// Neither.
    Inactive,
}

impl Direction {
    /// Whether this direction sends.
    #[must_use]
    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    /// Whether this direction receives.
    #[must_use]
    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }

    pub(crate) fn from_flags(send: bool, recv: bool) -> Direction {
        match (send, recv) {
            (true, true) => Direction::SendRecv,
            (true, false) => Direction::SendOnly,
            (false, true) => Direction::RecvOnly,
            (false, false) => Direction::Inactive,
        }
    }

    /// The peer's view of this direction (sendonly ↔ recvonly).
    #[must_use]
    pub fn reverse(self) -> Direction {
        Direction::from_flags(self.receives(), self.sends())
    }

    /// What both allow: sends only if both send, receives only if both receive.
    #[must_use]
    pub fn intersect(self, other: Direction) -> Direction {
        Direction::from_flags(
            self.sends() && other.sends(),
            self.receives() && other.receives(),
        )
    }

    pub(crate) fn to_sdp(self) -> rtcwire_sdp::Direction {
        match self {
            Direction::SendRecv => rtcwire_sdp::Direction::SendRecv,
            Direction::SendOnly => rtcwire_sdp::Direction::SendOnly,
            Direction::RecvOnly => rtcwire_sdp::Direction::RecvOnly,
            Direction::Inactive => rtcwire_sdp::Direction::Inactive,
        }
    }

    pub(crate) fn from_sdp(d: rtcwire_sdp::Direction) -> Direction {
        match d {
            rtcwire_sdp::Direction::SendRecv => Direction::SendRecv,
            rtcwire_sdp::Direction::SendOnly => Direction::SendOnly,
            rtcwire_sdp::Direction::RecvOnly => Direction::RecvOnly,
            rtcwire_sdp::Direction::Inactive => Direction::Inactive,
        }
    }
}

/// A transceiver of this session: the same from
/// [`add_transceiver`](crate::PeerConnection::add_transceiver) (or a remote offer) to the
/// end of the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TransceiverId(pub(crate) u32);

impl TransceiverId {
    /// The raw value (for logs and maps).
    #[must_use]
    pub fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for TransceiverId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "transceiver#{}", self.0)
    }
}

/// `RTCRtpTransceiverInit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransceiverInit {
    /// The direction we want (default `SendRecv`).
    pub direction: Direction,
    /// The media stream ids our track belongs to (`a=msid`); empty: one random-free id
    /// `"-"` is written (no stream).
    pub stream_ids: Vec<String>,
}

impl Default for TransceiverInit {
    fn default() -> Self {
        TransceiverInit {
            direction: Direction::SendRecv,
            stream_ids: Vec::new(),
        }
    }
}

/// The codecs this session packetizes and depacketizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Codec {
    /// Opus (RFC 7587), 48 kHz stereo signalling.
    Opus,
    /// G.711 µ-law.
    Pcmu,
    /// G.711 A-law.
    Pcma,
    /// VP8 (RFC 7741).
    Vp8,
    /// VP9.
    Vp9,
    /// H.264 (RFC 6184): packetization-mode 1 (STAP-A, FU-A) or 0 (single NAL unit;
    /// each payload type says which, see
    /// [`PeerConnection::h264_single_nal`](crate::PeerConnection::h264_single_nal)).
    H264,
    /// AV1.
    Av1,
}

impl Codec {
    /// The `a=rtpmap` encoding name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Codec::Opus => "opus",
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
            Codec::Vp8 => "VP8",
            Codec::Vp9 => "VP9",
            Codec::H264 => "H264",
            Codec::Av1 => "AV1",
        }
    }

    /// The RTP clock rate.
    #[must_use]
    pub fn clock_rate(self) -> u32 {
        match self {
            Codec::Opus => 48_000,
            Codec::Pcmu | Codec::Pcma => 8_000,
            _ => 90_000,
        }
    }

    /// Audio or video.
    #[must_use]
    pub fn kind(self) -> MediaKind {
        match self {
            Codec::Opus | Codec::Pcmu | Codec::Pcma => MediaKind::Audio,
            _ => MediaKind::Video,
        }
    }

    pub(crate) fn from_name(name: &str, clock_rate: u32) -> Option<Codec> {
        [
            Codec::Opus,
            Codec::Pcmu,
            Codec::Pcma,
            Codec::Vp8,
            Codec::Vp9,
            Codec::H264,
            Codec::Av1,
        ]
        .into_iter()
        .find(|c| c.name().eq_ignore_ascii_case(name) && c.clock_rate() == clock_rate)
    }
}

/// An encoded frame received on a transceiver (`Event::MediaFrame`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MediaFrame {
    /// The transceiver it arrived on.
    pub transceiver: TransceiverId,
    /// The payload type it was sent with.
    pub payload_type: u8,
    /// Its codec.
    pub codec: Codec,
    /// The sender's SSRC.
    pub ssrc: u32,
    /// The simulcast layer's rid (RFC 8851) when the stream carries one (shared with the
    /// stream: no copy per frame).
    pub rid: Option<std::sync::Arc<str>>,
    /// The RTP timestamp of the frame.
    pub rtp_timestamp: u32,
    /// Decodable on its own (a VP8/VP9/AV1 keyframe, an H.264 IDR; every audio frame).
    pub keyframe: bool,
    /// The frame in the codec's usual format (Annex B for H.264): a piece of the
    /// stream's reused block, so a receiver that drops each frame before the next one
    /// completes allocates nothing per frame.
    pub data: bytes::Bytes,
}

/// Why the peer asks for a keyframe (`Event::KeyframeRequest`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyframeKind {
    /// Picture Loss Indication (RFC 4585).
    Pli,
    /// Full Intra Request (RFC 5104).
    Fir,
}
