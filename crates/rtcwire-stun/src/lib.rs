//! STUN and TURN messages (RFC 8489, RFC 8445 attributes, RFC 8656), sans-IO.
//!
//! The message layer under ICE and TURN, usable alone (for a STUN server, say):
//!
//! - [`Message`]: a zero-copy, checked view of a received message; attributes decode lazily
//!   into [`Attribute`] values that borrow from the buffer. Unknown comprehension-optional
//!   attributes are kept and skipped; unknown comprehension-required ones are reported
//!   ([`Message::unknown_comprehension_required`]) so a server can answer 420.
//! - [`MessageBuilder`]: writes a message into a [`BytesMut`](bytes::BytesMut), a `Vec<u8>` or a
//!   fixed slice ([`SliceBuf`]), computing MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 and
//!   FINGERPRINT over what precedes them.
//! - [`IntegrityKey`]: short-term and long-term credentials (MD5 and SHA-256 keys), derived
//!   once and reused: HMAC-SHA1 with RustCrypto (CPU SHA extensions), HMAC-SHA256 with ring.
//! - [`ChannelData`] (RFC 8656 §12) and [`TcpFramer`], which splits a TCP stream into STUN
//!   and ChannelData messages (TURN over TCP) or RFC 4571 frames (ICE-TCP, RFC 6544).
//! - [`is_stun`], the demultiplexing test, consistent with [`rtcwire_proto::classify`].
//!
//! This crate does no I/O, reads no clock and holds no state between messages; transaction
//! ids come from the injected [`rtcwire_proto::Rng`] ([`TransactionId::random`]).
//!
//! # Example: an ICE connectivity check and its answer
//!
//! ```
//! use bytes::BytesMut;
//! use rtcwire_stun::{Attribute, Class, IntegrityKey, Message, MessageBuilder, MessageType,
//!                    TransactionId};
//!
//! // The controlling agent checks a pair; the password is the peer's ice-pwd.
//! let key = IntegrityKey::short_term("peer-ice-pwd");
//! let tid = TransactionId::random(&mut rtcwire_proto::SeededRng::new(1))?;
//! let mut out = BytesMut::with_capacity(128);
//! let mut b = MessageBuilder::new(&mut out, MessageType::BINDING_REQUEST, tid)?;
//! b.attr(&Attribute::Username("peerufrag:myufrag"))?
//!     .attr(&Attribute::Priority(0x6e00_01ff))?
//!     .attr(&Attribute::IceControlling(0x1234))?
//!     .attr(&Attribute::UseCandidate)?
//!     .message_integrity(&key)?
//!     .fingerprint()?;
//! let len = b.finish();
//!
//! // The peer parses and checks it …
//! let req = Message::parse(&out[..len])?;
//! req.verify_fingerprint()?;
//! req.verify_integrity(&key)?;
//! req.check_comprehension()?;
//! assert!(req.use_candidate());
//!
//! // … and answers with the address it saw.
//! let mut resp = Vec::new();
//! let mut b = MessageBuilder::new(
//!     &mut resp,
//!     req.message_type().with_class(Class::Success),
//!     req.transaction_id(),
//! )?;
//! b.attr(&Attribute::XorMappedAddress("192.0.2.1:32853".parse().unwrap()))?
//!     .message_integrity(&key)?
//!     .fingerprint()?;
//! b.finish();
//! let resp = Message::parse(&resp)?;
//! assert_eq!(resp.xor_mapped_address()?, Some("192.0.2.1:32853".parse().unwrap()));
//! # Ok::<(), rtcwire_stun::Error>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod attr;
mod builder;
mod channel_data;
mod error;
mod framer;
mod header;
mod integrity;
mod message;

pub use attr::{AddressFamily, AttrType, Attribute, ErrorCode};
pub use builder::{MessageBuilder, Output, SliceBuf};
pub use channel_data::{ChannelData, Transport, CHANNEL_DATA_HEADER_LEN, MAX_CHANNEL, MIN_CHANNEL};
pub use error::Error;
pub use framer::{next_frame, write_rfc4571, Frame, FrameSpan, Framing, TcpFramer};
pub use header::{
    Class, MessageType, Method, TransactionId, HEADER_LEN, MAGIC_COOKIE, MAX_BODY_LEN,
};
pub use integrity::{
    fingerprint, long_term_key_md5, userhash, IntegrityKey, FINGERPRINT_XOR, INTEGRITY_LEN,
    INTEGRITY_SHA256_LEN,
};
pub use message::{Message, RawAttribute, RawAttributes};
pub use rtcwire_proto::{Rng, RngError};

/// Whether `datagram` looks like a whole STUN message: a first byte of 0–3 (RFC 7983 §7:
/// methods below 0x100, which every registered method is), the magic cookie, a length that is a multiple of 4 and
/// matches the datagram.
///
/// A cheap test for demultiplexing (RFC 7983 §7): whenever it is true,
/// [`rtcwire_proto::classify`] says [`PacketKind::Stun`](rtcwire_proto::PacketKind::Stun).
/// It does not walk the attributes; [`Message::parse`] does.
#[must_use]
pub fn is_stun(datagram: &[u8]) -> bool {
    let Some(&[t0, _, l0, l1, c0, c1, c2, c3]) = datagram.get(..8) else {
        return false;
    };
    let len = usize::from(u16::from_be_bytes([l0, l1]));
    t0 <= 3
        && u32::from_be_bytes([c0, c1, c2, c3]) == MAGIC_COOKIE
        && len % 4 == 0
        && datagram.len() == HEADER_LEN + len
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtcwire_proto::{classify, PacketKind};

    proptest::proptest! {
        #[test]
        fn is_stun_implies_classify_stun(
            mut data in proptest::collection::vec(proptest::num::u8::ANY, 0..64),
            make_valid in proptest::bool::ANY,
        ) {
            if make_valid && data.len() >= 20 {
                data.truncate(20 + (data.len() - 20) / 4 * 4);
                data[0] &= 0x03;
                let len = (data.len() - 20) as u16;
                data[2..4].copy_from_slice(&len.to_be_bytes());
                data[4..8].copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
                proptest::prop_assert!(is_stun(&data));
            }
            if is_stun(&data) {
                proptest::prop_assert_eq!(classify(&data), PacketKind::Stun);
            }
        }
    }

    #[test]
    fn is_stun_rejects_near_misses() {
        let mut m = vec![0u8; 24];
        m[1] = 1;
        m[3] = 4;
        m[4..8].copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
        assert!(is_stun(&m));
        assert!(!is_stun(&m[..23]));
        let mut bad = m.clone();
        bad[0] = 0x40; // ChannelData range
        assert!(!is_stun(&bad));
        let mut bad = m.clone();
        bad[7] ^= 1;
        assert!(!is_stun(&bad));
        assert!(!is_stun(&[]));
    }
}

/// The README's example, compiled and run as a doc test so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
