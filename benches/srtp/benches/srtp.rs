//! SRTP protect and unprotect of a 1200-octet payload, per profile: rtcwire-srtp side by side
//! with webrtc-rs's `webrtc-srtp` 0.17 and `rtc-srtp` 0.21 (ring provider), and with the raw
//! primitives over the same bytes — ring's AES-GCM seal/open, and AES-CTR + HMAC-SHA1 — which
//! is the floor any SRTP implementation stands on.
//!
//! Criterion measures each candidate; `ratios` then prints protect side by side. Unprotect
//! needs a fresh packet each time (rtcwire's replay protection cannot be turned off), so both
//! criterion and the unprotect ratio table make the packets in an untimed step.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::large_enum_variant
)]

use std::hint::black_box;

use aes::cipher::generic_array::GenericArray;
use aes::cipher::{InnerIvInit, KeyInit, StreamCipher};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use hmac::{Hmac, Mac};
use rtcwire_bench_support::ratios;
use rtcwire_srtp::{Config, Context, SrtpProfile};

const PAYLOAD: usize = 1200;
const HEADER: usize = 12;
const SSRC: u32 = 0xcafe_babe;

fn rtp_packet(seq: u16) -> Vec<u8> {
    let mut p = vec![0x80, 96];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&(u32::from(seq) * 3000).to_be_bytes());
    p.extend_from_slice(&SSRC.to_be_bytes());
    p.extend((0..PAYLOAD).map(|i| i as u8));
    p
}

fn set_seq(buf: &mut [u8], seq: u16) {
    buf[2..4].copy_from_slice(&seq.to_be_bytes());
}

fn keys(profile: SrtpProfile) -> (Vec<u8>, Vec<u8>) {
    let key = (0..profile.master_key_len() as u8)
        .map(|i| i * 7 + 1)
        .collect();
    let salt = (0..profile.master_salt_len() as u8)
        .map(|i| i * 13 + 5)
        .collect();
    (key, salt)
}

// ---- rtcwire ------------------------------------------------------------------------------

struct Ours {
    tx: Context,
    rx: Context,
    buf: Vec<u8>,
    seq: u16,
}

impl Ours {
    fn new(profile: SrtpProfile) -> Self {
        let (key, salt) = keys(profile);
        let tx = Context::new(profile, &key, &salt, Config::default()).unwrap();
        let rx = Context::new(profile, &key, &salt, Config::default()).unwrap();
        let mut buf = rtp_packet(0);
        buf.resize(HEADER + PAYLOAD + 16, 0);
        Ours {
            tx,
            rx,
            buf,
            seq: 0,
        }
    }

    /// Protects the packet in place (the payload it encrypts is whatever the buffer holds).
    fn protect(&mut self) -> usize {
        self.seq = self.seq.wrapping_add(1);
        set_seq(&mut self.buf, self.seq);
        self.tx
            .protect_rtp(&mut self.buf, HEADER + PAYLOAD)
            .unwrap()
    }
}

// ---- raw primitives -------------------------------------------------------------------------

enum Raw {
    Gcm(ring::aead::LessSafeKey),
    Cm {
        aes: Box<CmAes>,
        mac: Hmac<sha1::Sha1>,
        tag: usize,
    },
}

fn raw_buf() -> Vec<u8> {
    let mut buf = rtp_packet(1);
    buf.resize(HEADER + PAYLOAD + 16, 0);
    buf
}

enum CmAes {
    A128(aes::Aes128Enc),
    A256(aes::Aes256Enc),
}

impl CmAes {
    fn apply(&self, iv: &[u8; 16], data: &mut [u8]) {
        let iv = GenericArray::from_slice(iv);
        match self {
            CmAes::A128(k) => ctr::Ctr128BE::from_core(ctr::CtrCore::inner_iv_init(k.clone(), iv))
                .apply_keystream(data),
            CmAes::A256(k) => ctr::Ctr128BE::from_core(ctr::CtrCore::inner_iv_init(k.clone(), iv))
                .apply_keystream(data),
        }
    }
}

