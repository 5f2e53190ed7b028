//! rtcwire-sctp against a real peer: dcsctp (the Rust dcSCTP, Chromium's SCTP, also used by
//! Firefox), in-process, over the test network. Both roles, messages from 1 byte to 1 MiB
//! both ways, ordered and unordered, under loss, PR-SCTP, stream reset started from each
//! side, shutdown and abort from each side.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods,
    clippy::print_stderr
)]

mod common;

use std::time::Duration;

use common::dc::{Dc, DcEvent};
use common::{assoc, start_instant, Link, Net};
use dcsctp::api::{
    Message as DcMessage, PpId, SendOptions as DcSendOptions, SocketEvent, SocketState, StreamId,
};
use rtcwire_sctp::{AbortReason, Association, Config, Event, SendOptions};

type Interop = Net<Association, Dc>;

fn our_config() -> Config {
    Config {
        max_message_size: 1 << 20,
        remote_max_message_size: 1 << 20,
        ..Config::default()
    }
}

/// Sets up with `we_connect` choosing who sends INIT.
fn interop(we_connect: bool, link: Link, seed: u64) -> Interop {
    let now = start_instant();
    let dc = Dc::new(&Dc::options(), now);
    let mut net = Net::new(assoc(our_config(), seed, now), dc, now, link, seed);
    if we_connect {
        net.a.connect(now).unwrap();
    } else {
        net.b.tick(now);
        net.b.sock.connect();
    }
    assert!(
        net.run_until(Duration::from_secs(120), |n| n.a.is_established()
            && n.b.sock.state() == SocketState::Connected),
        "no setup: ours {:?}, dcsctp {:?}, refused {} ({:?})",
        net.a.state(),
        net.b.sock.state(),
        net.refused,
        net.last_refusal
    );
    net
}

fn ours(net: &Interop) -> Vec<&rtcwire_sctp::Message> {
    net.a_events
        .iter()
        .filter_map(|e| match e {
            Event::Message(m) => Some(m),
            _ => None,
        })
        .collect()
}

fn theirs(net: &Interop) -> Vec<&DcMessage> {
    net.b_events
        .iter()
        .filter_map(|e| match e {
            DcEvent::Message(m) => Some(m),
            _ => None,
        })
        .collect()
}

fn dc_events(net: &Interop) -> Vec<&SocketEvent> {
    net.b_events
        .iter()
        .filter_map(|e| match e {
            DcEvent::Socket(s) => Some(s),
            _ => None,
        })
        .collect()
}

fn dc_send(net: &mut Interop, stream: u16, ppid: u32, data: Vec<u8>, opts: &DcSendOptions) {
    net.b.tick(net.now);
    net.b
        .sock
        .send(DcMessage::new(StreamId(stream), PpId(ppid), data), opts)
        .unwrap();
}

fn payload(i: usize, len: usize) -> Vec<u8> {
    let mut v = format!("{i}:").into_bytes();
    v.resize(len.max(v.len()), (i % 253) as u8);
    v
}

#[test]
fn setup_in_both_roles() {
    for we_connect in [true, false] {
        let net = interop(we_connect, Link::clean(10), 1);
        assert_eq!(net.a_events, vec![Event::Connected]);
        assert!(net.a.peer_supports_partial_reliability());
        assert!(dc_events(&net)
            .iter()
            .any(|e| matches!(e, SocketEvent::OnConnected())));
    }
}

#[test]
fn setup_in_both_roles_under_loss() {
    for seed in 0..6 {
        let _ = interop(seed % 2 == 0, Link::lossy(20, 0.2), 10 + seed);
    }
}

const SIZES: [usize; 12] = [
    1,
    2,
    3,
    4,
    100,
    1175,
    1176,
    1177,
    65535,
    65536,
    300_000,
    1 << 20,
];

#[test]
fn messages_of_every_size_both_ways_in_both_roles() {
    for we_connect in [true, false] {
        let mut net = interop(we_connect, Link::clean(5), 2);
        for (i, &len) in SIZES.iter().enumerate() {
            net.a
                .send(net.now, 1, 53, payload(i, len), SendOptions::default())
                .unwrap();
            dc_send(&mut net, 2, 51, payload(i, len), &DcSendOptions::default());
        }
        assert!(
            net.run_until(Duration::from_secs(60), |n| ours(n).len() == SIZES.len()
                && theirs(n).len() == SIZES.len())
        );
        for (i, m) in theirs(&net).iter().enumerate() {
            assert_eq!((m.stream_id, m.ppid), (StreamId(1), PpId(53)));
            assert_eq!(m.payload, payload(i, SIZES[i]));
        }
        for (i, m) in ours(&net).iter().enumerate() {
            assert_eq!((m.stream, m.ppid), (2, 51));
            assert_eq!(m.data, payload(i, SIZES[i]));
        }
    }
}

