//! Data channels between two rtcwire peers on rtcwire-sim: in-band open both ways with the
//! DTLS-role parity, pre-negotiated channels, every payload kind including empty ones,
//! unordered and partially reliable channels under loss, the implicit ACK, and closing by
//! stream reset reaching Closed on both sides.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

mod common;

use std::time::Duration;

use common::Peer;
use rtcwire_datachannel::{ChannelConfig, ChannelState, Event, Payload, Reliability};
use rtcwire_proto::DtlsRole;
use rtcwire_sim::{Host, LinkConfig, Loss, Sim};

struct Two {
    sim: Sim,
    a: Host<Peer>,
    b: Host<Peer>,
}

fn two(seed: u64, link: LinkConfig) -> Two {
    let mut sim = Sim::new(seed);
    let now = sim.now();
    let a = sim.add_host(
        "10.0.0.1:5000".parse().unwrap(),
        Peer::new(DtlsRole::Client, seed, now),
    );
    let b = sim.add_host(
        "10.0.0.2:5000".parse().unwrap(),
        Peer::new(DtlsRole::Server, seed + 1, now),
    );
    sim.link(a, b, link);
    sim.endpoint_mut(a).assoc.connect(now).unwrap();
    let out = sim.run_until(
        |s| s.endpoint(a).connected() && s.endpoint(b).connected(),
        Duration::from_secs(120),
    );
    assert!(out.is_done(), "{out}");
    Two { sim, a, b }
}

fn open(t: &mut Two, on_a: bool, cfg: ChannelConfig) -> u16 {
    let now = t.sim.now();
    let p = t.sim.endpoint_mut(if on_a { t.a } else { t.b });
    p.dc.open(&mut p.assoc, now, cfg).unwrap()
}

/// Sends with each of the three ways in turn (by the payload's length): copied
/// (`send_text`, `send_binary_slice`), handed over (`send`), binary handed over
/// (`send_binary`) or text copied.
fn send(t: &mut Two, on_a: bool, id: u16, payload: &Payload) {
    let now = t.sim.now();
    let p = t.sim.endpoint_mut(if on_a { t.a } else { t.b });
    let (dc, a) = (&mut p.dc, &mut p.assoc);
    match (payload, payload.len() % 3) {
        (_, 1) => dc.send(a, now, id, payload.clone()).unwrap(),
        (Payload::Text(s), _) => dc.send_text(a, now, id, s).unwrap(),
        (Payload::Binary(b), 0) => dc.send_binary_slice(a, now, id, b).unwrap(),
        (Payload::Binary(b), _) => dc.send_binary(a, now, id, b.clone()).unwrap(),
    }
}

fn received(sim: &Sim, h: Host<Peer>, id: u16) -> Vec<Payload> {
    sim.events(h)
        .iter()
        .filter_map(|e| match e {
            Event::Message { id: i, payload } if *i == id => Some(payload.clone()),
            _ => None,
        })
        .collect()
}

fn kinds() -> Vec<Payload> {
    vec![
        Payload::Text("hello".into()),
        Payload::text(String::new()),
        Payload::binary(Vec::new()),
        Payload::binary(vec![0, 1, 2]),
        Payload::text("é€😀".repeat(1000)),
        Payload::binary(vec![7; 200_000]),
        Payload::text(String::new()),
        // Lengths 3k+1 go through `send` (handed over).
        Payload::text("four"),
        Payload::binary(vec![9; 70_000]),
        Payload::text("é".repeat(35_000)),
    ]
}

