//! Audio and video between two rtcwire sessions on an rtcwire-sim link: negotiation,
//! frames both ways under loss and jitter with NACK/RTX repair, keyframe requests,
//! renegotiation adding a track, a data channel beside the media, replay by seed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::time::Duration;

use common::{Duo, Signaling};
use rtcwire::{
    Codec, DataChannelInit, Direction, Event, KeyframeKind, MediaFrame, MediaKind, Payload,
    TransceiverId,
};
use rtcwire_sim::{LinkConfig, Loss};

fn lan() -> LinkConfig {
    LinkConfig::with_delay(Duration::from_millis(10))
}

fn lossy() -> LinkConfig {
    LinkConfig::with_delay(Duration::from_millis(20))
        .jitter(Duration::from_millis(5))
        .loss(Loss::Random(0.05))
}

/// A deterministic fake encoded frame: a VP8-looking keyframe bit, a header naming it,
/// then filler.
fn video_frame(n: u32, keyframe: bool, size: usize) -> Vec<u8> {
    let mut f = vec![0u8; size];
    f[0] = if keyframe { 0x10 } else { 0x11 };
    f[1..5].copy_from_slice(&n.to_be_bytes());
    for (i, b) in f.iter_mut().enumerate().skip(5) {
        *b = (i as u32).wrapping_mul(31).wrapping_add(n) as u8;
    }
    f
}

fn audio_frame(n: u32) -> Vec<u8> {
    let mut f = vec![0xfcu8; 60];
    f[1..5].copy_from_slice(&n.to_be_bytes());
    f
}

fn frames(duo: &Duo, side_a: bool, t: TransceiverId) -> Vec<MediaFrame> {
    duo.log(side_a)
        .iter()
        .filter_map(|e| match e {
            Event::MediaFrame(f) if f.transceiver == t => Some(f.clone()),
            _ => None,
        })
        .collect()
}

struct Sending {
    audio: TransceiverId,
    video: TransceiverId,
    audio_pt: u8,
    video_pt: u8,
}

fn sending(duo: &Duo, side_a: bool, audio: TransceiverId, video: TransceiverId) -> Sending {
    let h = if side_a { duo.a } else { duo.b };
    let pc = duo.sim.endpoint(h);
    Sending {
        audio,
        video,
        audio_pt: pc.payload_type(audio, Codec::Opus).unwrap(),
        video_pt: pc.payload_type(video, Codec::Vp8).unwrap(),
    }
}

/// Sends `seconds` of 50 audio and 30 video frames a second from both sides.
fn stream(duo: &mut Duo, a: &Sending, b: &Sending, seconds: u32) -> (u32, u32) {
    let (mut audio_n, mut video_n) = (0u32, 0u32);
    let ticks = seconds * 1000 / 10;
    for tick in 0..ticks {
        let ms = tick * 10;
        if ms % 20 == 0 {
            for (side, s) in [(true, a), (false, b)] {
                duo.with(side, |pc| {
                    pc.write_frame(s.audio, s.audio_pt, audio_n * 960, &audio_frame(audio_n))
                        .unwrap()
                });
            }
            audio_n += 1;
        }
        if ms % 30 == 0 {
            let key = video_n % 30 == 0;
            let size = if key {
                9000
            } else {
                2500 + (video_n as usize % 7) * 300
            };
            for (side, s) in [(true, a), (false, b)] {
                duo.with(side, |pc| {
                    pc.write_frame(
                        s.video,
                        s.video_pt,
                        video_n * 3000,
                        &video_frame(video_n, key, size),
                    )
                    .unwrap()
                });
            }
            video_n += 1;
        }
        let _ = duo.run_until(Duration::from_millis(10), |_| false);
    }
    // Let the last NACKs and retransmissions land.
    let _ = duo.run_until(Duration::from_secs(2), |_| false);
    (audio_n, video_n)
}

