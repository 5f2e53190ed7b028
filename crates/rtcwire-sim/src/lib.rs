//! rtcwire-sim: the deterministic test network every rtcwire core is tested on, and helpers
//! for tests that run a real external peer.
//!
//! A dev-dependency only: nothing in production depends on it.
#![forbid(unsafe_code)]

pub mod peer;
