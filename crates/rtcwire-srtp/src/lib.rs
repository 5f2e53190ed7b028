//! SRTP and SRTCP for rtcwire: RFC 3711 with the AES-GCM profiles of RFC 7714 and the
//! AES-256 profile of RFC 6188.
//!
//! A [`Context`] holds the session keys derived from one master key and salt (RFC 3711 §4.3,
//! key derivation rate 0) and the state of every SSRC seen: rollover counters estimated
//! from sequence numbers (§3.3.1), SRTCP indices, replay windows (§3.3.2). DTLS-SRTP gives
//! one master key per direction: [`Context::from_keying_material`] builds the pair from the
//! exporter output in [`rtcwire_proto::KeyingMaterial`]; [`Context::new`] takes a master key
//! and salt directly (SDES, tests).
//!
//! | profile | cipher | SRTP tag | SRTCP tag |
//! |---|---|---|---|
//! | `SRTP_AES128_CM_HMAC_SHA1_80` | AES-128-CM, HMAC-SHA1 | 10 | 10 |
//! | `SRTP_AES128_CM_HMAC_SHA1_32` | AES-128-CM, HMAC-SHA1 | 4 | 10 |
//! | `AES_256_CM_HMAC_SHA1_80` (RFC 6188) | AES-256-CM, HMAC-SHA1 | 10 | 10 |
//! | `SRTP_AEAD_AES_128_GCM` | AES-128-GCM | 16 | 16 |
//! | `SRTP_AEAD_AES_256_GCM` | AES-256-GCM | 16 | 16 |
//!
//! # In place, no allocation
//!
//! Packets are protected and unprotected in the caller's buffer: `protect_*` needs
//! [`Context::rtp_overhead`] / [`Context::rtcp_overhead`] spare octets after the packet,
//! `unprotect_*` returns the length of the plaintext at the front of the buffer. The
//! `*_bytes` variants do the same on a [`bytes::BytesMut`], writing the trailer into its
//! spare capacity. Nothing is allocated per packet; only the first packet of a new SSRC
//! creates that stream's state, and at most [`Config::max_streams`] of them.
//!
//! A failed unprotect ([`Error::AuthFailed`], [`Error::Replay`], [`Error::TooManyStreams`],
//! [`Error::Truncated`], …) leaves the context exactly as it was.
//!
//! # Example
//!
//! ```
//! use rtcwire_proto::SrtpProfile;
//! use rtcwire_srtp::{Config, Context, Error};
//!
//! let key = [0x11; 16];
//! let salt = [0x22; 14];
//! let p = SrtpProfile::Aes128CmHmacSha1_80;
//! let mut sender = Context::new(p, &key, &salt, Config::default())?;
//! let mut receiver = Context::new(p, &key, &salt, Config::default())?;
//!
//! // RTP: V=2, PT 111, seq 7, ts 960, SSRC 0x01020304, then the payload.
//! let rtp = [0x80, 111, 0, 7, 0, 0, 3, 192, 1, 2, 3, 4, b'h', b'i'];
//! let mut buf = [0u8; 1500];
//! buf[..rtp.len()].copy_from_slice(&rtp);
//! let n = sender.protect_rtp(&mut buf, rtp.len())?;
//! assert_eq!(n, rtp.len() + sender.rtp_overhead());
//!
//! // A flipped bit fails authentication, and changes nothing in the receiver.
//! let mut forged = buf;
//! forged[13] ^= 1;
//! assert!(matches!(receiver.unprotect_rtp(&mut forged[..n]), Err(Error::AuthFailed { .. })));
//!
//! let mut wire = buf;
//! let m = receiver.unprotect_rtp(&mut wire[..n])?;
//! assert_eq!(&wire[..m], &rtp);
//!
//! // The same packet again is a replay.
//! let mut again = buf;
//! assert!(matches!(receiver.unprotect_rtp(&mut again[..n]), Err(Error::Replay { .. })));
//! # Ok::<(), Error>(())
//! ```
//!
//! # Sans-IO
//!
//! No clock, no randomness, no locks: a context is plain data driven by its owner.
//! Encrypted header extensions (RFC 6904) are not supported; their presence never breaks
//! parsing, since the extension is skipped by its length.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cipher;
mod config;
mod context;
mod error;
mod header;
mod index;
mod kdf;
mod replay;
mod srtcp;
mod srtp;
mod stream;
#[cfg(test)]
mod vector_tests;

pub use config::Config;
pub use context::Context;
pub use error::Error;
pub use rtcwire_proto::{DtlsRole, KeyingMaterial, SrtpKeys, SrtpProfile, Ssrc};

/// The README's example, compiled and run as a doc test so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
