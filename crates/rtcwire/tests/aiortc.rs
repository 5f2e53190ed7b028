//! A whole session with a real external peer: aiortc (Python) answers our offer on
//! loopback, opens nothing itself, and echoes what our data channel sends. Skipped when
//! aiortc is not installed (fails instead with RTCWIRE_REQUIRE_PEERS=1).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::disallowed_methods // a real peer runs on the real clock
)]

use std::io::{BufRead, BufReader, Write};
use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rtcwire::{
    Config, DataChannelInit, Datagram, Event, Input, Output, Payload, PeerConnection,
    PeerConnectionState, SessionDescription,
};
use rtcwire_sim::peer;

/// Answers the offer on stdin (aioice patched to offer loopback host candidates, which it
/// normally hides), prints the answer and a marker line, then echoes every data-channel
/// message until "bye" or 30 s.
const AIORTC_ECHO: &str = r#"
import asyncio, sys
import aioice.ice
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

async def main():
    offer = sys.stdin.read()
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    done = asyncio.Event()

    @pc.on("datachannel")
    def on_dc(channel):
        @channel.on("message")
        def on_message(msg):
            if msg == "bye":
                done.set()
            else:
                channel.send(msg)

    await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
    await pc.setLocalDescription(await pc.createAnswer())
    sys.stdout.write(pc.localDescription.sdp)
    sys.stdout.write("\n%%END%%\n")
    sys.stdout.flush()
    try:
        await asyncio.wait_for(done.wait(), 30)
    except asyncio.TimeoutError:
        pass
    await pc.close()

asyncio.run(main())
"#;

#[test]
fn aiortc_answers_and_echoes_on_a_data_channel() {
    if !peer::python_module("aiortc") {
        return;
    }
    let dir = peer::scratch_dir("session-aiortc");
    let script = dir.join("echo.py");
    std::fs::write(&script, AIORTC_ECHO).unwrap();

    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let local = sock.local_addr().unwrap();
    let start = Instant::now();
    let mut pc = PeerConnection::new(Config::default(), start).unwrap();
    pc.add_local_candidate(local).unwrap();
    pc.end_of_local_candidates();
    let chat = pc
        .create_data_channel("chat", DataChannelInit::default())
        .unwrap();
    let offer = pc.create_offer().unwrap();
    pc.set_local_description(offer.clone()).unwrap();

    let mut child = peer::ChildGuard(
        Command::new(peer::python())
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    {
        let mut stdin = child.0.stdin.take().unwrap();
        stdin.write_all(offer.sdp.as_bytes()).unwrap();
    } // closed: aiortc reads to EOF
    let stdout = child.0.stdout.take().unwrap();
    let mut answer = String::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if line == "%%END%%" {
            break;
        }
        answer.push_str(&line);
        answer.push_str("\r\n");
    }
    let answer = answer.trim_end().to_owned() + "\r\n";
    pc.set_remote_description(SessionDescription::answer(answer.clone()))
        .unwrap_or_else(|e| panic!("{e}\n{answer}"));

    let sent = [
        Payload::Text("hello from rtcwire".into()),
        Payload::binary(vec![1, 2, 3, 250]),
        Payload::Binary((0..20_000).map(|i| (i % 253) as u8).collect()),
    ];
    let mut got = Vec::new();
    let mut opened_at = None;
    let mut buf = Vec::with_capacity(1500);
    let mut rx = vec![0u8; 2048];
    let deadline = start + Duration::from_secs(20);
    while got.len() < sent.len() {
        assert!(
            Instant::now() < deadline,
            "no echo from aiortc in time: got {got:?}, state {:?}",
            pc.connection_state()
        );
        let next = loop {
            buf.clear();
            match pc.poll_output(&mut buf) {
                Output::Transmit(t) => {
                    let _ = sock.send_to(&buf[..t.size], t.destination.unwrap());
                }
                Output::Event(Event::ChannelOpen(id)) if id == chat => {
                    opened_at = Some(start.elapsed());
                    for m in &sent {
                        match m {
                            Payload::Text(t) => pc.send_text(chat, t).unwrap(),
                            Payload::Binary(b) => pc.send_binary(chat, b).unwrap(),
                        }
                    }
                }
                Output::Event(Event::ChannelMessage { id, payload }) if id == chat => {
                    got.push(payload)
                }
                Output::Event(Event::ConnectionStateChange(PeerConnectionState::Failed)) => {
                    panic!("the connection failed:\n{:?}", pc.get_stats())
                }
                Output::Event(_) => {}
                Output::Timeout(t) => break t,
            }
        };
        let wait = next
            .saturating_duration_since(Instant::now())
            .clamp(Duration::from_millis(1), Duration::from_millis(50));
        sock.set_read_timeout(Some(wait)).unwrap();
        match sock.recv_from(&mut rx) {
            Ok((n, from)) => {
                let _ = pc.handle_input(Input::Receive(
                    Instant::now(),
                    Datagram::udp(from, local, &rx[..n]),
                ));
            }
            Err(_) => pc.handle_input(Input::Timeout(Instant::now())).unwrap(),
        }
    }
    assert_eq!(got, sent);
    let report = pc.get_stats();
    assert_eq!(report.connection_state, PeerConnectionState::Connected);
    println!(
        "aiortc: channel open after {:?}, {} echoes back after {:?}; DTLS {:?} as {:?}",
        opened_at.unwrap(),
        got.len(),
        start.elapsed(),
        report.transport.dtls_cipher,
        report.transport.dtls_role
    );
    pc.send_text(chat, "bye").unwrap();
    // Let "bye" leave, then close.
    for _ in 0..20 {
        buf.clear();
        match pc.poll_output(&mut buf) {
            Output::Transmit(t) => {
                let _ = sock.send_to(&buf[..t.size], t.destination.unwrap());
            }
            Output::Event(_) => {}
            Output::Timeout(_) => break,
        }
    }
    pc.close();
    loop {
        buf.clear();
        match pc.poll_output(&mut buf) {
            Output::Transmit(t) => {
                let _ = sock.send_to(&buf[..t.size], t.destination.unwrap());
            }
            Output::Event(_) => {}
            Output::Timeout(_) => break,
        }
    }
    let status = child.0.wait().unwrap();
    assert!(status.success(), "aiortc exited with {status}");
}

