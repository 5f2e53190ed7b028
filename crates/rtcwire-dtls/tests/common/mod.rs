//! Shared test helpers: identities, configs and a small deterministic in-memory wire with a
//! virtual clock, loss, duplication, reordering.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use rtcwire_dtls::{Certificate, Config, ConfigBuilder, Connection, Event};
use rtcwire_proto::{Datagram, SansIo, SeededRng};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub fn ident() -> (Certificate, Certificate) {
    (
        Certificate::generate_self_signed().unwrap(),
        Certificate::generate_self_signed().unwrap(),
    )
}

/// Client and server builders that trust each other's certificate.
pub fn builders(c: &Certificate, s: &Certificate) -> (ConfigBuilder, ConfigBuilder) {
    (
        Config::builder(c.clone()).remote_fingerprint(s.fingerprint()),
        Config::builder(s.clone()).remote_fingerprint(c.fingerprint()),
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

/// Network behaviour of the in-memory wire.
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
}

/// What happened during a run.
#[derive(Debug, Default)]
pub struct Outcome {
    pub client_events: Vec<Event>,
    pub server_events: Vec<Event>,
    /// (time since start, from_client, delivered, bytes) of every datagram sent.
    pub transcript: Vec<(Duration, bool, bool, Vec<u8>)>,
    pub max_datagram: usize,
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

struct InFlight {
    at: Instant,
    order: u64,
    to_server: bool,
    bytes: Vec<u8>,
}

/// Runs both connections over the wire until both are connected (or closed) and idle, or
/// until `limit` of virtual time passes.
pub fn run(
    client: &mut Connection,
    server: &mut Connection,
    start: Instant,
    net: Net,
    limit: Duration,
) -> Outcome {
    let mut rng = SeededRng::new(net.seed);
    let mut out = Outcome::default();
    let mut queue: Vec<InFlight> = Vec::new();
    let mut now = start;
    let mut order = 0u64;
    let addr = "127.0.0.1:9".parse().unwrap();
    for _ in 0..100_000 {
        // Collect what both sides want to send.
        for (from_client, ep) in [(true, &mut *client), (false, &mut *server)] {
            while let Some(t) = ep.poll_out() {
                out.max_datagram = out.max_datagram.max(t.contents.len());
                let lost = rng.next_f64() < net.loss;
                out.transcript
                    .push((now - start, from_client, !lost, t.contents.clone()));
                if lost {
                    continue;
                }
                let copies = if rng.next_f64() < net.duplicate { 2 } else { 1 };
                for _ in 0..copies {
                    let extra = if rng.next_f64() < net.reorder {
                        Duration::from_millis(rng.next_u64() % 50)
                    } else {
                        Duration::ZERO
                    };
                    order += 1;
                    queue.push(InFlight {
                        at: now + net.delay + extra,
                        order,
                        to_server: from_client,
                        bytes: t.contents.clone(),
                    });
                }
            }
            while let Some(e) = ep.poll_event() {
                if from_client {
                    out.client_events.push(e)
                } else {
                    out.server_events.push(e)
                }
            }
        }
        let done = |ep: &Connection| ep.is_connected() || ep.is_closed();
        if queue.is_empty() && done(client) && done(server) {
            break;
        }
        // Next instant: earliest arrival or timer.
        let next_arrival = queue.iter().map(|f| (f.at, f.order)).min();
        let timers = [client.poll_timeout(), server.poll_timeout()];
        let next_timer = timers.iter().flatten().min().copied();
        let next = match (next_arrival, next_timer) {
            (Some((a, _)), Some(t)) => a.min(t),
            (Some((a, _)), None) => a,
            (None, Some(t)) => t,
            (None, None) => break,
        };
        if next - start > limit {
            break;
        }
        now = now.max(next);
        if let Some((at, ord)) = next_arrival.filter(|(a, _)| *a <= now) {
            let i = queue
                .iter()
                .position(|f| f.at == at && f.order == ord)
                .unwrap();
            let f = queue.swap_remove(i);
            let d = Datagram::udp(addr, addr, &f.bytes);
            let _ = if f.to_server {
                server.handle_read(now, d)
            } else {
                client.handle_read(now, d)
            };
        }
        for ep in [&mut *client, &mut *server] {
            if ep.poll_timeout().is_some_and(|t| t <= now) {
                ep.handle_timeout(now);
            }
        }
    }
    for (from_client, ep) in [(true, &mut *client), (false, &mut *server)] {
        while let Some(e) = ep.poll_event() {
            if from_client {
                out.client_events.push(e)
            } else {
                out.server_events.push(e)
            }
        }
    }
    out.elapsed = now - start;
    out
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
