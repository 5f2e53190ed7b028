//! End-to-end benchmarks of rtcwire beside webrtc-rs and str0m: see `benches/e2e.rs` and
//! `docs/performance.md`. The library is empty; the bench binaries hold the drivers.
#![forbid(unsafe_code)]
