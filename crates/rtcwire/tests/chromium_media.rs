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

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rtcwire::{
    Codec, Config, Datagram, Direction, Event, Input, MediaKind, Output, PeerConnection,
    PeerConnectionState, SessionDescription, TransceiverInit,
};
use rtcwire_sim::peer;

const CHROMIUM: &str = "/usr/lib/chromium/chromium";
const INSIDE: &str = "RTCWIRE_MEDIA_NETNS";
/// Inside the namespace: drop every Nth RTP datagram each way (0: none).
const LOSS: &str = "RTCWIRE_MEDIA_LOSS_EVERY";

const PAGE: &str = r#"<!doctype html><meta charset="utf-8"><title>rtcwire media</title>
<script>
(async () => {
  const post = (path, body) => fetch(path, { method: "POST", body });
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 320, height: 240 } });
    const pc = new RTCPeerConnection();
    const offer = await (await fetch("/offer")).text();
    await pc.setRemoteDescription({ type: "offer", sdp: offer });
    for (const track of stream.getTracks()) pc.addTrack(track, stream);
    await pc.setLocalDescription(await pc.createAnswer());
    await new Promise((done) => {
      if (pc.iceGatheringState === "complete") return done();
      pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && done();
    });
    await post("/answer", pc.localDescription.sdp);
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
  } catch (e) {
    await post("/result", JSON.stringify({ error: String(e) }));
  }
})();
</script>"#;

/// The network namespace, deleted on drop.
struct Netns(String);

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

#[test]
fn chromium_sends_and_decodes_vp8_video() {
    in_namespace("chromium_sends_and_decodes_vp8_video", 0);
}

/// Every 20th RTP datagram is dropped each way (5 %): Chromium NACKs what we lost and we
/// send it again (RTX); we NACK what it lost and it sends it again.
#[test]
fn chromium_and_rtcwire_repair_loss_with_nack_both_ways() {
    in_namespace("chromium_and_rtcwire_repair_loss_with_nack_both_ways", 20);
}

fn in_namespace(test: &str, loss_every: u32) {
    if std::env::var(INSIDE).is_ok() {
        let every = std::env::var(LOSS)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        inside(every);
        return;
    }
    if !peer::available(CHROMIUM) || !peer::available("ffmpeg") || !peer::available("ip") {
        return;
    }
    let name = format!("rtcwire-media-{}", std::process::id());
    let made = Command::new("ip")
        .args(["netns", "add", &name])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !made {
        assert!(
            !peer::required(),
            "cannot create a network namespace (root needed)"
        );
        return;
    }
    let ns = Netns(name);
    let up = Command::new("ip")
        .args(["-n", &ns.0, "link", "set", "lo", "up"])
        .status()
        .unwrap();
    assert!(up.success());
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("ip")
        .args(["netns", "exec", &ns.0])
        .arg(&exe)
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(INSIDE, "1")
        .env(LOSS, loss_every.to_string())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for line in text.lines() {
        if let Some(at) = line.find("chromium: ") {
            println!("{}", &line[at..]);
        }
    }
    assert!(
        out.status.success(),
        "inside the namespace:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(ns);
}

/// What the HTTP thread hands the run loop.
enum Http {
    Answer(String),
    Result(String),
}

fn serve(listener: TcpListener, offer: String, tx: mpsc::Sender<Http>) {
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { return };
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut request = String::new();
        if reader.read_line(&mut request).is_err() {
            continue;
        }
        let mut length = 0usize;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                break;
            }
            if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0u8; length];
        let _ = reader.read_exact(&mut body);
        let body = String::from_utf8_lossy(&body).into_owned();
        let path = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
        let (kind, reply) = match path.as_str() {
            "/" => ("text/html", PAGE.to_owned()),
            "/offer" => ("application/sdp", offer.clone()),
            "/answer" => {
                let _ = tx.send(Http::Answer(body));
                ("text/plain", String::new())
            }
            "/result" => {
                let _ = tx.send(Http::Result(body));
                ("text/plain", String::new())
            }
            _ => ("text/plain", String::new()),
        };
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
            reply.len()
        );
    }
}

fn ivf_frames(bytes: &[u8]) -> Vec<Vec<u8>> {
    assert_eq!(&bytes[..4], b"DKIF");
    let mut at = usize::from(u16::from_le_bytes([bytes[6], bytes[7]]));
    let mut frames = Vec::new();
    while at + 12 <= bytes.len() {
        let size = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        at += 12;
        frames.push(bytes[at..at + size].to_vec());
        at += size;
    }
    frames
}

