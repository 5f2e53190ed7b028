//! The crate's one error type.

/// Everything that can go wrong reading or writing RTP and RTCP, or (de)packetizing media.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input ended before a field or a declared length was complete: the buffer handed
    /// in is shorter than what it starts to describe. (A packet that is framed whole but
    /// whose own count or length disagrees with its body is malformed, not truncated:
    /// [`Error::BadRtcp`], [`Error::BadExtension`], [`Error::BadPayload`].)
    #[error("truncated: need {needed} bytes, have {available}")]
    Truncated {
        /// Bytes the structure needs.
        needed: usize,
        /// Bytes present.
        available: usize,
    },
    /// The version field is not 2.
    #[error("unsupported RTP/RTCP version {0}")]
    BadVersion(u8),
    /// The padding count is zero or larger than the room it could occupy.
    #[error("invalid padding length {0}")]
    BadPadding(usize),
    /// A header extension element is malformed (bad length, reserved id, overrun).
    #[error("malformed header extension: {0}")]
    BadExtension(&'static str),
    /// An RTCP packet's length field or count disagrees with its body.
    #[error("malformed RTCP {what}: {reason}")]
    BadRtcp {
        /// Which packet type.
        what: &'static str,
        /// What was wrong.
        reason: &'static str,
    },
    /// A compound RTCP packet breaks RFC 3550 §6.1 (first packet not SR/RR).
    #[error("invalid compound RTCP: {0}")]
    BadCompound(&'static str),
    /// The output buffer is too small for what is being written.
    #[error("buffer too small: need {needed} bytes, have {available}")]
    BufferTooSmall {
        /// Bytes the writer needs.
        needed: usize,
        /// Bytes the buffer has.
        available: usize,
    },
    /// A value does not fit its wire field (too many items, too long, out of range).
    #[error("value out of range: {0}")]
    OutOfRange(&'static str),
    /// A codec payload is malformed.
    #[error("malformed {codec} payload: {reason}")]
    BadPayload {
        /// Codec name.
        codec: &'static str,
        /// What was wrong.
        reason: &'static str,
    },
    /// A frame being reassembled (or an OBU fragment inside it) would grow past the
    /// receiver's cap: the peer sent more data for one frame than any decoder would take.
    #[error("frame too large: {size} bytes would exceed the cap of {max}")]
    FrameTooLarge {
        /// Bytes the frame (with the fragment in progress) would hold.
        size: usize,
        /// The cap.
        max: usize,
    },
    /// A frame cannot be carried: for example an Opus packet larger than the MTU (RFC 7587
    /// forbids splitting it), or an MTU too small for the payload descriptor.
    #[error("cannot packetize: {0}")]
    CannotPacketize(&'static str),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Checks that `buf` holds at least `needed` bytes.
#[inline]
pub(crate) fn need(buf: &[u8], needed: usize) -> Result<()> {
    if buf.len() < needed {
        Err(Error::Truncated {
            needed,
            available: buf.len(),
        })
    } else {
        Ok(())
    }
}

/// Checks that an output buffer holds at least `needed` bytes.
#[inline]
pub(crate) fn room(buf: &[u8], needed: usize) -> Result<()> {
    if buf.len() < needed {
        Err(Error::BufferTooSmall {
            needed,
            available: buf.len(),
        })
    } else {
        Ok(())
    }
}
