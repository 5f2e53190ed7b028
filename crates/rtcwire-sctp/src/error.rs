//! The one error type of this crate.

/// Why a packet was refused or an application call failed.
///
/// A refused packet leaves the association unchanged (the SansIo error rule); fatal
/// conditions are never errors but [`Event::Aborted`](crate::Event::Aborted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // --- wire format ---
    /// Fewer bytes than the format requires.
    #[error("truncated: needed {needed} bytes, {available} available")]
    Truncated {
        /// Bytes needed.
        needed: usize,
        /// Bytes present.
        available: usize,
    },
    /// The CRC-32c does not match.
    #[error("bad checksum: packet says {expected:#010x}, computed {actual:#010x}")]
    BadChecksum {
        /// The checksum field.
        expected: u32,
        /// The computed CRC-32c.
        actual: u32,
    },
    /// A length field below its minimum.
    #[error("bad {what} length {length}")]
    BadLength {
        /// What carried the length.
        what: &'static str,
        /// The length.
        length: usize,
    },
    /// A DATA chunk with no user data.
    #[error("DATA chunk without user data")]
    EmptyData,
    /// More items than this crate reads.
    #[error("too many {what}")]
    TooMany {
        /// What there were too many of.
        what: &'static str,
    },
    /// A required parameter is absent.
    #[error("missing {what}")]
    MissingParameter {
        /// Which.
        what: &'static str,
    },

    // --- packets refused by the association ---
    /// The packet's ports are not the association's.
    #[error("wrong port")]
    WrongPort,
    /// The verification tag is not the expected one.
    #[error("wrong verification tag")]
    WrongVerificationTag,
    /// The state cookie's signature does not verify, or its content is unusable.
    #[error("invalid state cookie")]
    BadCookie,
    /// The state cookie is older than its lifetime.
    #[error("stale state cookie")]
    StaleCookie,
    /// A chunk that is not allowed in this state or position.
    #[error("unexpected chunk type {0}")]
    UnexpectedChunk(u8),
    /// The association is closed: no input is accepted.
    #[error("association closed")]
    Closed,

    // --- application calls ---
    /// SCTP cannot carry an empty message (data channels use the empty PPIDs).
    #[error("empty message")]
    EmptyMessage,
    /// The message is larger than the peer accepts (or the local limit).
    #[error("message of {size} bytes exceeds the maximum of {max}")]
    MessageTooLarge {
        /// Message size.
        size: usize,
        /// Limit.
        max: usize,
    },
    /// The send buffer (total or of this stream) is full: wait for a buffered-amount-low
    /// event.
    #[error("send buffer full")]
    BufferFull,
    /// The stream is being reset: no new message on it until the reset completes.
    #[error("stream {0} is being reset")]
    StreamResetting(u16),
    /// Stream id beyond what the peer accepts.
    #[error("stream {0} beyond the negotiated number of streams")]
    InvalidStream(u16),
    /// The operation needs an established association.
    #[error("association not established")]
    NotEstablished,
    /// The peer does not support the extension the call needs.
    #[error("peer does not support {0}")]
    Unsupported(&'static str),
    /// The random source failed.
    #[error("random source failed")]
    Rng,
}
