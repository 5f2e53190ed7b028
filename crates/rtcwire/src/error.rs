//! The crate's one error type.

use crate::types::{SdpType, SignalingState};

/// Why a call or an input was refused. From [`handle_input`](crate::PeerConnection::handle_input)
/// an `Err` means only "this datagram was refused, counted and dropped; the session is
/// unchanged". Fatal conditions (ICE failed, DTLS handshake failed, the peer's certificate
/// did not match its fingerprint) are [`Event`](crate::Event)s, never an `Err`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The session is closed.
    #[error("the peer connection is closed")]
    Closed,
    /// A description of this type cannot be applied in this signaling state.
    #[error("cannot apply a {sdp_type} in signaling state {state:?}")]
    InvalidState {
        /// What was tried.
        sdp_type: SdpType,
        /// Where the session was.
        state: SignalingState,
    },
    /// The operation needs a state the session is not in (e.g. `create_answer` without a
    /// remote offer, `add_ice_candidate` before a remote description).
    #[error("{0}")]
    WrongState(&'static str),
    /// Not supported yet (pranswer, a new DTLS association on renegotiation).
    #[error("{0} is not supported yet")]
    Unsupported(&'static str),
    /// The SDP text did not parse.
    #[error("SDP: {0}")]
    Sdp(#[from] rtcwire_sdp::Error),
    /// The SDP parsed but cannot be used (missing ICE credentials or fingerprint, ...).
    #[error("unusable description: {0}")]
    BadDescription(&'static str),
    /// A local description is not one this session created.
    #[error("local description does not match the last created {0}")]
    NotOurDescription(SdpType),
    /// The ICE agent refused a call or a datagram.
    #[error("ICE: {0}")]
    Ice(#[from] rtcwire_ice::Error),
    /// DTLS refused a datagram or a call.
    #[error("DTLS: {0}")]
    Dtls(#[from] rtcwire_dtls::Error),
    /// SCTP refused a packet or a call.
    #[error("SCTP: {0}")]
    Sctp(#[from] rtcwire_sctp::Error),
    /// The data-channel layer refused a call.
    #[error("data channel: {0}")]
    DataChannel(#[from] rtcwire_datachannel::Error),
    /// No such data channel (never created, or closed).
    #[error("no data channel {0}")]
    NoSuchChannel(crate::ChannelId),
    /// The channel has no SCTP stream yet (the transport is not up) or is closing.
    #[error("data channel {0} is not open")]
    ChannelNotOpen(crate::ChannelId),
    /// `max_retransmits` and `max_packet_life_time` were both given.
    #[error("max_retransmits and max_packet_life_time are exclusive")]
    BothReliabilityLimits,
    /// Too many channels waiting for the transport.
    #[error("too many data channels")]
    TooManyChannels,
    /// A datagram of a kind this session does not take (RTP/RTCP before SRTP is keyed,
    /// ZRTP, QUIC, unknown first byte).
    #[error("datagram of an unhandled kind ({0:?})")]
    UnhandledPacket(rtcwire_proto::PacketKind),
    /// A DTLS datagram before the transport started, beyond the few kept for it (an
    /// early ClientHello: 8 datagrams, 16 KiB).
    #[error("DTLS datagram before the DTLS transport started (none more kept)")]
    DtlsNotStarted,
    /// A certificate could not be made, or the DTLS configuration not built.
    #[error("certificate: {0}")]
    Certificate(rtcwire_dtls::Error),
    /// No such transceiver.
    #[error("no {0}")]
    NoSuchTransceiver(crate::TransceiverId),
    /// Too many transceivers in one session (64).
    #[error("too many transceivers")]
    TooManyTransceivers,
    /// The transceiver's negotiated direction does not send (or it is stopped, or not
    /// negotiated yet).
    #[error("{0} does not send")]
    NotSending(crate::TransceiverId),
    /// A payload type the transceiver did not negotiate.
    #[error("payload type {0} is not negotiated here")]
    UnknownPayloadType(u8),
    /// An RTP packet no transceiver takes (unknown SSRC, mid, rid and payload type).
    #[error("RTP packet of SSRC {0:#010x} belongs to no transceiver")]
    UnroutablePacket(u32),
    /// SRTP refused a packet (authentication, replay, too many streams).
    #[error("SRTP: {0}")]
    Srtp(#[from] rtcwire_srtp::Error),
    /// An RTP or RTCP packet did not parse, or a frame could not be packetized.
    #[error("RTP: {0}")]
    Rtp(#[from] rtcwire_rtp::Error),
    /// The random source failed.
    #[error("the random source failed")]
    RandomSource,
}
