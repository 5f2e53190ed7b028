//! Counted by dhat's allocator (this binary only): the memory an idle connected session
//! holds (issue 13 goal: ≤ 32 KiB) and the heap allocations per data-channel message in
//! steady state (goal: 0). Printed; checked in test mode (`cargo xtask ci`) too: the
//! session must be measured, and messages must not allocate (below 0.05 per message, room
//! for an ICE consent check falling in the window).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::panic
)]

use std::time::Duration;

use rtcwire::Input;
use rtcwire_bench_session::{certificates, Pair};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const MESSAGES: usize = 1000;

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let certs = certificates();
    #[allow(clippy::disallowed_methods)]
    let start = std::time::Instant::now();
    let mut p = Pair::connect(&certs, start, Some(7));

    // Steady state: 1000-byte messages A to B, one per millisecond of virtual time (each
    // delivered before the next is sent; SCTP's and ICE's timers run as they fall due).
    let message = vec![0x5a_u8; 1000];
    let gap = Duration::from_millis(1);
    for _ in 0..50 {
        p.a.send_binary(p.chat, &message).unwrap();
        p.deliver_one(gap);
    }
    let blocks = dhat::HeapStats::get().total_blocks;
    for _ in 0..MESSAGES {
        p.a.send_binary(p.chat, &message).unwrap();
        p.deliver_one(gap);
    }
    let per_message = (dhat::HeapStats::get().total_blocks - blocks) as f64 / MESSAGES as f64;
    // The same as text.
    let text = "z".repeat(1000);
    let blocks = dhat::HeapStats::get().total_blocks;
    for _ in 0..MESSAGES {
        p.a.send_text(p.chat, &text).unwrap();
        p.deliver_one(gap);
    }
    let per_text = (dhat::HeapStats::get().total_blocks - blocks) as f64 / MESSAGES as f64;

    // Idle for 30 s of virtual time (consent checks, SCTP heartbeats), then drop B.
    let until = p.now + Duration::from_secs(30);
    while p.now < until {
        p.step();
    }
    let _ = p.a.handle_input(Input::Timeout(p.now));
    let before = dhat::HeapStats::get().curr_bytes;
    let inline = std::mem::size_of_val(&p.b);
    let Pair { a, b, .. } = p;
    drop(b);
    let heap = before - dhat::HeapStats::get().curr_bytes;
    drop(a);

    println!("session: memory of a connected session idle for 30 s (heap by dhat, freed when dropped, + inline size):");
    println!(
        "  rtcwire {} B = {heap} B heap + {inline} B inline; goal <= 32768 B",
        heap + inline
    );
    println!(
        "session: heap allocations per 1000-byte data-channel message, A to B, steady state, \
         one per ms of virtual time (both sessions; the in-memory wire reuses its slots): \
         binary {per_message:.2}, text {per_text:.2}; goal 0"
    );
    assert!(heap > 0, "the measurement must see the session's heap");
    assert!(
        per_message < 0.05 && per_text < 0.05,
        "data-channel messages allocate: binary {per_message}, text {per_text} per message"
    );
}
