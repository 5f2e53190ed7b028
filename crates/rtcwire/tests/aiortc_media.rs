//! Media with a real external peer: aiortc (Python) sends VP8 video and Opus audio from
//! its test sources and we depacketize the frames; we send real VP8 frames (encoded by
//! ffmpeg's libvpx from a test pattern) and aiortc decodes them. Loopback only. Skipped
//! when aiortc or ffmpeg is missing (fails instead with RTCWIRE_REQUIRE_PEERS=1).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::disallowed_methods // a real peer runs on the real clock
)]

use std::io::{BufRead, BufReader, Write};
use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rtcwire::{
    Codec, Config, Datagram, Direction, Event, Input, MediaKind, Output, PeerConnection,
    PeerConnectionState, SessionDescription, TransceiverInit,
};
use rtcwire_sim::peer;

/// Offers an audio and a video track from aiortc's test sources (silence, green frames;
/// VP8 preferred), reads our answer, sends until stdin closes (at most 20 s), exits.
const AIORTC_SENDS: &str = r#"
import asyncio, sys
import aioice.ice
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription, RTCRtpSender
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack

async def main():
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTrack(AudioStreamTrack())
    video = pc.addTransceiver(VideoStreamTrack(), direction="sendonly")
    vp8 = [c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType in ("video/VP8", "video/rtx")]
    video.setCodecPreferences(vp8)
    await pc.setLocalDescription(await pc.createOffer())
    sys.stdout.write(pc.localDescription.sdp)
    sys.stdout.write("\n%%END%%\n")
    sys.stdout.flush()
    lines = []
    for line in sys.stdin:
        if line.strip() == "%%END%%":
            break
        lines.append(line.rstrip("\r\n"))
    await pc.setRemoteDescription(RTCSessionDescription(sdp="\r\n".join(lines) + "\r\n", type="answer"))
    loop = asyncio.get_event_loop()
    await asyncio.wait_for(loop.run_in_executor(None, sys.stdin.readline), 20)
    await pc.close()

asyncio.run(main())
"#;

/// Answers our offer, decodes every frame of the track we send, prints how many (and
/// their size) once 20 s passed or stdin says "done".
const AIORTC_RECEIVES: &str = r#"
import asyncio, sys
import aioice.ice
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

async def main():
    lines = []
    for line in sys.stdin:
        if line.strip() == "%%END%%":
            break
        lines.append(line.rstrip("\r\n"))
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    decoded = {"n": 0, "w": 0, "h": 0}

    @pc.on("track")
    def on_track(track):
        async def consume():
            while True:
                try:
                    frame = await track.recv()
                except MediaStreamError:
                    return
                decoded["n"] += 1
                decoded["w"], decoded["h"] = frame.width, frame.height
        asyncio.ensure_future(consume())

    await pc.setRemoteDescription(RTCSessionDescription(sdp="\r\n".join(lines) + "\r\n", type="offer"))
    await pc.setLocalDescription(await pc.createAnswer())
    sys.stdout.write(pc.localDescription.sdp)
    sys.stdout.write("\n%%END%%\n")
    sys.stdout.flush()
    loop = asyncio.get_event_loop()
    await asyncio.wait_for(loop.run_in_executor(None, sys.stdin.readline), 30)
    await asyncio.sleep(0.5)
    print("DECODED %d %dx%d" % (decoded["n"], decoded["w"], decoded["h"]), flush=True)
    await pc.close()

asyncio.run(main())
"#;

/// Reads lines of `child`'s stdout on a thread.
fn lines_of(stdout: std::process::ChildStdout) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

fn read_sdp(rx: &mpsc::Receiver<String>) -> String {
    let mut sdp = String::new();
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("aiortc wrote its description");
        if line == "%%END%%" {
            break;
        }
        sdp.push_str(&line);
        sdp.push_str("\r\n");
    }
    sdp.trim_end().to_owned() + "\r\n"
}

/// One pass of the run loop on a real socket: outputs drained, then one datagram or a
/// timeout. Events are handed to `on_event`.
fn step(
    pc: &mut PeerConnection,
    sock: &UdpSocket,
    buf: &mut Vec<u8>,
    rx: &mut [u8],
    on_event: &mut dyn FnMut(&mut PeerConnection, Event),
) {
    let local = sock.local_addr().unwrap();
    let next = loop {
        buf.clear();
        match pc.poll_output(buf) {
            Output::Transmit(t) => {
                let _ = sock.send_to(&buf[..t.size], t.destination.unwrap());
            }
            Output::Event(Event::ConnectionStateChange(PeerConnectionState::Failed)) => {
                panic!("the connection failed:\n{:?}", pc.get_stats())
            }
            Output::Event(e) => on_event(pc, e),
            Output::Timeout(t) => break t,
        }
    };
    let wait = next
        .saturating_duration_since(Instant::now())
        .clamp(Duration::from_millis(1), Duration::from_millis(5));
    sock.set_read_timeout(Some(wait)).unwrap();
    match sock.recv_from(rx) {
        Ok((n, from)) => {
            let _ = pc.handle_input(Input::Receive(
                Instant::now(),
                Datagram::udp(from, local, &rx[..n]),
            ));
        }
        Err(_) => pc.handle_input(Input::Timeout(Instant::now())).unwrap(),
    }
}

