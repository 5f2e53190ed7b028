//! rtcwire-datachannel: WebRTC data channels (RFC 8831) and their establishment protocol
//! DCEP (RFC 8832) over an [`rtcwire_sctp::Association`].
//!
//! [`DataChannels`] has no core of its own: it owns no association, socket or clock. Each
//! call borrows the association, so a session keeps both as plain fields and feeds every
//! association event through [`DataChannels::handle_event`].
//!
//! - DATA_CHANNEL_OPEN / ACK, and the first DATA on a stream taken as an implicit ACK;
//!   the opener's channel is open once its OPEN is queued (as browsers do), and messages
//!   before the ACK go ordered.
//! - Stream ids by DTLS role: the client opens even ids, the server odd ones.
//! - Pre-negotiated channels (`negotiated: Some(id)`, no DCEP).
//! - Reliable, partially reliable (max retransmits, max lifetime), ordered and unordered.
//! - Text and binary, including empty messages (PPIDs 51/53 and 56/57).
//! - Closing by resetting the stream; the peer answers with its own reset and both sides
//!   report [`Event::Closed`].
//!
//! # Run loop
//!
//! ```
//! use std::time::Instant;
//! use rtcwire_datachannel::{ChannelConfig, DataChannels, Event, Payload};
//! use rtcwire_proto::{Datagram, DtlsRole, SansIo, SeededRng};
//! use rtcwire_sctp::{Association, Config};
//!
//! /// Moves every packet `from` has to `to` (a real driver hands them to DTLS).
//! fn pump(from: &mut Association, to: &mut Association, now: Instant, buf: &mut Vec<u8>) {
//!     while let Some(t) = from.poll_transmit(now, buf) {
//!         let _ = to.handle_read(now, Datagram::on_path(&buf[..t.size]));
//!         buf.clear();
//!     }
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let clock = rtcwire_sim::Sim::new(0);
//! let mut now = clock.now(); // the driver's clock (here rtcwire-sim's virtual one)
//! let mut sa = Association::new(Config::default(), Box::new(SeededRng::new(1)), now)?;
//! let mut sb = Association::new(Config::default(), Box::new(SeededRng::new(2)), now)?;
//! let (mut da, mut db) = (DataChannels::new(DtlsRole::Client), DataChannels::new(DtlsRole::Server));
//! sa.connect(now)?;
//! let mut buf = Vec::new();
//! let mut got = None;
//! for _ in 0..100 {
//!     pump(&mut sa, &mut sb, now, &mut buf);
//!     pump(&mut sb, &mut sa, now, &mut buf);
//!     // Every association event goes through the channels; what is not theirs comes back.
//!     while let Some(e) = sa.poll_event() {
//!         if let Some(rtcwire_sctp::Event::Connected) = da.handle_event(&mut sa, now, e) {
//!             let id = da.open(&mut sa, now, ChannelConfig { label: "chat".into(), ..Default::default() })?;
//!             da.send_text(&mut sa, now, id, "hi")?;
//!         }
//!     }
//!     while let Some(e) = sb.poll_event() {
//!         let _ = db.handle_event(&mut sb, now, e);
//!     }
//!     while let Some(e) = db.poll_event() {
//!         if let Event::Message { payload, .. } = e {
//!             got = Some(payload);
//!         }
//!     }
//!     if got.is_some() {
//!         break;
//!     }
//!     if let Some(t) = [sa.poll_timeout(), sb.poll_timeout()].into_iter().flatten().min() {
//!         now = now.max(t);
//!         sa.handle_timeout(now);
//!         sb.handle_timeout(now);
//!     }
//! }
//! assert_eq!(got, Some(Payload::Text("hi".into())));
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod channels;
pub mod dcep;
mod error;
mod payload;

pub use channels::{ChannelConfig, ChannelState, DataChannels, Event};
pub use dcep::Reliability;
pub use error::Error;
pub use payload::{Payload, Text};
/// The association channels run on, and the DTLS role that picks their ids, re-exported.
pub use rtcwire_proto::DtlsRole;
pub use rtcwire_sctp::Association;
