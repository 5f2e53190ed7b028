//! The crate's one error type.

use rtcwire_proto::Ssrc;
use thiserror::Error;

/// Why an SRTP/SRTCP operation failed.
///
/// A failed [`unprotect`](crate::Context::unprotect_rtp) never changes any state: no rollover
/// counter moves, no replay window advances, no stream is created.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    /// The packet is shorter than its header, trailer or tag require.
    #[error("truncated: need {needed} octets, have {available}")]
    Truncated {
        /// Octets the packet's own header (plus tag and trailer) calls for.
        needed: usize,
        /// Octets present.
        available: usize,
    },
    /// The packet is not RTP/RTCP version 2.
    #[error("not an RTP/RTCP version 2 packet (version {version})")]
    BadVersion {
        /// The version field found.
        version: u8,
    },
    /// The RTP header is malformed in another way than the two above.
    #[error("malformed RTP header: {0}")]
    Header(#[source] rtcwire_rtp::Error),
    /// The authentication tag (HMAC-SHA1 or the GCM tag) does not match: the packet was
    /// forged, corrupted, or protected under other keys.
    #[error("authentication failed (SSRC {ssrc:#010x})")]
    AuthFailed {
        /// The SSRC the packet claimed.
        ssrc: Ssrc,
    },
    /// The packet's index was already received, or lies behind the replay window.
    #[error("replayed or too old: SSRC {ssrc:#010x}, index {index}")]
    Replay {
        /// The SSRC of the stream.
        ssrc: Ssrc,
        /// The packet's (estimated) SRTP or SRTCP index.
        index: u64,
    },
    /// The packet opens a new stream but the context already holds its maximum number of
    /// streams ([`Config::max_streams`](crate::Config::max_streams)).
    #[error("unknown SSRC {ssrc:#010x}: already tracking the maximum of {max} streams")]
    TooManyStreams {
        /// The SSRC that would have opened a stream.
        ssrc: Ssrc,
        /// The configured maximum.
        max: usize,
    },
    /// The caller's buffer has no room for the authentication tag (and SRTCP trailer).
    #[error("buffer too small: need {needed} octets, have {available}")]
    BufferTooSmall {
        /// Octets needed in total.
        needed: usize,
        /// Octets the buffer holds.
        available: usize,
    },
    /// The SRTP (2^48) or SRTCP (2^31) packet index space of this key is used up: rekey.
    #[error("packet index space exhausted for SSRC {ssrc:#010x}: the keys must be renewed")]
    IndexExhausted {
        /// The SSRC of the stream.
        ssrc: Ssrc,
    },
    /// A master key or salt has the wrong length for the profile.
    #[error("{what} is {got} octets, the profile needs {expected}")]
    KeyLength {
        /// `"master key"` or `"master salt"`.
        what: &'static str,
        /// Octets the profile needs.
        expected: usize,
        /// Octets given.
        got: usize,
    },
    /// A [`Config`](crate::Config) value is out of range.
    #[error("invalid configuration: {0}")]
    InvalidConfig(&'static str),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_show_ssrcs_in_hex_and_lengths_as_needed_and_available() {
        assert_eq!(
            Error::AuthFailed { ssrc: Ssrc(10) }.to_string(),
            "authentication failed (SSRC 0x0000000a)"
        );
        assert_eq!(
            Error::Truncated {
                needed: 22,
                available: 13
            }
            .to_string(),
            "truncated: need 22 octets, have 13"
        );
    }
}
