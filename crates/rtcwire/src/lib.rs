#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod config;
mod connection;
mod error;
mod jsep;
mod media;
mod types;

pub use config::Config;
pub use connection::{
    BandwidthStats, DataChannelState, DataChannelStats, InboundRtpStats, OutboundRtpStats,
    PeerConnection, RemoteOutboundRtpStats, Stats, StatsReport, TransportStats,
};
pub use error::Error;
pub use media::{
    Codec, Direction, KeyframeKind, MediaFrame, MediaKind, TransceiverId, TransceiverInit,
};
pub use types::{
    ChannelId, DataChannelInit, Event, IceCandidate, IceConnectionState, IceGatheringState, Input,
    Output, Payload, PeerConnectionState, SdpType, SessionDescription, SignalingState, Text,
    TrackEndReason,
};

pub use rtcwire_dtls::{Certificate, DtlsRole, SystemRng};
pub use rtcwire_proto::{Datagram, Fingerprint, SansIo, SrtpProfile, Transmit, Transport};
