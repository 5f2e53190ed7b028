#![no_main]
//! The record layer and handshake message codecs never panic: any datagram splits into
//! records, every record open attempt fails cleanly or yields a bounded plaintext, the replay
//! window stays consistent, and whatever decodes as a handshake message re-encodes to bytes
//! that decode to the same message.
use libfuzzer_sys::fuzz_target;
use rtcwire_dtls::handshake::Message;
use rtcwire_dtls::record::{Protection, Records, ReplayWindow};
use rtcwire_dtls::BulkCipher;

fuzz_target!(|data: &[u8]| {
    let keys = [
        (BulkCipher::Aes128Gcm, 16usize, 4usize),
        (BulkCipher::Aes256Gcm, 32, 4),
        (BulkCipher::Chacha20Poly1305, 32, 12),
    ];
    let mut window = ReplayWindow::new();
    for rec in Records::new(data) {
        if window.check(rec.header.sequence) {
            window.mark(rec.header.sequence);
            assert!(!window.check(rec.header.sequence));
        }
        for (bulk, k, iv) in keys {
            let Ok(p) = Protection::new(bulk, &vec![1u8; k], &vec![2u8; iv]) else {
                continue;
            };
            let mut frag = rec.fragment.to_vec();
            if let Ok(plain) = p.open(&rec.header, &mut frag) {
                assert!(plain.len() + bulk.overhead() == rec.fragment.len());
            }
        }
        if let Some((&t, body)) = rec.fragment.split_first() {
            if let Ok(m) = Message::parse(t, body) {
                let mut again = Vec::new();
                m.emit_body(&mut again);
                assert_eq!(Message::parse(t, &again).ok(), Some(m));
            }
        }
    }
});
