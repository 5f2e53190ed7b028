//! [`Probe`]: a scriptable endpoint for tests — sends what it is told when it is told,
//! records what it receives, and can echo or reflect.

use std::collections::{BTreeMap, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Instant;

use rtcwire_proto::{Datagram, SansIo, Transmit, Transport};

/// A datagram a [`Probe`] will send: addresses left `None` are filled in by the simulator
/// (the host's address, its default peer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// Local address to send from.
    pub source: Option<SocketAddr>,
    /// Where to send it.
    pub destination: Option<SocketAddr>,
    /// The payload.
    pub contents: Vec<u8>,
}

/// A datagram a [`Probe`] received (its event type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// When it arrived.
    pub at: Instant,
    /// Where it came from, as seen by the receiver (after NATs).
    pub source: SocketAddr,
    /// The address it arrived on.
    pub destination: SocketAddr,
    /// The payload.
    pub contents: Vec<u8>,
}

/// What a [`Probe`] does with what it receives, besides recording it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reply {
    /// Nothing.
    #[default]
    None,
    /// Sends the same bytes back to the sender, from the address they arrived on.
    Echo,
    /// Answers with the sender's address as text (`"203.0.113.1:49152"`), like a STUN
    /// binding response: how a host behind a NAT learns its mapping.
    Reflect,
}

/// A scriptable endpoint: queue datagrams now or at given instants, get every received
/// datagram as an event ([`Received`]), optionally echo or reflect.
#[derive(Debug, Default)]
pub struct Probe {
    reply: Reply,
    out: VecDeque<Outgoing>,
    /// Datagrams to send later, by (time, order queued).
    later: BTreeMap<(Instant, u64), Outgoing>,
    queued: u64,
    events: VecDeque<Received>,
}

impl Probe {
    /// A probe that only records.
    #[must_use]
    pub fn new() -> Self {
        Probe::default()
    }

    /// A probe that echoes every datagram back.
    #[must_use]
    pub fn echo() -> Self {
        Probe {
            reply: Reply::Echo,
            ..Probe::default()
        }
    }

    /// A probe that answers every datagram with the sender's address as text.
    #[must_use]
    pub fn reflector() -> Self {
        Probe {
            reply: Reply::Reflect,
            ..Probe::default()
        }
    }

    /// Sends `contents` from the host's address to its default peer.
    pub fn send(&mut self, contents: impl Into<Vec<u8>>) {
        self.push(None, None, contents.into());
    }

    /// Sends `contents` from the host's address to `destination`.
    pub fn send_to(&mut self, destination: SocketAddr, contents: impl Into<Vec<u8>>) {
        self.push(None, Some(destination), contents.into());
    }

    /// Sends `contents` from `source` (an address of the host, any port) to `destination`.
    pub fn send_from(
        &mut self,
        source: SocketAddr,
        destination: SocketAddr,
        contents: impl Into<Vec<u8>>,
    ) {
        self.push(Some(source), Some(destination), contents.into());
    }

    /// Sends `transmit` when the clock reaches `at` (at once if `at` has passed).
    pub fn send_at(&mut self, at: Instant, transmit: Outgoing) {
        self.queued += 1;
        self.later.insert((at, self.queued), transmit);
    }

    fn push(
        &mut self,
        source: Option<SocketAddr>,
        destination: Option<SocketAddr>,
        contents: Vec<u8>,
    ) {
        self.out.push_back(Outgoing {
            source,
            destination,
            contents,
        });
    }

    /// Datagrams still waiting for their time.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.later.len()
    }
}

impl SansIo for Probe {
    type Event = Received;
    type Error = Infallible;

    fn handle_read(&mut self, now: Instant, d: Datagram<'_>) -> Result<(), Infallible> {
        let reply = match self.reply {
            Reply::None => None,
            Reply::Echo => Some(d.contents.to_vec()),
            Reply::Reflect => d.source.map(|s| s.to_string().into_bytes()),
        };
        if let Some(contents) = reply {
            self.push(d.destination, d.source, contents);
        }
        let unspecified = SocketAddr::from(([0, 0, 0, 0], 0));
        self.events.push_back(Received {
            at: now,
            source: d.source.unwrap_or(unspecified),
            destination: d.destination.unwrap_or(unspecified),
            contents: d.contents.to_vec(),
        });
        Ok(())
    }

    fn poll_transmit(&mut self, _now: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
        let o = self.out.pop_front()?;
        buf.extend_from_slice(&o.contents);
        Some(Transmit {
            transport: Transport::Udp,
            source: o.source,
            destination: o.destination,
            size: o.contents.len(),
            segment_size: None,
        })
    }

    fn poll_event(&mut self) -> Option<Received> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.later.keys().next().map(|(at, _)| *at)
    }

    fn handle_timeout(&mut self, now: Instant) {
        while let Some(entry) = self.later.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let t = entry.remove();
            self.out.push_back(t);
        }
    }
}
