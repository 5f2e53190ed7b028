//! Real TURN server: coturn's `turnserver` on 127.0.0.1 (started the way
//! rtcwire-stun's coturn test does). Two relay-only agents allocate (401 → realm/nonce →
//! long-term credentials), install permissions, connect through the relay with checks in
//! Send/Data indications, bind a channel for the selected pair, and exchange data both
//! ways (Send indications first, ChannelData once bound). The server grants a 4 s lifetime
//! and its nonces go stale after 1 s, so a Refresh (after a 438 Stale Nonce) is observed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::disallowed_methods
)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use rtcwire_ice::{Agent, CandidateKind, Config, Event, IceState, Received, TurnServer};
use rtcwire_proto::{Datagram, SansIo, SeededRng, Transport};
use rtcwire_sim::peer;
use rtcwire_stun::{Framing, TcpFramer};

const USER: &str = "u";
const PASS: &str = "p";
const REALM: &str = "example.org";

fn start_turnserver() -> Option<peer::Turnserver> {
    // Short lifetimes so that a Refresh and a 438 Stale Nonce happen during the test.
    peer::Turnserver::start(
        "ice",
        USER,
        PASS,
        REALM,
        &["--max-allocate-lifetime=4", "--stale-nonce=1"],
    )
}

struct Side {
    agent: Agent,
    sock: UdpSocket,
    local: SocketAddr,
    turn: SocketAddr,
    stream: Option<(TcpStream, TcpFramer)>,
    received: Vec<Vec<u8>>,
    connected_at: Option<Duration>,
}

impl Side {
    fn new(turn: SocketAddr, controlling: bool, seed: u64, tcp: bool) -> Side {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        // TURN over TCP: one stream to the server, split with the STUN/ChannelData framing.
        let stream = tcp.then(|| {
            let st = TcpStream::connect(turn).unwrap();
            st.set_nodelay(true).unwrap();
            st.set_nonblocking(true).unwrap();
            (st, TcpFramer::new(Framing::Turn))
        });
        // Reads wait up to 1 ms for a datagram: the pump's pace comes from the sockets,
        // not from sleeping.
        sock.set_read_timeout(Some(Duration::from_millis(1)))
            .unwrap();
        let local = sock.local_addr().unwrap();
        let config = Config {
            controlling,
            relay_only: true,
            turn_servers: vec![if tcp {
                TurnServer::tcp(turn, USER, PASS)
            } else {
                TurnServer::udp(turn, USER, PASS)
            }],
            ..Config::default()
        };
        let agent = Agent::new(config, Box::new(SeededRng::new(seed))).unwrap();
        Side {
            agent,
            sock,
            local,
            turn,
            stream,
            received: Vec::new(),
            connected_at: None,
        }
    }

    /// One step: timers, datagrams in, datagrams out; returns the events.
    fn step(&mut self, start: Instant) -> Vec<Event> {
        let now = Instant::now();
        if self.agent.poll_timeout().is_some_and(|t| t <= now) {
            self.agent.handle_timeout(now);
        }
        let mut rbuf = [0u8; 2048];
        // Bounded: at most 64 datagrams per step.
        for _ in 0..64 {
            let Ok((n, from)) = self.sock.recv_from(&mut rbuf) else {
                break;
            };
            match self
                .agent
                .handle_datagram(Instant::now(), Datagram::udp(from, self.local, &rbuf[..n]))
            {
                Ok(Received::Data { contents, .. }) => self.received.push(contents.to_vec()),
                Ok(Received::Stun) => {}
                Err(e) => eprintln!("refused from {from}: {e}"),
            }
        }
        // TURN over TCP: whole messages off the stream, tagged TCP, from the server.
        let mut frames = Vec::new();
        if let Some((st, framer)) = self.stream.as_mut() {
            let mut chunk = [0u8; 4096];
            // Bounded: at most 64 reads per step.
            for _ in 0..64 {
                match st.read(&mut chunk) {
                    Ok(0) => panic!("coturn closed the TCP stream"),
                    Ok(n) => framer.push(&chunk[..n]).unwrap(),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) => panic!("TCP read: {e}"),
                }
            }
            while let Some(f) = framer.pop().unwrap() {
                frames.push(f.bytes);
            }
        }
        for f in frames {
            let d = Datagram {
                transport: Transport::Tcp,
                source: Some(self.turn),
                destination: None,
                contents: &f,
            };
            match self.agent.handle_datagram(Instant::now(), d) {
                Ok(Received::Data { contents, .. }) => self.received.push(contents.to_vec()),
                Ok(Received::Stun) => {}
                Err(e) => eprintln!("refused over TCP: {e}"),
            }
        }
        let mut buf = Vec::with_capacity(1500);
        while let Some(t) = self.agent.poll_transmit(now, &mut buf) {
            let bytes = buf[..t.size].to_vec();
            self.transmit(&bytes, t);
            buf.clear();
        }
        let mut events = Vec::new();
        while let Some(e) = self.agent.poll_event() {
            if let Event::StateChanged(IceState::Connected | IceState::Completed) = e {
                self.connected_at.get_or_insert(now - start);
            }
            events.push(e);
        }
        events
    }

    fn transmit(&mut self, bytes: &[u8], t: rtcwire_proto::Transmit) {
        match (t.transport, self.stream.as_mut()) {
            (Transport::Tcp, Some((st, _))) => {
                assert_eq!(t.destination, Some(self.turn));
                // Loopback with tiny messages: the kernel buffer takes all of it.
                st.write_all(bytes).unwrap();
            }
            (Transport::Tcp, None) => panic!("TCP transmit without a stream"),
            (Transport::Udp, _) => {
                self.sock.send_to(bytes, t.destination.unwrap()).unwrap();
            }
        }
    }

    fn send(&mut self, data: &[u8]) {
        let mut out = Vec::new();
        let t = self.agent.send(data, &mut out).unwrap();
        // Relayed: everything goes to the TURN server, wrapped.
        assert_eq!(t.destination, Some(self.turn));
        self.transmit(&out, t);
    }
}

