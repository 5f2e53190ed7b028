//! Attribute values against wire bytes written out by hand from the RFC layouts (a round
//! trip alone cannot catch an encoder and decoder that agree on a wrong layout).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;

use rtcwire_stun::attr::{AttrTypeList, Icmp, PasswordAlgorithm};
use rtcwire_stun::{
    AddressFamily, AttrType, Attribute, ErrorCode, Message, MessageBuilder, MessageType,
    TransactionId,
};

/// RFC 5769's transaction id, so its XOR addresses can be reused.
const TID: TransactionId = TransactionId([
    0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
]);

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

#[test]
fn attribute_values_match_hand_written_wire_bytes() {
    let unknown = [AttrType(0x7FF0), AttrType(0x0031)];
    let cases: Vec<(Attribute<'_>, u16, &str)> = vec![
        // RFC 5769 §2.2 / §2.3.
        (
            Attribute::XorMappedAddress(addr("192.0.2.1:32853")),
            0x0020,
            "0001a147e112a643",
        ),
        (
            Attribute::XorMappedAddress(addr("[2001:db8:1234:5678:11:2233:4455:6677]:32853")),
            0x0020,
            "0002a1470113a9faa5d3f179bc25f4b5bed2b9d9",
        ),
        // RFC 8489 §14.1: 0, family, port, address in the clear.
        (
            Attribute::MappedAddress(addr("192.0.2.1:32853")),
            0x0001,
            "00018055c0000201",
        ),
        (
            Attribute::AlternateServer(addr("10.0.0.1:3478")),
            0x8023,
            "00010d960a000001",
        ),
        // RFC 5769 §2.1.
        (Attribute::Priority(0x6e00_01ff), 0x0024, "6e0001ff"),
        (
            Attribute::IceControlled(0x932f_f9b1_5126_3b36),
            0x8029,
            "932ff9b151263b36",
        ),
        (Attribute::IceControlling(1), 0x802A, "0000000000000001"),
        (Attribute::UseCandidate, 0x0025, ""),
        (
            Attribute::Username("evtj:h6vY"),
            0x0006,
            "6576746a3a68367659",
        ),
        // RFC 8489 §14.8: 21 reserved bits, class (hundreds), number, reason.
        (
            Attribute::ErrorCode(ErrorCode {
                code: 401,
                reason: "Unauthorized",
            }),
            0x0009,
            "00000401556e617574686f72697a6564",
        ),
        (
            Attribute::ErrorCode(ErrorCode {
                code: 420,
                reason: "",
            }),
            0x0009,
            "00000414",
        ),
        (
            Attribute::ErrorCode(ErrorCode {
                code: 699,
                reason: "",
            }),
            0x0009,
            "00000663",
        ),
        // RFC 8489 §14.9: a list of 16-bit types.
        (
            Attribute::UnknownAttributes(AttrTypeList::Types(&unknown)),
            0x000A,
            "7ff00031",
        ),
        // RFC 8489 §14.12: algorithm, parameter length, parameters.
        (
            Attribute::PasswordAlgorithm(PasswordAlgorithm {
                algorithm: PasswordAlgorithm::SHA256,
                params: &[],
            }),
            0x001D,
            "00020000",
        ),
        // RFC 8656 §18: CHANNEL-NUMBER + RFFU, LIFETIME, REQUESTED-TRANSPORT + RFFU,
        // EVEN-PORT R bit, families, RESERVATION-TOKEN, DONT-FRAGMENT.
        (Attribute::ChannelNumber(0x4001), 0x000C, "40010000"),
        (Attribute::Lifetime(600), 0x000D, "00000258"),
        (Attribute::RequestedTransport(17), 0x0019, "11000000"),
        (Attribute::EvenPort(true), 0x0018, "80"),
        (Attribute::EvenPort(false), 0x0018, "00"),
        (
            Attribute::RequestedAddressFamily(AddressFamily::V6),
            0x0017,
            "02000000",
        ),
        (
            Attribute::AdditionalAddressFamily(AddressFamily::V6),
            0x8000,
            "02000000",
        ),
        (
            Attribute::ReservationToken(0x0102_0304_0506_0708),
            0x0022,
            "0102030405060708",
        ),
        (Attribute::DontFragment, 0x001A, ""),
        (
            Attribute::XorPeerAddress(addr("192.0.2.1:32853")),
            0x0012,
            "0001a147e112a643",
        ),
        (
            Attribute::XorRelayedAddress(addr("192.0.2.1:32853")),
            0x0016,
            "0001a147e112a643",
        ),
        (Attribute::Data(b"\x01\x02\x03"), 0x0013, "010203"),
        // RFC 8656 §18.12: family, reserved, class, number, reason.
        (
            Attribute::AddressErrorCode(
                AddressFamily::V6,
                ErrorCode {
                    code: 440,
                    reason: "x",
                },
            ),
            0x8001,
            "0200042878",
        ),
        // RFC 8656 §18.13: 16 reserved bits, 7-bit type, 9-bit code, error data.
        (
            Attribute::Icmp(Icmp {
                icmp_type: 3,
                code: 1,
                error_data: 0x1234_5678,
            }),
            0x8004,
            "0000060112345678",
        ),
        // RFC 5780 §7: CHANGE-REQUEST flags A (0x4, IP) and B (0x2, port), RESPONSE-PORT.
        (
            Attribute::ChangeRequest {
                change_ip: true,
                change_port: false,
            },
            0x0003,
            "00000004",
        ),
        (
            Attribute::ChangeRequest {
                change_ip: false,
                change_port: true,
            },
            0x0003,
            "00000002",
        ),
        (Attribute::ResponsePort(3478), 0x0027, "0d960000"),
        (
            Attribute::OtherAddress(addr("10.0.0.2:3479")),
            0x802C,
            "00010d970a000002",
        ),
        (
            Attribute::ResponseOrigin(addr("10.0.0.2:3479")),
            0x802B,
            "00010d970a000002",
        ),
        // RFC 6062 §6.2.1.
        (Attribute::ConnectionId(0xdead_beef), 0x002A, "deadbeef"),
        (Attribute::Software("rtcwire"), 0x8022, "72746377697265"),
    ];
    for (attr, typ, value_hex) in cases {
        assert_eq!(attr.attr_type(), AttrType(typ), "{attr:?}");
        let mut out = Vec::new();
        let mut b = MessageBuilder::new(&mut out, MessageType::BINDING_REQUEST, TID).unwrap();
        b.attr(&attr).unwrap();
        b.finish();
        let msg = Message::parse(&out).unwrap();
        let raw = msg.raw(AttrType(typ)).unwrap();
        assert_eq!(hex::encode(raw.value), value_hex, "{attr:?}");
        assert!(raw.padding.iter().all(|&p| p == 0));
        assert_eq!((raw.value.len() + raw.padding.len()) % 4, 0);
        let wire = hex::decode(value_hex).unwrap();
        assert_eq!(Attribute::parse(AttrType(typ), &wire, &TID).unwrap(), attr);
    }
}

#[test]
fn even_port_accepts_the_four_byte_form() {
    assert_eq!(
        Attribute::parse(AttrType::EVEN_PORT, &[0x80, 0, 0, 0], &TID).unwrap(),
        Attribute::EvenPort(true)
    );
}
