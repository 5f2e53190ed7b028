//! rtcwire-sim: the deterministic test network every rtcwire core is tested on, and helpers
//! for tests that run a real external peer ([`peer`]).
//!
//! A dev-dependency only: nothing in production depends on it.
//!
//! # The model
//!
//! - **Endpoints** are anything implementing [`rtcwire_proto::SansIo`]: a DTLS or SCTP
//!   association, an ICE agent, a whole session, or the scriptable [`Probe`]. Each runs on a
//!   **host** that owns one or more IP addresses.
//! - **Links** join hosts, NATs and routers. Each direction has a one-way delay and jitter, a
//!   bandwidth-limited queue with tail drop, random or bursty (Gilbert–Elliott) loss,
//!   duplication, optional reordering, an MTU, and can be taken down and up
//!   ([`LinkConfig`]).
//! - **NATs** ([`NatConfig`]) have the RFC 4787 mapping and filtering behaviours, a mapping
//!   timeout and hairpinning.
//! - **Time** is virtual: [`Sim::run_until`] jumps the clock straight to the earliest timer
//!   or arrival, so a minute of retransmissions takes microseconds. Nothing sleeps.
//! - **Randomness** comes from one [`SeededRng`](rtcwire_proto::SeededRng): the same seed
//!   gives the same run, bit for bit. Set [`SEED_ENV`] to replay another seed. When a test
//!   panics while a [`Sim`] is alive, the sim prints its [`report`](Sim::report) (seed,
//!   counters, the end of the trace; all of it with [`FULL_TRACE_ENV`]) as it is dropped.
//! - Every send, NAT translation, delivery and drop is in the [trace](Sim::trace) (also
//!   emitted as `tracing` events at TRACE level, target `rtcwire_sim`); delivered datagrams
//!   can be written as a pcap file for Wireshark ([`Sim::write_pcap`]).
//!
//! Datagrams whose [`Transmit`](rtcwire_proto::Transmit) has no source leave from the host's
//! address; those with no destination go to the host's default peer (set by [`Sim::link`]
//! between two hosts, or by [`Sim::set_default_peer`]), which is how cores that do not know
//! addresses, like DTLS, are driven.
//!
//! The model and every knob are described in `docs/sim.md`.
//!
//! # Example: two endpoints over a lossy link
//!
//! A tiny core that pings every 100 ms until it has three answers, against an echo:
//!
//! ```
//! use std::time::{Duration, Instant};
//! use rtcwire_proto::{Datagram, SansIo, Transmit};
//! use rtcwire_sim::{LinkConfig, Loss, Probe, Sim};
//!
//! /// Sends "ping" every 100 ms until it has heard three replies.
//! #[derive(Default)]
//! struct Pinger {
//!     next_ping: Option<Instant>,
//!     due: bool,
//!     replies: u32,
//! }
//!
//! impl SansIo for Pinger {
//!     type Event = u32; // number of replies so far
//!     type Error = std::convert::Infallible;
//!
//!     fn handle_read(&mut self, _now: Instant, _d: Datagram<'_>) -> Result<(), Self::Error> {
//!         self.replies += 1;
//!         Ok(())
//!     }
//!     fn poll_transmit(&mut self, _now: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
//!         if !std::mem::take(&mut self.due) {
//!             return None;
//!         }
//!         buf.extend_from_slice(b"ping");
//!         // No destination: the simulator sends it to the host's default peer.
//!         Some(Transmit::on_path(4))
//!     }
//!     fn poll_event(&mut self) -> Option<u32> {
//!         None
//!     }
//!     fn poll_timeout(&self) -> Option<Instant> {
//!         if self.replies >= 3 { None } else { self.next_ping }
//!     }
//!     fn handle_timeout(&mut self, now: Instant) {
//!         if self.next_ping.is_some_and(|t| t <= now) && self.replies < 3 {
//!             self.due = true;
//!             self.next_ping = Some(now + Duration::from_millis(100));
//!         }
//!     }
//! }
//!
//! let mut sim = Sim::new(7);
//! let start = sim.now();
//! let a = sim.add_host("10.0.0.1:5000".parse().unwrap(), Pinger { next_ping: Some(start), ..Pinger::default() });
//! let b = sim.add_host("10.0.0.2:6000".parse().unwrap(), Probe::echo());
//! let link = LinkConfig::with_delay(Duration::from_millis(20)).loss(Loss::Random(0.2));
//! sim.link(a, b, link); // also makes each the other's default peer
//!
//! let outcome = sim.run_until(|s| s.endpoint(a).replies >= 3, Duration::from_secs(10));
//! assert!(outcome.is_done(), "{outcome}\n{}", sim.report());
//! // Each round trip takes at least 40 ms of simulated time, and no real time passed.
//! assert!(sim.elapsed() >= Duration::from_millis(240));
//! // Everything delivered went either to the echo or back to the pinger.
//! assert_eq!(sim.stats().delivered, sim.events(b).len() as u64 + 3);
//! println!("{}", sim.stats());
//! ```
//!
//! # NATs
//!
//! ```
//! use std::time::Duration;
//! use rtcwire_sim::{LinkConfig, NatConfig, Probe, Sim};
//!
//! let mut sim = Sim::new(1);
//! let inside = sim.add_host("192.168.1.2:5000".parse().unwrap(), Probe::new());
//! let server = sim.add_host("198.51.100.7:3478".parse().unwrap(), Probe::reflector());
//! let nat = sim.add_nat("203.0.113.1".parse().unwrap(), NatConfig::port_restricted_cone());
//! let lan = LinkConfig::with_delay(Duration::from_millis(1));
//! sim.link(inside, nat.inside(), lan);
//! sim.link(nat.outside(), server, LinkConfig::with_delay(Duration::from_millis(30)));
//!
//! let server_addr = sim.host_addr(server);
//! sim.endpoint_mut(inside).send_to(server_addr, "what is my address?");
//! let _ = sim.run_until(|s| !s.events(inside).is_empty(), Duration::from_secs(1));
//! assert_eq!(sim.events(inside)[0].contents, b"203.0.113.1:49152");
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod endpoint;
mod error;
mod link;
mod nat;
mod pcap;
pub mod peer;
mod probe;
mod route;
mod run;
mod sim;
mod trace;

pub use endpoint::Host;
pub use error::Error;
pub use link::{Direction, GilbertElliott, LinkConfig, LinkStats, Loss, Reorder};
pub use nat::{Filtering, Mapping, NatConfig, NatMapping, PortAllocation};
pub use probe::{Outgoing, Probe, Received, Reply};
pub use run::Outcome;
pub use sim::{
    seed_from_env, Attach, HostId, LinkId, NatId, RouterId, Sim, SimBuilder, FULL_TRACE_ENV,
    SEED_ENV,
};
pub use trace::{DropCause, Stats, TraceEntry, TraceEvent};
