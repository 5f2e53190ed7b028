//! Handshakes over a hostile network: loss, reordering, duplication, a small MTU, and
//! determinism. Driven by the small deterministic in-memory wire in `common` (virtual
//! clock, seeded loss/duplication/reordering).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

mod common;

use common::*;
use rtcwire_dtls::record::{ContentType, Records};
use std::time::{Duration, Instant};

#[test]
fn handshake_completes_under_30_percent_loss_reordering_and_duplication() {
    // Under 30 % loss each way a round trip succeeds about half the time, so with back-off
    // from 100 ms and a 60 s deadline a handshake still fails now and then (about 1 % of
    // seeds): require nearly all to connect, and every failure to be the deadline.
    let (c, s) = ident();
    let mut failed = Vec::new();
    for seed in 0..40u64 {
        let now = Instant::now();
        let (cb, sb) = builders(&c, &s);
        let cb = cb
            .initial_retransmit_timeout(Duration::from_millis(100))
            .handshake_timeout(Duration::from_secs(60));
        let sb = sb
            .initial_retransmit_timeout(Duration::from_millis(100))
            .handshake_timeout(Duration::from_secs(60));
        let (mut client, mut server) = endpoints(cb, sb, seed, now);
        let net = Net {
            loss: 0.3,
            duplicate: 0.2,
            reorder: 0.3,
            delay: Duration::from_millis(20),
            seed,
        };
        let o = run(&mut client, &mut server, now, net, Duration::from_secs(120));
        if !Outcome::connected(&o.client_events) {
            assert_eq!(
                Outcome::error(&o.client_events),
                Some(&rtcwire_dtls::Error::HandshakeTimeout)
            );
            failed.push(seed);
            continue;
        }
        assert!(
            Outcome::connected(&o.server_events),
            "seed {seed}: {:?}",
            o.server_events
        );
        assert_eq!(
            client.export_keying_material(b"EXTRACTOR-dtls_srtp", 56),
            server.export_keying_material(b"EXTRACTOR-dtls_srtp", 56)
        );
        // Back-off: a flight retransmitted k times on timer has waited 100·(2^k − 1) ms, so
        // k ≤ log2(elapsed/100 ms + 1); the client has three timed flights (two hellos and
        // flight 5).
        let elapsed_ms = o.elapsed.as_millis() as f64;
        let per_flight = ((elapsed_ms / 100.0) + 1.0).log2().floor() as u64;
        let st = client.stats();
        assert!(
            st.timeout_retransmissions <= 3 * per_flight,
            "seed {seed}: {} timer retransmissions in {elapsed_ms} ms",
            st.timeout_retransmissions
        );
    }
    assert!(failed.len() <= 2, "failed seeds: {failed:?}");
}

#[test]
fn mtu_576_fragments_the_certificate_flight_and_connects_under_loss() {
    // A certificate of about 1.3 kB (many subject names) cannot fit one 576-byte datagram.
    let big = || {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let names: Vec<String> = (0..40).map(|i| format!("host-{i}.example.org")).collect();
        let cert = rcgen::CertificateParams::new(names)
            .unwrap()
            .self_signed(&key)
            .unwrap();
        assert!(cert.der().len() > 1000);
        rtcwire_dtls::Certificate::from_der(cert.der().to_vec(), key.serialize_der())
    };
    let (c, s) = (big(), big());
    let now = Instant::now();
    let (cb, sb) = builders(&c, &s);
    let (cb, sb) = (
        cb.mtu(576)
            .initial_retransmit_timeout(Duration::from_millis(100)),
        sb.mtu(576)
            .initial_retransmit_timeout(Duration::from_millis(100)),
    );
    let (mut client, mut server) = endpoints(cb, sb, 21, now);
    let net = Net {
        loss: 0.1,
        duplicate: 0.1,
        reorder: 0.3,
        delay: Duration::from_millis(5),
        seed: 21,
    };
    let o = run(&mut client, &mut server, now, net, Duration::from_secs(30));
    assert!(Outcome::connected(&o.client_events) && Outcome::connected(&o.server_events));
    assert!(o.max_datagram <= 576, "{}", o.max_datagram);
    // Some handshake record carries a fragment that does not start at offset 0.
    let fragmented = o.transcript.iter().any(|(_, _, _, d)| {
        Records::new(d).any(|r| {
            r.header.content_type == ContentType::Handshake
                && r.header.epoch == 0
                && r.fragment.len() >= 12
                && r.fragment[6..9] != [0, 0, 0]
        })
    });
    assert!(fragmented, "flight 4 should not fit 576 bytes unfragmented");
}

#[test]
fn same_seed_same_transcript_other_seed_other_transcript() {
    let (c, s) = ident();
    let now = Instant::now();
    let go = |seed: u64| {
        let (cb, sb) = builders(&c, &s);
        let (cb, sb) = (
            cb.deterministic_keys(true)
                .initial_retransmit_timeout(Duration::from_millis(100)),
            sb.deterministic_keys(true)
                .initial_retransmit_timeout(Duration::from_millis(100)),
        );
        let (mut client, mut server) = endpoints(cb, sb, seed, now);
        let net = Net {
            loss: 0.3,
            duplicate: 0.2,
            reorder: 0.3,
            delay: Duration::from_millis(20),
            seed,
        };
        let o = run(&mut client, &mut server, now, net, Duration::from_secs(60));
        assert!(Outcome::connected(&o.client_events), "seed {seed}");
        o.transcript
    };
    let a = go(5);
    let b = go(5);
    assert_eq!(a.len(), b.len());
    assert!(a == b, "same seed must replay bit for bit");
    assert!(go(7) != a);
}
