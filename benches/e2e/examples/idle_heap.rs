//! Where an idle rtcwire connection end's heap goes: `n` idle pairs (as `e2e_alloc`'s idle
//! row), then dhat's heap profile written while they are alive (`dhat-heap.json`; its "at
//! t-end" figures are the live bytes per allocation site). `cargo run --release -p
//! rtcwire-bench-e2e --example idle_heap [n]`.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods,
    unreachable_pub,
    dead_code
)]

#[path = "../benches/e2e/common.rs"]
mod common;
#[path = "../benches/e2e/ours.rs"]
mod ours;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50);
    let rt = common::runtime().unwrap();
    rt.block_on(async {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let profiler = dhat::Profiler::new_heap();
        let b0 = dhat::HeapStats::get().curr_bytes;
        let keep = ours::idle(n).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
        let b1 = dhat::HeapStats::get().curr_bytes;
        println!(
            "heap bytes per connection end: {}",
            b1.saturating_sub(b0) / (2 * n)
        );
        drop(profiler);
        drop(keep);
    });
}