/// Ordered and unordered streams both ways under 10 % loss, duplication and reordering:
/// every message exactly once, ordered streams in order.
#[test]
fn ordered_and_unordered_under_loss_both_ways() {
    for seed in 0..3u64 {
        let mut net = interop(seed % 2 == 0, Link::lossy(20, 0.1), 20 + seed);
        let n = 150;
        for i in 0..n {
            let unordered = i % 3 == 0;
            let stream = if unordered { 9 } else { 4 };
            let len = 1 + (i * 811) % 6000;
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
            net.run_until(Duration::from_secs(600), |x| ours(x).len() >= n
                && theirs(x).len() >= n),
            "seed {seed}: ours {} theirs {} stats {:?}",
            ours(&net).len(),
            theirs(&net).len(),
            net.a.stats()
        );
        let _ = net.run_until(Duration::from_secs(5), |_| false);
        let mut got_a: Vec<(u16, usize)> = Vec::new();
        for m in ours(&net) {
            let i: usize = String::from_utf8_lossy(&m.data[..m.data.len().min(8)])
                .split(':')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(m.data, payload(i, 1 + (i * 811) % 6000));
            assert_eq!(m.unordered, m.stream == 9);
            got_a.push((m.stream, i));
        }
        let mut got_b: Vec<(u16, usize)> = Vec::new();
        for m in theirs(&net) {
            let i: usize = String::from_utf8_lossy(&m.payload[..m.payload.len().min(8)])
                .split(':')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(m.payload, payload(i, 1 + (i * 811) % 6000));
            got_b.push((m.stream_id.0, i));
        }
        for got in [&mut got_a, &mut got_b] {
            assert_eq!(got.len(), n, "seed {seed}: a message twice");
            let ordered: Vec<usize> = got.iter().filter(|g| g.0 == 4).map(|g| g.1).collect();
            assert!(
                ordered.windows(2).all(|w| w[0] < w[1]),
                "seed {seed}: order broken"
            );
            got.sort_unstable();
            got.dedup();
            assert_eq!(got.len(), n);
        }
    }
}

/// PR-SCTP both ways: max retransmissions 0 under loss drops some messages and never
/// duplicates; a reliable stream next to it loses nothing.
#[test]
fn partial_reliability_both_ways() {
    let mut net = interop(true, Link::lossy(20, 0.15), 30);
    net.trace = std::env::var("SCTP_TRACE").is_ok();
    let n = 150;
    for i in 0..n {
        let pr = SendOptions {
            max_retransmits: Some(0),
            ..SendOptions::default()
        };
        net.a.send(net.now, 6, 53, payload(i, 500), pr).unwrap();
        net.a
            .send(net.now, 8, 53, payload(i, 100), SendOptions::default())
            .unwrap();
        let dpr = DcSendOptions {
            max_retransmissions: Some(0),
            ..DcSendOptions::default()
        };
        dc_send(&mut net, 6, 53, payload(i, 500), &dpr);
        dc_send(&mut net, 8, 53, payload(i, 100), &DcSendOptions::default());
    }
    assert!(net.run_until(Duration::from_secs(600), |x| {
        ours(x).iter().filter(|m| m.stream == 8).count() == n
            && theirs(x).iter().filter(|m| m.stream_id.0 == 8).count() == n
            && x.a.stats().flight == 0
    }));
    let _ = net.run_until(Duration::from_secs(30), |_| false);
    let pr_theirs: Vec<Vec<u8>> = theirs(&net)
        .iter()
        .filter(|m| m.stream_id.0 == 6)
        .map(|m| m.payload.clone())
        .collect();
    let pr_ours: Vec<Vec<u8>> = ours(&net)
        .iter()
        .filter(|m| m.stream == 6)
        .map(|m| m.data.to_vec())
        .collect();
    for got in [&pr_theirs, &pr_ours] {
        assert!(got.len() < n && !got.is_empty(), "{} of {n}", got.len());
        let idx: Vec<usize> = got
            .iter()
            .map(|d| {
                String::from_utf8_lossy(&d[..6])
                    .split(':')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap()
            })
            .collect();
        assert!(
            idx.windows(2).all(|w| w[0] < w[1]),
            "ordered PR stream out of order or duplicated"
        );
        for (d, i) in got.iter().zip(&idx) {
            assert_eq!(d, &payload(*i, 500));
        }
    }
    assert!(net.a.stats().abandoned_messages > 0);
    // The association stays healthy afterwards.
    net.a
        .send(net.now, 6, 53, payload(999, 10), SendOptions::default())
        .unwrap();
    // Each lost SACK of a FORWARD-TSN costs an RTO, backed off while only abandoned chunks
    // are outstanding: allow minutes of virtual time.
    let ok = net.run_until(Duration::from_secs(600), |x| {
        theirs(x).iter().any(|m| m.payload == payload(999, 10))
    });
    if !ok {
        let got: Vec<String> = theirs(&net)
            .iter()
            .filter(|m| m.stream_id.0 == 6)
            .map(|m| String::from_utf8_lossy(&m.payload[..4]).to_string())
            .collect();
        eprintln!("dcsctp got on stream 6: {got:?}");
        for l in &net.trace_lines {
            eprintln!("{l}");
        }
    }
    assert!(
        ok,
        "{:?} {:?} {:?} {:?}",
        net.a.stats(),
        net.b.sock.state(),
        net.last_refusal,
        dc_events(&net)
            .iter()
            .filter(|e| !matches!(e, SocketEvent::OnBufferedAmountLow(_)))
            .collect::<Vec<_>>()
    );
}