impl Raw {
    fn new(profile: SrtpProfile) -> Self {
        let key = vec![0x5a; profile.master_key_len()];
        if profile.is_aead() {
            let alg = if key.len() == 16 {
                &ring::aead::AES_128_GCM
            } else {
                &ring::aead::AES_256_GCM
            };
            let k = ring::aead::LessSafeKey::new(ring::aead::UnboundKey::new(alg, &key).unwrap());
            Raw::Gcm(k)
        } else {
            let aes = if key.len() == 16 {
                CmAes::A128(aes::Aes128Enc::new(GenericArray::from_slice(&key)))
            } else {
                CmAes::A256(aes::Aes256Enc::new(GenericArray::from_slice(&key)))
            };
            Raw::Cm {
                aes: Box::new(aes),
                mac: <Hmac<sha1::Sha1> as Mac>::new_from_slice(&[0x33; 20]).unwrap(),
                tag: profile.srtp_tag_len(),
            }
        }
    }

    fn seal(&self, buf: &mut [u8]) {
        match self {
            Raw::Gcm(k) => {
                let (head, rest) = buf.split_at_mut(HEADER);
                let (payload, tail) = rest.split_at_mut(PAYLOAD);
                let nonce = ring::aead::Nonce::assume_unique_for_key([7; 12]);
                let tag = k
                    .seal_in_place_separate_tag(nonce, ring::aead::Aad::from(&*head), payload)
                    .unwrap();
                tail[..16].copy_from_slice(tag.as_ref());
            }
            Raw::Cm { aes, mac, tag } => {
                aes.apply(&[9; 16], &mut buf[HEADER..HEADER + PAYLOAD]);
                let mut m = mac.clone();
                m.update(&buf[..HEADER + PAYLOAD]);
                m.update(&[0, 0, 0, 0]);
                let full = m.finalize().into_bytes();
                buf[HEADER + PAYLOAD..HEADER + PAYLOAD + *tag].copy_from_slice(&full[..*tag]);
            }
        }
    }

    fn open(&self, buf: &mut [u8]) {
        match self {
            Raw::Gcm(k) => {
                let (head, rest) = buf.split_at_mut(HEADER);
                let nonce = ring::aead::Nonce::assume_unique_for_key([7; 12]);
                let out = k
                    .open_in_place(
                        nonce,
                        ring::aead::Aad::from(&*head),
                        &mut rest[..PAYLOAD + 16],
                    )
                    .unwrap();
                black_box(out.len());
            }
            Raw::Cm { aes, mac, tag } => {
                let mut m = mac.clone();
                m.update(&buf[..HEADER + PAYLOAD]);
                m.update(&[0, 0, 0, 0]);
                let full = m.finalize().into_bytes();
                assert!(full[..*tag] == buf[HEADER + PAYLOAD..HEADER + PAYLOAD + *tag]);
                aes.apply(&[9; 16], &mut buf[HEADER..HEADER + PAYLOAD]);
            }
        }
    }
}

// ---- webrtc-rs --------------------------------------------------------------------------------

fn webrtc_profile(p: SrtpProfile) -> webrtc_srtp::protection_profile::ProtectionProfile {
    use webrtc_srtp::protection_profile::ProtectionProfile as W;
    match p {
        SrtpProfile::Aes128CmHmacSha1_80 => W::Aes128CmHmacSha1_80,
        SrtpProfile::Aes128CmHmacSha1_32 => W::Aes128CmHmacSha1_32,
        SrtpProfile::AeadAes128Gcm => W::AeadAes128Gcm,
        SrtpProfile::AeadAes256Gcm => W::AeadAes256Gcm,
        _ => W::Aes256CmHmacSha1_80,
    }
}

fn rtc_profile(p: SrtpProfile) -> rtc_srtp::protection_profile::ProtectionProfile {
    use rtc_srtp::protection_profile::ProtectionProfile as R;
    match p {
        SrtpProfile::Aes128CmHmacSha1_80 => R::Aes128CmHmacSha1_80,
        SrtpProfile::Aes128CmHmacSha1_32 => R::Aes128CmHmacSha1_32,
        SrtpProfile::AeadAes128Gcm => R::AeadAes128Gcm,
        SrtpProfile::AeadAes256Gcm => R::AeadAes256Gcm,
        _ => R::Aes256CmHmacSha1_80,
    }
}

fn webrtc_ctx(p: SrtpProfile) -> webrtc_srtp::context::Context {
    let (key, salt) = keys(p);
    webrtc_srtp::context::Context::new(&key, &salt, webrtc_profile(p), None, None).unwrap()
}

