//! DTLS 1.3 handshake CPU (client + server, in memory, mutual ECDSA P-256 authentication,
//! TLS_AES_128_GCM_SHA256): ours with X25519 and with X25519MLKEM768, our DTLS 1.2 with
//! P-256 beside them, the primitives such a handshake cannot avoid, and dimpl (str0m's DTLS
//! 1.3, X25519, its pure-Rust crypto provider) doing the same handshake with itself.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

use criterion::{criterion_group, criterion_main, Criterion};
use libcrux_ml_kem::mlkem768;
use ring::{agreement, rand::SystemRandom, signature};
use rtcwire_bench_dtls::{configs, configs13};
use rtcwire_dtls::{Certificate, Config, Connection, Event, NamedGroup, SystemRng};
use rtcwire_proto::{Datagram, SansIo};
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One handshake of ours, in memory; returns the number of Connected events (2).
fn ours(client_cfg: &Arc<Config>, server_cfg: &Arc<Config>) -> usize {
    let now = Instant::now();
    let mut c = Connection::client(client_cfg.clone(), Box::new(SystemRng::new()), now);
    let mut s = Connection::server(server_cfg.clone(), Box::new(SystemRng::new()));
    let mut buf = Vec::with_capacity(1500);
    let mut connected = 0;
    for _ in 0..16 {
        let mut moved = false;
        while let Some(t) = c.poll_transmit(now, &mut buf) {
            moved = true;
            let _ = s.handle_read(now, Datagram::on_path(&buf[..t.size]));
            buf.clear();
        }
        while let Some(t) = s.poll_transmit(now, &mut buf) {
            moved = true;
            let _ = c.handle_read(now, Datagram::on_path(&buf[..t.size]));
            buf.clear();
        }
        for ep in [&mut c, &mut s] {
            while let Some(e) = ep.poll_event() {
                connected += usize::from(matches!(e, Event::Connected { .. }));
            }
        }
        if !moved {
            break;
        }
    }
    connected
}

fn dimpl_cert(c: &Certificate) -> dimpl::DtlsCertificate {
    dimpl::DtlsCertificate {
        certificate: c.der().to_vec(),
        private_key: c.private_key_pkcs8().to_vec(),
    }
}

/// One dimpl ↔ dimpl DTLS 1.3 handshake in memory; returns whether both connected.
fn dimpl_pair(cfg: &Arc<dimpl::Config>, a: &Certificate, b: &Certificate) -> bool {
    let now = Instant::now();
    let mut client = dimpl::Dtls::new_13(cfg.clone(), dimpl_cert(a), now);
    client.set_active(true);
    let mut server = dimpl::Dtls::new_13(cfg.clone(), dimpl_cert(b), now);
    client.handle_timeout(now).unwrap();
    server.handle_timeout(now).unwrap();
    let mut buf = vec![0u8; 2048];
    let (mut cc, mut sc) = (false, false);
    let mut t = now;
    for _ in 0..32 {
        let mut moved = false;
        let mut out = Vec::new();
        loop {
            match client.poll_output(&mut buf) {
                dimpl::Output::Packet(p) => out.push(p.to_vec()),
                dimpl::Output::Connected => cc = true,
                dimpl::Output::Timeout(_) => break,
                _ => {}
            }
        }
        for p in out.drain(..) {
            moved = true;
            let _ = server.handle_packet(&p);
        }
        loop {
            match server.poll_output(&mut buf) {
                dimpl::Output::Packet(p) => out.push(p.to_vec()),
                dimpl::Output::Connected => sc = true,
                dimpl::Output::Timeout(_) => break,
                _ => {}
            }
        }
        for p in out.drain(..) {
            moved = true;
            let _ = client.handle_packet(&p);
        }
        if cc && sc {
            break;
        }
        if !moved {
            t += Duration::from_millis(10);
            let _ = client.handle_timeout(t);
            let _ = server.handle_timeout(t);
        }
    }
    cc && sc
}

/// What any mutually authenticated ECDHE handshake must compute, on ring: two key pairs
/// and agreements in `alg`, two ECDSA P-256 signatures and two verifications; with
/// `mlkem`, one ML-KEM-768 key generation, encapsulation and decapsulation too.
struct Primitives {
    rng: SystemRandom,
    key: signature::EcdsaKeyPair,
    msg: Vec<u8>,
}

