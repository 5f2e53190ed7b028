//! Packetizers and depacketizers: frame → packets → frame for any size and MTU, loss
//! handling in the frame assembler, keyframe detection, and byte fixtures per payload spec.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use rtcwire_rtp::codec::{
    is_vp9_keyframe, Av1Depacketizer, Av1Packetizer, Depacketizer, Frame, FrameAssembler,
    G711Depacketizer, G711Packetizer, H264Depacketizer, H264Packetizer, OpusDepacketizer,
    OpusPacketizer, Packetizer, Vp8Depacketizer, Vp8Descriptor, Vp8Packetizer, Vp9Depacketizer,
    Vp9Descriptor, Vp9Packetizer,
};

/// Packetizes `frame` and returns (payload, last) pairs.
fn packetize(p: &mut dyn Packetizer, frame: &[u8], mtu: usize) -> Vec<(Vec<u8>, bool)> {
    let mut out = Vec::new();
    p.packetize(frame, mtu, &mut |b: &[u8], last| {
        out.push((b.to_vec(), last))
    })
    .unwrap();
    out
}

/// Feeds packets (seq from `seq0`, marker on `last`) into an assembler.
fn assemble<D: Depacketizer>(
    asm: &mut FrameAssembler<D>,
    seq0: u16,
    ts: u32,
    pkts: &[(Vec<u8>, bool)],
) -> Vec<Frame> {
    for (i, (p, last)) in pkts.iter().enumerate() {
        asm.push(seq0.wrapping_add(i as u16), ts, *last, p);
    }
    std::iter::from_fn(|| asm.pop_frame()).collect()
}

fn check_sizes(pkts: &[(Vec<u8>, bool)], mtu: usize) {
    assert!(!pkts.is_empty());
    for (i, (p, last)) in pkts.iter().enumerate() {
        assert!(p.len() <= mtu, "payload {} > mtu {mtu}", p.len());
        assert_eq!(*last, i + 1 == pkts.len());
    }
}

// ---- frame generators ----

fn vp8_frame_any() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 1..6000)
}

/// Annex B frames: NAL units whose bodies avoid zero bytes (so no start-code emulation),
/// the first starting an access unit (an SPS, or a slice with first_mb_in_slice = 0).
fn h264_frame_any() -> impl Strategy<Value = Vec<u8>> {
    let nal = (
        prop::sample::select(vec![1u8, 5, 6, 7, 8]),
        prop::collection::vec(1u8..=255, 1..3000),
    );
    prop::collection::vec(nal, 1..6).prop_map(|nals| {
        let mut f = Vec::new();
        for (i, (t, mut body)) in nals.into_iter().enumerate() {
            if i == 0 && (t == 1 || t == 5) {
                body[0] |= 0x80;
            }
            f.extend_from_slice(&[0, 0, 0, 1, 0x60 | t]);
            f.extend_from_slice(&body);
        }
        f
    })
}

