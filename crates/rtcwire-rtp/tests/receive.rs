//! Sequence unwrapping, timestamps, jitter (RFC 3550 A.8), receiver statistics, the
//! sender helper and the jitter buffer.
// `Instant::now()` only gives a base instant; the tests then advance time virtually.
#![allow(clippy::disallowed_methods)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use rtcwire_rtp::codec::{G711Packetizer, Vp8Packetizer};
use rtcwire_rtp::jitter::{JitterBuffer, Pushed};
use rtcwire_rtp::rtcp::{List, ReceiverReport, Rtcp};
use rtcwire_rtp::rtp::RtpPacket;
use rtcwire_rtp::sender::{MarkerRule, RtpSender, SenderConfig};
use rtcwire_rtp::seq::{
    from_q16, round_trip_time, seq_newer, to_q16, NtpTime, RtpClock, SeqUnwrapper,
    TimestampUnwrapper,
};
use rtcwire_rtp::stats::{Jitter, ReceiverStats};
use rtcwire_rtp::{PayloadType, Ssrc};
use std::time::{Duration, Instant};

proptest! {
    /// Walking forward and backward by less than half the space, the unwrapped value
    /// follows the true 64-bit position.
    #[test]
    fn seq_unwrap_tracks_the_true_position(start in 0u64..1_000_000, steps in prop::collection::vec(-1000i64..3000, 1..500)) {
        let mut u = SeqUnwrapper::default();
        let mut truth = start + 100_000;
        let first = u.unwrap(truth as u16);
        prop_assert_eq!(first % 65536, truth % 65536);
        let offset = truth - first;
        let mut highest = truth;
        for s in steps {
            let next = (truth as i64 + s) as u64;
            if highest - next.min(highest) >= 32768 {
                continue; // more than half the space behind the newest: ambiguous by design
            }
            truth = next;
            highest = highest.max(truth);
            prop_assert_eq!(u.unwrap(truth as u16) + offset, truth);
        }
    }

    #[test]
    fn timestamp_unwrap_crosses_wraps(start in any::<u32>(), steps in prop::collection::vec(0u32..0x4000_0000, 1..50)) {
        let mut u = TimestampUnwrapper::default();
        let first = u.unwrap(start);
        let mut truth = first;
        let mut ts = start;
        for s in steps {
            ts = ts.wrapping_add(s);
            truth += u64::from(s);
            prop_assert_eq!(u.unwrap(ts), truth);
        }
    }

    #[test]
    fn ntp_unix_round_trip(secs in 0u64..2_085_978_495, // NTP era 0 ends in 2036
                           nanos in 0u32..1_000_000_000) {
        let d = Duration::new(secs, nanos);
        let back = NtpTime::from_unix(d).to_unix();
        let diff = back.abs_diff(d);
        prop_assert!(diff < Duration::from_nanos(2));
    }
}

#[test]
fn serial_comparison_and_clock() {
    assert!(seq_newer(1, 65535));
    assert!(!seq_newer(65535, 1));
    assert!(!seq_newer(5, 5));
    let c = RtpClock::new(90_000);
    assert_eq!(c.ticks(Duration::from_millis(1000 / 30 + 1)), 3060);
    assert_eq!(c.duration(90_000), Duration::from_secs(1));
    assert_eq!(to_q16(Duration::from_millis(500)), 32768);
    assert_eq!(from_q16(65536), Duration::from_secs(1));
    // RTT per RFC 3550 §6.4.1's example: A=0xb710:8000, LSR=0xb705:2000, DLSR=0x0005:4000
    // → 0x0006:2000 = 6.125 s.
    assert_eq!(
        round_trip_time(0xb710_8000, 0xb705_2000, 0x0005_4000),
        Some(Duration::from_millis(6125))
    );
    assert_eq!(round_trip_time(1, 0, 0), None);
}

#[test]
fn jitter_is_zero_for_constant_transit_and_converges_to_the_deviation() {
    let mut j = Jitter::default();
    for i in 0..100u64 {
        j.update(1000 + i * 3000, (i * 3000) as u32);
    }
    assert_eq!(j.value(), 0);
    // Transit alternating between +100 and +0 ticks: |D| = 100 every packet; J → 100.
    let mut j = Jitter::default();
    for i in 0..1000u64 {
        let wobble = if i % 2 == 0 { 100 } else { 0 };
        j.update(i * 3000 + wobble, (i * 3000) as u32);
    }
    assert!((95..=100).contains(&j.value()), "{}", j.value());
}

