//! DTLS costs, ours next to the alternatives, in the same run:
//!
//! - one full handshake (client + server CPU, in memory, mutual ECDSA P-256 authentication,
//!   ECDHE P-256, AES-128-GCM) against webrtc-rs `dtls` 0.17 and against the ring primitives
//!   any such handshake needs (2 × P-256 keygen + ECDH, 2 ECDSA signatures, 2 verifications);
//! - one 1200-byte record of application data through two connected `Connection`s
//!   (`write` → `poll_transmit` → `handle_read` → `poll_event`), next to the record layer
//!   alone (in place, and copying in and out) and ring's raw AES-128-GCM.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

use criterion::{criterion_group, criterion_main, Criterion};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM};
use ring::{agreement, rand::SystemRandom, signature};
use rtcwire_bench_dtls::{configs, connected_pair};
use rtcwire_dtls::record::{ContentType, Protection, Records};
use rtcwire_dtls::{BulkCipher, Config, Connection, Event, SystemRng};
use rtcwire_proto::{Datagram, SansIo};
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

/// One handshake of ours, in memory; returns the number of Connected events (2).
fn ours(client_cfg: &Arc<Config>, server_cfg: &Arc<Config>) -> usize {
    let now = Instant::now();
    let mut c = Connection::client(client_cfg.clone(), Box::new(SystemRng::new()), now);
    let mut s = Connection::server(server_cfg.clone(), Box::new(SystemRng::new()));
    let addr = "127.0.0.1:1".parse().unwrap();
    let mut buf = Vec::with_capacity(1500);
    let mut connected = 0;
    for _ in 0..16 {
        let mut moved = false;
        while let Some(t) = c.poll_transmit(now, &mut buf) {
            moved = true;
            let _ = s.handle_read(now, Datagram::udp(addr, addr, &buf[..t.size]));
            buf.clear();
        }
        while let Some(t) = s.poll_transmit(now, &mut buf) {
            moved = true;
            let _ = c.handle_read(now, Datagram::udp(addr, addr, &buf[..t.size]));
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

/// One webrtc-rs handshake over its in-memory pipe.
fn theirs(
    rt: &tokio::runtime::Runtime,
    cc: &dtls::crypto::Certificate,
    sc: &dtls::crypto::Certificate,
) {
    use dtls::config::{ClientAuthType, Config as WConfig, ExtendedMasterSecretType};
    use dtls::conn::DTLSConn;
    use dtls::extension::extension_use_srtp::SrtpProtectionProfile;
    use webrtc_util::conn::conn_pipe::pipe;
    rt.block_on(async {
        let (ca, cb) = pipe();
        let cfg = |cert: &dtls::crypto::Certificate, server: bool| WConfig {
            certificates: vec![cert.clone()],
            insecure_skip_verify: true,
            extended_master_secret: ExtendedMasterSecretType::Require,
            client_auth: if server {
                ClientAuthType::RequireAnyClientCert
            } else {
                ClientAuthType::NoClientCert
            },
            srtp_protection_profiles: vec![SrtpProtectionProfile::Srtp_Aead_Aes_128_Gcm],
            cipher_suites: vec![
                dtls::cipher_suite::CipherSuiteId::Tls_Ecdhe_Ecdsa_With_Aes_128_Gcm_Sha256,
            ],
            ..Default::default()
        };
        let (ccfg, scfg) = (cfg(cc, false), cfg(sc, true));
        let client =
            tokio::spawn(async move { DTLSConn::new(Arc::new(ca), ccfg, true, None).await });
        let server = DTLSConn::new(Arc::new(cb), scfg, false, None)
            .await
            .unwrap();
        let client = client.await.unwrap().unwrap();
        let _ = client.close().await;
        let _ = server.close().await;
    });
}

/// What any ECDHE-ECDSA mutual-auth handshake must compute, straight from ring.
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
            msg: vec![7u8; 2000],
        }
    }

    fn run(&self) {
        let a = agreement::EphemeralPrivateKey::generate(&agreement::ECDH_P256, &self.rng).unwrap();
        let b = agreement::EphemeralPrivateKey::generate(&agreement::ECDH_P256, &self.rng).unwrap();
        let (pa, pb) = (
            a.compute_public_key().unwrap(),
            b.compute_public_key().unwrap(),
        );
        let ka = agreement::agree_ephemeral(
            a,
            &agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, pb.as_ref()),
            |k| k[0],
        )
        .unwrap();
        let kb = agreement::agree_ephemeral(
            b,
            &agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, pa.as_ref()),
            |k| k[0],
        )
        .unwrap();
        assert_eq!(ka, kb);
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

