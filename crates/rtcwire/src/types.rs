//! The values a session hands to and takes from its application: descriptions, candidates,
//! states, data-channel options, inputs, outputs and events.

use std::fmt;
use std::time::Instant;

use rtcwire_proto::{Datagram, Transmit};

/// `RTCSdpType`. `Pranswer` is refused for now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SdpType {
    /// An offer.
    Offer,
    /// A provisional answer (not supported yet).
    Pranswer,
    /// A final answer.
    Answer,
    /// Undo the pending offer.
    Rollback,
}

impl SdpType {
    /// The W3C token (`"offer"`, `"answer"`, ...).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            SdpType::Offer => "offer",
            SdpType::Pranswer => "pranswer",
            SdpType::Answer => "answer",
            SdpType::Rollback => "rollback",
        }
    }
}

impl fmt::Display for SdpType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `RTCSessionDescriptionInit`: a type and the SDP text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    /// Offer or answer.
    pub sdp_type: SdpType,
    /// The SDP text (CRLF line endings).
    pub sdp: String,
}

impl SessionDescription {
    /// An offer with this text.
    #[must_use]
    pub fn offer(sdp: impl Into<String>) -> Self {
        SessionDescription {
            sdp_type: SdpType::Offer,
            sdp: sdp.into(),
        }
    }

    /// A rollback (`setLocalDescription` or `setRemoteDescription` undoing a pending
    /// offer).
    #[must_use]
    pub fn rollback() -> Self {
        SessionDescription {
            sdp_type: SdpType::Rollback,
            sdp: String::new(),
        }
    }

    /// An answer with this text.
    #[must_use]
    pub fn answer(sdp: impl Into<String>) -> Self {
        SessionDescription {
            sdp_type: SdpType::Answer,
            sdp: sdp.into(),
        }
    }
}

/// `RTCIceCandidateInit`: one trickled candidate (or end-of-candidates when `candidate` is
/// empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceCandidate {
    /// The attribute value, `candidate:...`; empty for end-of-candidates.
    pub candidate: String,
    /// The media section it belongs to (`a=mid`).
    pub sdp_mid: Option<String>,
    /// The index of that media section.
    pub sdp_m_line_index: Option<u16>,
}

impl IceCandidate {
    /// The end-of-candidates marker for `mid`.
    #[must_use]
    pub fn end_of_candidates(mid: Option<String>) -> Self {
        IceCandidate {
            candidate: String::new(),
            sdp_mid: mid,
            sdp_m_line_index: None,
        }
    }

    /// Whether this is the end-of-candidates marker.
    #[must_use]
    pub fn is_end_of_candidates(&self) -> bool {
        self.candidate.trim().is_empty()
    }
}

/// `RTCSignalingState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignalingState {
    /// No offer/answer exchange under way.
    Stable,
    /// We applied a local offer and wait for the answer.
    HaveLocalOffer,
    /// We applied a remote offer and owe an answer.
    HaveRemoteOffer,
    /// `close()` was called.
    Closed,
}

/// `RTCIceConnectionState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IceConnectionState {
    /// Nothing to check yet.
    New,
    /// Checks are running.
    Checking,
    /// A pair is selected.
    Connected,
    /// A pair is selected and both sides ended their candidates.
    Completed,
    /// The selected pair went quiet; it may recover.
    Disconnected,
    /// Every pair failed or consent was lost.
    Failed,
    /// Closed.
    Closed,
}

/// `RTCIceGatheringState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IceGatheringState {
    /// Nothing gathered.
    New,
    /// Candidates are being gathered.
    Gathering,
    /// Gathering is over (end-of-candidates can be signalled).
    Complete,
}

/// `RTCPeerConnectionState`: ICE and DTLS together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeerConnectionState {
    /// Nothing started.
    New,
    /// ICE checks or the DTLS handshake are under way.
    Connecting,
    /// ICE has a pair and DTLS is connected.
    Connected,
    /// ICE lost the selected pair for a while; it may recover.
    Disconnected,
    /// ICE failed, or the DTLS handshake failed or the peer's certificate did not match its
    /// fingerprint.
    Failed,
    /// Closed by `close()`, or by the peer (DTLS close_notify).
    Closed,
}

/// `RTCDataChannelInit`, with Rust types. `max_retransmits` and `max_packet_life_time` are
/// exclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataChannelInit {
    /// In-order delivery (default true).
    pub ordered: bool,
    /// Give a message up after this many retransmissions.
    pub max_retransmits: Option<u16>,
    /// Give a message up after this many milliseconds.
    pub max_packet_life_time: Option<u16>,
    /// Sub-protocol name.
    pub protocol: String,
    /// Pre-negotiated (out of band) with this stream id; `None` opens it in band (DCEP).
    pub negotiated: Option<u16>,
}

impl Default for DataChannelInit {
    fn default() -> Self {
        DataChannelInit {
            ordered: true,
            max_retransmits: None,
            max_packet_life_time: None,
            protocol: String::new(),
            negotiated: None,
        }
    }
}

