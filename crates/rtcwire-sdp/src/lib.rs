//! SDP (RFC 8866) for WebRTC: a lossless parser and writer, and a typed model of what
//! WebRTC uses.
//!
//! Two levels, as in smoltcp's wire types:
//!
//! - [`Sdp`] is the text itself, parsed and checked: every line in order, attributes this
//!   crate does not know included. `Sdp::parse(x)?.as_str() == x` for every valid `x` whose
//!   lines end in CRLF; other line endings are normalised to CRLF. Typed values are read
//!   through borrowing views: [`Sdp::session`] and [`Sdp::media`].
//! - [`Description`] is the typed model as plain values (text fields are [`Cow`](std::borrow::Cow)s, borrowed
//!   when read, owned or `'static` when built). Read one with [`Sdp::description`], build one
//!   with [`Description::new`] and [`Media`]'s `with_*` methods, write it with
//!   [`Description::to_sdp`].
//!
//! Modelled, per media section: mid, direction, rtcp-mux, rtcp-rsize, codecs (rtpmap, fmtp
//! and rtcp-fb joined by payload type), extmap and extmap-allow-mixed (RFC 8285), ssrc and
//! ssrc-group (RFC 5576), msid (RFC 8830), rid and simulcast (RFC 8851, RFC 8853), ICE
//! ufrag, pwd, options, candidates with every field and end-of-candidates (RFC 8839),
//! fingerprint (RFC 8122), setup (RFC 4145), sctp-port and max-message-size (RFC 8841); per
//! session: BUNDLE and other groups (RFC 5888, RFC 8843), msid-semantic, ice-lite, and the
//! session-level forms of the ICE, DTLS, direction and extmap attributes.
//!
//! # Reading
//!
//! ```
//! use rtcwire_sdp::{Direction, MediaKind, Sdp, Setup};
//!
//! let text = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
//!             a=group:BUNDLE 0\r\n\
//!             m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n\
//!             a=ice-ufrag:EsAw\r\na=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\n\
//!             a=setup:actpass\r\na=mid:0\r\na=sendonly\r\na=rtcp-mux\r\n\
//!             a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n\
//!             a=x-unknown:kept as is\r\n";
//! let sdp = Sdp::parse(text)?;
//! assert_eq!(sdp.as_str(), text); // nothing lost
//!
//! let audio = sdp.media_by_mid("0").expect("section 0");
//! assert_eq!(audio.kind(), MediaKind::Audio);
//! assert_eq!(audio.direction(), Direction::SendOnly);
//! assert_eq!(audio.setup(), Some(Setup::ActPass));
//! let opus = &audio.codecs()[0];
//! assert_eq!((&*opus.name, opus.clock_rate, opus.channels), ("opus", 48_000, Some(2)));
//! assert_eq!(opus.fmtp_param("useinbandfec"), Some("1"));
//! assert_eq!(audio.attribute("x-unknown"), Some(Some("kept as is")));
//! # Ok::<(), rtcwire_sdp::Error>(())
//! ```
//!
//! # Building
//!
//! ```
//! use rtcwire_sdp::{Codec, Description, Direction, Group, Media};
//!
//! let offer = Description::new(4_004_586_351, 1)
//!     .with_group(Group::bundle(["0"]))
//!     .with_media(
//!         Media::video()
//!             .with_mid("0")
//!             .with_direction(Direction::RecvOnly)
//!             .with_codec(Codec::new(96, "VP8", 90_000).with_feedback("nack pli"))
//!             .with_codec(Codec::new(97, "rtx", 90_000).with_fmtp("apt=96")),
//!     );
//! let sdp = offer.to_sdp()?;
//! assert!(sdp.as_str().contains("m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n"));
//! assert!(sdp.as_str().contains("a=rtcp-fb:96 nack pli\r\n"));
//! assert_eq!(sdp.description(), offer);
//! # Ok::<(), rtcwire_sdp::Error>(())
//! ```
//!
//! # Errors and limits
//!
//! Parsing never panics. An [`Error`] names the line (1-based) and what is wrong with it.
//! Input size, line count, line length, media sections and attributes per section are
//! capped by [`Limits`]; lists inside attributes (candidate extensions, group members,
//! SSRCs, simulcast streams, fingerprint bytes) have fixed caps.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod attr;
mod error;
mod fields;
mod join;
mod model;
mod parse;
mod sdp;
mod view;

pub use attr::{
    Attribute, Candidate, CandidateKind, Codec, Direction, Extmap, Fingerprint,
    FingerprintAlgorithm, Fmtp, Group, Msid, MsidSemantic, Rid, RidDirection, RtcpFb, RtpMap,
    Setup, Simulcast, SimulcastRid, SsrcAttribute, SsrcGroup, TcpType,
};
pub use error::Error;
pub use fields::{Bandwidth, Connection, MediaKind, Origin, Timing};
pub use join::MAX_WILDCARD_FEEDBACK;
pub use model::{Description, Media};
pub use sdp::{Limits, LineRef, Sdp};
pub use view::{MediaView, SessionView};

/// The README's example, compiled and run as a doc test so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