#[test]
fn receiver_stats_count_loss_wrap_and_intervals() {
    let t0 = Instant::now();
    let mut s = ReceiverStats::new(Ssrc(42), 90_000);
    // 65530..=65535 then 0..=9 with 3 and 4 lost: crosses the wrap.
    let mut seqs: Vec<u16> = (65530..=65535).collect();
    seqs.extend((0..10).filter(|s| *s != 3 && *s != 4));
    for (i, seq) in seqs.iter().enumerate() {
        assert!(s.on_packet(
            t0 + Duration::from_millis(33 * i as u64),
            *seq,
            3000 * i as u32
        ));
    }
    let rb = s.report_block(t0 + Duration::from_secs(1));
    assert_eq!(rb.ssrc, Ssrc(42));
    assert_eq!(rb.extended_highest_seq, 65536 + 9);
    assert_eq!(rb.cumulative_lost, 2);
    assert_eq!(rb.fraction_lost, (2 * 256 / 16) as u8);
    // Next interval: no loss → fraction 0, cumulative unchanged.
    for i in 10..20u16 {
        s.on_packet(t0 + Duration::from_secs(2), i, 0);
    }
    let rb2 = s.report_block(t0 + Duration::from_secs(3));
    assert_eq!((rb2.fraction_lost, rb2.cumulative_lost), (0, 2));
    // LSR/DLSR after a sender report.
    let ntp = NtpTime(0x1234_5678_9abc_def0);
    s.on_sender_report(t0 + Duration::from_secs(3), ntp);
    let rb3 = s.report_block(t0 + Duration::from_millis(3500));
    assert_eq!((rb3.last_sr, rb3.delay_since_last_sr), (0x5678_9abc, 32768));
    // The block goes into an RR and back.
    let blocks = [rb3];
    let rr = Rtcp::ReceiverReport(ReceiverReport {
        ssrc: Ssrc(1),
        reports: List::Items(&blocks),
        profile_extension: &[],
    });
    let mut buf = [0u8; 64];
    let n = rr.emit(&mut buf).unwrap();
    assert_eq!(Rtcp::parse_bytes(&buf[..n]).unwrap(), rr);
}

#[test]
fn receiver_stats_restart_after_a_confirmed_jump() {
    let t0 = Instant::now();
    let mut s = ReceiverStats::new(Ssrc(1), 8000);
    for seq in 100..110u16 {
        s.on_packet(t0, seq, 0);
    }
    assert!(!s.on_packet(t0, 40_000, 0)); // huge jump: not counted yet
    assert!(s.on_packet(t0, 40_001, 0)); // confirmed: restart
    assert_eq!(s.expected(), 1);
    assert_eq!(s.lost(), 0);
}

#[test]
fn sender_sets_timestamps_markers_and_sequence() {
    let cfg = SenderConfig {
        ssrc: Ssrc(0x55),
        payload_type: PayloadType(96),
        clock_rate: 90_000,
        initial_seq: 65534,
        initial_timestamp: u32::MAX - 1000,
        max_packet_size: 200,
        marker: MarkerRule::EndOfFrame,
    };
    let mut s = RtpSender::new(Vp8Packetizer::with_picture_id(0), cfg);
    let mut pkts = Vec::new();
    for _ in 0..3 {
        s.send_frame(
            &[0x10; 500],
            Duration::from_nanos(33_333_333),
            None,
            &mut |p| pkts.push(p.to_vec()),
        )
        .unwrap();
    }
    let parsed: Vec<_> = pkts
        .iter()
        .map(|p| {
            let p = RtpPacket::new_checked(&p[..]).unwrap();
            assert!(p.as_bytes().len() <= 200);
            (p.sequence_number(), p.timestamp(), p.marker(), p.ssrc())
        })
        .collect();
    let per_frame = parsed.len() / 3;
    assert_eq!(parsed[0].0, 65534);
    assert_eq!(parsed[2].0, 0); // wrapped
    for (i, (_, ts, m, ssrc)) in parsed.iter().enumerate() {
        let frame = (i / per_frame) as u32;
        // 33.333 ms at 90 kHz: 2999.99 → 2999, then 5999 (no drift: computed from the total).
        let want = (u32::MAX - 1000).wrapping_add([0, 2999, 5999][frame as usize]);
        assert_eq!(*ts, want);
        assert_eq!(*m, i % per_frame == per_frame - 1);
        assert_eq!(*ssrc, Ssrc(0x55));
    }
    assert_eq!(s.packet_count() as usize, parsed.len());
    assert_eq!(
        s.octet_count() as usize,
        pkts.iter().map(|p| p.len() - 12).sum::<usize>()
    );
    // Audio: marker only on the first packet of a talkspurt.
    let mut a = RtpSender::new(
        G711Packetizer,
        SenderConfig {
            clock_rate: 8000,
            marker: MarkerRule::TalkspurtStart,
            ..cfg
        },
    );
    let mut marks = Vec::new();
    for i in 0..4 {
        if i == 2 {
            a.start_talkspurt();
        }
        a.send_frame(&[0xff; 160], Duration::from_millis(20), None, &mut |p| {
            marks.push(RtpPacket::new_checked(p).unwrap().marker())
        })
        .unwrap();
    }
    assert_eq!(marks, [true, false, true, false]);
}

