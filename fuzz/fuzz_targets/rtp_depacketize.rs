#![no_main]
//! Every depacketizer, fed through the frame assembler. Input: codec byte, cap byte, then
//! records (2-byte length, flags byte, [repeat byte], payload). Never panics; no frame passes
//! the cap; and the memory the assembler holds between packets stays bounded however long
//! the run of packets: the frame buffer within the cap plus one payload's room, the
//! depacketizer's own fragment buffer within the cap. A record can repeat its packet up to 1020 times with the same
//! timestamp and consecutive sequence numbers, so a short input is a long stream that never
//! ends its frame.
use libfuzzer_sys::fuzz_target;
use rtcwire_rtp::codec::{
    Av1Depacketizer, Depacketizer, FrameAssembler, G711Depacketizer, H264Depacketizer,
    OpusDepacketizer, Vp8Depacketizer, Vp9Depacketizer,
};

/// Largest payload a record carries.
const MAX_PAYLOAD: usize = 1499;
/// Packets one input may feed in all: enough to pass even the largest cap (128 KiB) with
/// packets of 7 bytes or more, few enough to keep each run fast.
const MAX_PACKETS: usize = 20_000;

fn run<D: Depacketizer>(d: D, cap: usize, mut data: &[u8]) {
    let mut asm = FrameAssembler::with_max_frame_size(d, cap);
    // Frame buffer within cap + room for one payload; a kept fragment buffer within the cap.
    let bound = 2 * cap + 2 * MAX_PAYLOAD + 64;
    let mut seq = 0u16;
    let mut ts = 0u32;
    let mut budget = MAX_PACKETS;
    while data.len() >= 3 && budget > 0 {
        let len = usize::from(u16::from_be_bytes([data[0], data[1]])) % (MAX_PAYLOAD + 1);
        let flags = data[2];
        data = &data[3..];
        // Flags: bit 0 marker, bit 1 new timestamp, bit 2 skip a sequence number (loss),
        // bit 3 a repeat byte follows (the packet is sent 4 × that many times).
        let mut repeat = 1usize;
        if flags & 8 != 0 {
            let Some((&r, rest)) = data.split_first() else {
                return;
            };
            repeat = 4 * usize::from(r).max(1);
            data = rest;
        }
        let payload = &data[..len.min(data.len())];
        data = &data[len.min(data.len())..];
        if flags & 2 != 0 {
            ts = ts.wrapping_add(3000);
        }
        if flags & 4 != 0 {
            seq = seq.wrapping_add(1);
        }
        let repeat = repeat.min(budget);
        budget -= repeat;
        for _ in 0..repeat {
            asm.push(seq, ts, flags & 1 != 0, payload);
            seq = seq.wrapping_add(1);
            while let Some(f) = asm.pop_frame() {
                assert!(f.data.len() <= cap, "frame {} > cap {cap}", f.data.len());
            }
            let held = asm.retained_bytes();
            assert!(held <= bound, "{held} bytes retained, cap {cap}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let [codec, cap, rest @ ..] = data else {
        return;
    };
    // A small cap (1 KiB .. 128 KiB) so that runs of a few hundred packets reach it.
    let cap = 1024usize << (cap % 8);
    match codec % 6 {
        0 => run(OpusDepacketizer, cap, rest),
        1 => run(G711Depacketizer, cap, rest),
        2 => run(Vp8Depacketizer::default(), cap, rest),
        3 => run(Vp9Depacketizer::default(), cap, rest),
        4 => run(H264Depacketizer::default(), cap, rest),
        _ => run(Av1Depacketizer::default(), cap, rest),
    }
});
