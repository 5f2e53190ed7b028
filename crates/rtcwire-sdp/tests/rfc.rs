//! Examples from the RFCs, and descriptions that must be rejected with the right line.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rtcwire_sdp::{
    CandidateKind, Description, Direction, Error, Limits, MediaKind, RidDirection, Sdp,
};

fn crlf(lines: &[&str]) -> String {
    lines.iter().map(|l| format!("{l}\r\n")).collect()
}

/// RFC 8866 §5, the example session description.
const RFC8866_EXAMPLE: &[&str] = &[
    "v=0",
    "o=jdoe 3724394400 3724394405 IN IP4 198.51.100.1",
    "s=Call to John Smith",
    "i=SDP Offer #1",
    "u=http://www.jdoe.example.com/home.html",
    "e=Jane Doe <jane@jdoe.example.com>",
    "p=+1 617 555-6011",
    "c=IN IP4 198.51.100.1",
    "t=0 0",
    "m=audio 49170 RTP/AVP 0",
    "m=audio 49180 RTP/AVP 0",
    "m=video 51372 RTP/AVP 99",
    "c=IN IP6 2001:db8::2",
    "a=rtpmap:99 h263-1998/90000",
];

#[test]
fn rfc8866_example_round_trips_and_reads() {
    let text = crlf(RFC8866_EXAMPLE);
    let sdp = Sdp::parse(&text).unwrap();
    assert_eq!(sdp.as_str(), text);
    let s = sdp.session();
    let o = s.origin();
    assert_eq!(o.username, "jdoe");
    assert_eq!(
        (o.session_id, o.session_version),
        (3_724_394_400, 3_724_394_405)
    );
    assert_eq!(s.name(), "Call to John Smith");
    assert_eq!(s.connection().unwrap().address, "198.51.100.1");
    assert_eq!(sdp.media_count(), 3);
    let a0 = sdp.media_at(0).unwrap();
    assert_eq!((a0.kind(), a0.port()), (MediaKind::Audio, 49170));
    // Static payload type 0 without rtpmap is PCMU/8000.
    assert_eq!(a0.codecs()[0].name, "PCMU");
    // c= falls back to the session's.
    assert_eq!(a0.connection().unwrap().address, "198.51.100.1");
    let v = sdp.media_at(2).unwrap();
    assert_eq!(v.connection().unwrap().addr_type, "IP6");
    assert_eq!(v.codec(99).unwrap().name, "h263-1998");
    assert_eq!(v.direction(), Direction::SendRecv);
    // i=, u=, e=, p= are kept by the lossless layer.
    let kinds: String = sdp.lines().map(|l| l.kind()).collect();
    assert_eq!(kinds, "vosiuepctmmmca");
}

#[test]
fn rfc8866_repeat_times_and_time_zones() {
    // RFC 8866 §5.10 and §5.11: r= and z= lines, two time descriptions.
    let text = crlf(&[
        "v=0",
        "o=- 1 1 IN IP4 192.0.2.1",
        "s=Seminar",
        "t=3724394400 3724484400",
        "r=604800 3600 0 90000",
        "t=3724484400 3724574400",
        "z=2882844526 -1h 2898848070 0",
        "a=recvonly",
        "m=audio 49170 RTP/AVP 0",
    ]);
    let sdp = Sdp::parse(&text).unwrap();
    assert_eq!(sdp.as_str(), text);
    assert_eq!(sdp.session().timing().start, 3_724_394_400);
    assert_eq!(sdp.media_at(0).unwrap().direction(), Direction::RecvOnly);
}