fn reset_events_ours(net: &Interop) -> (bool, bool) {
    (
        net.a_events.contains(&Event::OutgoingStreamsReset(vec![3])),
        net.a_events.contains(&Event::IncomingStreamsReset(vec![3])),
    )
}

/// We reset stream 3; dcsctp reports the incoming reset and (as a browser does) resets its
/// own outgoing stream 3; both ends reach "closed". Then the stream is reused from 0.
#[test]
fn stream_reset_started_by_us() {
    let mut net = interop(true, Link::lossy(10, 0.05), 40);
    for i in 0..5 {
        net.a
            .send(net.now, 3, 53, payload(i, 3000), SendOptions::default())
            .unwrap();
        dc_send(&mut net, 3, 53, payload(i, 3000), &DcSendOptions::default());
    }
    net.a.reset_streams(net.now, &[3]).unwrap();
    let mut answered = false;
    assert!(net.run_until(Duration::from_secs(60), |x| {
        if !answered
            && dc_events(x).iter().any(
                |e| matches!(e, SocketEvent::OnIncomingStreamReset(s) if s == &vec![StreamId(3)]),
            )
        {
            answered = true;
            x.b.tick(x.now);
            x.b.sock.reset_streams(&[StreamId(3)]).unwrap();
        }
        let (out, inc) = reset_events_ours(x);
        out && inc
            && dc_events(x).iter().any(
                |e| matches!(e, SocketEvent::OnStreamsResetPerformed(s) if s == &vec![StreamId(3)]),
            )
    }));
    assert_eq!(theirs(&net).len(), 5);
    assert_eq!(ours(&net).len(), 5);
    net.a
        .send(net.now, 3, 53, payload(7, 10), SendOptions::default())
        .unwrap();
    dc_send(&mut net, 3, 53, payload(7, 10), &DcSendOptions::default());
    assert!(
        net.run_until(Duration::from_secs(60), |x| theirs(x).len() == 6
            && ours(x).len() == 6)
    );
}

/// dcsctp resets stream 3; we report it and answer with our own reset automatically.
#[test]
fn stream_reset_started_by_dcsctp() {
    let mut net = interop(false, Link::lossy(10, 0.05), 41);
    for i in 0..5 {
        net.a
            .send(net.now, 3, 53, payload(i, 3000), SendOptions::default())
            .unwrap();
        dc_send(&mut net, 3, 53, payload(i, 3000), &DcSendOptions::default());
    }
    // dcsctp drops messages still queued on a stream it resets (its documented behaviour),
    // so let its messages arrive first.
    assert!(net.run_until(Duration::from_secs(60), |x| ours(x).len() == 5));
    net.b.tick(net.now);
    net.b.sock.reset_streams(&[StreamId(3)]).unwrap();
    assert!(net.run_until(Duration::from_secs(60), |x| {
        let (out, inc) = reset_events_ours(x);
        let ev = dc_events(x);
        out && inc
            && ev.iter().any(
                |e| matches!(e, SocketEvent::OnStreamsResetPerformed(s) if s == &vec![StreamId(3)]),
            )
            && ev.iter().any(
                |e| matches!(e, SocketEvent::OnIncomingStreamReset(s) if s == &vec![StreamId(3)]),
            )
    }));
    let _ = net.run_until(Duration::from_secs(5), |_| false);
    assert_eq!(theirs(&net).len(), 5);
    assert_eq!(ours(&net).len(), 5);
    net.a
        .send(net.now, 3, 53, payload(8, 10), SendOptions::default())
        .unwrap();
    dc_send(&mut net, 3, 53, payload(8, 10), &DcSendOptions::default());
    assert!(
        net.run_until(Duration::from_secs(60), |x| theirs(x).len() == 6
            && ours(x).len() == 6)
    );
}

