//! Property tests: arbitrary messages with arbitrary attribute sets survive build → parse
//! → decode unchanged; valid messages (built by `wire_any`, with arbitrary padding bytes)
//! survive parse → emit byte for byte, raw and typed; the framer and parser are total on
//! arbitrary bytes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{IpAddr, SocketAddr};

use proptest::prelude::*;
use rtcwire_stun::attr::{AttrTypeList, PasswordAlgorithm, PasswordAlgorithmList};
use rtcwire_stun::{
    AddressFamily, AttrType, Attribute, Class, ErrorCode, Framing, IntegrityKey, Message,
    MessageBuilder, MessageType, Method, TcpFramer, TransactionId,
};

/// An owned attribute the strategies can produce; `view` borrows it as an [`Attribute`].
#[derive(Debug, Clone)]
enum Owned {
    Addr(u8, SocketAddr),
    Text(u8, String),
    Bytes(u8, Vec<u8>),
    Error(bool, AddressFamily, u16, String),
    Unknown(Vec<AttrType>),
    PwAlgs(Vec<(u16, Vec<u8>)>),
    PwAlg(u16, Vec<u8>),
    Hash([u8; 32]),
    Fixed(Attribute<'static>),
    Raw(u16, Vec<u8>),
}

impl Owned {
    fn view<'a>(&'a self, algs: &'a [PasswordAlgorithm<'a>]) -> Attribute<'a> {
        match self {
            Owned::Addr(k, a) => match k % 7 {
                0 => Attribute::MappedAddress(*a),
                1 => Attribute::XorMappedAddress(*a),
                2 => Attribute::AlternateServer(*a),
                3 => Attribute::XorPeerAddress(*a),
                4 => Attribute::XorRelayedAddress(*a),
                5 => Attribute::ResponseOrigin(*a),
                _ => Attribute::OtherAddress(*a),
            },
            Owned::Text(k, s) => match k % 5 {
                0 => Attribute::Username(s),
                1 => Attribute::Realm(s),
                2 => Attribute::Nonce(s),
                3 => Attribute::Software(s),
                _ => Attribute::AlternateDomain(s),
            },
            Owned::Bytes(k, b) => match k % 2 {
                0 => Attribute::Data(b),
                _ => Attribute::Padding(b),
            },
            Owned::Error(false, _, code, reason) => Attribute::ErrorCode(ErrorCode {
                code: *code,
                reason,
            }),
            Owned::Error(true, f, code, reason) => Attribute::AddressErrorCode(
                *f,
                ErrorCode {
                    code: *code,
                    reason,
                },
            ),
            Owned::Unknown(t) => Attribute::UnknownAttributes(AttrTypeList::Types(t)),
            Owned::PwAlgs(_) => {
                Attribute::PasswordAlgorithms(PasswordAlgorithmList::Algorithms(algs))
            }
            Owned::PwAlg(a, p) => Attribute::PasswordAlgorithm(PasswordAlgorithm {
                algorithm: *a,
                params: p,
            }),
            Owned::Hash(h) => Attribute::UserHash(h),
            Owned::Fixed(a) => *a,
            Owned::Raw(t, v) => Attribute::Unknown {
                attr: AttrType(*t),
                value: v,
            },
        }
    }
}

fn addr_any() -> impl Strategy<Value = SocketAddr> {
    prop_oneof![
        (any::<[u8; 4]>(), any::<u16>()).prop_map(|(ip, p)| SocketAddr::new(IpAddr::from(ip), p)),
        (any::<[u8; 16]>(), any::<u16>()).prop_map(|(ip, p)| SocketAddr::new(IpAddr::from(ip), p)),
    ]
}

fn family_any() -> impl Strategy<Value = AddressFamily> {
    prop_oneof![Just(AddressFamily::V4), Just(AddressFamily::V6)]
}

fn fixed_any() -> impl Strategy<Value = Attribute<'static>> {
    prop_oneof![
        any::<u32>().prop_map(Attribute::Priority),
        Just(Attribute::UseCandidate),
        any::<u64>().prop_map(Attribute::IceControlled),
        any::<u64>().prop_map(Attribute::IceControlling),
        (0x4000u16..=0x4FFF).prop_map(Attribute::ChannelNumber),
        any::<u32>().prop_map(Attribute::Lifetime),
        family_any().prop_map(Attribute::RequestedAddressFamily),
        any::<bool>().prop_map(Attribute::EvenPort),
        any::<u8>().prop_map(Attribute::RequestedTransport),
        Just(Attribute::DontFragment),
        any::<u64>().prop_map(Attribute::ReservationToken),
        family_any().prop_map(Attribute::AdditionalAddressFamily),
        (0u8..128, 0u16..512, any::<u32>()).prop_map(|(t, c, d)| Attribute::Icmp(
            rtcwire_stun::attr::Icmp {
                icmp_type: t,
                code: c,
                error_data: d
            }
        )),
        (any::<bool>(), any::<bool>()).prop_map(|(change_ip, change_port)| {
            Attribute::ChangeRequest {
                change_ip,
                change_port,
            }
        }),
        any::<u16>().prop_map(Attribute::ResponsePort),
        any::<u32>().prop_map(Attribute::ConnectionId),
    ]
}

