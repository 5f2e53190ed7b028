//! Real ICE peer: aioice (PyPI), driven by `tests/peers/aioice_peer.py`, connects with our
//! agent over 127.0.0.1 in both roles, with trickle (our candidate reaches aioice after its
//! `connect()` started), data passes both ways, and consent checks are answered both ways
//! (each side's, authenticated, within the ~5 s consent interval).
//!
//! aioice has no ICE restart (no API for new credentials on a live connection), so there is
//! no restart test against it.
//!
//! Missing aioice skips locally; with `RTCWIRE_REQUIRE_PEERS=1` or `CI` set it fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::disallowed_methods
)]

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rtcwire_ice::{Agent, Candidate, Config, Event, IceState, Received};
use rtcwire_proto::{Datagram, SansIo, SeededRng};
use rtcwire_sim::peer::{self, ChildGuard};

fn aioice_available() -> bool {
    let found = Command::new(peer::python())
        .args(["-c", "import aioice"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if found {
        return true;
    }
    if peer::required() || std::env::var_os("CI").is_some() {
        panic!(
            "aioice is missing but CI or RTCWIRE_REQUIRE_PEERS=1 is set: run `cargo xtask setup`"
        );
    }
    eprintln!("SKIPPED: python module aioice is not installed (`cargo xtask setup` installs it)");
    false
}

fn json_str(line: &str, key: &str) -> Option<String> {
    // The script's JSON is flat with string values; enough for this test.
    let pat = format!("\"{key}\": \"");
    let start = line.find(&pat)? + pat.len();
    let rest = &line[start..];
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?),
            '"' => return Some(out),
            c => out.push(c),
        }
    }
    None
}

