//! Two rtcwire-sctp associations over the test network: setup, data under loss,
//! PR-SCTP, failure detection, shutdown, abort, stream reset, flow control.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods,
    clippy::print_stderr
)]

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::{assoc, start_instant, Link, Net};
use rtcwire_proto::{Datagram, SansIo};
use rtcwire_sctp::{AbortReason, Association, Config, Error, Event, SendOptions, State};

type Pair = Net<Association, Association>;

fn pair_with(ca: Config, cb: Config, link: Link, seed: u64) -> Pair {
    let now = start_instant();
    let mut net = Net::new(
        assoc(ca, seed, now),
        assoc(cb, seed + 1000, now),
        now,
        link,
        seed,
    );
    net.a.connect(now).unwrap();
    net.trace = std::env::var("SCTP_TRACE").is_ok();
    let ok = net.run_until(Duration::from_secs(300), |n| {
        n.a.is_established() && n.b.is_established()
    });
    if !ok {
        for l in &net.trace_lines {
            eprintln!("{l}");
        }
    }
    assert!(
        ok,
        "no setup: {:?} / {:?} {:?} lost {} delivered {}",
        n_state(&net.a),
        n_state(&net.b),
        net.a_events,
        net.lost,
        net.delivered
    );
    net
}

fn n_state(a: &Association) -> State {
    a.state()
}

fn big_config() -> Config {
    Config {
        max_message_size: 1 << 20,
        remote_max_message_size: 1 << 20,
        ..Config::default()
    }
}

fn pair(link: Link, seed: u64) -> Pair {
    pair_with(big_config(), big_config(), link, seed)
}

fn messages(events: &[Event]) -> Vec<&rtcwire_sctp::Message> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Message(m) => Some(m),
            _ => None,
        })
        .collect()
}

fn payload(stream: u16, i: usize, len: usize) -> Vec<u8> {
    let mut v = format!("{stream}:{i}:").into_bytes();
    v.resize(len.max(v.len()), (i % 251) as u8);
    v
}

#[test]
fn setup_reports_connected_once_on_both_sides() {
    let net = pair(Link::clean(10), 1);
    assert_eq!(net.a_events, vec![Event::Connected]);
    assert_eq!(net.b_events, vec![Event::Connected]);
    assert!(net.a.peer_supports_partial_reliability());
}

#[test]
fn simultaneous_open_collision_establishes() {
    for seed in 0..5 {
        let now = start_instant();
        let mut net = Net::new(
            assoc(big_config(), seed, now),
            assoc(big_config(), seed + 7, now),
            now,
            Link::lossy(20, 0.1),
            seed,
        );
        net.a.connect(now).unwrap();
        net.b.connect(now).unwrap();
        assert!(
            net.run_until(Duration::from_secs(60), |n| n.a.is_established()
                && n.b.is_established())
        );
        net.a
            .send(net.now, 0, 53, vec![1u8; 10], SendOptions::default())
            .unwrap();
        assert!(
            net.run_until(Duration::from_secs(60), |n| !messages(&n.b_events)
                .is_empty())
        );
    }
}

#[test]
fn setup_survives_loss() {
    for seed in 0..10 {
        let _ = pair(Link::lossy(30, 0.3), seed);
    }
}

#[test]
fn messages_from_one_byte_to_one_mebibyte_both_ways() {
    let mut net = pair(Link::clean(5), 2);
    let sizes = [
        1usize,
        2,
        3,
        100,
        1000,
        1176,
        1177,
        1180,
        4096,
        65535,
        65536,
        300_000,
        1 << 20,
    ];
    for (i, &s) in sizes.iter().enumerate() {
        net.a
            .send(net.now, 1, 53, payload(1, i, s), SendOptions::default())
            .unwrap();
        net.b
            .send(net.now, 2, 51, payload(2, i, s), SendOptions::default())
            .unwrap();
        let want = i + 1;
        assert!(
            net.run_until(Duration::from_secs(60), |n| messages(&n.a_events).len()
                == want
                && messages(&n.b_events).len() == want)
        );
    }
    for (i, m) in messages(&net.b_events).iter().enumerate() {
        assert_eq!(m.data, payload(1, i, sizes[i]));
        assert_eq!((m.stream, m.ppid), (1, 53));
    }
    for (i, m) in messages(&net.a_events).iter().enumerate() {
        assert_eq!(m.data, payload(2, i, sizes[i]));
    }
}

