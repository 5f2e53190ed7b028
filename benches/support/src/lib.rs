//! Side-by-side timing with printed ratios, for the benches under `benches/`.
//!
//! Criterion measures each function carefully but does not print how two candidates compare.
//! [`ratios`] does: it times every candidate in interleaved rounds (so drift on a shared
//! machine hits all of them alike), takes each one's median, and prints a table of ns/iter
//! and the ratio to the first candidate (rtcwire by convention). It runs only when the bench
//! binary is run for real (`cargo bench`, `cargo xtask bench`), never in test mode.
//!
//! ```no_run
//! let mut x = 0u64;
//! let mut y = 0u64;
//! rtcwire_bench_support::ratios("demo", &mut [
//!     ("ours", &mut || x = x.wrapping_add(1)),
//!     ("theirs", &mut || y = y.wrapping_mul(3)),
//! ]);
//! ```
#![forbid(unsafe_code)]
#![allow(clippy::print_stdout, clippy::disallowed_methods)]

use std::time::{Duration, Instant};

/// A named candidate: one call does one unit of work.
pub type Candidate<'a> = (&'a str, &'a mut dyn FnMut());

/// Whether the bench binary was started to measure (`--bench`), not to test.
#[must_use]
pub fn measuring() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// Times the candidates side by side and prints ns/iter and the ratio of each to the first.
/// Returns the medians in ns per iteration (empty in test mode).
pub fn ratios(group: &str, candidates: &mut [Candidate<'_>]) -> Vec<f64> {
    if !measuring() || candidates.is_empty() {
        return Vec::new();
    }
    // Calibrate: iterations per batch so that one batch takes about 2 ms.
    let mut iters = Vec::with_capacity(candidates.len());
    for (_, f) in candidates.iter_mut() {
        let mut n: u64 = 1;
        loop {
            let t = Instant::now();
            for _ in 0..n {
                f();
            }
            if t.elapsed() >= Duration::from_millis(2) || n >= 1 << 24 {
                break;
            }
            n *= 2;
        }
        iters.push(n);
    }
    const ROUNDS: usize = 41;
    let mut samples = vec![Vec::with_capacity(ROUNDS); candidates.len()];
    for _ in 0..ROUNDS {
        for (i, (_, f)) in candidates.iter_mut().enumerate() {
            let n = iters[i];
            let t = Instant::now();
            for _ in 0..n {
                f();
            }
            samples[i].push(t.elapsed().as_nanos() as f64 / n as f64);
        }
    }
    let medians: Vec<f64> = samples
        .iter_mut()
        .map(|s| {
            s.sort_by(f64::total_cmp);
            s[s.len() / 2]
        })
        .collect();
    println!();
    println!("== {group}: median of {ROUNDS} interleaved rounds ==");
    println!("{:<40} {:>12} {:>10}", "candidate", "ns/iter", "vs first");
    for ((name, _), m) in candidates.iter().zip(&medians) {
        println!("{name:<40} {m:>12.1} {:>9.2}x", m / medians[0]);
    }
    medians
}
