//! Helpers for tests that run a real external peer (OpenSSL, coturn, libsrtp, ffmpeg, tshark).
//!
//! Interop claims come only from a real peer run in a test. On a developer's machine that
//! lacks the peer, such a test skips with a message; under `cargo xtask ci` (which installs
//! the peers and sets `RTCWIRE_REQUIRE_PEERS=1`) a missing peer fails the test instead, so CI
//! can never pass by skipping.
//!
//! ```no_run
//! # fn main() {
//! if !rtcwire_sim::peer::available("openssl") {
//!     return; // skipped locally; under CI this line is never reached
//! }
//! let port = rtcwire_sim::peer::free_udp_port();
//! # let _ = port; }
//! ```

use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Whether `RTCWIRE_REQUIRE_PEERS=1` is set (it is under `cargo xtask ci`).
#[must_use]
pub fn required() -> bool {
    std::env::var("RTCWIRE_REQUIRE_PEERS").is_ok_and(|v| v == "1")
}

/// Whether the command `cmd` is on `PATH`. When it is not: returns `false` (the caller skips
/// its test) unless peers are [`required`], in which case it panics with an explanation.
#[must_use]
#[allow(clippy::panic, clippy::print_stderr)]
pub fn available(cmd: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    skip_or_fail(found, cmd)
}

/// Whether the Python module `module` imports (e.g. `pylibsrtp`), with the same skip/fail
/// rule as [`available`].
#[must_use]
pub fn python_module(module: &str) -> bool {
    let found = Command::new(python())
        .args(["-c", &format!("import {module}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    skip_or_fail(found, &format!("python module {module}"))
}

/// The Python interpreter to run peer scripts with.
#[must_use]
pub fn python() -> &'static str {
    "python3"
}

#[allow(clippy::panic, clippy::print_stderr)]
fn skip_or_fail(found: bool, what: &str) -> bool {
    if found {
        return true;
    }
    if required() {
        panic!(
            "real peer `{what}` is missing but RTCWIRE_REQUIRE_PEERS=1: run `cargo xtask setup`"
        );
    }
    eprintln!("SKIPPED: real peer `{what}` is not installed (`cargo xtask setup` installs it)");
    false
}

/// A UDP port on 127.0.0.1 that was free a moment ago (bind to port 0, read, release).
#[must_use]
#[allow(clippy::expect_used)]
pub fn free_udp_port() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind an ephemeral UDP port on loopback");
    s.local_addr().expect("local addr").port()
}

/// A fresh scratch directory under the system temp dir, unique to this process and `tag`.
#[must_use]
#[allow(clippy::expect_used)]
pub fn scratch_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rtcwire-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Path of a file in the repository's `testdata/`, from a crate at `crates/<name>/` or
/// `benches/<name>/` (pass `env!("CARGO_MANIFEST_DIR")`).
#[must_use]
pub fn testdata(manifest_dir: &str, rel: &str) -> PathBuf {
    PathBuf::from(manifest_dir).join("../../testdata").join(rel)
}

/// A child process that is killed (by its own PID) when dropped, so a failing test never
/// leaves a peer running.
#[derive(Debug)]
pub struct ChildGuard(pub std::process::Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
