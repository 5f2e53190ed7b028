//! DCEP wire format: the RFC 8832 OPEN example (bytes from pion, kept in tests/data), the
//! one-byte ACK (and pion's padded one), and proptest round trips of OPEN.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use rtcwire_datachannel::dcep::{Message, Open};
use rtcwire_datachannel::{Error, Reliability};

const VECTORS: &str = include_str!("data/dcep_open_example.toml");

#[test]
fn open_and_ack_vectors() {
    let t: toml::Table = VECTORS.parse().unwrap();
    let open = &t["open"];
    let bytes = hex::decode(open["message_hex"].as_str().unwrap()).unwrap();
    let Message::Open(o) = Message::parse(&bytes).unwrap() else {
        panic!("not an OPEN")
    };
    assert_eq!(
        i64::from(o.channel_type()),
        open["channel_type"].as_integer().unwrap()
    );
    assert_eq!(
        i64::from(o.priority),
        open["priority"].as_integer().unwrap()
    );
    assert_eq!(o.reliability, Reliability::Reliable);
    assert!(o.ordered);
    assert_eq!(o.label, open["label"].as_str().unwrap());
    assert_eq!(o.protocol, open["protocol"].as_str().unwrap());
    let mut out = Vec::new();
    o.emit(&mut out);
    assert_eq!(out, bytes);
    assert_eq!(o.buffer_len(), bytes.len());
    let ack = hex::decode(t["ack"]["message_hex"].as_str().unwrap()).unwrap();
    assert_eq!(Message::parse(&ack).unwrap(), Message::Ack);
    assert_eq!(Message::parse(&[2, 0, 0, 0]).unwrap(), Message::Ack);
}

#[test]
fn malformed_messages_are_refused() {
    assert_eq!(
        Message::parse(&[]),
        Err(Error::Truncated {
            needed: 1,
            available: 0
        })
    );
    assert_eq!(Message::parse(&[9]), Err(Error::UnknownMessageType(9)));
    assert!(matches!(
        Message::parse(&[3, 0, 0]),
        Err(Error::Truncated { .. })
    ));
    // Label length past the end.
    assert!(matches!(
        Message::parse(&[3, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, b'a']),
        Err(Error::Truncated {
            needed: 17,
            available: 13
        })
    ));
    assert_eq!(
        Message::parse(&[3, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        Err(Error::UnknownChannelType(3))
    );
    assert_eq!(
        Message::parse(&[3, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0xff]),
        Err(Error::NotUtf8)
    );
}

fn reliability_any() -> impl Strategy<Value = Reliability> {
    prop_oneof![
        Just(Reliability::Reliable),
        any::<u32>().prop_map(Reliability::MaxRetransmits),
        any::<u32>().prop_map(Reliability::MaxLifetimeMs),
    ]
}

proptest! {
    #[test]
    fn open_round_trips(ordered: bool, r in reliability_any(), priority: u16, label in ".{0,40}", protocol in ".{0,20}") {
        let o = Open { ordered, reliability: r, priority, label: &label, protocol: &protocol };
        let mut b = Vec::new();
        o.emit(&mut b);
        let parsed = Message::parse(&b).unwrap();
        let o2 = match parsed { Message::Open(o) => o, Message::Ack => panic!("ack") };
        prop_assert_eq!(o2, o);
        let mut b2 = Vec::new();
        o2.emit(&mut b2);
        prop_assert_eq!(b, b2);
    }

    #[test]
    fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = Message::parse(&b);
    }
}