/// A data channel of this session. Stays the same from `create_data_channel` (before any
/// SCTP stream exists) to close; the stream id is [`PeerConnection::channel_stream_id`](crate::PeerConnection::channel_stream_id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChannelId(pub(crate) u32);

impl ChannelId {
    /// The raw value (for logs and maps).
    #[must_use]
    pub fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for ChannelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "channel#{}", self.0)
    }
}

/// A message's content, and text held in `Bytes`.
pub use rtcwire_datachannel::{Payload, Text};

/// What the application learns from [`PeerConnection::poll_output`](crate::PeerConnection::poll_output).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A local candidate to signal to the peer (trickle ICE); the end-of-candidates marker
    /// when gathering completed.
    IceCandidate(IceCandidate),
    /// A remote candidate names a host (a browser's `<uuid>.local` mDNS name): resolve
    /// it and call [`PeerConnection::resolve_hostname`](crate::PeerConnection::resolve_hostname).
    ResolveHostname(String),
    /// `icegatheringstatechange`.
    IceGatheringStateChange(IceGatheringState),
    /// `iceconnectionstatechange`.
    IceConnectionStateChange(IceConnectionState),
    /// `connectionstatechange`.
    ConnectionStateChange(PeerConnectionState),
    /// `signalingstatechange`.
    SignalingStateChange(SignalingState),
    /// `negotiationneeded`: make a new offer (after the first data channel of a session
    /// not negotiated yet, or after [`restart_ice`](crate::PeerConnection::restart_ice)).
    NegotiationNeeded,
    /// The peer opened a channel in band (`ondatachannel`); it is open.
    DataChannel {
        /// The new channel.
        id: ChannelId,
        /// Its label.
        label: String,
        /// Its sub-protocol.
        protocol: String,
        /// In-order delivery.
        ordered: bool,
    },
    /// A channel we created is open (`onopen`).
    ChannelOpen(ChannelId),
    /// A message arrived on a channel (`onmessage`).
    ChannelMessage {
        /// The channel.
        id: ChannelId,
        /// Text or binary.
        payload: Payload,
    },
    /// A channel's buffered amount fell to its low threshold (`onbufferedamountlow`).
    ChannelBufferedAmountLow(ChannelId),
    /// A channel is closed in both directions (`onclose`); its id is gone.
    ChannelClosed(ChannelId),
    /// `ontrack`: the peer will send on this transceiver (its section's direction
    /// includes send), announced when the description saying so is applied.
    Track {
        /// The transceiver (made by the remote offer, or ours).
        transceiver: crate::TransceiverId,
        /// Audio or video.
        kind: crate::MediaKind,
        /// Its mid.
        mid: String,
        /// The peer's media stream ids (`a=msid`).
        stream_ids: Vec<String>,
    },
    /// The peer stopped sending the track of a transceiver announced by
    /// [`Event::Track`]: the transceiver stays, no more media is expected on it (a later
    /// description that sends again announces `Track` anew).
    TrackEnded {
        /// The transceiver.
        transceiver: crate::TransceiverId,
        /// How the peer said so.
        reason: TrackEndReason,
    },
    /// A whole encoded frame arrived (reordered, retransmissions included, depacketized).
    MediaFrame(crate::MediaFrame),
    /// What we may send in all changed, bit/s: our send-side estimate from the peer's
    /// transport-cc feedback, or the peer's REMB (`goog-remb`), the smaller when both
    /// exist. Set the encoders' total target to it (see
    /// [`PeerConnection::send_bandwidth_estimate`](crate::PeerConnection::send_bandwidth_estimate)).
    BandwidthEstimate {
        /// Bits per second.
        bitrate: u64,
    },
    /// The peer asks for a keyframe on what we send on this transceiver (PLI or FIR).
    KeyframeRequest {
        /// The transceiver.
        transceiver: crate::TransceiverId,
        /// PLI or FIR.
        kind: crate::KeyframeKind,
    },
}

/// Why the peer's track ended ([`Event::TrackEnded`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TrackEndReason {
    /// Its description stopped the transceiver (port 0).
    Stopped,
    /// Its description no longer sends on it (`recvonly` or `inactive`).
    NotSending,
    /// RTCP BYE for every stream it sent on it (RFC 3550 §6.6).
    Bye,
}

/// An input to [`PeerConnection::handle_input`](crate::PeerConnection::handle_input).
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    /// A datagram arrived at `now` (with its transport and both addresses).
    Receive(Instant, Datagram<'a>),
    /// Time passed: `now` is at or after the last [`Output::Timeout`].
    Timeout(Instant),
}

/// What [`PeerConnection::poll_output`](crate::PeerConnection::poll_output) says next.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Output {
    /// Send the first `size` bytes of the lent buffer from `source` to `destination`.
    Transmit(Transmit),
    /// Something happened.
    Event(Event),
    /// Nothing more to do now: call again with [`Input::Timeout`] at this instant (or when a
    /// datagram arrives, or after any application call). When no timer is armed this is
    /// an hour after the last input.
    Timeout(Instant),
}
