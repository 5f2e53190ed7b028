//! A sans-IO ICE agent (RFC 8445, full and lite) with trickle ICE (RFC 8838), consent
//! freshness (RFC 7675) and a TURN client (RFC 8656), on top of [`rtcwire_stun`].
//!
//! The [`Agent`] owns no socket, no clock and no random source of its own: datagrams come
//! in through [`Agent::handle_datagram`] (or [`SansIo::handle_read`](rtcwire_proto::SansIo)),
//! datagrams go out through `poll_transmit`, time is the `now` of every call, and
//! randomness (credentials, tie-breaker, transaction ids) comes from the injected
//! [`rtcwire_proto::Rng`].
//!
//! # Run loop
//!
//! After every input (a datagram, a timeout, a remote candidate), drain
//! `poll_transmit` and `poll_event` until both return `None`, then arm a timer for
//! `poll_timeout`. The state is consistent only then.
//!
//! See `README.md` for a complete example with a UDP socket.
//!
//! # What is implemented
//!
//! - Host candidates handed in by the caller, server-reflexive from STUN servers,
//!   peer-reflexive from checks, relayed from TURN (UDP); priorities, foundations, pairing
//!   (server-reflexive pairs pruned to their base), a pair cap.
//! - Check list states with foundation unfreezing, pacing at Ta, a triggered-check queue,
//!   retransmission with the RTO of RFC 8445 §14.3, nomination with USE-CANDIDATE as soon as
//!   a pair is valid, acceptance of the peer's nomination, role conflicts (487).
//! - Credentials checked on every request and response; failures dropped and counted.
//! - Consent freshness: checks every 4–6 s, only authenticated responses refresh consent,
//!   `disconnected` and then `failed` after 30 s.
//! - ICE restart: new credentials; the old selected pair carries data until the new one is
//!   nominated.
//! - Remote `.local` candidates are surfaced for resolution
//!   ([`RemoteCandidateOutcome::NeedsResolution`]) and paired once resolved.
//!
//! Not implemented: ICE-TCP (remote TCP candidates are accepted and counted but not
//! paired), TURN over TCP/TLS, the mDNS query/answer codec, several components.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod agent;
pub mod candidate;
mod checks;
mod error;
mod turn;

pub use agent::{
    Agent, Config, Credentials, Event, GatheringState, IceState, Received, RemoteCandidateOutcome,
    Role, SelectedPair, Stats,
};
pub use candidate::{Candidate, CandidateKind, TcpType};
pub use error::Error;
pub use turn::{TurnServer, TurnStatus};
