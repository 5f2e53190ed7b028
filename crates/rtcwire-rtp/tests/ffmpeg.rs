//! Real peer: ffmpeg's RTP packetizers (libvpx VP8, libx264 H.264, libopus Opus) send to a
//! loopback socket; our jitter buffer and depacketizers rebuild the frames, and the frame
//! count and keyframe positions must equal what ffprobe reports for the same encode
//! written to a file with the same encoder settings, and the frames must equal the file's
//! byte for byte (VP8 and VP9 from IVF; H.264 as the same NAL units).
// `Instant::now()` only gives the jitter buffer a base instant; no test logic reads the clock.
#![allow(clippy::disallowed_methods)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)]

use rtcwire_rtp::codec::{
    Depacketizer, Frame, FrameAssembler, H264Depacketizer, OpusDepacketizer, Vp8Depacketizer,
    Vp9Depacketizer,
};
use rtcwire_rtp::jitter::JitterBuffer;
use rtcwire_rtp::rtp::RtpPacket;
use rtcwire_sim::peer::{self, ChildGuard};
use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Runs ffmpeg with `input` and `encoder` args sending RTP to a fresh loopback port and
/// returns every RTP datagram received, in arrival order.
fn capture_rtp(input: &[&str], encoder: &[&str]) -> Vec<Vec<u8>> {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let rtcp = UdpSocket::bind("127.0.0.1:0").unwrap(); // ffmpeg's RTCP goes here, unread
    let port = sock.local_addr().unwrap().port();
    let rtcp_port = rtcp.local_addr().unwrap().port();
    sock.set_read_timeout(Some(Duration::from_millis(250)))
        .unwrap();
    let url = format!("rtp://127.0.0.1:{port}?rtcpport={rtcp_port}&pkt_size=1200");
    let child = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-re"])
        .args(input)
        .args(encoder)
        .args(["-f", "rtp", &url])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn ffmpeg");
    let mut child = ChildGuard(child);
    let mut packets = Vec::new();
    let mut buf = [0u8; 2048];
    let mut exited_idle = 0;
    // Bounded: at most 240 idle timeouts of 250 ms (60 s) while waiting for the peer.
    for _ in 0..240 {
        match sock.recv(&mut buf) {
            Ok(n) => packets.push(buf[..n].to_vec()),
            Err(_) => {
                if child.0.try_wait().unwrap().is_some() {
                    exited_idle += 1;
                    if exited_idle >= 2 {
                        break;
                    }
                }
            }
        }
        if packets.len() > 100_000 {
            break;
        }
    }
    let status = child.0.wait().unwrap();
    assert!(status.success(), "ffmpeg failed: {status}");
    packets
}

/// Encodes the same input to `file` and returns ffprobe's key flag per frame (video) or a
/// `true` per packet (audio).
fn probe_reference(
    input: &[&str],
    encoder: &[&str],
    file: &std::path::Path,
    audio: bool,
) -> Vec<bool> {
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(input)
        .args(encoder)
        .arg(file)
        .status()
        .unwrap();
    assert!(status.success());
    let entries = if audio {
        "packet=flags"
    } else {
        "frame=key_frame"
    };
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            if audio { "a:0" } else { "v:0" },
        ])
        .args(["-show_entries", entries, "-of", "csv=p=0"])
        .arg(file)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            if audio {
                l.contains('K')
            } else {
                l.trim().starts_with('1')
            }
        })
        .collect()
}

/// Reorders through the jitter buffer and assembles; returns each frame's keyframe flag.
fn depacketize<D: Depacketizer>(packets: &[Vec<u8>], d: D) -> (Vec<Frame>, u64) {
    let now = std::time::Instant::now();
    let mut jb = JitterBuffer::new(64);
    let mut asm = FrameAssembler::new(d);
    let mut keys = Vec::new();
    let mut feed = |asm: &mut FrameAssembler<D>, p: Vec<u8>| {
        let p = RtpPacket::new_checked(&p[..]).expect("valid RTP from ffmpeg");
        asm.push(p.sequence_number(), p.timestamp(), p.marker(), p.payload());
        while let Some(f) = asm.pop_frame() {
            assert!(!f.data.is_empty());
            keys.push(f);
        }
    };
    for p in packets {
        let seq = RtpPacket::new_checked(&p[..]).unwrap().sequence_number();
        jb.push(now, seq, p.clone());
        while let Some((_, p)) = jb.pop(now) {
            feed(&mut asm, p);
        }
    }
    // Drain the tail (nothing is missing on loopback, so the buffer is empty already).
    assert!(jb.is_empty());
    (keys, asm.dropped_frames())
}