#[test]
fn jitter_buffer_reorders_skips_lost_and_rejects_late() {
    let t0 = Instant::now();
    let mut jb = JitterBuffer::new(3);
    assert_eq!(jb.push(t0, 10, "a"), Pushed::Stored);
    assert_eq!(jb.pop(t0), Some((10, "a")));
    // 11 is missing: 12, 13, 14 wait (depth 3 not exceeded).
    for (s, v) in [(12, "c"), (13, "d"), (14, "e")] {
        jb.push(t0, s, v);
    }
    assert_eq!(jb.pop(t0), None);
    assert_eq!(jb.push(t0, 13, "dup"), Pushed::Duplicate);
    // A fourth waiting packet exceeds the depth: 11 is declared lost.
    jb.push(t0, 15, "f");
    let out: Vec<_> = std::iter::from_fn(|| jb.pop(t0)).map(|(s, _)| s).collect();
    assert_eq!(out, [12, 13, 14, 15]);
    assert_eq!(jb.lost(), 1);
    assert_eq!(jb.push(t0, 11, "late"), Pushed::TooLate);
    // With a time limit, a gap is given up once the oldest waiter has waited long enough.
    let mut jb = JitterBuffer::new(100).with_max_delay(Duration::from_millis(50));
    jb.push(t0, 65535, 1);
    assert_eq!(jb.pop(t0), Some((65535, 1)));
    jb.push(t0, 1, 3); // 0 missing, across the wrap
    assert_eq!(jb.pop(t0 + Duration::from_millis(10)), None);
    assert_eq!(jb.pop(t0 + Duration::from_millis(60)), Some((1, 3)));
    // A jump past the span restarts.
    let far = 1u16.wrapping_add(30_000);
    assert_eq!(jb.push(t0, far, 9), Pushed::Restarted);
    assert_eq!(jb.pop(t0), Some((far, 9)));
}

proptest! {
    /// Any permutation within the depth comes out in order with nothing lost.
    #[test]
    fn jitter_buffer_restores_order(start in any::<u16>(), jitter in prop::collection::vec(0usize..4, 200)) {
        // Each packet is displaced by at most 3 places (sorting by index + jitter); the first
        // is released at once, so it stays first.
        let mut order: Vec<usize> = (1..200).collect();
        order.sort_by_key(|&i| i + jitter[i]);
        order.insert(0, 0);
        let seqs: Vec<u16> = order.iter().map(|&i| start.wrapping_add(i as u16)).collect();
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(8);
        let mut out = Vec::new();
        for s in &seqs {
            jb.push(t0, *s, ());
            while let Some((s, ())) = jb.pop(t0) {
                out.push(s);
            }
        }
        let want: Vec<u16> = (0..200u16).map(|i| start.wrapping_add(i)).collect();
        prop_assert_eq!(out, want);
        prop_assert_eq!(jb.lost(), 0);
    }

    /// `len()` always equals what can still be taken out: any mix of pushes (duplicates,
    /// late packets, jumps that restart the buffer) and pops, then a drain that gives up on
    /// every gap, takes out exactly `len()` packets and leaves the buffer empty.
    #[test]
    fn jitter_buffer_len_matches_what_it_holds(
        ops in prop::collection::vec((any::<bool>(), 0u16..3000), 1..300),
        depth in 1usize..8,
    ) {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(depth).with_max_delay(Duration::from_millis(50));
        let mut stored = 0usize;
        for (push, seq) in ops {
            if push {
                match jb.push(t0, seq, seq) {
                    Pushed::Stored => stored += 1,
                    Pushed::Restarted => stored = 1,
                    Pushed::Duplicate | Pushed::TooLate => {}
                }
            } else if jb.pop(t0).is_some() {
                stored -= 1;
            }
            prop_assert_eq!(jb.len(), stored);
        }
        let later = t0 + Duration::from_secs(1);
        let drained = std::iter::from_fn(|| jb.pop(later)).count();
        prop_assert_eq!(drained, stored);
        prop_assert!(jb.is_empty());
    }
}