/// Every message exactly once; ordered streams in order; under 10 % loss, duplication and
/// reordering, in both directions, on several seeds.
#[test]
fn lossy_link_delivers_every_message_exactly_once_in_order() {
    for seed in 0..6u64 {
        // Odd seeds with I-DATA (RFC 8260) negotiated, even ones with DATA.
        let cfg = Config {
            interleaving: seed % 2 == 1,
            ..big_config()
        };
        let mut net = pair_with(cfg.clone(), cfg, Link::lossy(20, 0.1), 100 + seed);
        assert_eq!(net.a.uses_interleaving(), seed % 2 == 1);
        let per_stream = 60;
        let streams = [0u16, 1, 2, 7];
        for i in 0..per_stream {
            for &s in &streams {
                let unordered = s == 7;
                let len = 1 + (i * 397 + usize::from(s) * 1000) % 5000;
                let opts = SendOptions {
                    unordered,
                    ..SendOptions::default()
                };
                net.a
                    .send(net.now, s, 53, payload(s, i, len), opts)
                    .unwrap();
                net.b
                    .send(net.now, s, 53, payload(s, i, len / 2 + 1), opts)
                    .unwrap();
            }
        }
        let total = per_stream * streams.len();
        assert!(
            net.run_until(Duration::from_secs(600), |n| messages(&n.b_events).len()
                >= total
                && messages(&n.a_events).len() >= total),
            "seed {seed}: {} / {} delivered, stats {:?}",
            messages(&net.b_events).len(),
            messages(&net.a_events).len(),
            net.a.stats()
        );
        // Let duplicates and late retransmissions arrive.
        let _ = net.run_until(Duration::from_secs(5), |_| false);
        for (events, half) in [(&net.b_events, false), (&net.a_events, true)] {
            let ms = messages(events);
            assert_eq!(ms.len(), total, "seed {seed}: duplicates delivered");
            let mut seen: HashMap<u16, Vec<usize>> = HashMap::new();
            for m in ms {
                let text = String::from_utf8_lossy(&m.data[..m.data.len().min(12)]).to_string();
                let mut parts = text.split(':');
                let s: u16 = parts.next().unwrap().parse().unwrap();
                let i: usize = parts.next().unwrap().parse().unwrap();
                assert_eq!(s, m.stream);
                let len = 1 + (i * 397 + usize::from(s) * 1000) % 5000;
                let len = if half { len / 2 + 1 } else { len };
                assert_eq!(m.data, payload(s, i, len));
                seen.entry(s).or_default().push(i);
            }
            for (s, mut v) in seen {
                if s != 7 {
                    assert!(
                        v.windows(2).all(|w| w[0] < w[1]),
                        "seed {seed}: stream {s} out of order"
                    );
                }
                v.sort_unstable();
                assert_eq!(v, (0..per_stream).collect::<Vec<_>>());
            }
        }
        assert!(net.a.stats().retransmissions > 0);
    }
}