#[test]
fn rfc8839_candidates_and_ice_lite() {
    // Forms of RFC 8839 §5.1 and §5.3: session-level credentials and ice-lite, host,
    // server-reflexive and relayed candidates with related addresses.
    let text = crlf(&[
        "v=0",
        "o=jdoe 2890844526 2890842807 IN IP4 203.0.113.141",
        "s=-",
        "c=IN IP4 192.0.2.3",
        "t=0 0",
        "a=ice-lite",
        "a=ice-options:ice2",
        "a=ice-pwd:asd88fgpdd777uzjYhagZg",
        "a=ice-ufrag:8hhY",
        "m=audio 45664 RTP/AVP 0",
        "b=RS:0",
        "b=RR:0",
        "a=rtpmap:0 PCMU/8000",
        "a=candidate:1 1 UDP 2130706431 203.0.113.141 8998 typ host",
        "a=candidate:2 1 UDP 1694498815 192.0.2.3 45664 typ srflx raddr 203.0.113.141 rport 8998",
        "a=candidate:3 1 UDP 16777215 198.51.100.9 3478 typ relay raddr 192.0.2.3 rport 45664",
        "a=end-of-candidates",
    ]);
    let sdp = Sdp::parse(&text).unwrap();
    assert_eq!(sdp.as_str(), text);
    assert!(sdp.session().ice_lite());
    let m = sdp.media_at(0).unwrap();
    assert_eq!(
        m.ice_ufrag(),
        Some("8hhY"),
        "falls back to the session level"
    );
    assert_eq!(m.ice_pwd(), Some("asd88fgpdd777uzjYhagZg"));
    assert_eq!(m.ice_options().collect::<Vec<_>>(), ["ice2"]);
    assert_eq!(m.bandwidths().map(|b| b.value).collect::<Vec<_>>(), [0, 0]);
    let c: Vec<_> = m.candidates().collect();
    assert_eq!(c[1].kind, CandidateKind::Srflx);
    assert_eq!(c[1].related_address.as_deref(), Some("203.0.113.141"));
    assert_eq!(c[1].related_port, Some(8998));
    assert_eq!(c[2].kind, CandidateKind::Relay);
    assert_eq!(c[2].priority, 16_777_215);
    assert!(m.end_of_candidates());
    let d = sdp.description();
    assert_eq!(d.ice_ufrag.as_deref(), Some("8hhY"));
    assert!(
        d.media[0].ice_ufrag.is_none(),
        "the model keeps levels apart"
    );
    assert_eq!(d.to_sdp().unwrap().description(), d);
}

#[test]
fn rfc8853_simulcast_with_rids() {
    // RFC 8853 §6.6.1 form: three send rids with restrictions and one paused alternative.
    let text = crlf(&[
        "v=0",
        "o=- 1 1 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "m=video 49300 RTP/AVP 97 98 99",
        "a=mid:v",
        "a=rtpmap:97 H264/90000",
        "a=rtpmap:98 H264/90000",
        "a=rtpmap:99 VP8/90000",
        "a=fmtp:97 profile-level-id=42c01f;max-fs=3600;max-mbps=108000",
        "a=fmtp:98 profile-level-id=42c00b;max-fs=240;max-mbps=3600",
        "a=fmtp:99 max-fs=240; max-fr=30",
        "a=rid:1 send pt=97;max-width=1280;max-height=720",
        "a=rid:2 send pt=98;max-width=320;max-height=180",
        "a=rid:3 send pt=99;max-width=320;max-height=180",
        "a=rid:4 send pt=97",
        "a=simulcast:send 1,~4;2;3",
        "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
    ]);
    let sdp = Sdp::parse(&text).unwrap();
    assert_eq!(sdp.as_str(), text);
    let m = sdp.media_at(0).unwrap();
    let rids: Vec<_> = m.rids().collect();
    assert_eq!(rids.len(), 4);
    assert_eq!(rids[0].direction, RidDirection::Send);
    assert_eq!(rids[0].payload_types, [97]);
    assert_eq!(rids[0].restrictions[1].1.as_deref(), Some("720"));
    let sc = m.simulcast().unwrap();
    assert_eq!(sc.send.len(), 3);
    assert_eq!(sc.send[0][1].id, "4");
    assert!(sc.send[0][1].paused);
    assert!(sc.recv.is_empty());
    assert_eq!(m.codec(99).unwrap().fmtp_param("max-fr"), Some("30"));
}

#[test]
fn line_endings_are_normalised_to_crlf() {
    let lf = "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\na=x";
    let sdp = Sdp::parse(lf).unwrap();
    assert_eq!(
        sdp.as_str(),
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=x\r\n"
    );
    assert_eq!(sdp.session().attribute("x"), Some(None));
    let mixed = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\ns=-\r\nt=0 0\n";
    assert_eq!(
        Sdp::parse(mixed).unwrap().as_str().matches("\r\n").count(),
        4
    );
}

const HEAD: &str = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n";

