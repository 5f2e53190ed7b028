//! Media features beyond frames in and out, between two rtcwire sessions on an rtcwire-sim
//! link: REMB bandwidth estimates both ways, sender reports carrying the wall clock, the
//! peer stopping a track, and `close()` closing data channels by stream reset.
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
    Codec, Config, Event, MediaKind, PeerConnection, PeerConnectionState, SessionDescription,
    TransceiverId,
};
use rtcwire_sim::LinkConfig;

fn lan() -> LinkConfig {
    LinkConfig::with_delay(Duration::from_millis(10))
}

fn pc(duo: &Duo, side_a: bool) -> &PeerConnection {
    duo.sim.endpoint(if side_a { duo.a } else { duo.b })
}

/// A VP8-looking frame numbered `n`.
fn video_frame(n: u32, size: usize) -> Vec<u8> {
    let mut f = vec![0x5au8; size];
    f[0] = if n % 30 == 0 { 0x10 } else { 0x11 };
    f[1..5].copy_from_slice(&n.to_be_bytes());
    f
}

/// Sends 30 frames a second of `size` bytes from A for `ms` milliseconds, from frame
/// `first`. Returns the next frame number.
fn send_video(duo: &mut Duo, t: TransceiverId, pt: u8, first: u32, ms: u32, size: usize) -> u32 {
    let mut n = first;
    for tick in 0..ms / 10 {
        if tick % 3 == 0 {
            duo.with(true, |pc| {
                pc.write_frame(t, pt, n * 3000, &video_frame(n, size))
                    .unwrap()
            });
            n += 1;
        }
        let _ = duo.run_until(Duration::from_millis(10), |_| false);
    }
    n
}

// ----- REMB ------------------------------------------------------------------------------

#[test]
fn remb_carries_the_receivers_estimate_and_its_cap_to_the_sender() {
    // Without transport-cc (as a browser then does), goog-remb is what is left.
    let no_twcc = |c: &mut Config| c.transport_cc = false;
    let mut duo = Duo::with_configs(41, lan(), Signaling::Trickle, no_twcc, no_twcc);
    let video = duo.with(true, |pc| pc.add_track(MediaKind::Video, &["a"]).unwrap());
    let offer = duo.negotiate_media(&[]);
    duo.connected();
    assert!(
        offer.sdp.contains("a=rtcp-fb:96 goog-remb"),
        "{}",
        offer.sdp
    );
    assert!(!offer.sdp.contains("transport-cc"), "{}", offer.sdp);
    assert!(!offer.sdp.contains("transport-wide-cc"), "{}", offer.sdp);
    let pt = pc(&duo, true).payload_type(video, Codec::Vp8).unwrap();

    // 4000-byte frames at 30/s: about 1 Mbit/s.
    let n = send_video(&mut duo, video, pt, 0, 3000, 4000);
    let b = pc(&duo, false).get_stats().bandwidth;
    let advertised = b.local_estimate.expect("B advertised an estimate");
    println!(
        "B measured {} bit/s, advertises {advertised}",
        b.received_rate
    );
    assert!(b.remb_sent >= 2, "{b:?}");
    assert!(
        (900_000..1_200_000).contains(&b.received_rate),
        "rate measured: {b:?}"
    );
    // Within the growth bound: at most 1.5 × the rate (+10 kbit/s), at least the rate.
    assert!(
        advertised >= b.received_rate * 9 / 10 && advertised <= b.received_rate * 3 / 2 + 10_000,
        "{b:?}"
    );
    let a = pc(&duo, true).get_stats().bandwidth;
    assert!(a.remb_received >= 2, "{a:?}");
    assert_eq!(a.peer_estimate, Some(advertised));
    assert_eq!(pc(&duo, true).peer_bandwidth_estimate(), Some(advertised));
    assert!(duo
        .log(true)
        .iter()
        .any(|e| matches!(e, Event::BandwidthEstimate { bitrate } if *bitrate == advertised)));

    // B caps what it advertises: A hears the cap at once (one link delay later).
    duo.with(false, |pc| pc.set_remb_cap(Some(150_000)).unwrap());
    let _ = duo.run_until(Duration::from_millis(30), |_| false);
    assert_eq!(pc(&duo, true).peer_bandwidth_estimate(), Some(150_000));
    assert!(duo
        .log(true)
        .iter()
        .any(|e| matches!(e, Event::BandwidthEstimate { bitrate: 150_000 })));
    // And keeps it in the periodic ones.
    let _ = send_video(&mut duo, video, pt, n, 2000, 4000);
    assert_eq!(pc(&duo, true).peer_bandwidth_estimate(), Some(150_000));
    assert_eq!(pc(&duo, false).local_bandwidth_estimate(), Some(150_000));
    // The sending side advertises nothing: it receives no video.
    assert_eq!(pc(&duo, true).get_stats().bandwidth.remb_sent, 0);
    assert!(pc(&duo, false)
        .get_stats()
        .bandwidth
        .peer_estimate
        .is_none());
    let _ = duo.track(false, MediaKind::Video);
}

