//! Malformed input: each defect gives its own error variant, and nothing panics.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rtcwire_stun::{
    AttrType, Attribute, Error, IntegrityKey, Message, MessageBuilder, MessageType, TransactionId,
};

const TID: TransactionId = TransactionId([0xAB; 12]);

/// A message from raw attributes (type, value), zero-padded, with a correct header.
fn raw_message(attrs: &[(u16, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut b = MessageBuilder::new(&mut out, MessageType::BINDING_REQUEST, TID).unwrap();
    for (t, v) in attrs {
        b.raw(AttrType(*t), v).unwrap();
    }
    b.finish();
    out
}

fn with_integrity(attrs: &[(u16, &[u8])], key: &IntegrityKey) -> Vec<u8> {
    let mut out = Vec::new();
    let mut b = MessageBuilder::new(&mut out, MessageType::BINDING_REQUEST, TID).unwrap();
    for (t, v) in attrs {
        b.raw(AttrType(*t), v).unwrap();
    }
    b.message_integrity(key).unwrap().fingerprint().unwrap();
    b.finish();
    out
}

fn set_len(m: &mut [u8], len: u16) {
    m[2..4].copy_from_slice(&len.to_be_bytes());
}

#[test]
fn parse_errors_table() {
    let good = raw_message(&[(0x0006, b"user"), (0x8022, b"sw")]);
    assert!(Message::parse(&good).is_ok());

    let mut not_stun = good.clone();
    not_stun[0] |= 0x80;
    let mut cookie = good.clone();
    cookie[4] = 0;
    let mut len4 = good.clone();
    set_len(&mut len4, 18);
    let mut longer = good.clone();
    longer.extend_from_slice(&[0; 4]);
    let mut past_end = raw_message(&[(0x0006, b"user")]);
    past_end[22..24].copy_from_slice(&9u16.to_be_bytes()); // value claims 9 bytes, 4 present
    let dup = raw_message(&[(0x0006, b"a"), (0x0006, b"b")]);
    let after_fp = {
        let mut m = with_integrity(&[], &IntegrityKey::short_term("k"));
        let extra = [0x80u8, 0x22, 0, 0];
        m.extend_from_slice(&extra);
        let l = (m.len() - 20) as u16;
        set_len(&mut m, l);
        m
    };
    let bad_mi_len = raw_message(&[(0x0008, &[0u8; 16])]);
    let bad_fp_len = raw_message(&[(0x8028, &[0u8; 8])]);
    let bad_mi256_len = raw_message(&[(0x001C, &[0u8; 12])]);

    let cases: Vec<(&str, Vec<u8>, Error)> = vec![
        (
            "empty",
            vec![],
            Error::Truncated {
                needed: 20,
                available: 0,
            },
        ),
        (
            "truncated header",
            good[..19].to_vec(),
            Error::Truncated {
                needed: 20,
                available: 19,
            },
        ),
        ("first bits set", not_stun, Error::NotStun),
        ("bad cookie", cookie, Error::BadMagicCookie(0x0012_A442)),
        (
            "length not multiple of 4",
            len4,
            Error::LengthNotMultipleOf4(18),
        ),
        (
            "length shorter than datagram",
            longer,
            Error::LengthMismatch {
                declared: 16,
                available: 20,
            },
        ),
        (
            "length longer than datagram",
            good[..good.len() - 4].to_vec(),
            Error::LengthMismatch {
                declared: 16,
                available: 12,
            },
        ),
        (
            "attribute past end",
            past_end,
            Error::AttributePastEnd {
                attr: AttrType::USERNAME,
                offset: 20,
            },
        ),
        (
            "duplicate attribute",
            dup,
            Error::DuplicateAttribute(AttrType::USERNAME),
        ),
        (
            "attribute after fingerprint",
            after_fp,
            Error::AttributeAfterFingerprint(AttrType::SOFTWARE),
        ),
        (
            "MESSAGE-INTEGRITY of 16 bytes",
            bad_mi_len,
            Error::BadAttributeLength {
                attr: AttrType::MESSAGE_INTEGRITY,
                len: 16,
            },
        ),
        (
            "FINGERPRINT of 8 bytes",
            bad_fp_len,
            Error::BadAttributeLength {
                attr: AttrType::FINGERPRINT,
                len: 8,
            },
        ),
        (
            "MESSAGE-INTEGRITY-SHA256 of 12 bytes",
            bad_mi256_len,
            Error::BadAttributeLength {
                attr: AttrType::MESSAGE_INTEGRITY_SHA256,
                len: 12,
            },
        ),
    ];
    for (name, bytes, want) in cases {
        assert_eq!(Message::parse(&bytes).err(), Some(want), "{name}");
    }
}

#[test]
fn verification_errors_table() {
    let key = IntegrityKey::short_term("secret");
    let m = with_integrity(&[(0x0006, b"user")], &key);

    // Wrong key.
    let msg = Message::parse(&m).unwrap();
    assert_eq!(
        msg.verify_integrity(&IntegrityKey::short_term("other")),
        Err(Error::IntegrityMismatch(AttrType::MESSAGE_INTEGRITY))
    );
    msg.verify_integrity(&key).unwrap();

    // Bad fingerprint.
    let mut bad_fp = m.clone();
    let n = bad_fp.len();
    bad_fp[n - 1] ^= 0xff;
    let msg = Message::parse(&bad_fp).unwrap();
    assert!(matches!(
        msg.verify_fingerprint(),
        Err(Error::BadFingerprint { .. })
    ));
    msg.verify_integrity(&key).unwrap(); // FINGERPRINT is outside the HMAC

    // Missing integrity / fingerprint / SHA-256 integrity.
    let plain = raw_message(&[(0x0006, b"user")]);
    let msg = Message::parse(&plain).unwrap();
    assert_eq!(
        msg.verify_integrity(&key),
        Err(Error::MissingIntegrity(AttrType::MESSAGE_INTEGRITY))
    );
    assert_eq!(msg.verify_fingerprint(), Err(Error::MissingFingerprint));
    assert_eq!(
        msg.verify_integrity_sha256(&key),
        Err(Error::MissingIntegrity(AttrType::MESSAGE_INTEGRITY_SHA256))
    );

    // An attribute smuggled in after MESSAGE-INTEGRITY: parse keeps it but ignores it, and
    // verification refuses the message.
    let mut out = Vec::new();
    let mut b = MessageBuilder::new(&mut out, MessageType::BINDING_REQUEST, TID).unwrap();
    b.raw(AttrType::USERNAME, b"user").unwrap();
    b.message_integrity(&key).unwrap();
    b.finish();
    out.extend_from_slice(&[0x00, 0x20, 0x00, 0x08, 0, 1, 0, 0, 1, 2, 3, 4]); // XOR-MAPPED-ADDRESS
    let l = (out.len() - 20) as u16;
    set_len(&mut out, l);
    let msg = Message::parse(&out).unwrap();
    assert_eq!(
        msg.verify_integrity(&key),
        Err(Error::AttributeAfterIntegrity(AttrType::XOR_MAPPED_ADDRESS))
    );
    assert_eq!(
        msg.xor_mapped_address(),
        Ok(None),
        "ignored attribute is not returned"
    );
    assert_eq!(msg.raw_attributes().count(), 3, "but kept for re-encoding");

    // A second MESSAGE-INTEGRITY is a duplicate.
    let mut out = Vec::new();
    let mut b = MessageBuilder::new(&mut out, MessageType::BINDING_REQUEST, TID).unwrap();
    b.message_integrity(&key).unwrap();
    b.finish();
    let mi = out[20..].to_vec();
    out.extend_from_slice(&mi);
    let l = (out.len() - 20) as u16;
    set_len(&mut out, l);
    assert_eq!(
        Message::parse(&out).err(),
        Some(Error::DuplicateAttribute(AttrType::MESSAGE_INTEGRITY))
    );
}

#[test]
fn value_errors_table() {
    let cases: Vec<(u16, &[u8], Error)> = vec![
        (
            0x0020,
            &[0, 3, 0, 0, 1, 2, 3, 4],
            Error::BadAddressFamily {
                attr: AttrType::XOR_MAPPED_ADDRESS,
                family: 3,
            },
        ),
        (
            0x0020,
            &[0, 1, 0, 0, 1, 2, 3],
            Error::BadAttributeLength {
                attr: AttrType::XOR_MAPPED_ADDRESS,
                len: 7,
            },
        ),
        (
            0x0001,
            &[0, 2, 0, 0, 1, 2, 3, 4],
            Error::BadAttributeLength {
                attr: AttrType::MAPPED_ADDRESS,
                len: 8,
            },
        ),
        (
            0x0006,
            &[0xff, 0xfe],
            Error::InvalidUtf8(AttrType::USERNAME),
        ),
        (
            0x0006,
            &[b'a'; 513],
            Error::BadAttributeLength {
                attr: AttrType::USERNAME,
                len: 513,
            },
        ),
        (0x0009, &[0, 0, 2, 99], Error::BadErrorCode(299)),
        (0x0009, &[0, 0, 4, 100], Error::BadErrorCode(500)),
        (
            0x0009,
            &[0, 0, 4],
            Error::BadAttributeLength {
                attr: AttrType::ERROR_CODE,
                len: 3,
            },
        ),
        (
            0x000A,
            &[0, 1, 0],
            Error::BadAttributeLength {
                attr: AttrType::UNKNOWN_ATTRIBUTES,
                len: 3,
            },
        ),
        (0x000C, &[0x3f, 0xff, 0, 0], Error::BadChannelNumber(0x3fff)),
        (
            0x0024,
            &[0, 0, 1],
            Error::BadAttributeLength {
                attr: AttrType::PRIORITY,
                len: 3,
            },
        ),
        (
            0x0025,
            &[0],
            Error::BadAttributeLength {
                attr: AttrType::USE_CANDIDATE,
                len: 1,
            },
        ),
        (
            0x802A,
            &[0; 4],
            Error::BadAttributeLength {
                attr: AttrType::ICE_CONTROLLING,
                len: 4,
            },
        ),
        (
            0x001D,
            &[0, 1, 0, 8, 1],
            Error::BadAttributeLength {
                attr: AttrType::PASSWORD_ALGORITHM,
                len: 5,
            },
        ),
        (
            0x8002,
            &[0, 1, 0, 0, 0, 2, 0, 4],
            Error::BadAttributeLength {
                attr: AttrType::PASSWORD_ALGORITHMS,
                len: 4,
            },
        ),
        (
            0x0017,
            &[7, 0, 0, 0],
            Error::BadAddressFamily {
                attr: AttrType::REQUESTED_ADDRESS_FAMILY,
                family: 7,
            },
        ),
        (
            0x001E,
            &[0; 31],
            Error::BadAttributeLength {
                attr: AttrType::USERHASH,
                len: 31,
            },
        ),
    ];
    for (t, v, want) in cases {
        let m = raw_message(&[(t, v)]);
        let msg = Message::parse(&m).unwrap();
        assert_eq!(msg.get(AttrType(t)).err(), Some(want), "{t:#06x}");
    }
}

#[test]
fn unknown_attributes_optional_kept_required_reported() {
    let m = raw_message(&[
        (0x0006, b"user"),
        (0xC057, b"\x00\x01\x00\x0a"),
        (0x7FF0, b"xyz"),
    ]);
    let msg = Message::parse(&m).unwrap();
    assert!(msg.has_unknown_comprehension_required());
    assert_eq!(
        msg.unknown_comprehension_required().collect::<Vec<_>>(),
        vec![AttrType(0x7FF0)]
    );
    assert_eq!(
        msg.check_comprehension(),
        Err(Error::UnknownComprehensionRequired(AttrType(0x7FF0)))
    );
    assert_eq!(
        msg.get(AttrType(0xC057)).unwrap(),
        Some(Attribute::Unknown {
            attr: AttrType(0xC057),
            value: b"\x00\x01\x00\x0a"
        })
    );
    // A server answers 420 listing them.
    let mut out = Vec::new();
    let unknown: Vec<AttrType> = msg.unknown_comprehension_required().collect();
    let mut b =
        MessageBuilder::new(&mut out, MessageType::BINDING_ERROR, msg.transaction_id()).unwrap();
    b.attr(&Attribute::ErrorCode(rtcwire_stun::ErrorCode {
        code: 420,
        reason: "Unknown Attribute",
    }))
    .unwrap()
    .attr(&Attribute::UnknownAttributes(
        rtcwire_stun::attr::AttrTypeList::Types(&unknown),
    ))
    .unwrap();
    b.finish();
    let answer = Message::parse(&out).unwrap();
    assert_eq!(answer.error_code().unwrap().unwrap().code, 420);
    match answer.get(AttrType::UNKNOWN_ATTRIBUTES).unwrap() {
        Some(Attribute::UnknownAttributes(l)) => {
            assert_eq!(l.iter().collect::<Vec<_>>(), vec![AttrType(0x7FF0)]);
        }
        other => panic!("{other:?}"),
    }
    // Only-optional unknowns pass.
    let m = raw_message(&[(0xC057, b"ab")]);
    assert_eq!(Message::parse(&m).unwrap().check_comprehension(), Ok(()));
}

#[test]
fn builder_refuses_misordered_and_invalid_attributes() {
    let key = IntegrityKey::short_term("k");
    let mut out = Vec::new();
    let mut b = MessageBuilder::new(&mut out, MessageType::BINDING_REQUEST, TID).unwrap();
    b.message_integrity(&key).unwrap();
    assert_eq!(
        b.attr(&Attribute::Username("late")).err(),
        Some(Error::AttributeOrder(AttrType::USERNAME))
    );
    b.message_integrity_sha256(&key).unwrap();
    assert_eq!(
        b.message_integrity(&key).err(),
        Some(Error::AttributeOrder(AttrType::MESSAGE_INTEGRITY))
    );
    b.fingerprint().unwrap();
    assert_eq!(
        b.fingerprint().err(),
        Some(Error::AttributeOrder(AttrType::FINGERPRINT))
    );
    b.finish();
    let msg = Message::parse(&out).unwrap();
    msg.verify_integrity(&key).unwrap();
    msg.verify_integrity_sha256(&key).unwrap();
    msg.verify_fingerprint().unwrap();

    let mut out = Vec::new();
    let mut b = MessageBuilder::new(&mut out, MessageType::BINDING_REQUEST, TID).unwrap();
    assert_eq!(
        b.attr(&Attribute::ErrorCode(rtcwire_stun::ErrorCode {
            code: 700,
            reason: ""
        }))
        .err(),
        Some(Error::BadErrorCode(700))
    );
    assert_eq!(
        b.attr(&Attribute::ChannelNumber(0x5000)).err(),
        Some(Error::BadChannelNumber(0x5000))
    );
    let long = "x".repeat(513);
    assert_eq!(
        b.attr(&Attribute::Username(&long)).err(),
        Some(Error::BadAttributeLength {
            attr: AttrType::USERNAME,
            len: 513
        })
    );
    let long = "x".repeat(764);
    assert_eq!(
        b.attr(&Attribute::Nonce(&long)).err(),
        Some(Error::BadAttributeLength {
            attr: AttrType::NONCE,
            len: 764
        })
    );
    b.attr(&Attribute::Nonce(&long[..763])).unwrap();
    let big = vec![0u8; 70_000];
    assert_eq!(
        b.raw(AttrType::DATA, &big).err(),
        Some(Error::TooLong(70_000))
    );
    let near = vec![0u8; 64_000];
    b.raw(AttrType::DATA, &near).unwrap();
    assert!(matches!(
        b.raw(AttrType::PADDING, &[0; 1600]),
        Err(Error::TooLong(_))
    ));
}
