//! Throughput for `perf record`: `conns` fresh pairs at once (default 1) each move `mb` MiB
//! in 65 535-byte messages (as `e2e`'s rows); prints the aggregate Gbit/s and the process
//! CPU per GB. `cargo run --release -p rtcwire-bench-e2e --example thru_profile [mb]
//! [conns]`.
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

fn main() {
    let mb: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1024);
    let conns: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1);
    common::set_msg_size(common::MESSAGE);
    let rt = common::runtime().unwrap();
    rt.block_on(async {
        let mut flows = Vec::with_capacity(conns);
        for _ in 0..conns {
            flows.push(ours::flow().await.unwrap());
        }
        let cpu0 = common::process_cpu();
        let t0 = std::time::Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for f in flows {
            tasks.spawn(f.run(mb << 20));
        }
        let mut got = 0;
        while let Some(r) = tasks.join_next().await {
            got += r.unwrap().unwrap();
        }
        let wall = t0.elapsed();
        let cpu = common::process_cpu() - cpu0;
        println!(
            "{:.2} Gbit/s, {:.2} CPU s per GB",
            got as f64 * 8.0 / wall.as_secs_f64() / 1e9,
            cpu.as_secs_f64() / (got as f64 / 1e9)
        );
    });
}
