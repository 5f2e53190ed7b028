//! RTP and RTCP for rtcwire: wire formats, receiver statistics, codec packetization.
//!
//! - [`rtp`]: checked zero-copy RTP views, a `Repr` that emits into caller buffers, and
//!   RFC 8285 header extensions with typed access to what WebRTC uses.
//! - [`rtcp`]: RTCP packets (RFC 3550, 4585, 5104, 5506, TWCC, REMB, XR), single and
//!   compound, read as zero-copy views and written into caller buffers.
//! - [`seq`] and [`stats`]: 64-bit sequence and timestamp unwrapping, interarrival jitter
//!   (RFC 3550 A.8), and per-source receiver statistics that produce report blocks.
//! - [`codec`]: packetizers and depacketizers (Opus, G.711, VP8, VP9, H.264, AV1) and a
//!   frame assembler that drops frames broken by loss.
//! - [`sender`] and [`jitter`]: a frame-to-RTP sender and a reordering jitter buffer.
//!
//! Nothing here reads a clock or owns a socket: time comes in as parameters.
//!
//! ```
//! use rtcwire_rtp::rtp::{ExtensionMap, HeaderExtensions, RtpPacket};
//!
//! // 0xBEDE one-byte extension with mid "a" (id 4) and transport-wide seq 0x0102 (id 3).
//! let bytes = [
//!     0x90, 0x60, 0x00, 0x2a, 0, 0, 0x03, 0xe8, 0, 0, 0, 7, // V=2 X=1 PT=96 seq=42
//!     0xbe, 0xde, 0x00, 0x02, 0x40, b'a', 0x31, 0x01, 0x02, 0, 0, 0, // 2-word block
//!     0xde, 0xad,                                            // payload
//! ];
//! let packet = RtpPacket::new_checked(&bytes[..])?;
//! let map = ExtensionMap::webrtc_default();
//! let ext = HeaderExtensions::parse(packet.extensions(), &map)?;
//! assert_eq!(ext.mid, Some("a"));
//! assert_eq!(ext.transport_cc, Some(0x0102));
//! assert_eq!(packet.payload(), &[0xde, 0xad]);
//! # Ok::<(), rtcwire_rtp::Error>(())
//! ```
//!
//! # A receive path
//!
//! Datagrams go through the [`jitter::JitterBuffer`] (reordering), each released packet
//! into a [`codec::FrameAssembler`] (frames, or nothing while a frame is broken) and into
//! [`stats::ReceiverStats`], whose report blocks go out in an RTCP receiver report:
//!
//! ```
//! use rtcwire_rtp::codec::{FrameAssembler, OpusDepacketizer};
//! use rtcwire_rtp::jitter::JitterBuffer;
//! use rtcwire_rtp::rtcp::{List, ReceiverReport, Rtcp, RtcpBody};
//! use rtcwire_rtp::rtp::{RtpPacket, RtpRepr};
//! use rtcwire_rtp::stats::ReceiverStats;
//! use rtcwire_rtp::{PayloadType, Ssrc};
//! use std::time::Duration;
//!
//! # let clock = rtcwire_sim::Sim::new(0);
//! let start = clock.now(); // in a real driver: the time each datagram arrived
//! let mut jitter = JitterBuffer::new(32);
//! let mut frames = FrameAssembler::new(OpusDepacketizer);
//! let mut stats = ReceiverStats::new(Ssrc(0x1234), 48_000);
//! for (i, seq) in [1u16, 3, 2].into_iter().enumerate() {
//!     let now = start + Duration::from_millis(20 * i as u64);
//!     let repr = RtpRepr { payload_type: PayloadType(111), sequence_number: seq,
//!                          timestamp: 960 * u32::from(seq), ssrc: Ssrc(0x1234), payload: &[0xfc, 0xff, 0xfe], ..Default::default() };
//!     let mut datagram = [0u8; 64];
//!     let n = repr.emit(&mut datagram)?;
//!     let packet = RtpPacket::new_checked(&datagram[..n])?;
//!     stats.on_packet(now, packet.sequence_number(), packet.timestamp());
//!     jitter.push(now, packet.sequence_number(), datagram[..n].to_vec());
//!     while let Some((_, bytes)) = jitter.pop(now) {
//!         let p = RtpPacket::new_checked(&bytes[..])?;
//!         frames.push(p.sequence_number(), p.timestamp(), p.marker(), p.payload());
//!     }
//! }
//! let decoded: Vec<u32> = std::iter::from_fn(|| frames.pop_frame()).map(|f| f.timestamp).collect();
//! assert_eq!(decoded, [960, 1920, 2880]); // in order despite the swap
//! let blocks = [stats.report_block(start + Duration::from_secs(1))];
//! assert_eq!(blocks[0].cumulative_lost, 0);
//! let rr = ReceiverReport { ssrc: Ssrc(1), reports: List::Items(&blocks), profile_extension: &[] };
//! let mut out = [0u8; 64];
//! let n = rr.emit(&mut out)?;
//! assert!(matches!(Rtcp::parse_bytes(&out[..n])?, Rtcp::ReceiverReport(_)));
//! # Ok::<(), rtcwire_rtp::Error>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod codec;
mod error;
pub mod jitter;
pub mod rtcp;
pub mod rtp;
pub mod sender;
pub mod seq;
pub mod stats;
mod wire;

pub use error::{Error, Result};
/// The id newtypes of the public API (SSRCs, CSRCs and payload types), from rtcwire-proto.
pub use rtcwire_proto::{PayloadType, Ssrc};

/// The README's example, compiled and run as a doc test so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