/// Each bad input, with the error it must give.
#[test]
fn bad_inputs_name_the_line_and_the_problem() {
    let m = "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";
    let cases: Vec<(String, Error)> = vec![
        (String::new(), Error::Empty),
        (
            "o=- 1 1 IN IP4 0.0.0.0\r\n".into(),
            Error::Missing { line: 1, kind: 'v' },
        ),
        (
            "v=0\r\ns=-\r\n".into(),
            Error::Missing { line: 2, kind: 'o' },
        ),
        (
            "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nt=0 0\r\n".into(),
            Error::Missing { line: 3, kind: 's' },
        ),
        (
            "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\n".into(),
            Error::Missing { line: 4, kind: 't' },
        ),
        (
            "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\na=x\r\n".into(),
            Error::Missing { line: 4, kind: 't' },
        ),
        (
            "v=1\r\n".into(),
            Error::Invalid {
                line: 1,
                field: "v=",
                reason: "version is not 0",
            },
        ),
        (
            "v=0\r\no=- x 1 IN IP4 0.0.0.0\r\n".into(),
            Error::Invalid {
                line: 2,
                field: "o=",
                reason: "expected a decimal number",
            },
        ),
        (
            "v=0\r\no=- 1 1 IN IP4\r\n".into(),
            Error::Invalid {
                line: 2,
                field: "o=",
                reason: "expected 6 fields",
            },
        ),
        (format!("{HEAD}\r\n"), Error::EmptyLine { line: 5 }),
        (
            format!("{HEAD}a=x\r\n\r\na=y\r\n"),
            Error::EmptyLine { line: 6 },
        ),
        (
            format!("{HEAD}x=1\r\n"),
            Error::UnknownType { line: 5, kind: 'x' },
        ),
        (format!("{HEAD}hello\r\n"), Error::Malformed { line: 5 }),
        (format!("{HEAD}A=1\r\n"), Error::Malformed { line: 5 }),
        (
            format!("{HEAD}a=x\0y\r\n"),
            Error::ControlChar { line: 5, byte: 0 },
        ),
        (
            format!("{HEAD}a=x\ry\r\n"),
            Error::ControlChar {
                line: 5,
                byte: b'\r',
            },
        ),
        (
            format!("{HEAD}s=again\r\n"),
            Error::Misplaced {
                line: 5,
                kind: 's',
                reason: "out of order at session level (v o s i u e p c b t r z k a)",
            },
        ),
        (
            format!("{HEAD}{m}t=0 0\r\n"),
            Error::Misplaced {
                line: 6,
                kind: 't',
                reason: "only allowed at session level",
            },
        ),
        (
            format!("{HEAD}{m}a=mid:0\r\nc=IN IP4 0.0.0.0\r\n"),
            Error::Misplaced {
                line: 7,
                kind: 'c',
                reason: "out of order in a media section (m i c b k a)",
            },
        ),
        (
            format!("{HEAD}{m}i=a\r\ni=b\r\n"),
            Error::Misplaced {
                line: 7,
                kind: 'i',
                reason: "out of order in a media section (m i c b k a)",
            },
        ),
        (
            "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nr=1 2 3\r\n".into(),
            Error::Misplaced {
                line: 4,
                kind: 'r',
                reason: "r= must follow t=",
            },
        ),
        (
            format!("{HEAD}m=audio 9 RTP/AVP\r\n"),
            Error::Invalid {
                line: 5,
                field: "m=",
                reason: "missing formats",
            },
        ),
        (
            format!("{HEAD}m=audio 99999 RTP/AVP 0\r\n"),
            Error::Invalid {
                line: 5,
                field: "m=",
                reason: "number out of range",
            },
        ),
        (
            format!("{HEAD}{m}c=IN IP4\r\n"),
            Error::Invalid {
                line: 6,
                field: "c=",
                reason: "expected 3 fields",
            },
        ),
        (
            format!("{HEAD}{m}b=AS\r\n"),
            Error::Invalid {
                line: 6,
                field: "b=",
                reason: "expected '<type>:<value>'",
            },
        ),
        (
            format!("{HEAD}a=:x\r\n"),
            Error::Invalid {
                line: 5,
                field: "attribute",
                reason: "name is not a token",
            },
        ),
        (
            format!("{HEAD}{m}a=rtpmap:111 opus\r\n"),
            Error::Invalid {
                line: 6,
                field: "a=rtpmap",
                reason: "missing clock rate",
            },
        ),
        (
            format!("{HEAD}{m}a=rtpmap:200 opus/48000\r\n"),
            Error::Invalid {
                line: 6,
                field: "a=rtpmap",
                reason: "payload type above 127",
            },
        ),
        (
            format!("{HEAD}{m}a=candidate:1 1 udp 1 1.2.3.4 5 host\r\n"),
            Error::Invalid {
                line: 6,
                field: "a=candidate",
                reason: "expected 'typ' after the port",
            },
        ),
        (
            format!("{HEAD}{m}a=fingerprint:sha-256 zz:00\r\n"),
            Error::Invalid {
                line: 6,
                field: "a=fingerprint",
                reason: "fingerprint is not hex pairs separated by ':'",
            },
        ),
        (
            format!("{HEAD}{m}a=setup:maybe\r\n"),
            Error::Invalid {
                line: 6,
                field: "a=setup",
                reason: "expected active, passive, actpass or holdconn",
            },
        ),
        (
            format!("{HEAD}{m}a=sctp-port:x\r\n"),
            Error::Invalid {
                line: 6,
                field: "a=sctp-port",
                reason: "expected a decimal number",
            },
        ),
        (
            format!("{HEAD}{m}a=rtcp-mux:yes\r\n"),
            Error::Invalid {
                line: 6,
                field: "a=rtcp-mux",
                reason: "this attribute takes no value",
            },
        ),
        (
            format!("{HEAD}{m}a=mid\r\n"),
            Error::Invalid {
                line: 6,
                field: "a=mid",
                reason: "missing value",
            },
        ),
        (
            format!("{HEAD}{m}a=extmap:0 urn:x\r\n"),
            Error::Invalid {
                line: 6,
                field: "a=extmap",
                reason: "extension id out of range",
            },
        ),
        (
            format!("{HEAD}{m}a=ssrc-group:FID 1 two\r\n"),
            Error::Invalid {
                line: 6,
                field: "a=ssrc-group",
                reason: "expected a decimal number",
            },
        ),
        (
            format!("{HEAD}{m}a=rid:r0 sideways\r\n"),
            Error::Invalid {
                line: 6,
                field: "a=rid",
                reason: "expected 'send' or 'recv'",
            },
        ),
        (
            format!("{HEAD}{m}a=simulcast:send\r\n"),
            Error::Invalid {
                line: 6,
                field: "a=simulcast",
                reason: "missing list",
            },
        ),
        (
            format!("{HEAD}{m}a=ice-ufrag:a b\r\n"),
            Error::Invalid {
                line: 6,
                field: "a=ice-ufrag",
                reason: "expected ice-chars (letters, digits, '+', '/')",
            },
        ),
        (
            format!("{HEAD}{m}a=mid:0\r\na=mid:1\r\n"),
            Error::Duplicate {
                line: 7,
                field: "a=mid",
            },
        ),
        (
            format!("{HEAD}{m}a=sendonly\r\na=recvonly\r\n"),
            Error::Duplicate {
                line: 7,
                field: "direction",
            },
        ),
        (
            format!("{HEAD}{m}a=setup:active\r\na=setup:active\r\n"),
            Error::Duplicate {
                line: 7,
                field: "a=setup",
            },
        ),
    ];
    for (input, want) in cases {
        assert_eq!(Sdp::parse(&input), Err(want.clone()), "{input:?}");
        assert_eq!(want.line(), Sdp::parse(&input).unwrap_err().line());
        assert!(!want.to_string().is_empty());
    }
    // The same attribute in two sections is fine; per-section state resets at m=.
    Sdp::parse(&format!("{HEAD}{m}a=mid:0\r\n{m}a=mid:1\r\n")).unwrap();
}

