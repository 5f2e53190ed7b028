//! Restart of an established association (RFC 9260 §5.2.2, §5.2.4 case A) and the other
//! COOKIE ECHO cases of §5.2.4: our stack to itself and to dcsctp, in both directions
//! with dcsctp (it restarts us, we restart it).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods,
    clippy::print_stderr
)]

mod common;

use std::time::{Duration, Instant};

use common::dc::{Dc, DcEvent};
use common::pair::{big_config, messages, pair};
use common::{assoc, start_instant, Link, Net};
use dcsctp::api::{
    Message as DcMessage, PpId, SendOptions as DcSendOptions, SocketEvent, SocketState, StreamId,
};
use rtcwire_proto::{Datagram, SansIo};
use rtcwire_sctp::wire::{chunk_type, param_type, CommonHeader, CookieEcho, Init, Packet};
use rtcwire_sctp::{Association, Event, SendOptions, State};

fn send(a: &mut Association, now: Instant, stream: u16, byte: u8) {
    a.send(now, stream, 51, vec![byte; 300], SendOptions::default())
        .unwrap();
}

fn bodies(events: &[Event]) -> Vec<(u16, u8)> {
    messages(events)
        .iter()
        .map(|m| (m.stream, m.data[0]))
        .collect()
}

#[test]
fn peer_restart_is_recognised_and_both_directions_work_again() {
    for seed in 0..4 {
        let mut net = pair(Link::lossy(20, 0.05), seed);
        // Some traffic first, so that sequence numbers and TSNs have moved.
        for i in 0..5 {
            send(&mut net.a, net.now, 1, i);
            send(&mut net.b, net.now, 1, 100 + i);
        }
        assert!(net.run_until(Duration::from_secs(60), |n| {
            messages(&n.a_events).len() == 5 && messages(&n.b_events).len() == 5
        }));
        let received_before = net.b.stats().packets_received;
        // A loses its state (a crash) and starts again towards the same peer.
        net.a = assoc(big_config(), seed + 500, net.now);
        net.a_events.clear();
        net.b_events.clear();
        net.a.connect(net.now).unwrap();
        assert!(
            net.run_until(Duration::from_secs(120), |n| n.a.is_established()
                && n.b_events.contains(&Event::Restarted)),
            "seed {seed}: ours {:?}, peer {:?} {:?}",
            net.a.state(),
            net.b.state(),
            net.b_events
        );
        assert_eq!(net.b.state(), State::Established);
        assert_eq!(net.b.stats().restarts, 1);
        assert!(net.b.stats().packets_received > received_before);
        assert!(!net
            .b_events
            .iter()
            .any(|e| matches!(e, Event::Aborted(_) | Event::Closed)));
        // Sequence numbers start again on both sides: in-order delivery proves it.
        for i in 0..5 {
            send(&mut net.a, net.now, 1, 10 + i);
            send(&mut net.b, net.now, 1, 110 + i);
        }
        assert!(
            net.run_until(Duration::from_secs(60), |n| {
                messages(&n.a_events).len() == 5 && messages(&n.b_events).len() == 5
            }),
            "seed {seed}: {:?} / {:?}",
            net.a_events,
            net.b_events
        );
        assert_eq!(
            bodies(&net.b_events),
            (0..5).map(|i| (1, 10 + i)).collect::<Vec<_>>()
        );
        assert_eq!(
            bodies(&net.a_events),
            (0..5).map(|i| (1, 110 + i)).collect::<Vec<_>>()
        );
    }
}

#[test]
fn restart_drops_what_was_in_flight_and_sends_what_was_queued() {
    let mut net = pair(Link::clean(20), 3);
    // B's message leaves but never arrives: A is gone.
    net.b_to_a.up = false;
    send(&mut net.b, net.now, 2, 7);
    net.drain();
    assert!(net.b.stats().flight > 0);
    net.b_to_a.up = true;
    net.a = assoc(big_config(), 900, net.now);
    net.a_events.clear();
    net.b_events.clear();
    net.a.connect(net.now).unwrap();
    assert!(
        net.run_until(Duration::from_secs(60), |n| n.a.is_established()
            && n.b_events.contains(&Event::Restarted))
    );
    // The old association's chunk went with it: not resent to the new peer.
    assert_eq!(net.b.stats().flight, 0);
    send(&mut net.b, net.now, 2, 8);
    assert!(
        net.run_until(Duration::from_secs(60), |n| !messages(&n.a_events)
            .is_empty())
    );
    // Nothing else arrives later (the old message is not resent).
    let _ = net.run_until(Duration::from_secs(5), |_| false);
    assert_eq!(bodies(&net.a_events), vec![(2, 8)]);
    assert_eq!(net.b.stats().t3_expiries, 0);
}

