//! rtcwire-sctp against a real peer, dcsctp (in-process, over the test network), for the
//! extensions and corner cases: RFC 9653 zero checksums, heartbeats of an idle association,
//! simultaneous open, and message interleaving (RFC 8260, I-DATA).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods,
    clippy::print_stderr
)]

mod common;

use std::time::Duration;

use common::dc::Dc;
use common::dc_interop::*;
use common::{assoc, start_instant, Link, Net};
use dcsctp::api::{SendOptions as DcSendOptions, SocketEvent, SocketState, StreamId};
use rtcwire_sctp::{Config, Event, SendOptions};

/// RFC 9653 zero checksum with the DTLS method, announced by both: after setup, packets go
/// with a zero checksum field both ways and data flows. Announced by one side only: every
/// packet carries its CRC-32c (negotiated per direction; dcsctp treats it as symmetric).
#[test]
fn zero_checksum_when_both_announce_it() {
    for (ours_on, theirs_on) in [(true, true), (true, false), (false, true)] {
        for we_connect in [true, false] {
            let mut opts = Dc::options();
            if theirs_on {
                opts.zero_checksum_alternate_error_detection_method =
                    dcsctp::api::ZERO_CHECKSUM_ALTERNATE_ERROR_DETECTION_METHOD_LOWER_LAYER_DTLS;
            }
            let cfg = Config {
                zero_checksum: ours_on,
                ..our_config()
            };
            let mut net = interop_with(we_connect, Link::clean(10), 80, cfg, &opts, true);
            // dcsctp announces in its INIT when configured, but in its INIT ACK only when
            // our INIT announced too.
            let announced_to_us = theirs_on && (ours_on || !we_connect);
            assert_eq!(
                net.a.sends_zero_checksum(),
                announced_to_us,
                "ours {ours_on} theirs {theirs_on} we_connect {we_connect}"
            );
            net.trace_lines.clear();
            net.zero_checksums = (0, 0);
            for i in 0..20 {
                net.a
                    .send(net.now, 1, 53, payload(i, 3000), SendOptions::default())
                    .unwrap();
                dc_send(&mut net, 1, 53, payload(i, 3000), &DcSendOptions::default());
            }
            assert!(
                net.run_until(Duration::from_secs(30), |x| ours(x).len() == 20
                    && theirs(x).len() == 20)
            );
            let (to_b, to_a) = net.zero_checksums;
            let both = ours_on && theirs_on;
            if announced_to_us {
                assert!(to_b > 0, "we never sent a zero checksum");
            } else {
                assert_eq!(to_b, 0);
            }
            if both {
                assert!(to_a > 0, "dcsctp never sent a zero checksum");
            } else {
                assert_eq!(to_a, 0, "zero checksum without both announcing");
            }
            assert_eq!(net.refused, 0);
        }
    }
}

#[test]
fn idle_association_stays_up_with_heartbeats_both_ways() {
    let mut net = interop(true, Link::clean(30), 70);
    let _ = net.run_until(Duration::from_secs(200), |_| false);
    assert!(net.a.is_established());
    assert_eq!(net.b.sock.state(), SocketState::Connected);
    assert!(!dc_events(&net)
        .iter()
        .any(|e| matches!(e, SocketEvent::OnAborted(..))));
    net.a
        .send(net.now, 0, 53, payload(1, 10), SendOptions::default())
        .unwrap();
    assert!(net.run_until(Duration::from_secs(5), |x| theirs(x).len() == 1));
}

/// Both sides send INIT at once, as both ends of a WebRTC session do: the collision of
/// RFC 9260 §5.2.1 resolves into one association with dcsctp, with and without loss.
#[test]
fn simultaneous_open_with_dcsctp() {
    for (seed, loss) in [(90u64, 0.0), (91, 0.2), (92, 0.2), (93, 0.2)] {
        let now = start_instant();
        let link = if loss > 0.0 {
            Link::lossy(20, loss)
        } else {
            Link::clean(20)
        };
        let mut net = Net::new(
            assoc(our_config(), seed, now),
            Dc::new(&Dc::options(), now),
            now,
            link,
            seed,
        );
        net.a.connect(now).unwrap();
        net.b.tick(now);
        net.b.sock.connect();
        assert!(
            net.run_until(Duration::from_secs(120), |n| n.a.is_established()
                && n.b.sock.state() == SocketState::Connected),
            "seed {seed}: ours {:?} dcsctp {:?}",
            net.a.state(),
            net.b.sock.state()
        );
        net.a
            .send(net.now, 0, 53, payload(1, 2000), SendOptions::default())
            .unwrap();
        dc_send(&mut net, 0, 53, payload(2, 2000), &DcSendOptions::default());
        assert!(
            net.run_until(Duration::from_secs(60), |x| ours(x).len() == 1
                && theirs(x).len() == 1)
        );
        assert_eq!(
            net.a_events
                .iter()
                .filter(|e| **e == Event::Connected)
                .count(),
            1
        );
    }
}

fn interop_interleaved(we_connect: bool, link: Link, seed: u64) -> Interop {
    let mut opts = Dc::options();
    opts.enable_message_interleaving = true;
    let cfg = Config {
        interleaving: true,
        ..our_config()
    };
    let net = interop_with(we_connect, link, seed, cfg, &opts, false);
    assert!(
        net.a.uses_interleaving(),
        "I-DATA not negotiated with dcsctp"
    );
    net
}