fn run(controlling: bool) {
    if !aioice_available() {
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers/aioice_peer.py");
    let role = if controlling {
        "controlled"
    } else {
        "controlling"
    };
    let child = Command::new(peer::python())
        .args([script, role])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start aioice peer");
    let mut child = ChildGuard(child);
    let mut stdin = child.0.stdin.take().unwrap();
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });

    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let local: SocketAddr = sock.local_addr().unwrap();
    let start = Instant::now();
    let config = Config {
        controlling,
        ..Config::default()
    };
    let mut agent = Agent::new(
        config,
        Box::new(SeededRng::new(0xa10 + u64::from(controlling))),
    )
    .unwrap();
    let creds = agent.local_credentials().clone();
    writeln!(
        stdin,
        "{{\"ufrag\": \"{}\", \"pwd\": \"{}\"}}",
        creds.ufrag, creds.pwd
    )
    .unwrap();

    let deadline = start + Duration::from_secs(25);
    let mut remote_creds = false;
    let mut sent_candidate = false;
    let mut aioice_connecting = false;
    let mut exchanged: Option<(u64, u64)> = None;
    let mut consent_both_ways = false;
    let mut got_hello = false;
    let mut replied = false;
    let mut peer_received: Option<String> = None;
    let mut connected_at = None;
    let mut buf = Vec::with_capacity(2048);
    let mut rbuf = [0u8; 2048];
    sock.set_read_timeout(Some(Duration::from_millis(5)))
        .unwrap();
    // Bounded by the deadline: every iteration waits at most 5 ms on the socket.
    while Instant::now() < deadline {
        let now = Instant::now();
        // Signalling from aioice.
        while let Ok(line) = rx.try_recv() {
            if let (Some(u), Some(p)) = (json_str(&line, "ufrag"), json_str(&line, "pwd")) {
                agent.set_remote_credentials(&u, &p).unwrap();
                remote_creds = true;
            } else if let Some(c) = json_str(&line, "candidate") {
                let c = Candidate::parse(&c).unwrap();
                agent.add_remote_candidate(now, c).unwrap();
            } else if line.contains("\"connecting\"") {
                aioice_connecting = true;
            } else if line.contains("\"eoc\"") {
                agent.end_of_remote_candidates(now);
            } else if let Some(r) = json_str(&line, "received") {
                peer_received = Some(r);
            }
        }
        // Trickle: our only candidate is gathered and signalled once aioice reports that its
        // connect() is running (it reads stdin concurrently and adds candidates as they come).
        if remote_creds && aioice_connecting && !sent_candidate {
            let c = agent.add_host_candidate(now, local).unwrap();
            agent.end_of_local_candidates();
            let _ = c;
            sent_candidate = true;
        }
        while let Some(e) = agent.poll_event() {
            match e {
                Event::LocalCandidate(c) => {
                    let sdp = c.to_string();
                    let sdp = sdp.trim_start_matches("candidate:");
                    writeln!(stdin, "{{\"candidate\": \"{sdp}\"}}").unwrap();
                }
                Event::GatheringComplete => writeln!(stdin, "{{\"eoc\": true}}").unwrap(),
                Event::StateChanged(s) => {
                    if matches!(s, IceState::Connected | IceState::Completed)
                        && connected_at.is_none()
                    {
                        connected_at = Some(now - start);
                    }
                    assert_ne!(s, IceState::Failed, "our agent failed");
                }
                _ => {}
            }
        }
        if got_hello && !replied && agent.selected_pair().is_some() {
            let mut out = Vec::new();
            let t = agent.send(b"hello from rtcwire", &mut out).unwrap();
            sock.send_to(&out, t.destination.unwrap()).unwrap();
            replied = true;
        }
        loop {
            buf.clear();
            let Some(t) = agent.poll_transmit(now, &mut buf) else {
                break;
            };
            assert_eq!(t.source, Some(local));
            sock.send_to(&buf[..t.size], t.destination.unwrap())
                .unwrap();
        }
        if let Some(to) = agent.poll_timeout() {
            if to <= Instant::now() {
                agent.handle_timeout(Instant::now());
                continue;
            }
        }
        if peer_received.is_some() && replied {
            // Then stay until consent went both ways: aioice answered one of our consent
            // checks (every 4–6 s) and we answered one of its (every 5 s).
            let st = agent.stats();
            let base = *exchanged.get_or_insert((st.requests_received, st.responses_received));
            if st.requests_received > base.0 && st.responses_received > base.1 {
                writeln!(stdin, "{{\"done\": true}}").unwrap();
                consent_both_ways = true;
                break;
            }
        }
        if let Ok((n, from)) = sock.recv_from(&mut rbuf) {
            let now = Instant::now();
            match agent.handle_datagram(now, Datagram::udp(from, local, &rbuf[..n])) {
                Ok(Received::Data { contents, .. }) => {
                    assert_eq!(contents, b"hello from aioice");
                    got_hello = true;
                }
                Ok(Received::Stun) => {}
                Err(e) => panic!("refused a datagram from aioice: {e}"),
            }
        }
    }
    let connected_at = connected_at.expect("never connected to aioice");
    assert!(got_hello, "no data from aioice");
    assert_eq!(
        peer_received.as_deref(),
        Some("hello from rtcwire"),
        "aioice got no data"
    );
    assert!(
        consent_both_ways,
        "no consent check answered within the deadline"
    );
    assert!(matches!(
        agent.state(),
        IceState::Connected | IceState::Completed
    ));
    let sel = agent.selected_pair().unwrap();
    assert_eq!(sel.local.address, local);
    let stats = agent.stats();
    assert_eq!(stats.bad_integrity, 0);
    assert!(stats.requests_received > 0 && stats.responses_received > 0);
    println!(
        "aioice ({role}) <-> rtcwire-ice ({}): connected after {connected_at:?} (wall clock, loopback); {stats:?}",
        if controlling { "controlling" } else { "controlled" }
    );
}

#[test]
fn aioice_controlled_rtcwire_controlling() {
    run(true);
}

#[test]
fn aioice_controlling_rtcwire_controlled() {
    run(false);
}
