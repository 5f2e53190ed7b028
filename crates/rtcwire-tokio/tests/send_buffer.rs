//! A full kernel send buffer holds the sender back instead of dropping: in a network
//! namespace the test creates, loopback is shaped to 20 Mbit/s (a `tbf` qdisc holding up to
//! 4 MB), so datagrams queue in the qdisc, count against the sending socket's buffer and
//! `sendmsg` refuses with EAGAIN. 2 MB of video written as fast as the driver takes it
//! must all arrive without a loss or a NACK. Skipped without `ip`/`tc` netns rights
//! (fails instead with RTCWIRE_REQUIRE_PEERS=1).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::process::{Command, Stdio};

use common::{loopback, within};
use rtcwire_sim::peer;
use rtcwire_tokio::{
    Codec, DataChannelInit, Direction, Event, MediaKind, Payload, PeerConnection, Track,
};

const TEST: &str = "a_shaped_link_loses_nothing_to_a_full_send_buffer";

/// A network namespace, deleted when dropped.
struct Netns(String);

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn run(cmd: &str, args: &[&str]) -> bool {
    Command::new(cmd)
        .args(args)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn a_shaped_link_loses_nothing_to_a_full_send_buffer() {
    if std::env::var("RTCWIRE_SHAPED_LOOPBACK").is_ok() {
        return inside_the_namespace();
    }
    if !peer::available("ip") || !peer::available("tc") {
        return;
    }
    let ns = Netns(format!("rtcwire-sndbuf-{}", std::process::id()));
    if !run("ip", &["netns", "add", &ns.0]) {
        assert!(!peer::required(), "cannot create a network namespace");
        println!("SKIPPED: cannot create a network namespace");
        return;
    }
    assert!(run("ip", &["-n", &ns.0, "link", "set", "lo", "up"]));
    let shaped = run(
        "ip",
        &[
            "netns", "exec", &ns.0, "tc", "qdisc", "add", "dev", "lo", "root", "tbf", "rate",
            "20mbit", "burst", "32kb", "limit", "4mb",
        ],
    );
    assert!(shaped, "tc qdisc add in the namespace");
    let out = Command::new("ip")
        .args(["netns", "exec", &ns.0])
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", TEST, "--nocapture"])
        .env("RTCWIRE_SHAPED_LOOPBACK", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    println!("{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the test inside the namespace failed");
    assert!(text.contains("shaped link:"), "it did not run");
}

async fn video_track(events: &mut rtcwire_tokio::Events) -> Track {
    within("a video track", async {
        loop {
            match events.next_event().await {
                Some(Event::Track(t)) if t.kind() == MediaKind::Video => return t,
                Some(_) => {}
                None => panic!("events ended"),
            }
        }
    })
    .await
}

fn inside_the_namespace() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (a, _ea) = PeerConnection::new(loopback()).await.unwrap();
        let mut roomy = loopback();
        roomy.track_capacity = 1024;
        let (b, mut eb) = PeerConnection::new(roomy).await.unwrap();
        let video = a.add_track(MediaKind::Video, &["v"]).await.unwrap();
        let lossy = DataChannelInit {
            ordered: false,
            max_retransmits: Some(0),
            ..DataChannelInit::default()
        };
        let dc = a.create_data_channel("burst", lossy).await.unwrap();
        let offer = a.create_offer().await.unwrap();
        a.set_local_description(offer.clone()).await.unwrap();
        b.set_remote_description(offer).await.unwrap();
        for t in b.transceivers().await.unwrap() {
            t.set_direction(Direction::RecvOnly).await.unwrap();
        }
        let answer = b.create_answer().await.unwrap();
        b.set_local_description(answer.clone()).await.unwrap();
        a.set_remote_description(answer).await.unwrap();
        within("connected", a.connected()).await.unwrap();
        // The track is announced with the answer, the channel after it opens.
        let mut far = video_track(&mut eb).await;
        dc.wait_open().await.unwrap();
        let mut far_dc = within("the channel", async {
            loop {
                if let Some(Event::DataChannel(c)) = eb.next_event().await {
                    return c;
                }
            }
        })
        .await;
        // 1 000 unreliable 1 kB messages at once: none may be lost (SCTP's window keeps
        // these under the socket's buffer here; the video burst below is what fills it).
        let messages = 1000u32;
        for n in 0..messages {
            let mut m = vec![0u8; 1000];
            m[..4].copy_from_slice(&n.to_be_bytes());
            dc.send_binary(&m).await.unwrap();
        }
        let mut seen = vec![false; messages as usize];
        for _ in 0..messages {
            let Some(Payload::Binary(m)) = within("every message", far_dc.recv()).await else {
                panic!("not binary")
            };
            seen[u32::from_be_bytes(m[..4].try_into().unwrap()) as usize] = true;
        }
        assert!(seen.iter().all(|s| *s));
        let pt = video.payload_type(Codec::Vp8).await.unwrap().unwrap();
        let total = 100u32;
        let start = tokio::time::Instant::now();
        for n in 0..total {
            let mut f = vec![if n == 0 { 0x10 } else { 0x11 }; 20_000];
            f[1..5].copy_from_slice(&n.to_be_bytes());
            video.write_frame(pt, n * 3000, &f).await.unwrap();
        }
        let written = start.elapsed();
        for n in 0..total {
            let f = within("every frame", far.recv()).await.unwrap();
            assert_eq!(f.rtp_timestamp, n * 3000);
            assert_eq!(f.data[1..5], n.to_be_bytes());
        }
        let got = b.get_stats().await.unwrap();
        let i = got.inbound_rtp.first().unwrap();
        assert_eq!((i.packets_lost, i.nack_count), (0, 0), "{i:?}");
        assert_eq!(i.frames_received, u64::from(total));
        println!(
            "shaped link: {messages} unreliable messages all received; {total} frames (2 MB) written in {written:?}, all received in {:?}; {i:?}",
            start.elapsed()
        );
    });
}
