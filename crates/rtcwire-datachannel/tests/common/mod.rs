//! Test cores for rtcwire-sim: an association with its data channels as one SansIo value,
//! and dcsctp wrapped the same way.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

/// dcsctp as a SansIo core: the same adapter rtcwire-sctp's tests use.
#[path = "../../../rtcwire-sctp/tests/common/dc.rs"]
pub mod dc;

use std::time::Instant;

use rtcwire_datachannel::{DataChannels, Event};
use rtcwire_proto::{Datagram, DtlsRole, SansIo, SeededRng, Transmit};
use rtcwire_sctp::{Association, Config};

/// What a session does: the association and its channels side by side, every association
/// event passed through the channels.
pub struct Peer {
    pub assoc: Association,
    pub dc: DataChannels,
    /// Association events the channels handed back (connected, closed, aborted...).
    pub sctp_events: Vec<rtcwire_sctp::Event>,
    now: Option<Instant>,
}

impl Peer {
    pub fn new(role: DtlsRole, seed: u64, now: Instant) -> Self {
        let cfg = Config {
            max_message_size: 1 << 20,
            remote_max_message_size: 1 << 20,
            ..Config::default()
        };
        Peer {
            assoc: Association::new(cfg, Box::new(SeededRng::derived(seed, "sctp")), now).unwrap(),
            dc: DataChannels::new(role),
            sctp_events: Vec::new(),
            now: Some(now),
        }
    }

    pub fn connected(&self) -> bool {
        self.sctp_events.contains(&rtcwire_sctp::Event::Connected)
    }

    fn pump(&mut self, now: Instant) {
        self.now = Some(now);
        while let Some(e) = self.assoc.poll_event() {
            if let Some(other) = self.dc.handle_event(&mut self.assoc, now, e) {
                self.sctp_events.push(other);
            }
        }
    }
}

impl SansIo for Peer {
    type Event = Event;
    type Error = rtcwire_sctp::Error;

    fn handle_read(&mut self, now: Instant, d: Datagram<'_>) -> Result<(), Self::Error> {
        let r = self.assoc.handle_read(now, d);
        self.pump(now);
        r
    }

    fn poll_transmit(&mut self, now: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
        self.pump(now);
        self.assoc.poll_transmit(now, buf)
    }

    fn poll_event(&mut self) -> Option<Event> {
        if let Some(now) = self.now {
            self.pump(now);
        }
        self.dc.poll_event()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.assoc.poll_timeout()
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.assoc.handle_timeout(now);
        self.pump(now);
    }
}
