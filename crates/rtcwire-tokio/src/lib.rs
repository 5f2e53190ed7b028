#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod channel;
mod config;
mod conn;
mod driver;
mod error;
mod loss;
mod mdns;
mod media;
mod peer;
mod server;
mod tcp;
mod tcp_in;
mod udp;
mod wait;

pub use channel::{ChannelSender, ChannelState, DataChannel};
pub use config::{Bind, Config, TcpLimits, TurnTransport, TurnUrl};
pub use error::Error;
pub use loss::TestLoss;
pub use media::{Track, Transceiver};
pub use peer::{Event, Events, PeerConnection};
pub use server::Server;
pub use tcp::TcpStats;

pub use rtcwire::{
    ChannelId, Codec, DataChannelInit, Direction, IceCandidate, IceConnectionState,
    IceGatheringState, KeyframeKind, MediaFrame, MediaKind, Payload, PeerConnectionState, SdpType,
    SessionDescription, SignalingState, StatsReport, Text, TransceiverId, TransceiverInit,
};
pub use rtcwire_ice::TurnServer;

/// The sans-IO session crate this driver runs (its `Config`, certificate, stats types).
pub use rtcwire;
