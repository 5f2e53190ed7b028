//! RFC 6525 requests beyond the outgoing / incoming SSN resets (tested in
//! `association.rs`): adding streams (§4.5, §4.6) and the SSN/TSN reset (§4.3, §5.2.4).
//! Requests we never send are forged here as the peer would send them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods,
    clippy::print_stderr
)]

mod common;

use std::time::Duration;

use common::pair::{big_config, messages, pair_with, Pair};
use common::Link;
use rtcwire_proto::{Datagram, SansIo};
use rtcwire_sctp::wire::{
    Chunk, CommonHeader, Data, Packet, ReConfig, ReconfigParam, ReconfigResult,
};
use rtcwire_sctp::{Config, Error, Event, SendOptions};

fn few_streams() -> Config {
    Config {
        streams: 4,
        ..big_config()
    }
}

fn small_pair(seed: u64) -> Pair {
    pair_with(few_streams(), few_streams(), Link::clean(5), seed)
}

#[test]
fn add_streams_extends_both_sides() {
    let mut net = small_pair(1);
    assert_eq!(
        net.a
            .send(net.now, 6, 51, vec![1u8; 10], SendOptions::default()),
        Err(Error::InvalidStream(6))
    );
    net.a.add_streams(net.now, 4).unwrap();
    assert!(net.run_until(Duration::from_secs(5), |n| {
        n.a_events.contains(&Event::OutgoingStreamsAdded(8))
            && n.b_events.contains(&Event::IncomingStreamsAdded(8))
    }));
    net.a
        .send(net.now, 6, 51, vec![1u8; 10], SendOptions::default())
        .unwrap();
    assert!(net.run_until(Duration::from_secs(5), |n| {
        messages(&n.b_events).iter().any(|m| m.stream == 6)
    }));
    // B's outgoing side did not change.
    assert_eq!(
        net.b
            .send(net.now, 6, 51, vec![1u8; 10], SendOptions::default()),
        Err(Error::InvalidStream(6))
    );
    // Two requests in a row: the second waits for the first.
    net.a.add_streams(net.now, 1).unwrap();
    net.a.add_streams(net.now, 2).unwrap();
    assert!(net.run_until(Duration::from_secs(5), |n| {
        n.a_events.contains(&Event::OutgoingStreamsAdded(11))
    }));
    assert!(net.a_events.contains(&Event::OutgoingStreamsAdded(9)));
    assert!(net.b_events.contains(&Event::IncomingStreamsAdded(11)));
    // Past 65535 in all: refused at once.
    assert_eq!(
        net.a.add_streams(net.now, u16::MAX),
        Err(Error::TooMany { what: "streams" })
    );
}

#[test]
fn add_streams_request_survives_loss() {
    for seed in 0..5 {
        let mut net = pair_with(few_streams(), few_streams(), Link::lossy(20, 0.15), seed);
        net.a.add_streams(net.now, 2).unwrap();
        assert!(
            net.run_until(Duration::from_secs(60), |n| {
                n.a_events.contains(&Event::OutgoingStreamsAdded(6))
            }),
            "seed {seed}: {:?}",
            net.a_events
        );
        // Retransmitted requests are performed once.
        assert_eq!(
            net.b_events
                .iter()
                .filter(|e| matches!(e, Event::IncomingStreamsAdded(_)))
                .collect::<Vec<_>>(),
            vec![&Event::IncomingStreamsAdded(6)]
        );
    }
}

/// B's verification tag (as A must use it) and A's next request sequence number: taken
/// from a DATA packet A sends, whose TSN is A's initial TSN when it is A's first.
fn tag_and_first_seq(net: &mut Pair) -> (u32, u32) {
    net.a
        .send(net.now, 1, 51, vec![9u8; 10], SendOptions::default())
        .unwrap();
    let mut buf = Vec::new();
    net.a.poll_transmit(net.now, &mut buf).unwrap();
    let p = Packet::parse(&buf).unwrap();
    let tag = p.header.verification_tag;
    let tsn = p
        .chunks()
        .filter_map(|c| Chunk::parse(&c.unwrap()).ok())
        .find_map(|c| match c {
            Chunk::Data(d) => Some(d.tsn),
            _ => None,
        })
        .unwrap();
    net.b.handle_read(net.now, Datagram::on_path(&buf)).unwrap();
    (tag, tsn)
}

fn forge(tag: u32, param: &ReconfigParam<'_>) -> Vec<u8> {
    let mut p = Vec::new();
    CommonHeader {
        source_port: 5000,
        destination_port: 5000,
        verification_tag: tag,
    }
    .emit(&mut p);
    let mut v = Vec::new();
    param.emit(&mut v);
    ReConfig { params: &v }.emit(&mut p);
    rtcwire_sctp::wire::finish_packet(&mut p);
    p
}

