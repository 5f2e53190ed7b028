//! The send-side bandwidth estimate from transport-cc feedback, between two rtcwire
//! sessions on rtcwire-sim links of known capacity: it follows what a clean path carries,
//! falls under the capacity of a narrow one, and an application that sends at the
//! estimate settles near the capacity without filling the bottleneck's queue.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::time::Duration;

use common::{Duo, Signaling};
use rtcwire::{Codec, Event, MediaKind, PeerConnection, TransceiverId};
use rtcwire_sim::LinkConfig;

fn pc(duo: &Duo, side_a: bool) -> &PeerConnection {
    duo.sim.endpoint(if side_a { duo.a } else { duo.b })
}

/// A VP8-looking frame numbered `n`.
fn video_frame(n: u32, size: usize) -> Vec<u8> {
    let mut f = vec![0x5au8; size.max(8)];
    f[0] = if n % 30 == 0 { 0x10 } else { 0x11 };
    f[1..5].copy_from_slice(&n.to_be_bytes());
    f
}

/// A sends video to B over `link` (both ways); connected, B's track seen.
fn video_session(seed: u64, link: LinkConfig) -> (Duo, TransceiverId, u8) {
    let mut duo = Duo::new(seed, link, Signaling::Trickle);
    let video = duo.with(true, |pc| pc.add_track(MediaKind::Video, &["a"]).unwrap());
    let offer = duo.negotiate_media(&[]);
    assert!(offer.sdp.contains("transport-cc"), "{}", offer.sdp);
    duo.connected();
    let pt = pc(&duo, true).payload_type(video, Codec::Vp8).unwrap();
    (duo, video, pt)
}

/// 30 frames a second for `ms` milliseconds; each frame's size from `size` (given the
/// estimate so far). Returns the next frame number.
fn send(
    duo: &mut Duo,
    t: TransceiverId,
    pt: u8,
    first: u32,
    ms: u32,
    size: impl Fn(Option<u64>) -> usize,
) -> u32 {
    let mut n = first;
    for tick in 0..ms / 10 {
        if tick % 3 == 0 {
            let bytes = size(pc(duo, true).send_bandwidth_estimate());
            duo.with(true, |pc| {
                pc.write_frame(t, pt, n * 3000, &video_frame(n, bytes))
                    .unwrap()
            });
            n += 1;
        }
        let _ = duo.run_until(Duration::from_millis(10), |_| false);
    }
    n
}

#[test]
fn a_clean_path_gives_an_estimate_near_what_is_sent_and_announces_it() {
    let (mut duo, video, pt) = video_session(61, LinkConfig::with_delay(Duration::from_millis(10)));
    // 4000-byte frames at 30/s: ~1 Mbit/s.
    let _ = send(&mut duo, video, pt, 0, 4000, |_| 4000);
    let b = pc(&duo, true).get_stats().bandwidth;
    println!("{b:?}");
    let estimate = b.send_estimate.expect("an estimate from the feedback");
    assert!(b.transport_feedback >= 20, "{b:?}");
    assert_eq!(
        b.unknown_feedback_packets, 0,
        "every reported packet was ours: {b:?}"
    );
    assert!((850_000..1_300_000).contains(&b.acknowledged_rate), "{b:?}");
    // At least what got through, at most the growth bound over it.
    assert!(
        estimate >= b.acknowledged_rate * 9 / 10
            && estimate <= b.acknowledged_rate * 3 / 2 + 10_000,
        "{b:?}"
    );
    assert!(b.queueing_delay < Duration::from_millis(15), "{b:?}");
    // B (rtcwire) also sends REMB: the application hears the smaller of the two.
    let told = estimate.min(b.peer_estimate.unwrap_or(u64::MAX));
    assert_eq!(pc(&duo, true).send_bandwidth_estimate(), Some(told));
    assert!(duo
        .log(true)
        .iter()
        .any(|e| matches!(e, Event::BandwidthEstimate { bitrate } if *bitrate == told)));
    // The receiver sends feedback, it estimates nothing of its own for sending.
    assert_eq!(pc(&duo, false).get_stats().bandwidth.send_estimate, None);
}

#[test]
fn a_narrow_link_brings_the_estimate_under_its_capacity() {
    // 500 kbit/s with a 64 KB queue; A sends ~1.2 Mbit/s regardless.
    let link = LinkConfig::with_delay(Duration::from_millis(20)).bandwidth(500_000, 64 * 1024);
    let (mut duo, video, pt) = video_session(62, link);
    let _ = send(&mut duo, video, pt, 0, 5000, |_| 5000);
    let b = pc(&duo, true).get_stats().bandwidth;
    println!("{b:?}");
    let estimate = b.send_estimate.unwrap();
    assert!(
        (150_000..500_000).contains(&estimate),
        "the estimate is under the capacity: {b:?}"
    );
    assert!(
        b.acknowledged_rate <= 550_000,
        "no more than the link carries is acknowledged: {b:?}"
    );
}

#[test]
fn sending_at_the_estimate_settles_near_the_capacity_with_a_short_queue() {
    // 1 Mbit/s, 100 KB of queue (800 ms when full).
    let link = LinkConfig::with_delay(Duration::from_millis(20)).bandwidth(1_000_000, 100_000);
    let (mut duo, video, pt) = video_session(63, link);
    // The application sets its encoder to the estimate (300 kbit/s until there is one).
    let at_estimate = |e: Option<u64>| (e.unwrap_or(300_000) / 8 / 30) as usize;
    let n = send(&mut duo, video, pt, 0, 10_000, at_estimate);
    // Over the next 5 s: what it settles at.
    let mut estimates = Vec::new();
    let mut queue = Duration::ZERO;
    let mut next = n;
    for _ in 0..10 {
        next = send(&mut duo, video, pt, next, 500, at_estimate);
        let b = pc(&duo, true).get_stats().bandwidth;
        estimates.push(b.send_estimate.unwrap());
        queue = queue.max(b.queueing_delay);
    }
    println!("estimates {estimates:?}, largest queueing delay {queue:?}");
    // Where it settles: the last 2.5 s under the capacity and above half of it.
    assert!(
        estimates[5..]
            .iter()
            .all(|e| (550_000..=1_000_000).contains(e)),
        "near the 1 Mbit/s capacity: {estimates:?}"
    );
    assert!(
        queue < Duration::from_millis(400),
        "the queue stays well under full (800 ms): {queue:?}"
    );
}
