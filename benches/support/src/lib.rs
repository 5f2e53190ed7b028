//! Side-by-side timing with printed ratios, for the benches under `benches/`.
//!
//! Criterion measures each function carefully but does not print how two candidates compare.
//! [`ratios`] does: it times every candidate in many short interleaved rounds (so drift on a
//! shared machine hits all of them alike) and prints a table of each one's best round and
//! median in ns/iter, with the ratio of the best rounds to the first candidate's (rtcwire by
//! convention). The best round is the least disturbed by other load on the machine, so the
//! ratio of best rounds is the stable figure; the median shows the spread. It runs only when the bench
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
/// Returns each candidate's best-round ns per iteration (empty in test mode).
pub fn ratios(group: &str, candidates: &mut [Candidate<'_>]) -> Vec<f64> {
    if !measuring() || candidates.is_empty() {
        return Vec::new();
    }
    // Calibrate: iterations per batch so that one batch takes about 1 ms.
    let mut iters = Vec::with_capacity(candidates.len());
    for (_, f) in candidates.iter_mut() {
        let mut n: u64 = 1;
        loop {
            let t = Instant::now();
            for _ in 0..n {
                f();
            }
            if t.elapsed() >= Duration::from_millis(1) || n >= 1 << 24 {
                break;
            }
            n *= 2;
        }
        iters.push(n);
    }
    const ROUNDS: usize = 201;
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
    for s in &mut samples {
        s.sort_by(f64::total_cmp);
    }
    let best: Vec<f64> = samples.iter().map(|s| s[0]).collect();
    println!();
    println!("== {group}: {ROUNDS} interleaved rounds ==");
    println!(
        "{:<40} {:>12} {:>12} {:>10}",
        "candidate", "best ns/iter", "median", "vs first"
    );
    for ((name, _), s) in candidates.iter().zip(&samples) {
        println!(
            "{name:<40} {:>12.1} {:>12.1} {:>9.2}x",
            s[0],
            s[s.len() / 2],
            s[0] / best[0]
        );
    }
    best
}
