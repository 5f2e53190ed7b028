//! RTP parse + header-extension read, and RTCP compound parse: rtcwire-rtp side by side
//! with webrtc-rs `rtp`/`rtcp` 0.17 and `rtc-rtp`/`rtc-rtcp` 0.21 (the sans-IO rewrite).
//! Every candidate does the same work: parse, then read the fields a receiver needs.
// Fixture construction may panic: a bench with a broken fixture must not run.
#![allow(clippy::expect_used)]
use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use rtcwire_rtp::rtcp::{self as ours_rtcp, Rtcp};
use rtcwire_rtp::rtp::{ExtensionMap, ExtensionsBuilder, HeaderExtensions, RtpPacket, RtpRepr};
use rtcwire_rtp::{PayloadType, Ssrc};
use std::hint::black_box;

/// A video packet as a browser sends it: one-byte extensions (abs-send-time id 2,
/// transport-wide seq id 3, mid id 4) and a 1100-byte payload.
fn rtp_packet() -> Vec<u8> {
    let map = ExtensionMap::webrtc_default();
    let mut ext = ExtensionsBuilder::new();
    HeaderExtensions {
        mid: Some("0"),
        abs_send_time: Some(0x12_3456),
        transport_cc: Some(4321),
        ..Default::default()
    }
    .emit(&mut ext, &map)
    .expect("mapped ids");
    let payload = vec![0x5a; 1100];
    let repr = RtpRepr {
        marker: true,
        payload_type: PayloadType(96),
        sequence_number: 1000,
        timestamp: 90_000,
        ssrc: Ssrc(0x1234_5678),
        extension: Some(ext.block()),
        payload: &payload,
        ..Default::default()
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut buf).expect("room");
    buf
}

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// A compound a receiver sends: RR with one block, SDES CNAME, NACK, PLI, REMB and a
/// transport-wide feedback of 28 packets (run-length and vector chunks).
fn rtcp_compound() -> Vec<u8> {
    let mut b = ours_rtcp::TwccBuilder::new(Ssrc(1), Ssrc(2));
    let mut t = 1_000_000i64;
    for i in 0..30u16 {
        if i % 7 != 3 {
            b.push(100 + i, t).expect("fits");
        }
        t += if i % 5 == 0 { 20_000 } else { 1_000 };
    }
    let fb = b.build(9);
    let mut twcc = vec![0u8; 256];
    let n = Rtcp::TransportFeedback(fb).emit(&mut twcc).expect("room");
    twcc.truncate(n);
    let mut v = hex(
        "81c90007 00000001 00000002 05000003 00010000 00000004 11112222 00000010
         81ca0006 00000001 0110 6162636465666768696a6b6c6d6e6f70 0000
         81cd0003 00000001 00000002 00100005
         81ce0002 00000001 00000002
         8fce0005 00000001 00000000 52454d42 010fffff 00000002",
    );
    v.extend_from_slice(&twcc);
    v
}

fn ours_rtp(buf: &[u8], map: &ExtensionMap) -> u64 {
    let p = RtpPacket::new_checked(buf).expect("valid");
    let e = HeaderExtensions::parse(p.extensions(), map).expect("valid extensions");
    u64::from(p.sequence_number())
        + u64::from(p.timestamp())
        + u64::from(p.ssrc().0)
        + p.payload().len() as u64
        + u64::from(e.abs_send_time.unwrap_or(0))
        + u64::from(e.transport_cc.unwrap_or(0))
        + e.mid.map_or(0, str::len) as u64
}

fn webrtc_rtp(buf: &Bytes) -> u64 {
    use webrtc_util::marshal::Unmarshal;
    let mut b = buf.clone();
    let p = rtp::packet::Packet::unmarshal(&mut b).expect("valid");
    let h = &p.header;
    u64::from(h.sequence_number)
        + u64::from(h.timestamp)
        + u64::from(h.ssrc)
        + p.payload.len() as u64
        + h.get_extension(2).map_or(0, |e| u64::from(e[0]))
        + h.get_extension(3).map_or(0, |e| u64::from(e[1]))
        + h.get_extension(4).map_or(0, |e| e.len() as u64)
}

fn rtc_rtp(buf: &Bytes) -> u64 {
    use rtc_shared::marshal::Unmarshal;
    let mut b = buf.clone();
    let p = rtc_rtp::packet::Packet::unmarshal(&mut b).expect("valid");
    let h = &p.header;
    u64::from(h.sequence_number)
        + u64::from(h.timestamp)
        + u64::from(h.ssrc)
        + p.payload.len() as u64
        + h.get_extension(2).map_or(0, |e| u64::from(e[0]))
        + h.get_extension(3).map_or(0, |e| u64::from(e[1]))
        + h.get_extension(4).map_or(0, |e| e.len() as u64)
}

