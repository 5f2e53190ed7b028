//! Headless Chromium against rtcwire for bandwidth and simulcast (see `browser/` for the
//! namespace and the page plumbing):
//! - without transport-cc, our REMB caps what Chromium's encoder targets, Chromium's REMB
//!   for our video reaches us, and Chromium's `remote-outbound-rtp` reflects our sender
//!   reports' wall clock;
//! - Chromium sends three simulcast layers (sendEncodings with rids) and we route each
//!   layer's frames by rid;
//! - with transport-cc (the default), Chromium's feedback for our video drives our
//!   send-side estimate.
//!
//! Skipped without Chromium, ffmpeg or the right to make a namespace (fails instead with
//! RTCWIRE_REQUIRE_PEERS=1).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::disallowed_methods // a real peer runs on the real clock
)]

mod browser;

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use browser::{in_namespace, number, Browser, Driven, Http};
use rtcwire::{
    Codec, Config, Event, MediaKind, PeerConnection, PeerConnectionState, SessionDescription,
};
use rtcwire_sim::peer;

/// What the page does once its answer is posted (see `browser::answering_page`).
const REMB_THEN: &str = r#"
    const sample = async () => {
      const r = {};
      (await pc.getStats()).forEach((s) => {
        if (s.type === "outbound-rtp" && s.kind === "video") {
          r.targetBitrate = s.targetBitrate; r.bytesSent = s.bytesSent; r.ts = s.timestamp;
          r.framesSent = s.framesSent;
        }
        if (s.type === "remote-outbound-rtp" && s.kind === "audio") {
          r.remoteTimestamp = s.remoteTimestamp; r.reportsSent = s.reportsSent;
        }
        if (s.type === "inbound-rtp" && s.kind === "video") r.framesDecoded = s.framesDecoded;
      });
      return r;
    };
    // Wait (bounded) for what is checked: the encoder's target under our cap and a sender
    // report of ours read; then the send rate over the next 1.5 s of its own clock.
    let a = await sample();
    for (let i = 0; i < 40 && !(a.targetBitrate <= 150000 && a.reportsSent > 0); i++) {
      await sleep(200);
      a = await sample();
    }
    await sleep(1500);
    const b = await sample();
    const rate = (b.bytesSent - a.bytesSent) * 8 / ((b.ts - a.ts) / 1000);
    await post("/result", JSON.stringify({ targetBitrate: b.targetBitrate, rate, framesSent: b.framesSent,
      remoteTimestamp: b.remoteTimestamp, reportsSent: b.reportsSent, now: Date.now(),
      framesDecoded: b.framesDecoded }));
"#;

/// What we advertise to Chromium in REMB.
const CAP: u64 = 150_000;

#[test]
fn chromium_obeys_our_remb_cap_sends_us_remb_and_reads_our_sender_report_clock() {
    in_namespace(
        "chromium_obeys_our_remb_cap_sends_us_remb_and_reads_our_sender_report_clock",
        &["ffmpeg"],
        remb_inside,
    );
}