fn handshake(c: &mut Criterion) {
    let (cc, sc) = configs();
    assert_eq!(ours(&cc, &sc), 2);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let wc = dtls::crypto::Certificate::generate_self_signed(vec!["a".to_owned()]).unwrap();
    let ws = dtls::crypto::Certificate::generate_self_signed(vec!["b".to_owned()]).unwrap();
    let prim = Primitives::new();
    c.bench_function("dtls/handshake/rtcwire", |b| {
        b.iter(|| black_box(ours(&cc, &sc)))
    });
    c.bench_function("dtls/handshake/webrtc-rs dtls 0.17", |b| {
        b.iter(|| theirs(&rt, &wc, &ws))
    });
    c.bench_function("dtls/handshake/ring primitives", |b| b.iter(|| prim.run()));
    rtcwire_bench_support::ratios(
        "dtls full handshake, client+server CPU (ECDHE P-256, ECDSA P-256 both ways)",
        &mut [
            ("rtcwire-dtls", &mut || {
                black_box(ours(&cc, &sc));
            }),
            ("ring primitives (2 kx, 2 sign, 2 verify)", &mut || {
                prim.run()
            }),
            ("webrtc-rs dtls 0.17", &mut || theirs(&rt, &wc, &ws)),
        ],
    );
}

