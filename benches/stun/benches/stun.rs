//! An ICE connectivity check — Binding request with USERNAME, PRIORITY, ICE-CONTROLLING,
//! USE-CANDIDATE, MESSAGE-INTEGRITY and FINGERPRINT — encoded, and decoded + verified
//! (integrity, fingerprint, and the ICE attributes read), by rtcwire-stun, webrtc-rs's
//! `stun` 0.17 and its sans-IO successor `rtc-stun` 0.21 (ring provider), side by side.
//!
//! Each library is used the way its ICE agent uses it: the key object is made once per
//! credential (rtcwire's pre-keys the HMAC; the others keep the raw key), the message buffer
//! is reused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, Criterion};

const USERNAME: &str = "9qAv:hQ1c"; // remote-ufrag:local-ufrag
const PASSWORD: &str = "VOkJxbRl1RmTxUk/WvJxBt";
const PRIORITY: u32 = 0x6e00_01ff;
const TIE_BREAKER: u64 = 0x932f_f9b1_5126_3b36;
const TID: [u8; 12] = [
    0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
];

mod ours {
    use super::*;
    use rtcwire_stun::{
        Attribute, IntegrityKey, Message, MessageBuilder, MessageType, TransactionId,
    };

    pub(crate) fn encode(buf: &mut BytesMut, key: &IntegrityKey) -> usize {
        buf.clear();
        let mut b =
            MessageBuilder::new(buf, MessageType::BINDING_REQUEST, TransactionId(TID)).unwrap();
        b.attr(&Attribute::Username(USERNAME))
            .unwrap()
            .attr(&Attribute::Priority(PRIORITY))
            .unwrap()
            .attr(&Attribute::IceControlling(TIE_BREAKER))
            .unwrap()
            .attr(&Attribute::UseCandidate)
            .unwrap()
            .message_integrity(key)
            .unwrap()
            .fingerprint()
            .unwrap();
        b.finish()
    }

    pub(crate) fn decode(bytes: &[u8], key: &IntegrityKey) -> (u32, u64, bool, usize) {
        let m = Message::parse(bytes).unwrap();
        m.verify_fingerprint().unwrap();
        m.verify_integrity(key).unwrap();
        let user = m.username().unwrap().unwrap();
        let prio = m.priority().unwrap().unwrap();
        let tb = m.ice_controlling().unwrap().unwrap();
        (prio, tb, m.use_candidate(), user.len())
    }
}

mod webrtc {
    use super::*;
    use stun::agent::TransactionId;
    use stun::attributes::{
        ATTR_ICE_CONTROLLING, ATTR_PRIORITY, ATTR_USERNAME, ATTR_USE_CANDIDATE,
    };
    use stun::fingerprint::FINGERPRINT;
    use stun::integrity::MessageIntegrity;
    use stun::message::{Message, Setter, BINDING_REQUEST};
    use stun::textattrs::TextAttribute;

    pub(crate) fn encode(m: &mut Message, key: &MessageIntegrity) -> usize {
        m.build(&[
            Box::new(BINDING_REQUEST),
            Box::new(TransactionId(TID)),
            Box::new(TextAttribute::new(ATTR_USERNAME, USERNAME.to_owned())),
        ])
        .unwrap();
        m.add(ATTR_PRIORITY, &PRIORITY.to_be_bytes());
        m.add(ATTR_ICE_CONTROLLING, &TIE_BREAKER.to_be_bytes());
        m.add(ATTR_USE_CANDIDATE, &[]);
        key.add_to(m).unwrap();
        FINGERPRINT.add_to(m).unwrap();
        m.raw.len()
    }

    pub(crate) fn decode(
        m: &mut Message,
        bytes: &[u8],
        key: &MessageIntegrity,
    ) -> (u32, u64, bool, usize) {
        m.raw.clear();
        m.raw.extend_from_slice(bytes);
        m.decode().unwrap();
        FINGERPRINT.check(m).unwrap();
        key.check(m).unwrap();
        let user = TextAttribute::get_from_as(m, ATTR_USERNAME).unwrap();
        let p = m.get(ATTR_PRIORITY).unwrap();
        let t = m.get(ATTR_ICE_CONTROLLING).unwrap();
        let prio = u32::from_be_bytes(p[..4].try_into().unwrap());
        let tb = u64::from_be_bytes(t[..8].try_into().unwrap());
        (prio, tb, m.contains(ATTR_USE_CANDIDATE), user.text.len())
    }
}

mod rtc {
    use super::*;
    use rtc_stun::attributes::{
        ATTR_ICE_CONTROLLING, ATTR_PRIORITY, ATTR_USERNAME, ATTR_USE_CANDIDATE,
    };
    use rtc_stun::crypto::providers::RingCrypto;
    use rtc_stun::fingerprint::FINGERPRINT;
    use rtc_stun::integrity::MessageIntegrity;
    use rtc_stun::message::{Message, Setter, TransactionId, BINDING_REQUEST};
    use rtc_stun::textattrs::TextAttribute;

    pub(crate) static CRYPTO: RingCrypto = RingCrypto;

