#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod agent;
pub mod candidate;
mod checks;
mod error;
mod gather;
mod io;
pub mod mdns;
mod pairs;
mod timers;
mod turn;
mod types;

pub use agent::{
    Agent, Config, Credentials, Event, GatheringState, IceState, Received, RemoteCandidateOutcome,
    Role, SelectedPair, Stats,
};
pub use candidate::{Candidate, CandidateKind, TcpType};
pub use error::Error;
/// What a driver needs from rtcwire-proto to run the agent, re-exported.
pub use rtcwire_proto::{Datagram, Rng, RngError, SansIo, SeededRng, Transmit, Transport};
pub use turn::{TurnServer, TurnStatus};
