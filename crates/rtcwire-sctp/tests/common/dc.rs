//! dcsctp (the Rust dcSCTP, Chromium's SCTP) wrapped as a SansIo core, so the same network
//! drives it against rtcwire-sctp.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use dcsctp::api::{
    DcSctpSocket, Message, Message as DcMessage, Options, PpId, SendOptions as DcSendOptions,
    SocketEvent, SocketState, SocketTime, StreamId,
};
use rtcwire_proto::{Datagram, SansIo, Transmit};
use rtcwire_sctp::{Association, Config, Event};

use super::{assoc, start_instant, Link, Net};

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

// ----- rtcwire-sctp against dcsctp on the test network (tests/dcsctp*.rs) ---------------

pub type Interop = Net<Association, Dc>;

pub fn our_config() -> Config {
    Config {
        max_message_size: 1 << 20,
        remote_max_message_size: 1 << 20,
        ..Config::default()
    }
}

/// Sets up with `we_connect` choosing who sends INIT.
pub fn interop(we_connect: bool, link: Link, seed: u64) -> Interop {
    interop_with(we_connect, link, seed, our_config(), &Dc::options(), false)
}

/// [`interop`] with both sides' settings given, and the trace on or off.
pub fn interop_with(
    we_connect: bool,
    link: Link,
    seed: u64,
    ours: Config,
    theirs: &Options,
    trace: bool,
) -> Interop {
    let now = start_instant();
    let mut net = Net::new(
        assoc(ours, seed, now),
        Dc::new(theirs, now),
        now,
        link,
        seed,
    );
    net.trace = trace;
    if we_connect {
        net.a.connect(now).unwrap();
    } else {
        net.b.tick(now);
        net.b.sock.connect();
    }
    assert!(
        net.run_until(Duration::from_secs(120), |n| n.a.is_established()
            && n.b.sock.state() == SocketState::Connected),
        "no setup: ours {:?}, dcsctp {:?}, refused {} ({:?})",
        net.a.state(),
        net.b.sock.state(),
        net.refused,
        net.last_refusal
    );
    net
}

pub fn ours(net: &Interop) -> Vec<&rtcwire_sctp::Message> {
    net.a_events
        .iter()
        .filter_map(|e| match e {
            Event::Message(m) => Some(m),
            _ => None,
        })
        .collect()
}

pub fn theirs(net: &Interop) -> Vec<&DcMessage> {
    net.b_events
        .iter()
        .filter_map(|e| match e {
            DcEvent::Message(m) => Some(m),
            _ => None,
        })
        .collect()
}

pub fn dc_events(net: &Interop) -> Vec<&SocketEvent> {
    net.b_events
        .iter()
        .filter_map(|e| match e {
            DcEvent::Socket(s) => Some(s),
            _ => None,
        })
        .collect()
}

pub fn dc_send(net: &mut Interop, stream: u16, ppid: u32, data: Vec<u8>, opts: &DcSendOptions) {
    net.b.tick(net.now);
    net.b
        .sock
        .send(DcMessage::new(StreamId(stream), PpId(ppid), data), opts)
        .unwrap();
}

pub fn payload(i: usize, len: usize) -> Vec<u8> {
    let mut v = format!("{i}:").into_bytes();
    v.resize(len.max(v.len()), (i % 253) as u8);
    v
}

pub const SIZES: [usize; 12] = [
    1,
    2,
    3,
    4,
    100,
    1175,
    1176,
    1177,
    65535,
    65536,
    300_000,
    1 << 20,
];