fn rtc_ctx(p: SrtpProfile) -> rtc_srtp::context::Context {
    let (key, salt) = keys(p);
    let provider = rtc_crypto::default_provider().unwrap();
    rtc_srtp::context::Context::new(&key, &salt, rtc_profile(p), None, None, provider.crypto())
        .unwrap()
}

const PROFILES: [SrtpProfile; 5] = [
    SrtpProfile::AeadAes128Gcm,
    SrtpProfile::AeadAes256Gcm,
    SrtpProfile::Aes128CmHmacSha1_80,
    SrtpProfile::Aes128CmHmacSha1_32,
    SrtpProfile::Aes256CmHmacSha1_80,
];

fn bench(c: &mut Criterion) {
    for profile in PROFILES {
        let name = profile.name();
        let mut g = c.benchmark_group(format!("srtp/{name}"));
        g.throughput(criterion::Throughput::Bytes(PAYLOAD as u64));

        let mut ours = Ours::new(profile);
        g.bench_function("protect/rtcwire", |b| b.iter(|| black_box(ours.protect())));
        let raw = Raw::new(profile);
        let mut rbuf = raw_buf();
        g.bench_function("protect/raw", |b| b.iter(|| raw.seal(&mut rbuf)));
        let mut w = webrtc_ctx(profile);
        let plain = rtp_packet(5);
        g.bench_function("protect/webrtc-srtp", |b| {
            b.iter(|| black_box(w.encrypt_rtp(black_box(&plain)).unwrap()))
        });
        let mut r = rtc_ctx(profile);
        g.bench_function("protect/rtc-srtp", |b| {
            b.iter(|| black_box(r.encrypt_rtp(black_box(&plain)).unwrap()))
        });

        // Unprotect: a fresh packet per iteration, made untimed.
        let mut ours = Ours::new(profile);
        let mut rx = Ours::new(profile).rx;
        g.bench_function("unprotect/rtcwire", |b| {
            b.iter_batched_ref(
                || {
                    let n = ours.protect();
                    ours.buf[..n].to_vec()
                },
                |pkt| black_box(rx.unprotect_rtp(pkt).unwrap()),
                BatchSize::SmallInput,
            )
        });
        let mut sealed = raw_buf();
        raw.seal(&mut sealed);
        g.bench_function("unprotect/raw", |b| {
            b.iter_batched_ref(
                || sealed.clone(),
                |buf| raw.open(buf),
                BatchSize::SmallInput,
            )
        });
        let mut wt = webrtc_ctx(profile);
        let mut wr = webrtc_ctx(profile);
        let mut seq = 0u16;
        g.bench_function("unprotect/webrtc-srtp", |b| {
            b.iter_batched(
                || {
                    seq = seq.wrapping_add(1);
                    wt.encrypt_rtp(&rtp_packet(seq)).unwrap()
                },
                |pkt| black_box(wr.decrypt_rtp(&pkt).unwrap()),
                BatchSize::SmallInput,
            )
        });
        let mut rt = rtc_ctx(profile);
        let mut rr = rtc_ctx(profile);
        let mut seq = 0u16;
        g.bench_function("unprotect/rtc-srtp", |b| {
            b.iter_batched(
                || {
                    seq = seq.wrapping_add(1);
                    rt.encrypt_rtp(&rtp_packet(seq)).unwrap()
                },
                |pkt| black_box(rr.decrypt_rtp(&pkt).unwrap()),
                BatchSize::SmallInput,
            )
        });
        g.finish();

        side_by_side(profile);
    }
    primitives();
}

/// The ratio tables: protect, then unprotect.
fn side_by_side(profile: SrtpProfile) {
    let name = profile.name();
    let raw_name = if profile.is_aead() {
        "raw ring AES-GCM seal"
    } else {
        "raw AES-CTR + HMAC-SHA1"
    };
    let mut ours = Ours::new(profile);
    let raw = Raw::new(profile);
    let mut rbuf = raw_buf();
    let mut w = webrtc_ctx(profile);
    let mut r = rtc_ctx(profile);
    let plain = rtp_packet(5);
    ratios(
        &format!("protect {name}, 1200 B"),
        &mut [
            ("rtcwire-srtp", &mut || {
                black_box(ours.protect());
            }),
            (raw_name, &mut || raw.seal(&mut rbuf)),
            ("rtc-srtp 0.21 (ring)", &mut || {
                black_box(r.encrypt_rtp(black_box(&plain)).unwrap());
            }),
            ("webrtc-srtp 0.17", &mut || {
                black_box(w.encrypt_rtp(black_box(&plain)).unwrap());
            }),
        ],
    );

    protect_batched(profile, raw_name);
    let raw_open = if profile.is_aead() {
        "raw ring AES-GCM open"
    } else {
        "raw HMAC-SHA1 verify + AES-CTR"
    };
    unprotect_ratios(profile, raw_open);
}

