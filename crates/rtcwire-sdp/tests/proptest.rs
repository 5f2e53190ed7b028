//! Property: any typed description, written and parsed again, reads back equal; and the
//! text it writes survives a lossless round trip unchanged.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::borrow::Cow;

use proptest::collection::vec;
use proptest::option::of;
use proptest::prelude::*;
use rtcwire_sdp::{
    Attribute, Bandwidth, Candidate, CandidateKind, Codec, Connection, Description, Direction,
    Extmap, Fingerprint, FingerprintAlgorithm, Group, Media, MediaKind, Msid, MsidSemantic, Origin,
    Rid, RidDirection, Sdp, Setup, Simulcast, SimulcastRid, SsrcAttribute, SsrcGroup, TcpType,
    Timing,
};

type S = Cow<'static, str>;

/// Attribute names the model claims; "other" attributes must avoid them.
const KNOWN: &[&str] = &[
    "mid",
    "sendrecv",
    "sendonly",
    "recvonly",
    "inactive",
    "rtcp-mux",
    "rtcp-rsize",
    "rtpmap",
    "fmtp",
    "rtcp-fb",
    "extmap",
    "extmap-allow-mixed",
    "ssrc",
    "ssrc-group",
    "msid",
    "msid-semantic",
    "rid",
    "simulcast",
    "ice-ufrag",
    "ice-pwd",
    "ice-options",
    "ice-lite",
    "candidate",
    "end-of-candidates",
    "fingerprint",
    "setup",
    "sctp-port",
    "max-message-size",
    "group",
];

fn token() -> impl Strategy<Value = S> {
    "[a-zA-Z0-9][a-zA-Z0-9.!#*+_~-]{0,10}".prop_map(Cow::Owned)
}

fn ice_chars(max: usize) -> impl Strategy<Value = S> {
    proptest::string::string_regex(&format!("[a-zA-Z0-9+/]{{1,{max}}}"))
        .unwrap()
        .prop_map(Cow::Owned)
}

fn visible() -> impl Strategy<Value = S> {
    "[!-~]{1,12}".prop_map(Cow::Owned)
}

fn text() -> impl Strategy<Value = S> {
    "[ -~]{0,16}".prop_map(Cow::Owned)
}

fn direction() -> impl Strategy<Value = Direction> {
    prop_oneof![
        Just(Direction::SendRecv),
        Just(Direction::SendOnly),
        Just(Direction::RecvOnly),
        Just(Direction::Inactive)
    ]
}

fn setup() -> impl Strategy<Value = Setup> {
    prop_oneof![
        Just(Setup::Active),
        Just(Setup::Passive),
        Just(Setup::ActPass),
        Just(Setup::HoldConn)
    ]
}

fn connection() -> impl Strategy<Value = Connection<'static>> {
    (prop_oneof![Just("IP4"), Just("IP6")], visible()).prop_map(|(t, a)| Connection {
        net_type: Cow::Borrowed("IN"),
        addr_type: Cow::Borrowed(t),
        address: a,
    })
}

fn bandwidth() -> impl Strategy<Value = Bandwidth<'static>> {
    (token(), any::<u64>()).prop_map(|(kind, value)| Bandwidth { kind, value })
}

fn other_attribute() -> impl Strategy<Value = Attribute<'static>> {
    (token(), of(text()))
        .prop_filter("not a modelled attribute", |(n, _)| {
            !KNOWN.contains(&n.as_ref())
        })
        .prop_map(|(name, value)| Attribute { name, value })
}

fn fingerprint() -> impl Strategy<Value = Fingerprint> {
    prop_oneof![
        Just(FingerprintAlgorithm::Sha256),
        Just(FingerprintAlgorithm::Sha1),
        Just(FingerprintAlgorithm::Sha512),
        Just(FingerprintAlgorithm::Md5),
    ]
    .prop_flat_map(|a| vec(any::<u8>(), a.digest_len()).prop_map(move |v| Fingerprint::new(a, v)))
}

fn extmap() -> impl Strategy<Value = Extmap<'static>> {
    (1u16..=4351, of(direction()), visible(), of(token())).prop_map(
        |(id, direction, uri, attributes)| Extmap {
            id,
            direction,
            uri,
            attributes,
        },
    )
}

