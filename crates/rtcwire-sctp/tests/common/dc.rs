//! dcsctp (the Rust dcSCTP, Chromium's SCTP) wrapped as a SansIo core, so the same network
//! drives it against rtcwire-sctp.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use dcsctp::api::{DcSctpSocket, Message, Options, SocketEvent, SocketTime};
use rtcwire_proto::{Datagram, SansIo, Transmit};

pub struct Dc {
    pub sock: Box<dyn DcSctpSocket>,
    epoch: Instant,
    out: VecDeque<Vec<u8>>,
    events: VecDeque<DcEvent>,
}

#[derive(Debug)]
pub enum DcEvent {
    Socket(SocketEvent),
    Message(Message),
}

impl Dc {
    pub fn new(options: &Options, epoch: Instant) -> Self {
        Dc {
            sock: dcsctp::new_socket("dcsctp", options),
            epoch,
            out: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    pub fn options() -> Options {
        Options {
            max_message_size: 1 << 20,
            ..Options::default()
        }
    }

    fn at(&self, now: Instant) -> SocketTime {
        SocketTime::zero() + (now - self.epoch)
    }

    /// Lets the socket's clock reach `now` before an API call.
    pub fn tick(&mut self, now: Instant) {
        let t = self.at(now);
        self.sock.advance_time(t);
    }

    fn pump(&mut self) {
        while let Some(e) = self.sock.poll_event() {
            match e {
                SocketEvent::SendPacket(p) => self.out.push_back(p),
                e => self.events.push_back(DcEvent::Socket(e)),
            }
        }
        while let Some(m) = self.sock.get_next_message() {
            self.events.push_back(DcEvent::Message(m));
        }
    }
}

impl SansIo for Dc {
    type Event = DcEvent;
    type Error = std::convert::Infallible;

    fn handle_read(&mut self, now: Instant, d: Datagram<'_>) -> Result<(), Self::Error> {
        self.tick(now);
        self.sock.handle_input(d.contents);
        Ok(())
    }

    fn poll_transmit(&mut self, _now: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
        self.pump();
        let p = self.out.pop_front()?;
        buf.extend_from_slice(&p);
        Some(Transmit::on_path(p.len()))
    }

    fn poll_event(&mut self) -> Option<DcEvent> {
        self.pump();
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        let t = self.sock.poll_timeout();
        if t == SocketTime::infinite_future() {
            return None;
        }
        let d: Duration = t - SocketTime::zero();
        self.epoch.checked_add(d)
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.tick(now);
    }
}