/// PR-SCTP with no retransmissions: what arrives is intact and unique, what is lost was
/// only on the partially reliable stream; the reliable stream beside it is complete.
#[test]
fn partial_reliability_drops_only_what_policy_allows() {
    for seed in 0..4u64 {
        let cfg = Config {
            interleaving: seed % 2 == 1,
            ..big_config()
        };
        let mut net = pair_with(cfg.clone(), cfg, Link::lossy(20, 0.15), 300 + seed);
        let n = 200;
        for i in 0..n {
            let pr = SendOptions {
                unordered: i % 2 == 0,
                max_retransmits: Some(0),
                lifetime: None,
            };
            net.a
                .send(net.now, 3, 53, payload(3, i, 300 + i * 7), pr)
                .unwrap();
            net.a
                .send(net.now, 4, 53, payload(4, i, 200), SendOptions::default())
                .unwrap();
        }
        assert!(net.run_until(Duration::from_secs(600), |n2| {
            messages(&n2.b_events)
                .iter()
                .filter(|m| m.stream == 4)
                .count()
                == n
                && n2.a.stats().flight == 0
                && n2.a.total_buffered_amount() == 0
        }));
        let _ = net.run_until(Duration::from_secs(10), |_| false);
        let ms = messages(&net.b_events);
        let reliable: Vec<_> = ms.iter().filter(|m| m.stream == 4).collect();
        assert_eq!(reliable.len(), n);
        let pr: Vec<_> = ms.iter().filter(|m| m.stream == 3).collect();
        let mut ids: Vec<usize> = Vec::new();
        for m in &pr {
            let text = String::from_utf8_lossy(&m.data[..10]).to_string();
            let i: usize = text.split(':').nth(1).unwrap().parse().unwrap();
            assert_eq!(m.data, payload(3, i, 300 + i * 7));
            ids.push(i);
        }
        let ordered: Vec<usize> = ids.iter().copied().filter(|i| i % 2 == 1).collect();
        assert!(
            ordered.windows(2).all(|w| w[0] < w[1]),
            "ordered PR messages out of order"
        );
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), pr.len(), "a PR message delivered twice");
        let stats = net.a.stats();
        assert!(pr.len() < n, "seed {seed}: nothing dropped under 15% loss");
        assert!(stats.abandoned_messages > 0);
        assert!(
            pr.len() + stats.abandoned_messages as usize >= n,
            "seed {seed}: {} delivered + {} abandoned < {n}",
            pr.len(),
            stats.abandoned_messages
        );
    }
}

#[test]
fn lifetime_expiry_abandons_messages_while_the_link_is_down() {
    let mut net = pair(Link::clean(10), 5);
    net.a_to_b.up = false;
    let pr = SendOptions {
        unordered: false,
        max_retransmits: None,
        lifetime: Some(Duration::from_millis(500)),
    };
    for i in 0..5 {
        net.a.send(net.now, 1, 53, payload(1, i, 3000), pr).unwrap();
    }
    let _ = net.run_until(Duration::from_secs(2), |_| false);
    net.a_to_b.up = true;
    net.a
        .send(net.now, 1, 53, payload(1, 99, 10), SendOptions::default())
        .unwrap();
    assert!(
        net.run_until(Duration::from_secs(30), |n| !messages(&n.b_events)
            .is_empty())
    );
    let ms = messages(&net.b_events);
    assert_eq!(ms.len(), 1, "expired messages were delivered");
    assert_eq!(ms[0].data, payload(1, 99, 10));
    assert_eq!(net.a.stats().abandoned_messages, 5);
}

#[test]
fn dead_peer_ends_the_association_on_time() {
    let cfg = Config {
        max_retransmissions: Some(4),
        rto_max: Duration::from_secs(4),
        ..big_config()
    };
    let mut net = pair_with(cfg.clone(), cfg, Link::clean(10), 6);
    net.a_to_b.up = false;
    net.b_to_a.up = false;
    let t0 = net.now;
    net.a
        .send(net.now, 0, 53, vec![1u8; 100], SendOptions::default())
        .unwrap();
    assert!(net.run_until(Duration::from_secs(120), |n| n.a.is_closed()));
    assert_eq!(
        net.a_events.last(),
        Some(&Event::Aborted(AbortReason::MaxRetransmissions))
    );
    let took = net.now - t0;
    // No RTT measured yet: RTO.Initial 1 s doubling to the 4 s cap, 1+2+4+4+4 = 15 s, and
    // the fifth expiry exceeds Max.Retrans 4.
    assert!(
        took >= Duration::from_secs(15) && took <= Duration::from_millis(15_100),
        "{took:?}"
    );
    assert_eq!(net.a.poll_timeout(), None);
    assert_eq!(
        net.a.handle_read(net.now, Datagram::on_path(&[0; 12])),
        Err(Error::Closed)
    );
}