/// AV1 temporal units: a temporal delimiter, then OBUs with size fields (types other than
/// temporal delimiter and tile list), some with an extension byte.
fn av1_tu_any() -> impl Strategy<Value = Vec<u8>> {
    let obu = (
        prop::sample::select(vec![1u8, 3, 4, 5, 6, 15]),
        any::<bool>(),
        prop::collection::vec(any::<u8>(), 0..2500),
    );
    prop::collection::vec(obu, 1..5).prop_map(|obus| {
        let mut f = vec![0x12, 0x00];
        for (t, ext, payload) in obus {
            f.push(t << 3 | 0x02 | if ext { 0x04 } else { 0 });
            if ext {
                f.push(0x28);
            }
            let mut n = payload.len();
            loop {
                let b = (n & 0x7f) as u8;
                n >>= 7;
                if n == 0 {
                    f.push(b);
                    break;
                }
                f.push(b | 0x80);
            }
            f.extend_from_slice(&payload);
        }
        f
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn opus_round_trip(frame in prop::collection::vec(any::<u8>(), 1..1500), mtu in 1usize..1500) {
        let mut p = OpusPacketizer;
        let mut out = Vec::new();
        let r = p.packetize(&frame, mtu, &mut |b: &[u8], last| out.push((b.to_vec(), last)));
        if frame.len() > mtu {
            prop_assert!(r.is_err());
        } else {
            let frames = assemble(&mut FrameAssembler::new(OpusDepacketizer), 0, 960, &out);
            prop_assert_eq!(frames.len(), 1);
            prop_assert_eq!(&frames[0].data, &frame);
        }
    }

    #[test]
    fn g711_round_trip(frame in prop::collection::vec(any::<u8>(), 1..4000), mtu in 1usize..1500) {
        let pkts = packetize(&mut G711Packetizer, &frame, mtu);
        check_sizes(&pkts, mtu);
        // Every packet is a frame of its own; together they are the input.
        let mut asm = FrameAssembler::new(G711Depacketizer);
        let mut all = Vec::new();
        for (i, (p, _)) in pkts.iter().enumerate() {
            asm.push(i as u16, 160 * i as u32, false, p);
            all.extend(asm.pop_frame().unwrap().data);
        }
        prop_assert_eq!(all, frame);
    }

    #[test]
    fn vp8_round_trip(frame in vp8_frame_any(), mtu in 5usize..1500, pid in 0u16..0x8000, seq in any::<u16>()) {
        let pkts = packetize(&mut Vp8Packetizer::with_picture_id(pid), &frame, mtu);
        check_sizes(&pkts, mtu);
        let mut asm = FrameAssembler::new(Vp8Depacketizer::default());
        let frames = assemble(&mut asm, seq, 3000, &pkts);
        prop_assert_eq!(frames.len(), 1);
        prop_assert_eq!(&frames[0].data, &frame);
        prop_assert_eq!(frames[0].keyframe, frame[0] & 1 == 0);
        prop_assert_eq!(asm.depacketizer().last_picture_id(), Some(pid));
    }

    #[test]
    fn vp9_round_trip(frame in prop::collection::vec(any::<u8>(), 1..6000), mtu in 5usize..1500, flexible in any::<bool>()) {
        let mut p = if flexible { Vp9Packetizer::flexible(5) } else { Vp9Packetizer::non_flexible(5) };
        let pkts = packetize(&mut p, &frame, mtu);
        check_sizes(&pkts, mtu);
        let frames = assemble(&mut FrameAssembler::new(Vp9Depacketizer::default()), 0, 0, &pkts);
        prop_assert_eq!(frames.len(), 1);
        prop_assert_eq!(&frames[0].data, &frame);
        prop_assert_eq!(frames[0].keyframe, is_vp9_keyframe(&frame));
    }

    #[test]
    fn h264_round_trip(frame in h264_frame_any(), mtu in 3usize..1500) {
        let pkts = packetize(&mut H264Packetizer::new(), &frame, mtu);
        check_sizes(&pkts, mtu);
        let frames = assemble(&mut FrameAssembler::new(H264Depacketizer::default()), 7, 90, &pkts);
        prop_assert_eq!(frames.len(), 1);
        prop_assert_eq!(&frames[0].data, &frame);
        let has_idr = frame.windows(5).any(|w| w == [0, 0, 0, 1, 0x65]);
        prop_assert_eq!(frames[0].keyframe, has_idr);
    }

    #[test]
    fn av1_round_trip(tu in av1_tu_any(), mtu in 3usize..1500) {
        let pkts = packetize(&mut Av1Packetizer::default(), &tu, mtu);
        check_sizes(&pkts, mtu);
        // The first OBU type decides whether the assembler can start on it.
        let frames = assemble(&mut FrameAssembler::new(Av1Depacketizer::default()), 0, 0, &pkts);
        let starts = matches!((tu[2] >> 3) & 0xf, 1 | 3 | 6);
        if starts {
            prop_assert_eq!(frames.len(), 1);
            prop_assert_eq!(&frames[0].data, &tu);
            prop_assert_eq!(frames[0].keyframe, tu.chunks(1).any(|_| false) || has_sequence_header(&tu));
        } else {
            prop_assert!(frames.is_empty());
        }
    }

    #[test]
    fn depacketizers_never_panic(data in prop::collection::vec(any::<u8>(), 0..400)) {
        let mut f = Vec::new();
        let _ = OpusDepacketizer.depacketize(&data, &mut f);
        let _ = G711Depacketizer.depacketize(&data, &mut f);
        let _ = Vp8Depacketizer::default().depacketize(&data, &mut f);
        let _ = Vp9Depacketizer::default().depacketize(&data, &mut f);
        let _ = H264Depacketizer::default().depacketize(&data, &mut f);
        let mut av1 = Av1Depacketizer::default();
        let _ = av1.depacketize(&data, &mut f);
        let _ = av1.depacketize(&data, &mut f);
    }
}

fn has_sequence_header(tu: &[u8]) -> bool {
    // Walk the OBUs of a generated TU.
    let mut at = 2;
    while at < tu.len() {
        let h = tu[at];
        if (h >> 3) & 0xf == 1 {
            return true;
        }
        at += if h & 0x04 != 0 { 2 } else { 1 };
        let (mut n, mut shift) = (0usize, 0);
        loop {
            let b = tu[at];
            at += 1;
            n |= usize::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                break;
            }
        }
        at += n;
    }
    false
}

#[test]
fn loss_drops_the_broken_frame_and_resumes_at_the_next() {
    let mut pk = Vp8Packetizer::with_picture_id(1);
    let key = vec![0x10; 3000]; // bit 0 clear: keyframe
    let delta = vec![0x11; 3000];
    let f1 = packetize(&mut pk, &key, 1000);
    let f2 = packetize(&mut pk, &delta, 1000);
    let f3 = packetize(&mut pk, &delta, 1000);
    let mut asm = FrameAssembler::new(Vp8Depacketizer::default());
    let mut seq = 0u16;
    let mut feed =
        |asm: &mut FrameAssembler<_>, pkts: &[(Vec<u8>, bool)], ts: u32, skip: Option<usize>| {
            for (i, (p, last)) in pkts.iter().enumerate() {
                if Some(i) != skip {
                    asm.push(seq, ts, *last, p);
                }
                seq += 1;
            }
        };
    feed(&mut asm, &f1, 0, None);
    feed(&mut asm, &f2, 3000, Some(1)); // middle packet lost
    feed(&mut asm, &f3, 6000, None);
    let frames: Vec<Frame> = std::iter::from_fn(|| asm.pop_frame()).collect();
    assert_eq!(
        frames.iter().map(|f| f.timestamp).collect::<Vec<_>>(),
        [0, 6000]
    );
    assert!(frames[0].keyframe && !frames[1].keyframe);
    assert_eq!(asm.dropped_frames(), 1);
}

#[test]
fn losing_a_frame_start_drops_that_frame_only() {
    let mut pk = H264Packetizer::new();
    let mut frame = vec![0, 0, 0, 1, 0x65, 0x88];
    frame.extend(vec![0x42; 4000]);
    let pkts = packetize(&mut pk, &frame, 1200);
    assert!(pkts.len() > 2);
    let mut asm = FrameAssembler::new(H264Depacketizer::default());
    // Frame at ts 0 loses its first FU-A fragment; frame at ts 3000 is whole.
    for (i, (p, last)) in pkts.iter().enumerate().skip(1) {
        asm.push(i as u16, 0, *last, p);
    }
    let n = pkts.len() as u16;
    for (i, (p, last)) in pkts.iter().enumerate() {
        asm.push(n + i as u16, 3000, *last, p);
    }
    let frames: Vec<Frame> = std::iter::from_fn(|| asm.pop_frame()).collect();
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].timestamp, 3000);
    assert_eq!(frames[0].data, frame);
    assert!(frames[0].keyframe);
}

