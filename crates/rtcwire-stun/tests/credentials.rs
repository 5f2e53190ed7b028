//! Credentials and the SHA-256 forms (RFC 8489 §9.2, §14.4–14.6, §14.11–14.12), checked
//! against HMACs and digests computed independently with ring.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ring::{digest, hmac};
use rtcwire_stun::attr::{PasswordAlgorithm, PasswordAlgorithmList};
use rtcwire_stun::{
    long_term_key_md5, userhash, AttrType, Attribute, Error, IntegrityKey, Message, MessageBuilder,
    MessageType, TransactionId,
};

const TID: TransactionId = TransactionId([3; 12]);

fn sha256(parts: &[&str]) -> Vec<u8> {
    digest::digest(&digest::SHA256, parts.concat().as_bytes())
        .as_ref()
        .to_vec()
}

#[test]
fn long_term_sha256_key_signs_both_integrities() {
    // RFC 8489 §9.2.2: with PASSWORD-ALGORITHM SHA-256 the key is SHA-256(user:realm:pass),
    // and it keys both MESSAGE-INTEGRITY and MESSAGE-INTEGRITY-SHA256.
    let key_bytes = sha256(&["user", ":", "example.org", ":", "pass"]);
    let key = IntegrityKey::long_term_sha256("user", "example.org", "pass");
    let algs = [PasswordAlgorithm {
        algorithm: PasswordAlgorithm::SHA256,
        params: &[],
    }];
    let mut out = Vec::new();
    let mut b = MessageBuilder::new(&mut out, MessageType::BINDING_REQUEST, TID).unwrap();
    b.attr(&Attribute::UserHash(&userhash("user", "example.org")))
        .unwrap()
        .attr(&Attribute::Realm("example.org"))
        .unwrap()
        .attr(&Attribute::Nonce(
            "obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA",
        ))
        .unwrap()
        .attr(&Attribute::PasswordAlgorithm(algs[0]))
        .unwrap()
        .attr(&Attribute::PasswordAlgorithms(
            PasswordAlgorithmList::Algorithms(&algs),
        ))
        .unwrap()
        .message_integrity(&key)
        .unwrap()
        .message_integrity_sha256(&key)
        .unwrap()
        .fingerprint()
        .unwrap();
    b.finish();

    let msg = Message::parse(&out).unwrap();
    msg.verify_integrity(&key).unwrap();
    msg.verify_integrity_sha256(&key).unwrap();
    msg.verify_fingerprint().unwrap();

    // Independent HMAC-SHA256 over the header (length up to MI-SHA256) and body before it.
    let mi256 = msg.raw(AttrType::MESSAGE_INTEGRITY_SHA256).unwrap();
    let mut covered = out[..mi256.offset].to_vec();
    let len = (mi256.offset + 4 + 32 - 20) as u16;
    covered[2..4].copy_from_slice(&len.to_be_bytes());
    let rk = hmac::Key::new(hmac::HMAC_SHA256, &key_bytes);
    assert_eq!(hmac::sign(&rk, &covered).as_ref(), mi256.value);

    match msg.get(AttrType::USERHASH).unwrap() {
        Some(Attribute::UserHash(h)) => {
            assert_eq!(&h[..], &sha256(&["user", ":", "example.org"])[..])
        }
        other => panic!("{other:?}"),
    }
    match msg.get(AttrType::PASSWORD_ALGORITHMS).unwrap() {
        Some(Attribute::PasswordAlgorithms(l)) => {
            assert_eq!(l.iter().collect::<Vec<_>>(), algs.to_vec());
        }
        other => panic!("{other:?}"),
    }
    // The MD5 key does not verify a SHA-256-keyed message.
    let md5 = IntegrityKey::long_term("user", "example.org", "pass");
    assert_eq!(
        msg.verify_integrity(&md5),
        Err(Error::IntegrityMismatch(AttrType::MESSAGE_INTEGRITY))
    );
}

#[test]
fn truncated_integrity_sha256_verifies() {
    // RFC 8489 §14.6 allows truncating the HMAC-SHA256 to 16..32 bytes (multiple of 4).
    let key = IntegrityKey::short_term("pw");
    let mut out = Vec::new();
    let mut b = MessageBuilder::new(&mut out, MessageType::BINDING_REQUEST, TID).unwrap();
    b.attr(&Attribute::Username("a:b")).unwrap();
    b.finish();
    let before = out.len();
    let len = (before - 20 + 4 + 16) as u16;
    out[2..4].copy_from_slice(&len.to_be_bytes());
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, b"pw"), &out);
    out.extend_from_slice(&[0x00, 0x1C, 0x00, 16]);
    out.extend_from_slice(&tag.as_ref()[..16]);
    let msg = Message::parse(&out).unwrap();
    msg.verify_integrity_sha256(&key).unwrap();
    assert_eq!(
        msg.verify_integrity_sha256(&IntegrityKey::short_term("pW")),
        Err(Error::IntegrityMismatch(AttrType::MESSAGE_INTEGRITY_SHA256))
    );
}

#[test]
fn md5_key_is_md5_of_user_realm_pass() {
    // RFC 8489 §9.2.2; the value is Python's hashlib.md5(b"u:example.org:p"), the credential
    // the coturn test uses. RFC 5769 §2.4's key is checked in rfc5769.rs.
    let k = long_term_key_md5("u", "example.org", "p");
    assert_eq!(hex::encode(k), "731c4df8fa2eb7b67b515c9fda622a0f");
    assert_ne!(k, long_term_key_md5("u:", "example.org", "p"));
}

#[test]
fn attributes_after_integrity_are_ignored_but_reproducible() {
    // A message with an attribute after MESSAGE-INTEGRITY (found by fuzzing): lookups skip
    // it, verification refuses it, and raw re-encoding still reproduces it exactly.
    let key = IntegrityKey::short_term("k");
    let mut out = Vec::new();
    let mut b = MessageBuilder::new(&mut out, MessageType::BINDING_REQUEST, TID).unwrap();
    b.attr(&Attribute::Software("s")).unwrap();
    b.message_integrity(&key).unwrap();
    b.raw(AttrType::SOFTWARE, b"injected").unwrap();
    b.finish();
    let msg = Message::parse(&out).unwrap();
    assert_eq!(msg.software().unwrap(), Some("s"));
    assert_eq!(
        msg.verify_integrity(&key),
        Err(Error::AttributeAfterIntegrity(AttrType::SOFTWARE))
    );
    assert_eq!(msg.attributes().count(), 2);
    let mut again = Vec::new();
    let mut b = MessageBuilder::new(&mut again, msg.message_type(), TID).unwrap();
    for a in msg.raw_attributes() {
        b.raw_padded(a.attr, a.value, a.padding).unwrap();
    }
    b.finish();
    assert_eq!(again, out);
}