/// Runs both sides (with trickle signalling between them) until `done` or 15 s.
fn pump(a: &mut Side, b: &mut Side, start: Instant, done: impl Fn(&Side, &Side) -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        let ea = a.step(start);
        let eb = b.step(start);
        let mut failed = false;
        let now = Instant::now();
        for (events, to) in [(ea, &mut *b), (eb, &mut *a)] {
            for e in events {
                match e {
                    Event::LocalCandidate(c) => {
                        assert_eq!(
                            c.kind,
                            CandidateKind::Relayed,
                            "relay-only agents signal relays only"
                        );
                        let c = rtcwire_ice::Candidate::parse(&c.to_string()).unwrap();
                        to.agent.add_remote_candidate(now, c).unwrap();
                    }
                    Event::GatheringComplete => to.agent.end_of_remote_candidates(now),
                    Event::StateChanged(IceState::Failed) => failed = true,
                    _ => {}
                }
            }
        }
        assert!(
            !failed,
            "an agent failed: A {:?} {:?}; B {:?} {:?}",
            a.agent.turn_status(0),
            a.agent.stats(),
            b.agent.turn_status(0),
            b.agent.stats()
        );
        if done(a, b) {
            return true;
        }
    }
    false
}

#[test]
fn relay_only_agents_connect_through_coturn_and_exchange_data() {
    relay_only(false);
}

/// A reaches coturn over TCP (ChannelData padded, requests sent once), B over UDP.
#[test]
fn turn_over_tcp_to_coturn() {
    relay_only(true);
}

fn relay_only(a_over_tcp: bool) {
    let Some(turn) = start_turnserver() else {
        return;
    };
    let start = Instant::now();
    let mut a = Side::new(turn.addr, true, 11, a_over_tcp);
    let mut b = Side::new(turn.addr, false, 12, false);
    let (ca, cb) = (
        a.agent.local_credentials().clone(),
        b.agent.local_credentials().clone(),
    );
    a.agent.set_remote_credentials(&cb.ufrag, &cb.pwd).unwrap();
    b.agent.set_remote_credentials(&ca.ufrag, &ca.pwd).unwrap();
    let now = Instant::now();
    a.agent.add_host_candidate(now, a.local).unwrap();
    a.agent.end_of_local_candidates();
    b.agent.add_host_candidate(now, b.local).unwrap();
    b.agent.end_of_local_candidates();

    let ok = pump(&mut a, &mut b, start, |a, b| {
        a.connected_at.is_some() && b.connected_at.is_some()
    });
    assert!(ok, "relay-only agents did not connect through coturn");
    let sel = a.agent.selected_pair().unwrap();
    assert_eq!(sel.local.kind, CandidateKind::Relayed);
    assert_eq!(sel.remote.kind, CandidateKind::Relayed);
    assert_eq!(
        a.agent.turn_status(0).unwrap().relayed,
        Some(sel.local.address)
    );

    // Data right away (Send indications while the channel is being bound) …
    a.send(b"a1");
    b.send(b"b1");
    assert!(pump(&mut a, &mut b, start, |a, b| !a.received.is_empty()
        && !b.received.is_empty()));
    // … and once the channel is bound (ChannelData).
    assert!(pump(&mut a, &mut b, start, |a, b| {
        a.agent.turn_status(0).unwrap().channels == 1
            && b.agent.turn_status(0).unwrap().channels == 1
    }));
    a.send(b"a2");
    b.send(b"b2");
    assert!(pump(&mut a, &mut b, start, |a, b| a.received.len() >= 2
        && b.received.len() >= 2));
    assert_eq!(b.received, vec![b"a1".to_vec(), b"a2".to_vec()]);
    assert_eq!(a.received, vec![b"b1".to_vec(), b"b2".to_vec()]);

    // A 4 s allocation is refreshed after about 2 s (with a stale nonce on the way).
    assert!(pump(&mut a, &mut b, start, |a, _| a
        .agent
        .turn_status(0)
        .unwrap()
        .refreshes
        >= 1));
    let st = a.agent.turn_status(0).unwrap();
    assert!(st.permissions >= 1);
    assert!(
        st.stale_nonces >= 1,
        "coturn's 1 s nonces should have gone stale: {st:?}"
    );
    a.send(b"a3");
    assert!(pump(&mut a, &mut b, start, |_, b| b.received.len() >= 3));
    println!(
        "coturn (A over {}): relay-only agents connected after {:?} / {:?} (wall clock); A {:?}",
        if a_over_tcp { "TCP" } else { "UDP" },
        a.connected_at.unwrap(),
        b.connected_at.unwrap(),
        st
    );
    let now = Instant::now();
    a.agent.close(now);
    b.agent.close(now);
    let _ = a.step(start);
    let _ = b.step(start);
}
