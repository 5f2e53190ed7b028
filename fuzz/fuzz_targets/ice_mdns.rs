#![no_main]
//! Reading arbitrary bytes as an mDNS answer never panics or loops (compression pointers
//! are bounded); a query built for any name that is accepted parses back as no answer.
use libfuzzer_sys::fuzz_target;
use rtcwire_ice::mdns;

fuzz_target!(|data: &[u8]| {
    let name = "0d2cd7c3-4ad2-4a71-9a0b-4d7d2b7b8f7c.local";
    let _ = mdns::parse_answer(data, name);
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = mdns::parse_answer(data, s);
        let mut q = Vec::new();
        if mdns::query(s, &mut q).is_ok() {
            assert_eq!(mdns::parse_answer(&q, s), Ok(None));
        } else {
            assert!(q.is_empty());
        }
    }
});
