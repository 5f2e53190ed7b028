//! Loss and reordering end to end: frames → packetizer → lossy, reordering network →
//! jitter buffer → frame assembler. Every frame that arrives whole is delivered, byte for
//! byte and in order; every frame that lost a packet is dropped, never delivered broken.
// `Instant::now()` only gives a base instant; time then advances virtually.
#![allow(clippy::disallowed_methods)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use rtcwire_rtp::codec::{
    Depacketizer, FrameAssembler, H264Depacketizer, H264Packetizer, Packetizer, Vp8Depacketizer,
    Vp8Packetizer,
};
use rtcwire_rtp::jitter::JitterBuffer;
use std::time::{Duration, Instant};

struct Sent {
    seq: u16,
    ts: u32,
    marker: bool,
    payload: Vec<u8>,
}

fn run<P: Packetizer, D: Depacketizer>(
    mut packetizer: P,
    depacketizer: D,
    frames: &[Vec<u8>],
    mtu: usize,
    drops: &[bool],
    swaps: &[usize],
) -> Result<(), TestCaseError> {
    // Packetize every frame, numbering packets from a wrapping start.
    let mut sent = Vec::new();
    let mut frame_of = Vec::new();
    let mut seq = 65_500u16;
    for (i, f) in frames.iter().enumerate() {
        let ts = 3000 * i as u32;
        packetizer
            .packetize(f, mtu, &mut |p: &[u8], last| {
                sent.push(Sent {
                    seq,
                    ts,
                    marker: last,
                    payload: p.to_vec(),
                });
                frame_of.push(i);
                seq = seq.wrapping_add(1);
            })
            .unwrap();
    }
    // Lose some packets, then swap neighbours to reorder (at most a few places).
    let mut lost_frame = vec![false; frames.len()];
    let mut wire: Vec<usize> = Vec::new();
    for i in 0..sent.len() {
        if drops.get(i).copied().unwrap_or(false) {
            lost_frame[frame_of[i]] = true;
        } else {
            wire.push(i);
        }
    }
    // The jitter buffer releases the very first packet at once, so it stays first.
    for &s in swaps {
        if wire.len() > 2 {
            let a = 1 + s % (wire.len() - 2);
            wire.swap(a, a + 1);
        }
    }
    let t0 = Instant::now();
    let mut jb = JitterBuffer::new(16).with_max_delay(Duration::from_millis(100));
    let mut asm = FrameAssembler::new(depacketizer);
    let mut out = Vec::new();
    let mut deliver = |asm: &mut FrameAssembler<D>, i: usize| {
        let p: &Sent = &sent[i];
        asm.push(p.seq, p.ts, p.marker, &p.payload);
        while let Some(f) = asm.pop_frame() {
            out.push(f);
        }
    };
    for (k, &i) in wire.iter().enumerate() {
        let now = t0 + Duration::from_millis(k as u64);
        jb.push(now, sent[i].seq, i);
        while let Some((_, i)) = jb.pop(now) {
            deliver(&mut asm, i);
        }
    }
    // Late enough that every gap has waited out.
    let end = t0 + Duration::from_secs(3600);
    while let Some((_, i)) = jb.pop(end) {
        deliver(&mut asm, i);
    }
    let want: Vec<usize> = (0..frames.len()).filter(|&i| !lost_frame[i]).collect();
    let got: Vec<usize> = out.iter().map(|f| (f.timestamp / 3000) as usize).collect();
    prop_assert_eq!(&got, &want);
    for f in &out {
        prop_assert_eq!(&f.data, &frames[(f.timestamp / 3000) as usize]);
    }
    Ok(())
}

fn vp8_frames() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 1..4000), 1..12)
}

fn h264_frames() -> impl Strategy<Value = Vec<Vec<u8>>> {
    // Each access unit: a first slice (first_mb_in_slice = 0) and maybe more slices.
    let au =
        prop::collection::vec(prop::collection::vec(1u8..=255, 1..2500), 1..4).prop_map(|slices| {
            let mut f = Vec::new();
            for (k, mut s) in slices.into_iter().enumerate() {
                if k == 0 {
                    s[0] |= 0x80;
                } else {
                    s[0] &= 0x7f;
                }
                f.extend_from_slice(&[0, 0, 0, 1, 0x41]);
                f.extend_from_slice(&s);
            }
            f
        });
    prop::collection::vec(au, 1..10)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn vp8_whole_frames_survive_loss_and_reordering(
        frames in vp8_frames(), mtu in 100usize..1200,
        drops in prop::collection::vec(prop::bool::weighted(0.05), 0..400),
        swaps in prop::collection::vec(any::<usize>(), 0..20),
    ) {
        run(Vp8Packetizer::with_picture_id(3), Vp8Depacketizer::default(), &frames, mtu, &drops, &swaps)?;
    }

    #[test]
    fn h264_whole_frames_survive_loss_and_reordering(
        frames in h264_frames(), mtu in 100usize..1200,
        drops in prop::collection::vec(prop::bool::weighted(0.05), 0..400),
        swaps in prop::collection::vec(any::<usize>(), 0..20),
    ) {
        run(H264Packetizer::new(), H264Depacketizer::default(), &frames, mtu, &drops, &swaps)?;
    }
}