/// Types this crate does not know, in both comprehension ranges.
fn unknown_type_any() -> impl Strategy<Value = u16> {
    any::<u16>().prop_filter("unknown", |t| !AttrType(*t).is_known())
}

fn owned_any() -> impl Strategy<Value = Owned> {
    prop_oneof![
        (any::<u8>(), addr_any()).prop_map(|(k, a)| Owned::Addr(k, a)),
        (any::<u8>(), "\\PC{0,40}").prop_map(|(k, s)| Owned::Text(k, s)),
        (any::<u8>(), proptest::collection::vec(any::<u8>(), 0..64))
            .prop_map(|(k, b)| Owned::Bytes(k, b)),
        (any::<bool>(), family_any(), 300u16..700, "\\PC{0,20}")
            .prop_map(|(a, f, c, r)| Owned::Error(a, f, c, r)),
        proptest::collection::vec(any::<u16>().prop_map(AttrType), 0..6).prop_map(Owned::Unknown),
        proptest::collection::vec(
            (any::<u16>(), proptest::collection::vec(any::<u8>(), 0..7)),
            0..4
        )
        .prop_map(Owned::PwAlgs),
        (any::<u16>(), proptest::collection::vec(any::<u8>(), 0..7))
            .prop_map(|(a, p)| Owned::PwAlg(a, p)),
        any::<[u8; 32]>().prop_map(Owned::Hash),
        fixed_any().prop_map(Owned::Fixed),
        (
            unknown_type_any(),
            proptest::collection::vec(any::<u8>(), 0..24)
        )
            .prop_map(|(t, v)| Owned::Raw(t, v)),
    ]
}

