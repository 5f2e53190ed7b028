//! Property: unprotect(protect(p)) == p, for arbitrary packets and every profile; and any
//! single-bit change to a protected packet is refused without changing state.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use bytes::BytesMut;
use common::*;
use proptest::prelude::*;
use rtcwire_srtp::{Config, Error, SrtpProfile, Ssrc};

fn profile_any() -> impl Strategy<Value = SrtpProfile> {
    prop::sample::select(SrtpProfile::ALL.to_vec())
}

/// An RTP packet with arbitrary CSRCs, optional extension, marker/PT, padding flag and
/// payload (padding is just payload to SRTP).
fn rtp_any() -> impl Strategy<Value = Vec<u8>> {
    (
        0u8..=15,
        prop::option::of((any::<u16>(), prop::collection::vec(any::<u8>(), 0..6))),
        any::<u8>(),
        any::<bool>(),
        any::<u16>(),
        any::<u32>(),
        any::<u32>(),
        prop::collection::vec(any::<u8>(), 0..1400),
    )
        .prop_map(|(cc, ext, m_pt, padding, seq, ts, ssrc, payload)| {
            let mut p = vec![0x80 | cc | (u8::from(padding) << 5), m_pt];
            if ext.is_some() {
                p[0] |= 0x10;
            }
            p.extend_from_slice(&seq.to_be_bytes());
            p.extend_from_slice(&ts.to_be_bytes());
            p.extend_from_slice(&ssrc.to_be_bytes());
            for i in 0..u32::from(cc) {
                p.extend_from_slice(&i.wrapping_mul(0x0101_0101).to_be_bytes());
            }
            if let Some((id, words)) = ext {
                p.extend_from_slice(&id.to_be_bytes());
                p.extend_from_slice(&(words.len() as u16).to_be_bytes());
                for w in words {
                    p.extend_from_slice(&[w; 4]);
                }
            }
            p.extend_from_slice(&payload);
            p
        })
}