/// RFC 7741 §4.2 descriptor with every optional field: X, I (15-bit), L, T/K.
#[test]
fn vp8_descriptor_fixture() {
    let d = Vp8Descriptor::parse(&[0x90, 0xf0, 0x81, 0x23, 0x07, 0x80, 0xaa]).unwrap();
    assert!(d.start_of_partition && !d.non_reference);
    assert_eq!(
        (d.partition_id, d.picture_id, d.tl0_pic_idx, d.tid, d.len),
        (0, Some(0x123), Some(7), Some(2), 6)
    );
    // 7-bit picture id, no L/T/K.
    let d = Vp8Descriptor::parse(&[0x80, 0x80, 0x05]).unwrap();
    assert_eq!((d.picture_id, d.len), (Some(5), 3));
    assert!(Vp8Descriptor::parse(&[0x80, 0x80]).is_err());
}

/// RFC 6184 §5.7.1 STAP-A with SPS and PPS, and §5.8 FU-A start/end.
#[test]
fn h264_stap_a_and_fu_a_fixtures() {
    let mut d = H264Depacketizer::default();
    let mut out = Vec::new();
    let stap = [0x78, 0x00, 0x03, 0x67, 0x42, 0x00, 0x00, 0x02, 0x68, 0xce];
    let info = d.depacketize(&stap, &mut out).unwrap();
    assert!(info.frame_start && !info.keyframe);
    assert!(d.has_parameter_sets());
    assert_eq!(out, [0, 0, 0, 1, 0x67, 0x42, 0x00, 0, 0, 0, 1, 0x68, 0xce]);
    out.clear();
    let info = d.depacketize(&[0x7c, 0x85, 0x88, 0x01], &mut out).unwrap(); // FU-A start, IDR
    assert!(info.keyframe && info.frame_start);
    d.depacketize(&[0x7c, 0x45, 0x02], &mut out).unwrap(); // FU-A end
    assert_eq!(out, [0, 0, 0, 1, 0x65, 0x88, 0x01, 0x02]);
    // A continuation without start, and mode-2-only types, are errors.
    assert!(d.depacketize(&[0x7c, 0x05, 0x00], &mut out).is_err());
    assert!(d.depacketize(&[0x79, 0x00], &mut out).is_err()); // STAP-B
}

