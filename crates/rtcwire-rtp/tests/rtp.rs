//! RTP packets and header extensions: byte fixtures laid out as in RFC 3550 §5.1 and
//! RFC 8285 §4, and property round trips.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use rtcwire_rtp::rtp::{
    AudioLevel, Csrcs, ExtensionForm, ExtensionKind, ExtensionMap, ExtensionsBuilder,
    HeaderExtensions, PlayoutDelay, Rotation, RtpPacket, RtpRepr, VideoOrientation,
};
use rtcwire_rtp::Error;
use rtcwire_rtp::{PayloadType, Ssrc};

/// V=2 P=1 X=1 CC=2, M=1 PT=111, seq 0xabcd, ts 0x01020304, SSRC 0x11223344, two CSRCs,
/// a one-byte extension block (RFC 8285 §4.2 layout: id 1 len 1, a padding byte, id 2 len
/// 3, then zero padding); [`fixture`] appends payload "hi" and 3 bytes of padding.
const HEADER: [u8; 36] = [
    0xb2, 0xef, 0xab, 0xcd, 0x01, 0x02, 0x03, 0x04, 0x11, 0x22, 0x33, 0x44, // fixed
    0xaa, 0xaa, 0xaa, 0xaa, 0xbb, 0xbb, 0xbb, 0xbb, // CSRCs
    0xbe, 0xde, 0x00, 0x03, // profile, 3 words
    0x10, 0x55, 0x00, 0x23, 0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x00, // elements
];

fn fixture() -> Vec<u8> {
    let mut v = HEADER.to_vec();
    v.extend_from_slice(b"hi");
    v.extend_from_slice(&[0, 0, 3]);
    v
}

#[test]
fn fixed_header_csrcs_extension_and_padding_are_read() {
    let bytes = fixture();
    let p = RtpPacket::new_checked(&bytes[..]).unwrap();
    assert_eq!(p.version(), 2);
    assert!(p.has_padding() && p.has_extension() && p.marker());
    assert_eq!(p.csrc_count(), 2);
    assert_eq!(p.payload_type(), PayloadType(111));
    assert_eq!(p.sequence_number(), 0xabcd);
    assert_eq!(p.timestamp(), 0x0102_0304);
    assert_eq!(p.ssrc(), Ssrc(0x1122_3344));
    assert_eq!(
        p.csrcs().collect::<Vec<_>>(),
        [Ssrc(0xaaaa_aaaa), Ssrc(0xbbbb_bbbb)]
    );
    assert_eq!(p.header_len(), 36);
    assert_eq!(p.payload_range(), 36..38);
    assert_eq!(p.payload(), b"hi");
    assert_eq!(p.padding_len(), 3);
    let ext: Vec<_> = p.extensions().map(|e| e.unwrap()).collect();
    assert_eq!(ext.len(), 2);
    assert_eq!((ext[0].id, ext[0].data), (1, &[0x55][..]));
    assert_eq!((ext[1].id, ext[1].data), (2, &[1, 2, 3, 4][..]));
    assert_eq!(p.extension(2), Some(&[1, 2, 3, 4][..]));
    assert_eq!(p.extension(3), None);
}

#[test]
fn header_only_view_ignores_encrypted_padding() {
    let mut bytes = fixture();
    *bytes.last_mut().unwrap() = 0xff; // "encrypted" padding count
    assert_eq!(
        RtpPacket::new_checked(&bytes[..]),
        Err(Error::BadPadding(255))
    );
    let p = RtpPacket::new_header_only(&bytes[..]).unwrap();
    assert_eq!(p.header_len(), 36);
    assert_eq!(p.payload_range(), 36..bytes.len());
    assert_eq!(rtcwire_rtp::rtp::header_len(&bytes).unwrap(), 36);
}