fn candidate() -> impl Strategy<Value = Candidate<'static>> {
    let kind = prop_oneof![
        Just(CandidateKind::Host),
        Just(CandidateKind::Srflx),
        Just(CandidateKind::Prflx),
        Just(CandidateKind::Relay),
        "x[a-z]{1,5}".prop_map(|s| CandidateKind::Other(Cow::Owned(s))),
    ];
    let tcp = prop_oneof![
        Just(TcpType::Active),
        Just(TcpType::Passive),
        Just(TcpType::So)
    ];
    let ext = ("[a-z][a-z-]{0,8}", visible())
        .prop_filter("reserved", |(n, _)| {
            !["raddr", "rport", "tcptype"].contains(&n.as_str())
        })
        .prop_map(|(n, v)| (Cow::Owned(n), v));
    (
        (
            ice_chars(32),
            1u16..=256,
            prop_oneof![Just("udp"), Just("UDP"), Just("tcp")],
            any::<u32>(),
        ),
        (visible(), any::<u16>(), kind),
        (of(visible()), of(any::<u16>()), of(tcp), vec(ext, 0..4)),
    )
        .prop_map(
            |(
                (foundation, component, transport, priority),
                (address, port, kind),
                (raddr, rport, tcp_type, extensions),
            )| {
                Candidate {
                    foundation,
                    component,
                    transport: Cow::Borrowed(transport),
                    priority,
                    address,
                    port,
                    kind,
                    related_address: raddr,
                    related_port: rport,
                    tcp_type,
                    extensions,
                }
            },
        )
}

fn codecs() -> impl Strategy<Value = Vec<Codec<'static>>> {
    let feedback = prop_oneof![
        Just(Cow::Borrowed("nack")),
        Just(Cow::Borrowed("nack pli")),
        Just(Cow::Borrowed("ccm fir")),
        Just(Cow::Borrowed("transport-cc")),
        token(),
    ];
    let codec = (
        token(),
        any::<u32>(),
        of(any::<u16>()),
        of("[a-z0-9=;/-]{1,20}".prop_map(Cow::Owned)),
        vec(feedback, 0..4),
    );
    (
        proptest::sample::subsequence((0u8..=127).collect::<Vec<_>>(), 0..6),
        vec(codec, 6),
    )
        .prop_map(|(pts, specs)| {
            pts.into_iter()
                .zip(specs)
                .map(|(pt, (name, clock_rate, channels, fmtp, feedback))| Codec {
                    payload_type: pt,
                    name,
                    clock_rate,
                    channels,
                    fmtp,
                    feedback,
                })
                .collect::<Vec<_>>()
        })
        .prop_shuffle()
}

fn rid() -> impl Strategy<Value = Rid<'static>> {
    (
        "[a-zA-Z0-9_-]{1,8}",
        prop_oneof![Just(RidDirection::Send), Just(RidDirection::Recv)],
        vec(0u8..=127, 0..3),
        vec(("[a-z0-9-]{1,8}", of("[a-z0-9]{0,5}")), 0..3),
    )
        .prop_filter("pt is the payload-type list", |(_, _, _, r)| {
            r.iter().all(|(n, _)| n != "pt")
        })
        .prop_map(|(id, direction, payload_types, r)| Rid {
            id: Cow::Owned(id),
            direction,
            payload_types,
            restrictions: r
                .into_iter()
                .map(|(n, v)| (Cow::Owned(n), v.map(Cow::Owned)))
                .collect(),
        })
}

fn simulcast() -> impl Strategy<Value = Simulcast<'static>> {
    let sc_rid = ("[a-zA-Z0-9_-]{1,6}", any::<bool>()).prop_map(|(id, paused)| SimulcastRid {
        id: Cow::Owned(id),
        paused,
    });
    let list = vec(vec(sc_rid, 1..3), 0..3);
    (list.clone(), list)
        .prop_filter("at least one direction", |(s, r)| {
            !s.is_empty() || !r.is_empty()
        })
        .prop_map(|(send, recv)| Simulcast { send, recv })
}