/// Offers a data channel, prints the offer and a marker, reads our answer up to a marker,
/// sends "ping" and binary data when the channel opens, exits 0 once both came back.
const AIORTC_OFFER: &str = r#"
import asyncio, sys
import aioice.ice
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

async def main():
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    channel = pc.createDataChannel("from-aiortc")
    back = []
    done = asyncio.Event()

    @channel.on("open")
    def on_open():
        channel.send("ping")
        channel.send(b"\x00\x01\x02")

    @channel.on("message")
    def on_message(msg):
        back.append(msg)
        if len(back) == 2:
            done.set()

    await pc.setLocalDescription(await pc.createOffer())
    sys.stdout.write(pc.localDescription.sdp)
    sys.stdout.write("\n%%END%%\n")
    sys.stdout.flush()
    lines = []
    for line in sys.stdin:
        if line.strip() == "%%END%%":
            break
        lines.append(line.rstrip("\r\n"))
    await pc.setRemoteDescription(RTCSessionDescription(sdp="\r\n".join(lines) + "\r\n", type="answer"))
    await asyncio.wait_for(done.wait(), 20)
    ok = back == ["ping", b"\x00\x01\x02"]
    await pc.close()
    sys.exit(0 if ok else 3)

asyncio.run(main())
"#;

#[test]
fn we_answer_aiortc_and_echo_on_its_channel() {
    if !peer::python_module("aiortc") {
        return;
    }
    let dir = peer::scratch_dir("session-aiortc-offer");
    let script = dir.join("offer.py");
    std::fs::write(&script, AIORTC_OFFER).unwrap();
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let local = sock.local_addr().unwrap();
    let start = Instant::now();
    let mut pc = PeerConnection::new(Config::default(), start).unwrap();
    pc.add_local_candidate(local).unwrap();
    pc.end_of_local_candidates();

    let mut child = peer::ChildGuard(
        Command::new(peer::python())
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let mut offer = String::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if line == "%%END%%" {
            break;
        }
        offer.push_str(&line);
        offer.push_str("\r\n");
    }
    let offer = offer.trim_end().to_owned() + "\r\n";
    pc.set_remote_description(SessionDescription::offer(offer.clone()))
        .unwrap_or_else(|e| panic!("{e}\n{offer}"));
    let answer = pc.create_answer().unwrap();
    pc.set_local_description(answer.clone()).unwrap();
    {
        let mut stdin = child.0.stdin.take().unwrap();
        stdin.write_all(answer.sdp.as_bytes()).unwrap();
        stdin.write_all(b"%%END%%\n").unwrap();
    }

    let mut buf = Vec::with_capacity(1500);
    let mut rx = vec![0u8; 2048];
    let deadline = start + Duration::from_secs(20);
    let mut echoed = 0;
    let mut label = None;
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "aiortc did not finish: echoed {echoed}, state {:?}",
            pc.connection_state()
        );
        let next = loop {
            buf.clear();
            match pc.poll_output(&mut buf) {
                Output::Transmit(t) => {
                    let _ = sock.send_to(&buf[..t.size], t.destination.unwrap());
                }
                Output::Event(Event::DataChannel { label: l, .. }) => label = Some(l),
                Output::Event(Event::ChannelMessage { id, payload }) => {
                    echoed += 1;
                    match payload {
                        Payload::Text(t) => pc.send_text(id, &t).unwrap(),
                        Payload::Binary(b) => pc.send_binary(id, &b).unwrap(),
                    }
                }
                Output::Event(Event::ConnectionStateChange(PeerConnectionState::Failed)) => {
                    panic!("the connection failed:\n{:?}", pc.get_stats())
                }
                Output::Event(_) => {}
                Output::Timeout(t) => break t,
            }
        };
        let wait = next
            .saturating_duration_since(Instant::now())
            .clamp(Duration::from_millis(1), Duration::from_millis(50));
        sock.set_read_timeout(Some(wait)).unwrap();
        match sock.recv_from(&mut rx) {
            Ok((n, from)) => {
                let _ = pc.handle_input(Input::Receive(
                    Instant::now(),
                    Datagram::udp(from, local, &rx[..n]),
                ));
            }
            Err(_) => pc.handle_input(Input::Timeout(Instant::now())).unwrap(),
        }
    };
    assert!(
        status.success(),
        "aiortc did not get its echoes back: {status}"
    );
    assert_eq!(label.as_deref(), Some("from-aiortc"));
    assert_eq!(echoed, 2);
    assert_eq!(pc.dtls_role(), Some(rtcwire::DtlsRole::Client));
    println!("aiortc offered: echoed after {:?}", start.elapsed());
}
