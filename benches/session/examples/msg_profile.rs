//! Where the sans-IO sessions allocate per data-channel message: the pair of
//! `session_memory` moves `n` 1000-byte messages A to B (binary, or text with `text`), one
//! per millisecond of virtual time, under
//! dhat's heap profiler, which writes `dhat-heap.json` (sites whose block count is a
//! multiple of `n` allocate per message; open it in dhat's viewer).
//! `cargo run --release -p rtcwire-bench-session --example msg_profile [n] [text]`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::panic,
    clippy::disallowed_methods
)]

use rtcwire_bench_session::{certificates, Pair};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5000);
    let text = args.next().as_deref() == Some("text");
    let certs = certificates();
    let mut p = Pair::connect(&certs, std::time::Instant::now(), Some(7));
    let binary = vec![0x5a_u8; 1000];
    let string = "z".repeat(1000);
    let gap = std::time::Duration::from_millis(1);
    let send_one = |p: &mut Pair| {
        if text {
            p.a.send_text(p.chat, &string).unwrap();
        } else {
            p.a.send_binary(p.chat, &binary).unwrap();
        }
        p.deliver_one(gap);
    };
    for _ in 0..50 {
        send_one(&mut p);
    }
    let profiler = dhat::Profiler::new_heap();
    let before = dhat::HeapStats::get().total_blocks;
    for _ in 0..n {
        send_one(&mut p);
    }
    let blocks = dhat::HeapStats::get().total_blocks - before;
    println!(
        "{n} messages: {:.3} allocations per message",
        blocks as f64 / n as f64
    );
    drop(profiler);
}