#[test]
fn idle_dead_peer_is_found_by_heartbeats() {
    let cfg = Config {
        max_retransmissions: Some(2),
        heartbeat_interval: Some(Duration::from_secs(1)),
        rto_max: Duration::from_secs(2),
        ..big_config()
    };
    let mut net = pair_with(cfg.clone(), cfg, Link::clean(10), 7);
    // Heartbeats keep a healthy idle association up.
    let _ = net.run_until(Duration::from_secs(10), |_| false);
    assert!(net.a.is_established() && net.b.is_established());
    net.a_to_b.up = false;
    net.b_to_a.up = false;
    let t0 = net.now;
    assert!(net.run_until(Duration::from_secs(60), |n| n.a.is_closed()
        && n.b.is_closed()));
    assert!(net
        .a_events
        .contains(&Event::Aborted(AbortReason::MaxRetransmissions)));
    assert!(net.now - t0 < Duration::from_secs(10));
}

#[test]
fn graceful_shutdown_delivers_queued_data_then_closes_both() {
    let mut net = pair(Link::lossy(10, 0.1), 8);
    for i in 0..20 {
        net.a
            .send(net.now, 0, 53, payload(0, i, 2000), SendOptions::default())
            .unwrap();
    }
    net.a.shutdown(net.now);
    net.trace = std::env::var("SCTP_TRACE").is_ok();
    let ok = net.run_until(Duration::from_secs(120), |n| {
        n.a.is_closed() && n.b.is_closed()
    });
    if !ok {
        for l in &net.trace_lines[net.trace_lines.len().saturating_sub(40)..] {
            eprintln!("{l}");
        }
    }
    assert!(
        ok,
        "{:?} {:?} {:?} {:?}",
        net.a.state(),
        net.b.state(),
        net.a_events.last(),
        net.b_events.last()
    );
    assert_eq!(messages(&net.b_events).len(), 20);
    assert_eq!(net.a_events.last(), Some(&Event::Closed));
    assert_eq!(net.b_events.last(), Some(&Event::Closed));
}

#[test]
fn abort_reaches_the_peer() {
    let mut net = pair(Link::clean(10), 9);
    net.a.abort();
    assert!(net.run_until(Duration::from_secs(5), |n| n.b.is_closed()));
    assert_eq!(
        net.a_events.last(),
        Some(&Event::Aborted(AbortReason::Local))
    );
    assert!(matches!(
        net.b_events.last(),
        Some(Event::Aborted(AbortReason::PeerAbort(Some(12))))
    ));
}

#[test]
fn stream_reset_is_answered_and_streams_restart_at_zero() {
    let mut net = pair(Link::lossy(10, 0.1), 10);
    for i in 0..10 {
        net.a
            .send(net.now, 5, 53, payload(5, i, 500), SendOptions::default())
            .unwrap();
        net.b
            .send(net.now, 5, 53, payload(5, i, 500), SendOptions::default())
            .unwrap();
    }
    net.a.reset_streams(net.now, &[5]).unwrap();
    assert_eq!(
        net.a.send(net.now, 5, 53, vec![1], SendOptions::default()),
        Err(Error::StreamResetting(5))
    );
    assert!(net.run_until(Duration::from_secs(60), |n| {
        n.a_events.contains(&Event::OutgoingStreamsReset(vec![5]))
            && n.b_events.contains(&Event::OutgoingStreamsReset(vec![5]))
    }));
    assert!(net.b_events.contains(&Event::IncomingStreamsReset(vec![5])));
    assert!(net.a_events.contains(&Event::IncomingStreamsReset(vec![5])));
    assert_eq!(messages(&net.b_events).len(), 10);
    // All queued data came before the reset on both sides.
    assert_eq!(messages(&net.a_events).len(), 10);
    // The stream is usable again, starting from sequence number 0 on both sides.
    net.a
        .send(net.now, 5, 53, payload(5, 100, 10), SendOptions::default())
        .unwrap();
    net.b
        .send(net.now, 5, 53, payload(5, 100, 10), SendOptions::default())
        .unwrap();
    assert!(
        net.run_until(Duration::from_secs(60), |n| messages(&n.b_events).len()
            == 11
            && messages(&n.a_events).len() == 11)
    );
}