#[test]
fn h264_parameter_sets_are_repeated_before_idr() {
    let mut pk = H264Packetizer::new().insert_parameter_sets(true);
    let first = [
        0, 0, 0, 1, 0x67, 0x42, 0, 0, 0, 1, 0x68, 0xce, 0, 0, 0, 1, 0x65, 0x88, 0x80,
    ];
    let _ = packetize(&mut pk, &first, 1200);
    let idr_only = [0, 0, 0, 1, 0x65, 0x88, 0x81];
    let pkts = packetize(&mut pk, &idr_only, 1200);
    let frames = assemble(
        &mut FrameAssembler::new(H264Depacketizer::default()),
        0,
        0,
        &pkts,
    );
    assert_eq!(
        frames[0].data[..],
        [0, 0, 0, 1, 0x67, 0x42, 0, 0, 0, 1, 0x68, 0xce, 0, 0, 0, 1, 0x65, 0x88, 0x81]
    );
    // Non-IDR frames are sent as they are.
    let p = [0, 0, 0, 1, 0x41, 0x9a];
    assert_eq!(packetize(&mut pk, &p, 1200), [(vec![0x41, 0x9a], true)]);
}

/// RFC 9628 descriptors: non-flexible keyframe with scalability structure, flexible inter
/// frame with a reference.
#[test]
fn vp9_descriptor_fixtures() {
    let key = [0x82, 0x00, 0x00, 0x00, 0x00, 0x00]; // frame header byte: marker 10, key
    let key = [&[0x80u8][..], &key[1..]].concat();
    assert!(is_vp9_keyframe(&key));
    assert!(!is_vp9_keyframe(&[0x84])); // frame_type = 1
    let pkts = packetize(&mut Vp9Packetizer::non_flexible(0x1234), &key, 100);
    let d = Vp9Descriptor::parse(&pkts[0].0).unwrap();
    assert!(d.start_of_frame && d.end_of_frame && !d.inter_predicted && !d.flexible);
    assert_eq!((d.picture_id, d.len), (Some(0x1234), 4)); // I + 2 bytes + SS
    let pkts = packetize(&mut Vp9Packetizer::flexible(1), &[0x84, 1, 2], 100);
    let d = Vp9Descriptor::parse(&pkts[0].0).unwrap();
    assert!(d.flexible && d.inter_predicted);
    assert_eq!(d.len, 4); // I + 2 bytes + one P_DIFF
                          // Layer indices (L) in non-flexible mode carry TL0PICIDX; SS with resolutions.
    let d = Vp9Descriptor::parse(&[0x2a, 0x42, 0x07, 0x10, 0x01, 0x40, 0x00, 0xf0, 0xaa]).unwrap();
    assert_eq!((d.temporal_id, d.spatial_id, d.len), (2, 1, 8));
}

