//! `set_transmit_batching`: SCTP datagrams leave in segmentation-offload batches (equal
//! segments, the last may be shorter, each one DTLS record), and a session pair that
//! batches both ways over a lossy rtcwire-sim link still delivers every byte.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::time::Duration;

use common::{Duo, Signaling};
use rtcwire::{Output, Payload};
use rtcwire_sim::{LinkConfig, Loss};

#[test]
fn batched_transmits_carry_equal_records_and_lose_nothing() {
    let link = LinkConfig::with_delay(Duration::from_millis(5)).loss(Loss::Random(0.03));
    let mut duo = Duo::new(41, link, Signaling::Trickle);
    let (ca, cb) = duo.connect_with_channel();
    duo.with(true, |pc| pc.set_transmit_batching(64));
    duo.with(false, |pc| pc.set_transmit_batching(64));
    let message = |i: usize| vec![i as u8; 50_000 + i];
    duo.with(true, |pc| {
        for i in 0..6 {
            pc.send_binary(ca, &message(i)).unwrap();
        }
    });
    // A's next transmits, taken here (lost to the link: SCTP sends them again).
    let pc = duo.sim.endpoint_mut(duo.a);
    let mut buf = Vec::new();
    let mut batches = 0;
    for _ in 0..100 {
        buf.clear();
        match pc.poll_output(&mut buf) {
            Output::Transmit(t) => {
                let data = &buf[..t.size];
                assert!(t.size <= 60_000, "a batch of {} bytes", t.size);
                let Some(seg) = t.segment_size else {
                    continue;
                };
                batches += 1;
                let records: Vec<&[u8]> = data.chunks(seg).collect();
                assert!(records.len() >= 2 && records.len() <= 64);
                for (k, r) in records.iter().enumerate() {
                    // A DTLS 1.3 ciphertext record (unified header) or a 1.2 application
                    // data record, one per segment.
                    assert!(
                        r[0] == 23 || r[0] & 0xe0 == 0x20,
                        "segment {k}: {:#x}",
                        r[0]
                    );
                    if k + 1 < records.len() {
                        assert_eq!(r.len(), seg);
                    }
                }
            }
            Output::Event(_) => {}
            Output::Timeout(_) => break,
        }
    }
    assert!(batches >= 1, "no batched transmit");
    let ok = duo.run_until(Duration::from_secs(60), |d| {
        d.messages(false, cb).len() == 6
    });
    assert!(ok, "not every message arrived\n{}", duo.sim.report());
    let got = duo.messages(false, cb);
    for (i, m) in got.iter().enumerate() {
        assert_eq!(m, &Payload::binary(message(i)), "message {i}");
    }
}
