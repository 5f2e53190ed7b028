#![no_main]
//! Arbitrary bytes as an SCTP packet: the header and chunk parsers never panic, and every
//! chunk that parses re-emits to bytes that parse to the same chunk.
use libfuzzer_sys::fuzz_target;
use rtcwire_sctp::wire::{Chunk, Packet};

fuzz_target!(|data: &[u8]| {
    let _ = Packet::parse_checked(data);
    let Ok(p) = Packet::parse(data) else { return };
    for raw in p.chunks() {
        let Ok(raw) = raw else { break };
        assert!(raw.value.len() + 4 <= data.len());
        let Ok(c) = Chunk::parse(&raw) else { continue };
        let mut b = vec![0u8; 12];
        c.emit(&mut b);
        assert_eq!(b.len() - 12, c.buffer_len());
        let again = Packet::parse(&b).expect("header");
        let raw2 = again
            .chunks()
            .next()
            .expect("one chunk")
            .expect("well formed");
        assert_eq!(Chunk::parse(&raw2).expect("reparses"), c);
    }
});
