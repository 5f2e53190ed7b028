//! Shared by `dtls_client` and `dtls_server`: drives one DTLS connection through arbitrary
//! datagrams (input: a sequence of `u16 length ‖ datagram`, with a 300 ms timer tick between
//! datagrams). Whatever arrives, the connection never panics, never reports Connected without a
//! valid peer, and keeps its output bounded.
use rtcwire_dtls::{Certificate, Config, Connection, Event};
use rtcwire_proto::{Datagram, SansIo, SeededRng};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// Which side of the handshake the fuzzed connection plays (each target uses one).
#[allow(dead_code)]
pub enum Role {
    Client,
    Server,
}

fn config() -> Arc<Config> {
    static CFG: OnceLock<Arc<Config>> = OnceLock::new();
    CFG.get_or_init(|| {
        let me = Certificate::generate_self_signed().expect("certificate");
        let peer = Certificate::generate_self_signed().expect("certificate");
        Arc::new(
            Config::builder(me)
                .remote_fingerprint(peer.fingerprint())
                .hello_verify(false)
                .deterministic_keys(true)
                .build()
                .expect("config"),
        )
    })
    .clone()
}

pub fn run(role: Role, data: &[u8]) {
    let start = Instant::now();
    let rng = Box::new(SeededRng::new(7));
    let mut ep = match role {
        Role::Server => Connection::server(config(), rng),
        Role::Client => Connection::client(config(), rng, start),
    };
    let addr = "127.0.0.1:5000".parse().expect("addr");
    let mut rest = data;
    let mut now = start;
    let mut sent = 0usize;
    let mut buf = Vec::with_capacity(1500);
    while ep.poll_transmit(now, &mut buf).is_some() {
        buf.clear();
    }
    while ep.poll_event().is_some() {}
    while rest.len() >= 2 {
        let n = usize::from(u16::from_be_bytes([rest[0], rest[1]])).min(rest.len() - 2);
        let (d, r) = rest[2..].split_at(n);
        rest = r;
        // The error rule: a refused datagram changes nothing, so it queues nothing either.
        if ep.handle_read(now, Datagram::udp(addr, addr, d)).is_err() {
            assert!(
                ep.poll_event().is_none(),
                "a refused datagram produced an event"
            );
            assert!(
                ep.poll_transmit(now, &mut buf).is_none(),
                "a refused datagram produced a datagram"
            );
        }
        now += Duration::from_millis(300);
        ep.handle_timeout(now);
        while let Some(t) = ep.poll_transmit(now, &mut buf) {
            sent += 1;
            assert!(t.size <= 1200 + 64);
            assert_eq!(t.size, buf.len());
            buf.clear();
        }
        while let Some(e) = ep.poll_event() {
            // The peer's certificate can only match with a real handshake from the peer,
            // which random bytes cannot produce.
            assert!(!matches!(e, Event::Connected { .. }));
        }
    }
    assert!(sent < 10_000);
}