/// A response: request sequence number, result, next TSNs.
type Answer = (u32, ReconfigResult, Option<(u32, u32)>);

/// The RE-CONFIG responses in the packets B writes now.
fn responses_of_b(net: &mut Pair) -> Vec<Answer> {
    let mut out = Vec::new();
    for _ in 0..8 {
        let mut buf = Vec::new();
        if net.b.poll_transmit(net.now, &mut buf).is_none() {
            break;
        }
        let p = Packet::parse(&buf).unwrap();
        for c in p.chunks() {
            if let Ok(Chunk::ReConfig(r)) = Chunk::parse(&c.unwrap()) {
                for param in r.iter() {
                    if let ReconfigParam::Response {
                        response_seq,
                        result,
                        next_tsns,
                    } = param
                    {
                        out.push((response_seq, result, next_tsns));
                    }
                }
            }
        }
        net.a.handle_read(net.now, Datagram::on_path(&buf)).unwrap();
    }
    out
}

#[test]
fn peer_asking_us_to_add_streams_gets_our_own_request() {
    let mut net = small_pair(2);
    assert!(net.run_until(Duration::from_secs(5), |n| messages(&n.b_events).is_empty()));
    let (tag, seq) = tag_and_first_seq(&mut net);
    // "A" asks B to add 3 outgoing streams (B's outgoing, A's incoming).
    let req = forge(
        tag,
        &ReconfigParam::AddIncoming {
            request_seq: seq,
            new_streams: 3,
        },
    );
    net.b.handle_read(net.now, Datagram::on_path(&req)).unwrap();
    let answers = responses_of_b(&mut net);
    assert!(
        answers.contains(&(seq, ReconfigResult::SuccessPerformed, None)),
        "{answers:?}"
    );
    // B's own add-outgoing request reaches A, which takes the streams; B can use them.
    assert!(net.run_until(Duration::from_secs(5), |n| {
        n.b_events.contains(&Event::OutgoingStreamsAdded(7))
            && n.a_events.contains(&Event::IncomingStreamsAdded(7))
    }));
    net.b
        .send(net.now, 6, 51, vec![3u8; 10], SendOptions::default())
        .unwrap();
    assert!(net.run_until(Duration::from_secs(5), |n| {
        messages(&n.a_events).iter().any(|m| m.stream == 6)
    }));
    // The same request again (its answer lost): answered the same, nothing added twice.
    net.b.handle_read(net.now, Datagram::on_path(&req)).unwrap();
    let again = responses_of_b(&mut net);
    assert_eq!(again, vec![(seq, ReconfigResult::SuccessPerformed, None)]);
    let _ = net.run_until(Duration::from_secs(2), |_| false);
    assert!(!net
        .b_events
        .iter()
        .any(|e| matches!(e, Event::OutgoingStreamsAdded(n) if *n > 7)));
}

#[test]
fn adding_past_the_stream_limit_is_denied() {
    let mut net = pair(1);
    let (tag, seq) = tag_and_first_seq(&mut net);
    // Default config: 65535 streams already.
    let req = forge(
        tag,
        &ReconfigParam::AddOutgoing {
            request_seq: seq,
            new_streams: 1,
        },
    );
    net.b.handle_read(net.now, Datagram::on_path(&req)).unwrap();
    assert_eq!(
        responses_of_b(&mut net),
        vec![(seq, ReconfigResult::Denied, None)]
    );
    // A wrong sequence number: "bad sequence number".
    let req = forge(
        tag,
        &ReconfigParam::AddOutgoing {
            request_seq: seq.wrapping_add(5),
            new_streams: 1,
        },
    );
    net.b.handle_read(net.now, Datagram::on_path(&req)).unwrap();
    assert_eq!(
        responses_of_b(&mut net),
        vec![(
            seq.wrapping_add(5),
            ReconfigResult::ErrorBadSequenceNumber,
            None
        )]
    );
}

fn pair(seed: u64) -> Pair {
    pair_with(big_config(), big_config(), Link::clean(5), seed)
}