fn rtcp_any() -> impl Strategy<Value = Vec<u8>> {
    (
        0u8..32,
        any::<u8>(),
        any::<u32>(),
        prop::collection::vec(any::<u8>(), 0..600),
    )
        .prop_map(|(rc, pt, ssrc, body)| {
            let mut p = vec![0x80 | rc, pt, 0, 0];
            p.extend_from_slice(&ssrc.to_be_bytes());
            p.extend_from_slice(&body);
            p
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn srtp_roundtrip(profile in profile_any(), seed in any::<u8>(), p in rtp_any(), flip in any::<prop::sample::Index>()) {
        let mut tx = context(profile, seed, Config::default());
        let mut rx = context(profile, seed, Config::default());
        let wire = protect_rtp(&mut tx, &p);
        prop_assert_eq!(wire.len(), p.len() + profile.srtp_tag_len());

        // A flipped bit anywhere is refused (header, payload or tag) and changes nothing.
        let mut bad = wire.clone();
        let at = flip.index(bad.len() * 8);
        bad[at / 8] ^= 1 << (at % 8);
        prop_assert!(unprotect_rtp(&mut rx, &bad).is_err());
        prop_assert_eq!(rx.rtp_streams(), (0, 0));

        prop_assert_eq!(unprotect_rtp(&mut rx, &wire).unwrap(), p.clone());
        let replay = matches!(unprotect_rtp(&mut rx, &wire), Err(Error::Replay { .. }));
        prop_assert!(replay);

        // The BytesMut form gives the same bytes.
        let mut tx2 = context(profile, seed, Config::default());
        let mut b = BytesMut::with_capacity(p.len() + tx2.rtp_overhead());
        b.extend_from_slice(&p);
        tx2.protect_rtp_bytes(&mut b).unwrap();
        prop_assert_eq!(&b[..], &wire[..]);
        let mut rx2 = context(profile, seed, Config::default());
        rx2.unprotect_rtp_bytes(&mut b).unwrap();
        prop_assert_eq!(&b[..], &p[..]);
    }

    #[test]
    fn srtcp_roundtrip(profile in profile_any(), seed in any::<u8>(), p in rtcp_any(), encrypt in any::<bool>(), flip in any::<prop::sample::Index>()) {
        let config = Config { encrypt_rtcp: encrypt, ..Config::default() };
        let mut tx = context(profile, seed, config);
        let mut rx = context(profile, seed, Config::default());
        let wire = protect_rtcp(&mut tx, &p);
        prop_assert_eq!(wire.len(), p.len() + 4 + profile.srtcp_tag_len());
        if !encrypt {
            prop_assert_eq!(&wire[..p.len()], &p[..]);
        }

        let mut bad = wire.clone();
        let at = flip.index(bad.len() * 8);
        bad[at / 8] ^= 1 << (at % 8);
        prop_assert!(unprotect_rtcp(&mut rx, &bad).is_err());

        prop_assert_eq!(unprotect_rtcp(&mut rx, &wire).unwrap(), p.clone());
        let replay = matches!(unprotect_rtcp(&mut rx, &wire), Err(Error::Replay { .. }));
        prop_assert!(replay);

        let mut tx2 = context(profile, seed, config);
        let mut b = BytesMut::from(&p[..]);
        tx2.protect_rtcp_bytes(&mut b).unwrap();
        prop_assert_eq!(&b[..], &wire[..]);
        let mut rx2 = context(profile, seed, Config::default());
        rx2.unprotect_rtcp_bytes(&mut b).unwrap();
        prop_assert_eq!(&b[..], &p[..]);
    }

    /// Arbitrary bytes never panic and never create state.
    #[test]
    fn garbage_is_refused_cleanly(profile in profile_any(), data in prop::collection::vec(any::<u8>(), 0..200)) {
        let mut rx = context(profile, 1, Config::default());
        let mut a = data.clone();
        prop_assert!(rx.unprotect_rtp(&mut a).is_err());
        let mut b = data.clone();
        prop_assert!(rx.unprotect_rtcp(&mut b).is_err());
        prop_assert_eq!(rx.rtp_streams(), (0, 0));
    }
}

#[test]
fn wrong_keys_fail_authentication() {
    for profile in SrtpProfile::ALL {
        let mut tx = context(profile, 1, Config::default());
        let mut rx = context(profile, 2, Config::default());
        let wire = protect_rtp(&mut tx, &rtp(1, 7, b"payload"));
        assert_eq!(
            unprotect_rtp(&mut rx, &wire),
            Err(Error::AuthFailed { ssrc: Ssrc(7) }),
            "{profile}"
        );
        let wire = protect_rtcp(&mut tx, &rtcp(7, &[]));
        assert_eq!(
            unprotect_rtcp(&mut rx, &wire),
            Err(Error::AuthFailed { ssrc: Ssrc(7) }),
            "{profile}"
        );
    }
}

#[test]
fn too_short_and_no_room() {
    for profile in SrtpProfile::ALL {
        let mut ctx = context(profile, 3, Config::default());
        let tag = profile.srtp_tag_len();
        let mut short = vec![0x80; 12 + tag - 1];
        assert_eq!(
            ctx.unprotect_rtp(&mut short),
            Err(Error::Truncated {
                needed: 12 + tag,
                available: 12 + tag - 1
            })
        );
        let need = 8 + 4 + profile.srtcp_tag_len();
        let mut short = vec![0x80; need - 1];
        assert_eq!(
            ctx.unprotect_rtcp(&mut short),
            Err(Error::Truncated {
                needed: need,
                available: need - 1
            })
        );
        // No room for the tag: refused, and the packet is untouched.
        let p = rtp(1, 1, b"abc");
        let mut buf = p.clone();
        buf.resize(p.len() + tag - 1, 0);
        assert_eq!(
            ctx.protect_rtp(&mut buf, p.len()),
            Err(Error::BufferTooSmall {
                needed: p.len() + tag,
                available: p.len() + tag - 1
            })
        );
        assert_eq!(&buf[..p.len()], &p[..]);
        assert!(matches!(
            ctx.protect_rtp(&mut buf, 100),
            Err(Error::BufferTooSmall { .. })
        ));
        // An RTP packet whose CSRC list runs past the end.
        let mut bad = rtp(1, 1, b"");
        bad[0] |= 0x0f;
        bad.resize(bad.len() + tag, 0);
        assert!(matches!(
            ctx.unprotect_rtp(&mut bad),
            Err(Error::Truncated { .. })
        ));
        let mut v1 = rtp(1, 1, &[0; 20]);
        v1[0] = 0x40;
        assert_eq!(
            ctx.unprotect_rtp(&mut v1),
            Err(Error::BadVersion { version: 1 })
        );
    }
}

#[test]
fn config_is_validated() {
    let p = SrtpProfile::AeadAes128Gcm;
    for bad in [
        Config {
            replay_window: 0,
            ..Config::default()
        },
        Config {
            replay_window: Config::MAX_REPLAY_WINDOW + 1,
            ..Config::default()
        },
        Config {
            rtcp_replay_window: 0,
            ..Config::default()
        },
        Config {
            max_streams: 0,
            ..Config::default()
        },
    ] {
        assert!(matches!(
            rtcwire_srtp::Context::new(p, &[0; 16], &[0; 12], bad),
            Err(Error::InvalidConfig(_))
        ));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// A stream crossing 65535 → 0, delivered with local reordering (each packet displaced
    /// by fewer than 32 places, well inside the 64-packet window): every packet decrypts
    /// exactly once to what was sent, and both ends agree on the final ROC.
    #[test]
    fn reordered_stream_across_the_wrap(
        profile in profile_any(),
        start in 65_400u16..=65_535,
        count in 150usize..400,
        swaps in prop::collection::vec((any::<prop::sample::Index>(), 1usize..32), 0..200),
    ) {
        let mut tx = context(profile, 11, Config::default());
        let mut rx = context(profile, 11, Config::default());
        let sent: Vec<(u16, Vec<u8>)> = (0..count)
            .map(|i| {
                let seq = start.wrapping_add(i as u16);
                (seq, protect_rtp(&mut tx, &rtp(seq, 42, &[i as u8; 24])))
            })
            .collect();
        // Displace by swapping i with i + d, each element moving at most once. The first
        // packet stays first: a receiver starts a stream at ROC 0 (RFC 3711 §3.3.1), so its
        // first packet must come from before the wrap.
        let mut order: Vec<usize> = (0..count).collect();
        let mut moved = vec![false; count];
        moved[0] = true;
        for (at, d) in swaps {
            let i = at.index(count);
            let j = i + d;
            if j < count && !moved[i] && !moved[j] {
                order.swap(i, j);
                moved[i] = true;
                moved[j] = true;
            }
        }
        for &k in &order {
            let (seq, wire) = &sent[k];
            let got = unprotect_rtp(&mut rx, wire);
            prop_assert_eq!(got, Ok(rtp(*seq, 42, &[k as u8; 24])), "seq {}", seq);
        }
        prop_assert_eq!(rx.recv_roc(Ssrc(42)), tx.send_roc(Ssrc(42)));
        prop_assert_eq!(tx.send_roc(Ssrc(42)), Some(1));
    }
}
