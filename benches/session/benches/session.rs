//! CPU time from `create_offer` to the data channel being open at both ends, for both
//! sessions together (issue 13 goal: ≤ 1 ms, little beyond the two DTLS handshakes'
//! crypto), with zero link delay in memory. Certificates are made beforehand.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::hint::black_box;

use rtcwire_bench_session::{certificates, Pair};

fn main() {
    let certs = certificates();
    // The virtual clock's base: read once, never advanced by the wall clock.
    #[allow(clippy::disallowed_methods)]
    let start = std::time::Instant::now();
    let mut seed = 0u64;
    let mut connect = || {
        seed += 2;
        black_box(Pair::connect(&certs, start, seed));
    };
    connect();
    let best = rtcwire_bench_support::ratios(
        "session: create_offer -> data channel open, both peers (in memory, no delay)",
        &mut [("rtcwire", &mut connect)],
    );
    if let Some(ns) = best.first() {
        println!(
            "rtcwire session: offer -> open {:.2} ms of CPU for both peers (best round); goal <= 1 ms",
            ns / 1e6
        );
    }
}