#[test]
fn aiortc_sends_vp8_and_opus_and_we_depacketize_the_frames() {
    if !peer::python_module("aiortc") {
        return;
    }
    let dir = peer::scratch_dir("media-aiortc-sends");
    let script = dir.join("sends.py");
    std::fs::write(&script, AIORTC_SENDS).unwrap();
    let mut child = peer::ChildGuard(
        Command::new(peer::python())
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let out = lines_of(child.0.stdout.take().unwrap());
    let offer = read_sdp(&out);

    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let start = Instant::now();
    let mut pc = PeerConnection::new(Config::default(), start).unwrap();
    pc.add_local_candidate(sock.local_addr().unwrap()).unwrap();
    pc.end_of_local_candidates();
    pc.set_remote_description(SessionDescription::offer(offer.clone()))
        .unwrap_or_else(|e| panic!("{e}\n{offer}"));
    let answer = pc.create_answer().unwrap();
    pc.set_local_description(answer.clone()).unwrap();
    let mut stdin = child.0.stdin.take().unwrap();
    stdin.write_all(answer.sdp.as_bytes()).unwrap();
    stdin.write_all(b"\n%%END%%\n").unwrap();
    stdin.flush().unwrap();

    let mut tracks = Vec::new();
    let mut video = Vec::new();
    let mut audio = 0usize;
    let mut buf = Vec::with_capacity(1500);
    let mut rx = vec![0u8; 2048];
    let deadline = start + Duration::from_secs(20);
    let mut connected_at = None;
    while connected_at.is_none_or(|t: Instant| t.elapsed() < Duration::from_secs(4)) {
        assert!(Instant::now() < deadline, "no media from aiortc in time");
        step(&mut pc, &sock, &mut buf, &mut rx, &mut |pc, e| match e {
            Event::Track {
                transceiver, kind, ..
            } => tracks.push((transceiver, kind)),
            Event::MediaFrame(f) => match f.codec {
                Codec::Vp8 => video.push((f.keyframe, f.data.len(), f.data[0] & 1 == 0)),
                Codec::Opus => audio += 1,
                other => panic!("unexpected codec {other:?}"),
            },
            Event::ConnectionStateChange(PeerConnectionState::Connected) => {
                connected_at = Some(Instant::now());
                let _ = pc;
            }
            _ => {}
        });
    }
    assert_eq!(tracks.len(), 2, "ontrack for audio and video: {tracks:?}");
    assert!(tracks.iter().any(|(_, k)| *k == MediaKind::Video));
    // aiortc sends 30 frames/s and 50 Opus packets/s; allow for its start-up.
    assert!(video.len() >= 60, "VP8 frames: {}", video.len());
    assert!(audio >= 100, "Opus frames: {audio}");
    // Our keyframe flag agrees with the VP8 payload header's P bit on every frame.
    assert!(video.iter().all(|(k, _, bit)| k == bit));
    assert!(video.iter().all(|(_, size, _)| *size > 10));
    let stats = pc.get_stats();
    let v = stats
        .inbound_rtp
        .iter()
        .find(|s| s.codec == Codec::Vp8)
        .unwrap();
    // The stream starts with a keyframe; were its first packets lost on a loaded
    // machine (a full socket buffer), our keyframe request brings one.
    if v.packets_lost == 0 {
        assert!(video[0].0, "the first VP8 frame is a keyframe");
    } else {
        assert!(
            video.iter().any(|f| f.0),
            "a keyframe after our request: {v:?}"
        );
    }
    assert_eq!(v.frames_received as usize, video.len());
    println!(
        "aiortc → rtcwire: {} VP8 frames ({} keyframes, {}..{} bytes), {} Opus frames; {:?}",
        video.len(),
        video.iter().filter(|(k, _, _)| *k).count(),
        video.iter().map(|v| v.1).min().unwrap(),
        video.iter().map(|v| v.1).max().unwrap(),
        audio,
        v
    );
    pc.close();
    drop(stdin); // aiortc stops sending and exits
    let status = child.0.wait().unwrap();
    assert!(status.success(), "aiortc exited with {status}");
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

#[test]
fn we_send_vp8_frames_and_aiortc_decodes_them() {
    if !peer::python_module("aiortc") || !peer::available("ffmpeg") {
        return;
    }
    let dir = peer::scratch_dir("media-aiortc-receives");
    let ivf = dir.join("pattern.ivf");
    let ok = Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y", "-f", "lavfi", "-i"])
        .arg("testsrc=size=320x240:rate=30")
        .args(["-frames:v", "30", "-c:v", "libvpx", "-g", "30", "-f", "ivf"])
        .arg(&ivf)
        .status()
        .unwrap();
    assert!(ok.success(), "ffmpeg encodes the test pattern");
    let frames = ivf_frames(&std::fs::read(&ivf).unwrap());
    assert_eq!(frames.len(), 30);
    assert_eq!(frames[0][0] & 1, 0, "IVF starts with a keyframe");

    let script = dir.join("receives.py");
    std::fs::write(&script, AIORTC_RECEIVES).unwrap();
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let start = Instant::now();
    let mut pc = PeerConnection::new(Config::default(), start).unwrap();
    pc.add_local_candidate(sock.local_addr().unwrap()).unwrap();
    pc.end_of_local_candidates();
    let video = pc
        .add_transceiver(
            MediaKind::Video,
            TransceiverInit {
                direction: Direction::SendOnly,
                stream_ids: vec!["pattern".into()],
            },
        )
        .unwrap();
    let offer = pc.create_offer().unwrap();
    pc.set_local_description(offer.clone()).unwrap();
    let mut child = peer::ChildGuard(
        Command::new(peer::python())
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let mut stdin = child.0.stdin.take().unwrap();
    stdin.write_all(offer.sdp.as_bytes()).unwrap();
    stdin.write_all(b"\n%%END%%\n").unwrap();
    stdin.flush().unwrap();
    let out = lines_of(child.0.stdout.take().unwrap());
    let answer = read_sdp(&out);
    pc.set_remote_description(SessionDescription::answer(answer.clone()))
        .unwrap_or_else(|e| panic!("{e}\n{answer}"));
    assert_eq!(pc.current_direction(video), Some(Direction::SendOnly));
    let pt = pc.payload_type(video, Codec::Vp8).expect("VP8 negotiated");

    let mut buf = Vec::with_capacity(1500);
    let mut rx = vec![0u8; 2048];
    let deadline = start + Duration::from_secs(20);
    let mut sent = 0u32;
    let mut next_frame: Option<Instant> = None;
    let mut plis = 0;
    let total = 60u32;
    while sent < total {
        assert!(Instant::now() < deadline, "sent only {sent} frames in time");
        step(&mut pc, &sock, &mut buf, &mut rx, &mut |_, e| {
            if let Event::KeyframeRequest { .. } = e {
                plis += 1;
            }
        });
        if pc.connection_state() != PeerConnectionState::Connected {
            continue;
        }
        let due = *next_frame.get_or_insert_with(Instant::now);
        if Instant::now() >= due {
            let f = &frames[(sent % 30) as usize];
            pc.write_frame(video, pt, sent * 3000, f).unwrap();
            sent += 1;
            next_frame = Some(due + Duration::from_millis(33));
        }
    }
    // Let the last frames and RTCP go, then tell aiortc to report.
    let settle = Instant::now();
    while settle.elapsed() < Duration::from_millis(500) {
        step(&mut pc, &sock, &mut buf, &mut rx, &mut |_, _| {});
    }
    stdin.write_all(b"done\n").unwrap();
    stdin.flush().unwrap();
    let report = loop {
        step(&mut pc, &sock, &mut buf, &mut rx, &mut |_, _| {});
        if let Ok(line) = out.try_recv() {
            if line.starts_with("DECODED") {
                break line;
            }
        }
        assert!(
            Instant::now() < deadline + Duration::from_secs(10),
            "no report from aiortc"
        );
    };
    let parts: Vec<&str> = report.split_whitespace().collect();
    let decoded: u32 = parts[1].parse().unwrap();
    assert_eq!(parts[2], "320x240", "{report}");
    // aiortc's jitter buffer may still hold the last frame or two.
    assert!(decoded >= total - 3, "aiortc decoded {decoded} of {total}");
    let stats = pc.get_stats();
    let o = stats.outbound_rtp.first().unwrap();
    assert_eq!(o.frames_sent, u64::from(total));
    println!("rtcwire → aiortc: {decoded} of {total} VP8 frames decoded at 320x240; {plis} keyframe requests; {o:?}");
    pc.close();
    let _ = child.0.wait();
}
