#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod channel;
mod config;
mod driver;
mod error;
mod mdns;
mod peer;
mod server;

pub use channel::{ChannelSender, ChannelState, DataChannel};
pub use config::{Bind, Config};
pub use error::Error;
pub use peer::{Event, Events, PeerConnection};
pub use server::Server;

pub use rtcwire::{
    ChannelId, DataChannelInit, IceCandidate, IceConnectionState, IceGatheringState, Payload,
    PeerConnectionState, SdpType, SessionDescription, SignalingState, StatsReport,
};
pub use rtcwire_ice::TurnServer;

/// The sans-IO session crate this driver runs (its `Config`, certificate, stats types).
pub use rtcwire;
