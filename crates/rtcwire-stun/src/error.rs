//! The crate's one error type.

use crate::attr::AttrType;

/// Everything that can go wrong reading, writing or verifying STUN and TURN messages.
///
/// Parsing errors name what was wrong with the peer's bytes; they never carry a panic
/// location. Variants that concern one attribute carry its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // ---- message framing ----
    /// The input ends before what it must hold: the 20-byte STUN header, the 4-byte
    /// ChannelData header, or the data length a ChannelData header declares. Spelled the
    /// same way in every rtcwire crate.
    #[error("truncated: {needed} bytes needed, {available} available")]
    Truncated {
        /// Bytes the message needs at this point.
        needed: usize,
        /// Bytes there are.
        available: usize,
    },
    /// The two most significant bits of the message type are not zero: not STUN.
    #[error("the first two bits of a STUN message must be zero")]
    NotStun,
    /// The magic cookie is not 0x2112A442 (RFC 3489 messages are not supported).
    #[error("bad magic cookie {0:#010x}")]
    BadMagicCookie(u32),
    /// The header's length field is not a multiple of 4.
    #[error("message length {0} is not a multiple of 4")]
    LengthNotMultipleOf4(u16),
    /// The header's length field does not match the bytes after the header.
    #[error("message length field says {declared} bytes, {available} follow the header")]
    LengthMismatch {
        /// Length from the header.
        declared: usize,
        /// Bytes actually present after the header.
        available: usize,
    },
    /// An attribute's value (with its padding) runs past the end of the message.
    #[error("attribute {attr} at offset {offset} runs past the end of the message")]
    AttributePastEnd {
        /// The attribute's type.
        attr: AttrType,
        /// Offset of the attribute in the message.
        offset: usize,
    },
    /// An attribute follows FINGERPRINT, which must be the last one.
    #[error("attribute {0} follows FINGERPRINT")]
    AttributeAfterFingerprint(AttrType),
    /// An attribute other than MESSAGE-INTEGRITY-SHA256 or FINGERPRINT follows
    /// MESSAGE-INTEGRITY (or other than FINGERPRINT follows MESSAGE-INTEGRITY-SHA256).
    #[error("attribute {0} follows the message integrity")]
    AttributeAfterIntegrity(AttrType),
    /// An attribute that may appear only once appears twice.
    #[error("duplicate attribute {0}")]
    DuplicateAttribute(AttrType),

    // ---- attribute values ----
    /// An attribute's value has a length its type does not allow.
    #[error("attribute {attr} has invalid length {len}")]
    BadAttributeLength {
        /// The attribute's type.
        attr: AttrType,
        /// The value length found.
        len: usize,
    },
    /// A text attribute is not UTF-8.
    #[error("attribute {0} is not valid UTF-8")]
    InvalidUtf8(AttrType),
    /// An address attribute names a family other than IPv4 (1) or IPv6 (2).
    #[error("attribute {attr} has unknown address family {family:#04x}")]
    BadAddressFamily {
        /// The attribute's type.
        attr: AttrType,
        /// The family byte found.
        family: u8,
    },
    /// An error code outside 300–699, or a number part above 99.
    #[error("invalid error code {0}")]
    BadErrorCode(u16),
    /// A channel number outside 0x4000–0x4FFF.
    #[error("channel number {0:#06x} is outside 0x4000-0x4fff")]
    BadChannelNumber(u16),
    /// A comprehension-required attribute this crate does not understand (answer 420 with
    /// UNKNOWN-ATTRIBUTES).
    #[error("unknown comprehension-required attribute {0}")]
    UnknownComprehensionRequired(AttrType),

    // ---- integrity ----
    /// The message has no MESSAGE-INTEGRITY (or no MESSAGE-INTEGRITY-SHA256) to verify.
    #[error("message has no {0} attribute")]
    MissingIntegrity(AttrType),
    /// The HMAC does not match: wrong key or altered message.
    #[error("{0} does not match")]
    IntegrityMismatch(AttrType),
    /// The message has no FINGERPRINT.
    #[error("message has no FINGERPRINT")]
    MissingFingerprint,
    /// The FINGERPRINT does not match the message's CRC-32.
    #[error("bad FINGERPRINT: message says {received:#010x}, computed {computed:#010x}")]
    BadFingerprint {
        /// Value in the message.
        received: u32,
        /// Value computed over the message.
        computed: u32,
    },

    // ---- writing ----
    /// The output buffer is too small.
    #[error("output buffer too small: need {needed} bytes, have {available}")]
    BufferTooSmall {
        /// Bytes the write needed.
        needed: usize,
        /// Bytes the buffer had.
        available: usize,
    },
    /// A value longer than 65535 bytes, or a message body over 65535 bytes.
    #[error("value of {0} bytes does not fit a 16-bit length")]
    TooLong(usize),
    /// An attribute was added after FINGERPRINT, or after the integrity attributes, while
    /// building.
    #[error("attribute {0} added after the integrity or fingerprint attributes")]
    AttributeOrder(AttrType),

    // ---- ChannelData and TCP framing ----
    /// A TCP stream carries a byte that starts neither STUN nor ChannelData: the stream is
    /// out of step and must be closed.
    #[error("TCP stream out of step: frame starts with byte {0:#04x}")]
    UnframeableStream(u8),

    // ---- randomness ----
    /// The injected random source failed, so no transaction id could be drawn.
    #[error("the random source failed")]
    RandomSourceFailed,
}

impl From<rtcwire_proto::RngError> for Error {
    fn from(_: rtcwire_proto::RngError) -> Self {
        Error::RandomSourceFailed
    }
}