/// The packets of one INIT exchange, by hand: A's INIT is given to B twice (as if
/// retransmitted), B answers each with its own tag (it keeps no state), A goes on with the
/// second; the COOKIE ECHO of the first then arrives late.
#[test]
fn late_cookie_echo_of_an_older_exchange_is_discarded() {
    let now = start_instant();
    let mut a = assoc(big_config(), 1, now);
    let mut b = assoc(big_config(), 2, now);
    a.connect(now).unwrap();
    let mut init = Vec::new();
    a.poll_transmit(now, &mut init).unwrap();
    let mut acks = Vec::new();
    for _ in 0..2 {
        b.handle_read(now, Datagram::on_path(&init)).unwrap();
        let mut ack = Vec::new();
        b.poll_transmit(now, &mut ack).unwrap();
        acks.push(ack);
    }
    // The first INIT ACK's cookie, echoed by hand with its tag, kept for later.
    let p = Packet::parse(&acks[0]).unwrap();
    let raw = p.chunks().next().unwrap().unwrap();
    assert_eq!(raw.typ, chunk_type::INIT_ACK);
    let first = Init::parse(&raw).unwrap();
    let cookie = first
        .params
        .find(param_type::STATE_COOKIE)
        .unwrap()
        .to_vec();
    let mut late = Vec::new();
    CommonHeader {
        source_port: 5000,
        destination_port: 5000,
        verification_tag: first.initiate_tag,
    }
    .emit(&mut late);
    CookieEcho { cookie: &cookie }.emit(&mut late);
    rtcwire_sctp::wire::finish_packet(&mut late);
    // The handshake completes with the second.
    let mut net = Net::new(a, b, now, Link::clean(5), 1);
    net.a.handle_read(now, Datagram::on_path(&acks[1])).unwrap();
    assert!(
        net.run_until(Duration::from_secs(5), |n| n.a.is_established()
            && n.b.is_established())
    );
    let events_before = net.b_events.len();
    // Case C of §5.2.4: the late COOKIE ECHO changes nothing and is not answered.
    net.b
        .handle_read(net.now, Datagram::on_path(&late))
        .unwrap();
    let mut out = Vec::new();
    assert!(net.b.poll_transmit(net.now, &mut out).is_none());
    assert!(net.b.poll_event().is_none());
    assert_eq!(net.b_events.len(), events_before);
    assert_eq!(net.b.stats().restarts, 0);
    send(&mut net.a, net.now, 0, 1);
    send(&mut net.b, net.now, 0, 2);
    assert!(net.run_until(Duration::from_secs(5), |n| {
        messages(&n.a_events).len() == 1 && messages(&n.b_events).len() == 1
    }));
}

#[test]
fn init_alone_does_not_disturb_an_established_association() {
    // An INIT for an established association is answered (INIT ACK, new tag, tie-tags)
    // but nothing changes until a COOKIE ECHO proves the peer.
    let mut net = pair(Link::clean(10), 4);
    // A DATA packet from A reaches B by hand, so that B owes a SACK when it answers.
    net.a
        .send(net.now, 0, 51, vec![4u8; 100], SendOptions::default())
        .unwrap();
    let mut data = Vec::new();
    net.a.poll_transmit(net.now, &mut data).unwrap();
    net.b
        .handle_read(net.now, Datagram::on_path(&data))
        .unwrap();
    let mut stranger = assoc(big_config(), 77, net.now);
    stranger.connect(net.now).unwrap();
    let mut init = Vec::new();
    stranger.poll_transmit(net.now, &mut init).unwrap();
    net.b
        .handle_read(net.now, Datagram::on_path(&init))
        .unwrap();
    let mut ack = Vec::new();
    net.b.poll_transmit(net.now, &mut ack).unwrap();
    let p = Packet::parse(&ack).unwrap();
    let raw = p.chunks().next().unwrap().unwrap();
    assert_eq!(raw.typ, chunk_type::INIT_ACK);
    // Alone in its packet (RFC 9260 §6.10), even with a SACK due to the same tag.
    assert_eq!(p.chunks().count(), 1);
    send(&mut net.a, net.now, 0, 5);
    send(&mut net.b, net.now, 0, 6);
    assert!(net.run_until(Duration::from_secs(5), |n| {
        messages(&n.a_events).len() == 1 && messages(&n.b_events).len() == 2
    }));
    assert_eq!(net.b.stats().restarts, 0);
}

