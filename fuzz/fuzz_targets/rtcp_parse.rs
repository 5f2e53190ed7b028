#![no_main]
//! Compound RTCP parsing is total: every packet that parses can be iterated in full and
//! written again, and what is written parses back to the same value.
use libfuzzer_sys::fuzz_target;
use rtcwire_rtp::rtcp::{self, validate_compound, CompoundRule, Rtcp};

fuzz_target!(|data: &[u8]| {
    let _ = validate_compound(data, CompoundRule::Full);
    let _ = validate_compound(data, CompoundRule::ReducedSize);
    for p in rtcp::parse_compound(data).flatten() {
        match &p {
            Rtcp::TransportFeedback(fb) => {
                assert_eq!(fb.packets().count(), usize::from(fb.status_count));
                let _ = fb.arrivals().count();
            }
            Rtcp::Sdes(s) => {
                assert_eq!(s.chunks.iter().count(), s.chunks.len());
                for c in s.chunks.iter() {
                    let _ = c.items.iter().count();
                }
            }
            Rtcp::Nack(n) => {
                let _ = n.lost().count();
            }
            Rtcp::Xr(x) => {
                for b in x.blocks.iter() {
                    let _ = b.rrtr();
                    let _ = b.dlrr().map(Iterator::count);
                }
            }
            _ => {}
        }
        let mut out = vec![0u8; p.buffer_len()];
        if let Ok(n) = p.emit(&mut out) {
            let back = Rtcp::parse_bytes(&out[..n]).expect("what we write parses");
            assert_eq!(back, p);
        }
    }
});
