//! Video both ways with a real browser: headless Chromium (its fake camera) in a network
//! namespace the test creates (only `lo` up, so nothing leaves the machine). The test
//! re-runs itself inside the namespace; there it serves a page and the signaling over
//! HTTP on 127.0.0.1, offers a sendrecv video transceiver and a recvonly audio one, sends
//! VP8 frames encoded by ffmpeg's libvpx, and depacketizes what Chromium's fake camera
//! (VP8) and microphone (Opus) send. The page reports what
//! Chromium decoded (`getStats`). Skipped without Chromium, ffmpeg or the right to make a
//! namespace (fails instead with RTCWIRE_REQUIRE_PEERS=1).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::disallowed_methods // a real peer runs on the real clock
)]

mod browser;

use std::time::{Duration, Instant};

use browser::{in_namespace, number, Browser, Driven, Http};
use rtcwire::{
    Codec, Config, Direction, Event, MediaKind, PeerConnection, PeerConnectionState,
    TransceiverInit,
};
use rtcwire_sim::peer;

/// What the page does once its answer is posted (see `browser::answering_page`).
const PAGE_THEN: &str = r#"
    await new Promise((r) => setTimeout(r, 7000));
    const res = {};
    (await pc.getStats()).forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "video") {
        res.framesDecoded = s.framesDecoded; res.keyFramesDecoded = s.keyFramesDecoded;
        res.frameWidth = s.frameWidth; res.frameHeight = s.frameHeight;
        res.packetsLost = s.packetsLost; res.nackCount = s.nackCount; res.pliCount = s.pliCount;
      }
      if (s.type === "outbound-rtp" && s.kind === "video") res.framesSent = s.framesSent;
      if (s.type === "outbound-rtp" && s.kind === "audio") res.audioPacketsSent = s.packetsSent;
    });
    await post("/result", JSON.stringify(res));
"#;

#[test]
fn chromium_sends_and_decodes_vp8_video() {
    in_namespace("chromium_sends_and_decodes_vp8_video", &["ffmpeg"], || {
        inside(0);
    });
}

/// Every 20th RTP datagram is dropped each way (5 %): Chromium NACKs what we lost and we
/// send it again (RTX); we NACK what it lost and it sends it again.
#[test]
fn chromium_and_rtcwire_repair_loss_with_nack_both_ways() {
    in_namespace(
        "chromium_and_rtcwire_repair_loss_with_nack_both_ways",
        &["ffmpeg"],
        || inside(20),
    );
}