/// Parses the compound and walks every report block, NACK pair and TWCC status, as the
/// others' parsers decode all of those into vectors.
fn ours_rtcp_parse(buf: &[u8]) -> u64 {
    let mut acc = 0u64;
    for p in ours_rtcp::parse_compound(buf) {
        match p.expect("valid") {
            Rtcp::ReceiverReport(rr) => {
                acc += rr.reports.iter().map(|b| u64::from(b.jitter)).sum::<u64>()
            }
            Rtcp::Sdes(s) => acc += s.chunks.iter().filter_map(|c| c.cname()).count() as u64,
            Rtcp::Nack(n) => acc += n.pairs.iter().map(|p| u64::from(p.packet_id)).sum::<u64>(),
            Rtcp::Pli(p) => acc += u64::from(p.media_ssrc.0),
            Rtcp::Remb(r) => acc += r.bitrate,
            Rtcp::TransportFeedback(fb) => {
                acc += fb
                    .packets()
                    .map(|p| p.delta.map_or(1, |d| d as u64))
                    .sum::<u64>()
            }
            _ => acc += 1,
        }
    }
    acc
}

fn webrtc_rtcp_parse(buf: &Bytes) -> u64 {
    let mut b = buf.clone();
    let v = rtcp::packet::unmarshal(&mut b).expect("valid");
    v.iter().map(|p| p.destination_ssrc().len() as u64).sum()
}

fn rtc_rtcp_parse(buf: &Bytes) -> u64 {
    let mut b = buf.clone();
    let v = rtc_rtcp::packet::unmarshal(&mut b).expect("valid");
    v.iter().map(|p| p.destination_ssrc().len() as u64).sum()
}

fn bench(c: &mut Criterion) {
    let pkt = rtp_packet();
    let pkt_bytes = Bytes::from(pkt.clone());
    let map = ExtensionMap::webrtc_default();
    let compound = rtcp_compound();
    let compound_bytes = Bytes::from(compound.clone());
    // All three agree on what they parse.
    assert_eq!(
        webrtc_rtcp_parse(&compound_bytes),
        rtc_rtcp_parse(&compound_bytes)
    );
    assert_eq!(ours_rtcp::parse_compound(&compound).count(), 6);

    let mut g = c.benchmark_group("rtp");
    g.bench_function("rtcwire-rtp: RTP parse + 3 extensions", |b| {
        b.iter(|| ours_rtp(black_box(&pkt), &map))
    });
    g.bench_function("webrtc-rs rtp 0.17: RTP parse + 3 extensions", |b| {
        b.iter(|| webrtc_rtp(black_box(&pkt_bytes)))
    });
    g.bench_function("rtc-rtp 0.21: RTP parse + 3 extensions", |b| {
        b.iter(|| rtc_rtp(black_box(&pkt_bytes)))
    });
    g.bench_function("rtcwire-rtp: RTCP compound parse", |b| {
        b.iter(|| ours_rtcp_parse(black_box(&compound)))
    });
    g.bench_function("webrtc-rs rtcp 0.17: RTCP compound parse", |b| {
        b.iter(|| webrtc_rtcp_parse(black_box(&compound_bytes)))
    });
    g.bench_function("rtc-rtcp 0.21: RTCP compound parse", |b| {
        b.iter(|| rtc_rtcp_parse(black_box(&compound_bytes)))
    });
    g.finish();

    rtcwire_bench_support::ratios(
        "RTP parse + header-extension read",
        &mut [
            ("rtcwire-rtp", &mut || {
                black_box(ours_rtp(black_box(&pkt), &map));
            }),
            ("webrtc-rs rtp 0.17", &mut || {
                black_box(webrtc_rtp(black_box(&pkt_bytes)));
            }),
            ("rtc-rtp 0.21", &mut || {
                black_box(rtc_rtp(black_box(&pkt_bytes)));
            }),
        ],
    );
    rtcwire_bench_support::ratios(
        "RTCP compound parse (RR, SDES, NACK, PLI, REMB, TWCC)",
        &mut [
            ("rtcwire-rtp", &mut || {
                black_box(ours_rtcp_parse(black_box(&compound)));
            }),
            ("webrtc-rs rtcp 0.17", &mut || {
                black_box(webrtc_rtcp_parse(black_box(&compound_bytes)));
            }),
            ("rtc-rtcp 0.21", &mut || {
                black_box(rtc_rtcp_parse(black_box(&compound_bytes)));
            }),
        ],
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