#[test]
fn limits_are_enforced() {
    let tight = Limits {
        max_len: 200,
        max_lines: 8,
        max_line_len: 40,
        max_media: 1,
        max_attributes: 2,
    };
    let long = format!("{HEAD}a=x-{}\r\n", "y".repeat(100));
    assert_eq!(
        Sdp::parse_with(&long, &tight),
        Err(Error::LineTooLong {
            line: 5,
            len: 104,
            limit: 40
        })
    );
    let huge = format!("{HEAD}{}", "a=x\r\n".repeat(60));
    assert_eq!(
        Sdp::parse_with(&huge, &tight),
        Err(Error::TooLarge {
            len: huge.len(),
            limit: 200
        })
    );
    let many = format!("{HEAD}{}", "m=audio 9 RTP/AVP 0\r\n".repeat(5));
    assert_eq!(
        Sdp::parse_with(&many, &tight),
        Err(Error::TooManyMedia { line: 6, limit: 1 })
    );
    let attrs = format!("{HEAD}a=a\r\na=b\r\na=c\r\n");
    assert_eq!(
        Sdp::parse_with(&attrs, &tight),
        Err(Error::TooManyAttributes { line: 7, limit: 2 })
    );
    let lines = format!("{HEAD}m=audio 9 RTP/AVP 0\r\n{}", "b=AS:1\r\n".repeat(5));
    assert_eq!(
        Sdp::parse_with(&lines, &tight),
        Err(Error::TooManyLines { line: 9, limit: 8 })
    );
}

