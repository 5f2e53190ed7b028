//! A peer that never ends a frame (one timestamp, consecutive sequence numbers, no marker)
//! cannot make a receiver hold more than the frame cap: not through the frame buffer, and not
//! through a depacketizer's own buffer (the AV1 OBU fragment in progress).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rtcwire_rtp::codec::{
    Av1Depacketizer, Depacketizer, FrameAssembler, H264Depacketizer, Vp8Depacketizer,
    Vp9Depacketizer, MAX_FRAME_SIZE,
};
use rtcwire_rtp::Error;

const CAP: usize = 64 * 1024;
const PAYLOAD: usize = 1200;
/// Slack over the cap the assembler may hold between calls: room reserved for one payload.
const SLACK: usize = 2 * PAYLOAD + 64;

/// AV1 aggregation header Z=1 Y=1 W=1: one element, a middle fragment of an OBU.
fn av1_middle_fragment() -> Vec<u8> {
    let mut p = vec![0xd0];
    p.resize(PAYLOAD, 0x5a);
    p
}

/// AV1 aggregation header Z=0 Y=1 W=1: the first fragment of an OBU_FRAME.
fn av1_first_fragment() -> Vec<u8> {
    let mut p = vec![0x50, 0x32];
    p.resize(PAYLOAD, 0x5a);
    p
}

/// Feeds `first` then `rest` `n` times with one timestamp, no marker, no loss; checks the
/// retained memory after every packet and returns the largest value seen.
fn flood<D: Depacketizer>(
    asm: &mut FrameAssembler<D>,
    first: &[u8],
    rest: &[u8],
    n: usize,
) -> usize {
    let mut peak = 0;
    assert!(!asm.push(0, 90_000, false, first));
    for i in 1..=n {
        let seq = i as u16; // wraps after 65536 packets, still consecutive
        assert!(!asm.push(seq, 90_000, false, rest), "no frame may complete");
        let r = asm.retained_bytes();
        assert!(
            r <= CAP + SLACK,
            "packet {i}: {r} bytes retained, cap {CAP}"
        );
        peak = peak.max(r);
        assert!(asm.pop_frame().is_none());
    }
    peak
}

#[test]
fn av1_continued_obu_is_refused_at_the_cap_with_a_precise_error() {
    let mut d = Av1Depacketizer::default();
    d.set_max_frame_size(CAP);
    let mut frame = Vec::new();
    d.begin_frame(&mut frame);
    let td = frame.len(); // the temporal delimiter the depacketizer writes
    let first = av1_first_fragment();
    let mid = av1_middle_fragment();
    let mut held = first.len() - 1;
    d.depacketize(&first, &mut frame).unwrap();
    let mut refused = None;
    for i in 0..1000 {
        match d.depacketize(&mid, &mut frame) {
            Ok(_) => {
                held += mid.len() - 1;
                assert!(td + held <= CAP);
                assert!(d.retained_bytes() <= CAP, "{}", d.retained_bytes());
            }
            Err(e) => {
                refused = Some((i, e));
                break;
            }
        }
    }
    let (_, e) = refused.expect("the fragment must hit the cap");
    assert_eq!(
        e,
        Error::FrameTooLarge {
            size: td + held + (mid.len() - 1),
            max: CAP,
        }
    );
    assert!(td + held + mid.len() - 1 > CAP);
    // The fragment is forgotten: its memory released, and a continuation is now refused.
    assert_eq!(d.retained_bytes(), 0);
    assert!(matches!(
        d.depacketize(&mid, &mut frame),
        Err(Error::BadPayload { .. })
    ));
}

#[test]
fn av1_long_run_of_continued_obus_keeps_memory_under_the_cap() {
    let mut asm = FrameAssembler::with_max_frame_size(Av1Depacketizer::default(), CAP);
    // 20 times the cap's worth of fragments.
    let n = 20 * CAP / PAYLOAD;
    flood(&mut asm, &av1_first_fragment(), &av1_middle_fragment(), n);
    assert_eq!(asm.dropped_frames(), 1);
}

#[test]
fn av1_default_cap_bounds_the_fragment_too() {
    let mut asm = FrameAssembler::new(Av1Depacketizer::default());
    let mid = av1_middle_fragment();
    assert!(!asm.push(0, 1, false, &av1_first_fragment()));
    let n = MAX_FRAME_SIZE / (PAYLOAD - 1) + 10;
    for i in 1..=n {
        asm.push(i as u16, 1, false, &mid);
    }
    assert!(asm.retained_bytes() <= MAX_FRAME_SIZE + 2 * PAYLOAD + 64);
    assert_eq!(asm.dropped_frames(), 1);
}