fn check_video(duo: &Duo, side_a: bool, t: TransceiverId, sent: u32) {
    let got = frames(duo, side_a, t);
    let numbers: Vec<u32> = got
        .iter()
        .map(|f| u32::from_be_bytes(f.data[1..5].try_into().unwrap()))
        .collect();
    let missing: Vec<u32> = (0..sent).filter(|n| !numbers.contains(n)).collect();
    assert!(
        missing.is_empty(),
        "video frames never completed: {missing:?}"
    );
    for f in &got {
        let n = u32::from_be_bytes(f.data[1..5].try_into().unwrap());
        let key = n % 30 == 0;
        let size = if key {
            9000
        } else {
            2500 + (n as usize % 7) * 300
        };
        assert_eq!(f.data, video_frame(n, key, size), "frame {n} intact");
        assert_eq!(f.keyframe, key, "frame {n} keyframe flag");
        assert_eq!(f.rtp_timestamp, n * 3000);
        assert_eq!(f.codec, Codec::Vp8);
    }
}

fn av_session(seed: u64, link: LinkConfig) -> (Duo, Sending, Sending) {
    let mut duo = Duo::new(seed, link, Signaling::Trickle);
    let (aa, av) = duo.with(true, |pc| {
        (
            pc.add_track(MediaKind::Audio, &["a-stream"]).unwrap(),
            pc.add_track(MediaKind::Video, &["a-stream"]).unwrap(),
        )
    });
    duo.negotiate_media(&[MediaKind::Audio, MediaKind::Video]);
    duo.connected();
    let (ba, bv) = (
        duo.track(false, MediaKind::Audio),
        duo.track(false, MediaKind::Video),
    );
    for (side, t) in [(true, aa), (true, av), (false, ba), (false, bv)] {
        let h = if side { duo.a } else { duo.b };
        assert_eq!(
            duo.sim.endpoint(h).current_direction(t),
            Some(Direction::SendRecv)
        );
    }
    let a = sending(&duo, true, aa, av);
    let b = sending(&duo, false, ba, bv);
    (duo, a, b)
}

#[test]
fn audio_and_video_flow_both_ways_on_a_clean_link() {
    let (mut duo, a, b) = av_session(31, lan());
    // ontrack on A too, for B's tracks (the answer says B sends).
    assert_eq!(duo.track(true, MediaKind::Video), a.video);
    let (audio_sent, video_sent) = stream(&mut duo, &a, &b, 3);
    for (side, s) in [(false, &b), (true, &a)] {
        check_video(&duo, side, s.video, video_sent);
        let audio = frames(&duo, side, s.audio);
        assert_eq!(audio.len() as u32, audio_sent, "every audio frame");
        assert!(audio.iter().all(|f| f.codec == Codec::Opus && f.keyframe));
    }
    let report = duo.sim.endpoint(duo.b).get_stats();
    let inbound = report
        .inbound_rtp
        .iter()
        .find(|s| s.transceiver == b.video)
        .unwrap();
    assert_eq!(inbound.frames_received, u64::from(video_sent));
    assert_eq!(inbound.packets_lost, 0);
    assert_eq!(
        inbound.keyframes_received,
        u64::from(video_sent.div_ceil(30))
    );
    let out = report
        .outbound_rtp
        .iter()
        .find(|s| s.transceiver == b.audio)
        .unwrap();
    assert_eq!(out.frames_sent, u64::from(audio_sent));
    // Reports went both ways: A's sender reports let B's receiver reports carry LSR.
    let a_out = duo.sim.endpoint(duo.a).get_stats();
    let v = a_out
        .outbound_rtp
        .iter()
        .find(|s| s.transceiver == a.video)
        .unwrap();
    assert!(v.round_trip_time.is_some(), "RTT from RR: {v:?}");
    for h in [duo.a, duo.b] {
        let stats = duo.sim.endpoint(h).stats();
        assert_eq!(stats.refused_datagrams, 0);
        assert_eq!(stats.dropped_media_packets, 0);
        // transport-cc was negotiated: feedback went both ways.
        assert!(
            stats.twcc_feedback_sent > 10 && stats.twcc_feedback_received > 10,
            "{stats:?}"
        );
    }
}

