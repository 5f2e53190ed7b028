//! Media through the driver with a real aiortc (Python) on 127.0.0.1. aiortc offers VP8
//! video and Opus audio from its test sources; the driven session echoes every frame back
//! on the same transceivers and aiortc counts what it decodes of the echo. Then we offer
//! and send VP8 frames ffmpeg's libvpx encoded from a test pattern; aiortc decodes them.
//! Skipped when aiortc (or ffmpeg) is missing; fails instead with RTCWIRE_REQUIRE_PEERS=1.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{loopback, within};
use rtcwire_sim::peer;
use rtcwire_tokio::{
    Codec, Direction, Event, MediaKind, PeerConnection, SessionDescription, TransceiverInit,
};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

/// Shared by both roles: loopback only; decodes every received track and prints the
/// counts when stdin says "done" (or after 40 s).
const COMMON: &str = r#"
import asyncio, sys
import aioice.ice
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription, RTCRtpSender
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack, MediaStreamError

decoded = {"audio": 0, "video": 0, "size": "0x0"}

def consume(pc):
    @pc.on("track")
    def on_track(track):
        async def run():
            while True:
                try:
                    frame = await track.recv()
                except MediaStreamError:
                    return
                decoded[track.kind] += 1
                if track.kind == "video":
                    decoded["size"] = "%dx%d" % (frame.width, frame.height)
        asyncio.ensure_future(run())

def read_sdp():
    lines = []
    for line in sys.stdin:
        if line.strip() == "%%END%%":
            break
        lines.append(line.rstrip("\r\n"))
    return "\r\n".join(lines) + "\r\n"

def write_sdp(pc):
    sys.stdout.write(pc.localDescription.sdp + "\n%%END%%\n")
    sys.stdout.flush()

async def report(pc):
    loop = asyncio.get_event_loop()
    await asyncio.wait_for(loop.run_in_executor(None, sys.stdin.readline), 40)
    await asyncio.sleep(0.5)
    print("DECODED %d %d %s" % (decoded["video"], decoded["audio"], decoded["size"]), flush=True)
    await pc.close()
"#;

/// aiortc offers sendrecv audio and video (VP8 only) from its test sources.
const OFFERS: &str = r#"
async def main():
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    consume(pc)
    pc.addTransceiver(AudioStreamTrack(), direction="sendrecv")
    video = pc.addTransceiver(VideoStreamTrack(), direction="sendrecv")
    vp8 = [c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType in ("video/VP8", "video/rtx")]
    video.setCodecPreferences(vp8)
    await pc.setLocalDescription(await pc.createOffer())
    write_sdp(pc)
    await pc.setRemoteDescription(RTCSessionDescription(sdp=read_sdp(), type="answer"))
    await report(pc)

asyncio.run(main())
"#;

/// aiortc answers our offer and only receives.
const ANSWERS: &str = r#"
async def main():
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    consume(pc)
    await pc.setRemoteDescription(RTCSessionDescription(sdp=read_sdp(), type="offer"))
    await pc.setLocalDescription(await pc.createAnswer())
    write_sdp(pc)
    await report(pc)

asyncio.run(main())
"#;

struct Aiortc {
    _child: Child,
    stdin: ChildStdin,
    lines: mpsc::UnboundedReceiver<String>,
}

