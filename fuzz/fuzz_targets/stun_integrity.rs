#![no_main]
//! Integrity verification on arbitrary input never panics, and a message signed by the
//! builder always verifies with its key and never with another.
use libfuzzer_sys::fuzz_target;
use rtcwire_stun::{AttrType, IntegrityKey, Message, MessageBuilder, MessageType, TransactionId};

fuzz_target!(|data: &[u8]| {
    let Some((&k, rest)) = data.split_first() else {
        return;
    };
    let (password, msg) = rest.split_at(usize::from(k % 24).min(rest.len()));
    let key = IntegrityKey::new(password);
    if let Ok(m) = Message::parse(msg) {
        let _ = m.verify_integrity(&key);
        let _ = m.verify_integrity_sha256(&key);
        let _ = m.verify_fingerprint();
    }

    // Sign: the rest as a DATA value (bounded), with both HMACs and FINGERPRINT.
    let value = &msg[..msg.len().min(1200)];
    let mut out = Vec::new();
    let mut b = MessageBuilder::new(
        &mut out,
        MessageType::BINDING_INDICATION,
        TransactionId([k; 12]),
    )
    .expect("header");
    b.raw(AttrType::DATA, value).expect("fits");
    b.message_integrity(&key).expect("fits");
    b.message_integrity_sha256(&key).expect("fits");
    b.fingerprint().expect("fits");
    b.finish();
    let m = Message::parse(&out).expect("our own message parses");
    m.verify_integrity(&key).expect("verifies");
    m.verify_integrity_sha256(&key).expect("verifies");
    m.verify_fingerprint().expect("verifies");
    let mut other = password.to_vec();
    other.push(1);
    let wrong = IntegrityKey::new(&other);
    assert!(m.verify_integrity(&wrong).is_err());
    assert!(m.verify_integrity_sha256(&wrong).is_err());
});