#[test]
fn nack_repairs_every_lost_video_packet_under_loss_and_jitter() {
    let (mut duo, a, b) = av_session(32, lossy());
    let (audio_sent, video_sent) = stream(&mut duo, &a, &b, 6);
    for (side, s, peer) in [(false, &b, &a), (true, &a, &b)] {
        check_video(&duo, side, s.video, video_sent);
        // Audio has no NACK: about 5 % is gone, the rest arrives.
        let audio = frames(&duo, side, s.audio).len() as u32;
        assert!(
            audio > audio_sent * 85 / 100 && audio < audio_sent,
            "audio {audio} of {audio_sent}"
        );
        let h = if side { duo.a } else { duo.b };
        let stats = duo.sim.endpoint(h).get_stats();
        let inbound = stats
            .inbound_rtp
            .iter()
            .find(|x| x.transceiver == s.video)
            .unwrap();
        assert!(
            inbound.nack_count > 0 && inbound.packets_repaired > 0,
            "{inbound:?}"
        );
        assert!(
            inbound.retransmitted_packets_received > 0,
            "RTX used: {inbound:?}"
        );
        let ph = if side { duo.b } else { duo.a };
        let out = duo.sim.endpoint(ph).get_stats();
        let o = out
            .outbound_rtp
            .iter()
            .find(|x| x.transceiver == peer.video)
            .unwrap();
        assert!(
            o.retransmitted_packets_sent >= inbound.packets_repaired,
            "{o:?}"
        );
        println!(
            "{}: {} video frames, {} NACKs, {} packets repaired, {} retransmitted",
            if side { "A" } else { "B" },
            video_sent,
            inbound.nack_count,
            inbound.packets_repaired,
            o.retransmitted_packets_sent
        );
    }
}

#[test]
fn a_pli_is_answered_with_a_keyframe() {
    let (mut duo, a, b) = av_session(33, lan());
    // A sends one keyframe then delta frames.
    for n in 0..3u32 {
        duo.with(true, |pc| {
            pc.write_frame(a.video, a.video_pt, n * 3000, &video_frame(n, n == 0, 2000))
                .unwrap()
        });
        let _ = duo.run_until(Duration::from_millis(30), |_| false);
    }
    assert_eq!(frames(&duo, false, b.video).len(), 3);
    duo.with(false, |pc| pc.request_keyframe(b.video).unwrap());
    let ok = duo.run_until(Duration::from_secs(2), |d| {
        d.log(true).iter().any(|e| {
            matches!(e, Event::KeyframeRequest { transceiver, kind: KeyframeKind::Pli }
                if *transceiver == a.video)
        })
    });
    assert!(ok, "A heard the PLI\n{}", duo.sim.report());
    duo.with(true, |pc| {
        pc.write_frame(a.video, a.video_pt, 3 * 3000, &video_frame(3, true, 6000))
            .unwrap()
    });
    let ok = duo.run_until(Duration::from_secs(1), |d| {
        frames(d, false, b.video)
            .iter()
            .any(|f| f.keyframe && f.rtp_timestamp == 9000)
    });
    assert!(ok, "keyframe after the PLI");
    let a_stats = duo.sim.endpoint(duo.a).get_stats();
    let o = a_stats
        .outbound_rtp
        .iter()
        .find(|s| s.transceiver == a.video)
        .unwrap();
    assert_eq!(o.pli_count, 1);
    let b_stats = duo.sim.endpoint(duo.b).get_stats();
    let i = b_stats
        .inbound_rtp
        .iter()
        .find(|s| s.transceiver == b.video)
        .unwrap();
    assert_eq!(i.pli_count, 1);
    let _ = b;
}

