//! Rollover counter tracking, replay windows, the stream cap, and the rule that a failed
//! unprotect changes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use rtcwire_srtp::{Config, Context, DtlsRole, Error, KeyingMaterial, SrtpProfile, Ssrc};

fn payload(seq: u16) -> Vec<u8> {
    (0..40).map(|i| (seq as u8).wrapping_add(i)).collect()
}

#[test]
fn rollover_with_reordering_across_the_wrap() {
    for profile in SrtpProfile::ALL {
        let mut tx = context(profile, 9, Config::default());
        let mut rx = context(profile, 9, Config::default());
        let ssrc = 0xabcd;
        let sent: Vec<u16> = (65520..=65535).chain(0..16).collect();
        let wire: Vec<(u16, Vec<u8>)> = sent
            .iter()
            .map(|&s| (s, protect_rtp(&mut tx, &rtp(s, ssrc, &payload(s)))))
            .collect();
        assert_eq!(tx.send_roc(Ssrc(ssrc)), Some(1));

        // Delivery order: swaps around the wrap, packets of roll 1 before late ones of roll 0.
        let order = [
            0usize, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 16, 13, 17, 14, 18, 15, 19, 21, 20, 22,
            23, 24, 25, 26, 27, 28, 29, 30, 31,
        ];
        assert_eq!(order.len(), wire.len());
        for &i in &order {
            let (seq, w) = &wire[i];
            assert_eq!(
                unprotect_rtp(&mut rx, w).unwrap(),
                rtp(*seq, ssrc, &payload(*seq)),
                "{profile}: seq {seq}"
            );
        }
        assert_eq!(rx.recv_roc(Ssrc(ssrc)), Some(1), "{profile}");
        // Everything was received once: all of it is now a replay.
        for (seq, w) in &wire {
            assert!(
                matches!(unprotect_rtp(&mut rx, w), Err(Error::Replay { .. })),
                "{profile}: seq {seq}"
            );
        }
    }
}

#[test]
fn several_rollovers_with_large_gaps() {
    for profile in [SrtpProfile::Aes128CmHmacSha1_80, SrtpProfile::AeadAes128Gcm] {
        let mut tx = context(profile, 4, Config::default());
        let mut rx = context(profile, 4, Config::default());
        let mut seq: u16 = 1000;
        for _ in 0..20 {
            let w = protect_rtp(&mut tx, &rtp(seq, 5, b"x"));
            assert_eq!(unprotect_rtp(&mut rx, &w).unwrap(), rtp(seq, 5, b"x"));
            seq = seq.wrapping_add(30_000);
        }
        // 1000 + 19 * 30000 = 571000 → roll 8.
        assert_eq!(tx.send_roc(Ssrc(5)), Some(8));
        assert_eq!(rx.recv_roc(Ssrc(5)), Some(8));
    }
}

#[test]
fn sender_retransmission_after_the_wrap_keeps_its_roll() {
    let p = SrtpProfile::AeadAes256Gcm;
    let mut tx = context(p, 1, Config::default());
    let mut rx = context(p, 1, Config::default());
    let early = protect_rtp(&mut tx, &rtp(65534, 1, b"early"));
    let late = protect_rtp(&mut tx, &rtp(65535, 1, b"late"));
    let first = protect_rtp(&mut tx, &rtp(0, 1, b"new"));
    assert_eq!(tx.send_roc(Ssrc(1)), Some(1));
    // The receiver gets roll 1 before the last packet of roll 0.
    assert!(unprotect_rtp(&mut rx, &early).is_ok());
    assert!(unprotect_rtp(&mut rx, &first).is_ok());
    assert_eq!(rx.recv_roc(Ssrc(1)), Some(1));
    assert_eq!(
        unprotect_rtp(&mut rx, &late).unwrap(),
        rtp(65535, 1, b"late")
    );
    // A retransmission of 65535 protected now still belongs to roll 0: same bytes.
    let again = protect_rtp(&mut tx, &rtp(65535, 1, b"late"));
    assert_eq!(again, late);
    assert_eq!(tx.send_roc(Ssrc(1)), Some(1));
}

