//! The one trait every sans-IO core implements, and the datagrams it exchanges (contract v2).

use std::net::SocketAddr;
use std::time::Instant;

/// How a datagram travels between the two hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Transport {
    /// A UDP datagram.
    #[default]
    Udp,
    /// One message of a TCP stream whose RFC 4571 framing (the 16-bit length prefix) the
    /// driver has already removed on receive and adds again on send (ICE-TCP, RFC 6544;
    /// TURN over TCP).
    Tcp,
}

/// A datagram handed to a core.
///
/// Addresses are `None` where a layer runs over a path chosen below it: DTLS and SCTP above
/// ICE neither know nor need them. ICE and TURN do. The bytes are borrowed: a core copies
/// only what it keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Datagram<'a> {
    /// How it arrived.
    pub transport: Transport,
    /// Where the datagram came from (the remote address), when the layer knows it.
    pub source: Option<SocketAddr>,
    /// The local address it arrived on, when the layer knows it.
    pub destination: Option<SocketAddr>,
    /// The payload.
    pub contents: &'a [u8],
}

impl<'a> Datagram<'a> {
    /// A UDP datagram from `source` to the local `destination`.
    #[must_use]
    pub fn udp(source: SocketAddr, destination: SocketAddr, contents: &'a [u8]) -> Self {
        Datagram {
            transport: Transport::Udp,
            source: Some(source),
            destination: Some(destination),
            contents,
        }
    }

    /// A datagram on a path the layer below chose (no addresses): what DTLS and SCTP get.
    #[must_use]
    pub fn on_path(contents: &'a [u8]) -> Self {
        Datagram {
            transport: Transport::Udp,
            source: None,
            destination: None,
            contents,
        }
    }
}

/// What a core wrote into the buffer lent to [`SansIo::poll_transmit`].
///
/// The bytes are in the caller's buffer; `Transmit` carries only metadata. `source` and
/// `destination` are `None` when the core does not know addresses (a DTLS or SCTP
/// association runs over whatever path the layer below chose): the driver — the session, or
/// the simulator's default route — fills them in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transmit {
    /// How to send it.
    pub transport: Transport,
    /// Local address to send from, when the core chose one (ICE does).
    pub source: Option<SocketAddr>,
    /// Remote address to send to, when the core chose one.
    pub destination: Option<SocketAddr>,
    /// How many bytes the core appended to the lent buffer.
    pub size: usize,
    /// When the core batched several datagrams of equal size (the last may be shorter) into
    /// one buffer for segmentation offload, the size of each; `None` for a single datagram.
    pub segment_size: Option<usize>,
}

impl Transmit {
    /// One UDP datagram of `size` bytes from `source` to `destination`.
    #[must_use]
    pub fn udp(source: SocketAddr, destination: SocketAddr, size: usize) -> Self {
        Transmit {
            transport: Transport::Udp,
            source: Some(source),
            destination: Some(destination),
            size,
            segment_size: None,
        }
    }

    /// One datagram of `size` bytes with no addresses: the driver picks the path.
    #[must_use]
    pub fn on_path(size: usize) -> Self {
        Transmit {
            transport: Transport::Udp,
            source: None,
            destination: None,
            size,
            segment_size: None,
        }
    }
}

/// A sans-IO protocol core: datagrams in, datagrams and events out, time as a parameter.
///
/// Application-side writes (sending a message on a data channel, writing application data
/// over DTLS) are ordinary methods of each core; this trait is only what a driver needs to
/// move bytes and time. After any `handle_*` call, drain [`poll_transmit`](Self::poll_transmit)
/// and [`poll_event`](Self::poll_event) until they return `None`, then arm a timer for
/// [`poll_timeout`](Self::poll_timeout).
///
/// # The error rule
///
/// `Err` from [`handle_read`](Self::handle_read) means only: *this input was refused, counted
/// and dropped; the core is unchanged and usable*. It is never how a fatal condition is
/// reported. A fatal condition (a handshake failed, an association aborted, consent lost) is
/// reported exactly once, as an event from [`poll_event`](Self::poll_event), after which
/// the core is closed: it refuses input, sends nothing more than what closing requires, and
/// arms no timer.
///
/// # Buffers
///
/// The caller lends the transmit buffer: [`poll_transmit`](Self::poll_transmit) appends one
/// datagram (or, with `segment_size`, a batch) to the end of `buf` and returns its metadata,
/// so a driver that reuses one buffer sends without allocating per datagram.
pub trait SansIo {
    /// What the application should know (connected, data received, closed, ...).
    type Event;
    /// Why an input was refused. The core stays usable: bad input is counted and dropped.
    type Error;

    /// Feeds one received datagram. `Err` means the datagram was refused, counted and
    /// dropped, and nothing else changed (see the error rule above).
    fn handle_read(&mut self, now: Instant, datagram: Datagram<'_>) -> Result<(), Self::Error>;

    /// Appends the next datagram to send to `buf` and returns what it is, or returns `None`
    /// (leaving `buf` as it was) when there is nothing to send now. `now` lets a core take
    /// RTT samples, open its congestion window or pace. The answer changes after any
    /// `handle_*` call or application write.
    #[must_use]
    fn poll_transmit(&mut self, now: Instant, buf: &mut Vec<u8>) -> Option<Transmit>;

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
