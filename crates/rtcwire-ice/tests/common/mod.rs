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

use rtcwire_ice::{Agent, Config, Credentials, Event, IceState, TurnServer};
use rtcwire_proto::{Datagram, SansIo, SeededRng, Transmit};
use rtcwire_sim::{Host, LinkConfig, NatConfig, Sim};
use rtcwire_stun::{Attribute, Message, MessageBuilder, MessageType, TransactionId};

/// An agent plus an outbox of application data sent on the selected pair when connected.
pub struct Node {
    pub agent: Agent,
    pub outbox: VecDeque<Vec<u8>>,
    pub received: Vec<Vec<u8>>,
    /// The source address of each received datagram, in order.
    pub received_from: Vec<SocketAddr>,
    pub refused: u64,
    /// When each received datagram arrived (simulated), in order.
    pub received_at: Vec<Instant>,
    /// A steady stream of numbered datagrams, as media would be.
    pub media: Option<Media>,
    now: Option<Instant>,
}

/// A stream of numbered datagrams (`b'm'`, tag, sequence number as 4 big-endian bytes),
/// one every `every`, sent on whatever pair is selected in any state (an application
/// keeps sending while `disconnected`); one that finds no selected pair is counted and
/// dropped, as real-time media would be.
pub struct Media {
    pub every: Duration,
    pub tag: u8,
    /// Numbers given out so far (the next datagram's number).
    pub seq: u32,
    /// Datagrams the agent refused to send (no selected pair).
    pub unsent: u32,
    next: Instant,
    due: bool,
}

impl Media {
    /// Parses a datagram of a stream: (tag, sequence number).
    pub fn parse(d: &[u8]) -> Option<(u8, u32)> {
        match d {
            [b'm', tag, a, b, c, e] => Some((*tag, u32::from_be_bytes([*a, *b, *c, *e]))),
            _ => None,
        }
    }
}

impl Node {
    pub fn new(config: Config, seed: u64, label: &str) -> Self {
        let agent = Agent::new(config, Box::new(SeededRng::derived(seed, label))).unwrap();
        Node {
            agent,
            outbox: VecDeque::new(),
            received: Vec::new(),
            received_from: Vec::new(),
            refused: 0,
            received_at: Vec::new(),
            media: None,
            now: None,
        }
    }

    /// Starts sending a media stream tagged `tag`, one datagram every `every` from `now`.
    pub fn start_media(&mut self, now: Instant, every: Duration, tag: u8) {
        self.media = Some(Media {
            every,
            tag,
            seq: 0,
            unsent: 0,
            next: now,
            due: false,
        });
    }

    /// The received datagrams of stream `tag`: (arrival, source, sequence number).
    pub fn media_received(&self, tag: u8) -> Vec<(Instant, SocketAddr, u32)> {
        self.received
            .iter()
            .zip(&self.received_from)
            .zip(&self.received_at)
            .filter_map(|((d, from), at)| match Media::parse(d) {
                Some((t, seq)) if t == tag => Some((*at, *from, seq)),
                _ => None,
            })
            .collect()
    }
}

impl SansIo for Node {
    type Event = Event;
    type Error = rtcwire_ice::Error;