#[test]
fn send_buffer_is_bounded_and_reports_low_water() {
    let cfg = Config {
        send_buffer: 100_000,
        stream_send_buffer: 60_000,
        total_buffered_amount_low: 10_000,
        ..big_config()
    };
    let mut net = pair_with(cfg, big_config(), Link::clean(20), 11);
    net.a.set_buffered_amount_low_threshold(1, 5_000);
    net.a
        .send(net.now, 1, 53, vec![0u8; 50_000], SendOptions::default())
        .unwrap();
    assert_eq!(
        net.a
            .send(net.now, 1, 53, vec![0u8; 20_000], SendOptions::default()),
        Err(Error::BufferFull)
    );
    net.a
        .send(net.now, 2, 53, vec![0u8; 45_000], SendOptions::default())
        .unwrap();
    assert_eq!(
        net.a
            .send(net.now, 3, 53, vec![0u8; 10_000], SendOptions::default()),
        Err(Error::BufferFull)
    );
    assert_eq!(net.a.buffered_amount(1), 50_000);
    assert_eq!(net.a.total_buffered_amount(), 95_000);
    assert!(
        net.run_until(Duration::from_secs(30), |n| messages(&n.b_events).len()
            == 2)
    );
    assert!(net.a_events.contains(&Event::BufferedAmountLow(1)));
    assert!(net.a_events.contains(&Event::TotalBufferedAmountLow));
    assert_eq!(net.a.total_buffered_amount(), 0);
}

#[test]
fn application_calls_are_checked() {
    let mut net = pair(Link::clean(1), 12);
    let now = net.now;
    assert_eq!(
        net.a.send(now, 0, 53, Vec::new(), SendOptions::default()),
        Err(Error::EmptyMessage)
    );
    assert!(matches!(
        net.a
            .send(now, 0, 53, vec![0; (1 << 20) + 1], SendOptions::default()),
        Err(Error::MessageTooLarge { .. })
    ));
    let mut idle = assoc(Config::default(), 5, now);
    assert_eq!(
        idle.send(now, 0, 53, vec![1], SendOptions::default()),
        Err(Error::NotEstablished)
    );
}

#[test]
fn small_receive_window_delivers_everything_in_order() {
    let cb = Config {
        receive_window: 64 * 1024,
        ..big_config()
    };
    let mut net = pair_with(big_config(), cb, Link::clean(5), 13);
    for i in 0..100 {
        net.a
            .send(
                net.now,
                0,
                53,
                payload(0, i, 10_000),
                SendOptions::default(),
            )
            .unwrap();
    }
    // A 64 KiB window against 1 MB queued: the sender is paced by the window.
    let _ = net.run_until(Duration::from_secs(30), |n| {
        messages(&n.b_events).len() == 100
    });
    assert_eq!(messages(&net.b_events).len(), 100);
    for (i, m) in messages(&net.b_events).iter().enumerate() {
        assert_eq!(m.data, payload(0, i, 10_000));
    }
}

#[test]
fn refused_packets_leave_the_association_unchanged() {
    let mut net = pair(Link::clean(5), 14);
    net.a
        .send(net.now, 0, 53, vec![7u8; 100], SendOptions::default())
        .unwrap();
    let mut buf = Vec::new();
    let t = net.a.poll_transmit(net.now, &mut buf).unwrap();
    assert_eq!(t.size, buf.len());
    // Bad checksum.
    let mut bad = buf.clone();
    *bad.last_mut().unwrap() ^= 1;
    assert!(matches!(
        net.b.handle_read(net.now, Datagram::on_path(&bad)),
        Err(Error::BadChecksum { .. })
    ));
    // Wrong verification tag (checksum fixed up).
    let mut bad = buf.clone();
    bad[4] ^= 1;
    rtcwire_sctp::wire::finish_packet(&mut bad);
    assert_eq!(
        net.b.handle_read(net.now, Datagram::on_path(&bad)),
        Err(Error::WrongVerificationTag)
    );
    // Wrong port.
    let mut bad = buf.clone();
    bad[2] ^= 1;
    rtcwire_sctp::wire::finish_packet(&mut bad);
    assert_eq!(
        net.b.handle_read(net.now, Datagram::on_path(&bad)),
        Err(Error::WrongPort)
    );
    assert!(net.b.poll_event().is_none());
    // The genuine packet still works.
    net.b.handle_read(net.now, Datagram::on_path(&buf)).unwrap();
    assert!(matches!(net.b.poll_event(), Some(Event::Message(_))));
}

