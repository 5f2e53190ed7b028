//! Test harness: an ICE agent wrapped as a sim endpoint that also sends application data,
//! a tiny STUN server, and trickle signalling between two agents.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rtcwire_ice::{Agent, Config, Event, IceState};
use rtcwire_proto::{Datagram, SansIo, SeededRng, Transmit};
use rtcwire_sim::{Host, Sim};
use rtcwire_stun::{Attribute, Message, MessageBuilder, MessageType};

/// An agent plus an outbox of application data sent on the selected pair when connected.
pub struct Node {
    pub agent: Agent,
    pub outbox: VecDeque<Vec<u8>>,
    pub received: Vec<Vec<u8>>,
    pub refused: u64,
}

impl Node {
    pub fn new(config: Config, seed: u64, label: &str) -> Self {
        let agent = Agent::new(config, Box::new(SeededRng::derived(seed, label))).unwrap();
        Node {
            agent,
            outbox: VecDeque::new(),
            received: Vec::new(),
            refused: 0,
        }
    }
}

impl SansIo for Node {
    type Event = Event;
    type Error = rtcwire_ice::Error;

    fn handle_read(&mut self, now: Instant, d: Datagram<'_>) -> Result<(), Self::Error> {
        let r = self.agent.handle_read(now, d);
        if r.is_err() {
            self.refused += 1;
        }
        r
    }
    fn poll_transmit(&mut self, now: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
        if let Some(t) = self.agent.poll_transmit(now, buf) {
            return Some(t);
        }
        if matches!(
            self.agent.state(),
            IceState::Connected | IceState::Completed
        ) {
            if let Some(data) = self.outbox.pop_front() {
                return self.agent.send(&data, buf).ok();
            }
        }
        None
    }
    fn poll_event(&mut self) -> Option<Event> {
        let e = self.agent.poll_event()?;
        if let Event::Data { contents, .. } = &e {
            self.received.push(contents.clone());
        }
        Some(e)
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.agent.poll_timeout()
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.agent.handle_timeout(now);
    }
}

/// A STUN server answering Binding requests with XOR-MAPPED-ADDRESS.
#[derive(Default)]
pub struct StunServer {
    out: VecDeque<(SocketAddr, SocketAddr, Vec<u8>)>,
}

impl SansIo for StunServer {
    type Event = ();
    type Error = rtcwire_stun::Error;

    fn handle_read(&mut self, _now: Instant, d: Datagram<'_>) -> Result<(), Self::Error> {
        let msg = Message::parse(d.contents)?;
        if msg.message_type() == MessageType::BINDING_REQUEST {
            let src = d.source.unwrap();
            let mut out = Vec::new();
            let mut b =
                MessageBuilder::new(&mut out, MessageType::BINDING_SUCCESS, msg.transaction_id())?;
            b.attr(&Attribute::XorMappedAddress(src))?.fingerprint()?;
            b.finish();
            self.out.push_back((d.destination.unwrap(), src, out));
        }
        Ok(())
    }
    fn poll_transmit(&mut self, _now: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
        let (s, d, bytes) = self.out.pop_front()?;
        buf.extend_from_slice(&bytes);
        Some(Transmit {
            transport: rtcwire_proto::Transport::Udp,
            source: Some(s),
            destination: Some(d),
            size: bytes.len(),
            segment_size: None,
        })
    }
    fn poll_event(&mut self) -> Option<()> {
        None
    }
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
    fn handle_timeout(&mut self, _now: Instant) {}
}

/// Two agents with trickle signalling through the test (no signalling delay).
pub struct Duo {
    pub a: Host<Node>,
    pub b: Host<Node>,
    /// (simulated time since start, event) for each side.
    pub log_a: Vec<(Duration, Event)>,
    pub log_b: Vec<(Duration, Event)>,
}

fn interesting(e: &Event) -> bool {
    matches!(
        e,
        Event::LocalCandidate(_) | Event::GatheringComplete | Event::StateChanged(_)
    )
}

impl Duo {
    pub fn new(sim: &mut Sim, a: Host<Node>, b: Host<Node>) -> Self {
        let (ca, cb) = (
            sim.endpoint(a).agent.local_credentials().clone(),
            sim.endpoint(b).agent.local_credentials().clone(),
        );
        sim.endpoint_mut(a)
            .agent
            .set_remote_credentials(&cb.ufrag, &cb.pwd)
            .unwrap();
        sim.endpoint_mut(b)
            .agent
            .set_remote_credentials(&ca.ufrag, &ca.pwd)
            .unwrap();
        Duo {
            a,
            b,
            log_a: Vec::new(),
            log_b: Vec::new(),
        }
    }

    /// Runs until `done` holds (or `limit` of simulated time passes), forwarding trickled
    /// candidates and end-of-candidates between the agents as they appear.
    pub fn run(
        &mut self,
        sim: &mut Sim,
        limit: Duration,
        done: impl Fn(&Sim, &Duo) -> bool,
    ) -> bool {
        let deadline = sim.now() + limit;
        let (a, b) = (self.a, self.b);
        for _ in 0..100_000 {
            if done(sim, self) {
                return true;
            }
            let left = deadline.saturating_duration_since(sim.now());
            if left.is_zero() {
                return false;
            }
            let _ = sim.run_until(
                |s| {
                    s.events(a).iter().any(interesting)
                        || s.events(b).iter().any(interesting)
                        || done(s, self)
                },
                left,
            );
            self.shuttle(sim);
        }
        false
    }

    pub fn shuttle(&mut self, sim: &mut Sim) {
        let t = sim.elapsed();
        let now = sim.now();
        for (from, to, log) in [(self.a, self.b, 0), (self.b, self.a, 1)] {
            for e in sim.take_events(from) {
                match &e {
                    Event::LocalCandidate(c) => {
                        let line = c.to_string();
                        let parsed = rtcwire_ice::Candidate::parse(&line).unwrap();
                        let _ = sim.endpoint_mut(to).agent.add_remote_candidate(now, parsed);
                    }
                    Event::GatheringComplete => {
                        sim.endpoint_mut(to).agent.end_of_remote_candidates(now);
                    }
                    _ => {}
                }
                if !matches!(e, Event::Data { .. }) {
                    if log == 0 {
                        self.log_a.push((t, e));
                    } else {
                        self.log_b.push((t, e));
                    }
                }
            }
        }
    }

    /// When the side first reached `connected` or `completed` (an agent that already
    /// gathered and heard end-of-candidates goes from `checking` straight to `completed`).
    pub fn connected_at(&self, side_a: bool) -> Option<Duration> {
        let log = if side_a { &self.log_a } else { &self.log_b };
        log.iter()
            .find(|(_, e)| {
                matches!(
                    e,
                    Event::StateChanged(IceState::Connected | IceState::Completed)
                )
            })
            .map(|(t, _)| *t)
    }

    pub fn first(&self, side_a: bool, state: IceState) -> Option<Duration> {
        let log = if side_a { &self.log_a } else { &self.log_b };
        log.iter()
            .find(|(_, e)| *e == Event::StateChanged(state))
            .map(|(t, _)| *t)
    }
}

pub fn connected(sim: &Sim, h: Host<Node>) -> bool {
    matches!(
        sim.endpoint(h).agent.state(),
        IceState::Connected | IceState::Completed
    )
}

pub fn config(controlling: bool) -> Config {
    Config {
        controlling,
        ..Config::default()
    }
}