#[test]
fn shutdown_started_by_either_side() {
    let mut net = interop(true, Link::clean(10), 50);
    net.a
        .send(net.now, 0, 53, payload(1, 5000), SendOptions::default())
        .unwrap();
    net.a.shutdown(net.now);
    assert!(net.run_until(Duration::from_secs(30), |x| x.a.is_closed()
        && x.b.sock.state() == SocketState::Closed));
    assert_eq!(theirs(&net).len(), 1);
    assert_eq!(net.a_events.last(), Some(&Event::Closed));

    let mut net = interop(false, Link::clean(10), 51);
    dc_send(&mut net, 0, 53, payload(1, 5000), &DcSendOptions::default());
    net.b.tick(net.now);
    net.b.sock.shutdown();
    assert!(net.run_until(Duration::from_secs(30), |x| x.a.is_closed()
        && x.b.sock.state() == SocketState::Closed));
    assert_eq!(ours(&net).len(), 1);
    assert_eq!(net.a_events.last(), Some(&Event::Closed));
}

#[test]
fn abort_from_either_side() {
    let mut net = interop(true, Link::clean(10), 60);
    net.b.tick(net.now);
    net.b.sock.close();
    assert!(net.run_until(Duration::from_secs(10), |x| x.a.is_closed()));
    assert!(matches!(
        net.a_events.last(),
        Some(Event::Aborted(AbortReason::PeerAbort(_)))
    ));

    let mut net = interop(true, Link::clean(10), 61);
    net.a.abort();
    assert!(net.run_until(Duration::from_secs(10), |x| dc_events(x)
        .iter()
        .any(|e| matches!(e, SocketEvent::OnAborted(..)))));
}

/// RFC 9653 zero checksum with the DTLS method, announced by both: after setup, packets go
/// with a zero checksum field both ways and data flows. Announced by one side only: every
/// packet carries its CRC-32c (negotiated per direction; dcsctp treats it as symmetric).
#[test]
fn zero_checksum_when_both_announce_it() {
    for (ours_on, theirs_on) in [(true, true), (true, false), (false, true)] {
        for we_connect in [true, false] {
            let now = start_instant();
            let mut opts = Dc::options();
            if theirs_on {
                opts.zero_checksum_alternate_error_detection_method =
                    dcsctp::api::ZERO_CHECKSUM_ALTERNATE_ERROR_DETECTION_METHOD_LOWER_LAYER_DTLS;
            }
            let cfg = Config {
                zero_checksum: ours_on,
                ..our_config()
            };
            let mut net = Net::new(
                assoc(cfg, 80, now),
                Dc::new(&opts, now),
                now,
                Link::clean(10),
                80,
            );
            net.trace = true;
            if we_connect {
                net.a.connect(now).unwrap();
            } else {
                net.b.tick(now);
                net.b.sock.connect();
            }
            assert!(
                net.run_until(Duration::from_secs(30), |n| n.a.is_established()
                    && n.b.sock.state() == SocketState::Connected)
            );
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
    let now = start_instant();
    let mut opts = Dc::options();
    opts.enable_message_interleaving = true;
    let cfg = Config {
        interleaving: true,
        ..our_config()
    };
    let mut net = Net::new(assoc(cfg, seed, now), Dc::new(&opts, now), now, link, seed);
    if we_connect {
        net.a.connect(now).unwrap();
    } else {
        net.b.tick(now);
        net.b.sock.connect();
    }
    assert!(
        net.run_until(Duration::from_secs(120), |n| n.a.is_established()
            && n.b.sock.state() == SocketState::Connected)
    );
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
        let mut got: Vec<usize> = ours(&net)
            .iter()
            .map(|m| {
                String::from_utf8_lossy(&m.data[..m.data.len().min(4)])
                    .split(':')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap()
            })
            .collect();
        for m in ours(&net) {
            let i: usize = String::from_utf8_lossy(&m.data[..m.data.len().min(4)])
                .split(':')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(m.data, payload(i, SIZES[i]));
        }
        let ordered: Vec<usize> = got.iter().copied().filter(|i| i % 3 != 0).collect();
        assert!(ordered.windows(2).all(|w| w[0] < w[1]));
        got.sort_unstable();
        assert_eq!(got, (0..SIZES.len()).collect::<Vec<_>>());
        for m in theirs(&net) {
            let i: usize = String::from_utf8_lossy(&m.payload[..m.payload.len().min(4)])
                .split(':')
                .next()
                .unwrap()
                .parse()
                .unwrap();
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
        let idx: Vec<usize> = got
            .iter()
            .map(|d| {
                String::from_utf8_lossy(&d[..4])
                    .split(':')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap()
            })
            .collect();
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