#[test]
fn building_an_offer_checks_it() {
    let bad = Description::new(1, 1).with_media(
        rtcwire_sdp::Media::audio()
            .with_codec(rtcwire_sdp::Codec::new(0, "PCMU", 8000))
            .with_mid("has space"),
    );
    // The builder writes it; parsing the result finds the bad mid and names its line.
    assert!(matches!(
        bad.to_sdp(),
        Err(Error::Invalid { field: "a=mid", .. })
    ));
    let no_formats = Description::new(1, 1).with_media(rtcwire_sdp::Media::audio());
    assert!(matches!(
        no_formats.to_sdp(),
        Err(Error::Invalid {
            line: 5,
            field: "m=",
            ..
        })
    ));
}

#[test]
fn codecs_missing_from_the_m_line_keep_their_line_order() {
    // Found by the sdp_roundtrip fuzz target: rtpmaps for payload types the m= line does not
    // list come after the listed ones, in the order of their lines.
    let text = crlf(&[
        "v=0",
        "o=- 1 1 IN IP4 0.0.0.0",
        "s=-",
        "t=0 0",
        "m=video 9 UDP/TLS/RTP/SAVPF 100 0",
        "a=rtpmap:97 VP8/90000",
        "a=rtpmap:98 rtx/90000",
        "a=rtpmap:99 H264/90000",
        "a=rtpmap:100 rtx/90000",
        "a=rtpmap:101 H264/90000",
    ]);
    let sdp = Sdp::parse(&text).unwrap();
    let pts: Vec<u8> = sdp
        .media_at(0)
        .unwrap()
        .codecs()
        .iter()
        .map(|c| c.payload_type)
        .collect();
    assert_eq!(pts, [100, 0, 97, 98, 99, 101]);
    let d = sdp.description();
    assert_eq!(d.to_sdp().unwrap().description(), d);
}

#[test]
fn legacy_and_unusual_forms_are_kept() {
    // Pre-RFC 8841 data channel syntax (sctpmap, fmtp on a non-RTP format), an mDNS host
    // candidate, an IPv6 relay candidate and a session-level a=mid (meaningless there).
    let text = crlf(&[
        "v=0",
        "o=- 1 1 IN IP6 ::1",
        "s= ",
        "t=0 0",
        "a=mid:stray",
        "m=application 9 DTLS/SCTP 5000",
        "c=IN IP6 ::",
        "a=sctpmap:5000 webrtc-datachannel 1024",
        "a=fmtp:webrtc-datachannel max-message-size=100000",
        "a=candidate:1 1 udp 2122262783 1f4712db-ea17-4bcf-a596-105139dfd8bf.local 54321 typ host",
        "a=candidate:2 1 UDP 8331007 2001:db8::5 3478 typ relay raddr 2001:db8::1 rport 61000",
    ]);
    let sdp = Sdp::parse(&text).unwrap();
    assert_eq!(sdp.as_str(), text);
    assert_eq!(sdp.session().name(), " ");
    let m = sdp.media_at(0).unwrap();
    assert_eq!(m.formats().collect::<Vec<_>>(), ["5000"]);
    assert!(m.codecs().is_empty(), "5000 is not an RTP payload type");
    assert_eq!(m.sctp_port(), None);
    assert_eq!(
        m.attribute("sctpmap"),
        Some(Some("5000 webrtc-datachannel 1024"))
    );
    let c: Vec<_> = m.candidates().collect();
    assert!(c[0].address.ends_with(".local"));
    assert_eq!(c[1].address, "2001:db8::5");
    assert_eq!(c[1].related_address.as_deref(), Some("2001:db8::1"));
    let d = sdp.description();
    let kept: Vec<_> = d.media[0]
        .attributes
        .iter()
        .map(|a| a.name.as_ref())
        .collect();
    assert_eq!(kept, ["sctpmap", "fmtp"]);
    assert_eq!(d.attributes[0].value.as_deref(), Some("stray"));
    assert_eq!(d.to_sdp().unwrap().description(), d);
}

#[test]
fn trickled_candidate_round_trips_through_display() {
    let line = "candidate:3 2 tcp 1518280446 192.0.2.9 9 typ host tcptype passive generation 0 ufrag EsAw network-id 2";
    let c = rtcwire_sdp::Candidate::parse(line).unwrap();
    assert_eq!(c.component, 2);
    assert_eq!(c.tcp_type, Some(rtcwire_sdp::TcpType::Passive));
    assert_eq!(format!("candidate:{c}"), line);
    assert_eq!(
        rtcwire_sdp::Candidate::parse("candidate:"),
        Err(Error::InvalidValue {
            field: "a=candidate",
            reason: "missing foundation"
        })
    );
}
