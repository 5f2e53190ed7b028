//! The memory an idle established association holds (issue 12 goal: ≤ 8 KiB): two
//! associations with WebRTC's default settings connect in memory, exchange a few messages
//! each way, and idle for 30 s of (virtual) time with heartbeats; then one is dropped, and
//! the heap that frees, counted by dhat's allocator (this binary only), plus its inline size
//! is its memory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::panic
)]

use std::time::{Duration, Instant};

use rtcwire_proto::{Datagram, SansIo, SeededRng};
use rtcwire_sctp::{Association, Config, SendOptions};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

/// Moves everything in flight both ways, fires due timers, and returns the next timer.
fn step(a: &mut Association, b: &mut Association, now: Instant, buf: &mut Vec<u8>) {
    for _ in 0..64 {
        let mut moved = false;
        while let Some(t) = a.poll_transmit(now, buf) {
            let _ = b.handle_read(now, Datagram::on_path(&buf[..t.size]));
            buf.clear();
            moved = true;
        }
        while let Some(t) = b.poll_transmit(now, buf) {
            let _ = a.handle_read(now, Datagram::on_path(&buf[..t.size]));
            buf.clear();
            moved = true;
        }
        while a.poll_event().is_some() || b.poll_event().is_some() {}
        if !moved {
            break;
        }
    }
}

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let mut now = rtcwire_sim::Sim::new(1).now();
    let mut a = Association::new(Config::default(), Box::new(SeededRng::new(1)), now).unwrap();
    let mut b = Association::new(Config::default(), Box::new(SeededRng::new(2)), now).unwrap();
    a.connect(now).unwrap();
    let mut buf = Vec::with_capacity(2048);
    step(&mut a, &mut b, now, &mut buf);
    assert!(a.is_established() && b.is_established());
    for i in 0..10u16 {
        let msg = vec![i as u8; 1024];
        a.send(now, 1, 53, msg.clone(), SendOptions::default())
            .unwrap();
        b.send(now, 2, 53, msg, SendOptions::default()).unwrap();
        step(&mut a, &mut b, now, &mut buf);
    }
    let idle_until = now + Duration::from_secs(30);
    while now < idle_until {
        let next = [a.poll_timeout(), b.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(idle_until)
            .min(idle_until);
        now = now.max(next);
        a.handle_timeout(now);
        b.handle_timeout(now);
        step(&mut a, &mut b, now, &mut buf);
    }
    assert!(a.is_established() && b.is_established());
    let before = dhat::HeapStats::get().curr_bytes;
    drop(b);
    let heap = before - dhat::HeapStats::get().curr_bytes;
    let inline = std::mem::size_of::<Association>();
    println!("sctp: memory of an established association idle for 30 s (heap by dhat, freed when dropped, + inline size):");
    println!(
        "  rtcwire-sctp {} B = {heap} B heap + {inline} B inline; goal <= 8192 B",
        heap + inline
    );
    assert!(heap > 0, "the measurement must see the association's heap");
}