    pub(crate) fn encode(m: &mut Message, key: &MessageIntegrity<'_>) -> usize {
        m.build(&[
            Box::new(BINDING_REQUEST),
            Box::new(TransactionId(TID)),
            Box::new(TextAttribute::new(ATTR_USERNAME, USERNAME.to_owned())),
        ])
        .unwrap();
        m.add(ATTR_PRIORITY, &PRIORITY.to_be_bytes());
        m.add(ATTR_ICE_CONTROLLING, &TIE_BREAKER.to_be_bytes());
        m.add(ATTR_USE_CANDIDATE, &[]);
        key.add_to(m).unwrap();
        FINGERPRINT.add_to(m).unwrap();
        m.raw.len()
    }

    pub(crate) fn decode(m: &mut Message, bytes: &[u8], key: &[u8]) -> (u32, u64, bool, usize) {
        m.raw.clear();
        m.raw.extend_from_slice(bytes);
        m.decode().unwrap();
        FINGERPRINT.check(m).unwrap();
        MessageIntegrity::check(m, key, &CRYPTO).unwrap();
        let user = TextAttribute::get_from_as(m, ATTR_USERNAME).unwrap();
        let p = m.get(ATTR_PRIORITY).unwrap();
        let t = m.get(ATTR_ICE_CONTROLLING).unwrap();
        let prio = u32::from_be_bytes(p[..4].try_into().unwrap());
        let tb = u64::from_be_bytes(t[..8].try_into().unwrap());
        (prio, tb, m.contains(ATTR_USE_CANDIDATE), user.text.len())
    }
}

fn stun(c: &mut Criterion) {
    let our_key = rtcwire_stun::IntegrityKey::short_term(PASSWORD);
    let webrtc_key =
        stun::integrity::MessageIntegrity::new_short_term_integrity(PASSWORD.to_owned());
    let rtc_key = rtc_stun::integrity::MessageIntegrity::new_short_term_integrity_with_provider(
        PASSWORD.to_owned(),
        &rtc::CRYPTO,
    );

    // All three must produce the same bytes, and each must read the others' messages.
    let mut our_buf = BytesMut::with_capacity(256);
    let n = ours::encode(&mut our_buf, &our_key);
    let wire = our_buf[..n].to_vec();
    let mut wm = stun::message::Message::new();
    webrtc::encode(&mut wm, &webrtc_key);
    assert_eq!(wm.raw, wire, "stun 0.17 encodes the same message");
    let mut rm = rtc_stun::message::Message::new();
    rtc::encode(&mut rm, &rtc_key);
    assert_eq!(rm.raw, wire, "rtc-stun 0.21 encodes the same message");
    let expected = (PRIORITY, TIE_BREAKER, true, USERNAME.len());
    assert_eq!(ours::decode(&wire, &our_key), expected);
    assert_eq!(webrtc::decode(&mut wm, &wire, &webrtc_key), expected);
    assert_eq!(rtc::decode(&mut rm, &wire, PASSWORD.as_bytes()), expected);

    let mut g = c.benchmark_group("stun/ice_binding_request");
    g.bench_function("encode/rtcwire-stun", |b| {
        b.iter(|| black_box(ours::encode(&mut our_buf, black_box(&our_key))))
    });
    g.bench_function("encode/stun-0.17", |b| {
        b.iter(|| black_box(webrtc::encode(&mut wm, black_box(&webrtc_key))))
    });
    g.bench_function("encode/rtc-stun-0.21", |b| {
        b.iter(|| black_box(rtc::encode(&mut rm, black_box(&rtc_key))))
    });
    g.bench_function("decode+verify/rtcwire-stun", |b| {
        b.iter(|| black_box(ours::decode(black_box(&wire), &our_key)))
    });
    g.bench_function("decode+verify/stun-0.17", |b| {
        b.iter(|| black_box(webrtc::decode(&mut wm, black_box(&wire), &webrtc_key)))
    });
    g.bench_function("decode+verify/rtc-stun-0.21", |b| {
        b.iter(|| black_box(rtc::decode(&mut rm, black_box(&wire), PASSWORD.as_bytes())))
    });
    g.finish();

    rtcwire_bench_support::ratios(
        "stun encode (ICE Binding request)",
        &mut [
            ("rtcwire-stun", &mut || {
                black_box(ours::encode(&mut our_buf, black_box(&our_key)));
            }),
            ("stun 0.17", &mut || {
                black_box(webrtc::encode(&mut wm, black_box(&webrtc_key)));
            }),
            ("rtc-stun 0.21 (ring)", &mut || {
                black_box(rtc::encode(&mut rm, black_box(&rtc_key)));
            }),
        ],
    );
    rtcwire_bench_support::ratios(
        "stun decode + verify integrity + fingerprint",
        &mut [
            ("rtcwire-stun", &mut || {
                black_box(ours::decode(black_box(&wire), &our_key));
            }),
            ("stun 0.17", &mut || {
                black_box(webrtc::decode(&mut wm, black_box(&wire), &webrtc_key));
            }),
            ("rtc-stun 0.21 (ring)", &mut || {
                black_box(rtc::decode(&mut rm, black_box(&wire), PASSWORD.as_bytes()));
            }),
        ],
    );
}

criterion_group!(benches, stun);
criterion_main!(benches);
