//! RFC 5769 test vectors (testdata/vectors/rfc5769_stun.toml): parse, verify integrity and
//! fingerprint, read every attribute, and re-encode byte for byte.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;

use rtcwire_stun::{
    AttrType, Attribute, Error, IntegrityKey, Message, MessageBuilder, MessageType, TransactionId,
};

struct Vector {
    name: String,
    table: toml::Table,
    bytes: Vec<u8>,
}

impl Vector {
    fn str(&self, k: &str) -> &str {
        self.table[k]
            .as_str()
            .unwrap_or_else(|| panic!("{}: {k}", self.name))
    }
    fn int(&self, k: &str) -> i64 {
        self.table[k].as_integer().unwrap()
    }
    fn key(&self) -> IntegrityKey {
        match self.str("credential") {
            "short-term" => IntegrityKey::short_term(self.str("password")),
            "long-term" => IntegrityKey::long_term(
                self.str("username"),
                self.str("realm"),
                self.str("password_after_saslprep"),
            ),
            other => panic!("credential {other}"),
        }
    }
}

fn vectors() -> Vec<Vector> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/vectors/rfc5769_stun.toml"
    );
    let text = std::fs::read_to_string(path).expect("testdata/vectors in the repository");
    let doc: toml::Table = text.parse().unwrap();
    let v: Vec<Vector> = doc["vector"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let table = t.as_table().unwrap().clone();
            let bytes = hex::decode(table["message_hex"].as_str().unwrap()).unwrap();
            Vector {
                name: table["name"].as_str().unwrap().to_owned(),
                table,
                bytes,
            }
        })
        .collect();
    assert_eq!(v.len(), 4, "RFC 5769 has four sample messages");
    v
}

/// "SOFTWARE(0x8022)" → 0x8022.
fn type_in(label: &str) -> u16 {
    let hex = label.split("(0x").nth(1).unwrap().trim_end_matches(')');
    u16::from_str_radix(hex, 16).unwrap()
}

#[test]
fn every_vector_parses_and_verifies() {
    for v in vectors() {
        let msg = Message::parse(&v.bytes).unwrap_or_else(|e| panic!("{}: {e}", v.name));
        assert_eq!(
            msg.message_type().to_u16() as i64,
            v.int("message_type"),
            "{}",
            v.name
        );
        assert_eq!(
            hex::encode(msg.transaction_id().0),
            v.str("transaction_id_hex")
        );
        msg.verify_integrity(&v.key())
            .unwrap_or_else(|e| panic!("{}: {e}", v.name));
        let mi = msg.get(AttrType::MESSAGE_INTEGRITY).unwrap().unwrap();
        let Attribute::MessageIntegrity(mi) = mi else {
            panic!("{}: MI", v.name)
        };
        assert_eq!(hex::encode(mi), v.str("message_integrity_hex"));
        match v.table.get("fingerprint") {
            Some(fp) => {
                msg.verify_fingerprint().unwrap();
                let got = msg.get(AttrType::FINGERPRINT).unwrap();
                assert_eq!(
                    got,
                    Some(Attribute::Fingerprint(fp.as_integer().unwrap() as u32))
                );
            }
            None => assert_eq!(msg.verify_fingerprint(), Err(Error::MissingFingerprint)),
        }
        // Attribute order as listed.
        let order: Vec<u16> = v.table["attribute_order"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| type_in(s.as_str().unwrap()))
            .collect();
        let got: Vec<u16> = msg.attributes().map(|a| a.attr.0).collect();
        assert_eq!(got, order, "{}", v.name);
        // Every attribute decodes.
        for a in msg.attributes() {
            a.parse(&msg.transaction_id())
                .unwrap_or_else(|e| panic!("{}: {:?}: {e}", v.name, a.attr));
        }
        assert!(!msg.has_unknown_comprehension_required());
    }
}

#[test]
fn decoded_values_match_the_vectors() {
    for v in vectors() {
        let msg = Message::parse(&v.bytes).unwrap();
        if let Some(s) = v.table.get("software") {
            assert_eq!(msg.software().unwrap(), Some(s.as_str().unwrap()));
        }
        if let Some(u) = v.table.get("username") {
            assert_eq!(msg.username().unwrap(), Some(u.as_str().unwrap()));
        }
        if let Some(p) = v.table.get("priority") {
            assert_eq!(
                msg.priority().unwrap(),
                Some(p.as_integer().unwrap() as u32)
            );
        }
        if let Some(t) = v.table.get("ice_controlled_tiebreaker_hex") {
            let want = u64::from_str_radix(t.as_str().unwrap(), 16).unwrap();
            assert_eq!(msg.ice_controlled().unwrap(), Some(want));
        }
        if let Some(addr) = v.table.get("mapped_address") {
            let ip: std::net::IpAddr = addr.as_str().unwrap().parse().unwrap();
            let want = SocketAddr::new(ip, v.int("mapped_port") as u16);
            assert_eq!(msg.xor_mapped_address().unwrap(), Some(want), "{}", v.name);
        }
        if let Some(n) = v.table.get("nonce") {
            assert_eq!(msg.nonce().unwrap(), Some(n.as_str().unwrap()));
            assert_eq!(msg.realm().unwrap(), Some(v.str("realm")));
        }
    }
}