#[test]
fn oversized_incoming_message_aborts() {
    let cb = Config {
        max_message_size: 10_000,
        ..big_config()
    };
    let mut net = pair_with(big_config(), cb, Link::clean(5), 15);
    net.a
        .send(net.now, 0, 53, vec![1u8; 50_000], SendOptions::default())
        .unwrap();
    assert!(net.run_until(Duration::from_secs(10), |n| n.a.is_closed()
        && n.b.is_closed()));
    assert_eq!(
        net.b_events.last(),
        Some(&Event::Aborted(AbortReason::MessageTooLarge))
    );
}

#[test]
fn poll_transmit_appends_one_packet_within_the_mtu() {
    let mut net = pair(Link::clean(5), 16);
    net.a
        .send(net.now, 0, 53, vec![3u8; 100_000], SendOptions::default())
        .unwrap();
    let mut buf = vec![0xAA; 7];
    let t = net.a.poll_transmit(net.now, &mut buf).unwrap();
    assert_eq!(&buf[..7], &[0xAA; 7]);
    assert_eq!(t.size, buf.len() - 7);
    assert!(t.size <= 1191 && t.size > 1100, "{}", t.size);
}

#[test]
fn bulk_transfer_fills_the_path() {
    // 8 MiB over a 10 ms one-way path with no loss: slow start seeded from the peer's
    // window lets it finish in well under a second of virtual time.
    let mut net = pair(Link::clean(10), 17);
    let total = 128;
    let mut sent = 0;
    let t0 = net.now;
    while messages(&net.b_events).len() < total {
        while sent < total && net.a.total_buffered_amount() < 1 << 20 {
            net.a
                .send(net.now, 0, 53, vec![9u8; 65536], SendOptions::default())
                .unwrap();
            sent += 1;
        }
        assert!(net.step());
        assert!(net.now - t0 < Duration::from_secs(30));
    }
    let took = net.now - t0;
    assert!(
        took < Duration::from_secs(2),
        "{took:?} {:?}",
        net.a.stats()
    );
}

/// A partially reliable message abandoned while only its first fragments were sent: the
/// receiver must be told to skip it (a placeholder end with its own TSN keeps the FORWARD
/// TSN needed), or the ordered stream behind it stalls for good.
#[test]
fn message_abandoned_mid_send_does_not_block_its_stream() {
    let mut net = pair(Link::clean(20), 18);
    let pr = SendOptions {
        max_retransmits: Some(0),
        ..SendOptions::default()
    };
    // 60 KB: more than the initial congestion window, so only part of it goes out. All of
    // that part arrives, but every SACK back is lost: T3 fires, the message is abandoned
    // with its rest unsent, and the receiver has already passed the fragments it holds.
    net.b_to_a.up = false;
    net.a.send(net.now, 1, 53, vec![1u8; 60_000], pr).unwrap();
    let _ = net.run_until(Duration::from_secs(3), |_| false);
    assert!(net.a.stats().t3_expiries > 0);
    assert!(
        net.a.stats().data_chunks_sent < 60_000 / 1100,
        "the whole message went out"
    );
    net.b_to_a.up = true;
    net.a
        .send(net.now, 1, 53, b"after".to_vec(), SendOptions::default())
        .unwrap();
    assert!(
        net.run_until(Duration::from_secs(60), |n| messages(&n.b_events)
            .iter()
            .any(|m| m.data == b"after"))
    );
    assert_eq!(
        messages(&net.b_events).len(),
        1,
        "the abandoned message was delivered"
    );
    assert_eq!(net.a.stats().abandoned_messages, 1);
}

