//! The heap an idle connected ICE agent holds, measured by dhat's allocator (this binary
//! only): two agents connect over an in-memory wire and idle for 20 s of consent checks,
//! then the controlled one is dropped, and what that frees is its heap. Ours beside str0m's
//! `is` 0.9, measured the same way. Goal (issue 11): ≤ 4 KiB for ours.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use rtcwire_bench_ice::{connected_pair, str0m_is};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let (a, b, _) = connected_pair();
    let before = dhat::HeapStats::get().curr_bytes;
    let estimate = b.memory_estimate();
    drop(b);
    let ours = before - dhat::HeapStats::get().curr_bytes;
    drop(a);

    let (a, b, _) = str0m_is::connected_pair();
    let before = dhat::HeapStats::get().curr_bytes;
    drop(b);
    let theirs = before - dhat::HeapStats::get().curr_bytes;
    drop(a);

    let (ours_inline, theirs_inline) = (
        std::mem::size_of::<rtcwire_ice::Agent>(),
        std::mem::size_of::<is::IceAgent>(),
    );
    println!("ice: memory of a connected agent idle for 20 s (heap by dhat, freed when dropped, + inline size):");
    println!(
        "  rtcwire-ice  {} B = {ours} B heap + {ours_inline} B inline (its own estimate: {estimate} B); goal <= 4096 B",
        ours + ours_inline
    );
    println!(
        "  str0m is 0.9 {} B = {theirs} B heap + {theirs_inline} B inline",
        theirs + theirs_inline
    );
    assert!(ours > 0, "the measurement must see the agent's heap");
}
