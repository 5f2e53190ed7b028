#![no_main]
//! decode → encode → decode is stable: a parsed message re-encoded attribute by attribute
//! (raw, with its padding) is the same bytes, and re-encoded from typed values it parses to
//! the same typed values.
use libfuzzer_sys::fuzz_target;
use rtcwire_stun::{AttrType, Attribute, Message, MessageBuilder};

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = Message::parse(data) else {
        return;
    };
    let tid = msg.transaction_id();

    let mut raw = Vec::new();
    let mut b = MessageBuilder::new(&mut raw, msg.message_type(), tid).expect("header fits");
    for a in msg.raw_attributes() {
        b.raw_padded(a.attr, a.value, a.padding)
            .expect("a parsed attribute re-encodes");
    }
    b.finish();
    assert_eq!(raw, data);

    // Typed: only the attributes the RFC says to process, integrity and fingerprint left out
    // (their values are computed, not copied). Skip messages with undecodable values.
    let skip = |t: AttrType| {
        matches!(
            t,
            AttrType::MESSAGE_INTEGRITY
                | AttrType::MESSAGE_INTEGRITY_SHA256
                | AttrType::FINGERPRINT
        )
    };
    let Ok(typed) = msg
        .attributes()
        .filter(|a| !skip(a.attr))
        .map(|a| a.parse(&tid))
        .collect::<Result<Vec<Attribute<'_>>, _>>()
    else {
        return;
    };
    let mut out = Vec::new();
    let mut b = MessageBuilder::new(&mut out, msg.message_type(), tid).expect("header fits");
    for a in &typed {
        if b.attr(a).is_err() {
            return; // e.g. a value that only grows when re-encoded past 64 KiB
        }
    }
    b.finish();
    let again = Message::parse(&out).expect("our own encoding parses");
    assert_eq!(again.message_type(), msg.message_type());
    let typed2: Vec<Attribute<'_>> = again
        .attributes()
        .map(|a| a.parse(&tid).expect("our own encoding decodes"))
        .collect();
    assert_eq!(typed, typed2);
});