#[test]
fn malformed_headers_are_rejected() {
    let bytes = fixture();
    for cut in 0..36 {
        assert!(
            matches!(
                RtpPacket::new_checked(&bytes[..cut]),
                Err(Error::Truncated { .. })
            ),
            "cut at {cut}"
        );
    }
    let mut v1 = bytes.clone();
    v1[0] = (v1[0] & 0x3f) | 0x40;
    assert_eq!(RtpPacket::new_checked(&v1[..]), Err(Error::BadVersion(1)));
    let mut zero_pad = bytes.clone();
    *zero_pad.last_mut().unwrap() = 0;
    assert_eq!(
        RtpPacket::new_checked(&zero_pad[..]),
        Err(Error::BadPadding(0))
    );
    // Extension length that overruns the packet.
    let mut long_ext = bytes.clone();
    long_ext[23] = 200;
    assert!(matches!(
        RtpPacket::new_checked(&long_ext[..]),
        Err(Error::Truncated { .. })
    ));
}

#[test]
fn one_byte_form_stops_at_id_15_and_reports_overrun() {
    // id 15 ends processing (RFC 8285 §4.2), elements after it are not read.
    let block = [0x10, 0x01, 0xf0, 0x20, 0x02, 0, 0, 0];
    let mut pkt = vec![0x90, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0, 2];
    pkt.extend_from_slice(&block);
    let p = RtpPacket::new_checked(&pkt[..]).unwrap();
    let ids: Vec<u8> = p.extensions().map(|e| e.unwrap().id).collect();
    assert_eq!(ids, [1]);
    // An element whose length runs past the block is an error, then iteration stops.
    let mut bad = vec![0x90, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0, 1];
    bad.extend_from_slice(&[0x1f, 0, 0, 0]);
    let p = RtpPacket::new_checked(&bad[..]).unwrap();
    let items: Vec<_> = p.extensions().collect();
    assert_eq!(items.len(), 1);
    assert!(matches!(items[0], Err(Error::BadExtension(_))));
}

#[test]
fn two_byte_form_carries_long_empty_and_high_id_elements() {
    // RFC 8285 §4.3: profile 0x100 + appbits, id byte, length byte (0 allowed).
    let mut pkt = vec![0x90, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0x10, 0x00, 0, 2];
    pkt.extend_from_slice(&[200, 0, 0, 17, 1, b'x', 0, 0]);
    let p = RtpPacket::new_checked(&pkt[..]).unwrap();
    let ext: Vec<_> = p.extensions().map(|e| e.unwrap()).collect();
    assert_eq!((ext[0].id, ext[0].data.len()), (200, 0));
    assert_eq!((ext[1].id, ext[1].data), (17, &b"x"[..]));
    assert_eq!(
        p.extension_block().unwrap().form(),
        Some(ExtensionForm::TwoByte)
    );
}

#[test]
fn unknown_profile_is_kept_but_not_iterated() {
    let mut pkt = vec![
        0x90, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0x12, 0x34, 0, 1, 9, 9, 9, 9,
    ];
    pkt.extend_from_slice(b"payload");
    let p = RtpPacket::new_checked(&pkt[..]).unwrap();
    assert_eq!(p.extensions().count(), 0);
    let repr = RtpRepr::parse(&p).unwrap();
    let mut out = vec![0; repr.buffer_len()];
    repr.emit(&mut out).unwrap();
    assert_eq!(out, pkt);
}

#[test]
fn typed_extensions_read_and_write_through_the_map() {
    let map = ExtensionMap::webrtc_default();
    let ext = HeaderExtensions {
        mid: Some("video0"),
        rid: Some("hi"),
        repaired_rid: Some("lo"),
        abs_send_time: Some(0x12_3456),
        transport_cc: Some(0xbeef),
        audio_level: Some(AudioLevel {
            voice: true,
            level: 42,
        }),
        video_orientation: Some(VideoOrientation {
            back_camera: true,
            flip: false,
            rotation: Rotation::Deg270,
        }),
        playout_delay: Some(PlayoutDelay {
            min: 10,
            max: 0xfff,
        }),
        unknown: 0,
    };
    let mut b = ExtensionsBuilder::new();
    ext.emit(&mut b, &map).unwrap();
    b.push(9, b"opaque").unwrap(); // unmapped: kept raw
    assert_eq!(b.form(), ExtensionForm::OneByte);
    let repr = RtpRepr {
        payload_type: PayloadType(96),
        extension: Some(b.block()),
        payload: b"x",
        ..Default::default()
    };
    let mut buf = [0u8; 128];
    let n = repr.emit(&mut buf).unwrap();
    let p = RtpPacket::new_checked(&buf[..n]).unwrap();
    let read = HeaderExtensions::parse(p.extensions(), &map).unwrap();
    assert_eq!(read, HeaderExtensions { unknown: 1, ..ext });
    assert_eq!(p.extension(9), Some(&b"opaque"[..]));
    // Wire bytes of the small ones, per their specs.
    assert_eq!(p.extension(1), Some(&[0x80 | 42][..])); // RFC 6464: V + level
    assert_eq!(p.extension(13), Some(&[0x0b][..])); // CVO: C=1 F=0 R=3
    assert_eq!(p.extension(12), Some(&[0x00, 0xaf, 0xff][..])); // 10 << 12 | 0xfff
    assert_eq!(p.extension(2), Some(&[0x12, 0x34, 0x56][..]));
}

