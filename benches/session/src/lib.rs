//! Shared by the session benches: two rtcwire sessions connected over a perfect in-memory
//! wire, with time jumping to the next timeout (no link delay).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::time::Instant;

use rtcwire::{
    Certificate, ChannelId, Config, DataChannelInit, Datagram, Event, Input, Output, PeerConnection,
};

/// Two sessions, their wire and clock, and the channel A opened.
pub struct Pair {
    /// The offerer.
    pub a: PeerConnection,
    /// The answerer.
    pub b: PeerConnection,
    /// The channel A created.
    pub chat: ChannelId,
    /// The channel as B sees it, once open.
    pub chat_at_b: Option<ChannelId>,
    /// Virtual time.
    pub now: Instant,
    /// Datagrams in flight: `wire[..used]`, in slots reused from step to step (the wire
    /// allocates nothing once warm, so only the sessions are counted).
    wire: Vec<(SocketAddr, SocketAddr, Vec<u8>)>,
    used: usize,
    buf: Vec<u8>,
    /// Messages B received so far.
    pub received_at_b: usize,
    /// Whether the channel is open at A.
    pub open_at_a: bool,
}

/// A's and B's host addresses.
pub const ADDR_A: &str = "192.0.2.1:5000";
/// B's host address.
pub const ADDR_B: &str = "192.0.2.2:5000";

/// Two certificates, made once (certificate generation is not what is measured).
#[must_use]
pub fn certificates() -> (Certificate, Certificate) {
    (
        Certificate::generate_self_signed().unwrap(),
        Certificate::generate_self_signed().unwrap(),
    )
}

impl Pair {
    /// Offer, answer, trickle, and every datagram moved until A's channel is open at both
    /// ends (bounded). `seed`: `Some` derives every key from it (the replayable test mode,
    /// whose keys come from RustCrypto's slower code); `None` takes the operating system's
    /// randomness and ring's key exchange and signatures, as applications run.
    #[must_use]
    pub fn connect(certs: &(Certificate, Certificate), start: Instant, seed: Option<u64>) -> Pair {
        let config = |cert: &Certificate, seed: Option<u64>| Config {
            seed,
            certificate: Some(cert.clone()),
            ..Config::default()
        };
        let mut a = PeerConnection::new(config(&certs.0, seed), start).unwrap();
        let b = PeerConnection::new(config(&certs.1, seed.map(|s| s + 1)), start).unwrap();
        let chat = a
            .create_data_channel("chat", DataChannelInit::default())
            .unwrap();
        let mut p = Pair {
            a,
            b,
            chat,
            chat_at_b: None,
            now: start,
            wire: Vec::new(),
            used: 0,
            buf: Vec::with_capacity(1500),
            received_at_b: 0,
            open_at_a: false,
        };
        let offer = p.a.create_offer().unwrap();
        p.a.set_local_description(offer.clone()).unwrap();
        p.b.set_remote_description(offer).unwrap();
        let answer = p.b.create_answer().unwrap();
        p.b.set_local_description(answer.clone()).unwrap();
        p.a.set_remote_description(answer).unwrap();
        p.a.add_local_candidate(ADDR_A.parse().unwrap()).unwrap();
        p.b.add_local_candidate(ADDR_B.parse().unwrap()).unwrap();
        for _ in 0..1000 {
            p.step();
            if p.open_at_a && p.chat_at_b.is_some() {
                return p;
            }
        }
        panic!("the data channel did not open");
    }

    /// Drains both sessions, hands candidates over, delivers the wire; jumps the clock to
    /// the next timeout when nothing is in flight.
    pub fn step(&mut self) {
        let na = self.drain(true);
        let nb = self.drain(false);
        if self.used == 0 {
            self.now = self.now.max(na.min(nb));
            let _ = self.a.handle_input(Input::Timeout(self.now));
            let _ = self.b.handle_input(Input::Timeout(self.now));
        }
        self.deliver();
    }

    /// Moves datagrams until B has received one more message (bounded), the clock held
    /// still, then moves it on by `gap` (timers due then run): messages paced at one per
    /// `gap`, as an application sending steadily would.
    pub fn deliver_one(&mut self, gap: std::time::Duration) {
        let before = self.received_at_b;
        for _ in 0..100 {
            self.drain(true);
            self.drain(false);
            if self.received_at_b > before {
                break;
            }
            self.deliver();
        }
        assert!(self.received_at_b > before, "message not delivered");
        self.now += gap;
        let _ = self.a.handle_input(Input::Timeout(self.now));
        let _ = self.b.handle_input(Input::Timeout(self.now));
    }

    fn deliver(&mut self) {
        let (addr_a, now) = (ADDR_A.parse::<SocketAddr>().unwrap(), self.now);
        for (from, to, bytes) in &self.wire[..self.used] {
            let pc = if *to == addr_a {
                &mut self.a
            } else {
                &mut self.b
            };
            let _ = pc.handle_input(Input::Receive(now, Datagram::udp(*from, *to, bytes)));
        }
        self.used = 0;
    }

    fn drain(&mut self, of_a: bool) -> Instant {
        loop {
            self.buf.clear();
            let pc = if of_a { &mut self.a } else { &mut self.b };
            match pc.poll_output(&mut self.buf) {
                Output::Transmit(t) => {
                    let (from, to) = (t.source.unwrap(), t.destination.unwrap());
                    if self.used == self.wire.len() {
                        self.wire.push((from, to, Vec::with_capacity(1500)));
                    }
                    let slot = &mut self.wire[self.used];
                    slot.0 = from;
                    slot.1 = to;
                    slot.2.clear();
                    slot.2.extend_from_slice(&self.buf[..t.size]);
                    self.used += 1;
                }
                Output::Event(e) => self.on_event(of_a, e),
                Output::Timeout(t) => return t,
            }
        }
    }

    fn on_event(&mut self, of_a: bool, e: Event) {
        match (of_a, e) {
            (true, Event::IceCandidate(c)) => self.b.add_ice_candidate(&c).unwrap(),
            (false, Event::IceCandidate(c)) => self.a.add_ice_candidate(&c).unwrap(),
            (true, Event::ChannelOpen(id)) if id == self.chat => self.open_at_a = true,
            (false, Event::DataChannel { id, .. }) => self.chat_at_b = Some(id),
            (false, Event::ChannelMessage { .. }) => self.received_at_b += 1,
            _ => {}
        }
    }
}
