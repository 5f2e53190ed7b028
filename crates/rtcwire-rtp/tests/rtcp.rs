//! RTCP packets: byte fixtures laid out per RFC 3550, 4585, 5104, 3611, the REMB and TWCC
//! drafts; compound rules (RFC 3550 A.2, RFC 5506); and property round trips per type.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use rtcwire_rtp::rtcp::{
    self, emit_chunks, packet_type, validate_compound, App, Bye, Chunk, CompoundRule, DlrrItem,
    Fir, FirEntry, List, Nack, NackPair, PacketStatus, Pli, ReceiverReport, Remb, ReportBlock,
    Rtcp, RtcpBody, RtcpPacket, Sdes, SdesChunk, SdesChunks, SdesItem, SdesItems, SenderReport,
    Sli, SliEntry, TransportFeedback, TwccBuilder, Unknown, Xr, XrBlock, XrBlocks,
};
use rtcwire_rtp::Error;
use rtcwire_rtp::Ssrc;

fn h(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn emit(p: &Rtcp<'_>) -> Vec<u8> {
    let mut v = vec![0u8; p.buffer_len()];
    assert_eq!(p.emit(&mut v).unwrap(), v.len());
    v
}

const SR: &str = "81c8000c 902f9e2e da8bd1fc dddda05a aaf4edd5 00000001 00000002
                  bc5e9a40 40ffffff 00000046 00000273 00000000 00000000";

#[test]
fn sender_report_fixture() {
    let bytes = h(SR);
    let Rtcp::SenderReport(sr) = Rtcp::parse_bytes(&bytes).unwrap() else {
        panic!()
    };
    assert_eq!(sr.ssrc, Ssrc(0x902f_9e2e));
    assert_eq!(sr.ntp_time, 0xda8b_d1fc_dddd_a05a);
    assert_eq!(
        (sr.rtp_time, sr.packet_count, sr.octet_count),
        (0xaaf4_edd5, 1, 2)
    );
    let blocks: Vec<_> = sr.reports.iter().collect();
    assert_eq!(
        blocks,
        [ReportBlock {
            ssrc: Ssrc(0xbc5e_9a40),
            fraction_lost: 0x40,
            cumulative_lost: -1, // 24-bit signed 0xffffff
            extended_highest_seq: 0x46,
            jitter: 0x273,
            last_sr: 0,
            delay_since_last_sr: 0,
        }]
    );
    assert_eq!(emit(&Rtcp::SenderReport(sr)), bytes);
}

#[test]
fn receiver_report_with_profile_extension_is_kept() {
    let bytes =
        h("81c90008 00000001 00000002 05000003 00010000 00000004 11112222 00000010 deadbeef");
    let Rtcp::ReceiverReport(rr) = Rtcp::parse_bytes(&bytes).unwrap() else {
        panic!()
    };
    assert_eq!(rr.ssrc, Ssrc(1));
    let b = rr.reports.iter().next().unwrap();
    assert_eq!(
        (b.ssrc, b.fraction_lost, b.cumulative_lost),
        (Ssrc(2), 5, 3)
    );
    assert_eq!(
        (
            b.extended_highest_seq,
            b.jitter,
            b.last_sr,
            b.delay_since_last_sr
        ),
        (0x1_0000, 4, 0x1111_2222, 16)
    );
    assert_eq!(rr.profile_extension, &[0xde, 0xad, 0xbe, 0xef]);
    assert_eq!(emit(&Rtcp::ReceiverReport(rr)), bytes);
    // A report count larger than the packet is an error.
    let mut bad = bytes.clone();
    bad[0] = 0x82;
    bad[3] = 7;
    assert!(matches!(
        Rtcp::parse_bytes(&bad[..32]),
        Err(Error::BadRtcp { what: "RR", .. })
    ));
}

#[test]
fn sdes_cname_fixture() {
    let bytes = h("81ca0006 01020304 0110 6162636465666768696a6b6c6d6e6f70 0000");
    let Rtcp::Sdes(sdes) = Rtcp::parse_bytes(&bytes).unwrap() else {
        panic!()
    };
    let chunks: Vec<SdesChunk<'_>> = sdes.chunks.iter().collect();
    assert_eq!(chunks.len(), 1);
    assert_eq!(chunks[0].ssrc, Ssrc(0x0102_0304));
    assert_eq!(chunks[0].cname(), Some(&b"abcdefghijklmnop"[..]));
    assert_eq!(emit(&Rtcp::Sdes(sdes)), bytes);
    // Missing terminator.
    let bad = h("81ca0002 01020304 01026162");
    assert!(Rtcp::parse_bytes(&bad).is_err());
}

#[test]
fn bye_with_reason_fixture() {
    let bytes = h("81cb0003 00000009 04627965 21000000");
    let Rtcp::Bye(bye) = Rtcp::parse_bytes(&bytes).unwrap() else {
        panic!()
    };
    assert_eq!(bye.sources.iter().collect::<Vec<_>>(), [Ssrc(9)]);
    assert_eq!(bye.reason, b"bye!");
    assert_eq!(emit(&Rtcp::Bye(bye)), bytes);
}

#[test]
fn app_fixture() {
    let bytes = h("85cc0003 00000007 6e616d65 01020304");
    let Rtcp::App(app) = Rtcp::parse_bytes(&bytes).unwrap() else {
        panic!()
    };
    assert_eq!(
        (app.subtype, app.ssrc, &app.name, app.data),
        (5, Ssrc(7), b"name", &[1, 2, 3, 4][..])
    );
    assert_eq!(emit(&Rtcp::App(app)), bytes);
}

#[test]
fn generic_nack_lists_lost_packets() {
    let bytes = h("81cd0003 00000001 00000002 00100005");
    let Rtcp::Nack(nack) = Rtcp::parse_bytes(&bytes).unwrap() else {
        panic!()
    };
    assert_eq!(nack.lost().collect::<Vec<_>>(), [16, 17, 19]);
    assert_eq!(emit(&Rtcp::Nack(nack)), bytes);
    let mut pairs = Vec::new();
    NackPair::pack([65535, 0, 5, 16, 17, 40], |p| pairs.push(p));
    assert_eq!(
        pairs,
        [
            NackPair {
                packet_id: 65535,
                lost_bitmask: 0b10_0001
            }, // 0 and 5
            NackPair {
                packet_id: 16,
                lost_bitmask: 0b1
            }, // 17
            NackPair {
                packet_id: 40,
                lost_bitmask: 0
            },
        ]
    );
}

#[test]
fn pli_sli_fir_fixtures() {
    let pli = h("81ce0002 00000001 00000002");
    assert_eq!(
        Rtcp::parse_bytes(&pli).unwrap(),
        Rtcp::Pli(Pli {
            sender_ssrc: Ssrc(1),
            media_ssrc: Ssrc(2)
        })
    );
    // SLI: first=1, number=2, picture id=3 → 0000000000001 0000000000010 000011
    let sli = h("82ce0003 00000001 00000002 00080083");
    let Rtcp::Sli(s) = Rtcp::parse_bytes(&sli).unwrap() else {
        panic!()
    };
    assert_eq!(
        s.entries.iter().collect::<Vec<_>>(),
        [SliEntry {
            first: 1,
            number: 2,
            picture_id: 3
        }]
    );
    assert_eq!(emit(&Rtcp::Sli(s)), sli);
    let fir = h("84ce0004 00000001 00000000 0000000a 07000000");
    let Rtcp::Fir(f) = Rtcp::parse_bytes(&fir).unwrap() else {
        panic!()
    };
    assert_eq!(
        f.entries.iter().collect::<Vec<_>>(),
        [FirEntry {
            ssrc: Ssrc(10),
            seq: 7
        }]
    );
    assert_eq!(emit(&Rtcp::Fir(f)), fir);
}

#[test]
fn remb_fixture() {
    // num SSRC 1, exponent 3, mantissa 0x3ffff.
    let bytes = h("8fce0005 00000001 00000000 52454d42 010fffff 12345678");
    let Rtcp::Remb(r) = Rtcp::parse_bytes(&bytes).unwrap() else {
        panic!()
    };
    assert_eq!(r.bitrate, 0x3ffff << 3);
    assert_eq!(r.ssrcs.iter().collect::<Vec<_>>(), [Ssrc(0x1234_5678)]);
    assert_eq!(emit(&Rtcp::Remb(r)), bytes);
    assert_eq!(Remb::encode_bitrate(1_000_000), (2, 250_000));
    // Found by fuzzing: exponent 63 overflows 64 bits; it saturates to a value that
    // survives a write and a re-parse.
    let huge = h("8fce0004 00000001 00000000 52454d42 00ffffff");
    let Rtcp::Remb(r) = Rtcp::parse_bytes(&huge).unwrap() else {
        panic!()
    };
    assert_eq!(r.bitrate, rtcwire_rtp::rtcp::MAX_BITRATE);
    assert_eq!(
        Rtcp::parse_bytes(&emit(&Rtcp::Remb(r))).unwrap(),
        Rtcp::Remb(r)
    );
    // AFB that is not REMB stays unknown.
    let other = h("8fce0003 00000001 00000000 41424344");
    assert!(matches!(
        Rtcp::parse_bytes(&other).unwrap(),
        Rtcp::Unknown(_)
    ));
}

/// The chunk examples of draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1.3/3.1.4.
#[test]
fn twcc_chunks_match_the_draft_examples() {
    use PacketStatus::*;
    // Run length: a run of 221 "packet not received".
    assert_eq!(
        Chunk::from_u16(0x00dd),
        Chunk::RunLength {
            status: NotReceived,
            length: 221
        }
    );
    let mut out = Vec::new();
    emit_chunks(&[NotReceived; 221], &mut out);
    assert_eq!(out, [0x00, 0xdd]);
    // One-bit vector: 1 not received, 5 received, 3 not, 3 received, 2 not.
    let c = Chunk::from_u16(0x9f1c);
    let one_bit: Vec<_> = (0..14).map(|i| c.status(i)).collect();
    let mut want = vec![NotReceived];
    want.extend([SmallDelta; 5]);
    want.extend([NotReceived; 3]);
    want.extend([SmallDelta; 3]);
    want.extend([NotReceived; 2]);
    assert_eq!(one_bit, want);
    out.clear();
    emit_chunks(&want, &mut out);
    assert_eq!(out, [0x9f, 0x1c]);
    // Two-bit vector: not received, (reserved/"received w/o timestamp"), 3 received, 2 not.
    let c = Chunk::from_u16(0xcd50);
    let two_bit: Vec<_> = (0..7).map(|i| c.status(i)).collect();
    assert_eq!(
        two_bit,
        [
            NotReceived,
            Reserved,
            SmallDelta,
            SmallDelta,
            SmallDelta,
            NotReceived,
            NotReceived
        ]
    );
    assert_eq!(Chunk::TwoBitVector(0x0d50).to_u16(), 0xcd50);
}

/// A whole feedback: base 100, 4 statuses (small, lost, large −8, small 255), reference
/// time 1 (64 ms), feedback count 5, one two-bit chunk, 4 delta bytes, 2 bytes of padding
/// (P bit, count in the last byte).
const TWCC: &str = "afcd0006 00000001 00000002 00640004 00000105 d24004ff f8ff0002";

#[test]
fn twcc_packet_fixture_parses_and_builds() {
    let bytes = h(TWCC);
    let Rtcp::TransportFeedback(fb) = Rtcp::parse_bytes(&bytes).unwrap() else {
        panic!()
    };
    assert_eq!(
        (
            fb.base_seq,
            fb.status_count,
            fb.reference_time,
            fb.fb_pkt_count
        ),
        (100, 4, 1, 5)
    );
    let pk: Vec<_> = fb.packets().map(|p| (p.seq, p.status, p.delta)).collect();
    assert_eq!(
        pk,
        [
            (100, PacketStatus::SmallDelta, Some(4)),
            (101, PacketStatus::NotReceived, None),
            (102, PacketStatus::LargeDelta, Some(-8)),
            (103, PacketStatus::SmallDelta, Some(255)),
        ]
    );
    assert_eq!(
        fb.arrivals().collect::<Vec<_>>(),
        [(100, 65_000), (102, 63_000), (103, 126_750)]
    );
    let mut b = TwccBuilder::new(Ssrc(1), Ssrc(2));
    b.push(100, 65_000).unwrap();
    b.push(102, 63_000).unwrap();
    b.push(103, 126_750).unwrap();
    assert_eq!(emit(&Rtcp::TransportFeedback(b.build(5))), bytes);
    // Too few delta bytes, or chunks that do not cover the count, are errors.
    let mut short = h("afcd0005 00000001 00000002 00640004 00000105 d24004ff");
    short[0] = 0x8f;
    assert!(Rtcp::parse_bytes(&short).is_err());
}

#[test]
fn twcc_builder_rejects_what_cannot_be_encoded() {
    let mut b = TwccBuilder::new(Ssrc(1), Ssrc(2));
    b.push(10, 0).unwrap();
    assert!(b.push(9, 1_000).is_err()); // backwards
    assert!(b.push(11, 10_000_000).is_err()); // delta > 16 bits of 250 µs
    b.push(11, 1_000).unwrap();
    assert_eq!(b.build(0).status_count, 2);
}

#[test]
fn xr_rrtr_and_dlrr() {
    let bytes =
        h("80cf0008 00000001 04000002 01020304 05060708 05000003 00000002 00000003 00000004");
    let Rtcp::Xr(xr) = Rtcp::parse_bytes(&bytes).unwrap() else {
        panic!()
    };
    let blocks: Vec<_> = xr.blocks.iter().collect();
    assert_eq!(blocks[0].rrtr(), Some(0x0102_0304_0506_0708));
    let d: Vec<_> = blocks[1].dlrr().unwrap().collect();
    assert_eq!(
        d,
        [DlrrItem {
            ssrc: Ssrc(2),
            last_rr: 3,
            delay_since_last_rr: 4
        }]
    );
    assert_eq!(emit(&Rtcp::Xr(xr)), bytes);
}

#[test]
fn unknown_types_and_formats_are_kept() {
    for bytes in [h("80d00001 01020304"), h("83cd0002 00000001 00000002")] {
        let p = Rtcp::parse_bytes(&bytes).unwrap();
        assert!(matches!(p, Rtcp::Unknown(_)));
        assert_eq!(emit(&p), bytes);
    }
}

#[test]
fn compound_rules_full_and_reduced_size() {
    let rr = h("80c90001 00000001");
    let pli = h("81ce0002 00000001 00000002");
    let mut full = rr.clone();
    full.extend_from_slice(&pli);
    assert_eq!(validate_compound(&full, CompoundRule::Full), Ok(2));
    assert_eq!(validate_compound(&pli, CompoundRule::ReducedSize), Ok(1));
    assert!(matches!(
        validate_compound(&pli, CompoundRule::Full),
        Err(Error::BadCompound(_))
    ));
    assert!(validate_compound(&[], CompoundRule::ReducedSize).is_err());
    // Padding only on the last packet.
    let padded_rr = h("a0c90002 00000001 00000004");
    let mut bad = padded_rr.clone();
    bad.extend_from_slice(&pli);
    assert!(validate_compound(&bad, CompoundRule::Full).is_err());
    let mut ok = rr.clone();
    ok.extend_from_slice(&padded_rr);
    assert_eq!(validate_compound(&ok, CompoundRule::Full), Ok(2));
    // Header view fields.
    let p = RtcpPacket::new_checked(&padded_rr[..]).unwrap();
    assert_eq!(
        (p.packet_type(), p.count(), p.length_words(), p.packet_len()),
        (packet_type::RR, 0, 2, 12)
    );
    assert_eq!(
        (p.sender_ssrc(), p.padding_len(), p.body()),
        (Some(Ssrc(1)), 4, &[0, 0, 0, 1][..])
    );
    // A length field past the end stops the walk with an error.
    let mut cut = full.clone();
    cut.truncate(full.len() - 1);
    let r: Vec<_> = rtcp::parse_compound(&cut).collect();
    assert_eq!(r.len(), 2);
    assert!(r[0].is_ok() && r[1].is_err());
}

#[test]
fn writers_refuse_what_does_not_fit() {
    let p = Rtcp::Pli(Pli {
        sender_ssrc: Ssrc(1),
        media_ssrc: Ssrc(2),
    });
    assert_eq!(
        p.emit(&mut [0u8; 11]),
        Err(Error::BufferTooSmall {
            needed: 12,
            available: 11
        })
    );
    let many = [Ssrc(0); 32];
    let bye = Bye {
        sources: List::Items(&many),
        reason: b"",
    };
    assert!(bye.emit(&mut [0u8; 256]).is_err());
    let app = App {
        data: &[1, 2, 3],
        ..Default::default()
    };
    assert!(app.emit(&mut [0u8; 64]).is_err());
}

// ---- property round trips, one per type ----

fn block_any() -> impl Strategy<Value = ReportBlock> {
    (
        any::<u32>(),
        any::<u8>(),
        -0x80_0000i32..0x80_0000,
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
    )
        .prop_map(
            |(ssrc, fraction_lost, cumulative_lost, e, j, l, d)| ReportBlock {
                ssrc: Ssrc(ssrc),
                fraction_lost,
                cumulative_lost,
                extended_highest_seq: e,
                jitter: j,
                last_sr: l,
                delay_since_last_sr: d,
            },
        )
}

fn words_any() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<[u8; 4]>(), 0..4).prop_map(|v| v.concat())
}