impl Aiortc {
    fn start(tag: &str, role: &str) -> Aiortc {
        let dir = peer::scratch_dir(tag);
        let script = dir.join("peer.py");
        std::fs::write(&script, format!("{COMMON}\n{role}")).unwrap();
        let mut child = Command::new(peer::python())
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut r = BufReader::new(stdout).lines();
            while let Ok(Some(l)) = r.next_line().await {
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        Aiortc {
            _child: child,
            stdin,
            lines,
        }
    }

    async fn write(&mut self, text: &str) {
        self.stdin.write_all(text.as_bytes()).await.unwrap();
        self.stdin.flush().await.unwrap();
    }

    async fn send_sdp(&mut self, desc: &SessionDescription) {
        self.write(&format!("{}\n%%END%%\n", desc.sdp.trim_end()))
            .await;
    }

    async fn read_sdp(&mut self) -> String {
        let mut sdp = String::new();
        loop {
            let line = within("aiortc's description", self.lines.recv())
                .await
                .expect("aiortc wrote its description");
            if line == "%%END%%" {
                return sdp.trim_end().to_owned() + "\r\n";
            }
            sdp.push_str(&line);
            sdp.push_str("\r\n");
        }
    }

    /// Says "done"; returns what aiortc decoded: video frames, audio frames, video size.
    async fn report(&mut self) -> (u32, u32, String) {
        self.write("done\n").await;
        loop {
            let line = within("aiortc's report", self.lines.recv()).await.unwrap();
            if let Some(rest) = line.strip_prefix("DECODED ") {
                let p: Vec<&str> = rest.split_whitespace().collect();
                return (
                    p[0].parse().unwrap(),
                    p[1].parse().unwrap(),
                    p[2].to_owned(),
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aiortc_offers_audio_and_video_and_decodes_our_echo() {
    if !peer::python_module("aiortc") {
        return;
    }
    let mut aio = Aiortc::start("tokio-media-echo", OFFERS);
    let offer = aio.read_sdp().await;
    let (pc, mut events) = PeerConnection::new(loopback()).await.unwrap();
    pc.set_remote_description(SessionDescription::offer(offer))
        .await
        .unwrap();
    for t in pc.transceivers().await.unwrap() {
        t.set_direction(Direction::SendRecv).await.unwrap();
    }
    let answer = pc.create_answer().await.unwrap();
    pc.set_local_description(answer.clone()).await.unwrap();
    aio.send_sdp(&answer).await;
    within("connected", pc.connected()).await.unwrap();

    // Echo every frame back; count them and keep the video sizes and keyframe flags.
    let video: Arc<std::sync::Mutex<Vec<(bool, usize)>>> = Arc::default();
    let audio = Arc::new(AtomicUsize::new(0));
    let asked = Arc::new(AtomicUsize::new(0));
    let mut tracks = Vec::new();
    while tracks.len() < 2 {
        match within("tracks", events.next_event()).await.unwrap() {
            Event::Track(t) => tracks.push(t),
            _ => continue,
        }
    }
    for mut track in tracks {
        let (video, audio, asked) = (video.clone(), audio.clone(), asked.clone());
        let back = track.transceiver().clone();
        let mut requests = back.clone();
        tokio::spawn(async move {
            while requests.next_keyframe_request().await.is_ok() {
                asked.fetch_add(1, Ordering::Relaxed);
                let _ = requests.request_keyframe().await;
            }
        });
        tokio::spawn(async move {
            while let Some(f) = track.recv().await {
                match f.codec {
                    Codec::Vp8 => video.lock().unwrap().push((f.keyframe, f.data.len())),
                    Codec::Opus => drop(audio.fetch_add(1, Ordering::Relaxed)),
                    other => panic!("unexpected codec {other:?}"),
                }
                let pt = back.payload_type(f.codec).await.unwrap().unwrap();
                back.write_frame(pt, f.rtp_timestamp, &f.data)
                    .await
                    .unwrap();
            }
        });
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (decoded_video, decoded_audio, size) = aio.report().await;
    let stats = pc.get_stats().await.unwrap();
    let ours = video.lock().unwrap().clone();
    let audio = audio.load(Ordering::Relaxed);
    println!(
        "aiortc → rtcwire-tokio → aiortc: we got {} VP8 frames ({} keyframes, {}..{} bytes) and {audio} Opus frames, echoed them; aiortc decoded {decoded_video} video frames at {size} and {decoded_audio} audio frames; {} keyframe requests from aiortc; outbound {:?}",
        ours.len(),
        ours.iter().filter(|v| v.0).count(),
        ours.iter().map(|v| v.1).min().unwrap_or(0),
        ours.iter().map(|v| v.1).max().unwrap_or(0),
        asked.load(Ordering::Relaxed),
        stats.outbound_rtp,
    );
    // aiortc sends 30 video frames and 50 Opus packets a second; allow for its start-up.
    assert!(ours.len() >= 90, "VP8 frames received: {}", ours.len());
    assert!(audio >= 150, "Opus frames received: {audio}");
    assert!(ours[0].0, "the first VP8 frame is a keyframe");
    assert!(ours.iter().all(|v| v.1 > 10));
    assert_eq!(size, "640x480", "aiortc's test source size");
    // Most of what we echoed decodes on aiortc's side (the last few may be in flight).
    assert!(
        decoded_video as usize + 10 >= ours.len(),
        "aiortc decoded {decoded_video} of {} echoed video frames",
        ours.len()
    );
    assert!(
        decoded_audio as usize + 25 >= audio,
        "aiortc decoded {decoded_audio} of {audio} echoed audio frames"
    );
    pc.close().await.unwrap();
}

/// VP8 frames from an IVF file (32-byte header, then 12-byte frame headers).
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn we_send_ffmpeg_vp8_and_aiortc_decodes_every_frame() {
    if !peer::python_module("aiortc") || !peer::available("ffmpeg") {
        return;
    }
    let dir = peer::scratch_dir("tokio-media-vp8");
    let ivf = dir.join("pattern.ivf");
    let ok = std::process::Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y", "-f", "lavfi", "-i"])
        .arg("testsrc=size=320x240:rate=30")
        .args(["-frames:v", "30", "-c:v", "libvpx", "-g", "30", "-f", "ivf"])
        .arg(&ivf)
        .status()
        .unwrap();
    assert!(ok.success(), "ffmpeg encodes the test pattern");
    let frames = ivf_frames(&std::fs::read(&ivf).unwrap());
    assert_eq!(frames.len(), 30);

    let (pc, _events) = PeerConnection::new(loopback()).await.unwrap();
    let video = pc
        .add_transceiver(
            MediaKind::Video,
            TransceiverInit {
                direction: Direction::SendOnly,
                stream_ids: vec!["pattern".into()],
            },
        )
        .await
        .unwrap();
    let offer = pc.create_offer().await.unwrap();
    pc.set_local_description(offer.clone()).await.unwrap();
    let mut aio = Aiortc::start("tokio-media-vp8", ANSWERS);
    aio.send_sdp(&offer).await;
    let answer = aio.read_sdp().await;
    pc.set_remote_description(SessionDescription::answer(answer))
        .await
        .unwrap();
    assert_eq!(
        video.current_direction().await.unwrap(),
        Some(Direction::SendOnly)
    );
    let pt = video.payload_type(Codec::Vp8).await.unwrap().unwrap();
    within("connected", pc.connected()).await.unwrap();
    let total = 90u32;
    let mut tick = tokio::time::interval(Duration::from_millis(33));
    for n in 0..total {
        tick.tick().await;
        let f = &frames[(n % 30) as usize];
        video.write_frame(pt, n * 3000, f).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (decoded, _, size) = aio.report().await;
    let stats = pc.get_stats().await.unwrap();
    let o = stats.outbound_rtp.first().unwrap();
    println!(
        "rtcwire-tokio → aiortc: {decoded} of {total} VP8 frames decoded at {size}; {} keyframe requests; {o:?}",
        video.keyframe_requests()
    );
    assert_eq!(o.frames_sent, u64::from(total));
    assert_eq!(size, "320x240");
    // aiortc's jitter buffer may still hold the last frame or two.
    assert!(decoded >= total - 3, "aiortc decoded {decoded} of {total}");
    pc.close().await.unwrap();
}