#[test]
fn in_band_open_both_ways_with_role_parity_and_every_payload_kind() {
    let mut t = two(1, LinkConfig::with_delay(Duration::from_millis(10)));
    let ca = open(
        &mut t,
        true,
        ChannelConfig {
            label: "from-client".into(),
            protocol: "p".into(),
            ..Default::default()
        },
    );
    let cb = open(
        &mut t,
        false,
        ChannelConfig {
            label: "from-server".into(),
            ..Default::default()
        },
    );
    assert_eq!((ca % 2, cb % 2), (0, 1));
    // Open as soon as the OPEN is queued (as browsers do), not an ACK later.
    assert_eq!(t.sim.endpoint(t.a).dc.state(ca), Some(ChannelState::Open));
    // Data right away, before the ACK: it goes ordered behind the OPEN.
    for k in kinds() {
        send(&mut t, true, ca, &k);
        send(&mut t, false, cb, &k);
    }
    let (a, b) = (t.a, t.b);
    let n = kinds().len();
    let out = t.sim.run_until(
        |s| received(s, b, ca).len() == n && received(s, a, cb).len() == n,
        Duration::from_secs(30),
    );
    assert!(out.is_done(), "{out}");
    assert_eq!(received(&t.sim, b, ca), kinds());
    assert_eq!(received(&t.sim, a, cb), kinds());
    assert!(t.sim.events(a).contains(&Event::Open(ca)));
    assert!(t.sim.events(b).contains(&Event::Open(cb)));
    assert!(t.sim.events(b).contains(&Event::ChannelOpened {
        id: ca,
        label: "from-client".into(),
        protocol: "p".into(),
        ordered: true,
        reliability: Reliability::Reliable,
        priority: 256,
    }));
    assert_eq!(t.sim.endpoint(a).dc.state(ca), Some(ChannelState::Open));
    assert_eq!(t.sim.endpoint(b).dc.state(ca), Some(ChannelState::Open));
    // A second channel from the same side takes the next id of its parity.
    let ca2 = open(&mut t, true, ChannelConfig::default());
    assert_eq!(ca2, ca + 2);
}

#[test]
fn pre_negotiated_channels_need_no_dcep() {
    let mut t = two(2, LinkConfig::with_delay(Duration::from_millis(10)));
    let cfg = ChannelConfig {
        negotiated: Some(7),
        ordered: false,
        ..Default::default()
    };
    assert_eq!(open(&mut t, true, cfg.clone()), 7);
    assert_eq!(open(&mut t, false, cfg), 7);
    for i in 0..20u8 {
        send(&mut t, true, 7, &Payload::binary(vec![i; 10]));
        send(&mut t, false, 7, &Payload::binary(vec![i; 10]));
    }
    let (a, b) = (t.a, t.b);
    assert!(t
        .sim
        .run_until(
            |s| received(s, b, 7).len() == 20 && received(s, a, 7).len() == 20,
            Duration::from_secs(30)
        )
        .is_done());
    assert!(!t
        .sim
        .events(b)
        .iter()
        .any(|e| matches!(e, Event::ChannelOpened { .. })));
    assert_eq!(
        t.sim.endpoint(a).dc.refused + t.sim.endpoint(b).dc.refused,
        0
    );
}

#[test]
fn unordered_and_partially_reliable_channels_under_loss() {
    let link = LinkConfig::with_delay(Duration::from_millis(20))
        .loss(Loss::Random(0.1))
        .duplicate(0.05)
        .reorder(0.1, Duration::from_millis(10));
    for seed in 3..6 {
        let mut t = two(seed, link);
        let reliable = open(
            &mut t,
            true,
            ChannelConfig {
                ordered: false,
                ..Default::default()
            },
        );
        let lossy = open(
            &mut t,
            true,
            ChannelConfig {
                reliability: Reliability::MaxRetransmits(0),
                ..Default::default()
            },
        );
        let timed = open(
            &mut t,
            true,
            ChannelConfig {
                ordered: false,
                reliability: Reliability::MaxLifetimeMs(50),
                ..Default::default()
            },
        );
        let (a, b) = (t.a, t.b);
        assert!(t
            .sim
            .run_until(
                |s| s.endpoint(a).dc.state(timed) == Some(ChannelState::Open)
                    && s.endpoint(a).dc.state(lossy) == Some(ChannelState::Open),
                Duration::from_secs(60)
            )
            .is_done());
        let n = 200;
        for i in 0..n {
            // Large enough that the messages take hundreds of packets, so that loss is
            // certain to hit the max-retransmits-0 channel whatever the seed.
            let text = format!("{i:05}{}", "x".repeat(1000));
            send(&mut t, true, reliable, &Payload::text(text.clone()));
            send(&mut t, true, lossy, &Payload::text(text.clone()));
            send(&mut t, true, timed, &Payload::text(text));
        }
        let out = t.sim.run_until(
            |s| received(s, b, reliable).len() == n && s.endpoint(a).assoc.stats().flight == 0,
            Duration::from_secs(300),
        );
        assert!(out.is_done(), "seed {seed}: {out}");
        let _ = t.sim.run_for(Duration::from_secs(5));
        let mut got = received(&t.sim, b, reliable);
        got.sort_by_key(|p| format!("{p:?}"));
        got.dedup();
        assert_eq!(got.len(), n, "reliable unordered lost or duplicated");
        let lossy_got: Vec<String> = received(&t.sim, b, lossy)
            .into_iter()
            .map(|p| match p {
                Payload::Text(s) => s.into(),
                Payload::Binary(_) => panic!(),
            })
            .collect();
        assert!(
            lossy_got.len() < n,
            "seed {seed}: nothing dropped on the max-retransmits-0 channel"
        );
        assert!(
            lossy_got.windows(2).all(|w| w[0] < w[1]),
            "ordered PR channel out of order"
        );
        let timed_got = received(&t.sim, b, timed);
        let mut dedup = timed_got.clone();
        dedup.sort_by_key(|p| format!("{p:?}"));
        dedup.dedup();
        assert_eq!(
            dedup.len(),
            timed_got.len(),
            "duplicate on the timed channel"
        );
    }
}