fn round_trip(p: &Rtcp<'_>) -> Result<(), TestCaseError> {
    let bytes = emit(p);
    prop_assert_eq!(bytes.len() % 4, 0);
    let back = Rtcp::parse_bytes(&bytes).unwrap();
    prop_assert_eq!(&back, p);
    // And a second emit is byte-identical.
    prop_assert_eq!(emit(&back), bytes);
    Ok(())
}

proptest! {
    #[test]
    fn sr_rr_round_trip(ssrc in any::<u32>(), ntp in any::<u64>(), rtp in any::<u32>(),
                        pc in any::<u32>(), oc in any::<u32>(),
                        blocks in prop::collection::vec(block_any(), 0..=31), ext in words_any()) {
        round_trip(&Rtcp::SenderReport(SenderReport {
            ssrc: Ssrc(ssrc), ntp_time: ntp, rtp_time: rtp, packet_count: pc, octet_count: oc,
            reports: List::Items(&blocks), profile_extension: &ext,
        }))?;
        round_trip(&Rtcp::ReceiverReport(ReceiverReport { ssrc: Ssrc(ssrc), reports: List::Items(&blocks), profile_extension: &ext }))?;
    }

    #[test]
    fn sdes_round_trip(chunks in prop::collection::vec(
        (any::<u32>(), prop::collection::vec((1u8..=8, prop::collection::vec(any::<u8>(), 0..40)), 0..4)), 0..6)) {
        let items: Vec<Vec<SdesItem<'_>>> = chunks.iter()
            .map(|(_, its)| its.iter().map(|(k, v)| SdesItem { kind: *k, value: v }).collect()).collect();
        let cs: Vec<SdesChunk<'_>> = chunks.iter().zip(&items)
            .map(|((ssrc, _), its)| SdesChunk { ssrc: Ssrc(*ssrc), items: SdesItems::Items(its) }).collect();
        round_trip(&Rtcp::Sdes(Sdes { chunks: SdesChunks::Items(&cs) }))?;
    }

    #[test]
    fn bye_app_round_trip(srcs in prop::collection::vec(any::<u32>().prop_map(Ssrc), 0..=31),
                          reason in prop::collection::vec(any::<u8>(), 0..=255),
                          subtype in 0u8..32, name in any::<[u8; 4]>(), data in words_any()) {
        round_trip(&Rtcp::Bye(Bye { sources: List::Items(&srcs), reason: &reason }))?;
        round_trip(&Rtcp::App(App { subtype, ssrc: Ssrc(1), name, data: &data }))?;
    }

    #[test]
    fn feedback_round_trip(s in any::<u32>(), m in any::<u32>(),
                           pairs in prop::collection::vec(any::<(u16, u16)>(), 1..20),
                           slis in prop::collection::vec((0u16..0x2000, 0u16..0x2000, 0u8..64), 1..8),
                           firs in prop::collection::vec(any::<(u32, u8)>(), 1..8),
                           ssrcs in prop::collection::vec(any::<u32>().prop_map(Ssrc), 0..10),
                           exp in 0u32..46, mantissa in 0u64..0x40000) {
        let pairs: Vec<_> = pairs.into_iter().map(|(packet_id, lost_bitmask)| NackPair { packet_id, lost_bitmask }).collect();
        round_trip(&Rtcp::Nack(Nack { sender_ssrc: Ssrc(s), media_ssrc: Ssrc(m), pairs: List::Items(&pairs) }))?;
        round_trip(&Rtcp::Pli(Pli { sender_ssrc: Ssrc(s), media_ssrc: Ssrc(m) }))?;
        let slis: Vec<_> = slis.into_iter().map(|(first, number, picture_id)| SliEntry { first, number, picture_id }).collect();
        round_trip(&Rtcp::Sli(Sli { sender_ssrc: Ssrc(s), media_ssrc: Ssrc(m), entries: List::Items(&slis) }))?;
        let firs: Vec<_> = firs.into_iter().map(|(ssrc, seq)| FirEntry { ssrc: Ssrc(ssrc), seq }).collect();
        round_trip(&Rtcp::Fir(Fir { sender_ssrc: Ssrc(s), media_ssrc: Ssrc(0), entries: List::Items(&firs) }))?;
        round_trip(&Rtcp::Remb(Remb { sender_ssrc: Ssrc(s), media_ssrc: Ssrc(0), bitrate: mantissa << exp, ssrcs: List::Items(&ssrcs) }))?;
    }

    #[test]
    fn twcc_round_trip(start in any::<u16>(), base_time in -1_000_000_000i64..1_000_000_000,
                       steps in prop::collection::vec((1u16..40, 0i64..300_000), 1..300), fb in any::<u8>()) {
        let mut b = TwccBuilder::new(Ssrc(7), Ssrc(8));
        let mut seq = start;
        let mut t = base_time;
        let mut want = Vec::new();
        for (gap, dt) in steps {
            if b.push(seq, t).is_ok() {
                want.push((seq, t.div_euclid(250) * 250));
            }
            seq = seq.wrapping_add(gap);
            t += dt - 50_000; // sometimes backwards: large/negative deltas
        }
        let built = b.build(fb);
        let bytes = emit(&Rtcp::TransportFeedback(built));
        let Rtcp::TransportFeedback(back) = Rtcp::parse_bytes(&bytes).unwrap() else { panic!() };
        prop_assert_eq!(back, built);
        // Arrival times come back at 250 µs resolution, relative to the reference time.
        let got: Vec<(u16, i64)> = back.arrivals().collect();
        let offset = want[0].1 - got[0].1;
        prop_assert_eq!(offset % (64_000 * (1 << 24)), 0); // reference time wraps at 24 bits
        let got: Vec<(u16, i64)> = got.into_iter().map(|(s, t)| (s, t + offset)).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn xr_and_unknown_round_trip(blocks in prop::collection::vec((any::<u8>(), any::<u8>(), words_any()), 0..5),
                                 pt in 208u8..=255, count in 0u8..32, body in words_any()) {
        let bs: Vec<XrBlock<'_>> = blocks.iter().map(|(t, s, d)| XrBlock { block_type: *t, type_specific: *s, data: d }).collect();
        round_trip(&Rtcp::Xr(Xr { ssrc: Ssrc(3), blocks: XrBlocks::Items(&bs) }))?;
        round_trip(&Rtcp::Unknown(Unknown { count, packet_type: pt, body: &body }))?;
    }

    #[test]
    fn compound_round_trip(n in 1usize..6, ssrc in any::<u32>()) {
        let blocks = [ReportBlock { ssrc: Ssrc(ssrc), ..Default::default() }];
        let mut packets = vec![Rtcp::ReceiverReport(ReceiverReport { ssrc: Ssrc(ssrc), reports: List::Items(&blocks), profile_extension: &[] })];
        for i in 0..n {
            packets.push(Rtcp::Pli(Pli { sender_ssrc: Ssrc(ssrc), media_ssrc: Ssrc(i as u32) }));
        }
        let mut buf = vec![0u8; 1500];
        let len = rtcp::emit_compound(&packets, &mut buf).unwrap();
        prop_assert_eq!(validate_compound(&buf[..len], CompoundRule::Full), Ok(n + 1));
        let back: Vec<Rtcp<'_>> = rtcp::parse_compound(&buf[..len]).collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(back, packets);
    }

    #[test]
    fn rtcp_parse_never_panics(data in prop::collection::vec(any::<u8>(), 0..300)) {
        for p in rtcp::parse_compound(&data).flatten() {
            {
                // Whatever parses can be iterated and written again.
                let _ = format!("{p:?}");
                if let Rtcp::TransportFeedback(fb) = p { let _ = fb.packets().count(); }
                let mut out = vec![0u8; p.buffer_len()];
                let _ = p.emit(&mut out);
            }
        }
    }
}

#[test]
fn body_trait_lengths_are_word_aligned() {
    let fb = TransportFeedback {
        status_count: 0,
        ..Default::default()
    };
    assert_eq!(fb.buffer_len(), 20);
    assert_eq!(RtcpBody::buffer_len(&Pli::default()), 12);
}
