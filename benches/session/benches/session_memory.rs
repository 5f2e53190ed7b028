//! Counted by dhat's allocator (this binary only): the memory an idle connected session
//! holds (issue 13 goal: ≤ 32 KiB) and the heap allocations per data-channel message in
//! steady state (goal: 0). Printed; in test mode (`cargo xtask ci`) only checked to be
//! measured, since the goals are not met yet.
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

const MESSAGES: usize = 500;

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let certs = certificates();
    #[allow(clippy::disallowed_methods)]
    let start = std::time::Instant::now();
    let mut p = Pair::connect(&certs, start, Some(7));

    // Steady state: one message at a time, A to B.
    let message = vec![0x5a_u8; 1000];
    let send_one = |p: &mut Pair| {
        let before = p.received_at_b;
        p.a.send_binary(p.chat, &message).unwrap();
        for _ in 0..100 {
            p.step();
            if p.received_at_b > before {
                return;
            }
        }
        panic!("message not delivered");
    };
    for _ in 0..50 {
        send_one(&mut p);
    }
    let blocks = dhat::HeapStats::get().total_blocks;
    for _ in 0..MESSAGES {
        send_one(&mut p);
    }
    let per_message = (dhat::HeapStats::get().total_blocks - blocks) as f64 / MESSAGES as f64;

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
        "session: heap allocations per 1000-byte data-channel message, A to B, steady state \
         (both sessions and the in-memory wire, which copies each datagram): {per_message:.2}; goal 0"
    );
    assert!(heap > 0, "the measurement must see the session's heap");
}