#[test]
fn the_opener_is_open_at_once_and_a_first_message_is_not_a_second_open() {
    // The opener's channel is open once the OPEN is queued; B's first message (which also
    // stands for the ACK, RFC 8832 §6) is a message, not another open.
    let mut t = two(7, LinkConfig::with_delay(Duration::from_millis(10)));
    let id = open(&mut t, true, ChannelConfig::default());
    let (a, b) = (t.a, t.b);
    assert!(t
        .sim
        .run_until(
            |s| s
                .events(b)
                .iter()
                .any(|e| matches!(e, Event::ChannelOpened { .. })),
            Duration::from_secs(10)
        )
        .is_done());
    assert_eq!(
        t.sim
            .events(a)
            .iter()
            .filter(|e| **e == Event::Open(id))
            .count(),
        1
    );
    // A is told of a message as if before any ACK.
    let now = t.sim.now();
    let p = t.sim.endpoint_mut(a);
    assert_eq!(p.dc.state(id), Some(ChannelState::Open));
    let msg = rtcwire_sctp::Event::Message(rtcwire_sctp::Message {
        stream: id,
        ppid: 53,
        unordered: false,
        data: vec![1, 2].into(),
    });
    assert!(p.dc.handle_event(&mut p.assoc, now, msg).is_none());
    assert_eq!(
        p.dc.poll_event(),
        Some(Event::Message {
            id,
            payload: Payload::binary(vec![1, 2])
        })
    );
    assert_eq!(p.dc.state(id), Some(ChannelState::Open));
}

#[test]
fn closing_by_stream_reset_reaches_closed_on_both_sides_from_either() {
    for closer_is_a in [true, false] {
        let mut t = two(
            8,
            LinkConfig::with_delay(Duration::from_millis(10)).loss(Loss::Random(0.05)),
        );
        let id = open(
            &mut t,
            true,
            ChannelConfig {
                label: "x".into(),
                ..Default::default()
            },
        );
        let (a, b) = (t.a, t.b);
        for i in 0..5 {
            send(&mut t, true, id, &Payload::binary(vec![i; 3000]));
        }
        assert!(t
            .sim
            .run_until(|s| received(s, b, id).len() == 5, Duration::from_secs(30))
            .is_done());
        for i in 0..3 {
            send(&mut t, false, id, &Payload::binary(vec![i; 3000]));
        }
        let now = t.sim.now();
        {
            let p = t.sim.endpoint_mut(if closer_is_a { a } else { b });
            p.dc.close(&mut p.assoc, now, id).unwrap();
            assert_eq!(p.dc.state(id), Some(ChannelState::Closing));
        }
        let out = t.sim.run_until(
            |s| {
                s.events(a).contains(&Event::Closed(id)) && s.events(b).contains(&Event::Closed(id))
            },
            Duration::from_secs(60),
        );
        assert!(out.is_done(), "closer_is_a {closer_is_a}: {out}");
        // Data sent before the close still arrived.
        assert_eq!(received(&t.sim, a, id).len(), 3);
        assert_eq!(t.sim.endpoint(a).dc.state(id), None);
        // The id is free again.
        let again = open(&mut t, true, ChannelConfig::default());
        assert_eq!(again, id);
        send(&mut t, true, again, &Payload::Text("again".into()));
        assert!(t
            .sim
            .run_until(
                |s| received(s, b, id).contains(&Payload::Text("again".into())),
                Duration::from_secs(30)
            )
            .is_done());
    }
}