/// The peer asks us to reset our outgoing stream (an incoming SSN reset request, forged
/// here as B would send it): we answer "nothing to do" and reset the stream with a request
/// of our own, which B sees as an incoming reset.
#[test]
fn incoming_reset_request_makes_us_reset_our_stream() {
    use rtcwire_sctp::wire::{Chunk, CommonHeader, List, Packet, ReConfig, ReconfigParam};
    let mut net = pair(Link::clean(5), 19);
    net.a
        .send(net.now, 4, 53, vec![1u8; 10], SendOptions::default())
        .unwrap();
    assert!(net.run_until(Duration::from_secs(5), |n| messages(&n.b_events).len() == 1));
    // B's first DATA carries its initial TSN, which is also its first request sequence
    // number (RFC 6525 §4.1); its header carries the tag A expects.
    net.b
        .send(net.now, 9, 53, vec![2u8; 10], SendOptions::default())
        .unwrap();
    let mut buf = Vec::new();
    let _ = net.b.poll_transmit(net.now, &mut buf).unwrap();
    let packet = Packet::parse(&buf).unwrap();
    let tag = packet.header.verification_tag;
    let first_tsn = packet
        .chunks()
        .filter_map(|c| Chunk::parse(&c.unwrap()).ok())
        .find_map(|c| match c {
            Chunk::Data(d) => Some(d.tsn),
            _ => None,
        })
        .unwrap();
    net.a.handle_read(net.now, Datagram::on_path(&buf)).unwrap();
    let forge = |seq: u32| {
        let mut p = Vec::new();
        CommonHeader {
            source_port: 5000,
            destination_port: 5000,
            verification_tag: tag,
        }
        .emit(&mut p);
        let mut param = Vec::new();
        ReconfigParam::IncomingReset {
            request_seq: seq,
            streams: List::Items(&[4]),
        }
        .emit(&mut param);
        ReConfig { params: &param }.emit(&mut p);
        rtcwire_sctp::wire::finish_packet(&mut p);
        p
    };
    // A wrong sequence number changes nothing.
    net.a
        .handle_read(
            net.now,
            Datagram::on_path(&forge(first_tsn.wrapping_add(7))),
        )
        .unwrap();
    let _ = net.run_until(Duration::from_secs(2), |_| false);
    assert!(!net
        .a_events
        .iter()
        .any(|e| matches!(e, Event::OutgoingStreamsReset(_))));
    // The right one: A resets its outgoing stream 4.
    net.a
        .handle_read(net.now, Datagram::on_path(&forge(first_tsn)))
        .unwrap();
    assert!(net.run_until(Duration::from_secs(10), |n| n
        .a_events
        .contains(&Event::OutgoingStreamsReset(vec![4]))
        && n.b_events.contains(&Event::IncomingStreamsReset(vec![4]))));
}

