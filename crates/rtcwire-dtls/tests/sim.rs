//! Handshakes on rtcwire-sim's deterministic network: random loss, duplication and
//! reordering on both directions, a 576-byte MTU, retransmission counts against the back-off
//! schedule, and bit-for-bit replay from a seed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

mod common;

use common::{builders, ident};
use rtcwire_dtls::{Certificate, ConfigBuilder, Connection, Error, Event};
use rtcwire_proto::SeededRng;
use rtcwire_sim::{DropCause, Host, LinkConfig, Loss, Sim};
use std::sync::Arc;
use std::time::Duration;

struct Pair {
    sim: Sim,
    client: Host<Connection>,
    server: Host<Connection>,
}

fn pair(sim: Sim, cb: ConfigBuilder, sb: ConfigBuilder, link: LinkConfig, seed: u64) -> Pair {
    let mut sim = sim;
    let client = Connection::client(
        Arc::new(cb.build().unwrap()),
        Box::new(SeededRng::new(seed)),
        sim.now(),
    );
    let server = Connection::server(
        Arc::new(sb.build().unwrap()),
        Box::new(SeededRng::new(!seed)),
    );
    let client = sim.add_host("10.0.0.1:5000".parse().unwrap(), client);
    let server = sim.add_host("10.0.0.2:5000".parse().unwrap(), server);
    sim.link(client, server, link);
    Pair {
        sim,
        client,
        server,
    }
}

fn connected(sim: &Sim, h: Host<Connection>) -> bool {
    sim.events(h)
        .iter()
        .any(|e| matches!(e, Event::Connected { .. }))
}

fn failed(sim: &Sim, h: Host<Connection>) -> Option<Error> {
    sim.events(h).iter().find_map(|e| match e {
        Event::Error(e) => Some(e.clone()),
        _ => None,
    })
}

fn hostile() -> LinkConfig {
    LinkConfig::with_delay(Duration::from_millis(20))
        .loss(Loss::Random(0.3))
        .duplicate(0.2)
        .reorder(0.3, Duration::from_millis(30))
}

fn fast(b: ConfigBuilder) -> ConfigBuilder {
    b.initial_retransmit_timeout(Duration::from_millis(100))
        .handshake_timeout(Duration::from_secs(60))
}

/// Under 30 % loss a handshake needs luck on every flight; give it simulated time (which
/// costs nothing) so that every seed must complete.
fn patient(b: ConfigBuilder) -> ConfigBuilder {
    fast(b).handshake_timeout(Duration::from_secs(600))
}

/// k timer retransmissions of one flight take 100·(2^k − 1) ms at least.
fn max_retransmissions(elapsed: Duration, flights: u64) -> u64 {
    let per_flight = ((elapsed.as_millis() as f64 / 100.0) + 1.0).log2().floor() as u64;
    flights * per_flight
}

#[test]
fn handshake_completes_on_sim_under_30_percent_loss_duplication_reordering() {
    let (c, s) = ident();
    for seed in 0..20u64 {
        let (cb, sb) = builders(&c, &s);
        let mut p = pair(
            Sim::builder(seed).exact_seed().build(),
            patient(cb),
            patient(sb),
            hostile(),
            seed,
        );
        let (client, server) = (p.client, p.server);
        let outcome = p.sim.run_until(
            |s| (connected(s, client) && connected(s, server)) || failed(s, client).is_some(),
            Duration::from_secs(700),
        );
        assert!(
            connected(&p.sim, client) && connected(&p.sim, server),
            "seed {seed}: {outcome}, client error {:?}\n{}",
            failed(&p.sim, client),
            p.sim.report()
        );
        let (ce, se) = (p.sim.endpoint(client), p.sim.endpoint(server));
        assert_eq!(
            ce.export_keying_material(b"EXTRACTOR-dtls_srtp", 60),
            se.export_keying_material(b"EXTRACTOR-dtls_srtp", 60)
        );
        assert!(p.sim.stats().dropped(DropCause::Loss) > 0 || p.sim.stats().duplicated > 0);
        let bound = max_retransmissions(p.sim.elapsed(), 3);
        assert!(
            ce.stats().timeout_retransmissions <= bound,
            "seed {seed}: {} > {bound} in {:?}",
            ce.stats().timeout_retransmissions,
            p.sim.elapsed()
        );
        assert!(se.stats().timeout_retransmissions <= max_retransmissions(p.sim.elapsed(), 1));
    }
}

fn big_certificate() -> Certificate {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let names: Vec<String> = (0..40).map(|i| format!("host-{i}.example.org")).collect();
    let cert = rcgen::CertificateParams::new(names)
        .unwrap()
        .self_signed(&key)
        .unwrap();
    Certificate::from_der(cert.der().to_vec(), key.serialize_der())
}

#[test]
fn mtu_576_link_with_fragmented_certificates() {
    let (c, s) = (big_certificate(), big_certificate());
    assert!(c.der().len() > 1000);
    let (cb, sb) = builders(&c, &s);
    let link = LinkConfig::with_delay(Duration::from_millis(10))
        .mtu(576)
        .loss(Loss::Random(0.1));
    let mut p = pair(Sim::new(3), fast(cb).mtu(576), fast(sb).mtu(576), link, 3);
    let (client, server) = (p.client, p.server);
    let outcome = p.sim.run_until(
        |s| connected(s, client) && connected(s, server),
        Duration::from_secs(60),
    );
    assert!(outcome.is_done(), "{outcome}\n{}", p.sim.report());
    assert_eq!(
        p.sim.stats().dropped(DropCause::Mtu),
        0,
        "every datagram fits the link"
    );

    // Control: the same certificates with our default 1200-byte datagrams never get through.
    let (cb, sb) = builders(&c, &s);
    let link = LinkConfig::with_delay(Duration::from_millis(10)).mtu(576);
    let mut p = pair(
        Sim::new(3),
        fast(cb).handshake_timeout(Duration::from_secs(5)),
        fast(sb),
        link,
        3,
    );
    let (client, server) = (p.client, p.server);
    let _ = p
        .sim
        .run_until(|s| failed(s, client).is_some(), Duration::from_secs(10));
    assert!(!connected(&p.sim, server));
    assert!(p.sim.stats().dropped(DropCause::Mtu) > 0);
    assert_eq!(failed(&p.sim, client), Some(Error::HandshakeTimeout));
}

#[test]
fn same_seed_same_transcript_on_sim() {
    let (c, s) = ident();
    let run = |seed: u64| {
        let (cb, sb) = builders(&c, &s);
        let sim = Sim::builder(seed).exact_seed().capture(true).build();
        let mut p = pair(
            sim,
            fast(cb).deterministic_keys(true),
            fast(sb).deterministic_keys(true),
            hostile(),
            seed,
        );
        let (client, server) = (p.client, p.server);
        let _ = p.sim.run_until(
            |s| connected(s, client) && connected(s, server),
            Duration::from_secs(90),
        );
        (p.sim.pcap_bytes().unwrap(), *p.sim.stats())
    };
    let (a, sa) = run(11);
    let (b, sb) = run(11);
    assert!(a.len() > 1000);
    assert!(a == b, "same seed, different capture");
    assert_eq!(sa, sb);
    let (c2, _) = run(12);
    assert!(a != c2);
}
