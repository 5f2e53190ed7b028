//! The driver's error type.

/// Why a driver call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The session refused the call (wrong signaling state, bad SDP, channel not open, ...).
    #[error(transparent)]
    Session(#[from] rtcwire::Error),
    /// A socket could not be bound or configured.
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
    /// The connection is closed (closed locally or by the peer, or its task ended).
    #[error("the peer connection is closed")]
    Closed,
    /// No local address to gather on: interface enumeration found none (or failed) and
    /// none was configured.
    #[error("no local address to bind: {0}")]
    NoAddress(String),
    /// A `turn:`/`turns:` URL that does not parse, or whose host does not resolve.
    #[error("bad TURN URL: {0}")]
    BadUrl(String),
    /// The TLS configuration for `turns:` servers was refused (a root certificate that
    /// does not parse, for example).
    #[error("TLS: {0}")]
    Tls(String),
    /// Not called from inside a tokio runtime.
    #[error("no tokio runtime: call from inside one")]
    NoRuntime,
}