/// Re-encoding through the builder, keeping the original padding bytes (0x20 in 2.1–2.3)
/// and recomputing MESSAGE-INTEGRITY and FINGERPRINT, gives the vector byte for byte.
#[test]
fn re_encode_is_byte_exact() {
    for v in vectors() {
        let msg = Message::parse(&v.bytes).unwrap();
        let key = v.key();
        let mut out = Vec::new();
        let mut b =
            MessageBuilder::new(&mut out, msg.message_type(), msg.transaction_id()).unwrap();
        for a in msg.raw_attributes() {
            match a.attr {
                AttrType::MESSAGE_INTEGRITY => b.message_integrity(&key).unwrap(),
                AttrType::FINGERPRINT => b.fingerprint().unwrap(),
                t => b.raw_padded(t, a.value, a.padding).unwrap(),
            };
        }
        b.finish();
        assert_eq!(hex::encode(&out), hex::encode(&v.bytes), "{}", v.name);
    }
}

/// Typed re-encoding (zero padding): the message differs only in its padding bytes and the
/// values that cover them, and still verifies and decodes to the same attributes.
#[test]
fn typed_re_encode_verifies_and_decodes_equal() {
    for v in vectors() {
        let msg = Message::parse(&v.bytes).unwrap();
        let key = v.key();
        let tid = msg.transaction_id();
        let mut out = bytes::BytesMut::new();
        let mut b = MessageBuilder::new(&mut out, msg.message_type(), tid).unwrap();
        for a in msg.raw_attributes() {
            match a.attr {
                AttrType::MESSAGE_INTEGRITY => b.message_integrity(&key).unwrap(),
                AttrType::FINGERPRINT => b.fingerprint().unwrap(),
                _ => b.attr(&a.parse(&tid).unwrap()).unwrap(),
            };
        }
        b.finish();
        let again = Message::parse(&out).unwrap();
        again.verify_integrity(&key).unwrap();
        if msg.has_fingerprint() {
            again.verify_fingerprint().unwrap();
        }
        let left: Vec<_> = msg
            .attributes()
            .filter(|a| a.attr != AttrType::MESSAGE_INTEGRITY && a.attr != AttrType::FINGERPRINT)
            .map(|a| a.parse(&tid).unwrap())
            .collect();
        let right: Vec<_> = again
            .attributes()
            .filter(|a| a.attr != AttrType::MESSAGE_INTEGRITY && a.attr != AttrType::FINGERPRINT)
            .map(|a| a.parse(&tid).unwrap())
            .collect();
        assert_eq!(left, right, "{}", v.name);
        assert_eq!(out.len(), v.bytes.len());
        // Only padding differs from the vector, so MI/FP differ where a padded value exists.
        let padded = msg
            .raw_attributes()
            .any(|a| a.padding.iter().any(|&p| p != 0));
        assert_eq!(out[..] != v.bytes[..], padded, "{}", v.name);
    }
}

#[test]
fn wrong_key_and_flipped_bits_fail() {
    for v in vectors() {
        let msg = Message::parse(&v.bytes).unwrap();
        assert_eq!(
            msg.verify_integrity(&IntegrityKey::short_term("wrong")),
            Err(Error::IntegrityMismatch(AttrType::MESSAGE_INTEGRITY))
        );
        // Flip one bit in the covered region (the transaction id).
        let mut bad = v.bytes.clone();
        bad[10] ^= 0x01;
        let m = Message::parse(&bad).unwrap();
        assert_eq!(
            m.verify_integrity(&v.key()),
            Err(Error::IntegrityMismatch(AttrType::MESSAGE_INTEGRITY))
        );
        if m.has_fingerprint() {
            assert!(matches!(
                m.verify_fingerprint(),
                Err(Error::BadFingerprint { .. })
            ));
        }
    }
}

#[test]
fn builder_writes_into_a_fixed_slice() {
    let v = &vectors()[0];
    let msg = Message::parse(&v.bytes).unwrap();
    let mut arr = [0u8; 128];
    let mut out = rtcwire_stun::SliceBuf::new(&mut arr);
    let mut b = MessageBuilder::new(
        &mut out,
        MessageType::BINDING_REQUEST,
        TransactionId([1; 12]),
    )
    .unwrap();
    for a in msg.attributes() {
        if a.attr != AttrType::MESSAGE_INTEGRITY && a.attr != AttrType::FINGERPRINT {
            b.raw(a.attr, a.value).unwrap();
        }
    }
    b.message_integrity(&v.key())
        .unwrap()
        .fingerprint()
        .unwrap();
    let n = b.finish();
    assert_eq!(n, v.bytes.len());
    let m = Message::parse(out.as_slice()).unwrap();
    m.verify_integrity(&v.key()).unwrap();
    m.verify_fingerprint().unwrap();

    let mut small = [0u8; 40];
    let mut out = rtcwire_stun::SliceBuf::new(&mut small);
    let mut b = MessageBuilder::new(
        &mut out,
        MessageType::BINDING_REQUEST,
        TransactionId([1; 12]),
    )
    .unwrap();
    assert_eq!(
        b.attr(&Attribute::Software("a software name that is too long"))
            .err(),
        Some(Error::BufferTooSmall {
            needed: 20 + 4 + 32,
            available: 40
        })
    );
}
