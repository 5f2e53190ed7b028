//! Connection ids on rtcwire-sim: a client behind a NAT whose mapping times out mid-stream
//! reappears from a new address:port. A server that routes datagrams by connection id
//! (`peek_connection_id`) keeps the connection, answers at the new address and the stream
//! goes on; the same server routing by address only (no ids negotiated) loses it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

mod common;

use common::ident;
use rtcwire_dtls::{peek_connection_id, Certificate, Config, Connection, Event};
use rtcwire_proto::{Datagram, SansIo, SeededRng, Transmit};
use rtcwire_sim::{LinkConfig, NatConfig, Sim};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CID_LEN: usize = 4;
/// When the client writes, after the start: two messages, then a silence longer than the
/// NAT's mapping timeout, then two more from the new mapping.
const SENDS: [u64; 4] = [2, 3, 100, 101];
const NAT_TIMEOUT: Duration = Duration::from_secs(30);

/// The client: a DTLS connection that writes "message i" at the scheduled times.
struct Client {
    conn: Connection,
    start: Instant,
    sent: usize,
}

impl Client {
    fn due(&self) -> Option<Instant> {
        SENDS
            .get(self.sent)
            .map(|s| self.start + Duration::from_secs(*s))
    }
}

impl SansIo for Client {
    type Event = Event;
    type Error = rtcwire_dtls::Error;
    fn handle_read(&mut self, now: Instant, d: Datagram<'_>) -> Result<(), Self::Error> {
        self.conn.handle_read(now, d)
    }
    fn poll_transmit(&mut self, now: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
        self.conn.poll_transmit(now, buf)
    }
    fn poll_event(&mut self) -> Option<Event> {
        self.conn.poll_event()
    }
    fn poll_timeout(&self) -> Option<Instant> {
        let due = self.conn.is_connected().then(|| self.due()).flatten();
        [self.conn.poll_timeout(), due].into_iter().flatten().min()
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.conn.handle_timeout(now);
        if self.conn.is_connected() && self.due().is_some_and(|t| t <= now) {
            self.conn
                .write(format!("message {}", self.sent).as_bytes())
                .unwrap();
            self.sent += 1;
        }
    }
}

struct Served {
    conn: Connection,
    addr: SocketAddr,
    cid: Vec<u8>,
}

#[derive(Debug, PartialEq)]
enum Routed {
    Echoed(Vec<u8>),
    /// A connection's peer came back from another address (after its records opened).
    Moved {
        from: SocketAddr,
        to: SocketAddr,
    },
}

/// A server for many clients on one socket: routes by connection id when it hands them
/// out, else by source address; echoes application data.
struct Router {
    cert: Certificate,
    client_fp: rtcwire_dtls::Fingerprint,
    v13: bool,
    ids: bool,
    conns: Vec<Served>,
    unrouted: u64,
    events: VecDeque<Routed>,
}

impl Router {
    fn accept(&mut self, src: SocketAddr) -> usize {
        let cid = vec![0xa0 + self.conns.len() as u8; CID_LEN];
        let cfg = Config::builder(self.cert.clone())
            .remote_fingerprint(self.client_fp.clone())
            .dtls13(self.v13)
            .connection_id(self.ids.then(|| cid.clone()))
            .build()
            .unwrap();
        let conn = Connection::server(
            Arc::new(cfg),
            Box::new(SeededRng::new(self.conns.len() as u64)),
        );
        self.conns.push(Served {
            conn,
            addr: src,
            cid,
        });
        self.conns.len() - 1
    }
}