#[test]
fn replay_window_edges() {
    for (window, profile) in [
        (64usize, SrtpProfile::Aes128CmHmacSha1_80),
        (1024, SrtpProfile::AeadAes128Gcm),
        (2000, SrtpProfile::Aes128CmHmacSha1_32),
    ] {
        let config = Config {
            replay_window: window,
            ..Config::default()
        };
        let mut tx = context(profile, 7, config);
        let mut rx = context(profile, 7, config);
        let top: u16 = 5000;
        let packets: Vec<Vec<u8>> = (0..=top)
            .map(|s| protect_rtp(&mut tx, &rtp(s, 3, &[s as u8])))
            .collect();
        assert!(unprotect_rtp(&mut rx, &packets[top as usize]).is_ok());
        let oldest = top as usize + 1 - window;
        // Just outside the window: too old. Just inside: accepted once.
        assert_eq!(
            unprotect_rtp(&mut rx, &packets[oldest - 1]),
            Err(Error::Replay {
                ssrc: Ssrc(3),
                index: (oldest - 1) as u64
            }),
            "window {window}"
        );
        assert!(
            unprotect_rtp(&mut rx, &packets[oldest]).is_ok(),
            "window {window}"
        );
        assert!(matches!(
            unprotect_rtp(&mut rx, &packets[oldest]),
            Err(Error::Replay { .. })
        ));
        assert!(unprotect_rtp(&mut rx, &packets[top as usize - 1]).is_ok());
        assert!(matches!(
            unprotect_rtp(&mut rx, &packets[top as usize]),
            Err(Error::Replay { .. })
        ));
    }
}

#[test]
fn failed_unprotect_changes_no_state() {
    for profile in SrtpProfile::ALL {
        let mut tx = context(profile, 8, Config::default());
        let mut rx = context(profile, 8, Config::default());
        let p100 = protect_rtp(&mut tx, &rtp(65500, 1, b"a"));
        let p50 = protect_rtp(&mut tx, &rtp(65450, 1, b"b"));
        assert!(unprotect_rtp(&mut rx, &p100).is_ok());

        // A forgery that would move the ROC to 1 and slide the window far ahead.
        let mut forged = protect_rtp(&mut tx, &rtp(20, 1, b"c"));
        let last = forged.len() - 1;
        forged[last] ^= 1;
        assert_eq!(
            unprotect_rtp(&mut rx, &forged),
            Err(Error::AuthFailed { ssrc: Ssrc(1) })
        );
        assert_eq!(rx.recv_roc(Ssrc(1)), Some(0), "{profile}: ROC moved");
        // The window did not slide: a packet 50 behind the old top is still welcome.
        assert!(unprotect_rtp(&mut rx, &p50).is_ok(), "{profile}");
        // A forgery from an unknown SSRC opens no stream.
        let mut stranger = protect_rtp(&mut tx, &rtp(1, 2, b"d"));
        stranger[14] ^= 0x80;
        assert!(unprotect_rtp(&mut rx, &stranger).is_err());
        assert_eq!(rx.rtp_streams().1, 1, "{profile}");
        assert_eq!(rx.recv_roc(Ssrc(2)), None);

        // Same for SRTCP: a forged packet does not burn its index.
        let c0 = protect_rtcp(&mut tx, &rtcp(1, b"rtcp"));
        let mut bad = c0.clone();
        bad[9] ^= 4;
        assert_eq!(
            unprotect_rtcp(&mut rx, &bad),
            Err(Error::AuthFailed { ssrc: Ssrc(1) })
        );
        assert_eq!(unprotect_rtcp(&mut rx, &c0).unwrap(), rtcp(1, b"rtcp"));
    }
}