#[test]
fn ssn_tsn_reset_is_performed_when_nothing_is_in_flight() {
    let mut net = pair(3);
    let (tag, seq) = tag_and_first_seq(&mut net);
    // Traffic on stream 1 both ways, so SSNs have moved.
    for i in 0..3u8 {
        net.a
            .send(net.now, 1, 51, vec![i; 10], SendOptions::default())
            .unwrap();
        net.b
            .send(net.now, 1, 51, vec![i; 10], SendOptions::default())
            .unwrap();
    }
    assert!(net.run_until(Duration::from_secs(5), |n| {
        messages(&n.a_events).len() == 3
            && messages(&n.b_events).len() == 4
            && n.b.stats().flight == 0
    }));
    let req = forge(tag, &ReconfigParam::SsnTsnReset { request_seq: seq });
    // B has a message in flight: "in progress", nothing changes.
    net.b
        .send(net.now, 1, 51, vec![7u8; 10], SendOptions::default())
        .unwrap();
    net.a_to_b.up = false;
    net.b_to_a.up = false;
    net.drain();
    assert!(net.b.stats().flight > 0);
    net.b.handle_read(net.now, Datagram::on_path(&req)).unwrap();
    assert_eq!(
        responses_of_b(&mut net),
        vec![(seq, ReconfigResult::InProgress, None)]
    );
    net.a_to_b.up = true;
    net.b_to_a.up = true;
    assert!(
        net.run_until(Duration::from_secs(5), |n| n.b.stats().flight == 0
            && messages(&n.a_events).len() == 4)
    );
    // Asked again with nothing in flight: performed, with both next TSNs.
    net.b.handle_read(net.now, Datagram::on_path(&req)).unwrap();
    let answers = responses_of_b(&mut net);
    let [(s, ReconfigResult::SuccessPerformed, Some((sender_next, receiver_next)))] = answers[..]
    else {
        panic!("{answers:?}");
    };
    assert_eq!(s, seq);
    while let Some(e) = net.b.poll_event() {
        net.b_events.push(e);
    }
    assert!(net.b_events.contains(&Event::AssociationReset));
    // B's next DATA: at the TSN it announced, SSN 0 on a stream that had moved.
    net.b
        .send(net.now, 1, 51, vec![8u8; 10], SendOptions::default())
        .unwrap();
    let mut buf = Vec::new();
    net.b.poll_transmit(net.now, &mut buf).unwrap();
    let p = Packet::parse(&buf).unwrap();
    let d = p
        .chunks()
        .filter_map(|c| Chunk::parse(&c.unwrap()).ok())
        .find_map(|c| match c {
            Chunk::Data(d) => Some((d.tsn, d.stream, d.ssn)),
            _ => None,
        })
        .unwrap();
    assert_eq!(d, (sender_next, 1, 0));
    // B now expects "A" at the TSN it gave, with SSN 0 on stream 1.
    let mut data = Vec::new();
    CommonHeader {
        source_port: 5000,
        destination_port: 5000,
        verification_tag: tag,
    }
    .emit(&mut data);
    Data {
        flags: rtcwire_sctp::wire::data_flags::BEGIN | rtcwire_sctp::wire::data_flags::END,
        tsn: receiver_next,
        stream: 1,
        ssn: 0,
        ppid: 51,
        payload: b"after the reset",
    }
    .emit(&mut data);
    rtcwire_sctp::wire::finish_packet(&mut data);
    let before = messages(&net.b_events).len();
    net.b
        .handle_read(net.now, Datagram::on_path(&data))
        .unwrap();
    let mut got = Vec::new();
    while let Some(e) = net.b.poll_event() {
        if let Event::Message(m) = e {
            got.push(m.data.to_vec());
        }
    }
    assert_eq!(got, vec![b"after the reset".to_vec()], "{before}");
}

/// dcsctp 0.1.16 has no add-streams support: our request must end in an answer (refused)
/// and never take the association down.
#[test]
fn add_streams_towards_dcsctp() {
    use common::dc::Dc;
    use common::{assoc, start_instant, Net};
    use dcsctp::api::SocketState;
    let now = start_instant();
    let mut net = Net::new(
        assoc(few_streams(), 5, now),
        Dc::new(&Dc::options(), now),
        now,
        Link::clean(10),
        5,
    );
    net.a.connect(now).unwrap();
    assert!(
        net.run_until(Duration::from_secs(10), |n| n.a.is_established()
            && n.b.sock.state() == SocketState::Connected)
    );
    net.a.add_streams(net.now, 2).unwrap();
    let answered = net.run_until(Duration::from_secs(120), |n| {
        n.a_events.iter().any(|e| {
            matches!(
                e,
                Event::OutgoingStreamsAdded(_) | Event::AddStreamsFailed(_)
            )
        })
    });
    assert!(answered, "{:?}", net.a_events);
    assert!(net.a_events.contains(&Event::AddStreamsFailed(2)));
    assert!(net.a.is_established());
    // Still usable: a reset afterwards works as before.
    net.a.reset_streams(net.now, &[1]).unwrap();
    assert!(net.run_until(Duration::from_secs(30), |n| n
        .a_events
        .contains(&Event::OutgoingStreamsReset(vec![1]))));
}
