#![no_main]
//! RTP parsing is total and lossless: any datagram either fails to parse or parses into a
//! view whose extensions can be walked and typed, and whose `Repr` re-emits the same bytes
//! (padding content aside).
use libfuzzer_sys::fuzz_target;
use rtcwire_rtp::rtp::{ExtensionMap, HeaderExtensions, RtpPacket, RtpRepr};

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = RtpPacket::new_header_only(data) {
        assert!(p.header_len() <= data.len());
    }
    let Ok(p) = RtpPacket::new_checked(data) else {
        return;
    };
    assert!(p.payload_range().end <= data.len());
    for e in p.extensions() {
        let _ = e.map(|e| e.data.len());
    }
    let _ = HeaderExtensions::parse(p.extensions(), &ExtensionMap::webrtc_default());
    let repr = RtpRepr::parse(&p).expect("a checked packet has a Repr");
    let mut out = vec![0u8; repr.buffer_len()];
    let n = repr.emit(&mut out).expect("emit into an exact buffer");
    assert_eq!(n, data.len());
    let body = data.len() - p.padding_len();
    assert_eq!(&out[..body], &data[..body]);
});
