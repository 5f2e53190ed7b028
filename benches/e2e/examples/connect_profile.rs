//! Where createOffer → open goes: `n` connections one after another (as `e2e`'s row), the
//! median wall time beside the process CPU per connection (both peers). Run under `perf
//! record` for the CPU side. `cargo run --release -p rtcwire-bench-e2e --example
//! connect_profile [n]`.
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
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    let rt = common::runtime().unwrap();
    rt.block_on(async {
        let mut times = Vec::with_capacity(n);
        let cpu0 = common::process_cpu();
        let t0 = std::time::Instant::now();
        for _ in 0..n {
            times.push(ours::connect_time().await.unwrap());
        }
        let wall = t0.elapsed();
        let cpu = common::process_cpu() - cpu0;
        times.sort();
        println!(
            "median {:?}, p99 {:?}; per connection (with setup and close): wall {:?}, CPU {:?}",
            times[n / 2],
            times[n * 99 / 100],
            wall / n as u32,
            cpu / n as u32
        );
    });
}