fn remb_inside() {
    let dir = peer::scratch_dir("chromium-remb");
    let pattern = browser::vp8_pattern(&dir, "320x240", 30);
    let start = Instant::now();
    let mut d = Driven::new(|now| {
        let config = Config {
            // Without transport-cc, Chromium's send-side estimate takes our REMB as its
            // upper bound, and it estimates what it receives with REMB of its own.
            transport_cc: false,
            ..Config::default()
        };
        let mut pc = PeerConnection::new(config, now).unwrap();
        pc.set_wall_clock(now, SystemTime::now().duration_since(UNIX_EPOCH).unwrap());
        pc
    });
    let video = d.pc.add_track(MediaKind::Video, &["rtcwire"]).unwrap();
    let audio = d.pc.add_track(MediaKind::Audio, &["rtcwire"]).unwrap();
    d.pc.set_remb_cap(Some(CAP)).unwrap();
    let offer = d.pc.create_offer().unwrap();
    d.pc.set_local_description(offer.clone()).unwrap();
    assert!(!offer.sdp.contains("transport-cc"));
    let page = Browser::open(
        &dir,
        &browser::answering_page("rtcwire remb", 640, 480, REMB_THEN),
        offer.sdp,
        &[],
    );

    let deadline = start + Duration::from_secs(40);
    let answer = page.answer_to(&mut d.pc, deadline);
    assert!(answer.contains("goog-remb"), "{answer}");
    let vp8 = d.pc.payload_type(video, Codec::Vp8).expect("VP8");
    let opus = d.pc.payload_type(audio, Codec::Opus).expect("Opus");
    let (mut sent, mut audio_sent) = (0u32, 0u32);
    let (mut next_video, mut next_audio): (Option<Instant>, Option<Instant>) = (None, None);
    let mut estimates = Vec::new();
    let mut frames_in = 0usize;
    let mut result = None;
    // Chromium's receive-side estimate starts about 5 s after the first packets (unless
    // it sees congestion earlier): the session runs on until its first REMB (or 5 s more)
    // after the page reported.
    let mut until = deadline;
    let result = loop {
        assert!(Instant::now() < deadline, "no result from the page");
        if result.is_none() {
            if let Ok(Http::Result(r)) = page.rx.try_recv() {
                result = Some(r);
                until = Instant::now() + Duration::from_secs(5);
            }
        }
        if let Some(r) = &result {
            if !estimates.is_empty() || Instant::now() >= until {
                break r.clone();
            }
        }
        d.turn(Duration::from_millis(5), |_, e| match e {
            Event::BandwidthEstimate { bitrate } => estimates.push(bitrate),
            Event::MediaFrame(f) if f.codec == Codec::Vp8 => frames_in += 1,
            Event::ConnectionStateChange(PeerConnectionState::Failed) => panic!("failed"),
            _ => {}
        });
        if d.pc.connection_state() != PeerConnectionState::Connected {
            continue;
        }
        let now = Instant::now();
        if now >= *next_video.get_or_insert(now) {
            let f = &pattern[(sent % 30) as usize];
            d.pc.write_frame(video, vp8, sent * 3000, f).unwrap();
            sent += 1;
            next_video = next_video.map(|t| t + Duration::from_millis(33));
        }
        if now >= *next_audio.get_or_insert(now) {
            // An Opus silence frame (20 ms CELT): something to send sender reports about.
            d.pc.write_frame(audio, opus, audio_sent * 960, &[0xf8, 0xff, 0xfe])
                .unwrap();
            audio_sent += 1;
            next_audio = next_audio.map(|t| t + Duration::from_millis(20));
        }
    };
    let stats = d.pc.get_stats();
    d.pc.close();
    assert!(!result.contains("error"), "the page: {result}");
    println!(
        "chromium: with our REMB at {CAP} bit/s: {result}; its REMB to us: {estimates:?}; {:?}; {frames_in} frames from it; {:?}; refused: {:?}",
        stats.bandwidth, stats.session, d.refusals
    );
    // Its encoder's target and its measured send rate stay under our cap (its start
    // bitrate, 300 kbit/s, is twice it).
    let target = number(&result, "targetBitrate").expect("targetBitrate");
    assert!(target > 0.0 && target <= CAP as f64 * 1.05, "{result}");
    let rate = number(&result, "rate").expect("rate");
    assert!(rate > 20_000.0 && rate <= CAP as f64 * 1.4, "{result}");
    // Periodic (one a report interval once its video flows; the session runs 2-5 s).
    assert!(stats.bandwidth.remb_sent >= 2, "{:?}", stats.bandwidth);
    assert_eq!(stats.bandwidth.local_estimate, Some(CAP));
    // Everything it sent was taken (its padding-only RTX packets too).
    assert_eq!(stats.session.refused_media, 0, "{:?}", d.refusals);
    // Its REMB for our video.
    assert!(stats.bandwidth.remb_received > 0, "{:?}", stats.bandwidth);
    assert!(d.pc.peer_bandwidth_estimate().is_some_and(|b| b > 0));
    assert!(!estimates.is_empty());
    // Its remote-outbound-rtp for our audio: the NTP time of our last sender report,
    // which is at most a report interval (1 s) old, on the same wall clock as its page.
    let remote = number(&result, "remoteTimestamp").expect("remote-outbound-rtp");
    let page_now = number(&result, "now").unwrap();
    assert!(
        (page_now - remote).abs() < 3000.0,
        "remoteTimestamp {remote} vs Date.now() {page_now}"
    );
    assert!(
        number(&result, "reportsSent").unwrap_or(0.0) >= 2.0,
        "{result}"
    );
    assert!(
        number(&result, "framesDecoded").unwrap_or(0.0) > 60.0,
        "{result}"
    );
    assert!(frames_in > 30, "{frames_in} frames from Chromium");
}

