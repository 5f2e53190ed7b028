#![no_main]
//! The demultiplexer is total: any datagram gets a kind, and the kind agrees with the
//! first byte's range.
use libfuzzer_sys::fuzz_target;
use rtcwire_proto::{classify, PacketKind};

fuzz_target!(|data: &[u8]| {
    let kind = classify(data);
    match data.first() {
        None => assert_eq!(kind, PacketKind::Unknown),
        Some(0..=3) => assert_eq!(kind, PacketKind::Stun),
        Some(20..=63) => assert_eq!(kind, PacketKind::Dtls),
        Some(128..=191) if data.len() >= 2 => {
            assert!(matches!(kind, PacketKind::Rtp | PacketKind::Rtcp))
        }
        _ => {}
    }
});
