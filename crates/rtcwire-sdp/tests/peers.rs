//! Real peers: ffmpeg writes SDP for its RTP streams, and we read it; ffmpeg receives RTP
//! described by an SDP we built; aiortc (a WebRTC stack) answers an offer we built, and we
//! read its answer.
// Waiting for an external peer process is the one place a test may sleep (bounded).
#![allow(clippy::disallowed_methods)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::net::UdpSocket;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use rtcwire_sdp::{
    Candidate, CandidateKind, Codec, Description, Direction, Fingerprint, FingerprintAlgorithm,
    Group, Media, MediaKind, Sdp, Setup,
};
use rtcwire_sim::peer::{self, ChildGuard};

/// Runs `cmd` with `stdin` as its input and waits at most `secs` seconds for it to exit;
/// returns its status and standard output.
fn run_bounded(cmd: &mut Command, stdin: &str, dir: &Path, secs: u64) -> (ExitStatus, String) {
    let out_path = dir.join(format!("stdout-{}", peer::free_udp_port()));
    let out = std::fs::File::create(&out_path).unwrap();
    let child = cmd
        .stdin(Stdio::piped())
        .stdout(out)
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn peer");
    let mut child = ChildGuard(child);
    child
        .0
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    for _ in 0..secs * 20 {
        if let Some(status) = child.0.try_wait().unwrap() {
            return (status, std::fs::read_to_string(&out_path).unwrap());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("peer did not finish within {secs} s");
}

#[test]
fn ffmpeg_sdp_for_vp8_opus_and_h264_reads_back() {
    if !peer::available("ffmpeg") {
        return;
    }
    let dir = peer::scratch_dir("sdp-ffmpeg-out");
    // Sinks for the RTP ffmpeg sends, so that no port is unreachable.
    let sinks: Vec<UdpSocket> = (0..3)
        .map(|_| UdpSocket::bind("127.0.0.1:0").unwrap())
        .collect();
    let port = |i: usize| sinks[i].local_addr().unwrap().port();
    let sdp_path = dir.join("av.sdp");
    let (status, _) = run_bounded(
        Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-y"])
            .args([
                "-t",
                "0.2",
                "-f",
                "lavfi",
                "-i",
                "testsrc=size=160x120:rate=10",
            ])
            .args(["-t", "0.2", "-f", "lavfi", "-i", "sine=frequency=440"])
            .args([
                "-map",
                "0:v",
                "-c:v",
                "libvpx",
                "-f",
                "rtp",
                &format!("rtp://127.0.0.1:{}", port(0)),
            ])
            .args([
                "-map",
                "1:a",
                "-c:a",
                "libopus",
                "-f",
                "rtp",
                &format!("rtp://127.0.0.1:{}", port(1)),
            ])
            .args([
                "-map",
                "0:v",
                "-c:v",
                "libx264",
                "-f",
                "rtp",
                &format!("rtp://127.0.0.1:{}", port(2)),
            ])
            .arg("-sdp_file")
            .arg(&sdp_path),
        "",
        &dir,
        60,
    );
    assert!(status.success(), "ffmpeg failed: {status}");
    let text = std::fs::read_to_string(&sdp_path).unwrap();
    let sdp = Sdp::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(
        sdp.as_str(),
        text.replace("\r\n", "\n").replace('\n', "\r\n")
    );
    assert_eq!(sdp.session().name(), "No Name");
    assert_eq!(sdp.media_count(), 3);

    let vp8 = sdp.media_at(0).unwrap();
    assert_eq!(
        (vp8.kind(), vp8.port(), vp8.proto()),
        (MediaKind::Video, port(0), "RTP/AVP")
    );
    let c = &vp8.codecs()[0];
    assert_eq!((&*c.name, c.clock_rate), ("VP8", 90_000));
    assert_eq!(vp8.connection().unwrap().address, "127.0.0.1");

    let opus = sdp.media_at(1).unwrap();
    assert_eq!((opus.kind(), opus.port()), (MediaKind::Audio, port(1)));
    let c = &opus.codecs()[0];
    assert_eq!(
        (&*c.name, c.clock_rate, c.channels),
        ("opus", 48_000, Some(2))
    );

    let h264 = sdp.media_at(2).unwrap();
    let c = &h264.codecs()[0];
    assert_eq!(c.name, "H264");
    assert_eq!(c.fmtp_param("packetization-mode"), Some("1"));
    // ffmpeg's session-level a=tool is kept as an unmodelled attribute.
    assert!(sdp.session().attribute("tool").is_some());
    let d = sdp.description();
    assert_eq!(d.to_sdp().unwrap().description(), d);
}

#[test]
fn ffmpeg_decodes_rtp_described_by_our_sdp() {
    if !peer::available("ffmpeg") {
        return;
    }
    let dir = peer::scratch_dir("sdp-ffmpeg-in");
    let port = peer::free_udp_port();
    // What a receiver needs: the port, the payload type and its codec.
    let ours = Description::new(1, 1)
        .with_media(Media {
            connection: Some(rtcwire_sdp::Connection::new("127.0.0.1")),
            ..Media::new(MediaKind::Video, port, "RTP/AVP")
                .with_codec(Codec::new(96, "VP8", 90_000))
                .with_direction(Direction::RecvOnly)
        })
        .to_sdp()
        .unwrap();
    let sdp_path = dir.join("ours.sdp");
    std::fs::write(&sdp_path, ours.as_str()).unwrap();
    let receiver = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-protocol_whitelist",
            "file,udp,rtp",
        ])
        .arg("-i")
        .arg(&sdp_path)
        .args(["-frames:v", "5", "-f", "framemd5"])
        .arg(dir.join("frames.txt"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut receiver = ChildGuard(receiver);
    // Give the receiver a moment to bind, then send 3 s of VP8 at 10 frames/s.
    std::thread::sleep(Duration::from_millis(500));
    let sender = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-re",
            "-t",
            "3",
            "-f",
            "lavfi",
        ])
        .args([
            "-i",
            "testsrc=size=160x120:rate=10",
            "-c:v",
            "libvpx",
            "-g",
            "1",
        ])
        .args([
            "-payload_type",
            "96",
            "-f",
            "rtp",
            &format!("rtp://127.0.0.1:{port}"),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let _sender = ChildGuard(sender);
    let mut status = None;
    for _ in 0..200 {
        if let Some(s) = receiver.0.try_wait().unwrap() {
            status = Some(s);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = status.expect("ffmpeg receiver did not finish within 10 s");
    assert!(status.success(), "ffmpeg receiver failed: {status}");
    let frames = std::fs::read_to_string(dir.join("frames.txt")).unwrap();
    let decoded = frames.lines().filter(|l| !l.starts_with('#')).count();
    assert_eq!(decoded, 5, "ffmpeg decoded {decoded} frames:\n{frames}");
}

/// Reads an offer on stdin, answers it with aiortc, prints the answer. No ICE servers: by
/// default aiortc would query a public STUN server, and tests stay on loopback. The offer
/// carries no candidates, so aiortc sends nothing at all.
const AIORTC_ANSWER: &str = r#"
import asyncio, sys
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

async def main():
    offer = sys.stdin.read()
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
    await pc.setLocalDescription(await pc.createAnswer())
    sys.stdout.write(pc.localDescription.sdp)
    await pc.close()

asyncio.run(main())
"#;

#[test]
fn aiortc_answers_an_offer_we_built() {
    if !peer::python_module("aiortc") {
        return;
    }
    let dir = peer::scratch_dir("sdp-aiortc");
    let script = dir.join("answer.py");
    std::fs::write(&script, AIORTC_ANSWER).unwrap();
    let fp = Fingerprint::new(FingerprintAlgorithm::Sha256, (0u8..32).collect::<Vec<_>>());
    let common = |m: Media<'static>, mid: &'static str| {
        m.with_mid(mid)
            .with_ice("Ours", "OurPassword0123456789abc")
            .with_ice_option("trickle")
            .with_fingerprint(fp.clone())
            .with_setup(Setup::ActPass)
    };
    let offer = Description::new(42, 1)
        .with_group(Group::bundle(["a", "v", "d"]))
        .with_media(
            common(Media::audio(), "a")
                .with_direction(Direction::SendOnly)
                .with_codec(
                    Codec::new(111, "opus", 48_000)
                        .with_channels(2)
                        .with_fmtp("minptime=10;useinbandfec=1"),
                )
                .with_codec(Codec::new(0, "PCMU", 8000))
                .with_extmap(1, "urn:ietf:params:rtp-hdrext:sdes:mid")
                .with_msid("stream", "audio-track")
                .with_ssrc(1111, "our-cname"),
        )
        .with_media(
            common(Media::video(), "v")
                .with_codec(
                    Codec::new(96, "VP8", 90_000)
                        .with_feedback("nack")
                        .with_feedback("nack pli"),
                )
                .with_codec(Codec::new(97, "rtx", 90_000).with_fmtp("apt=96"))
                .with_extmap(1, "urn:ietf:params:rtp-hdrext:sdes:mid"),
        )
        .with_media(common(Media::application(), "d").with_sctp(5000, 262_144));
    let offer_sdp = offer.to_sdp().unwrap();
    let (status, answer) = run_bounded(
        Command::new(peer::python()).arg(&script),
        offer_sdp.as_str(),
        &dir,
        60,
    );
    assert!(
        status.success(),
        "aiortc failed on our offer:\n{}",
        offer_sdp
    );
    let sdp = Sdp::parse(&answer).unwrap_or_else(|e| panic!("{e}\n{answer}"));
    assert_eq!(
        sdp.as_str(),
        answer,
        "aiortc's answer round-trips byte for byte"
    );

    assert_eq!(sdp.session().bundle().unwrap().mids, ["a", "v", "d"]);
    assert_eq!(sdp.media_count(), 3);
    let audio = sdp.media_by_mid("a").unwrap();
    assert_eq!(audio.kind(), MediaKind::Audio);
    assert_eq!(
        audio.direction(),
        Direction::RecvOnly,
        "answer to our sendonly"
    );
    let pts: Vec<u8> = audio.codecs().iter().map(|c| c.payload_type).collect();
    assert_eq!(pts, [111, 0], "aiortc keeps our payload types");
    assert_eq!(audio.codec(111).unwrap().name, "opus");
    assert_eq!(audio.setup(), Some(Setup::Active));
    assert!(audio.rtcp_mux());
    let fps: Vec<_> = audio.fingerprints().collect();
    assert!(fps
        .iter()
        .any(|f| f.algorithm == FingerprintAlgorithm::Sha256 && f.value.len() == 32));
    assert!(audio.ice_ufrag().is_some_and(|u| u.len() >= 4));
    assert!(audio.ice_pwd().is_some_and(|p| p.len() >= 22));
    let cands: Vec<Candidate<'_>> = audio.candidates().collect();
    assert!(cands
        .iter()
        .all(|c| c.kind == CandidateKind::Host || c.kind == CandidateKind::Srflx));

    let video = sdp.media_by_mid("v").unwrap();
    let vp8 = video.codec(96).unwrap();
    assert_eq!(vp8.name, "VP8");
    assert!(vp8.feedback.iter().any(|f| f == "nack pli"));
    assert_eq!(video.codec(97).unwrap().rtx_apt(), Some(96));

    let data = sdp.media_by_mid("d").unwrap();
    assert_eq!(data.kind(), MediaKind::Application);
    assert_eq!(data.sctp_port(), Some(5000));
    assert!(data.max_message_size().is_some());

    let d = sdp.description();
    assert_eq!(d.to_sdp().unwrap().description(), d);
}
