//! Data between two rtcwire-sctp associations over the test network: every size, loss,
//! PR-SCTP, windows and flow control, outages, interleaving.
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

use common::pair::*;
use common::{assoc, start_instant, Link};
use rtcwire_proto::{Datagram, SansIo};
use rtcwire_sctp::{Association, Config, Error, Event, SendOptions};

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
            .any(|m| m.data == b"after"[..]))
    );
    assert_eq!(
        messages(&net.b_events).len(),
        1,
        "the abandoned message was delivered"
    );
    assert_eq!(net.a.stats().abandoned_messages, 1);
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