fn record(c: &mut Criterion) {
    let key = [3u8; 16];
    let iv = [4u8; 4];
    let p = Protection::new(BulkCipher::Aes128Gcm, &key, &iv).unwrap();
    let payload = vec![0x5au8; 1200];
    let mut out = Vec::with_capacity(1300);
    let mut scratch = Vec::with_capacity(1300);
    let mut seq = 0u64;
    let mut ours = || {
        out.clear();
        seq += 1;
        p.seal(ContentType::ApplicationData, 1, seq, &payload, &mut out)
            .unwrap();
        let rec = Records::new(&out).next().unwrap();
        scratch.clear();
        scratch.extend_from_slice(rec.fragment);
        let plain = p.open(&rec.header, &mut scratch).unwrap();
        black_box(plain.len());
    };
    let raw = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &key).unwrap());
    let mut buf = payload.clone();
    let mut n = 0u64;
    let mut raw_gcm = || {
        n += 1;
        let mut nonce = [0u8; 12];
        nonce[4..].copy_from_slice(&n.to_be_bytes());
        buf.truncate(1200);
        let tag = raw
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from([0u8; 13]),
                &mut buf,
            )
            .unwrap();
        buf.extend_from_slice(tag.as_ref());
        let plain = raw
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from([0u8; 13]),
                &mut buf,
            )
            .unwrap();
        black_box(plain.len());
    };
    // The same record layer with the caller owning the buffer: seal and open in place, as
    // a driver that receives into its own buffer can.
    let mut rec = Vec::with_capacity(1300);
    rec.resize(p.prefix_len(), 0);
    rec.extend_from_slice(&payload);
    let mut seq2 = 0u64;
    let mut in_place = || {
        seq2 += 1;
        rec.truncate(p.prefix_len() + 1200);
        p.seal_in_place(ContentType::ApplicationData, 1, seq2, &mut rec, 0)
            .unwrap();
        let header = Records::new(&rec).next().unwrap().header;
        let plain = p.open(&header, &mut rec[13..]).unwrap();
        black_box(plain.len());
    };
    // The full application-data path of two connected connections, the way a driver runs
    // it: write, poll_transmit into one lent buffer, handle_read, poll_event.
    let (cc, sc) = configs();
    let (mut client, mut server) = connected_pair(&cc, &sc);
    let addr = "127.0.0.1:1".parse().unwrap();
    let now = Instant::now();
    let mut lent = Vec::with_capacity(1500);
    let mut connection = || {
        client.write(&payload).unwrap();
        let t = client.poll_transmit(now, &mut lent).unwrap();
        server
            .handle_read(now, Datagram::udp(addr, addr, &lent[..t.size]))
            .unwrap();
        lent.clear();
        match server.poll_event() {
            Some(Event::ApplicationData(d)) => {
                black_box(d.len());
            }
            other => panic!("expected application data, got {other:?}"),
        }
    };
    // The same with SCTP's way in (`send_with`: the packet is written straight into the
    // record) and the receiver handing the plaintext buffer back (`Connection::recycle`), so
    // that no record allocates.
    let (mut client2, mut server2) = connected_pair(&cc, &sc);
    let mut lent2 = Vec::with_capacity(1500);
    let mut recycled = || {
        client2
            .send_with(1200, |room| {
                room[0] = 0x5a;
                room.len()
            })
            .unwrap();
        let t = client2.poll_transmit(now, &mut lent2).unwrap();
        server2
            .handle_read(now, Datagram::udp(addr, addr, &lent2[..t.size]))
            .unwrap();
        lent2.clear();
        match server2.poll_event() {
            Some(Event::ApplicationData(d)) => {
                black_box(d.len());
                server2.recycle(d);
            }
            other => panic!("expected application data, got {other:?}"),
        }
    };
    // The zero-copy path a session takes: SCTP's packet already lies in the datagram buffer
    // after the record prefix, `seal_in_place` writes the header and seals it there, and the
    // receiver opens it where it landed (`handle_read_in_place` hands back the plaintext's
    // range). The plaintext the receiver leaves in place is the next record's input, as in
    // the raw benchmark below.
    let (mut client3, mut server3) = connected_pair(&cc, &sc);
    let prefix = client3.record_prefix_len();
    let mut wire = Vec::with_capacity(1500);
    wire.resize(prefix, 0);
    wire.extend_from_slice(&payload);
    let mut zero_copy = || {
        wire.truncate(prefix + 1200);
        client3.seal_in_place(&mut wire, 0).unwrap();
        let range = server3
            .handle_read_in_place(now, &mut wire)
            .unwrap()
            .unwrap();
        black_box(range.len());
    };
    zero_copy();
    recycled();
    connection();
    c.bench_function(
        "dtls/record 1200 B seal+open/rtcwire Connection in place",
        |b| b.iter(&mut zero_copy),
    );
    c.bench_function(
        "dtls/record 1200 B seal+open/rtcwire Connection write→read",
        |b| b.iter(&mut connection),
    );
    c.bench_function(
        "dtls/record 1200 B seal+open/rtcwire Connection send_with, buffers recycled",
        |b| b.iter(&mut recycled),
    );
    c.bench_function("dtls/record 1200 B seal+open/rtcwire (copying)", |b| {
        b.iter(&mut ours)
    });
    c.bench_function("dtls/record 1200 B seal+open/rtcwire (in place)", |b| {
        b.iter(&mut in_place)
    });
    c.bench_function("dtls/record 1200 B seal+open/ring AES-128-GCM", |b| {
        b.iter(&mut raw_gcm)
    });
    rtcwire_bench_support::ratios(
        "dtls record, 1200-byte AES-128-GCM seal + open",
        &mut [
            (
                "rtcwire-dtls Connection in place (seal_in_place → handle_read_in_place)",
                &mut zero_copy,
            ),
            ("rtcwire-dtls Connection write→poll_event", &mut connection),
            ("rtcwire-dtls Connection send_with + recycle", &mut recycled),
            ("rtcwire-dtls record, in place", &mut in_place),
            ("rtcwire-dtls record, copying in and out", &mut ours),
            ("ring raw AES-128-GCM", &mut raw_gcm),
        ],
    );
}

criterion_group!(benches, handshake, record);
criterion_main!(benches);