/// One candidate of the unprotect table: `prepare` makes a batch of protected packets
/// (untimed), `run` unprotects the whole batch (timed).
trait Batch {
    fn prepare(&mut self);
    fn run(&mut self);
}

const BATCH: usize = 64;

struct OursBatch {
    ours: Ours,
    rx: Context,
    packets: Vec<Vec<u8>>,
}

impl Batch for OursBatch {
    fn prepare(&mut self) {
        for p in &mut self.packets {
            let n = self.ours.protect();
            p.clear();
            p.extend_from_slice(&self.ours.buf[..n]);
        }
    }
    fn run(&mut self) {
        for p in &mut self.packets {
            black_box(self.rx.unprotect_rtp(p).unwrap());
        }
    }
}

struct RawBatch {
    raw: Raw,
    sealed: Vec<u8>,
    packets: Vec<Vec<u8>>,
}

impl Batch for RawBatch {
    fn prepare(&mut self) {
        for p in &mut self.packets {
            p.clear();
            p.extend_from_slice(&self.sealed);
        }
    }
    fn run(&mut self) {
        for p in &mut self.packets {
            self.raw.open(p);
        }
    }
}

struct RtcBatch {
    tx: rtc_srtp::context::Context,
    rx: rtc_srtp::context::Context,
    seq: u16,
    packets: Vec<bytes::BytesMut>,
}

impl Batch for RtcBatch {
    fn prepare(&mut self) {
        self.packets.clear();
        for _ in 0..BATCH {
            self.seq = self.seq.wrapping_add(1);
            self.packets
                .push(self.tx.encrypt_rtp(&rtp_packet(self.seq)).unwrap());
        }
    }
    fn run(&mut self) {
        for p in &self.packets {
            black_box(self.rx.decrypt_rtp(p).unwrap());
        }
    }
}

struct WebrtcBatch {
    tx: webrtc_srtp::context::Context,
    rx: webrtc_srtp::context::Context,
    seq: u16,
    packets: Vec<bytes::Bytes>,
}

impl Batch for WebrtcBatch {
    fn prepare(&mut self) {
        self.packets.clear();
        for _ in 0..BATCH {
            self.seq = self.seq.wrapping_add(1);
            self.packets
                .push(self.tx.encrypt_rtp(&rtp_packet(self.seq)).unwrap());
        }
    }
    fn run(&mut self) {
        for p in &self.packets {
            black_box(self.rx.decrypt_rtp(p).unwrap());
        }
    }
}

/// Unprotect candidates, each with its own fresh packets.
fn unprotect_ratios(profile: SrtpProfile, raw_name: &str) {
    if !rtcwire_bench_support::measuring() {
        return;
    }
    let raw = Raw::new(profile);
    let mut sealed = raw_buf();
    raw.seal(&mut sealed);
    let candidates: Vec<(&str, Box<dyn Batch>)> = vec![
        (
            "rtcwire-srtp",
            Box::new(OursBatch {
                ours: Ours::new(profile),
                rx: Ours::new(profile).rx,
                packets: (0..BATCH).map(|_| Vec::with_capacity(1300)).collect(),
            }),
        ),
        (
            raw_name,
            Box::new(RawBatch {
                raw,
                sealed,
                packets: (0..BATCH).map(|_| Vec::with_capacity(1300)).collect(),
            }),
        ),
        (
            "rtc-srtp 0.21 (ring)",
            Box::new(RtcBatch {
                tx: rtc_ctx(profile),
                rx: rtc_ctx(profile),
                seq: 0,
                packets: Vec::new(),
            }),
        ),
        (
            "webrtc-srtp 0.17",
            Box::new(WebrtcBatch {
                tx: webrtc_ctx(profile),
                rx: webrtc_ctx(profile),
                seq: 0,
                packets: Vec::new(),
            }),
        ),
    ];
    batched(&format!("unprotect {}, 1200 B", profile.name()), candidates);
}