fn media() -> impl Strategy<Value = Media<'static>> {
    let kind = prop_oneof![
        Just(MediaKind::Audio),
        Just(MediaKind::Video),
        Just(MediaKind::Application),
        "x[a-z]{1,6}".prop_map(|s| MediaKind::Other(Cow::Owned(s))),
    ];
    let head = (
        kind,
        any::<u16>(),
        of(any::<u16>()),
        prop_oneof![
            Just("UDP/TLS/RTP/SAVPF"),
            Just("UDP/DTLS/SCTP"),
            Just("RTP/AVP")
        ],
        codecs(),
        vec("[a-z][a-z-]{0,10}".prop_map(Cow::Owned), 1..3),
        of(connection()),
        vec(bandwidth(), 0..2),
        any::<prop::sample::Index>(),
    );
    let rtp = (
        of(token()),
        of(direction()),
        any::<(bool, bool, bool)>(),
        vec(extmap(), 0..3),
        vec((any::<u32>(), "[a-z][a-z-]{0,6}", of("[ -~]{0,10}")), 0..3),
        vec((token(), vec(any::<u32>(), 0..3)), 0..2),
        vec((token(), of(token())), 0..2),
        vec(rid(), 0..3),
        of(simulcast()),
    );
    let transport = (
        of(ice_chars(16)),
        of(ice_chars(32)),
        vec(token(), 0..3),
        vec(candidate(), 0..3),
        any::<bool>(),
        vec(fingerprint(), 0..2),
        of(setup()),
        of(any::<u16>()),
        of(any::<u64>()),
        vec(other_attribute(), 0..3),
    );
    (head, rtp, transport).prop_map(|(h, r, t)| {
        let (kind, port, port_count, proto, codecs, names, connection, bandwidths, listed) = h;
        // The m= line lists the first 1..=n codecs; the rest have only an rtpmap, and read
        // back after the listed ones, in line order.
        let formats = if codecs.is_empty() {
            names
        } else {
            let listed = 1 + listed.index(codecs.len());
            codecs
                .iter()
                .take(listed)
                .map(|c| Cow::Owned(c.payload_type.to_string()))
                .collect()
        };
        let (
            mid,
            direction,
            (rtcp_mux, rtcp_rsize, mixed),
            extmaps,
            ssrcs,
            groups,
            msids,
            rids,
            simulcast,
        ) = r;
        let (
            ice_ufrag,
            ice_pwd,
            ice_options,
            candidates,
            eoc,
            fingerprints,
            setup,
            sctp_port,
            mms,
            attributes,
        ) = t;
        Media {
            kind,
            port,
            port_count,
            proto: Cow::Borrowed(proto),
            formats,
            connection,
            bandwidths,
            mid,
            direction,
            rtcp_mux,
            rtcp_rsize,
            codecs,
            extmaps,
            extmap_allow_mixed: mixed,
            ssrcs: ssrcs
                .into_iter()
                .map(|(ssrc, n, v)| SsrcAttribute {
                    ssrc,
                    name: Cow::Owned(n),
                    value: v.map(Cow::Owned),
                })
                .collect(),
            ssrc_groups: groups
                .into_iter()
                .map(|(s, v)| SsrcGroup::new(s, v))
                .collect(),
            msids: msids
                .into_iter()
                .map(|(stream, track)| Msid { stream, track })
                .collect(),
            rids,
            simulcast,
            ice_ufrag,
            ice_pwd,
            ice_options,
            candidates,
            end_of_candidates: eoc,
            fingerprints,
            setup,
            sctp_port,
            max_message_size: mms,
            attributes,
        }
    })
}

fn description() -> impl Strategy<Value = Description<'static>> {
    let head = (
        ("[a-zA-Z0-9-]{1,8}", any::<u64>(), any::<u64>(), visible()),
        text(),
        of(connection()),
        vec(bandwidth(), 0..2),
        any::<(u64, u64)>(),
    );
    let attrs = (
        vec((token(), vec(token(), 0..4)), 0..2),
        of((token(), vec(token(), 0..3))),
        of(direction()),
        any::<(bool, bool)>(),
        of(ice_chars(16)),
        of(ice_chars(32)),
        vec(token(), 0..2),
        vec(fingerprint(), 0..2),
        of(setup()),
        vec(extmap(), 0..2),
        vec(other_attribute(), 0..3),
    );
    (head, attrs, vec(media(), 0..4)).prop_map(|(h, a, media)| {
        let ((user, id, version, address), name, connection, bandwidths, (start, stop)) = h;
        let (
            groups,
            wms,
            direction,
            (mixed, lite),
            ufrag,
            pwd,
            options,
            fingerprints,
            setup,
            extmaps,
            attributes,
        ) = a;
        Description {
            origin: Origin {
                username: Cow::Owned(user),
                address,
                ..Origin::new(id, version)
            },
            name,
            connection,
            bandwidths,
            timing: Timing { start, stop },
            groups: groups
                .into_iter()
                .map(|(semantics, mids)| Group { semantics, mids })
                .collect(),
            msid_semantic: wms.map(|(semantic, ids)| MsidSemantic { semantic, ids }),
            direction,
            extmap_allow_mixed: mixed,
            ice_lite: lite,
            ice_ufrag: ufrag,
            ice_pwd: pwd,
            ice_options: options,
            fingerprints,
            setup,
            extmaps,
            attributes,
            media,
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn typed_description_round_trips(d in description()) {
        let text = d.to_string();
        let sdp = Sdp::parse(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(sdp.as_str(), text.as_str());
        prop_assert_eq!(sdp.description(), d.clone());
        prop_assert_eq!(sdp.media_count(), d.media.len());
        for (view, m) in sdp.media().zip(&d.media) {
            prop_assert_eq!(view.mid(), m.mid.as_deref());
            prop_assert_eq!(view.codecs(), m.codecs.clone());
            prop_assert_eq!(view.candidates().collect::<Vec<_>>(), m.candidates.clone());
        }
    }

    #[test]
    fn parse_never_panics_on_mutated_corpus(pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let text = include_str!("../../../testdata/sdp/chromium-offer-av-dc.sdp");
        let mut bytes = text.as_bytes().to_vec();
        let i = pos.index(bytes.len());
        bytes[i] = byte;
        if let Ok(s) = std::str::from_utf8(&bytes) {
            if let Ok(sdp) = Sdp::parse(s) {
                // Whatever parses is stable: its text reparses to itself.
                let again = Sdp::parse(sdp.as_str()).unwrap();
                prop_assert_eq!(again.as_str(), sdp.as_str());
                let d = sdp.description();
                let again = d.to_sdp().map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(again.description(), d);
            }
        }
    }
}