#[test]
fn stream_cap_is_enforced_and_slots_can_be_freed() {
    let config = Config {
        max_streams: 2,
        ..Config::default()
    };
    let p = SrtpProfile::Aes128CmHmacSha1_80;
    let mut tx = context(p, 5, Config::default());
    let mut rx = context(p, 5, config);
    for ssrc in [1, 2] {
        let w = protect_rtp(&mut tx, &rtp(1, ssrc, b"x"));
        assert!(unprotect_rtp(&mut rx, &w).is_ok());
    }
    let third = protect_rtp(&mut tx, &rtp(1, 3, b"x"));
    assert_eq!(
        unprotect_rtp(&mut rx, &third),
        Err(Error::TooManyStreams {
            ssrc: Ssrc(3),
            max: 2
        })
    );
    // Known SSRCs still pass.
    let w = protect_rtp(&mut tx, &rtp(2, 1, b"x"));
    assert!(unprotect_rtp(&mut rx, &w).is_ok());
    rx.remove_ssrc(Ssrc(1));
    assert!(unprotect_rtp(&mut rx, &third).is_ok());
    assert_eq!(rx.rtp_streams(), (0, 2));

    // The sending side has its own cap.
    let mut small_tx = context(p, 5, config);
    protect_rtp(&mut small_tx, &rtp(1, 1, b""));
    protect_rtp(&mut small_tx, &rtp(1, 2, b""));
    let mut buf = rtp(1, 3, b"");
    let n = buf.len();
    buf.resize(n + 10, 0);
    assert_eq!(
        small_tx.protect_rtp(&mut buf, n),
        Err(Error::TooManyStreams {
            ssrc: Ssrc(3),
            max: 2
        })
    );
    // And SRTCP too.
    for ssrc in [1, 2] {
        let w = protect_rtcp(&mut tx, &rtcp(ssrc, b""));
        assert!(unprotect_rtcp(&mut rx, &w).is_ok());
    }
    let w = protect_rtcp(&mut tx, &rtcp(9, b""));
    assert_eq!(
        unprotect_rtcp(&mut rx, &w),
        Err(Error::TooManyStreams {
            ssrc: Ssrc(9),
            max: 2
        })
    );
}

#[test]
fn srtcp_replay_window() {
    let p = SrtpProfile::Aes128CmHmacSha1_32;
    let config = Config {
        rtcp_replay_window: 16,
        ..Config::default()
    };
    let mut tx = context(p, 2, config);
    let mut rx = context(p, 2, config);
    let packets: Vec<Vec<u8>> = (0..40u8)
        .map(|i| protect_rtcp(&mut tx, &rtcp(77, &[i; 4])))
        .collect();
    // SRTCP keeps the 80-bit tag even for the _32 profile.
    assert_eq!(packets[0].len(), 12 + 4 + 10);
    assert!(unprotect_rtcp(&mut rx, &packets[39]).is_ok());
    assert_eq!(
        unprotect_rtcp(&mut rx, &packets[23]),
        Err(Error::Replay {
            ssrc: Ssrc(77),
            index: 23
        })
    );
    assert_eq!(
        unprotect_rtcp(&mut rx, &packets[24]).unwrap(),
        rtcp(77, &[24; 4])
    );
    assert!(matches!(
        unprotect_rtcp(&mut rx, &packets[24]),
        Err(Error::Replay { .. })
    ));
}