const SIMULCAST_PAGE: &str = r#"<!doctype html><meta charset="utf-8"><title>rtcwire simulcast</title>
<script>
(async () => {
  const post = (path, body) => fetch(path, { method: "POST", body });
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
    const pc = new RTCPeerConnection();
    pc.addTransceiver(stream.getVideoTracks()[0], { direction: "sendonly", streams: [stream],
      sendEncodings: [{ rid: "q", scaleResolutionDownBy: 4 }, { rid: "h", scaleResolutionDownBy: 2 }, { rid: "f" }] });
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((done) => {
      if (pc.iceGatheringState === "complete") return done();
      pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && done();
    });
    const answer = await (await post("/offer", pc.localDescription.sdp)).text();
    await pc.setRemoteDescription({ type: "answer", sdp: answer });
    // Until every layer has sent 40 frames (bounded at 8 s).
    let r = {};
    for (let i = 0; i < 40; i++) {
      await sleep(200);
      r = {};
      (await pc.getStats()).forEach((s) => {
        if (s.type === "outbound-rtp" && s.kind === "video" && s.rid) {
          r[s.rid + "_frames"] = s.framesSent || 0; r[s.rid + "_width"] = s.frameWidth || 0;
        }
      });
      if (["q", "h", "f"].every((rid) => r[rid + "_frames"] >= 40)) break;
    }
    await post("/result", JSON.stringify(r));
  } catch (e) {
    await post("/result", JSON.stringify({ error: String(e) }));
  }
})();
</script>"#;

#[test]
fn chromium_sends_three_simulcast_layers_and_we_route_each_by_rid() {
    in_namespace(
        "chromium_sends_three_simulcast_layers_and_we_route_each_by_rid",
        &[],
        simulcast_inside,
    );
}

