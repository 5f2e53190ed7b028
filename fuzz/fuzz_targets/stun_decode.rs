#![no_main]
//! Parsing arbitrary bytes as STUN (and as ChannelData) never panics; whatever parses has
//! attributes that decode or fail cleanly, and agrees with the demultiplexer.
use libfuzzer_sys::fuzz_target;
use rtcwire_proto::{classify, PacketKind};
use rtcwire_stun::{is_stun, ChannelData, Message};

fuzz_target!(|data: &[u8]| {
    if is_stun(data) {
        assert_eq!(classify(data), PacketKind::Stun);
    }
    if let Ok(msg) = Message::parse(data) {
        assert_eq!(msg.as_bytes().len(), data.len());
        let tid = msg.transaction_id();
        let mut n = 0usize;
        for a in msg.raw_attributes() {
            n += 1;
            assert!(a.offset + 4 + a.value.len() + a.padding.len() <= data.len());
            let _ = a.parse(&tid);
        }
        assert!(msg.attributes().count() <= n);
        let _ = msg.username();
        let _ = msg.xor_mapped_address();
        let _ = msg.error_code();
        let _ = msg.verify_fingerprint();
        let _ = msg.check_comprehension();
        if data.first().is_some_and(|&b| b <= 3) {
            assert!(is_stun(data));
        }
    }
    if let Ok(cd) = ChannelData::parse(data) {
        assert!((0x4000..=0x4fff).contains(&cd.number));
        assert!(cd.data.len() + 4 <= data.len());
    }
});