/// A number after `"key":` in a flat JSON object.
fn number(json: &str, key: &str) -> Option<f64> {
    let at = json.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = &json[at..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim().parse().ok()
}

/// An RTP (not RTCP) datagram: RFC 7983 first byte 128-191, RFC 5761 second byte.
fn is_rtp(d: &[u8]) -> bool {
    matches!(d, [128..=191, b, ..] if !(192..=223).contains(b))
}

fn inside(loss_every: u32) {
    let (mut out_rtp, mut in_rtp, mut dropped) = (0u32, 0u32, 0u32);
    let mut drop_it = |count: &mut u32, d: &[u8]| {
        if loss_every == 0 || !is_rtp(d) {
            return false;
        }
        *count += 1;
        let drop = *count % loss_every == 0;
        dropped += u32::from(drop);
        drop
    };
    let dir = peer::scratch_dir("media-chromium");
    let ivf = dir.join("pattern.ivf");
    let ok = Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y", "-f", "lavfi", "-i"])
        .arg("testsrc=size=320x240:rate=30")
        .args(["-frames:v", "30", "-c:v", "libvpx", "-g", "30", "-f", "ivf"])
        .arg(&ivf)
        .status()
        .unwrap();
    assert!(ok.success());
    let pattern = ivf_frames(&std::fs::read(&ivf).unwrap());

    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let local = sock.local_addr().unwrap();
    let start = Instant::now();
    let mut pc = PeerConnection::new(Config::default(), start).unwrap();
    pc.add_local_candidate(local).unwrap();
    pc.end_of_local_candidates();
    let video = pc.add_track(MediaKind::Video, &["rtcwire"]).unwrap();
    // Chromium's fake microphone comes in on a receive-only audio transceiver.
    pc.add_transceiver(
        MediaKind::Audio,
        TransceiverInit {
            direction: Direction::RecvOnly,
            stream_ids: Vec::new(),
        },
    )
    .unwrap();
    let offer = pc.create_offer().unwrap();
    pc.set_local_description(offer.clone()).unwrap();

    let http = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", http.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || serve(http, offer.sdp, tx));
    let profile = dir.join("profile");
    let mut browser = peer::ChildGuard(
        Command::new(CHROMIUM)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-default-apps",
                "--disable-extensions",
                "--mute-audio",
                "--use-fake-device-for-media-stream",
                "--use-fake-ui-for-media-stream",
                "--allow-loopback-in-peer-connection",
                "--disable-features=WebRtcHideLocalIpsWithMdns",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(&url)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );

    let deadline = start + Duration::from_secs(40);
    let answer = loop {
        assert!(Instant::now() < deadline, "no answer from Chromium");
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(Http::Answer(a)) => break a,
            Ok(Http::Result(r)) => panic!("the page failed early: {r}"),
            Err(_) => {}
        }
    };
    pc.set_remote_description(SessionDescription::answer(answer.clone()))
        .unwrap_or_else(|e| panic!("{e}\n{answer}"));
    let pt = pc.payload_type(video, Codec::Vp8).expect("VP8 negotiated");

    let mut buf = Vec::with_capacity(1500);
    let mut datagram = vec![0u8; 2048];
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
            pc.connection_state()
        );
        if let Ok(Http::Result(r)) = rx.try_recv() {
            break r;
        }
        let next = loop {
            buf.clear();
            match pc.poll_output(&mut buf) {
                Output::Transmit(t) => {
                    if !drop_it(&mut out_rtp, &buf[..t.size]) {
                        let _ = sock.send_to(&buf[..t.size], t.destination.unwrap());
                    }
                }
                Output::Event(Event::MediaFrame(f)) if f.codec == Codec::Opus => {
                    audio_frames += 1;
                }
                Output::Event(Event::MediaFrame(f)) => {
                    assert_eq!(f.codec, Codec::Vp8);
                    received.push((f.keyframe, f.data.len(), f.codec));
                }
                Output::Event(Event::KeyframeRequest { .. }) => requests += 1,
                Output::Event(Event::ConnectionStateChange(PeerConnectionState::Failed)) => {
                    panic!("the connection failed: {:?}", pc.get_stats())
                }
                Output::Event(_) => {}
                Output::Timeout(t) => break t,
            }
        };
        if pc.connection_state() == PeerConnectionState::Connected && sent < 150 {
            let due = *next_frame.get_or_insert_with(Instant::now);
            if Instant::now() >= due {
                let f = &pattern[(sent % 30) as usize];
                pc.write_frame(video, pt, sent * 3000, f).unwrap();
                sent += 1;
                next_frame = Some(due + Duration::from_millis(33));
                continue;
            }
        }
        let wait = next
            .saturating_duration_since(Instant::now())
            .clamp(Duration::from_millis(1), Duration::from_millis(5));
        sock.set_read_timeout(Some(wait)).unwrap();
        match sock.recv_from(&mut datagram) {
            Ok((n, _)) if drop_it(&mut in_rtp, &datagram[..n]) => {}
            Ok((n, from)) => {
                let _ = pc.handle_input(Input::Receive(
                    Instant::now(),
                    Datagram::udp(from, local, &datagram[..n]),
                ));
            }
            Err(_) => pc.handle_input(Input::Timeout(Instant::now())).unwrap(),
        }
    };
    pc.close();
    let _ = browser.0.kill();
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