impl SansIo for Router {
    type Event = Routed;
    type Error = ();
    fn handle_read(&mut self, now: Instant, d: Datagram<'_>) -> Result<(), ()> {
        let src = d.source.unwrap();
        let by_cid = peek_connection_id(d.contents, CID_LEN)
            .filter(|_| self.ids)
            .and_then(|cid| self.conns.iter().position(|c| c.cid == cid));
        let hello = d.contents.first() == Some(&22) && d.contents.get(13) == Some(&1);
        let i = match by_cid.or_else(|| self.conns.iter().position(|c| c.addr == src)) {
            Some(i) => i,
            None if hello => self.accept(src),
            None => {
                self.unrouted += 1;
                return Err(());
            }
        };
        let s = &mut self.conns[i];
        let r = s.conn.handle_read(now, Datagram::on_path(d.contents));
        // The new address is believed only once a record from it opened (RFC 9146 §6).
        if r.is_ok() && s.addr != src {
            self.events.push_back(Routed::Moved {
                from: s.addr,
                to: src,
            });
            s.addr = src;
        }
        while let Some(e) = s.conn.poll_event() {
            if let Event::ApplicationData(data) = e {
                s.conn.write(&data).unwrap();
                self.events.push_back(Routed::Echoed(data));
            }
        }
        r.map_err(|_| ())
    }
    fn poll_transmit(&mut self, now: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
        for s in &mut self.conns {
            if let Some(t) = s.conn.poll_transmit(now, buf) {
                return Some(Transmit {
                    destination: Some(s.addr),
                    ..t
                });
            }
        }
        None
    }
    fn poll_event(&mut self) -> Option<Routed> {
        self.events.pop_front()
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.conns
            .iter()
            .filter_map(|s| s.conn.poll_timeout())
            .min()
    }
    fn handle_timeout(&mut self, now: Instant) {
        for s in &mut self.conns {
            s.conn.handle_timeout(now);
        }
    }
}

/// Runs the scenario; returns the echoes the client got, the router's events and how many
/// datagrams it could not route.
fn scenario(v13: bool, ids: bool) -> (Vec<Vec<u8>>, Vec<Routed>, u64) {
    let (c, s) = ident();
    let mut sim = Sim::builder(5).exact_seed().build();
    let start = sim.now();
    let cfg = Config::builder(c.clone())
        .remote_fingerprint(s.fingerprint())
        .dtls13(v13)
        // The client needs no id of its own (the server's address does not change).
        .connection_id(ids.then(Vec::new))
        .build()
        .unwrap();
    let client = Client {
        conn: Connection::client(Arc::new(cfg), Box::new(SeededRng::new(9)), start),
        start,
        sent: 0,
    };
    let router = Router {
        cert: s,
        client_fp: c.fingerprint(),
        v13,
        ids,
        conns: Vec::new(),
        unrouted: 0,
        events: VecDeque::new(),
    };
    let server_addr: SocketAddr = "198.51.100.7:4433".parse().unwrap();
    let ch = sim.add_host("192.168.1.20:5000".parse().unwrap(), client);
    let rh = sim.add_host(server_addr, router);
    let nat = sim.add_nat(
        "203.0.113.9".parse().unwrap(),
        NatConfig::port_restricted_cone().mapping_timeout(NAT_TIMEOUT),
    );
    let wire = LinkConfig::with_delay(Duration::from_millis(15));
    sim.link(ch, nat.inside(), wire);
    sim.link(nat.outside(), rh, wire);
    sim.set_default_peer(ch, server_addr);
    let _ = sim.run_for(Duration::from_secs(110));
    let echoes = sim
        .events(ch)
        .iter()
        .filter_map(|e| match e {
            Event::ApplicationData(d) => Some(d.clone()),
            _ => None,
        })
        .collect();
    assert!(sim.endpoint(ch).conn.is_connected());
    let (router, events) = sim.take_endpoint(rh).unwrap();
    (echoes, events, router.unrouted)
}

fn messages(n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| format!("message {i}").into_bytes())
        .collect()
}

#[test]
fn a_server_routing_by_connection_id_follows_a_rebound_client() {
    for v13 in [false, true] {
        let (echoes, events, unrouted) = scenario(v13, true);
        assert_eq!(echoes, messages(4), "v13 {v13}: every message echoed");
        let moved: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                Routed::Moved { from, to } => Some((*from, *to)),
                _ => None,
            })
            .collect();
        assert_eq!(moved.len(), 1, "v13 {v13}: {events:?}");
        let (from, to) = moved[0];
        assert_eq!(from.ip(), to.ip(), "the NAT's public address");
        assert_ne!(from.port(), to.port(), "a new mapping");
        assert_eq!(unrouted, 0);
    }
}

#[test]
fn without_ids_the_rebound_client_is_lost() {
    for v13 in [false, true] {
        let (echoes, events, unrouted) = scenario(v13, false);
        assert_eq!(echoes, messages(2), "v13 {v13}: only before the rebinding");
        assert!(!events.iter().any(|e| matches!(e, Routed::Moved { .. })));
        assert!(unrouted >= 2, "v13 {v13}: {unrouted}");
    }
}
