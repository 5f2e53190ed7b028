//! Shared test helpers: identities, configs, a run of two connections on rtcwire-sim's
//! deterministic network, and a lossless pump for tests that step by hand.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use rtcwire_dtls::{Certificate, Config, ConfigBuilder, Connection, Event};
use rtcwire_proto::{Datagram, SansIo, SeededRng};
use rtcwire_sim::{LinkConfig, Loss, Sim, TraceEvent};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub fn ident() -> (Certificate, Certificate) {
    (
        Certificate::generate_self_signed().unwrap(),
        Certificate::generate_self_signed().unwrap(),
    )
}

/// Client and server builders that trust each other's certificate, for DTLS 1.2 (the
/// tests of the 1.2 machinery; tests/dtls13.rs turns 1.3 back on).
pub fn builders(c: &Certificate, s: &Certificate) -> (ConfigBuilder, ConfigBuilder) {
    (
        Config::builder(c.clone())
            .remote_fingerprint(s.fingerprint())
            .dtls13(false),
        Config::builder(s.clone())
            .remote_fingerprint(c.fingerprint())
            .dtls13(false),
    )
}

pub fn connections(
    c: ConfigBuilder,
    s: ConfigBuilder,
    seed: u64,
    now: Instant,
) -> (Connection, Connection) {
    let client = Connection::client(
        Arc::new(c.build().unwrap()),
        Box::new(SeededRng::new(seed)),
        now,
    );
    let server = Connection::server(
        Arc::new(s.build().unwrap()),
        Box::new(SeededRng::new(seed ^ 0xabcdef)),
    );
    (client, server)
}

/// Network behaviour of the simulated link between the two (rtcwire-sim).
#[derive(Debug, Clone, Copy)]
pub struct Net {
    pub loss: f64,
    pub duplicate: f64,
    pub reorder: f64,
    pub delay: Duration,
    pub seed: u64,
}

impl Net {
    pub fn perfect() -> Self {
        Net {
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            delay: Duration::from_millis(10),
            seed: 1,
        }
    }

    /// A bad link: 30 % of datagrams lost, 20 % duplicated, 30 % reordered.
    pub fn lossy(seed: u64) -> Self {
        Net {
            loss: 0.3,
            duplicate: 0.2,
            reorder: 0.3,
            seed,
            ..Net::perfect()
        }
    }

    fn link(&self) -> LinkConfig {
        let mut l = LinkConfig::with_delay(self.delay);
        if self.loss > 0.0 {
            l = l.loss(Loss::Random(self.loss));
        }
        if self.duplicate > 0.0 {
            l = l.duplicate(self.duplicate);
        }
        if self.reorder > 0.0 {
            l = l.reorder(self.reorder, Duration::from_millis(50));
        }
        l
    }
}

/// What happened during a run.
#[derive(Debug, Default)]
pub struct Outcome {
    pub client_events: Vec<Event>,
    pub server_events: Vec<Event>,
    /// (time since start, from_client) of every datagram sent.
    pub transcript: Vec<(Duration, bool)>,
    pub elapsed: Duration,
}

impl Outcome {
    pub fn connected(events: &[Event]) -> bool {
        events.iter().any(|e| matches!(e, Event::Connected { .. }))
    }
    pub fn error(events: &[Event]) -> Option<&rtcwire_dtls::Error> {
        events.iter().find_map(|e| match e {
            Event::Error(e) => Some(e),
            _ => None,
        })
    }
}

/// A connection to hold a place while the real one is inside the simulator.
fn placeholder() -> Connection {
    static CFG: std::sync::OnceLock<Arc<Config>> = std::sync::OnceLock::new();
    let cfg = CFG.get_or_init(|| {
        let (c, s) = ident();
        Arc::new(builders(&c, &s).1.build().unwrap())
    });
    Connection::server(cfg.clone(), Box::new(SeededRng::new(0)))
}

/// Runs both connections over a rtcwire-sim link (clock starting at `start`) until both are
/// connected or closed, or until `limit` of simulated time passes, then hands them back.
pub fn run(
    client: &mut Connection,
    server: &mut Connection,
    start: Instant,
    net: Net,
    limit: Duration,
) -> Outcome {
    let mut sim = Sim::builder(net.seed).exact_seed().start(start).build();
    let c = sim.add_host(
        "10.0.0.1:5000".parse().unwrap(),
        std::mem::replace(client, placeholder()),
    );
    let s = sim.add_host(
        "10.0.0.2:5000".parse().unwrap(),
        std::mem::replace(server, placeholder()),
    );
    sim.link(c, s, net.link());
    let done = |ep: &Connection| ep.is_connected() || ep.is_closed();
    let outcome = sim.run_until(|sim| done(sim.endpoint(c)) && done(sim.endpoint(s)), limit);
    if outcome.is_done() {
        // Let what is still on the wire (the last flight, an alert) arrive.
        let _ = sim.run_for(net.delay * 3);
    }
    let transcript = sim
        .trace()
        .filter_map(|t| match t.event {
            TraceEvent::Sent { host } => Some((t.at, host == c.id())),
            _ => None,
        })
        .collect();
    let elapsed = sim.elapsed();
    let (cc, client_events) = sim.take_endpoint(c).unwrap();
    let (sc, server_events) = sim.take_endpoint(s).unwrap();
    *client = cc;
    *server = sc;
    Outcome {
        client_events,
        server_events,
        transcript,
        elapsed,
    }
}

/// Moves whatever is queued between the two, with no loss, until both are idle.
pub fn pump(a: &mut Connection, b: &mut Connection, now: Instant) -> (Vec<Event>, Vec<Event>) {
    let addr = "127.0.0.1:9".parse().unwrap();
    let (mut ea, mut eb) = (Vec::new(), Vec::new());
    for _ in 0..64 {
        let mut moved = false;
        while let Some(t) = a.poll_out() {
            moved = true;
            let _ = b.handle_read(now, Datagram::udp(addr, addr, &t.contents));
        }
        while let Some(t) = b.poll_out() {
            moved = true;
            let _ = a.handle_read(now, Datagram::udp(addr, addr, &t.contents));
        }
        while let Some(e) = a.poll_event() {
            ea.push(e)
        }
        while let Some(e) = b.poll_event() {
            eb.push(e)
        }
        if !moved {
            break;
        }
    }
    (ea, eb)
}

/// A datagram taken from a connection, owned (tests keep, tamper with and replay them).
pub struct Sent {
    pub contents: Vec<u8>,
}

/// `poll_transmit` with a fresh buffer each time, for tests that keep what was sent.
pub trait PollOut {
    fn poll_out(&mut self) -> Option<Sent>;
}

impl PollOut for Connection {
    fn poll_out(&mut self) -> Option<Sent> {
        // DTLS sends without looking at the clock; any instant will do.
        static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        let now = *EPOCH.get_or_init(|| rtcwire_sim::Sim::new(0).now());
        let mut contents = Vec::new();
        let t = self.poll_transmit(now, &mut contents)?;
        assert_eq!(t.size, contents.len());
        Some(Sent { contents })
    }
}

/// A client and a server that trust each other, connected over a perfect simulated link.
pub fn connected_pair(seed: u64) -> (Connection, Connection, Instant) {
    let (c, s) = ident();
    let now = Instant::now();
    let (cb, sb) = builders(&c, &s);
    let (mut client, mut server) = connections(cb, sb, seed, now);
    let o = run(
        &mut client,
        &mut server,
        now,
        Net::perfect(),
        Duration::from_secs(5),
    );
    assert!(Outcome::connected(&o.client_events) && Outcome::connected(&o.server_events));
    (client, server, now)
}