#[test]
fn sender_writes_per_packet_transport_wide_sequence_numbers() {
    use rtcwire_rtp::rtp::{ExtensionKind, ExtensionMap, HeaderExtensions};
    let map = ExtensionMap::webrtc_default();
    let cfg = SenderConfig {
        ssrc: Ssrc(9),
        payload_type: PayloadType(96),
        clock_rate: 90_000,
        initial_seq: 0,
        initial_timestamp: 0,
        max_packet_size: 300,
        marker: MarkerRule::EndOfFrame,
    };
    let mut s = RtpSender::new(Vp8Packetizer::with_picture_id(0), cfg);
    let mut twcc = 1000u16;
    let mut got = Vec::new();
    s.send_frame_with_extensions(
        &[0x10; 1000],
        Duration::from_millis(33),
        8,
        &mut |_seq, b| {
            let id = map.id(ExtensionKind::TransportCc).unwrap();
            b.push(id, &twcc.to_be_bytes())?;
            twcc += 1;
            Ok(())
        },
        &mut |p| {
            let p = RtpPacket::new_checked(p).unwrap();
            assert!(p.as_bytes().len() <= 300);
            let e: HeaderExtensions<'_> = HeaderExtensions::parse(p.extensions(), &map).unwrap();
            got.push((p.sequence_number(), e.transport_cc.unwrap()));
        },
    )
    .unwrap();
    assert!(got.len() >= 4);
    for (i, (seq, tcc)) in got.iter().enumerate() {
        assert_eq!((*seq as usize, *tcc as usize), (i, 1000 + i));
    }
    // A block larger than the reserved room is refused, not silently cut.
    let r = s.send_frame_with_extensions(
        &[0x10; 10],
        Duration::ZERO,
        4,
        &mut |_, b| b.push(1, &[0; 10]),
        &mut |_| {},
    );
    assert!(r.is_err());
}

#[test]
fn probation_counts_a_source_only_after_sequential_packets() {
    let t0 = Instant::now();
    // RFC 3550 A.1 with MIN_SEQUENTIAL = 2: the second in-sequence packet validates.
    let mut s = ReceiverStats::new(Ssrc(1), 8000).with_probation(2);
    assert!(!s.on_packet(t0, 100, 0));
    assert!(!s.on_packet(t0, 500, 0)); // out of sequence: probation restarts at 500
    assert!(s.on_packet(t0, 501, 0));
    assert!(s.on_packet(t0, 502, 0));
    assert_eq!((s.expected(), s.received(), s.lost()), (2, 2, 0));
}

#[test]
fn jitter_follows_the_rfc_3550_a8_recursion() {
    // Arrivals (in ticks) and timestamps chosen so D = 10, 30, 0, 20: J_i = J + (|D| - J)/16.
    let arrivals = [100u64, 210, 340, 440, 560];
    let stamps = [0u32, 100, 200, 300, 400];
    let mut j = Jitter::default();
    let mut want = 0f64;
    let mut last_transit: Option<i64> = None;
    for (a, t) in arrivals.iter().zip(stamps) {
        j.update(*a, t);
        let transit = *a as i64 - i64::from(t);
        if let Some(l) = last_transit {
            want += ((transit - l).abs() as f64 - want) / 16.0;
        }
        last_transit = Some(transit);
        assert_eq!(j.value(), want as u32);
    }
    // 10/16 = 0.625; +(30-0.625)/16 = 2.46; +(0-2.46)/16 = 2.31; +(20-2.31)/16 = 3.41
    assert_eq!(j.value(), 3);
}

#[test]
fn sender_report_pairs_ntp_with_media_time() {
    let cfg = SenderConfig {
        ssrc: Ssrc(5),
        payload_type: PayloadType(111),
        clock_rate: 48_000,
        initial_seq: 0,
        initial_timestamp: 1000,
        max_packet_size: 1200,
        marker: MarkerRule::TalkspurtStart,
    };
    let mut s = RtpSender::new(rtcwire_rtp::codec::OpusPacketizer, cfg);
    for _ in 0..50 {
        s.send_frame(&[0xfc; 40], Duration::from_millis(20), None, &mut |_| {})
            .unwrap();
    }
    let ntp = NtpTime::from_unix(Duration::from_secs(1_700_000_000));
    let sr = s.sender_report(ntp, Duration::from_secs(1), List::Items(&[]));
    assert_eq!(
        (sr.ssrc, sr.rtp_time, sr.packet_count, sr.octet_count),
        (Ssrc(5), 49_000, 50, 2000)
    );
    assert_eq!(sr.ntp_time, ntp.0);
}
