//! `cargo xtask setup`: installs what the tests need on a fresh machine, and nothing that is
//! already there. The real peers come from Debian and PyPI; cargo-fuzz from crates.io.

use std::path::Path;
use std::process::{Command, Stdio};

/// Debian packages: (a command the package provides, the package).
const APT: &[(&str, &str)] = &[
    ("openssl", "openssl"),   // DTLS peer: s_server / s_client
    ("turnserver", "coturn"), // STUN/TURN peer
    ("tshark", "tshark"),     // opens the simulator's pcap files
    ("ffmpeg", "ffmpeg"),     // real RTP packetizers (VP8, H.264, Opus)
    ("chromium", "chromium"), // a real browser: `cargo xtask interop`
    ("ip", "iproute2"),       // the network namespace the browser and rtcwire run in
];

/// Python modules: (module to import, PyPI package).
const PIP: &[(&str, &str)] = &[
    ("pylibsrtp", "pylibsrtp"), // libsrtp, the SRTP peer
    ("aiortc", "aiortc"),       // a real WebRTC stack: answers SDP offers we build
    ("aioice", "aioice"),       // the ICE peer of rtcwire-ice's interop test
];

fn found(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn python() -> &'static str {
    if found("python3") {
        "python3"
    } else {
        "python"
    }
}

fn importable(module: &str) -> bool {
    Command::new(python())
        .args(["-c", &format!("import {module}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn sh(script: &str) -> Result<(), String> {
    eprintln!("+ {script}");
    let s = Command::new("sh")
        .args(["-c", script])
        .status()
        .map_err(|e| format!("{script}: {e}"))?;
    if s.success() {
        Ok(())
    } else {
        Err(format!("`{script}` exited with {s}"))
    }
}

/// Installs what is missing. Returns the list of things it installed.
pub(crate) fn run(root: &Path) -> Result<Vec<String>, String> {
    let mut installed = Vec::new();

    let cargo_fuzz = Command::new("cargo")
        .current_dir(root)
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !cargo_fuzz {
        sh("cargo install cargo-fuzz --locked")?;
        installed.push("cargo-fuzz".to_owned());
    }

    let missing: Vec<&str> = APT
        .iter()
        .filter(|(cmd, _)| !found(cmd))
        .map(|(_, pkg)| *pkg)
        .collect();
    if !missing.is_empty() {
        let sudo = if is_root() { "" } else { "sudo " };
        sh(&format!(
            "{sudo}apt-get update -q && DEBIAN_FRONTEND=noninteractive {sudo}apt-get install -y -q --no-install-recommends {}",
            missing.join(" ")
        ))?;
        installed.extend(missing.iter().map(|s| (*s).to_owned()));
    }
    // coturn's package starts a system service on some images; the tests start their own.

    let missing: Vec<&str> = PIP
        .iter()
        .filter(|(m, _)| !importable(m))
        .map(|(_, pkg)| *pkg)
        .collect();
    if !missing.is_empty() {
        sh(&format!(
            "{} -m pip install -q --disable-pip-version-check {}",
            python(),
            missing.join(" ")
        ))?;
        installed.extend(missing.iter().map(|s| (*s).to_owned()));
    }

    if installed.is_empty() {
        eprintln!("setup: everything the tests need is already installed");
    } else {
        eprintln!("setup: installed {}", installed.join(", "));
    }
    Ok(installed)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}