#[test]
fn renegotiation_adds_a_video_track_mid_session() {
    let mut duo = Duo::new(34, lan(), Signaling::Trickle);
    let aa = duo.with(true, |pc| pc.add_track(MediaKind::Audio, &["s"]).unwrap());
    duo.negotiate_media(&[]);
    duo.connected();
    let ba = duo.track(false, MediaKind::Audio);
    assert_eq!(
        duo.sim.endpoint(duo.b).current_direction(ba),
        Some(Direction::RecvOnly)
    );
    let pt = duo
        .sim
        .endpoint(duo.a)
        .payload_type(aa, Codec::Opus)
        .unwrap();
    duo.with(true, |pc| {
        pc.write_frame(aa, pt, 0, &audio_frame(0)).unwrap()
    });
    let ok = duo.run_until(Duration::from_secs(1), |d| !frames(d, false, ba).is_empty());
    assert!(ok);

    // A adds video: negotiationneeded, a new offer with a third m-line... an offer with
    // the old audio section first and the new video one after it.
    let needed = |d: &Duo| {
        d.log(true)
            .iter()
            .filter(|e| matches!(e, Event::NegotiationNeeded))
            .count()
    };
    let before = needed(&duo);
    let av = duo.with(true, |pc| pc.add_track(MediaKind::Video, &["s"]).unwrap());
    let _ = duo.run_until(Duration::from_millis(10), |_| false);
    assert_eq!(needed(&duo), before + 1, "negotiationneeded");
    duo.renegotiate(true);
    let _ = duo.run_until(Duration::from_millis(10), |_| false);
    let offer = duo.local_sdp(true);
    let sdp = rtcwire_sdp::Sdp::parse(&offer).unwrap();
    assert_eq!(sdp.media_count(), 2, "{offer}");
    assert_eq!(
        sdp.media_at(0).unwrap().kind(),
        rtcwire_sdp::MediaKind::Audio
    );
    assert_eq!(
        sdp.media_at(1).unwrap().kind(),
        rtcwire_sdp::MediaKind::Video
    );
    let bv = duo.track(false, MediaKind::Video);
    let vpt = duo
        .sim
        .endpoint(duo.a)
        .payload_type(av, Codec::Vp8)
        .unwrap();
    for n in 0..5u32 {
        duo.with(true, |pc| {
            pc.write_frame(av, vpt, n * 3000, &video_frame(n, n == 0, 4000))
                .unwrap()
        });
        let _ = duo.run_until(Duration::from_millis(33), |_| false);
    }
    let _ = duo.run_until(Duration::from_millis(200), |_| false);
    assert_eq!(frames(&duo, false, bv).len(), 5);
    // The audio kept flowing on the same transport (no new DTLS).
    duo.with(true, |pc| {
        pc.write_frame(aa, pt, 960, &audio_frame(1)).unwrap()
    });
    let ok = duo.run_until(Duration::from_secs(1), |d| frames(d, false, ba).len() == 2);
    assert!(ok);
}

#[test]
fn a_data_channel_works_alongside_media() {
    let mut duo = Duo::new(35, lan(), Signaling::Trickle);
    let (aa, av) = duo.with(true, |pc| {
        (
            pc.add_track(MediaKind::Audio, &["s"]).unwrap(),
            pc.add_track(MediaKind::Video, &["s"]).unwrap(),
        )
    });
    let ca = duo.with(true, |pc| {
        pc.create_data_channel("chat", DataChannelInit::default())
            .unwrap()
    });
    duo.negotiate_media(&[MediaKind::Audio, MediaKind::Video]);
    let ok = duo.run_until(Duration::from_secs(30), |d| {
        d.opened(true).contains(&ca) && !d.opened(false).is_empty()
    });
    assert!(ok, "{}", duo.sim.report());
    let cb = duo.opened(false)[0];
    let offer = duo.local_sdp(true);
    let sdp = rtcwire_sdp::Sdp::parse(&offer).unwrap();
    assert_eq!(sdp.media_count(), 3);
    assert_eq!(sdp.session().bundle().unwrap().mids.len(), 3);
    let (ba, bv) = (
        duo.track(false, MediaKind::Audio),
        duo.track(false, MediaKind::Video),
    );
    let a = sending(&duo, true, aa, av);
    let b = sending(&duo, false, ba, bv);
    duo.with(true, |pc| pc.send_text(ca, "beside the media").unwrap());
    let (_, video_sent) = stream(&mut duo, &a, &b, 1);
    check_video(&duo, false, bv, video_sent);
    assert_eq!(
        duo.messages(false, cb),
        vec![Payload::Text("beside the media".into())]
    );
}