/// Protect in batches too: steadier on a busy machine than the 41 short rounds above.
fn protect_batched(profile: SrtpProfile, raw_name: &str) {
    if !rtcwire_bench_support::measuring() {
        return;
    }
    struct Run<F: FnMut()>(F);
    impl<F: FnMut()> Batch for Run<F> {
        fn prepare(&mut self) {}
        fn run(&mut self) {
            for _ in 0..BATCH {
                (self.0)();
            }
        }
    }
    let mut ours = Ours::new(profile);
    let raw = Raw::new(profile);
    let mut rbuf = raw_buf();
    let mut w = webrtc_ctx(profile);
    let mut r = rtc_ctx(profile);
    let plain = rtp_packet(5);
    let plain2 = plain.clone();
    let candidates: Vec<(&str, Box<dyn Batch>)> = vec![
        (
            "rtcwire-srtp",
            Box::new(Run(move || {
                black_box(ours.protect());
            })),
        ),
        (raw_name, Box::new(Run(move || raw.seal(&mut rbuf)))),
        (
            "rtc-srtp 0.21 (ring)",
            Box::new(Run(move || {
                black_box(r.encrypt_rtp(black_box(&plain)).unwrap());
            })),
        ),
        (
            "webrtc-srtp 0.17",
            Box::new(Run(move || {
                black_box(w.encrypt_rtp(black_box(&plain2)).unwrap());
            })),
        ),
    ];
    batched(&format!("protect {}, 1200 B", profile.name()), candidates);
}

/// Like `ratios`, but each round first prepares a fresh batch untimed (unprotect cannot be
/// repeated on one packet, and making packets is not its cost), and there are more rounds.
fn batched(title: &str, mut candidates: Vec<(&str, Box<dyn Batch + '_>)>) {
    const ROUNDS: usize = 301;
    let mut samples = vec![Vec::with_capacity(ROUNDS); candidates.len()];
    for _ in 0..ROUNDS {
        for (i, (_, c)) in candidates.iter_mut().enumerate() {
            c.prepare();
            #[allow(clippy::disallowed_methods)] // a benchmark reads the clock
            let t = std::time::Instant::now();
            c.run();
            samples[i].push(t.elapsed().as_nanos() as f64 / BATCH as f64);
        }
    }
    let medians: Vec<f64> = samples
        .iter_mut()
        .map(|s| {
            s.sort_by(f64::total_cmp);
            s[s.len() / 2]
        })
        .collect();
    println!();
    println!("== {title}: median of {ROUNDS} rounds of {BATCH} packets ==");
    println!("{:<40} {:>12} {:>10}", "candidate", "ns/iter", "vs first");
    for ((name, _), m) in candidates.iter().zip(&medians) {
        println!("{name:<40} {m:>12.1} {:>9.2}x", m / medians[0]);
    }
}

/// Primitive choice by measurement: HMAC-SHA1 from RustCrypto (SHA extensions) vs ring.
fn primitives() {
    let data = vec![0xa5u8; HEADER + PAYLOAD + 4];
    let rc = <Hmac<sha1::Sha1> as Mac>::new_from_slice(&[1; 20]).unwrap();
    let ring_key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &[1; 20]);
    let aes = aes::Aes128Enc::new(GenericArray::from_slice(&[2; 16]));
    let mut buf = vec![0u8; PAYLOAD];
    ratios(
        "primitives over 1216 B",
        &mut [
            ("HMAC-SHA1 RustCrypto (keyed, cloned)", &mut || {
                let mut m = rc.clone();
                m.update(black_box(&data));
                black_box(m.finalize().into_bytes());
            }),
            ("HMAC-SHA1 ring", &mut || {
                black_box(ring::hmac::sign(&ring_key, black_box(&data)));
            }),
            ("AES-128-CTR RustCrypto, 1200 B", &mut || {
                let iv = GenericArray::from_slice(&[3u8; 16]);
                ctr::Ctr128BE::from_core(ctr::CtrCore::inner_iv_init(aes.clone(), iv))
                    .apply_keystream(&mut buf);
            }),
        ],
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