/// I-DATA with dcsctp (both offer it): every size both ways under loss, ordered and
/// unordered; a small message overtakes a large one both ways; PR-SCTP with
/// I-FORWARD-TSN both ways; stream reset and reuse.
#[test]
fn interleaving_with_dcsctp() {
    for (we_connect, seed) in [(true, 100u64), (false, 101)] {
        let mut net = interop_interleaved(we_connect, Link::lossy(15, 0.1), seed);
        for (i, &len) in SIZES.iter().enumerate() {
            let unordered = i % 3 == 0;
            let stream = if unordered { 7 } else { 1 };
            let opts = SendOptions {
                unordered,
                ..SendOptions::default()
            };
            net.a
                .send(net.now, stream, 53, payload(i, len), opts)
                .unwrap();
            let dopts = DcSendOptions {
                unordered,
                ..DcSendOptions::default()
            };
            dc_send(&mut net, stream, 53, payload(i, len), &dopts);
        }
        assert!(
            net.run_until(Duration::from_secs(300), |n| ours(n).len() == SIZES.len()
                && theirs(n).len() == SIZES.len()),
            "seed {seed}: ours {} theirs {} {:?}",
            ours(&net).len(),
            theirs(&net).len(),
            net.a.stats()
        );
        let _ = net.run_until(Duration::from_secs(3), |_| false);
        let mut got: Vec<usize> = ours(&net).iter().map(|m| index_of(&m.data)).collect();
        for m in ours(&net) {
            let i = index_of(&m.data);
            assert_eq!(m.data, payload(i, SIZES[i]));
        }
        let ordered: Vec<usize> = got.iter().copied().filter(|i| i % 3 != 0).collect();
        assert!(ordered.windows(2).all(|w| w[0] < w[1]));
        got.sort_unstable();
        assert_eq!(got, (0..SIZES.len()).collect::<Vec<_>>());
        for m in theirs(&net) {
            let i = index_of(&m.payload);
            assert_eq!(m.payload, payload(i, SIZES[i]));
        }
        assert_eq!(theirs(&net).len(), SIZES.len());
    }

    // Small overtakes large, both ways, on a clean path.
    let mut net = interop_interleaved(true, Link::clean(20), 102);
    net.a
        .send(net.now, 1, 53, vec![1u8; 1 << 20], SendOptions::default())
        .unwrap();
    net.a
        .send(net.now, 2, 51, b"small".to_vec(), SendOptions::default())
        .unwrap();
    dc_send(
        &mut net,
        1,
        53,
        vec![1u8; 1 << 20],
        &DcSendOptions::default(),
    );
    dc_send(
        &mut net,
        2,
        51,
        b"small".to_vec(),
        &DcSendOptions::default(),
    );
    assert!(
        net.run_until(Duration::from_secs(60), |n| ours(n).len() == 2
            && theirs(n).len() == 2)
    );
    assert_eq!(
        theirs(&net)[0].stream_id,
        StreamId(2),
        "dcsctp got the small one last"
    );
    assert_eq!(ours(&net)[0].stream, 2, "we got the small one last");

    // PR-SCTP with I-FORWARD-TSN both ways, then the stream still works.
    let mut net = interop_interleaved(true, Link::lossy(20, 0.15), 103);
    for i in 0..100 {
        let pr = SendOptions {
            max_retransmits: Some(0),
            ..SendOptions::default()
        };
        net.a.send(net.now, 6, 53, payload(i, 1500), pr).unwrap();
        let dpr = DcSendOptions {
            max_retransmissions: Some(0),
            ..DcSendOptions::default()
        };
        dc_send(&mut net, 6, 53, payload(i, 1500), &dpr);
    }
    net.a
        .send(net.now, 6, 53, payload(999, 10), SendOptions::default())
        .unwrap();
    dc_send(&mut net, 6, 53, payload(999, 10), &DcSendOptions::default());
    assert!(
        net.run_until(Duration::from_secs(600), |x| ours(x)
            .iter()
            .any(|m| m.data == payload(999, 10))
            && theirs(x).iter().any(|m| m.payload == payload(999, 10))),
        "{:?}",
        net.a.stats()
    );
    for got in [
        ours(&net)
            .iter()
            .map(|m| m.data.to_vec())
            .collect::<Vec<_>>(),
        theirs(&net)
            .iter()
            .map(|m| m.payload.clone())
            .collect::<Vec<_>>(),
    ] {
        let idx: Vec<usize> = got.iter().map(|d| index_of(d)).collect();
        assert!(
            idx.windows(2).all(|w| w[0] < w[1]),
            "order broken or duplicate: {idx:?}"
        );
        assert!(idx.len() < 101);
    }

    // Stream reset from our side, answered by dcsctp, then reuse.
    net.a.reset_streams(net.now, &[6]).unwrap();
    let mut answered = false;
    assert!(net.run_until(Duration::from_secs(60), |x| {
        if !answered
            && dc_events(x)
                .iter()
                .any(|e| matches!(e, SocketEvent::OnIncomingStreamReset(_)))
        {
            answered = true;
            x.b.tick(x.now);
            x.b.sock.reset_streams(&[StreamId(6)]).unwrap();
        }
        x.a_events.contains(&Event::OutgoingStreamsReset(vec![6]))
            && x.a_events.contains(&Event::IncomingStreamsReset(vec![6]))
    }));
    let before = (ours(&net).len(), theirs(&net).len());
    net.a
        .send(net.now, 6, 53, payload(5, 10), SendOptions::default())
        .unwrap();
    dc_send(&mut net, 6, 53, payload(5, 10), &DcSendOptions::default());
    net.trace = std::env::var("SCTP_TRACE").is_ok();
    let ok = net.run_until(Duration::from_secs(60), |x| {
        ours(x).len() == before.0 + 1 && theirs(x).len() == before.1 + 1
    });
    if !ok {
        for l in &net.trace_lines {
            eprintln!("{l}");
        }
    }
    assert!(
        ok,
        "ours {} -> {}, theirs {} -> {}",
        before.0,
        ours(&net).len(),
        before.1,
        theirs(&net).len()
    );
}