#[test]
fn map_lookups_and_uris() {
    let mut m = ExtensionMap::new();
    m.insert(5, ExtensionKind::Mid).unwrap();
    assert_eq!(m.kind(5), Some(ExtensionKind::Mid));
    m.insert(6, ExtensionKind::Mid).unwrap(); // remap
    assert_eq!(m.kind(5), None);
    assert_eq!(m.id(ExtensionKind::Mid), Some(6));
    assert!(m.insert(0, ExtensionKind::Rid).is_err());
    for k in ExtensionKind::ALL {
        assert_eq!(ExtensionKind::from_uri(k.uri()), Some(k));
    }
    assert_eq!(ExtensionKind::from_uri("urn:nothing"), None);
    // Wrong sizes are errors, not panics.
    let mut b = ExtensionsBuilder::new();
    b.push(3, &[1, 2, 3]).unwrap(); // transport-cc must be 2 bytes
    let map = ExtensionMap::webrtc_default();
    assert!(HeaderExtensions::parse(b.block().elements(), &map).is_err());
}

#[test]
fn abs_send_time_conversions() {
    use rtcwire_rtp::rtp::{abs_send_time_from_micros, abs_send_time_to_micros};
    assert_eq!(abs_send_time_from_micros(1_000_000), 1 << 18);
    assert_eq!(abs_send_time_to_micros(1 << 18), 1_000_000);
    // Wraps every 64 s.
    assert_eq!(abs_send_time_from_micros(64_000_000), 0);
}

#[test]
fn setters_rewrite_fields_in_place() {
    let mut bytes = fixture();
    let mut p = RtpPacket::new_checked(&mut bytes[..]).unwrap();
    p.set_marker(false);
    p.set_payload_type(PayloadType(96));
    p.set_sequence_number(7);
    p.set_timestamp(9);
    p.set_ssrc(Ssrc(11));
    p.payload_mut().copy_from_slice(b"HI");
    let p = RtpPacket::new_checked(&bytes[..]).unwrap();
    assert!(!p.marker());
    assert_eq!(
        (
            p.payload_type(),
            p.sequence_number(),
            p.timestamp(),
            p.ssrc()
        ),
        (PayloadType(96), 7, 9, Ssrc(11))
    );
    assert_eq!(p.payload(), b"HI");
}

#[test]
fn builder_switches_to_two_byte_and_bounds_capacity() {
    let mut b = ExtensionsBuilder::new();
    b.push(1, &[1; 16]).unwrap();
    assert_eq!(b.form(), ExtensionForm::OneByte);
    b.push(2, &[2; 17]).unwrap(); // too long for one-byte
    assert_eq!(b.form(), ExtensionForm::TwoByte);
    let got: Vec<_> = b
        .block()
        .elements()
        .map(|e| e.unwrap())
        .map(|e| (e.id, e.data.len()))
        .collect();
    assert_eq!(got, [(1, 16), (2, 17)]);
    assert!(b.push(0, b"x").is_err());
    let mut full = ExtensionsBuilder::new();
    let mut pushed = 0;
    while full.push(200, &[0; 100]).is_ok() {
        pushed += 1;
    }
    assert_eq!(pushed, 2); // 2 × 102 bytes fit in 256, a third does not
    b.clear();
    assert!(b.is_empty());
    assert_eq!(b.form(), ExtensionForm::OneByte);
    assert_eq!(
        Csrcs::from_slice(&[Ssrc(0); 16]),
        Err(Error::OutOfRange("more than 15 CSRCs"))
    );
}

