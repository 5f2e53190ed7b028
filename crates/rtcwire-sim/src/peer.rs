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

/// coturn's `turnserver` on 127.0.0.1 for a test: long-term credentials, loopback peers
/// allowed, its own listening port and relay range, killed when dropped.
#[derive(Debug)]
pub struct Turnserver {
    _child: ChildGuard,
    /// Where it listens (UDP and TCP).
    pub addr: std::net::SocketAddr,
    /// The ports it relays from.
    pub relay_ports: std::ops::RangeInclusive<u16>,
    /// Its scratch directory (log in `turnserver.log`).
    pub dir: PathBuf,
}

impl Turnserver {
    /// Starts one and waits (bounded: 100 tries of 100 ms) until it answers a Binding
    /// request. `None` when `turnserver` is not installed; `extra` adds options (for
    /// example short lifetimes).
    ///
    /// # Panics
    /// If it cannot be started or does not answer within 10 s.
    #[must_use]
    #[allow(clippy::expect_used, clippy::panic)]
    pub fn start(tag: &str, user: &str, pass: &str, realm: &str, extra: &[&str]) -> Option<Self> {
        if !available("turnserver") {
            return None;
        }
        let port = free_udp_port();
        // Relay ports above Linux's ephemeral range (32768–60999), so no other socket of the
        // test run holds them, a range of its own per server, and a hundred of them: coturn
        // splits the range between its relay threads and hands out even/odd pairs, and ten
        // sometimes left a thread none to give (an Allocate then failed).
        let min = 61000 + (port % 44) * 100;
        let max = min + 99;
        let dir = scratch_dir(&format!("coturn-{tag}"));
        let log = std::fs::File::create(dir.join("turnserver.log")).expect("log file");
        let mut args = vec![
            "-n".to_owned(),
            "--listening-ip=127.0.0.1".to_owned(),
            format!("--listening-port={port}"),
            "--relay-ip=127.0.0.1".to_owned(),
            format!("--min-port={min}"),
            format!("--max-port={max}"),
            format!("--user={user}:{pass}"),
            format!("--realm={realm}"),
            "--lt-cred-mech".to_owned(),
            "--fingerprint".to_owned(),
            "--no-tls".to_owned(),
            "--no-dtls".to_owned(),
            "--no-cli".to_owned(),
            "--allow-loopback-peers".to_owned(),
            "--allowed-peer-ip=127.0.0.1".to_owned(),
            "--log-file=stdout".to_owned(),
            format!("--pidfile={}", dir.join("turnserver.pid").display()),
            format!("--userdb={}", dir.join("turndb").display()),
        ];
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let child = Command::new("turnserver")
            .args(&args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("start turnserver");
        let server = Turnserver {
            _child: ChildGuard(child),
            addr: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
            relay_ports: min..=max,
            dir,
        };
        // A STUN Binding request: type 0x0001, length 0, magic cookie, a transaction id.
        let mut req = vec![0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42];
        req.extend_from_slice(&[9; 12]);
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind a loopback socket");
        sock.set_read_timeout(Some(std::time::Duration::from_millis(100)))
            .expect("read timeout");
        let mut buf = [0u8; 1500];
        for _ in 0..100 {
            sock.send_to(&req, server.addr).expect("send to turnserver");
            // A Binding success response (0x0101) echoing our transaction id.
            if let Ok((n, _)) = sock.recv_from(&mut buf) {
                if n >= 20 && buf[..2] == [0x01, 0x01] && buf[8..20] == [9; 12] {
                    return Some(server);
                }
            }
        }
        panic!(
            "turnserver did not answer within 10 s (log in {})",
            server.dir.display()
        );
    }
}