/// Drops attributes whose type already appeared, unless the type may repeat.
fn dedup(attrs: Vec<Owned>) -> Vec<Owned> {
    let mut seen = std::collections::HashSet::new();
    let none: &[PasswordAlgorithm<'_>] = &[];
    attrs
        .into_iter()
        .filter(|o| {
            let t = o.view(none).attr_type();
            let repeatable = !t.is_known()
                || t == AttrType::XOR_PEER_ADDRESS
                || t == AttrType::XOR_RELAYED_ADDRESS
                || t == AttrType::ADDRESS_ERROR_CODE;
            repeatable || seen.insert(t)
        })
        .collect()
}

fn message_type_any() -> impl Strategy<Value = MessageType> {
    (0u16..0x1000, 0u8..4).prop_map(|(m, c)| {
        let class = [
            Class::Request,
            Class::Indication,
            Class::Success,
            Class::Error,
        ][c as usize];
        MessageType::new(Method::new(m).unwrap(), class)
    })
}

/// A valid STUN message on the wire and what it was built from.
#[derive(Debug, Clone)]
struct Wire {
    bytes: Vec<u8>,
    typ: MessageType,
    tid: TransactionId,
    password: String,
    /// Bit 0: MESSAGE-INTEGRITY, bit 1: MESSAGE-INTEGRITY-SHA256.
    integrity: u8,
    fingerprint: bool,
    /// Whether every padding byte is zero (as the typed builder writes them).
    zero_padding: bool,
}

/// Builds valid messages: typed attributes from [`owned_any`], each written with padding
/// bytes that are zero or arbitrary (RFC 5769's samples pad with spaces), then optional
/// integrity attributes and a fingerprint computed over all of it.
fn wire_any() -> impl Strategy<Value = Wire> {
    (
        message_type_any(),
        any::<[u8; 12]>(),
        proptest::collection::vec(owned_any(), 0..12).prop_map(dedup),
        proptest::option::of(proptest::collection::vec(any::<[u8; 3]>(), 12)),
        0u8..4,
        any::<bool>(),
        "[a-zA-Z0-9]{1,24}",
    )
        .prop_map(
            |(typ, tid, attrs, pads, integrity, fingerprint, password)| {
                let tid = TransactionId(tid);
                let key = IntegrityKey::short_term(&password);
                let algs: Vec<Vec<PasswordAlgorithm<'_>>> = attrs
                    .iter()
                    .map(|o| match o {
                        Owned::PwAlgs(v) => v
                            .iter()
                            .map(|(a, p)| PasswordAlgorithm {
                                algorithm: *a,
                                params: p,
                            })
                            .collect(),
                        _ => Vec::new(),
                    })
                    .collect();
                // Typed values first, to learn each attribute's value bytes.
                let mut values = Vec::new();
                let mut b = MessageBuilder::new(&mut values, typ, tid).unwrap();
                for (o, a) in attrs.iter().zip(&algs) {
                    b.attr(&o.view(a)).unwrap();
                }
                b.finish();
                let typed = Message::parse(&values).unwrap();
                let mut bytes = Vec::new();
                let mut b = MessageBuilder::new(&mut bytes, typ, tid).unwrap();
                let mut zero_padding = true;
                for (i, a) in typed.raw_attributes().enumerate() {
                    let pad = pads.as_ref().map_or([0; 3], |p| p[i % p.len()]);
                    let used = &pad[..(4 - a.value.len() % 4) % 4];
                    zero_padding &= used.iter().all(|&x| x == 0);
                    b.raw_padded(a.attr, a.value, used).unwrap();
                }
                if integrity & 1 != 0 {
                    b.message_integrity(&key).unwrap();
                }
                if integrity & 2 != 0 {
                    b.message_integrity_sha256(&key).unwrap();
                }
                if fingerprint {
                    b.fingerprint().unwrap();
                }
                b.finish();
                Wire {
                    bytes,
                    typ,
                    tid,
                    password,
                    integrity,
                    fingerprint,
                    zero_padding,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn build_parse_decode_round_trip(
        typ in message_type_any(),
        tid in any::<[u8; 12]>(),
        attrs in proptest::collection::vec(owned_any(), 0..12).prop_map(dedup),
        integrity in 0u8..4,
        fp in any::<bool>(),
        password in "[a-zA-Z0-9]{1,24}",
    ) {
        let tid = TransactionId(tid);
        let key = IntegrityKey::short_term(&password);
        let algs: Vec<Vec<PasswordAlgorithm<'_>>> = attrs
            .iter()
            .map(|o| match o {
                Owned::PwAlgs(v) => v.iter().map(|(a, p)| PasswordAlgorithm { algorithm: *a, params: p }).collect(),
                _ => Vec::new(),
            })
            .collect();
        let views: Vec<Attribute<'_>> = attrs.iter().zip(&algs).map(|(o, a)| o.view(a)).collect();

        let mut out = bytes::BytesMut::new();
        let mut b = MessageBuilder::new(&mut out, typ, tid).unwrap();
        for v in &views {
            b.attr(v).unwrap();
        }
        if integrity & 1 != 0 { b.message_integrity(&key).unwrap(); }
        if integrity & 2 != 0 { b.message_integrity_sha256(&key).unwrap(); }
        if fp { b.fingerprint().unwrap(); }
        let len = b.finish();
        prop_assert_eq!(len, out.len());
        // RFC 7983 demux claims first bytes 0–3 for STUN: methods below 0x100.
        prop_assert_eq!(rtcwire_stun::is_stun(&out), typ.method.value() < 0x100);

        let msg = Message::parse(&out).unwrap();
        prop_assert_eq!(msg.message_type(), typ);
        prop_assert_eq!(msg.transaction_id(), tid);
        let decoded: Vec<Attribute<'_>> = msg
            .attributes()
            .filter(|a| !matches!(a.attr, AttrType::MESSAGE_INTEGRITY | AttrType::MESSAGE_INTEGRITY_SHA256 | AttrType::FINGERPRINT))
            .map(|a| a.parse(&tid).unwrap())
            .collect();
        prop_assert_eq!(&decoded, &views);
        prop_assert_eq!(msg.verify_integrity(&key).is_ok(), integrity & 1 != 0);
        prop_assert_eq!(msg.verify_integrity_sha256(&key).is_ok(), integrity & 2 != 0);
        prop_assert_eq!(msg.verify_fingerprint().is_ok(), fp);
        let unknown_required = views.iter().any(|v| {
            let t = v.attr_type();
            !t.is_known() && t.is_comprehension_required()
        });
        prop_assert_eq!(msg.has_unknown_comprehension_required(), unknown_required);
        // The parser's O(1) lookup table agrees with a plain walk, for every type present.
        for a in msg.attributes() {
            prop_assert_eq!(msg.raw(a.attr), msg.attributes().find(|b| b.attr == a.attr));
        }
        for t in [AttrType::USERNAME, AttrType::PRIORITY, AttrType(0x7FFE), AttrType(0xC057)] {
            prop_assert_eq!(msg.raw(t), msg.attributes().find(|b| b.attr == t));
        }

        // Raw re-encode with the same key reproduces the bytes exactly.
        let mut again = Vec::new();
        let mut b = MessageBuilder::new(&mut again, typ, tid).unwrap();
        for a in msg.raw_attributes() {
            match a.attr {
                AttrType::MESSAGE_INTEGRITY => b.message_integrity(&key).unwrap(),
                AttrType::MESSAGE_INTEGRITY_SHA256 => b.message_integrity_sha256(&key).unwrap(),
                AttrType::FINGERPRINT => b.fingerprint().unwrap(),
                t => b.raw_padded(t, a.value, a.padding).unwrap(),
            };
        }
        b.finish();
        prop_assert_eq!(&again[..], &out[..]);
    }

    /// A valid message (any attributes, any padding bytes, with or without integrity and
    /// fingerprint) parses and emits back to the same bytes: raw with the received padding
    /// (MESSAGE-INTEGRITY and FINGERPRINT recomputed, not copied), and typed (each attribute
    /// decoded and written again) once its padding is zero.
    #[test]
    fn valid_message_parse_emit_is_identity(w in wire_any()) {
        let key = IntegrityKey::short_term(&w.password);
        let msg = Message::parse(&w.bytes).unwrap();
        prop_assert_eq!(msg.message_type(), w.typ);
        prop_assert_eq!(msg.transaction_id(), w.tid);

        let mut raw = Vec::new();
        let mut typed = Vec::new();
        let mut b = MessageBuilder::new(&mut raw, w.typ, w.tid).unwrap();
        let mut t = MessageBuilder::new(&mut typed, w.typ, w.tid).unwrap();
        for a in msg.raw_attributes() {
            match a.attr {
                AttrType::MESSAGE_INTEGRITY => {
                    b.message_integrity(&key).unwrap();
                    t.message_integrity(&key).unwrap();
                }
                AttrType::MESSAGE_INTEGRITY_SHA256 => {
                    b.message_integrity_sha256(&key).unwrap();
                    t.message_integrity_sha256(&key).unwrap();
                }
                AttrType::FINGERPRINT => {
                    b.fingerprint().unwrap();
                    t.fingerprint().unwrap();
                }
                other => {
                    b.raw_padded(other, a.value, a.padding).unwrap();
                    t.attr(&a.parse(&w.tid).unwrap()).unwrap();
                }
            }
        }
        let n = b.finish();
        t.finish();
        prop_assert_eq!(n, w.bytes.len());
        prop_assert_eq!(&raw, &w.bytes);
        if w.zero_padding {
            prop_assert_eq!(&typed, &w.bytes);
        } else {
            // Typed writing zeroes the padding: the same message but for those bytes.
            let again = Message::parse(&typed).unwrap();
            let a: Vec<_> = again.raw_attributes().map(|a| (a.attr, a.value)).collect();
            let b: Vec<_> = msg.raw_attributes().map(|a| (a.attr, a.value)).filter(|(t, _)| !matches!(*t, AttrType::MESSAGE_INTEGRITY | AttrType::MESSAGE_INTEGRITY_SHA256 | AttrType::FINGERPRINT)).collect();
            let a: Vec<_> = a.into_iter().filter(|(t, _)| !matches!(*t, AttrType::MESSAGE_INTEGRITY | AttrType::MESSAGE_INTEGRITY_SHA256 | AttrType::FINGERPRINT)).collect();
            prop_assert_eq!(a, b);
        }
        prop_assert_eq!(msg.verify_integrity(&key).is_ok(), w.integrity & 1 != 0);
        prop_assert_eq!(msg.verify_integrity_sha256(&key).is_ok(), w.integrity & 2 != 0);
        prop_assert_eq!(msg.verify_fingerprint().is_ok(), w.fingerprint);
    }

    /// Arbitrary bytes never panic the parser, and what parses re-encodes to itself.
    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(msg) = Message::parse(&data) {
            let mut out = Vec::new();
            let mut b = MessageBuilder::new(&mut out, msg.message_type(), msg.transaction_id()).unwrap();
            for a in msg.raw_attributes() {
                b.raw_padded(a.attr, a.value, a.padding).unwrap();
            }
            b.finish();
            prop_assert_eq!(&out, &data);
            for a in msg.attributes() {
                let _ = a.parse(&msg.transaction_id());
            }
        }
    }

    /// Messages split at arbitrary points come out of the framer whole and in order.
    #[test]
    fn tcp_framer_reassembles_any_split(
        sizes in proptest::collection::vec(0usize..100, 1..8),
        cuts in proptest::collection::vec(1usize..40, 1..20),
    ) {
        let mut stream = Vec::new();
        let mut want = Vec::new();
        for (i, s) in sizes.iter().enumerate() {
            let start = stream.len();
            if i % 2 == 0 {
                let data = vec![i as u8; *s];
                let mut b = MessageBuilder::new(&mut stream, MessageType::BINDING_INDICATION, TransactionId([i as u8; 12])).unwrap();
                b.attr(&Attribute::Data(&data)).unwrap();
                b.finish();
                want.push(stream[start..].to_vec());
            } else {
                let data = vec![i as u8; *s];
                let cd = rtcwire_stun::ChannelData { number: 0x4000 + i as u16, data: &data };
                cd.emit(rtcwire_stun::Transport::Tcp, &mut stream).unwrap();
                want.push(stream[start..start + 4 + s].to_vec());
            }
        }
        let mut framer = TcpFramer::new(Framing::Turn);
        let mut got = Vec::new();
        let mut rest = &stream[..];
        let mut cut = cuts.iter().cycle();
        while !rest.is_empty() {
            let n = (*cut.next().unwrap()).min(rest.len());
            framer.push(&rest[..n]).unwrap();
            rest = &rest[n..];
            while let Some(f) = framer.pop().unwrap() {
                got.push(f.bytes.to_vec());
            }
        }
        prop_assert_eq!(got, want);
        prop_assert_eq!(framer.buffered(), 0);
    }

    #[test]
    fn framer_never_panics(data in proptest::collection::vec(any::<u8>(), 0..300), rfc4571 in any::<bool>()) {
        let mut f = TcpFramer::new(if rfc4571 { Framing::Rfc4571 } else { Framing::Turn });
        f.push(&data).unwrap();
        for _ in 0..400 {
            match f.pop() {
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
    }
}

/// The RFC 5769 sample request (short-term credentials), for mutation tests.
const SAMPLE_REQUEST: &str = "000100582112a442b7e7a701bc34d686fa87dfae802200105354554e207465737420636c69656e74002400046e0001ff80290008932ff9b151263b36000600096576746a3a68367659202020000800149aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a280280004e57a3bcf";

proptest! {
    #[test]
    fn channel_data_round_trips_with_the_transport_padding(
        number in 0x4000u16..=0x4FFF,
        data in proptest::collection::vec(any::<u8>(), 0..300),
        tcp in any::<bool>(),
    ) {
        let transport = if tcp { rtcwire_stun::Transport::Tcp } else { rtcwire_stun::Transport::Udp };
        let cd = rtcwire_stun::ChannelData { number, data: &data };
        let mut out = Vec::new();
        let n = cd.emit(transport, &mut out).unwrap();
        prop_assert_eq!(n, out.len());
        if tcp {
            prop_assert_eq!(n, (4 + data.len()).next_multiple_of(4));
        } else {
            prop_assert_eq!(n, 4 + data.len());
        }
        prop_assert_eq!(rtcwire_stun::ChannelData::parse(&out).unwrap(), cd);
        prop_assert_eq!(rtcwire_proto::classify(&out), rtcwire_proto::PacketKind::ChannelData);
        prop_assert!(!rtcwire_stun::is_stun(&out));
    }

    /// Flipping bytes of a real message never panics, and any change to the bytes the
    /// HMAC or the CRC covers is caught by one of them.
    #[test]
    fn mutated_vector_is_caught(flips in proptest::collection::vec((0usize..108, 1u8..=255), 1..4)) {
        let good = hex::decode(SAMPLE_REQUEST).unwrap();
        let key = IntegrityKey::short_term("VOkJxbRl1RmTxUk/WvJxBt");
        let mut bad = good.clone();
        for (i, x) in &flips {
            bad[*i] ^= x;
        }
        // Every byte, padding included, is covered by the HMAC or the CRC (or both).
        if let Ok(m) = Message::parse(&bad) {
            let verified = m.verify_integrity(&key).is_ok() && m.verify_fingerprint().is_ok();
            prop_assert_eq!(verified, bad == good);
            for a in m.attributes() {
                let _ = a.parse(&m.transaction_id());
            }
        }
    }
}