fn elements_any() -> impl Strategy<Value = Vec<(u8, Vec<u8>)>> {
    prop::collection::vec((1u8..=255, prop::collection::vec(any::<u8>(), 0..24)), 0..6)
}

proptest! {
    #[test]
    fn rtp_round_trip(
        marker in any::<bool>(), pt in 0u8..128, seq in any::<u16>(), ts in any::<u32>(),
        ssrc in any::<u32>(), csrcs in prop::collection::vec(any::<u32>().prop_map(Ssrc), 0..=15),
        elements in elements_any(), payload in prop::collection::vec(any::<u8>(), 0..300),
        padding in 0u8..=255,
    ) {
        let mut b = ExtensionsBuilder::new();
        for (id, data) in &elements {
            b.push(*id, data).unwrap();
        }
        let repr = RtpRepr {
            marker, payload_type: PayloadType(pt), sequence_number: seq, timestamp: ts, ssrc: Ssrc(ssrc),
            csrcs: Csrcs::from_slice(&csrcs).unwrap(),
            extension: (!elements.is_empty()).then(|| b.block()),
            payload: &payload, padding,
        };
        let mut buf = vec![0u8; repr.buffer_len()];
        prop_assert_eq!(repr.emit(&mut buf).unwrap(), buf.len());
        let p = RtpPacket::new_checked(&buf[..]).unwrap();
        prop_assert_eq!(RtpRepr::parse(&p).unwrap(), repr);
        let got: Vec<(u8, Vec<u8>)> = p.extensions().map(|e| e.unwrap()).map(|e| (e.id, e.data.to_vec())).collect();
        prop_assert_eq!(got, elements);
    }

    #[test]
    fn rtp_parse_never_panics_and_reemits_losslessly(data in prop::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(p) = RtpPacket::new_checked(&data[..]) {
            let _ = p.extensions().count();
            let repr = RtpRepr::parse(&p).unwrap();
            let mut out = vec![0u8; repr.buffer_len()];
            repr.emit(&mut out).unwrap();
            prop_assert_eq!(out.len(), data.len());
            // Everything but the padding bytes' content (written as zeros) is kept.
            let body = data.len() - p.padding_len();
            prop_assert_eq!(&out[..body], &data[..body]);
            prop_assert_eq!(out.last(), data.last());
        }
    }
}

fn token_any() -> impl Strategy<Value = Option<String>> {
    prop::option::of("[a-zA-Z0-9]{1,16}")
}

proptest! {
    #[test]
    fn typed_extensions_round_trip(
        mid in token_any(), rid in token_any(), rrid in token_any(),
        ast in prop::option::of(0u32..0x100_0000), tcc in prop::option::of(any::<u16>()),
        level in prop::option::of((any::<bool>(), 0u8..128)),
        vo in prop::option::of((any::<bool>(), any::<bool>(), 0u8..4)),
        pd in prop::option::of((0u16..0x1000, 0u16..0x1000)),
        two_byte in any::<bool>(),
    ) {
        let ext = HeaderExtensions {
            mid: mid.as_deref(), rid: rid.as_deref(), repaired_rid: rrid.as_deref(),
            abs_send_time: ast, transport_cc: tcc,
            audio_level: level.map(|(voice, level)| AudioLevel { voice, level }),
            video_orientation: vo.map(|(back_camera, flip, r)| VideoOrientation {
                back_camera, flip,
                rotation: [Rotation::Deg0, Rotation::Deg90, Rotation::Deg180, Rotation::Deg270][usize::from(r)],
            }),
            playout_delay: pd.map(|(min, max)| PlayoutDelay { min, max }),
            unknown: 0,
        };
        let map = ExtensionMap::webrtc_default();
        let mut b = if two_byte { ExtensionsBuilder::two_byte() } else { ExtensionsBuilder::new() };
        ext.emit(&mut b, &map).unwrap();
        let repr = RtpRepr { extension: (!b.is_empty()).then(|| b.block()), ..Default::default() };
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit(&mut buf).unwrap();
        let p = RtpPacket::new_checked(&buf[..]).unwrap();
        prop_assert_eq!(HeaderExtensions::parse(p.extensions(), &map).unwrap(), ext);
    }
}
