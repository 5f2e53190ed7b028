//! Small types shared by every rtcwire protocol crate.
//!
//! This crate is the leaf of the workspace and has no dependencies. It holds only what two or
//! more protocol crates must agree on to be composed by the session crate:
//!
//! - [`Transmit`] and [`Datagram`]: a datagram leaving or entering a sans-IO core;
//! - [`classify`]: the first-byte demultiplexer of RFC 7983 (updated by RFC 9443) that splits
//!   one UDP flow into STUN, DTLS, TURN ChannelData, RTP and RTCP;
//! - [`SansIo`]: the narrow trait through which `rtcwire-sim` drives any core (ICE, DTLS,
//!   SCTP) and through which the session stacks them;
//! - [`Fingerprint`]: the certificate fingerprint SDP carries and DTLS checks, one type and
//!   one parser for both;
//! - [`SrtpProfile`] and [`KeyingMaterial`]: the DTLS → SRTP hand-off, so that neither crate
//!   knows the other;
//! - id newtypes ([`Ssrc`], [`PayloadType`], [`StreamId`]);
//! - [`Rng`], the injected randomness source, with a deterministic [`SeededRng`] for tests.
//!
//! # Time and randomness are inputs
//!
//! Cores never read the clock: every method that needs time takes `now: Instant`. They never
//! construct their own random source either: an `Rng` is handed to them. With the simulator's
//! virtual clock and a [`SeededRng`], a whole session replays bit for bit.
//!
//! # The run loop
//!
//! Every core is driven the same way: feed input, then drain outputs until nothing is left,
//! then sleep until [`SansIo::poll_timeout`]. State is only consistent once the `poll_*`
//! methods return `None`.
//!
//! ```
//! use std::time::Instant;
//! use rtcwire_proto::{Datagram, SansIo, Transmit};
//!
//! fn drive<C: SansIo>(core: &mut C, now: Instant, incoming: Option<Datagram<'_>>,
//!                     send: &mut dyn FnMut(Transmit, &[u8]), on_event: &mut dyn FnMut(C::Event))
//!     -> Option<Instant>
//! {
//!     if let Some(d) = incoming {
//!         // Bad input is the peer's fault: the core counts it and goes on.
//!         let _ = core.handle_read(now, d);
//!     }
//!     if core.poll_timeout().is_some_and(|t| t <= now) {
//!         core.handle_timeout(now);
//!     }
//!     let mut buf = Vec::with_capacity(1500); // lent to the core, reused for every datagram
//!     while let Some(t) = core.poll_transmit(now, &mut buf) {
//!         send(t, &buf);
//!         buf.clear();
//!     }
//!     while let Some(e) = core.poll_event() {
//!         on_event(e);
//!     }
//!     core.poll_timeout() // sleep until then, or until the next datagram
//! }
//! # let _ = drive::<rtcwire_proto::doc_example::Echo>;
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod ct;
mod demux;
mod fingerprint;
mod id;
mod keying;
mod rng;
mod sansio;

pub use ct::ct_eq;
pub use demux::{classify, PacketKind};
pub use fingerprint::{Fingerprint, FingerprintAlgorithm, FingerprintError};
pub use id::{PayloadType, Ssrc, StreamId};
pub use keying::{DtlsRole, KeyingMaterial, SrtpKeys, SrtpProfile};
pub use rng::{derive_seed, Rng, RngError, SeededRng};
pub use sansio::{Datagram, SansIo, Transmit, Transport};

#[doc(hidden)]
pub mod doc_example {
    //! A trivial core used by documentation examples.
    use super::{Datagram, SansIo, Transmit, Transport};
    use std::collections::VecDeque;
    use std::net::SocketAddr;
    use std::time::Instant;

    /// Sends every datagram back where it came from.
    #[derive(Debug, Default)]
    pub struct Echo {
        out: VecDeque<(Option<SocketAddr>, Option<SocketAddr>, Vec<u8>)>,
    }

    impl SansIo for Echo {
        type Event = ();
        type Error = std::convert::Infallible;

        fn handle_read(&mut self, _now: Instant, d: Datagram<'_>) -> Result<(), Self::Error> {
            self.out
                .push_back((d.source, d.destination, d.contents.to_vec()));
            Ok(())
        }
        fn poll_transmit(&mut self, _now: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
            let (to, from, bytes) = self.out.pop_front()?;
            buf.extend_from_slice(&bytes);
            Some(Transmit {
                transport: Transport::Udp,
                source: from,
                destination: to,
                size: bytes.len(),
                segment_size: None,
            })
        }
        fn poll_event(&mut self) -> Option<()> {
            None
        }
        fn poll_timeout(&self) -> Option<Instant> {
            None
        }
        fn handle_timeout(&mut self, _now: Instant) {}
    }
}

/// The README's example, compiled and run as a doc test so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
