//! The crate's one error type.

use std::net::SocketAddr;

/// Why an input or a call was refused. Per the SansIo error rule, an `Err` from
/// [`handle_read`](rtcwire_proto::SansIo::handle_read) means the datagram was counted and
/// dropped and the agent is unchanged; fatal conditions (ICE failed) are reported as
/// [`Event::StateChanged`](crate::Event::StateChanged) instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A candidate attribute could not be parsed.
    #[error("bad candidate attribute: {0}")]
    BadCandidate(&'static str),
    /// A STUN message could not be parsed or verified.
    #[error("STUN: {0}")]
    Stun(#[from] rtcwire_stun::Error),
    /// A request or response failed MESSAGE-INTEGRITY with our credentials (dropped and
    /// counted, never answered with success).
    #[error("message integrity does not match the ICE credentials")]
    BadCredentials,
    /// A request's USERNAME does not name our current ufrag.
    #[error("USERNAME does not match the local ufrag")]
    WrongUsername,
    /// A required attribute (USERNAME, PRIORITY, MESSAGE-INTEGRITY, …) is missing.
    #[error("missing STUN attribute: {0}")]
    MissingAttribute(&'static str),
    /// A response matches no outstanding transaction.
    #[error("response to an unknown transaction")]
    UnknownTransaction,
    /// A STUN message of a class or method the agent does not handle here.
    #[error("unexpected STUN message")]
    UnexpectedMessage,
    /// Non-STUN data from an address that is not the remote end of a valid pair.
    #[error("data from {0}, which is not on a valid candidate pair")]
    UnknownSource(SocketAddr),
    /// The datagram arrived on no address the agent has a candidate for.
    #[error("datagram arrived on {0:?}, not a local candidate")]
    UnknownDestination(Option<SocketAddr>),
    /// The datagram carries no source address (ICE needs it).
    #[error("datagram without a source address")]
    MissingAddress,
    /// A TURN ChannelData message on a channel that is not bound.
    #[error("ChannelData on unbound channel {0:#06x}")]
    UnknownChannel(u16),
    /// A limit (candidates, pairs, transactions) is reached; the input was dropped.
    #[error("limit reached: {0}")]
    Limit(&'static str),
    /// There is no selected pair to send on (not connected, or consent lost).
    #[error("no selected candidate pair")]
    NotConnected,
    /// The agent is closed.
    #[error("the agent is closed")]
    Closed,
    /// An mDNS name or message is malformed.
    #[error("mDNS: {0}")]
    Mdns(&'static str),
    /// The random source failed (credentials, tie-breaker or transaction id not chosen).
    #[error("the random source failed")]
    Rng,
    /// A credential given by the application is not valid (RFC 8839: ufrag 4–256 and pwd
    /// 22–256 ice-chars).
    #[error("bad ICE credentials: {0}")]
    BadCredentialFormat(&'static str),
}

impl From<rtcwire_proto::RngError> for Error {
    fn from(_: rtcwire_proto::RngError) -> Self {
        Error::Rng
    }
}