#[test]
fn vp8_frame_without_end_keeps_memory_under_the_cap() {
    // Descriptor without extensions, S=1 PID=0 for the first payload, then continuations.
    let mut first = vec![0x10, 0x00];
    first.resize(PAYLOAD, 0x11);
    let mut rest = vec![0x00, 0x11];
    rest.resize(PAYLOAD, 0x11);
    let mut asm = FrameAssembler::with_max_frame_size(Vp8Depacketizer::default(), CAP);
    flood(&mut asm, &first, &rest, 20 * CAP / PAYLOAD);
    assert_eq!(asm.dropped_frames(), 1);
}

#[test]
fn vp9_frame_without_end_keeps_memory_under_the_cap() {
    // Descriptor byte: B=1 for the first payload, plain continuation after.
    let mut first = vec![0x08, 0x82];
    first.resize(PAYLOAD, 0x11);
    let mut rest = vec![0x00, 0x11];
    rest.resize(PAYLOAD, 0x11);
    let mut asm = FrameAssembler::with_max_frame_size(Vp9Depacketizer::default(), CAP);
    flood(&mut asm, &first, &rest, 20 * CAP / PAYLOAD);
    assert_eq!(asm.dropped_frames(), 1);
}

#[test]
fn h264_fu_a_without_end_keeps_memory_under_the_cap() {
    // FU-A of an IDR slice: start, then middles that never set E.
    let mut first = vec![0x7c, 0x85, 0x88];
    first.resize(PAYLOAD, 0x11);
    let mut rest = vec![0x7c, 0x05];
    rest.resize(PAYLOAD, 0x11);
    let mut asm = FrameAssembler::with_max_frame_size(H264Depacketizer::default(), CAP);
    flood(&mut asm, &first, &rest, 20 * CAP / PAYLOAD);
    assert_eq!(asm.dropped_frames(), 1);
}

#[test]
fn h264_stap_a_expansion_keeps_memory_under_the_cap() {
    // STAP-A of one-byte NAL units: every 3 bytes in become 5 out (start codes).
    let unit = [0x00, 0x01, 0x01];
    let mut first = vec![0x18, 0x00, 0x02, 0x67, 0x42];
    let mut rest = vec![0x18];
    while rest.len() + 3 <= PAYLOAD {
        rest.extend_from_slice(&unit);
        if first.len() + 3 <= PAYLOAD {
            first.extend_from_slice(&unit);
        }
    }
    let mut asm = FrameAssembler::with_max_frame_size(H264Depacketizer::default(), CAP);
    flood(&mut asm, &first, &rest, 20 * CAP / PAYLOAD);
    assert_eq!(asm.dropped_frames(), 1);
}

#[test]
fn frames_under_the_cap_still_assemble() {
    // A frame of exactly the cap's size in AV1 fragments completes.
    let mut asm = FrameAssembler::with_max_frame_size(Av1Depacketizer::default(), CAP);
    let first = av1_first_fragment();
    let mid = av1_middle_fragment();
    asm.push(0, 5, false, &first);
    let mut seq = 1u16;
    let mut held = first.len() - 1;
    while held + 2 * (mid.len() - 1) < CAP - 64 {
        asm.push(seq, 5, false, &mid);
        held += mid.len() - 1;
        seq += 1;
    }
    let last = [0x90, 0x5a, 0x5a]; // Z=1 Y=0 W=1: the OBU's last fragment
    assert!(asm.push(seq, 5, true, &last));
    let f = asm.pop_frame().unwrap();
    assert!(f.data.len() > CAP - 2 * PAYLOAD && f.data.len() <= CAP);
    assert_eq!(asm.dropped_frames(), 0);
}

#[test]
fn a_frame_dropped_before_the_next_completes_gives_its_memory_to_it() {
    // VP8, one packet a frame: descriptor S=1 (start of partition), then the payload.
    let packet = |fill: u8| {
        let mut p = vec![0x10];
        p.resize(1000, fill);
        p
    };
    let mut asm = FrameAssembler::new(Vp8Depacketizer::default());
    assert!(asm.push(0, 0, true, &packet(1)));
    let first = asm.pop_frame().unwrap();
    let place = first.data.as_ptr();
    drop(first);
    // The first frame is gone: the second is written where it was.
    assert!(asm.push(1, 3000, true, &packet(2)));
    let second = asm.pop_frame().unwrap();
    assert_eq!(second.data.as_ptr(), place);
    assert!(second.data[1..].iter().all(|&b| b == 2));
    // The second is still held: the third gets memory of its own, and both stay intact.
    assert!(asm.push(2, 6000, true, &packet(3)));
    let third = asm.pop_frame().unwrap();
    assert_ne!(third.data.as_ptr(), second.data.as_ptr());
    assert!(second.data[1..].iter().all(|&b| b == 2));
    assert!(third.data[1..].iter().all(|&b| b == 3));
}
