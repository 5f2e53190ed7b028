//! Message memory: received messages and `send_slice` copies live in blocks the association
//! reuses, so a steady flow allocates nothing; what the application keeps stays intact; an
//! idle association gives its blocks back; DCEP messages take none.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)]

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::pair::*;
use common::Link;
use rtcwire_proto::SansIo;
use rtcwire_sctp::{Event, SendOptions};

/// Sends `data` A to B (copied by `send_slice`) and returns what B received.
fn one(net: &mut Pair, ppid: u32, data: &[u8]) -> Bytes {
    net.a
        .send_slice(net.now, 1, ppid, data, SendOptions::default())
        .unwrap();
    assert!(net.run_until(Duration::from_secs(10), |n| n
        .b_events
        .iter()
        .any(|e| matches!(e, Event::Message(_)))));
    let mut got = None;
    for e in net.b_events.drain(..) {
        if let Event::Message(m) = e {
            got = Some(m.data);
        }
    }
    got.unwrap()
}

#[test]
fn a_steady_flow_reuses_its_first_blocks() {
    let mut net = pair(Link::clean(5), 11);
    for i in 0..2000u32 {
        let data = i.to_be_bytes().repeat(250);
        assert_eq!(one(&mut net, 53, &data), data);
    }
    // Each side's arenas: a first block, and a second while the first still had a
    // message in flight (sent, not yet acknowledged; received, not yet dropped).
    let (sent, received) = (net.a.stats().buffer_blocks, net.b.stats().buffer_blocks);
    assert!(
        (1..=3).contains(&sent) && (1..=3).contains(&received),
        "blocks allocated for 2000 messages: sender {sent}, receiver {received}"
    );
}

#[test]
fn fragmented_messages_in_sequence_are_assembled_in_reused_blocks() {
    let mut net = pair(Link::clean(5), 14);
    for i in 0..100u32 {
        // 64 KiB, ~57 DATA chunks each: assembled in a whole block as they arrive.
        let data = i.to_be_bytes().repeat(16 * 1024);
        assert_eq!(one(&mut net, 53, &data), data, "message {i}");
    }
    let received = net.b.stats().buffer_blocks;
    assert!(
        (1..=3).contains(&received),
        "{received} blocks for 100 messages of 64 KiB"
    );
}

#[test]
fn kept_messages_stay_intact_and_blocks_stay_bounded() {
    let mut net = pair(Link::clean(5), 12);
    let kept: Vec<(Vec<u8>, Bytes)> = (0..500u32)
        .map(|i| {
            // 200 to 1000 bytes: one DATA chunk each (larger ones are reassembled into a
            // buffer of their own).
            let data = (i * 7).to_be_bytes().repeat(50 + (i as usize % 200));
            let got = one(&mut net, 53, &data);
            (data, got)
        })
        .collect();
    for (i, (want, got)) in kept.iter().enumerate() {
        assert_eq!(got, want, "message {i}");
    }
    // All kept: blocks of 4, 8, 16, 32 KiB, then 64 KiB ones replacing each other (the
    // association holds at most four; the rest live as long as the messages in them).
    let total: usize = kept.iter().map(|(w, _)| w.len()).sum();
    let blocks = net.b.stats().buffer_blocks as usize;
    let fill = 4 + (total - 60 * 1024).div_ceil(64 * 1024);
    assert!(
        (fill..=fill + 1).contains(&blocks),
        "{blocks} blocks for {total} bytes kept (expected about {fill})"
    );
}

#[test]
fn an_idle_association_gives_its_blocks_back_and_dcep_takes_none() {
    let mut net = pair(Link::clean(5), 13);
    // DCEP (PPID 50) bypasses the arena.
    one(&mut net, 50, &[3, 0, 0, 0]);
    assert_eq!(net.b.stats().buffer_blocks, 0);
    one(&mut net, 53, &[1; 100]);
    one(&mut net, 53, &[2; 100]);
    assert_eq!(net.b.stats().buffer_blocks, 1);
    // Five seconds unused: the block goes; the next message needs a fresh one.
    let _ = net.run_until(Duration::from_secs(6), |_| false);
    assert!(net.b.poll_timeout().is_some());
    one(&mut net, 53, &[3; 100]);
    assert_eq!(net.b.stats().buffer_blocks, 2);
}