fn simulcast_inside() {
    let dir = peer::scratch_dir("chromium-simulcast");
    let start = Instant::now();
    let mut d = Driven::new(|now| PeerConnection::new(Config::default(), now).unwrap());
    // Chromium limits the layers by resolution unless told not to.
    let page = Browser::open(
        &dir,
        SIMULCAST_PAGE,
        String::new(),
        &["--force-fieldtrials=WebRTC-LegacySimulcastLayerLimit/Disabled/"],
    );
    let deadline = start + Duration::from_secs(40);
    // rid → (frames, keyframes, SSRCs, sizes)
    let mut layers: BTreeMap<String, (u32, u32, Vec<u32>, usize)> = BTreeMap::new();
    let mut unlabelled = 0u32;
    let mut answered = false;
    let result = loop {
        assert!(
            Instant::now() < deadline,
            "no result from the page: {layers:?}"
        );
        // Until the offer is answered there is no session to drive: block on the page.
        let msg = if answered {
            page.rx.try_recv().ok()
        } else {
            page.rx.recv_timeout(Duration::from_millis(50)).ok()
        };
        match msg {
            Some(Http::Result(r)) => break r,
            Some(Http::Offer(offer, reply)) => {
                assert!(offer.contains("a=simulcast:send q;h;f"), "{offer}");
                d.pc.set_remote_description(SessionDescription::offer(offer))
                    .unwrap();
                let answer = d.pc.create_answer().unwrap();
                d.pc.set_local_description(answer.clone()).unwrap();
                assert!(
                    answer.sdp.contains("a=simulcast:recv q;h;f"),
                    "{}",
                    answer.sdp
                );
                reply.send(answer.sdp).unwrap();
                answered = true;
            }
            _ => {}
        }
        if !answered {
            continue;
        }
        d.turn(Duration::from_millis(5), |_, e| match e {
            Event::MediaFrame(f) => match f.rid {
                Some(rid) => {
                    let l = layers.entry(rid.to_string()).or_default();
                    l.0 += 1;
                    l.1 += u32::from(f.keyframe);
                    if !l.2.contains(&f.ssrc) {
                        l.2.push(f.ssrc);
                    }
                    l.3 += f.data.len();
                }
                None => unlabelled += 1,
            },
            Event::ConnectionStateChange(PeerConnectionState::Failed) => panic!("failed"),
            _ => {}
        });
    };
    let stats = d.pc.get_stats();
    d.pc.close();
    assert!(!result.contains("error"), "the page: {result}");
    println!("chromium: simulcast layers sent {result}; received per rid (frames, keyframes, SSRCs, bytes) {layers:?}");
    assert_eq!(unlabelled, 0, "every frame carried its rid");
    let mut ssrcs = Vec::new();
    for rid in ["q", "h", "f"] {
        let sent = number(&result, &format!("{rid}_frames")).unwrap_or(0.0);
        let (frames, keys, s, _) = layers.get(rid).cloned().unwrap_or_default();
        assert!(sent >= 30.0, "Chromium sent layer {rid}: {result}");
        // Every frame of each layer it reported sent arrived (but those in flight).
        assert!(
            f64::from(frames) >= sent - 3.0,
            "layer {rid}: {frames} of {sent} frames"
        );
        assert!(keys >= 1, "a keyframe on layer {rid}");
        assert_eq!(s.len(), 1, "one SSRC per layer: {s:?}");
        ssrcs.push(s[0]);
    }
    ssrcs.sort_unstable();
    ssrcs.dedup();
    assert_eq!(ssrcs.len(), 3, "three distinct SSRCs");
    // The layers' frames differ in size as their resolutions do (per frame: under load
    // Chromium sends the full layer at a lower frame rate).
    let per_frame = |rid: &str| layers.get(rid).map_or(0, |l| l.3 / l.0.max(1) as usize);
    assert!(per_frame("q") < per_frame("f"), "{layers:?}");
    let inbound: Vec<_> = stats
        .inbound_rtp
        .iter()
        .filter_map(|s| s.rid.clone())
        .collect();
    assert_eq!(inbound.len(), 3, "{:?}", stats.inbound_rtp);
}

/// The page, once answered: until it decoded 90 of our frames (bounded at 10 s).
const DECODE_THEN: &str = r#"
    let r = {};
    for (let i = 0; i < 50 && !(r.framesDecoded >= 90); i++) {
      await sleep(200);
      (await pc.getStats()).forEach((s) => {
        if (s.type === "inbound-rtp" && s.kind === "video") r.framesDecoded = s.framesDecoded;
      });
    }
    await post("/result", JSON.stringify(r));
"#;

#[test]
fn chromium_transport_cc_feedback_drives_our_send_side_estimate() {
    in_namespace(
        "chromium_transport_cc_feedback_drives_our_send_side_estimate",
        &["ffmpeg"],
        twcc_inside,
    );
}

