#![no_main]
//! A real DTLS 1.3 client and server (deterministic keys) over a network the fuzzer plays:
//! each input byte decides the fate of the next datagram (deliver, drop, duplicate, flip a
//! bit, truncate, swap with the next) or advances the clock. Whatever happens, nothing
//! panics, output stays bounded, and if both sides connect they export the same SRTP keys.
use libfuzzer_sys::fuzz_target;
use rtcwire_dtls::{Certificate, Config, Connection, Event, KeyingMaterial};
use rtcwire_proto::{Datagram, SansIo, SeededRng};
use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

fn configs() -> (Arc<Config>, Arc<Config>) {
    static CFG: OnceLock<(Arc<Config>, Arc<Config>)> = OnceLock::new();
    CFG.get_or_init(|| {
        let a = Certificate::generate_self_signed().expect("certificate");
        let b = Certificate::generate_self_signed().expect("certificate");
        let build = |me: &Certificate, peer: &Certificate| {
            Arc::new(
                Config::builder(me.clone())
                    .remote_fingerprint(peer.fingerprint())
                    .dtls13(true)
                    .deterministic_keys(true)
                    .initial_retransmit_timeout(Duration::from_millis(100))
                    .build()
                    .expect("config"),
            )
        };
        (build(&a, &b), build(&b, &a))
    })
    .clone()
}

fn srtp(events: &[Event]) -> Option<KeyingMaterial> {
    events.iter().find_map(|e| match e {
        Event::Connected { srtp, .. } => srtp.clone(),
        _ => None,
    })
}

fuzz_target!(|data: &[u8]| {
    let (cc, sc) = configs();
    let start = Instant::now();
    let mut now = start;
    let mut eps = [
        Connection::client(cc, Box::new(SeededRng::new(1)), start),
        Connection::server(sc, Box::new(SeededRng::new(2))),
    ];
    let mut events: [Vec<Event>; 2] = [Vec::new(), Vec::new()];
    let mut wire: VecDeque<(usize, Vec<u8>)> = VecDeque::new();
    let mut buf = Vec::new();
    let mut sent = 0usize;
    for &b in data.iter().take(4096) {
        for (i, ep) in eps.iter_mut().enumerate() {
            while ep.poll_transmit(now, &mut buf).is_some() {
                sent += 1;
                assert!(buf.len() <= 1200 + 64);
                wire.push_back((1 - i, std::mem::take(&mut buf)));
            }
            while let Some(e) = ep.poll_event() {
                events[i].push(e);
            }
        }
        if wire.len() > 256 {
            wire.pop_front();
        }
        match b & 7 {
            7 => {
                now += Duration::from_millis(u64::from(b >> 3) * 20);
                for ep in eps.iter_mut() {
                    ep.handle_timeout(now);
                }
            }
            op => {
                let Some((to, mut d)) = wire.pop_front() else {
                    continue;
                };
                match op {
                    0 | 1 | 2 => {}
                    3 => continue,                        // dropped
                    4 => wire.push_back((to, d.clone())), // duplicated (later)
                    5 => {
                        if !d.is_empty() {
                            let i = usize::from(b >> 3) % d.len();
                            d[i] ^= 1 << (b % 8);
                        }
                    }
                    _ => d.truncate(usize::from(b >> 3) * 8),
                }
                let _ = eps[to].handle_read(now, Datagram::on_path(&d));
            }
        }
    }
    assert!(sent < 20_000);
    for (i, ep) in eps.iter_mut().enumerate() {
        while let Some(e) = ep.poll_event() {
            events[i].push(e);
        }
    }
    if let (Some(a), Some(b)) = (srtp(&events[0]), srtp(&events[1])) {
        assert_eq!(a.as_bytes(), b.as_bytes());
    }
});
