#![no_main]
//! The record layer and handshake message codecs never panic: any datagram splits into
//! records, every record open attempt fails cleanly or yields a bounded plaintext, the replay
//! window stays consistent, and whatever decodes as a handshake message re-encodes to bytes
//! that decode to the same message. The same datagram is also read as one whose `tls12_cid`
//! records (RFC 9146) carry a connection id of a length taken from the input: those open
//! the RFC 9146 way or fail cleanly, and a record sealed with an id from the input opens
//! back to its content and type.
use libfuzzer_sys::fuzz_target;
use rtcwire_dtls::handshake::Message;
use rtcwire_dtls::record::{ContentType, Protection, Records, ReplayWindow, HEADER_LEN};
use rtcwire_dtls::BulkCipher;

fuzz_target!(|data: &[u8]| {
    let keys = [
        (BulkCipher::Aes128Gcm, 16usize, 4usize),
        (BulkCipher::Aes256Gcm, 32, 4),
        (BulkCipher::Chacha20Poly1305, 32, 12),
    ];
    cid_records(data, &keys);
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

fn cid_records(data: &[u8], keys: &[(BulkCipher, usize, usize); 3]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let cid_len = usize::from(sel % 17);
    if let Some(cid) = rtcwire_dtls::peek_connection_id(rest, cid_len) {
        assert_eq!(cid.len(), cid_len);
    }
    let mut records = Records::with_cid(rest, Some(cid_len));
    for rec in records.by_ref() {
        if rec.header.content_type != ContentType::Tls12Cid {
            assert!(rec.cid.is_empty());
            continue;
        }
        assert_eq!(rec.cid.len(), cid_len);
        for (bulk, k, iv) in *keys {
            let Ok(p) = Protection::new(bulk, &vec![1u8; k], &vec![2u8; iv]) else {
                continue;
            };
            let mut frag = rec.fragment.to_vec();
            if let Ok((ct, n)) = p.open_cid(&rec.header, rec.cid, &mut frag) {
                assert!(ct != ContentType::Tls12Cid);
                assert!(n + 1 + bulk.overhead() <= rec.fragment.len());
            }
        }
    }
    assert!(records.remaining() <= rest.len());
    // Round trip: content and id from the input, sealed as a tls12_cid record, opened back.
    let (cid, content) = rest.split_at(cid_len.min(rest.len()));
    let content = content.get(..content.len().min(1500)).unwrap_or_default();
    let (bulk, k, iv) = keys[usize::from(sel) % 3];
    let p = Protection::new(bulk, &vec![1u8; k], &vec![2u8; iv]).expect("keys");
    let mut rec = vec![0u8; p.prefix_len() + cid.len()];
    rec.extend_from_slice(content);
    p.seal_in_place_cid(ContentType::Handshake, 1, 77, cid, &mut rec, 0)
        .expect("seal");
    let parsed = Records::with_cid(&rec, Some(cid.len()))
        .next()
        .expect("our record parses");
    assert_eq!(parsed.cid, cid);
    let mut frag = parsed.fragment.to_vec();
    let (ct, n) = p
        .open_cid(&parsed.header, parsed.cid, &mut frag)
        .expect("our record opens");
    let e = bulk.explicit_nonce_len();
    assert_eq!((ct, &frag[e..e + n]), (ContentType::Handshake, content));
    assert_eq!(
        rec.len(),
        HEADER_LEN + cid.len() + bulk.overhead() + content.len() + 1
    );
}