fn media_trace(seed: u64) -> String {
    let (mut duo, a, b) = av_session(seed, lossy());
    let _ = stream(&mut duo, &a, &b, 1);
    duo.sim.trace_text()
}

#[test]
fn same_seed_same_media_trace() {
    let first = media_trace(36);
    assert!(!first.is_empty());
    assert!(first == media_trace(36), "two runs with seed 36 differ");
    assert!(first != media_trace(37), "another seed, another run");
}

#[test]
fn a_stopped_transceiver_gets_port_zero_and_stops_flowing() {
    let (mut duo, a, b) = av_session(38, lan());
    duo.with(true, |pc| pc.stop_transceiver(a.video).unwrap());
    duo.renegotiate(true);
    let _ = duo.run_until(Duration::from_millis(50), |_| false);
    let offer = duo.local_sdp(true);
    let sdp = rtcwire_sdp::Sdp::parse(&offer).unwrap();
    let mid = duo
        .sim
        .endpoint(duo.a)
        .transceiver_mid(a.video)
        .unwrap()
        .to_owned();
    assert_eq!(sdp.media_by_mid(&mid).unwrap().port(), 0, "{offer}");
    assert!(!sdp
        .session()
        .bundle()
        .unwrap()
        .mids
        .iter()
        .any(|m| *m == mid));
    assert_eq!(duo.sim.endpoint(duo.a).current_direction(a.video), None);
    assert_eq!(duo.sim.endpoint(duo.b).current_direction(b.video), None);
    let err = duo.with(true, |pc| {
        pc.write_frame(a.video, a.video_pt, 0, &[0x10; 100])
    });
    assert!(matches!(err, Err(rtcwire::Error::NotSending(_))), "{err:?}");
    // Audio is untouched.
    duo.with(true, |pc| {
        pc.write_frame(a.audio, a.audio_pt, 0, &audio_frame(0))
            .unwrap()
    });
    let ok = duo.run_until(Duration::from_secs(1), |d| {
        frames(d, false, b.audio).len() == 1
    });
    assert!(ok);
}

#[test]
fn the_answerer_offers_back_a_track_of_its_own() {
    let mut duo = Duo::new(39, lan(), Signaling::Trickle);
    let aa = duo.with(true, |pc| pc.add_track(MediaKind::Audio, &["s"]).unwrap());
    duo.negotiate_media(&[]);
    duo.connected();
    let bv = duo.with(false, |pc| pc.add_track(MediaKind::Video, &["b"]).unwrap());
    duo.renegotiate(false);
    let _ = duo.run_until(Duration::from_millis(20), |_| false);
    let av = duo.track(true, MediaKind::Video);
    assert_eq!(
        duo.sim.endpoint(duo.a).current_direction(av),
        Some(Direction::RecvOnly)
    );
    assert_eq!(
        duo.sim.endpoint(duo.b).current_direction(bv),
        Some(Direction::SendOnly)
    );
    // B's offer kept A's audio section first.
    let offer = duo.local_sdp(false);
    let sdp = rtcwire_sdp::Sdp::parse(&offer).unwrap();
    assert_eq!(
        sdp.media_at(0).unwrap().kind(),
        rtcwire_sdp::MediaKind::Audio
    );
    assert_eq!(
        sdp.media_at(0).unwrap().mid(),
        duo.sim.endpoint(duo.a).transceiver_mid(aa)
    );
    let pt = duo
        .sim
        .endpoint(duo.b)
        .payload_type(bv, Codec::Vp8)
        .unwrap();
    duo.with(false, |pc| {
        pc.write_frame(bv, pt, 0, &video_frame(0, true, 5000))
            .unwrap()
    });
    let ok = duo.run_until(Duration::from_secs(1), |d| frames(d, true, av).len() == 1);
    assert!(ok, "{}", duo.sim.report());
    assert_eq!(frames(&duo, true, av)[0].data, video_frame(0, true, 5000));
}

