//! The one trait every sans-IO core implements, and the datagrams it exchanges.

use std::net::SocketAddr;
use std::time::Instant;

/// A datagram handed to a core.
///
/// Layers that speak over a connected path (DTLS and SCTP above ICE) ignore the addresses;
/// ICE and TURN need them. The bytes are borrowed: a core copies only what it keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Datagram<'a> {
    /// Where the datagram came from (the remote address).
    pub source: SocketAddr,
    /// The local address it arrived on.
    pub destination: SocketAddr,
    /// The payload.
    pub contents: &'a [u8],
}

/// A datagram a core wants sent.
///
/// `source` and `destination` are `None` when the core does not know addresses (a DTLS or
/// SCTP association runs over whatever path the layer below chose): the driver — the
/// session, or the simulator's default route — fills them in.
#[derive(Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Local address to send from, when the core chose one (ICE does).
    pub source: Option<SocketAddr>,
    /// Remote address to send to, when the core chose one.
    pub destination: Option<SocketAddr>,
    /// The payload: one datagram.
    pub contents: Vec<u8>,
}

impl std::fmt::Debug for Transmit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transmit")
            .field("source", &self.source)
            .field("destination", &self.destination)
            .field("len", &self.contents.len())
            .finish()
    }
}

/// A sans-IO protocol core: datagrams in, datagrams and events out, time as a parameter.
///
/// Application-side writes (sending a message on a data channel, writing application data
/// over DTLS) are ordinary methods of each core; this trait is only what a driver needs to
/// move bytes and time. After any `handle_*` call, drain [`poll_transmit`](Self::poll_transmit)
/// and [`poll_event`](Self::poll_event) until they return `None`, then arm a timer for
/// [`poll_timeout`](Self::poll_timeout).
pub trait SansIo {
    /// What the application should know (connected, data received, closed, ...).
    type Event;
    /// Why an input was refused. The core stays usable: bad input is counted and dropped.
    type Error;

    /// Feeds one received datagram.
    fn handle_read(&mut self, now: Instant, datagram: Datagram<'_>) -> Result<(), Self::Error>;

    /// The next datagram to send, if any. Changes after any `handle_*` call or write.
    #[must_use]
    fn poll_transmit(&mut self) -> Option<Transmit>;

    /// The next event for the application, if any.
    #[must_use]
    fn poll_event(&mut self) -> Option<Self::Event>;

    /// When [`handle_timeout`](Self::handle_timeout) must next be called; `None` when no
    /// timer is armed. Changes after any `handle_*` call or write.
    #[must_use]
    fn poll_timeout(&self) -> Option<Instant>;

    /// Lets timers that expired at or before `now` fire (retransmissions, keep-alives,
    /// deadlines). Calling it early is harmless.
    fn handle_timeout(&mut self, now: Instant);
}
