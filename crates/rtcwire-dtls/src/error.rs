//! The crate's one error type, and the alerts it maps to.

use crate::alert::AlertDescription;

/// Why a handshake or connection failed, or why a call was refused.
///
/// The crate follows the workspace's one error rule. `Err` from
/// [`handle_read`](rtcwire_proto::SansIo::handle_read) is only ever
/// [`Error::DatagramRefused`] or [`Error::Closed`]: the datagram was dropped and counted (see
/// [`Stats`](crate::Stats)) and the connection is unchanged. A fatal failure (every other
/// variant) is reported exactly once, as [`Event::Error`](crate::Event::Error), after the
/// matching alert is queued; the connection is then closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A handshake message did not decode.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// A handshake message ended before a field it declares.
    #[error("truncated handshake message: {needed} bytes needed, {available} available")]
    Truncated {
        /// Bytes the next field needed.
        needed: usize,
        /// Bytes that were left.
        available: usize,
    },
    /// A handshake message arrived that the current state does not expect.
    #[error("unexpected {got} while expecting {expected}")]
    UnexpectedMessage {
        /// What the state machine waited for.
        expected: &'static str,
        /// What arrived.
        got: &'static str,
    },
    /// The peer offered no cipher suite we enable, or picked one we did not offer.
    #[error("no cipher suite in common with the peer")]
    NoCommonCipherSuite,
    /// The peer offered no key-exchange group we enable, or picked one we did not offer.
    #[error("no key exchange group in common with the peer")]
    NoCommonGroup,
    /// No signature scheme usable with the certificates in play.
    #[error("no signature scheme in common with the peer")]
    NoCommonSignatureScheme,
    /// The peer's protocol version is not DTLS 1.2.
    #[error("peer does not speak DTLS 1.2 (version {0:#06x})")]
    UnsupportedVersion(u16),
    /// The server picked an SRTP profile the client did not offer, or a malformed use_srtp.
    #[error("invalid SRTP profile negotiation")]
    BadSrtpNegotiation,
    /// The peer did not send a certificate (WebRTC requires mutual authentication).
    #[error("peer sent no certificate")]
    NoPeerCertificate,
    /// The peer's certificate does not match any fingerprint from the remote SDP.
    #[error("peer certificate does not match the remote fingerprint")]
    FingerprintMismatch,
    /// No remote fingerprint was configured, so the peer cannot be authenticated.
    #[error("no remote fingerprint configured")]
    NoRemoteFingerprint,
    /// The peer's certificate could not be parsed far enough to find its public key, or its
    /// key type is not supported.
    #[error("unsupported or unparsable peer certificate: {0}")]
    BadCertificate(&'static str),
    /// A local certificate and private key do not belong together.
    #[error("the certificate's public key does not match the private key")]
    CertificateKeyMismatch,
    /// A local private key could not be loaded.
    #[error("unusable private key: {0}")]
    BadPrivateKey(String),
    /// Generating a certificate failed.
    #[error("certificate generation failed: {0}")]
    CertificateGeneration(String),
    /// A ServerKeyExchange or CertificateVerify signature did not verify.
    #[error("handshake signature does not verify")]
    BadSignature,
    /// The peer's Finished does not match our transcript: the handshake was tampered with
    /// or downgraded.
    #[error("Finished verify_data mismatch (tampered or downgraded handshake)")]
    FinishedMismatch,
    /// The peer's key share is not a valid point for the group.
    #[error("invalid key share")]
    BadKeyShare,
    /// The peer asked for renegotiation, which is refused.
    #[error("renegotiation refused")]
    RenegotiationRefused,
    /// The handshake did not complete before the configured deadline.
    #[error("handshake timed out")]
    HandshakeTimeout,
    /// The peer sent a fatal alert.
    #[error("peer sent fatal alert {0:?}")]
    AlertReceived(AlertDescription),
    /// Application data was written before the handshake completed.
    #[error("not connected yet")]
    NotConnected,
    /// The connection is closed (close_notify sent or received, or a fatal error).
    #[error("connection closed")]
    Closed,
    /// A record was too large to send with the configured MTU.
    #[error("application data of {0} bytes does not fit one record")]
    RecordTooLarge(usize),
    /// A cryptographic primitive failed where it should not (key generation, sealing).
    #[error("internal crypto failure")]
    Crypto,
    /// The random source failed: the handshake stops rather than go on with predictable
    /// randoms, cookies or keys.
    #[error("the random source failed")]
    RandomSourceFailed,
    /// A datagram held nothing readable (malformed, unauthenticated, replayed or for an
    /// unknown epoch): it was dropped and counted, and the connection is unchanged.
    #[error("datagram refused: nothing in it could be read")]
    DatagramRefused,
    /// A DTLS 1.2 ServerHello carried the RFC 8446 §4.1.3 downgrade sentinel although we
    /// offered DTLS 1.3: someone removed 1.3 from our offer.
    #[error("DTLS 1.3 downgrade detected (RFC 8446 §4.1.3 sentinel)")]
    Downgrade,
    /// The peer broke a DTLS 1.3 rule (a second HelloRetryRequest, a key share for a group
    /// we did not offer, a missing extension, ...).
    #[error("illegal DTLS 1.3 parameter: {0}")]
    IllegalParameter(&'static str),
    /// [`ConfigBuilder::connection_id`](crate::ConfigBuilder::connection_id) was given more
    /// than the 255 bytes the extension can carry.
    #[error("connection id of {0} bytes (at most 255)")]
    ConnectionIdTooLong(usize),
}

impl Error {
    /// The alert this error is reported to the peer with, if any.
    #[must_use]
    pub fn alert(&self) -> Option<AlertDescription> {
        use AlertDescription as A;
        Some(match self {
            Error::Malformed(_) | Error::Truncated { .. } | Error::BadKeyShare => A::DecodeError,
            Error::UnexpectedMessage { .. } => A::UnexpectedMessage,
            Error::NoCommonCipherSuite
            | Error::NoCommonGroup
            | Error::NoCommonSignatureScheme
            | Error::BadSrtpNegotiation => A::HandshakeFailure,
            Error::UnsupportedVersion(_) => A::ProtocolVersion,
            Error::NoPeerCertificate => A::HandshakeFailure,
            Error::FingerprintMismatch | Error::NoRemoteFingerprint => A::BadCertificate,
            Error::BadCertificate(_) => A::UnsupportedCertificate,
            Error::BadSignature | Error::FinishedMismatch => A::DecryptError,
            Error::RenegotiationRefused => A::NoRenegotiation,
            Error::Downgrade | Error::IllegalParameter(_) => A::IllegalParameter,
            Error::Crypto | Error::RandomSourceFailed => A::InternalError,
            Error::HandshakeTimeout
            | Error::AlertReceived(_)
            | Error::NotConnected
            | Error::Closed
            | Error::RecordTooLarge(_)
            | Error::DatagramRefused
            | Error::CertificateKeyMismatch
            | Error::BadPrivateKey(_)
            | Error::ConnectionIdTooLong(_)
            | Error::CertificateGeneration(_) => return None,
        })
    }
}