#[test]
fn many_channels_open_send_and_close_together_under_loss() {
    let link = LinkConfig::with_delay(Duration::from_millis(15))
        .loss(Loss::Random(0.05))
        .duplicate(0.02)
        .reorder(0.05, Duration::from_millis(10));
    let mut t = two(9, link);
    let (a, b) = (t.a, t.b);
    let ids: Vec<u16> = (0..30)
        .map(|i| {
            open(
                &mut t,
                i % 2 == 0,
                ChannelConfig {
                    label: format!("c{i}"),
                    ..Default::default()
                },
            )
        })
        .collect();
    for (i, &id) in ids.iter().enumerate() {
        for k in 0..5u8 {
            send(&mut t, i % 2 == 0, id, &Payload::binary(vec![k; 2000]));
        }
    }
    let known = |s: &Sim, h: Host<Peer>| ids.iter().all(|id| s.endpoint(h).dc.state(*id).is_some());
    assert!(t
        .sim
        .run_until(|s| known(s, a) && known(s, b), Duration::from_secs(30))
        .is_done());
    // Close every channel at once from A (some A opened, some B opened).
    let now = t.sim.now();
    {
        let p = t.sim.endpoint_mut(a);
        for &id in &ids {
            p.dc.close(&mut p.assoc, now, id).unwrap();
        }
    }
    let out = t.sim.run_until(
        |s| {
            ids.iter().all(|id| {
                s.events(a).contains(&Event::Closed(*id))
                    && s.events(b).contains(&Event::Closed(*id))
            })
        },
        Duration::from_secs(120),
    );
    assert!(out.is_done(), "{out}");
    // Everything sent before the close arrived on the other side.
    for (i, &id) in ids.iter().enumerate() {
        let receiver = if i % 2 == 0 { b } else { a };
        assert_eq!(received(&t.sim, receiver, id).len(), 5, "channel {id}");
    }
    assert_eq!(t.sim.endpoint(a).dc.ids().count(), 0);
    assert_eq!(t.sim.endpoint(b).dc.ids().count(), 0);
}

#[test]
fn peer_restart_closes_every_channel() {
    // The peer lost its state (RFC 9260 §5.2.4 case A): its channels are gone, so ours close,
    // and the association event is handed back to the caller.
    let mut t = two(3, LinkConfig::with_delay(Duration::from_millis(10)));
    let ca = open(&mut t, true, ChannelConfig::default());
    let cb = open(&mut t, false, ChannelConfig::default());
    let (a, b) = (t.a, t.b);
    let out = t.sim.run_until(
        |s| s.events(a).contains(&Event::Open(ca)) && s.events(b).contains(&Event::Open(cb)),
        Duration::from_secs(10),
    );
    assert!(out.is_done(), "{out}");
    let now = t.sim.now();
    *t.sim.endpoint_mut(a) = Peer::new(DtlsRole::Client, 77, now);
    t.sim.endpoint_mut(a).assoc.connect(now).unwrap();
    let out = t.sim.run_until(
        |s| {
            s.endpoint(b)
                .sctp_events
                .contains(&rtcwire_sctp::Event::Restarted)
        },
        Duration::from_secs(30),
    );
    assert!(out.is_done(), "{out}");
    let _ = t.sim.run_for(Duration::from_millis(100));
    assert!(t.sim.events(b).contains(&Event::Closed(ca)));
    assert!(t.sim.events(b).contains(&Event::Closed(cb)));
    assert_eq!(t.sim.endpoint(b).dc.state(ca), None);
    assert!(t.sim.endpoint(b).assoc.is_established());
}