// ----- simulcast -------------------------------------------------------------------------

/// A layer's frame `n`: the rid's first byte after the keyframe bit and the number, so a
/// frame routed to the wrong layer is caught.
fn layer_frame(rid: &str, n: u32, size: usize) -> Vec<u8> {
    let mut f = video_frame(n, size);
    f[5] = rid.as_bytes()[0];
    f
}

#[test]
fn simulcast_sends_three_layers_each_routed_by_rid_and_repaired_under_loss() {
    let link =
        LinkConfig::with_delay(Duration::from_millis(10)).loss(rtcwire_sim::Loss::Random(0.03));
    let mut duo = Duo::new(42, link, Signaling::Trickle);
    let rids = ["q", "h", "f"];
    let video = duo.with(true, |pc| {
        let t = pc
            .add_transceiver(
                MediaKind::Video,
                rtcwire::TransceiverInit {
                    direction: rtcwire::Direction::SendOnly,
                    stream_ids: vec!["sc".into()],
                },
            )
            .unwrap();
        pc.set_send_rids(t, &rids).unwrap();
        t
    });
    let offer = duo.negotiate_media(&[]);
    duo.connected();
    assert!(offer.sdp.contains("a=rid:q send"), "{}", offer.sdp);
    assert!(
        offer.sdp.contains("a=simulcast:send q;h;f"),
        "{}",
        offer.sdp
    );
    let answer = pc(&duo, false).local_description().unwrap().sdp.clone();
    assert!(answer.contains("a=rid:f recv"), "{answer}");
    assert!(answer.contains("a=simulcast:recv q;h;f"), "{answer}");
    let ssrcs = pc(&duo, true).send_ssrcs(video);
    assert_eq!(ssrcs.len(), 3);
    assert_eq!(ssrcs[2].0.as_deref(), Some("f"));
    let pt = pc(&duo, true).payload_type(video, Codec::Vp8).unwrap();
    let sizes = [300usize, 1500, 5000];
    let mut sent = 0u32;
    for tick in 0..300u32 {
        if tick % 3 == 0 {
            for (rid, size) in rids.iter().zip(sizes) {
                duo.with(true, |pc| {
                    pc.write_frame_rid(video, rid, pt, sent * 3000, &layer_frame(rid, sent, size))
                        .unwrap()
                });
            }
            sent += 1;
        }
        let _ = duo.run_until(Duration::from_millis(10), |_| false);
    }
    let _ = duo.run_until(Duration::from_secs(2), |_| false);
    let tb = duo.track(false, MediaKind::Video);
    for (rid, size) in rids.iter().zip(sizes) {
        let got: Vec<_> = duo
            .log(false)
            .iter()
            .filter_map(|e| match e {
                Event::MediaFrame(f) if f.transceiver == tb && f.rid.as_deref() == Some(*rid) => {
                    Some(f.clone())
                }
                _ => None,
            })
            .collect();
        assert_eq!(got.len() as u32, sent, "every {rid} frame");
        for (n, f) in got.iter().enumerate() {
            assert_eq!(f.data, layer_frame(rid, n as u32, size), "{rid} frame {n}");
        }
        let ssrc = got[0].ssrc;
        assert_eq!(
            ssrcs
                .iter()
                .find(|s| s.0.as_deref() == Some(*rid))
                .unwrap()
                .1,
            ssrc
        );
    }
    let inbound = pc(&duo, false).get_stats().inbound_rtp;
    assert_eq!(inbound.len(), 3, "{inbound:?}");
    let repaired: u64 = inbound.iter().map(|s| s.packets_repaired).sum();
    assert!(repaired > 0, "RTX repaired loss: {inbound:?}");
    for s in &inbound {
        assert!(s.rid.is_some());
        assert!(s.remote_outbound.is_some(), "an SR for each layer: {s:?}");
    }
    let out = pc(&duo, true).get_stats().outbound_rtp;
    let mut out_rids: Vec<_> = out.iter().filter_map(|s| s.rid.clone()).collect();
    out_rids.sort();
    assert_eq!(out_rids, ["f", "h", "q"]);
    assert!(
        out.iter().any(|s| s.retransmitted_packets_sent > 0),
        "{out:?}"
    );
}

