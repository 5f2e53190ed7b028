#![no_main]
//! Every depacketizer, fed through the frame assembler: the first byte picks the codec,
//! the rest is a sequence of packets (2-byte length, flags byte, payload). Never panics,
//! never builds a frame larger than the cap.
use libfuzzer_sys::fuzz_target;
use rtcwire_rtp::codec::{
    Av1Depacketizer, Depacketizer, FrameAssembler, G711Depacketizer, H264Depacketizer,
    OpusDepacketizer, Vp8Depacketizer, Vp9Depacketizer, MAX_FRAME_SIZE,
};

fn run<D: Depacketizer>(d: D, mut data: &[u8]) {
    let mut asm = FrameAssembler::new(d);
    let mut seq = 0u16;
    let mut ts = 0u32;
    while data.len() >= 3 {
        let len = usize::from(u16::from_be_bytes([data[0], data[1]])) % 1500;
        let flags = data[2];
        let payload = &data[3..(3 + len).min(data.len())];
        data = &data[(3 + len).min(data.len())..];
        // Flags: bit 0 marker, bit 1 new timestamp, bit 2 skip a sequence number (loss).
        if flags & 2 != 0 {
            ts = ts.wrapping_add(3000);
        }
        if flags & 4 != 0 {
            seq = seq.wrapping_add(1);
        }
        asm.push(seq, ts, flags & 1 != 0, payload);
        seq = seq.wrapping_add(1);
        while let Some(f) = asm.pop_frame() {
            assert!(f.data.len() <= MAX_FRAME_SIZE + 1500 * 2);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&codec, rest)) = data.split_first() else {
        return;
    };
    match codec % 6 {
        0 => run(OpusDepacketizer, rest),
        1 => run(G711Depacketizer, rest),
        2 => run(Vp8Depacketizer::default(), rest),
        3 => run(Vp9Depacketizer::default(), rest),
        4 => run(H264Depacketizer::default(), rest),
        _ => run(Av1Depacketizer::default(), rest),
    }
});