type Interop = Net<Association, Dc>;

fn interop(seed: u64) -> Interop {
    let now = start_instant();
    let mut net = Net::new(
        assoc(big_config(), seed, now),
        Dc::new(&Dc::options(), now),
        now,
        Link::lossy(20, 0.05),
        seed,
    );
    net.a.connect(now).unwrap();
    assert!(
        net.run_until(Duration::from_secs(60), |n| n.a.is_established()
            && n.b.sock.state() == SocketState::Connected)
    );
    net
}

fn dc_send(net: &mut Interop, byte: u8) {
    net.b.tick(net.now);
    net.b
        .sock
        .send(
            DcMessage::new(StreamId(1), PpId(51), vec![byte; 300]),
            &DcSendOptions::default(),
        )
        .unwrap();
}

fn theirs(net: &Interop) -> Vec<u8> {
    net.b_events
        .iter()
        .filter_map(|e| match e {
            DcEvent::Message(m) => Some(m.payload[0]),
            _ => None,
        })
        .collect()
}

#[test]
fn dcsctp_restarting_is_recognised() {
    for seed in 0..3 {
        let mut net = interop(seed);
        for i in 0..3 {
            send(&mut net.a, net.now, 1, i);
            dc_send(&mut net, 100 + i);
        }
        assert!(net.run_until(Duration::from_secs(60), |n| {
            messages(&n.a_events).len() == 3 && theirs(n).len() == 3
        }));
        // dcsctp loses its state and connects again.
        net.b = Dc::new(&Dc::options(), net.now);
        net.b_events.clear();
        net.a_events.clear();
        net.b.tick(net.now);
        net.b.sock.connect();
        assert!(
            net.run_until(Duration::from_secs(60), |n| n.b.sock.state()
                == SocketState::Connected
                && n.a_events.contains(&Event::Restarted)),
            "seed {seed}: ours {:?} {:?}, dcsctp {:?}",
            net.a.state(),
            net.a_events,
            net.b.sock.state()
        );
        for i in 0..3 {
            send(&mut net.a, net.now, 1, 10 + i);
            dc_send(&mut net, 110 + i);
        }
        assert!(
            net.run_until(Duration::from_secs(60), |n| {
                messages(&n.a_events).len() == 3 && theirs(n).len() == 3
            }),
            "seed {seed}: {:?}",
            net.a_events
        );
        assert_eq!(theirs(&net), vec![10, 11, 12]);
        assert_eq!(bodies(&net.a_events), vec![(1, 110), (1, 111), (1, 112)]);
    }
}

#[test]
fn we_restart_towards_dcsctp() {
    for seed in 0..3 {
        let mut net = interop(seed + 10);
        for i in 0..3 {
            send(&mut net.a, net.now, 1, i);
            dc_send(&mut net, 100 + i);
        }
        assert!(net.run_until(Duration::from_secs(60), |n| {
            messages(&n.a_events).len() == 3 && theirs(n).len() == 3
        }));
        net.a = assoc(big_config(), seed + 600, net.now);
        net.a_events.clear();
        net.b_events.clear();
        net.a.connect(net.now).unwrap();
        assert!(
            net.run_until(Duration::from_secs(60), |n| n.a.is_established()
                && n.b_events.iter().any(|e| matches!(
                    e,
                    DcEvent::Socket(SocketEvent::OnConnectionRestarted())
                ))),
            "seed {seed}: ours {:?}, dcsctp {:?} {:?}",
            net.a.state(),
            net.b.sock.state(),
            net.b_events
        );
        for i in 0..3 {
            send(&mut net.a, net.now, 1, 10 + i);
            dc_send(&mut net, 110 + i);
        }
        assert!(
            net.run_until(Duration::from_secs(60), |n| {
                messages(&n.a_events).len() == 3 && theirs(n).len() == 3
            }),
            "seed {seed}: {:?} / {:?}",
            net.a_events,
            net.b_events
        );
        assert_eq!(theirs(&net), vec![10, 11, 12]);
        assert_eq!(bodies(&net.a_events), vec![(1, 110), (1, 111), (1, 112)]);
    }
}