#[test]
fn write_rtp_sends_prepared_packets_with_our_ssrc() {
    let (mut duo, a, b) = av_session(40, lan());
    let ssrc = duo.sim.endpoint(duo.a).send_ssrc(a.audio).unwrap();
    for seq in 0..5u16 {
        let payload = audio_frame(u32::from(seq));
        let mut p = vec![0x80, a.audio_pt, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        p[2..4].copy_from_slice(&(1000 + seq).to_be_bytes());
        p[4..8].copy_from_slice(&(u32::from(seq) * 960).to_be_bytes());
        p[8..12].copy_from_slice(&0xdead_beefu32.to_be_bytes()); // replaced by ours
        p.extend_from_slice(&payload);
        duo.with(true, |pc| pc.write_rtp(a.audio, &p).unwrap());
    }
    let ok = duo.run_until(Duration::from_secs(1), |d| {
        frames(d, false, b.audio).len() == 5
    });
    assert!(ok, "{}", duo.sim.report());
    let got = frames(&duo, false, b.audio);
    assert!(got.iter().all(|f| f.ssrc == ssrc));
    assert_eq!(got[4].data, audio_frame(4));
    assert_eq!(got[4].rtp_timestamp, 4 * 960);
    // A payload type the transceiver did not negotiate is refused.
    let bad = [0x80, 7, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let err = duo.with(true, |pc| pc.write_rtp(a.audio, &bad));
    assert!(
        matches!(err, Err(rtcwire::Error::UnknownPayloadType(7))),
        "{err:?}"
    );
}

/// A frame in each video codec's own format: VP8 and VP9 payloads, H.264 Annex B (SPS,
/// then an IDR slice, bodies without zero bytes), AV1 low-overhead OBUs (temporal
/// delimiter, then a frame OBU with its size).
fn codec_frame(codec: Codec, n: u8) -> Vec<u8> {
    let body = |len: usize| -> Vec<u8> { (0..len).map(|i| 1 + ((i as u8) ^ n) % 250).collect() };
    match codec {
        Codec::Vp8 => video_frame(u32::from(n), true, 4000),
        Codec::Vp9 => body(4000),
        Codec::H264 => {
            let mut f = vec![0, 0, 0, 1, 0x67];
            f.extend(body(20));
            f.extend([0, 0, 0, 1, 0x65, 0x88]);
            f.extend(body(4000));
            f
        }
        Codec::Av1 => {
            let payload = body(3000);
            let mut f = vec![0x12, 0x00, 6 << 3 | 0x02];
            let mut len = payload.len();
            loop {
                let b = (len & 0x7f) as u8;
                len >>= 7;
                if len == 0 {
                    f.push(b);
                    break;
                }
                f.push(b | 0x80);
            }
            f.extend(payload);
            f
        }
        _ => body(160),
    }
}

#[test]
fn every_negotiated_codec_carries_frames_end_to_end() {
    let (mut duo, a, b) = av_session(41, lan());
    let mut ts = 0;
    for (t_a, t_b, codec) in [
        (a.video, b.video, Codec::Vp8),
        (a.video, b.video, Codec::Vp9),
        (a.video, b.video, Codec::H264),
        (a.video, b.video, Codec::Av1),
        (a.audio, b.audio, Codec::Opus),
        (a.audio, b.audio, Codec::Pcmu),
        (a.audio, b.audio, Codec::Pcma),
    ] {
        let pt = duo
            .sim
            .endpoint(duo.a)
            .payload_type(t_a, codec)
            .unwrap_or_else(|| panic!("{codec:?} negotiated"));
        let before = frames(&duo, false, t_b).len();
        let frame = codec_frame(codec, pt);
        ts += 3000;
        duo.with(true, |pc| pc.write_frame(t_a, pt, ts, &frame).unwrap());
        let ok = duo.run_until(Duration::from_secs(1), |d| {
            frames(d, false, t_b).len() > before
        });
        assert!(ok, "{codec:?} frame arrived\n{}", duo.sim.report());
        let got = frames(&duo, false, t_b).pop().unwrap();
        assert_eq!((got.codec, got.payload_type), (codec, pt));
        assert_eq!(got.data, frame, "{codec:?} frame intact");
        if codec == Codec::H264 || codec == Codec::Vp8 {
            assert!(got.keyframe, "{codec:?} keyframe");
        }
    }
}

#[test]
fn a_receiver_without_a_keyframe_asks_for_one_by_itself() {
    let (mut duo, a, b) = av_session(42, lan());
    // Delta frames only: B cannot decode them and asks (PLI), at most every 500 ms.
    for n in 0..30u32 {
        duo.with(true, |pc| {
            pc.write_frame(a.video, a.video_pt, n * 3000, &video_frame(n, false, 3000))
                .unwrap()
        });
        let _ = duo.run_until(Duration::from_millis(33), |_| false);
    }
    let requests = |d: &Duo| {
        d.log(true)
            .iter()
            .filter(|e| matches!(e, Event::KeyframeRequest { transceiver, .. } if *transceiver == a.video))
            .count()
    };
    assert!(
        (2..=3).contains(&requests(&duo)),
        "{} requests in 1 s",
        requests(&duo)
    );
    // A keyframe ends the requests.
    duo.with(true, |pc| {
        pc.write_frame(a.video, a.video_pt, 30 * 3000, &video_frame(30, true, 6000))
            .unwrap()
    });
    let _ = duo.run_until(Duration::from_millis(100), |_| false);
    let after = requests(&duo);
    for n in 31..60u32 {
        duo.with(true, |pc| {
            pc.write_frame(a.video, a.video_pt, n * 3000, &video_frame(n, false, 3000))
                .unwrap()
        });
        let _ = duo.run_until(Duration::from_millis(33), |_| false);
    }
    assert_eq!(requests(&duo), after, "no request once a keyframe came");
    assert_eq!(frames(&duo, false, b.video).len(), 60);
}

#[test]
fn stopping_every_transceiver_of_a_media_only_session_renegotiates_cleanly() {
    use rtcwire::SignalingState;
    let (mut duo, a, _b) = av_session(40, lan());
    duo.with(true, |pc| {
        pc.stop_transceiver(a.video).unwrap();
        pc.stop_transceiver(a.audio).unwrap();
    });
    // Every section gets port 0 and the offer has no BUNDLE group left: the answer is
    // taken (no "certificate changed": a description with no transport carries no
    // fingerprint to compare).
    duo.renegotiate(true);
    let offer = duo.local_sdp(true);
    let sdp = rtcwire_sdp::Sdp::parse(&offer).unwrap();
    assert!(sdp.media().all(|m| m.port() == 0), "{offer}");
    for side_a in [true, false] {
        assert_eq!(
            duo.sim
                .endpoint(if side_a { duo.a } else { duo.b })
                .signaling_state(),
            SignalingState::Stable
        );
    }
    assert_eq!(duo.sim.endpoint(duo.a).current_direction(a.audio), None);
    // And the session still negotiates afterwards: a new track gets a fresh section.
    let a2 = duo.with(true, |pc| pc.add_track(MediaKind::Audio, &["s2"]).unwrap());
    duo.renegotiate(true);
    assert_eq!(
        duo.sim.endpoint(duo.a).current_direction(a2),
        Some(rtcwire::Direction::SendOnly)
    );
    // ... over the same transport, which stayed up: its frames reach B.
    let _ = duo.run_until(Duration::from_millis(10), |_| false);
    let at_b = duo
        .log(false)
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::Track { transceiver, .. } => Some(*transceiver),
            _ => None,
        })
        .unwrap();
    let pt = duo
        .sim
        .endpoint(duo.a)
        .payload_type(a2, Codec::Opus)
        .unwrap();
    duo.with(true, |pc| {
        pc.write_frame(a2, pt, 0, &audio_frame(0)).unwrap()
    });
    assert!(
        duo.run_until(Duration::from_secs(1), |d| frames(d, false, at_b).len()
            == 1)
    );
}