#[test]
fn keying_material_pairs_the_directions() {
    for profile in [
        SrtpProfile::Aes128CmHmacSha1_80,
        SrtpProfile::Aes128CmHmacSha1_32,
        SrtpProfile::AeadAes128Gcm,
        SrtpProfile::AeadAes256Gcm,
    ] {
        let bytes: Vec<u8> = (0..profile.keying_material_len() as u8).collect();
        let km = KeyingMaterial::new(profile, bytes).unwrap();
        let (mut c_tx, mut c_rx) =
            Context::from_keying_material(&km, DtlsRole::Client, Config::default()).unwrap();
        let (mut s_tx, mut s_rx) =
            Context::from_keying_material(&km, DtlsRole::Server, Config::default()).unwrap();
        let from_client = protect_rtp(&mut c_tx, &rtp(1, 1, b"hello"));
        let from_server = protect_rtp(&mut s_tx, &rtp(1, 1, b"hello"));
        assert_ne!(from_client, from_server, "{profile}: directions share keys");
        assert_eq!(
            unprotect_rtp(&mut s_rx, &from_client).unwrap(),
            rtp(1, 1, b"hello")
        );
        assert_eq!(
            unprotect_rtp(&mut c_rx, &from_server).unwrap(),
            rtp(1, 1, b"hello")
        );
        // Our own send keys do not open what we sent through the other direction's context.
        let mut wrong = Context::from_keys(profile, km.client_write(), Config::default()).unwrap();
        assert!(matches!(
            unprotect_rtp(&mut wrong, &from_server),
            Err(Error::AuthFailed { .. })
        ));
        // The explicit constructor agrees with the keying-material one.
        let keys = km.client_write();
        let mut direct = Context::new(
            profile,
            keys.master_key,
            keys.master_salt,
            Config::default(),
        )
        .unwrap();
        assert_eq!(protect_rtp(&mut direct, &rtp(1, 1, b"hello")), from_client);
    }
}

#[test]
fn header_extension_stays_in_the_clear() {
    // Encrypted header extensions are out of scope: the extension is authenticated but
    // sent as is, and parsing skips it by its length.
    let mut p = vec![
        0x90, 96, 0, 9, 0, 0, 0, 0, 0, 0, 0, 4, 0xbe, 0xde, 0, 1, 0x22, 1, 2, 3,
    ];
    p.extend_from_slice(b"secret payload");
    for profile in SrtpProfile::ALL {
        let mut tx = context(profile, 6, Config::default());
        let w = protect_rtp(&mut tx, &p);
        assert_eq!(&w[..20], &p[..20], "{profile}");
        assert_ne!(&w[20..34], b"secret payload");
        let mut rx = context(profile, 6, Config::default());
        assert_eq!(unprotect_rtp(&mut rx, &w).unwrap(), p);
    }
}

#[test]
fn bytes_variants_use_spare_capacity_and_restore_on_error() {
    use bytes::BytesMut;
    let p = SrtpProfile::Aes128CmHmacSha1_80;
    let config = Config {
        max_streams: 1,
        ..Config::default()
    };
    let mut tx = context(p, 3, config);
    let plain = rtp(9, 1, &[7; 100]);
    let mut b = BytesMut::with_capacity(plain.len() + tx.rtp_overhead());
    b.extend_from_slice(&plain);
    let cap = b.capacity();
    tx.protect_rtp_bytes(&mut b).unwrap();
    assert_eq!(b.len(), plain.len() + 10);
    assert_eq!(b.capacity(), cap, "the tag went into the spare capacity");
    // A refused packet comes back as it was.
    let other = rtp(1, 2, b"second stream");
    let mut c = BytesMut::from(&other[..]);
    assert_eq!(
        tx.protect_rtp_bytes(&mut c),
        Err(Error::TooManyStreams {
            ssrc: Ssrc(2),
            max: 1
        })
    );
    assert_eq!(&c[..], &other[..]);
    let mut d = BytesMut::from(&rtcp(2, b"")[..]);
    assert!(tx.protect_rtcp_bytes(&mut d).is_ok());
    let mut e = BytesMut::from(&rtcp(3, b"")[..]);
    assert!(tx.protect_rtcp_bytes(&mut e).is_err());
    assert_eq!(&e[..], &rtcp(3, b"")[..]);
    // Unprotect in a BytesMut truncates to the plaintext; a failure leaves the length.
    let mut rx = context(p, 3, Config::default());
    let mut bad = b.clone();
    bad[20] ^= 1;
    let bad_len = bad.len();
    assert!(rx.unprotect_rtp_bytes(&mut bad).is_err());
    assert_eq!(bad.len(), bad_len);
    rx.unprotect_rtp_bytes(&mut b).unwrap();
    assert_eq!(&b[..], &plain[..]);
}