fn inside(loss_every: u32) {
    let dir = peer::scratch_dir("media-chromium");
    let pattern = browser::vp8_pattern(&dir, "320x240", 30);

    let start = Instant::now();
    let mut d = Driven::new(|now| PeerConnection::new(Config::default(), now).unwrap());
    d.loss_every = loss_every;
    let video = d.pc.add_track(MediaKind::Video, &["rtcwire"]).unwrap();
    // Chromium's fake microphone comes in on a receive-only audio transceiver.
    d.pc.add_transceiver(
        MediaKind::Audio,
        TransceiverInit {
            direction: Direction::RecvOnly,
            stream_ids: Vec::new(),
        },
    )
    .unwrap();
    let offer = d.pc.create_offer().unwrap();
    d.pc.set_local_description(offer.clone()).unwrap();
    let page = Browser::open(
        &dir,
        &browser::answering_page("rtcwire media", 320, 240, PAGE_THEN),
        offer.sdp,
        &[],
    );

    let deadline = start + Duration::from_secs(40);
    page.answer_to(&mut d.pc, deadline);
    let pt =
        d.pc.payload_type(video, Codec::Vp8)
            .expect("VP8 negotiated");
    let mut received: Vec<(bool, usize, Codec)> = Vec::new();
    let mut sent = 0u32;
    let mut next_frame: Option<Instant> = None;
    let mut requests = 0;
    let mut audio_frames = 0usize;
    let result = loop {
        assert!(
            Instant::now() < deadline,
            "no result from the page: sent {sent}, received {}, state {:?}",
            received.len(),
            d.pc.connection_state()
        );
        if let Ok(Http::Result(r)) = page.rx.try_recv() {
            break r;
        }
        if d.pc.connection_state() == PeerConnectionState::Connected && sent < 150 {
            let due = *next_frame.get_or_insert_with(Instant::now);
            if Instant::now() >= due {
                let f = &pattern[(sent % 30) as usize];
                d.pc.write_frame(video, pt, sent * 3000, f).unwrap();
                sent += 1;
                next_frame = Some(due + Duration::from_millis(33));
                continue;
            }
        }
        d.turn(Duration::from_millis(5), |pc, e| match e {
            Event::MediaFrame(f) if f.codec == Codec::Opus => audio_frames += 1,
            Event::MediaFrame(f) => {
                assert_eq!(f.codec, Codec::Vp8);
                received.push((f.keyframe, f.data.len(), f.codec));
            }
            Event::KeyframeRequest { .. } => requests += 1,
            Event::ConnectionStateChange(PeerConnectionState::Failed) => {
                panic!("the connection failed: {:?}", pc.get_stats())
            }
            _ => {}
        });
    };
    d.pc.close();
    drop(page);
    let dropped = d.dropped;
    let pc = &d.pc;
    assert!(!result.contains("error"), "the page: {result}");
    let decoded = number(&result, "framesDecoded").unwrap_or(0.0);
    println!(
        "chromium: decoded {decoded} of our {sent} VP8 frames ({result}); sent us {} VP8 frames ({} keyframes), {requests} keyframe requests",
        received.len(),
        received.iter().filter(|r| r.0).count()
    );
    assert_eq!(number(&result, "frameWidth"), Some(320.0), "{result}");
    let stats = pc.get_stats();
    let inbound = stats
        .inbound_rtp
        .iter()
        .find(|s| s.codec == Codec::Vp8)
        .expect("Chromium's video");
    println!("chromium: we dropped {dropped} RTP datagrams; {inbound:?}");
    if loss_every > 0 {
        // Chromium asked for what we lost, we for what it lost; both were repaired.
        assert!(
            number(&result, "nackCount").unwrap_or(0.0) > 0.0,
            "{result}"
        );
        assert!(
            inbound.nack_count > 0 && inbound.packets_repaired > 0,
            "{inbound:?}"
        );
        let out = stats.outbound_rtp.first().expect("our stream");
        assert!(out.retransmitted_packets_sent > 0, "{out:?}");
    }
    assert!(
        decoded >= f64::from(sent) - 5.0,
        "Chromium decoded {decoded} of {sent}"
    );
    // Every frame Chromium says it sent by the time of its report arrived whole (but the
    // last one or two, in flight or waiting for a retransmission when the page reported).
    let chromium_sent = number(&result, "framesSent").unwrap_or(0.0);
    assert!(chromium_sent >= 60.0, "{result}");
    assert!(
        received.len() as f64 >= chromium_sent - 2.0,
        "frames from Chromium: {} of {chromium_sent}",
        received.len()
    );
    if loss_every == 0 && inbound.packets_lost == 0 {
        assert!(received[0].0, "Chromium's first frame is a keyframe");
    } else {
        assert!(received.iter().any(|r| r.0), "a keyframe from Chromium");
    }
    // Its microphone: one Opus frame a packet, every packet it sent (but the last few).
    let opus = audio_frames;
    let audio_sent = number(&result, "audioPacketsSent").unwrap_or(0.0);
    println!("chromium: sent us {audio_sent} Opus packets, {opus} frames arrived");
    assert!(audio_sent >= 150.0, "{result}");
    if loss_every == 0 {
        assert!(
            opus as f64 >= audio_sent - 5.0,
            "Opus frames: {opus} of {audio_sent}"
        );
    } else {
        assert!(
            opus as f64 >= audio_sent * 0.9,
            "Opus frames: {opus} of {audio_sent}"
        );
    }
}
