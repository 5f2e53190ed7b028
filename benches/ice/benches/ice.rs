//! rtcwire-ice: a connectivity check answered by a connected agent (parse, FINGERPRINT and
//! MESSAGE-INTEGRITY verified, role and pair looked up, success response built and signed,
//! queued and drained), and the memory an idle connected agent holds (issue goal: ≤ 4 KiB).
//!
//! str0m's `is` agent is not driven here yet (see docs/benchmarks.md).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use rtcwire_ice::{Agent, Config, IceState};
use rtcwire_proto::{Datagram, SansIo, SeededRng};
use rtcwire_stun::{Attribute, IntegrityKey, MessageBuilder, MessageType, TransactionId};

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Two agents connected over a perfect in-memory wire; returns them and the time.
fn connected_pair() -> (Agent, Agent, Instant) {
    let mut now = rtcwire_sim::Sim::new(1).now();
    let (pa, pb) = (addr("10.0.0.1:5000"), addr("10.0.0.2:6000"));
    let mut a = Agent::new(
        Config {
            controlling: true,
            ..Config::default()
        },
        Box::new(SeededRng::new(1)),
    )
    .unwrap();
    let mut b = Agent::new(Config::default(), Box::new(SeededRng::new(2))).unwrap();
    let (ca, cb) = (a.local_credentials().clone(), b.local_credentials().clone());
    a.set_remote_credentials(&cb.ufrag, &cb.pwd).unwrap();
    b.set_remote_credentials(&ca.ufrag, &ca.pwd).unwrap();
    let c = a.add_host_candidate(now, pa).unwrap();
    b.add_remote_candidate(now, c).unwrap();
    let c = b.add_host_candidate(now, pb).unwrap();
    a.add_remote_candidate(now, c).unwrap();
    a.end_of_local_candidates();
    b.end_of_local_candidates();
    a.end_of_remote_candidates(now);
    b.end_of_remote_candidates(now);
    let mut buf = Vec::new();
    let mut idle_until = None;
    for _ in 0..10_000 {
        while let Some(t) = a.poll_transmit(now, &mut buf) {
            let _ = b.handle_datagram(now, Datagram::udp(pa, t.destination.unwrap(), &buf));
            buf.clear();
        }
        while let Some(t) = b.poll_transmit(now, &mut buf) {
            let _ = a.handle_datagram(now, Datagram::udp(pb, t.destination.unwrap(), &buf));
            buf.clear();
        }
        while a.poll_event().is_some() || b.poll_event().is_some() {}
        if a.state() == IceState::Completed && b.state() == IceState::Completed {
            // Then idle for 20 s of consent checks and keepalives.
            let until = *idle_until.get_or_insert(now + Duration::from_secs(20));
            if now >= until {
                break;
            }
        }
        now = [a.poll_timeout(), b.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(now + Duration::from_millis(10));
        a.handle_timeout(now);
        b.handle_timeout(now);
    }
    assert_eq!(a.state(), IceState::Completed);
    (a, b, now)
}

fn bench(c: &mut Criterion) {
    let (a, mut b, now) = connected_pair();
    let (pa, pb) = (addr("10.0.0.1:5000"), addr("10.0.0.2:6000"));
    let user = format!(
        "{}:{}",
        b.local_credentials().ufrag,
        a.local_credentials().ufrag
    );
    let key = IntegrityKey::short_term(&b.local_credentials().pwd.clone());
    let mut req = Vec::new();
    let mut m = MessageBuilder::new(
        &mut req,
        MessageType::BINDING_REQUEST,
        TransactionId([7; 12]),
    )
    .unwrap();
    m.attr(&Attribute::Username(&user)).unwrap();
    m.attr(&Attribute::Priority(0x6e00_01ff)).unwrap();
    m.attr(&Attribute::IceControlling(u64::MAX)).unwrap();
    m.message_integrity(&key).unwrap().fingerprint().unwrap();
    m.finish();
    let mut out = Vec::with_capacity(1500);
    let mut answer = || {
        b.handle_datagram(now, Datagram::udp(pa, pb, black_box(&req)))
            .unwrap();
        out.clear();
        let t = b.poll_transmit(now, &mut out).unwrap();
        black_box(t.size);
    };
    let mut g = c.benchmark_group("ice");
    g.bench_function("check_answered", |bn| bn.iter(&mut answer));
    g.finish();
    let best =
        rtcwire_bench_support::ratios("ice/check_answered", &mut [("rtcwire-ice", &mut answer)]);
    if let Some(ns) = best.first() {
        println!(
            "rtcwire-ice: {:.0} checks answered per second (one core, best round)",
            1e9 / ns
        );
    }
    if rtcwire_bench_support::measuring() {
        let (a, b, _) = connected_pair();
        println!(
            "rtcwire-ice: connected agent idle for 20 s holds ~{} B (controlling) / ~{} B (controlled) by estimate; size_of::<Agent>() = {} B; goal ≤ 4096 B",
            a.memory_estimate(),
            b.memory_estimate(),
            std::mem::size_of::<Agent>()
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