impl Primitives {
    fn new() -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = signature::EcdsaKeyPair::generate_pkcs8(
            &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            &rng,
        )
        .unwrap();
        let key = signature::EcdsaKeyPair::from_pkcs8(
            &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            pkcs8.as_ref(),
            &rng,
        )
        .unwrap();
        Primitives {
            rng,
            key,
            msg: vec![7u8; 130],
        }
    }

    fn run(&self, alg: &'static agreement::Algorithm, mlkem: bool) {
        let a = agreement::EphemeralPrivateKey::generate(alg, &self.rng).unwrap();
        let b = agreement::EphemeralPrivateKey::generate(alg, &self.rng).unwrap();
        let (pa, pb) = (
            a.compute_public_key().unwrap(),
            b.compute_public_key().unwrap(),
        );
        let ka = agreement::agree_ephemeral(
            a,
            &agreement::UnparsedPublicKey::new(alg, pb.as_ref()),
            |k| k[0],
        )
        .unwrap();
        let kb = agreement::agree_ephemeral(
            b,
            &agreement::UnparsedPublicKey::new(alg, pa.as_ref()),
            |k| k[0],
        )
        .unwrap();
        assert_eq!(ka, kb);
        if mlkem {
            let kp = mlkem768::generate_key_pair([5u8; 64]);
            let ek =
                mlkem768::MlKem768PublicKey::try_from(&kp.public_key().as_slice()[..]).unwrap();
            assert!(mlkem768::validate_public_key(&ek));
            let (ct, ss) = mlkem768::encapsulate(&ek, [6u8; 32]);
            assert_eq!(mlkem768::decapsulate(kp.private_key(), &ct), ss);
        }
        use signature::KeyPair;
        let pk = signature::UnparsedPublicKey::new(
            &signature::ECDSA_P256_SHA256_ASN1,
            self.key.public_key().as_ref().to_vec(),
        );
        for _ in 0..2 {
            let sig = self.key.sign(&self.rng, &self.msg).unwrap();
            pk.verify(&self.msg, sig.as_ref()).unwrap();
        }
    }
}

fn handshake13(c: &mut Criterion) {
    let (x_c, x_s, ..) = configs13(NamedGroup::X25519);
    let (h_c, h_s, ..) = configs13(NamedGroup::X25519MlKem768);
    let (p_c, p_s) = configs();
    assert_eq!(ours(&x_c, &x_s), 2);
    assert_eq!(ours(&h_c, &h_s), 2);
    assert_eq!(ours(&p_c, &p_s), 2);
    let dcfg = Arc::new(dimpl::Config::builder().build().unwrap());
    let (da, db) = (
        Certificate::generate_self_signed().unwrap(),
        Certificate::generate_self_signed().unwrap(),
    );
    assert!(dimpl_pair(&dcfg, &da, &db));
    let prim = Primitives::new();
    c.bench_function("dtls13/handshake/rtcwire 1.3 X25519", |b| {
        b.iter(|| black_box(ours(&x_c, &x_s)))
    });
    c.bench_function("dtls13/handshake/rtcwire 1.3 X25519MLKEM768", |b| {
        b.iter(|| black_box(ours(&h_c, &h_s)))
    });
    c.bench_function("dtls13/handshake/rtcwire 1.2 P-256", |b| {
        b.iter(|| black_box(ours(&p_c, &p_s)))
    });
    c.bench_function("dtls13/handshake/dimpl 1.3 X25519 (rust-crypto)", |b| {
        b.iter(|| black_box(dimpl_pair(&dcfg, &da, &db)))
    });
    rtcwire_bench_support::ratios(
        "DTLS handshake, client+server CPU (mutual ECDSA P-256)",
        &mut [
            ("rtcwire 1.3 X25519", &mut || {
                black_box(ours(&x_c, &x_s));
            }),
            ("primitives: X25519 x2, 2 sign, 2 verify", &mut || {
                prim.run(&agreement::X25519, false)
            }),
            ("rtcwire 1.3 X25519MLKEM768", &mut || {
                black_box(ours(&h_c, &h_s));
            }),
            ("primitives: + ML-KEM-768 keygen/encaps/decaps", &mut || {
                prim.run(&agreement::X25519, true)
            }),
            ("rtcwire 1.2 P-256", &mut || {
                black_box(ours(&p_c, &p_s));
            }),
            ("primitives: P-256 x2, 2 sign, 2 verify", &mut || {
                prim.run(&agreement::ECDH_P256, false)
            }),
            ("dimpl 0.6 1.3 X25519 (rust-crypto provider)", &mut || {
                black_box(dimpl_pair(&dcfg, &da, &db));
            }),
        ],
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(3));
    targets = handshake13
}
criterion_main!(benches);
