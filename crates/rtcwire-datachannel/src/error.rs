//! The one error type of this crate.

/// Why a DCEP message was refused or a channel call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Fewer bytes than the format requires.
    #[error("truncated: needed {needed} bytes, {available} available")]
    Truncated {
        /// Bytes needed.
        needed: usize,
        /// Bytes present.
        available: usize,
    },
    /// A DCEP message type other than OPEN or ACK.
    #[error("unknown DCEP message type {0:#04x}")]
    UnknownMessageType(u8),
    /// A channel type RFC 8832 does not define.
    #[error("unknown channel type {0:#04x}")]
    UnknownChannelType(u8),
    /// Label or protocol is not UTF-8.
    #[error("label or protocol is not UTF-8")]
    NotUtf8,
    /// Label or protocol longer than 65535 bytes.
    #[error("label or protocol too long")]
    TooLong,
    /// No channel with this id.
    #[error("no channel {0}")]
    NoSuchChannel(u16),
    /// The id is taken (or has the peer's parity for a non-negotiated channel).
    #[error("channel id {0} unavailable")]
    IdUnavailable(u16),
    /// Every id of our parity is in use.
    #[error("no free channel id")]
    NoFreeId,
    /// The channel is closing or closed.
    #[error("channel {0} is not open")]
    NotOpen(u16),
    /// The SCTP association refused.
    #[error("sctp: {0}")]
    Sctp(#[from] rtcwire_sctp::Error),
}