    fn handle_read(&mut self, now: Instant, d: Datagram<'_>) -> Result<(), Self::Error> {
        self.now = Some(now);
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
        let m = self.media.as_mut().filter(|m| m.due)?;
        m.due = false;
        let mut d = vec![b'm', m.tag];
        d.extend_from_slice(&m.seq.to_be_bytes());
        m.seq += 1;
        match self.agent.send(&d, buf) {
            Ok(t) => Some(t),
            Err(_) => {
                m.unsent += 1;
                None
            }
        }
    }
    fn poll_event(&mut self) -> Option<Event> {
        let e = self.agent.poll_event()?;
        if let Event::Data { contents, source } = &e {
            self.received.push(contents.clone());
            self.received_from.push(*source);
            // The sim drains events right after the datagram that caused them.
            self.received_at
                .push(self.now.expect("data before any input"));
        }
        Some(e)
    }
    fn poll_timeout(&self) -> Option<Instant> {
        let agent = self.agent.poll_timeout();
        match (&self.media, agent) {
            (Some(m), Some(t)) => Some(t.min(m.next)),
            (Some(m), None) => Some(m.next),
            (None, t) => t,
        }
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.now = Some(now);
        self.agent.handle_timeout(now);
        if let Some(m) = self.media.as_mut().filter(|m| m.next <= now) {
            m.due = true;
            m.next += m.every;
            if m.next <= now {
                m.next = now + m.every;
            }
        }
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
    /// Signal B's host candidates under an mDNS name (`<n>.local`, as browsers do); A's
    /// side resolves it as a driver would and hands the address to its agent.
    pub mdns_b: bool,
    /// Forward end-of-candidates (off: trickle that never ends, as some browsers do).
    pub forward_eoc: bool,
    /// The `.local` names A's agent asked to resolve.
    pub resolved: Vec<String>,
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
        signal(sim, a, b, &ca, &cb);
        Duo {
            a,
            b,
            log_a: Vec::new(),
            log_b: Vec::new(),
            mdns_b: false,
            forward_eoc: true,
            resolved: Vec::new(),
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
                        let mut line = c.to_string();
                        let hide =
                            self.mdns_b && log == 1 && c.kind == rtcwire_ice::CandidateKind::Host;
                        if hide {
                            let name = format!("{:08x}-sim.local", c.address.port());
                            line = line.replacen(
                                &format!(" {} ", c.address.ip()),
                                &format!(" {name} "),
                                1,
                            );
                        }
                        let parsed = rtcwire_ice::Candidate::parse(&line).unwrap();
                        let out = sim.endpoint_mut(to).agent.add_remote_candidate(now, parsed);
                        if let Ok(rtcwire_ice::RemoteCandidateOutcome::NeedsResolution(name)) = out
                        {
                            sim.endpoint_mut(to)
                                .agent
                                .resolve_remote_hostname(now, &name, c.address.ip())
                                .unwrap();
                            self.resolved.push(name);
                        }
                    }
                    Event::GatheringComplete if self.forward_eoc => {
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

/// Both agents of `d` are connected (or completed).
pub fn both_connected(s: &Sim, d: &Duo) -> bool {
    connected(s, d.a) && connected(s, d.b)
}

pub fn config(controlling: bool) -> Config {
    Config {
        controlling,
        ..Config::default()
    }
}

/// A small TURN server (RFC 8656 over UDP) for the simulator: long-term credentials with
/// one realm and a fixed nonce, Allocate, Refresh, CreatePermission, ChannelBind, Send and
/// Data indications, ChannelData. Relayed addresses are further ports of its own IP.
pub struct TurnRelay {
    listen: SocketAddr,
    key: rtcwire_stun::IntegrityKey,
    allocs: Vec<RelayAlloc>,
    next_port: u16,
    out: VecDeque<(SocketAddr, SocketAddr, Vec<u8>)>,
}

struct RelayAlloc {
    client: SocketAddr,
    relayed: SocketAddr,
    perms: Vec<std::net::IpAddr>,
    channels: Vec<(u16, SocketAddr)>,
}

pub const TURN_USER: &str = "u";
pub const TURN_PASS: &str = "p";
const TURN_REALM: &str = "sim";
const TURN_NONCE: &str = "nonce-sim-0001";

impl TurnRelay {
    pub fn new(listen: SocketAddr) -> Self {
        TurnRelay {
            listen,
            key: rtcwire_stun::IntegrityKey::long_term(TURN_USER, TURN_REALM, TURN_PASS),
            allocs: Vec::new(),
            next_port: 50000,
            out: VecDeque::new(),
        }
    }

    /// Allocations alive on the server.
    pub fn allocations(&self) -> usize {
        self.allocs.len()
    }

    fn answer(&mut self, to: SocketAddr, msg: &Message<'_>, attrs: &[Attribute<'_>], ok: bool) {
        use rtcwire_stun::Class;
        let class = if ok { Class::Success } else { Class::Error };
        let mut out = Vec::new();
        let mut b = MessageBuilder::new(
            &mut out,
            msg.message_type().with_class(class),
            msg.transaction_id(),
        )
        .unwrap();
        for a in attrs {
            b.attr(a).unwrap();
        }
        if ok {
            b.message_integrity(&self.key).unwrap();
        }
        b.fingerprint().unwrap();
        b.finish();
        self.out.push_back((self.listen, to, out));
    }

    fn on_client(&mut self, src: SocketAddr, bytes: &[u8]) {
        use rtcwire_stun::{ChannelData, Class, ErrorCode, Method};
        if let Ok(cd) = ChannelData::parse(bytes) {
            if let Some(a) = self.allocs.iter().find(|a| a.client == src) {
                if let Some((_, peer)) = a.channels.iter().find(|(n, _)| *n == cd.number) {
                    self.out.push_back((a.relayed, *peer, cd.data.to_vec()));
                }
            }
            return;
        }
        let Ok(msg) = Message::parse(bytes) else {
            return;
        };
        let t = msg.message_type();
        if t.method == Method::SEND && t.class == Class::Indication {
            let (Ok(Some(peer)), Ok(Some(data))) = (msg.xor_peer_address(), msg.data()) else {
                return;
            };
            if let Some(a) = self.allocs.iter().find(|a| a.client == src) {
                if a.perms.contains(&peer.ip()) {
                    self.out.push_back((a.relayed, peer, data.to_vec()));
                }
            }
            return;
        }
        if t.class != Class::Request {
            return;
        }
        if msg.verify_integrity(&self.key).is_err() {
            let err = Attribute::ErrorCode(rtcwire_stun::ErrorCode {
                code: ErrorCode::UNAUTHENTICATED,
                reason: "Unauthorized",
            });
            let attrs = [
                err,
                Attribute::Realm(TURN_REALM),
                Attribute::Nonce(TURN_NONCE),
            ];
            self.answer(src, &msg, &attrs, false);
            return;
        }
        let idx = self.allocs.iter().position(|a| a.client == src);
        match t.method {
            Method::ALLOCATE => {
                let relayed = match idx {
                    Some(i) => self.allocs[i].relayed,
                    None => {
                        let relayed = SocketAddr::new(self.listen.ip(), self.next_port);
                        self.next_port += 1;
                        self.allocs.push(RelayAlloc {
                            client: src,
                            relayed,
                            perms: Vec::new(),
                            channels: Vec::new(),
                        });
                        relayed
                    }
                };
                let attrs = [
                    Attribute::XorRelayedAddress(relayed),
                    Attribute::XorMappedAddress(src),
                    Attribute::Lifetime(600),
                ];
                self.answer(src, &msg, &attrs, true);
            }
            Method::REFRESH => {
                let life = msg.lifetime().ok().flatten().unwrap_or(600);
                if life == 0 {
                    self.allocs.retain(|a| a.client != src);
                }
                self.answer(src, &msg, &[Attribute::Lifetime(life)], true);
            }
            Method::CREATE_PERMISSION => {
                if let (Some(i), Ok(Some(peer))) = (idx, msg.xor_peer_address()) {
                    if !self.allocs[i].perms.contains(&peer.ip()) {
                        self.allocs[i].perms.push(peer.ip());
                    }
                    self.answer(src, &msg, &[], true);
                }
            }
            Method::CHANNEL_BIND => {
                if let (Some(i), Ok(Some(peer)), Ok(Some(n))) =
                    (idx, msg.xor_peer_address(), msg.channel_number())
                {
                    let a = &mut self.allocs[i];
                    if !a.perms.contains(&peer.ip()) {
                        a.perms.push(peer.ip());
                    }
                    a.channels.retain(|(m, p)| *m != n && *p != peer);
                    a.channels.push((n, peer));
                    self.answer(src, &msg, &[], true);
                }
            }
            _ => {}
        }
    }

    fn on_peer(&mut self, src: SocketAddr, relayed: SocketAddr, bytes: &[u8]) {
        use rtcwire_stun::{ChannelData, Class, Method};
        let Some(a) = self.allocs.iter().find(|a| a.relayed == relayed) else {
            return;
        };
        if !a.perms.contains(&src.ip()) {
            return; // no permission: dropped, as RFC 8656 §9 requires
        }
        let mut out = Vec::new();
        if let Some((n, _)) = a.channels.iter().find(|(_, p)| *p == src) {
            ChannelData {
                number: *n,
                data: bytes,
            }
            .emit(rtcwire_stun::Transport::Udp, &mut out)
            .unwrap();
        } else {
            let tid = TransactionId([src.port() as u8; 12]);
            let mut b = MessageBuilder::new(
                &mut out,
                MessageType::new(Method::DATA, Class::Indication),
                tid,
            )
            .unwrap();
            b.attr(&Attribute::XorPeerAddress(src)).unwrap();
            b.attr(&Attribute::Data(bytes)).unwrap();
            b.finish();
        }
        self.out.push_back((self.listen, a.client, out));
    }
}

impl SansIo for TurnRelay {
    type Event = ();
    type Error = std::convert::Infallible;

    fn handle_read(&mut self, _now: Instant, d: Datagram<'_>) -> Result<(), Self::Error> {
        let (Some(src), Some(dst)) = (d.source, d.destination) else {
            return Ok(());
        };
        if dst == self.listen {
            self.on_client(src, d.contents);
        } else {
            self.on_peer(src, dst, d.contents);
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

pub fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// An agent at `a` with its host candidate there, gathering complete.
pub fn host(sim: &mut Sim, a: &str, cfg: Config, seed: u64, label: &str) -> Host<Node> {
    let h = sim.add_host(addr(a), Node::new(cfg, seed, label));
    let now = sim.now();
    let ep = sim.endpoint_mut(h);
    ep.agent.add_host_candidate(now, addr(a)).unwrap();
    ep.agent.end_of_local_candidates();
    h
}

/// A (controlling, 10.0.0.1) and B (controlled, 10.0.0.2) on one `link`.
pub fn lan_pair(seed: u64, link: LinkConfig) -> (Sim, Duo) {
    let mut sim = Sim::new(seed);
    let a = host(&mut sim, "10.0.0.1:5000", config(true), seed, "a");
    let b = host(&mut sim, "10.0.0.2:6000", config(false), seed, "b");
    sim.link(a, b, link);
    let duo = Duo::new(&mut sim, a, b);
    (sim, duo)
}

/// Exchanges credentials (what an offer and its answer carry): A takes B's, B takes A's.
pub fn signal(sim: &mut Sim, a: Host<Node>, b: Host<Node>, ca: &Credentials, cb: &Credentials) {
    sim.endpoint_mut(a)
        .agent
        .set_remote_credentials(&cb.ufrag, &cb.pwd)
        .unwrap();
    sim.endpoint_mut(b)
        .agent
        .set_remote_credentials(&ca.ufrag, &ca.pwd)
        .unwrap();
}

/// Both agents restart now (new credentials, same candidates) and signal the new ones.
pub fn restart_both(sim: &mut Sim, duo: &Duo) {
    let now = sim.now();
    let ca = sim.endpoint_mut(duo.a).agent.restart(now).unwrap();
    let cb = sim.endpoint_mut(duo.b).agent.restart(now).unwrap();
    signal(sim, duo.a, duo.b, &ca, &cb);
}

/// A and B each behind a symmetric NAT, a STUN server and a TURN relay on the public side
/// (both agents use both): only relayed paths work. Returns the relay too.
pub fn symmetric_nats_with_turn(seed: u64) -> (Sim, Duo, Host<TurnRelay>) {
    let (sim, duo, turn) = nats(seed, NatConfig::symmetric(), NatConfig::symmetric(), true);
    (sim, duo, turn.unwrap())
}

/// A: host behind `nat_a`; B: host behind `nat_b`; a STUN server on the public side.
pub fn behind_nats(seed: u64, nat_a: NatConfig, nat_b: NatConfig) -> (Sim, Duo) {
    let (sim, duo, _) = nats(seed, nat_a, nat_b, false);
    (sim, duo)
}

/// A (192.168.1.2) behind `nat_a`, B (192.168.2.2) behind `nat_b`, 2 ms LAN links, the
/// NATs, a STUN server and (`with_turn`) a TURN relay on one router over 20 ms links.
fn nats(
    seed: u64,
    nat_a: NatConfig,
    nat_b: NatConfig,
    with_turn: bool,
) -> (Sim, Duo, Option<Host<TurnRelay>>) {
    let mut sim = Sim::new(seed);
    let stun_addr = addr("198.51.100.1:3478");
    let turn_addr = addr("198.51.100.2:3478");
    let stun = sim.add_host(stun_addr, StunServer::default());
    let turn = with_turn.then(|| sim.add_host(turn_addr, TurnRelay::new(turn_addr)));
    let cfg = |controlling| Config {
        stun_servers: vec![stun_addr],
        turn_servers: turn
            .iter()
            .map(|_| TurnServer::udp(turn_addr, TURN_USER, TURN_PASS))
            .collect(),
        ..config(controlling)
    };
    let a = host(&mut sim, "192.168.1.2:5000", cfg(true), seed, "a");
    let b = host(&mut sim, "192.168.2.2:6000", cfg(false), seed, "b");
    let na = sim.add_nat("203.0.113.1".parse().unwrap(), nat_a);
    let nb = sim.add_nat("203.0.113.2".parse().unwrap(), nat_b);
    let r = sim.add_router();
    let lan = LinkConfig::with_delay(Duration::from_millis(2));
    let wan = LinkConfig::with_delay(Duration::from_millis(20));
    sim.link(a, na.inside(), lan);
    sim.link(b, nb.inside(), lan);
    sim.link(na.outside(), r, wan);
    sim.link(nb.outside(), r, wan);
    sim.link(stun, r, wan);
    if let Some(turn) = turn {
        sim.link(turn, r, wan);
    }
    let duo = Duo::new(&mut sim, a, b);
    (sim, duo, turn)
}