/// A reader that does not take its messages closes the window: the sender stops (what is
/// held stays within the window), then resumes when the reader takes them — the window
/// update goes out without waiting for more data.
#[test]
fn receive_window_closes_for_a_slow_reader_and_reopens() {
    let window = 64 * 1024;
    let cb = Config {
        receive_window: window,
        ..big_config()
    };
    let now = start_instant();
    let mut a = assoc(big_config(), 30, now);
    let mut b = assoc(cb, 31, now);
    a.connect(now).unwrap();
    let mut now = now;
    let mut buf = Vec::new();
    let mut step =
        |a: &mut Association, b: &mut Association, now: Instant, take_b: bool| -> usize {
            let mut got = 0;
            for _ in 0..1000 {
                let mut moved = false;
                buf.clear();
                if let Some(t) = a.poll_transmit(now, &mut buf) {
                    let _ = b.handle_read(now, Datagram::on_path(&buf[..t.size]));
                    moved = true;
                }
                buf.clear();
                if let Some(t) = b.poll_transmit(now, &mut buf) {
                    let _ = a.handle_read(now, Datagram::on_path(&buf[..t.size]));
                    moved = true;
                }
                while a.poll_event().is_some() {}
                if take_b {
                    while let Some(e) = b.poll_event() {
                        if let Event::Message(m) = e {
                            got += m.data.len();
                        }
                    }
                }
                if !moved {
                    break;
                }
            }
            got
        };
    for _ in 0..10 {
        step(&mut a, &mut b, now, true);
    }
    assert!(a.is_established() && b.is_established());
    for _ in 0..20 {
        a.send(now, 0, 53, vec![5u8; 50_000], SendOptions::default())
            .unwrap();
    }
    // B's application sleeps for ten minutes of virtual time: timers fire, nothing is
    // taken; A probes the zero window, and the SACKs B answers with keep it alive.
    let asleep = now;
    while now - asleep < Duration::from_secs(600) {
        step(&mut a, &mut b, now, false);
        let next = [a.poll_timeout(), b.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
            .unwrap();
        now = now.max(next);
        a.handle_timeout(now);
        b.handle_timeout(now);
    }
    let s = b.stats();
    assert!(s.rwnd < 2000, "window still open: {s:?}");
    assert!(a.total_buffered_amount() > 0, "the sender did not stop");
    assert!(
        a.is_established() && b.is_established(),
        "zero window must not kill the association"
    );
    // B takes everything: the window reopens and the transfer completes.
    let mut got = 0;
    for _ in 0..10_000 {
        got += step(&mut a, &mut b, now, true);
        if got == 20 * 50_000 {
            break;
        }
        if let Some(next) = [a.poll_timeout(), b.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
        {
            now = now.max(next);
            a.handle_timeout(now);
            b.handle_timeout(now);
        }
    }
    assert_eq!(got, 20 * 50_000);
}

/// The path goes away for 20 s in the middle of a transfer (both directions): the
/// association backs off, survives (Max.Retrans 10 covers it) and delivers everything, in
/// order, once the path is back.
#[test]
fn transfer_survives_a_twenty_second_outage() {
    let mut net = pair(Link::clean(15), 20);
    for i in 0..40 {
        net.a
            .send(
                net.now,
                2,
                53,
                payload(2, i, 20_000),
                SendOptions::default(),
            )
            .unwrap();
    }
    let _ = net.run_until(Duration::from_millis(60), |_| false);
    net.a_to_b.up = false;
    net.b_to_a.up = false;
    let _ = net.run_until(Duration::from_secs(20), |_| false);
    assert!(net.a.stats().t3_expiries >= 3);
    net.a_to_b.up = true;
    net.b_to_a.up = true;
    assert!(
        net.run_until(Duration::from_secs(120), |n| messages(&n.b_events).len()
            == 40)
    );
    for (i, m) in messages(&net.b_events).iter().enumerate() {
        assert_eq!(m.data, payload(2, i, 20_000));
    }
    assert!(net.a.is_established());
}

/// With I-DATA negotiated (RFC 8260), a small message sent after a 1 MiB one on another
/// stream arrives before the large one is complete; without it, it waits behind it.
#[test]
fn interleaving_lets_a_small_message_overtake_a_large_one() {
    for interleave in [true, false] {
        let cfg = Config {
            interleaving: interleave,
            ..big_config()
        };
        let offer_only = Config {
            interleaving: false,
            ..big_config()
        };
        // Negotiated only when both offer it.
        let one_sided = pair_with(cfg.clone(), offer_only, Link::clean(5), 40);
        assert!(!one_sided.a.uses_interleaving());
        let mut net = pair_with(cfg.clone(), cfg, Link::clean(20), 41);
        assert_eq!(net.a.uses_interleaving(), interleave);
        net.a
            .send(net.now, 1, 53, vec![1u8; 1 << 20], SendOptions::default())
            .unwrap();
        net.a
            .send(net.now, 2, 51, b"small".to_vec(), SendOptions::default())
            .unwrap();
        assert!(
            net.run_until(Duration::from_secs(30), |n| messages(&n.b_events).len()
                == 2)
        );
        let order: Vec<u16> = messages(&net.b_events).iter().map(|m| m.stream).collect();
        if interleave {
            assert_eq!(order, vec![2, 1], "the small message waited");
        } else {
            assert_eq!(order, vec![1, 2]);
        }
        assert_eq!(
            messages(&net.b_events)[if interleave { 1 } else { 0 }]
                .data
                .len(),
            1 << 20
        );
    }
}
