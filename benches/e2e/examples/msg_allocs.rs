//! Where rtcwire's per-message allocations come from: one fresh pair moves `n` 1000-byte
//! messages (as `e2e_alloc`'s data-channel row), under dhat's heap profiler
//! (`dhat-heap.json`: sites whose block count is a multiple of `n` allocate per message).
//! `cargo run --release -p rtcwire-bench-e2e --example msg_allocs [n] [message size]`.
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
    let mut args = std::env::args().skip(1);
    let n: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let size: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    common::set_msg_size(size);
    let rt = common::runtime().unwrap();
    rt.block_on(async {
        let profiler = dhat::Profiler::new_heap();
        let f = ours::flow().await.unwrap();
        let b = dhat::HeapStats::get().total_blocks;
        let got = f.run(n * size as u64).await.unwrap();
        let a = dhat::HeapStats::get().total_blocks;
        println!(
            "{got} bytes; blocks per message (setup excluded, teardown included): {:.2}",
            (a - b) as f64 / n as f64
        );
        drop(profiler);
    });
}
