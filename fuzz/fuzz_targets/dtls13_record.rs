#![no_main]
//! The DTLS 1.3 record layer on arbitrary datagrams: the unified-header parser never reads
//! outside the datagram, and opening with real keys (epochs 2 and 3, every suite) never
//! panics and never yields more content than the record carried. Records sealed from the
//! input's bytes open back to the same content.
use libfuzzer_sys::fuzz_target;
use rtcwire_dtls::v13::keys::{handshake_secret, TrafficKeys};
use rtcwire_dtls::v13::record::{Raw, RecordLayer13, Records13};
use rtcwire_dtls::{BulkCipher, PrfHash};

fn keys(bulk: BulkCipher) -> TrafficKeys {
    let s = handshake_secret(PrfHash::Sha256, &[1; 32]).expect("secret");
    TrafficKeys::derive(PrfHash::Sha256, bulk, &s).expect("keys")
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let bulk = match sel % 3 {
        0 => BulkCipher::Aes128Gcm,
        1 => BulkCipher::Aes256Gcm,
        _ => BulkCipher::Chacha20Poly1305,
    };
    let mut layer = RecordLayer13::new(0);
    layer.install_read(2, keys(bulk));
    layer.install_read(3, keys(bulk));
    let mut out = Vec::new();
    let mut n = 0;
    for r in Records13::new(rest) {
        n += 1;
        match r {
            Raw::Plain { fragment, .. } => assert!(fragment.len() <= rest.len()),
            Raw::Cipher { header, body } => {
                assert!(header.len() + body.len() <= rest.len());
                if layer.open(header, body, &mut out).is_ok() {
                    assert!(out.len() < body.len());
                }
            }
        }
    }
    assert!(n <= rest.len());
    // Round trip: the input as content, sealed then opened.
    let content = rest.get(..rest.len().min(1500)).unwrap_or_default();
    let mut w = RecordLayer13::new(0);
    w.install_write(3, keys(bulk));
    let mut wire = Vec::new();
    w.seal(3, 23, content, &mut wire).expect("seal");
    let mut r = RecordLayer13::new(0);
    r.install_read(3, keys(bulk));
    let Some(Raw::Cipher { header, body }) = Records13::new(&wire).next() else {
        panic!("our record parses");
    };
    let o = r.open(header, body, &mut out).expect("our record opens");
    assert_eq!((o.epoch, o.seq, o.content_type), (3, 0, 23));
    assert_eq!(out, content);
});