#[test]
fn simulcast_not_accepted_sends_the_first_layer_only() {
    let mut duo = Duo::new(43, lan(), Signaling::Trickle);
    let video = duo.with(true, |pc| {
        let t = pc.add_track(MediaKind::Video, &["sc"]).unwrap();
        assert!(
            pc.set_send_rids(t, &["a"]).is_err(),
            "one rid is no simulcast"
        );
        assert!(pc.set_send_rids(t, &["a", "a"]).is_err(), "duplicates");
        assert!(
            pc.set_send_rids(t, &["a", "b c"]).is_err(),
            "bad characters"
        );
        pc.set_send_rids(t, &["lo", "hi"]).unwrap();
        t
    });
    // The answer is munged as by a peer without simulcast: no rid, no simulcast lines.
    let offer = duo.offer(true);
    let answer = duo.answer(false, offer, &[]);
    let stripped: String = answer
        .sdp
        .split_inclusive("\r\n")
        .filter(|l| !l.starts_with("a=rid:") && !l.starts_with("a=simulcast:"))
        .collect();
    duo.with(true, |pc| {
        pc.set_remote_description(SessionDescription::answer(stripped))
            .unwrap()
    });
    duo.add_hosts();
    duo.exchange();
    duo.connected();
    let pt = pc(&duo, true).payload_type(video, Codec::Vp8).unwrap();
    duo.with(true, |pc| {
        pc.write_frame_rid(video, "lo", pt, 0, &video_frame(0, 800))
            .unwrap();
        assert!(pc
            .write_frame_rid(video, "hi", pt, 0, &video_frame(0, 800))
            .is_err());
    });
    let _ = duo.run_until(Duration::from_millis(200), |_| false);
    let frames: Vec<_> = duo
        .log(false)
        .iter()
        .filter_map(|e| match e {
            Event::MediaFrame(f) => Some(f.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].rid, None, "no rid without simulcast");
    assert_eq!(frames[0].data, video_frame(0, 800));
}

// ----- sender reports on the wall clock --------------------------------------------------

#[test]
fn sender_reports_carry_the_wall_clock_given_and_the_peer_reads_the_mapping() {
    // A: the wall clock in its configuration (UNIX time at its creation); B: given later.
    let a_unix = Duration::from_secs(1_800_000_000);
    let mut duo = Duo::with_configs(
        44,
        lan(),
        Signaling::Trickle,
        |c| c.wall_clock = Some(a_unix),
        |_| {},
    );
    let start = duo.sim.start();
    let b_unix = Duration::from_secs(1_900_000_000) + Duration::from_millis(250);
    let b_at = duo.sim.now();
    duo.with(false, |pc| pc.set_wall_clock(b_at, b_unix));
    let video = duo.with(true, |pc| pc.add_track(MediaKind::Video, &["a"]).unwrap());
    duo.negotiate_media(&[MediaKind::Video]);
    duo.connected();
    let vb = duo.track(false, MediaKind::Video);
    let pa = pc(&duo, true).payload_type(video, Codec::Vp8).unwrap();
    let pb = pc(&duo, false).payload_type(vb, Codec::Vp8).unwrap();
    let mut written = Vec::new();
    for n in 0..90u32 {
        written.push(duo.sim.now());
        duo.with(true, |pc| {
            pc.write_frame(video, pa, 1000 + n * 3000, &video_frame(n, 500))
                .unwrap()
        });
        duo.with(false, |pc| {
            pc.write_frame(vb, pb, 7 + n * 3000, &video_frame(n, 500))
                .unwrap()
        });
        let _ = duo.run_until(Duration::from_millis(33), |_| false);
    }
    let link_delay = Duration::from_millis(10);
    for (side, unix, at, first_ts) in [(false, a_unix, start, 1000u32), (true, b_unix, b_at, 7)] {
        // The receiver's view of the sender's reports.
        let stats = pc(&duo, side).get_stats();
        let inbound = &stats.inbound_rtp[0];
        let sr = inbound.remote_outbound.expect("sender reports arrived");
        assert!(sr.reports_sent >= 2, "{sr:?}");
        // The NTP time is the sender's wall clock at sending: the mapping given, moved on
        // by the session's clock (the report left one link delay before it arrived).
        let sent_at = sr.received_at - link_delay;
        let expected = unix + (sent_at - at);
        let diff = sr.remote_timestamp.abs_diff(expected);
        assert!(
            diff < Duration::from_millis(1),
            "{sr:?}, expected {expected:?}"
        );
        // And the RTP timestamp is the one of that instant on the 90 kHz clock: the last
        // frame's, moved on by the time since it was written (frames every 33 ms).
        let n = written.iter().rposition(|w| *w <= sent_at).unwrap();
        let since = (sent_at - written[n]).as_micros() as u32;
        let expected_ts = first_ts + n as u32 * 3000 + since * 9 / 100;
        assert!(
            sr.rtp_timestamp.abs_diff(expected_ts) <= 1,
            "{sr:?}, RTP {expected_ts} expected"
        );
        assert!(sr.packets_sent > 0 && sr.bytes_sent > 0, "{sr:?}");
    }
}

// ----- H.264 packetization-mode 0 ---------------------------------------------------------

/// An H.264 access unit in Annex B (4-byte start codes, as frames come out): SPS, PPS
/// and an IDR slice of `idr` bytes.
fn h264_idr(idr: usize) -> Vec<u8> {
    let mut f = vec![0, 0, 0, 1, 0x67, 0x42, 0xe0, 0x1f, 0x11];
    f.extend_from_slice(&[0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80]);
    f.extend_from_slice(&[0, 0, 0, 1, 0x65, 0x88]);
    f.extend(std::iter::repeat_n(0x5au8, idr - 2));
    f
}

/// Keeps only the payload types `keep` in the video section of an SDP text.
fn only_video_payload_types(sdp: &str, keep: &[u8]) -> String {
    let mut in_video = false;
    let mut out = String::new();
    for line in sdp.split_inclusive("\r\n") {
        if line.starts_with("m=") {
            in_video = line.starts_with("m=video");
            if in_video {
                let mut parts: Vec<&str> = line.trim_end().split(' ').take(3).collect();
                let pts: Vec<String> = keep.iter().map(u8::to_string).collect();
                parts.extend(pts.iter().map(String::as_str));
                out.push_str(&parts.join(" "));
                out.push_str("\r\n");
                continue;
            }
        }
        let pt_of = |prefix: &str| {
            line.strip_prefix(prefix)
                .and_then(|r| r.split([' ', '\r']).next())
                .and_then(|p| p.parse::<u8>().ok())
        };
        let pt = pt_of("a=rtpmap:")
            .or_else(|| pt_of("a=fmtp:"))
            .or_else(|| pt_of("a=rtcp-fb:"));
        if in_video && pt.is_some_and(|p| !keep.contains(&p)) {
            continue;
        }
        out.push_str(line);
    }
    out
}

#[test]
fn h264_mode_0_sends_one_nal_unit_a_packet_and_refuses_a_nal_over_the_mtu() {
    let mut duo = Duo::new(45, lan(), Signaling::Trickle);
    let video = duo.with(true, |pc| pc.add_track(MediaKind::Video, &["a"]).unwrap());
    duo.negotiate_media(&[]);
    duo.connected();
    let a = pc(&duo, true);
    // Both modes offered and accepted, each on its own payload type.
    let h264: Vec<u8> = a
        .negotiated_codecs(video)
        .into_iter()
        .filter(|(_, c)| *c == Codec::H264)
        .map(|(pt, _)| pt)
        .collect();
    assert_eq!(h264.len(), 2, "{:?}", a.negotiated_codecs(video));
    let mode1 = *h264
        .iter()
        .find(|pt| a.h264_single_nal(video, **pt) == Some(false))
        .unwrap();
    let mode0 = *h264
        .iter()
        .find(|pt| a.h264_single_nal(video, **pt) == Some(true))
        .unwrap();
    let sdp = a.local_description().unwrap().sdp.clone();
    assert!(
        sdp.contains(&format!(
            "a=fmtp:{mode0} level-asymmetry-allowed=1;packetization-mode=0"
        )),
        "{sdp}"
    );
    let vb = duo.track(false, MediaKind::Video);
    let packets = |duo: &Duo| {
        pc(duo, false)
            .get_stats()
            .inbound_rtp
            .iter()
            .map(|s| s.packets_received)
            .sum::<u64>()
    };

    // Mode 1: SPS, PPS and a 900-byte IDR aggregate into one STAP-A packet.
    let frame = h264_idr(900);
    duo.with(true, |pc| pc.write_frame(video, mode1, 0, &frame).unwrap());
    let _ = duo.run_until(Duration::from_millis(50), |_| false);
    assert_eq!(packets(&duo), 1);
    // Mode 0: one packet per NAL unit.
    duo.with(true, |pc| {
        pc.write_frame(video, mode0, 3000, &frame).unwrap()
    });
    let _ = duo.run_until(Duration::from_millis(50), |_| false);
    assert_eq!(packets(&duo), 4);
    // A 3000-byte IDR slice: FU-A in mode 1; refused in mode 0 (an error, nothing sent).
    let big = h264_idr(3000);
    let sent_before = pc(&duo, true).get_stats().outbound_rtp[0].packets_sent;
    let err = duo.with(true, |pc| pc.write_frame(video, mode0, 6000, &big));
    assert!(err.is_err(), "{err:?}");
    assert_eq!(
        pc(&duo, true).get_stats().outbound_rtp[0].packets_sent,
        sent_before
    );
    duo.with(true, |pc| pc.write_frame(video, mode1, 9000, &big).unwrap());
    let _ = duo.run_until(Duration::from_millis(50), |_| false);
    let got: Vec<_> = duo
        .log(false)
        .iter()
        .filter_map(|e| match e {
            Event::MediaFrame(f) if f.transceiver == vb => Some(f.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(got.len(), 3, "{got:?}");
    for (f, (pt, ts, data)) in got.iter().zip([
        (mode1, 0, &frame),
        (mode0, 3000, &frame),
        (mode1, 9000, &big),
    ]) {
        assert_eq!(
            (f.payload_type, f.rtp_timestamp, f.codec),
            (pt, ts, Codec::H264)
        );
        assert!(f.keyframe);
        assert_eq!(&f.data, data);
    }
}

#[test]
fn h264_mode_0_offered_alone_is_accepted_and_carries_frames() {
    let mut duo = Duo::new(46, lan(), Signaling::Trickle);
    let video = duo.with(true, |pc| pc.add_track(MediaKind::Video, &["a"]).unwrap());
    let offer = duo.offer(true);
    // A peer that offers H.264 in mode 0 only (payload type 104, its RTX 105).
    let alone = SessionDescription::offer(only_video_payload_types(&offer.sdp, &[104, 105]));
    let answer = duo.answer(false, alone, &[]);
    assert!(
        answer.sdp.contains("a=rtpmap:104 H264/90000"),
        "{}",
        answer.sdp
    );
    assert!(
        answer.sdp.contains("packetization-mode=0"),
        "{}",
        answer.sdp
    );
    assert!(
        !answer.sdp.contains("packetization-mode=1"),
        "{}",
        answer.sdp
    );
    duo.with(true, |pc| pc.set_remote_description(answer).unwrap());
    duo.add_hosts();
    duo.exchange();
    duo.connected();
    assert_eq!(
        pc(&duo, true).negotiated_codecs(video),
        vec![(104, Codec::H264)]
    );
    assert_eq!(pc(&duo, true).h264_single_nal(video, 104), Some(true));
    let frame = h264_idr(1000);
    duo.with(true, |pc| pc.write_frame(video, 104, 0, &frame).unwrap());
    let _ = duo.run_until(Duration::from_millis(50), |_| false);
    let f = duo
        .log(false)
        .iter()
        .find_map(|e| match e {
            Event::MediaFrame(f) => Some(f.clone()),
            _ => None,
        })
        .expect("the frame arrived");
    assert_eq!(f.data, frame);
    assert_eq!(
        pc(&duo, false).get_stats().inbound_rtp[0].packets_received,
        3
    );
}

// ----- the peer ends its track ------------------------------------------------------------

fn ended(duo: &Duo, side_a: bool) -> Vec<(TransceiverId, rtcwire::TrackEndReason)> {
    duo.log(side_a)
        .iter()
        .filter_map(|e| match e {
            Event::TrackEnded {
                transceiver,
                reason,
            } => Some((*transceiver, *reason)),
            _ => None,
        })
        .collect()
}

fn tracks(duo: &Duo, side_a: bool) -> usize {
    duo.log(side_a)
        .iter()
        .filter(|e| matches!(e, Event::Track { .. }))
        .count()
}

#[test]
fn the_peer_ending_its_track_is_an_event_by_direction_bye_or_port_zero() {
    use rtcwire::{Direction, TrackEndReason};
    let mut duo = Duo::new(47, lan(), Signaling::Trickle);
    let (video, audio) = duo.with(true, |pc| {
        // The data section keeps the transport when both tracks are stopped.
        pc.create_data_channel("keep", rtcwire::DataChannelInit::default())
            .unwrap();
        (
            pc.add_track(MediaKind::Video, &["a"]).unwrap(),
            pc.add_track(MediaKind::Audio, &["a"]).unwrap(),
        )
    });
    duo.negotiate_media(&[]);
    duo.connected();
    let vb = duo.track(false, MediaKind::Video);
    let ab = duo.track(false, MediaKind::Audio);
    assert_eq!(tracks(&duo, false), 2);
    let pt = pc(&duo, true).payload_type(video, Codec::Vp8).unwrap();
    let n = send_video(&mut duo, video, pt, 0, 300, 800);
    assert!(ended(&duo, false).is_empty());

    // A's video goes inactive: B's track ends when the description says so.
    duo.with(true, |pc| {
        pc.set_direction(video, Direction::Inactive).unwrap()
    });
    duo.renegotiate(true);
    let _ = duo.run_until(Duration::from_millis(50), |_| false);
    assert_eq!(ended(&duo, false), vec![(vb, TrackEndReason::NotSending)]);
    // ... and comes back: Track again.
    duo.with(true, |pc| {
        pc.set_direction(video, Direction::SendRecv).unwrap()
    });
    duo.renegotiate(true);
    let _ = duo.run_until(Duration::from_millis(50), |_| false);
    assert_eq!(tracks(&duo, false), 3);
    let _ = send_video(&mut duo, video, pt, n, 300, 800);

    // A stops the video transceiver: its RTCP BYE ends B's track at once, before any
    // renegotiation; the later port 0 adds no second event.
    duo.with(true, |pc| pc.stop_transceiver(video).unwrap());
    let _ = duo.run_until(Duration::from_millis(50), |_| false);
    assert_eq!(
        ended(&duo, false),
        vec![(vb, TrackEndReason::NotSending), (vb, TrackEndReason::Bye)]
    );
    // The audio never sent a packet: stopping it sends no BYE, and the port 0 of the
    // next offer ends the track.
    duo.with(true, |pc| pc.stop_transceiver(audio).unwrap());
    let _ = duo.run_until(Duration::from_millis(50), |_| false);
    assert_eq!(ended(&duo, false).len(), 2);
    duo.renegotiate(true);
    let _ = duo.run_until(Duration::from_millis(50), |_| false);
    assert_eq!(
        ended(&duo, false),
        vec![
            (vb, TrackEndReason::NotSending),
            (vb, TrackEndReason::Bye),
            (ab, TrackEndReason::Stopped)
        ]
    );
    assert_eq!(pc(&duo, false).current_direction(vb), None);
    assert!(ended(&duo, true).is_empty(), "B sent nothing to end");
}

// ----- close() resets the data channels' streams ------------------------------------------

#[test]
fn close_resets_every_data_channel_stream_before_close_notify() {
    use rtcwire::{DataChannelState, Input, Output};
    let mut duo = Duo::new(48, lan(), Signaling::Trickle);
    let (ca, _) = duo.connect_with_channel();
    let second = duo.with(true, |pc| {
        pc.create_data_channel("second", rtcwire::DataChannelInit::default())
            .unwrap()
    });
    assert!(
        duo.run_until(Duration::from_secs(5), |d| d.opened(true).contains(&second)
            && d.opened(false).len() == 2)
    );
    let b_channels = duo.opened(false);
    assert_eq!(
        pc(&duo, false)
            .get_stats()
            .data_channels
            .iter()
            .filter(|c| c.state == DataChannelState::Open)
            .count(),
        2
    );

    // A closes; its last datagrams are taken by hand to hand them to B one by one.
    duo.with(true, |pc| pc.close());
    let mut last_words = Vec::new();
    let mut buf = Vec::new();
    {
        let a = duo.sim.endpoint_mut(duo.a);
        loop {
            buf.clear();
            match a.poll_output(&mut buf) {
                Output::Transmit(t) => last_words.push((
                    t.source.unwrap(),
                    t.destination.unwrap(),
                    buf[..t.size].to_vec(),
                )),
                Output::Event(_) => {}
                Output::Timeout(_) => break,
            }
        }
    }
    assert!(duo.closed(true, ca) || duo.with(true, |pc| pc.get_stats().data_channels.is_empty()));
    // Two DTLS records, in this order: the SCTP packet (RE-CONFIG), the close_notify
    // alert (their content types are encrypted under DTLS 1.3).
    assert_eq!(last_words.len(), 2, "one SCTP packet, then the alert");
    let now = duo.sim.now();
    let mut events = Vec::new();
    let mut deliver =
        |duo: &mut Duo, (from, to, d): &(std::net::SocketAddr, std::net::SocketAddr, Vec<u8>)| {
            let b = duo.sim.endpoint_mut(duo.b);
            b.handle_input(Input::Receive(now, rtcwire::Datagram::udp(*from, *to, d)))
                .unwrap();
            loop {
                buf.clear();
                match b.poll_output(&mut buf) {
                    Output::Event(e) => events.push(e),
                    Output::Transmit(_) => {} // its own reset, to a closed peer
                    Output::Timeout(_) => break,
                }
            }
        };
    // The stream reset alone: B's channels are closing (their incoming streams reset),
    // not gone (an SCTP ABORT would have closed them outright).
    deliver(&mut duo, &last_words[0]);
    let states: Vec<DataChannelState> = pc(&duo, false)
        .get_stats()
        .data_channels
        .iter()
        .map(|c| c.state)
        .collect();
    assert_eq!(
        states,
        [DataChannelState::Closing, DataChannelState::Closing]
    );
    assert_eq!(
        pc(&duo, false).connection_state(),
        PeerConnectionState::Connected
    );
    // Then close_notify: both channels closed, the connection closed.
    deliver(&mut duo, &last_words[1]);
    for id in &b_channels {
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::ChannelClosed(c) if c == id)),
            "{events:?}"
        );
    }
    assert_eq!(
        pc(&duo, false).connection_state(),
        PeerConnectionState::Closed
    );
}

#[test]
fn close_says_bye_for_every_stream_it_sent_before_close_notify() {
    use rtcwire::TrackEndReason;
    let mut duo = Duo::new(49, lan(), Signaling::Trickle);
    let (video, _audio) = duo.with(true, |pc| {
        (
            pc.add_track(MediaKind::Video, &["a"]).unwrap(),
            pc.add_track(MediaKind::Audio, &["a"]).unwrap(),
        )
    });
    duo.negotiate_media(&[]);
    duo.connected();
    let vb = duo.track(false, MediaKind::Video);
    let pt = pc(&duo, true).payload_type(video, Codec::Vp8).unwrap();
    let _ = send_video(&mut duo, video, pt, 0, 300, 800);
    assert!(ended(&duo, false).is_empty());

    duo.with(true, |pc| pc.close());
    let _ = duo.run_until(Duration::from_millis(50), |_| false);
    // The video sent packets: its BYE ends B's track. The audio sent none: no BYE for it.
    assert_eq!(ended(&duo, false), vec![(vb, TrackEndReason::Bye)]);
    assert_eq!(
        pc(&duo, false).connection_state(),
        PeerConnectionState::Closed,
        "close_notify followed the BYE"
    );
}