fn twcc_inside() {
    let dir = peer::scratch_dir("chromium-twcc");
    let pattern = browser::vp8_pattern(&dir, "320x240", 30);
    let start = Instant::now();
    // The default: transport-cc offered; Chromium then sends feedback and no REMB.
    let mut d = Driven::new(|now| PeerConnection::new(Config::default(), now).unwrap());
    let video = d.pc.add_track(MediaKind::Video, &["rtcwire"]).unwrap();
    let offer = d.pc.create_offer().unwrap();
    d.pc.set_local_description(offer.clone()).unwrap();
    let page = Browser::open(
        &dir,
        &browser::answering_page("rtcwire twcc", 320, 240, DECODE_THEN),
        offer.sdp,
        &[],
    );
    let deadline = start + Duration::from_secs(40);
    let answer = page.answer_to(&mut d.pc, deadline);
    assert!(answer.contains("transport-wide-cc"), "{answer}");
    let vp8 = d.pc.payload_type(video, Codec::Vp8).expect("VP8");
    let (mut sent, mut bytes, mut next_video) = (0u32, 0usize, None::<Instant>);
    let mut estimates = Vec::new();
    let mut first_sent = None;
    let result = loop {
        assert!(Instant::now() < deadline, "no result from the page");
        if let Ok(Http::Result(r)) = page.rx.try_recv() {
            break r;
        }
        d.turn(Duration::from_millis(5), |_, e| match e {
            Event::BandwidthEstimate { bitrate } => estimates.push(bitrate),
            Event::ConnectionStateChange(PeerConnectionState::Failed) => panic!("failed"),
            _ => {}
        });
        if d.pc.connection_state() != PeerConnectionState::Connected {
            continue;
        }
        let now = Instant::now();
        if now >= *next_video.get_or_insert(now) {
            let f = &pattern[(sent % 30) as usize];
            d.pc.write_frame(video, vp8, sent * 3000, f).unwrap();
            first_sent.get_or_insert(now);
            sent += 1;
            bytes += f.len();
            next_video = next_video.map(|t| t + Duration::from_millis(33));
        }
    };
    let elapsed = first_sent.map_or(Duration::ZERO, |t| t.elapsed());
    let stats = d.pc.get_stats();
    d.pc.close();
    let our_rate = bytes as f64 * 8.0 / elapsed.as_secs_f64().max(0.1);
    println!(
        "chromium: decoded {result} of {sent} frames sent at {our_rate:.0} bit/s; our estimates {estimates:?}; {:?}",
        stats.bandwidth
    );
    assert!(!result.contains("error"), "the page: {result}");
    assert!(
        number(&result, "framesDecoded").unwrap_or(0.0) >= 60.0,
        "{result}"
    );
    let b = &stats.bandwidth;
    assert!(b.transport_feedback >= 10, "Chromium's feedback: {b:?}");
    assert_eq!(b.remb_received, 0, "no REMB with transport-cc: {b:?}");
    // What its feedback acknowledged is what we sent (RTP headers on top; the rate of
    // the last 400 ms, with or without a keyframe in it).
    let acked = b.acknowledged_rate as f64;
    assert!(
        acked > our_rate * 0.5 && acked < our_rate * 2.0,
        "{acked} acknowledged vs {our_rate} sent: {b:?}"
    );
    // A clean path: the estimate only grew (from the 300 kbit/s start), and not far
    // beyond what is used.
    let estimate = b.send_estimate.expect("an estimate");
    assert!(estimates.windows(2).all(|w| w[0] <= w[1]), "{estimates:?}");
    assert!(
        estimate as f64 >= our_rate && (estimate as f64) <= our_rate * 2.0 + 10_000.0,
        "{estimate} vs {our_rate} sent: {b:?}"
    );
    assert!(b.queueing_delay < Duration::from_millis(100), "{b:?}");
    assert_eq!(estimates.last().copied(), Some(estimate), "{estimates:?}");
}