/// AV1: an OBU larger than the MTU is fragmented (Y then Z bits), N marks the sequence
/// header's TU, and losing a middle fragment drops the frame.
#[test]
fn av1_fragmentation_and_loss() {
    let mut tu = vec![0x12, 0x00, 0x0a, 0x02, 0xaa, 0xbb]; // TD, sequence header (2 bytes)
    tu.extend_from_slice(&[0x32, 0xd0, 0x0f]); // frame OBU of 2000 bytes (LEB128 0x7d0)
    tu.extend(vec![0x5a; 2000]);
    let pkts = packetize(&mut Av1Packetizer::default(), &tu, 600);
    assert!(pkts.len() >= 4);
    assert_eq!(pkts[0].0[0] & 0x08, 0x08); // N
    assert_eq!(pkts[0].0[0] & 0x40, 0x40); // Y: frame OBU continues
    assert_eq!(pkts[1].0[0] & 0xc0, 0xc0); // Z and Y
    let frames = assemble(
        &mut FrameAssembler::new(Av1Depacketizer::default()),
        0,
        0,
        &pkts,
    );
    assert_eq!(frames[0].data, tu);
    assert!(frames[0].keyframe);
    let mut lossy = pkts.clone();
    lossy.remove(1);
    let mut asm = FrameAssembler::new(Av1Depacketizer::default());
    for (i, (p, last)) in lossy.iter().enumerate() {
        asm.push(if i == 0 { 0 } else { i as u16 + 1 }, 0, *last, p);
    }
    assert!(asm.pop_frame().is_none());
    assert_eq!(asm.dropped_frames(), 1);
}

#[test]
fn mtu_too_small_is_an_error_not_a_panic() {
    let mut out = |_: &[u8], _| {};
    assert!(Vp8Packetizer::default()
        .packetize(&[1], 4, &mut out)
        .is_err());
    assert!(Vp9Packetizer::default()
        .packetize(&[1], 4, &mut out)
        .is_err());
    assert!(H264Packetizer::new()
        .packetize(&[0, 0, 1, 0x65, 1], 2, &mut out)
        .is_err());
    assert!(Av1Packetizer::default()
        .packetize(&[0x0a, 0], 2, &mut out)
        .is_err());
    assert!(G711Packetizer.packetize(&[1], 0, &mut out).is_err());
    assert!(H264Packetizer::new()
        .packetize(&[1, 2, 3], 100, &mut out)
        .is_err()); // no NAL
}

/// AV1 aggregation header with W = 2: the first element is length-prefixed, the last runs
/// to the end of the payload (as libwebrtc sends).
#[test]
fn av1_w_field_counts_elements() {
    let mut d = Av1Depacketizer::default();
    let mut out = Vec::new();
    d.begin_frame(&mut out);
    // W=2, N=1: sequence header OBU (type 1, 1 byte), then frame OBU (type 6, 3 bytes).
    let payload = [0x28, 0x02, 0x08, 0xaa, 0x30, 1, 2, 3];
    let info = d.depacketize(&payload, &mut out).unwrap();
    assert!(info.frame_start && info.keyframe);
    assert_eq!(out, [0x12, 0x00, 0x0a, 0x01, 0xaa, 0x32, 0x03, 1, 2, 3]);
    // Z set without a fragment in progress is refused.
    assert!(d.depacketize(&[0x90, 0x30, 1], &mut out).is_err());
}

#[test]
fn vp8_depacketizer_accepts_the_minimal_descriptor() {
    // X=0: one descriptor byte (S=1, PID=0), then a keyframe header byte.
    let mut d = Vp8Depacketizer::default();
    let mut out = Vec::new();
    let info = d.depacketize(&[0x10, 0x50, 0x01], &mut out).unwrap();
    assert!(info.frame_start && info.keyframe);
    assert_eq!(out, [0x50, 0x01]);
    assert_eq!(d.last_picture_id(), None);
    // Not a start: continuation of partition 1.
    let info = d.depacketize(&[0x01, 0x51], &mut out).unwrap();
    assert!(!info.frame_start && !info.keyframe);
    assert!(d.depacketize(&[0x10], &mut out).is_err()); // no data
}

/// A STAP-A whose first unit is a non-first slice does not start a frame, so after loss
/// the assembler waits for the next access unit.
#[test]
fn h264_resumes_only_at_an_access_unit_start() {
    let mut asm = FrameAssembler::new(H264Depacketizer::default());
    // seq 0 lost; seq 1 is a second slice (first_mb_in_slice != 0: first bit 0).
    asm.push(1, 3000, true, &[0x41, 0x40, 0x01]);
    assert!(asm.pop_frame().is_none());
    // Next picture starts with a first slice.
    asm.push(2, 6000, true, &[0x41, 0x80, 0x02]);
    let f = asm.pop_frame().unwrap();
    assert_eq!((f.timestamp, f.keyframe), (6000, false));
    assert_eq!(f.data[..], [0, 0, 0, 1, 0x41, 0x80, 0x02]);
}