fn run_case<D: Depacketizer>(
    name: &str,
    input: &[&str],
    encoder: &[&str],
    ext: &str,
    audio: bool,
    d: D,
) {
    let dir = peer::scratch_dir(&format!("rtp-ffmpeg-{name}"));
    let reference = probe_reference(input, encoder, &dir.join(format!("ref.{ext}")), audio);
    let packets = capture_rtp(input, encoder);
    assert!(!packets.is_empty(), "{name}: no RTP received");
    let (frames, dropped) = depacketize(&packets, d);
    let keys: Vec<bool> = frames.iter().map(|f| f.keyframe).collect();
    eprintln!(
        "{name}: {} RTP packets → {} frames ({} key); ffprobe: {} frames ({} key)",
        packets.len(),
        keys.len(),
        keys.iter().filter(|k| **k).count(),
        reference.len(),
        reference.iter().filter(|k| **k).count()
    );
    assert_eq!(dropped, 0, "{name}: frames dropped on loopback");
    assert_eq!(
        keys.len(),
        reference.len(),
        "{name}: frame count differs from ffprobe"
    );
    assert_eq!(
        keys, reference,
        "{name}: keyframe positions differ from ffprobe"
    );
    // Beyond counts: the bytes themselves, where the reference file is easy to read.
    let file = std::fs::read(dir.join(format!("ref.{ext}"))).unwrap();
    match ext {
        "ivf" => {
            let reference = ivf_frames(&file);
            assert_eq!(reference.len(), frames.len());
            for (i, (r, f)) in reference.iter().zip(&frames).enumerate() {
                assert!(*r == f.data, "{name}: frame {i} differs from the file's");
            }
        }
        "h264" => {
            let ours: Vec<u8> = frames.iter().flat_map(|f| f.data.iter().copied()).collect();
            assert_eq!(
                nal_units(&ours),
                nal_units(&file),
                "{name}: NAL units differ"
            );
        }
        _ => {}
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// The frames of an IVF file (32-byte header, then 12-byte frame headers).
fn ivf_frames(file: &[u8]) -> Vec<Vec<u8>> {
    assert_eq!(&file[..4], b"DKIF");
    let mut at = usize::from(u16::from_le_bytes([file[6], file[7]]));
    let mut out = Vec::new();
    while at + 12 <= file.len() {
        let len = u32::from_le_bytes(file[at..at + 4].try_into().unwrap()) as usize;
        out.push(file[at + 12..at + 12 + len].to_vec());
        at += 12 + len;
    }
    out
}

/// The NAL units of an Annex B stream (start codes of 3 or 4 bytes dropped).
fn nal_units(stream: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= stream.len() {
        if stream[i..i + 3] == [0, 0, 1] {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut out = Vec::new();
    for (k, &s) in starts.iter().enumerate() {
        let mut end = starts.get(k + 1).map_or(stream.len(), |&n| n - 3);
        while end > s && stream[end - 1] == 0 {
            end -= 1;
        }
        out.push(&stream[s..end]);
    }
    out
}

const VIDEO_IN: [&str; 6] = [
    "-f",
    "lavfi",
    "-i",
    "testsrc=size=320x240:rate=30",
    "-t",
    "2",
];

#[test]
fn ffmpeg_vp8_frames_and_keyframes_match_ffprobe() {
    if !peer::available("ffmpeg") || !peer::available("ffprobe") {
        return;
    }
    let enc = [
        "-c:v",
        "libvpx",
        "-deadline",
        "realtime",
        "-cpu-used",
        "8",
        "-g",
        "20",
        "-auto-alt-ref",
        "0",
        "-lag-in-frames",
        "0",
        "-threads",
        "1",
        "-b:v",
        "500k",
    ];
    run_case(
        "vp8",
        &VIDEO_IN,
        &enc,
        "ivf",
        false,
        Vp8Depacketizer::default(),
    );
}

#[test]
fn ffmpeg_vp9_frames_and_keyframes_match_ffprobe() {
    if !peer::available("ffmpeg") || !peer::available("ffprobe") {
        return;
    }
    let enc = [
        "-c:v",
        "libvpx-vp9",
        "-strict",
        "experimental",
        "-deadline",
        "realtime",
        "-cpu-used",
        "8",
        "-g",
        "20",
        "-auto-alt-ref",
        "0",
        "-lag-in-frames",
        "0",
        "-threads",
        "1",
        "-b:v",
        "500k",
    ];
    run_case(
        "vp9",
        &VIDEO_IN,
        &enc,
        "ivf",
        false,
        Vp9Depacketizer::default(),
    );
}

#[test]
fn ffmpeg_h264_frames_and_keyframes_match_ffprobe() {
    if !peer::available("ffmpeg") || !peer::available("ffprobe") {
        return;
    }
    let enc = [
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-tune",
        "zerolatency",
        "-g",
        "20",
        "-bf",
        "0",
        "-threads",
        "1",
        "-pix_fmt",
        "yuv420p",
        "-b:v",
        "800k",
    ];
    run_case(
        "h264",
        &VIDEO_IN,
        &enc,
        "h264",
        false,
        H264Depacketizer::default(),
    );
}

#[test]
fn ffmpeg_opus_frames_match_ffprobe() {
    if !peer::available("ffmpeg") || !peer::available("ffprobe") {
        return;
    }
    let input = [
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000",
        "-t",
        "1",
    ];
    let enc = ["-c:a", "libopus", "-b:a", "32k", "-frame_duration", "20"];
    run_case("opus", &input, &enc, "ogg", true, OpusDepacketizer);
}
