//! Encode/decode round trips of every handshake message.

use super::*;
use proptest::collection::vec;
use proptest::prelude::*;

fn extensions_any() -> impl Strategy<Value = Extensions> {
    (
        proptest::option::of(vec(any::<u16>(), 0..8)),
        proptest::option::of(vec(any::<u8>(), 0..4)),
        proptest::option::of(vec(any::<u16>(), 0..8)),
        proptest::option::of((vec(any::<u16>(), 0..4), vec(any::<u8>(), 0..4))),
        any::<bool>(),
        proptest::option::of(vec(any::<u8>(), 0..4)),
        proptest::option::of(vec(any::<u8>(), 0..=255)),
        vec((100u16..200, vec(any::<u8>(), 0..20)), 0..3),
    )
        .prop_map(|(g, f, s, srtp, ems, reneg, cid, mut unknown)| {
            unknown.sort_by_key(|u| u.0);
            unknown.dedup_by_key(|u| u.0);
            Extensions {
                supported_groups: g,
                ec_point_formats: f,
                signature_algorithms: s,
                use_srtp: srtp.map(|(profiles, mki)| UseSrtp { profiles, mki }),
                extended_master_secret: ems,
                renegotiation_info: reneg,
                connection_id: cid,
                unknown,
            }
        })
}

fn message_any() -> impl Strategy<Value = Message> {
    let bytes = |n| vec(any::<u8>(), 0..n);
    prop_oneof![
        Just(Message::HelloRequest),
        Just(Message::ServerHelloDone),
        (
            any::<u16>(),
            any::<[u8; 32]>(),
            bytes(33),
            bytes(64),
            vec(any::<u16>(), 0..10),
            vec(any::<u8>(), 1..3),
            extensions_any()
        )
            .prop_map(
                |(version, random, sid, cookie, cipher_suites, cm, extensions)| {
                    Message::ClientHello(ClientHello {
                        version,
                        random,
                        session_id: sid.into_iter().take(32).collect(),
                        cookie,
                        cipher_suites,
                        compression_methods: cm,
                        extensions,
                    })
                }
            ),
        (
            any::<u16>(),
            any::<[u8; 32]>(),
            bytes(32),
            any::<u16>(),
            extensions_any()
        )
            .prop_map(|(version, random, session_id, cipher_suite, extensions)| {
                Message::ServerHello(ServerHello {
                    version,
                    random,
                    session_id,
                    cipher_suite,
                    compression_method: 0,
                    extensions,
                })
            }),
        (any::<u16>(), bytes(255)).prop_map(|(version, cookie)| Message::HelloVerifyRequest(
            HelloVerifyRequest { version, cookie }
        )),
        vec(vec(any::<u8>(), 1..300), 0..4)
            .prop_map(|chain| Message::Certificate(Certificate { chain })),
        (
            any::<u16>(),
            vec(any::<u8>(), 1..97),
            any::<u16>(),
            bytes(140)
        )
            .prop_map(
                |(group, public, scheme, signature)| Message::ServerKeyExchange(
                    ServerKeyExchange {
                        group,
                        public,
                        scheme,
                        signature
                    }
                )
            ),
        (bytes(4), vec(any::<u16>(), 0..8), bytes(40)).prop_map(|(t, s, a)| {
            Message::CertificateRequest(CertificateRequest {
                certificate_types: t,
                signature_algorithms: s,
                authorities: a,
            })
        }),
        (any::<u16>(), bytes(140)).prop_map(|(scheme, signature)| Message::CertificateVerify(
            CertificateVerify { scheme, signature }
        )),
        vec(any::<u8>(), 1..97)
            .prop_map(|public| Message::ClientKeyExchange(ClientKeyExchange { public })),
        bytes(13).prop_map(|verify_data| Message::Finished(Finished { verify_data })),
    ]
}

proptest! {
    /// build → encode → decode → equal, and the framed form parses back to one fragment.
    #[test]
    fn encode_decode_round_trip(m in message_any(), seq in any::<u16>()) {
        let mut body = Vec::new();
        m.emit_body(&mut body);
        let back = Message::parse(m.kind().code(), &body).expect("decodes");
        prop_assert_eq!(&back, &m);
        let framed = m.to_bytes(seq);
        let mut r = crate::codec::Reader::new(&framed);
        let (h, frag) = HandshakeHeader::parse(&mut r).expect("header");
        prop_assert!(r.is_empty());
        prop_assert_eq!(h.message_seq, seq);
        prop_assert_eq!(h.length as usize, body.len());
        prop_assert_eq!(frag, &body[..]);
    }

    /// Decoding arbitrary bytes never panics, and whatever decodes re-encodes to a form that
    /// decodes to the same message.
    #[test]
    fn decode_any_bytes(t in any::<u8>(), body in vec(any::<u8>(), 0..300)) {
        if let Ok(m) = Message::parse(t, &body) {
            let mut again = Vec::new();
            m.emit_body(&mut again);
            prop_assert_eq!(Message::parse(t, &again).expect("re-decodes"), m);
        }
    }
}

#[test]
fn a_short_message_is_truncated_with_what_was_needed() {
    // A ClientHello that stops inside its random.
    let body = [0xfe, 0xfd, 1, 2, 3];
    assert_eq!(
        ClientHello::parse(&body),
        Err(Error::Truncated {
            needed: 32,
            available: 3
        })
    );
    // A cookie length that runs past the end.
    let mut hvr = vec![0xfe, 0xff, 20];
    hvr.extend_from_slice(&[7; 5]);
    assert_eq!(
        HelloVerifyRequest::parse(&hvr),
        Err(Error::Truncated {
            needed: 20,
            available: 5
        })
    );
    // Trailing bytes are not a truncation.
    assert_eq!(
        HelloVerifyRequest::parse(&[0xfe, 0xff, 0, 9]),
        Err(Error::Malformed("HelloVerifyRequest"))
    );
}
