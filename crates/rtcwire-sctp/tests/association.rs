//! Two rtcwire-sctp associations over the test network: setup, failure detection,
//! shutdown, abort, stream reset, refused packets (data is in transfer.rs).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods,
    clippy::print_stderr
)]

mod common;

use std::time::Duration;

use common::pair::*;
use common::{assoc, start_instant, Link, Net};
use rtcwire_proto::{Datagram, SansIo};
use rtcwire_sctp::{AbortReason, Config, Error, Event, SendOptions};

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
