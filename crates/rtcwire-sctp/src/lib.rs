//! rtcwire-sctp: a sans-IO SCTP association for WebRTC data channels (RFC 9260 carried over
//! DTLS as RFC 8261 describes: single-homed, one packet per DTLS record).
//!
//! The [`Association`] owns no socket, clock or random source: packets come in through
//! [`SansIo::handle_read`], go out through
//! [`poll_transmit`](rtcwire_proto::SansIo::poll_transmit) (one packet of at most
//! [`Config::mtu`] bytes appended to a buffer the caller lends, so the session can write it
//! straight into a DTLS record), time is a parameter, and randomness (tags, TSNs, the
//! cookie key) comes from the [`Rng`] given to [`Association::new`].
//!
//! What it does: setup with a stateless HMAC-signed cookie and INIT collision handling,
//! verification tags on every packet, CRC-32c, fragmentation and reassembly bounded by a
//! local max message size and the receive window, ordered and unordered delivery per
//! stream with no fixed per-stream cost, SACK with gap blocks and duplicate TSNs, delayed
//! and immediate SACK, RTO (§6.3, Karn), fast retransmit, slow start / congestion avoidance
//! seeded from the peer's window, heartbeats, failure after Association.Max.Retrans,
//! graceful shutdown and abort, stream reset (RFC 6525) answered the way WebRTC peers
//! expect, PR-SCTP (RFC 3758: FORWARD TSN, limited retransmissions and lifetime), I-DATA
//! message interleaving (RFC 8260), zero checksum (RFC 9653), and a bounded send buffer
//! with buffered-amount-low events.
//!
//! Memory per message: a message delivered as it completes ([`Message::data`]; one of
//! several DATA chunks too, when they arrive in sequence and it fits 64 KiB) and a copy
//! made by [`Association::send_slice`] are pieces of blocks the association takes back once
//! every piece is dropped (at most four blocks of 4 to 64 KiB, given back after 5 s
//! unused), so a steady flow allocates nothing. Messages held for reordering, and
//! fragments that arrive out of sequence, get buffers of their own: what the peer makes us
//! hold never pins a block.
//!
//! # Run loop
//!
//! After any input or application call, drain transmits and events until both say
//! nothing, then wait for the next timeout (or input) and go again:
//!
//! ```
//! use std::time::{Duration, Instant};
//! use rtcwire_proto::{Datagram, SansIo, SeededRng};
//! use rtcwire_sctp::{Association, Config, Event, SendOptions};
//!
//! /// Moves every packet `from` has to `to` (a real driver hands them to DTLS).
//! fn pump(from: &mut Association, to: &mut Association, now: Instant, buf: &mut Vec<u8>) {
//!     while let Some(t) = from.poll_transmit(now, buf) {
//!         let _ = to.handle_read(now, Datagram::on_path(&buf[..t.size]));
//!         buf.clear();
//!     }
//! }
//!
//! # fn main() -> Result<(), rtcwire_sctp::Error> {
//! // Virtual time: a real driver passes its clock's `now`.
//! # let clock = rtcwire_sim::Sim::new(0);
//! let mut now = clock.now(); // the driver's clock (here rtcwire-sim's virtual one)
//! let mut a = Association::new(Config::default(), Box::new(SeededRng::new(1)), now)?;
//! let mut b = Association::new(Config::default(), Box::new(SeededRng::new(2)), now)?;
//! a.connect(now)?;
//! let mut buf = Vec::with_capacity(1500);
//! let mut got = Vec::new();
//! for _ in 0..100 {
//!     pump(&mut a, &mut b, now, &mut buf);
//!     pump(&mut b, &mut a, now, &mut buf);
//!     while let Some(e) = a.poll_event() {
//!         if e == Event::Connected {
//!             a.send(now, 1, 53, &b"hello"[..], SendOptions::default())?;
//!         }
//!     }
//!     while let Some(e) = b.poll_event() {
//!         if let Event::Message(m) = e {
//!             got.push(m.data);
//!         }
//!     }
//!     if !got.is_empty() {
//!         break;
//!     }
//!     // Nothing left to do now: jump to the next timer.
//!     if let Some(t) = [a.poll_timeout(), b.poll_timeout()].into_iter().flatten().min() {
//!         now = now.max(t);
//!         a.handle_timeout(now);
//!         b.handle_timeout(now);
//!     }
//! }
//! assert_eq!(got, vec![b"hello".to_vec()]);
//! # Ok(())
//! # }
//! ```
//!
//! # Not (yet) supported
//!
//! Restart of an established association (§5.2.2 / §5.2.4 case A), RACK-style loss
//! detection and CUBIC, add-streams and SSN/TSN reset requests, reneging of
//! gap-acknowledged data. Zero checksum (RFC 9653) and message interleaving (RFC 8260
//! I-DATA) are supported, off by default: [`Config::zero_checksum`],
//! [`Config::interleaving`].
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod association;
mod error;
pub mod wire;

pub use association::{
    AbortReason, Association, Config, Event, Message, SendOptions, State, Stats,
};
pub use error::Error;
/// What a driver needs from rtcwire-proto to run an association, re-exported.
pub use rtcwire_proto::{Datagram, Rng, RngError, SansIo, SeededRng, Transmit};

/// Payload protocol identifiers of WebRTC (RFC 8831 §8).
pub mod ppid {
    /// DCEP (DATA_CHANNEL_OPEN / ACK).
    pub const DCEP: u32 = 50;
    /// UTF-8 string.
    pub const STRING: u32 = 51;
    /// Binary.
    pub const BINARY: u32 = 53;
    /// Empty string (one byte sent and ignored).
    pub const STRING_EMPTY: u32 = 56;
    /// Empty binary (one byte sent and ignored).
    pub const BINARY_EMPTY: u32 = 57;
}
