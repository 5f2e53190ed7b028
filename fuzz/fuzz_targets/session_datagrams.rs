#![no_main]
//! Arbitrary datagrams into a session after offer/answer: two sessions connect over an
//! in-memory wire (data channel open), then the input, a list of length-prefixed items
//! each with a selector, goes into one of them (A). An item is either a datagram (from
//! the peer's address or a stranger's; as is, or with a DTLS application-data header of
//! the current epoch), or, with selector bit 3, an action of the real peer B whose
//! authentic datagrams then reach A (open a channel labelled with the bytes, send them as
//! text or binary, close a channel; send them as a VP8 frame, as a raw RTP packet, or ask
//! for a keyframe on the video transceiver both have), so A's SCTP, data-channel, SRTP,
//! RTP routing, depacketizing and RTCP handling see peer-chosen content behind valid
//! DTLS and SRTP.
//! Nothing panics, refused datagrams change nothing visible, outputs drain to Timeout, and
//! the session's queues stay bounded.
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use rtcwire::{
    Certificate, Codec, Config, DataChannelInit, Datagram, Event, Input, MediaKind, Output,
    PeerConnection, TransceiverId,
};

fn certificates() -> (Certificate, Certificate) {
    static CERTS: OnceLock<(Certificate, Certificate)> = OnceLock::new();
    CERTS
        .get_or_init(|| {
            (
                Certificate::generate_self_signed().expect("certificate"),
                Certificate::generate_self_signed().expect("certificate"),
            )
        })
        .clone()
}

const A: &str = "10.0.0.1:5000";
const B: &str = "10.0.0.2:5000";
const STRANGER: &str = "10.0.0.9:7000";

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("address")
}

/// Drains a session; returns its next timeout and how many outputs it gave.
fn drain(
    pc: &mut PeerConnection,
    wire: &mut Vec<(SocketAddr, SocketAddr, Vec<u8>)>,
    events: &mut Vec<Event>,
) -> Instant {
    let mut buf = Vec::new();
    for _ in 0..100_000 {
        buf.clear();
        match pc.poll_output(&mut buf) {
            Output::Transmit(t) => {
                let (Some(from), Some(to)) = (t.source, t.destination) else {
                    panic!("a transmit without addresses");
                };
                wire.push((from, to, buf[..t.size].to_vec()));
            }
            Output::Event(e) => events.push(e),
            Output::Timeout(t) => return t,
        }
    }
    panic!("poll_output never reached Timeout");
}

/// Two connected sessions with an open channel, at virtual time `now`.
fn connected(now: &mut Instant) -> Option<(PeerConnection, PeerConnection)> {
    let (ca, cb) = certificates();
    let mut a = PeerConnection::new(Config::seeded(1, ca), *now).ok()?;
    let mut b = PeerConnection::new(Config::seeded(2, cb), *now).ok()?;
    let chat = a
        .create_data_channel("chat", DataChannelInit::default())
        .ok()?;
    a.add_track(MediaKind::Video, &["a"]).ok()?;
    let offer = a.create_offer().ok()?;
    a.set_local_description(offer.clone()).ok()?;
    b.set_remote_description(offer).ok()?;
    b.add_track(MediaKind::Video, &["b"]).ok()?;
    let answer = b.create_answer().ok()?;
    b.set_local_description(answer.clone()).ok()?;
    a.set_remote_description(answer).ok()?;
    a.add_local_candidate(addr(A)).ok()?;
    b.add_local_candidate(addr(B)).ok()?;
    let mut wire = Vec::new();
    let (mut ea, mut eb) = (Vec::new(), Vec::new());
    let mut open = false;
    for _ in 0..2000 {
        let next = drain(&mut a, &mut wire, &mut ea).min(drain(&mut b, &mut wire, &mut eb));
        for e in ea.drain(..) {
            match e {
                Event::IceCandidate(c) => b.add_ice_candidate(&c).ok()?,
                Event::ChannelOpen(id) if id == chat => open = true,
                _ => {}
            }
        }
        for e in eb.drain(..) {
            if let Event::IceCandidate(c) = e {
                a.add_ice_candidate(&c).ok()?;
            }
        }
        if open && wire.is_empty() {
            return Some((a, b));
        }
        if wire.is_empty() {
            *now = (*now).max(next);
            a.handle_input(Input::Timeout(*now)).ok()?;
            b.handle_input(Input::Timeout(*now)).ok()?;
        }
        for (from, to, bytes) in wire.drain(..) {
            let pc = if to == addr(A) { &mut a } else { &mut b };
            let _ = pc.handle_input(Input::Receive(*now, Datagram::udp(from, to, &bytes)));
        }
    }
    None
}

fuzz_target!(|data: &[u8]| {
    // The only real-clock reading: a base for virtual time.
    #[allow(clippy::disallowed_methods)]
    let mut now = Instant::now();
    let Some((mut a, mut b)) = connected(&mut now) else {
        panic!("the two sessions did not connect");
    };
    let mut rest = data;
    let mut wire = Vec::new();
    let mut events = Vec::new();
    let mut datagrams = 0;
    while rest.len() >= 3 && datagrams < 64 {
        let sel = rest[0];
        let len = usize::from(u16::from_be_bytes([rest[1], rest[2]])) % 1500;
        rest = &rest[3..];
        let body = &rest[..len.min(rest.len())];
        rest = &rest[body.len()..];
        datagrams += 1;
        if sel & 8 != 0 {
            peer_action(&mut a, &mut b, &mut now, sel, body);
            continue;
        }
        let from = if sel & 1 == 0 {
            addr(B)
        } else {
            addr(STRANGER)
        };
        let mut bytes = Vec::with_capacity(body.len() + 13);
        if sel & 2 != 0 {
            // A DTLS 1.2 application-data record header, epoch 1.
            let n = u16::try_from(body.len()).unwrap_or(u16::MAX);
            bytes.extend_from_slice(&[23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, sel]);
            bytes.extend_from_slice(&n.to_be_bytes());
        }
        bytes.extend_from_slice(body);
        if sel & 4 != 0 {
            now += Duration::from_millis(u64::from(sel >> 3) * 10);
            let _ = a.handle_input(Input::Timeout(now));
        }
        let before = a.stats().refused_datagrams;
        match a.handle_input(Input::Receive(now, Datagram::udp(from, addr(A), &bytes))) {
            Ok(()) => {}
            Err(_) => assert_eq!(
                a.stats().refused_datagrams,
                before + 1,
                "refusals are counted"
            ),
        }
        let _ = drain(&mut a, &mut wire, &mut events);
        // What a peer sends cannot pile up: the application drains events each time.
        assert!(events.len() < 10_000);
        events.clear();
        wire.clear();
    }
});

/// B does something a peer may do; datagrams go both ways (every fourth one from B lost
/// when selector bit 7 is set) until both sides are quiet.
fn peer_action(
    a: &mut PeerConnection,
    b: &mut PeerConnection,
    now: &mut Instant,
    sel: u8,
    body: &[u8],
) {
    let channels: Vec<rtcwire::ChannelId> =
        b.get_stats().data_channels.iter().map(|c| c.id).collect();
    let pick = channels
        .get(usize::from(sel >> 4) % channels.len().max(1))
        .copied();
    let video: Option<TransceiverId> = b.transceivers().first().copied();
    match (sel >> 4) & 7 {
        0 => {
            let label = String::from_utf8_lossy(body);
            let init = DataChannelInit {
                ordered: sel & 0x40 == 0,
                max_retransmits: (sel & 0x80 != 0).then_some(2),
                ..DataChannelInit::default()
            };
            let _ = b.create_data_channel(&label, init);
        }
        1 => {
            if let Some(id) = pick {
                let _ = b.send_text(id, &String::from_utf8_lossy(body));
            }
        }
        2 => {
            if let Some(id) = pick {
                let _ = b.send_binary(id, body);
            }
        }
        3 => {
            if let Some(id) = pick {
                let _ = b.close_channel(id);
            }
        }
        4 | 5 => {
            if let Some(v) = video {
                if let Some(pt) = b.payload_type(v, Codec::Vp8) {
                    let ts = u32::from(sel).wrapping_mul(3000);
                    let _ = b.write_frame(v, pt, ts, body);
                }
            }
        }
        6 => {
            if let Some(v) = video {
                let _ = b.write_rtp(v, body);
            }
        }
        _ => {
            if let Some(v) = video {
                let _ = b.request_keyframe(v);
            }
        }
    }
    let mut wire = Vec::new();
    let (mut ea, mut eb) = (Vec::new(), Vec::new());
    let mut n = 0u32;
    for _ in 0..200 {
        let next = drain(a, &mut wire, &mut ea).min(drain(b, &mut wire, &mut eb));
        assert!(ea.len() < 10_000 && eb.len() < 10_000);
        ea.clear();
        eb.clear();
        if wire.is_empty() {
            if next > *now + Duration::from_secs(5) {
                return;
            }
            *now = (*now).max(next);
            let _ = a.handle_input(Input::Timeout(*now));
            let _ = b.handle_input(Input::Timeout(*now));
            continue;
        }
        for (from, to, bytes) in wire.drain(..) {
            n += 1;
            if sel & 0x80 != 0 && from == addr(B) && n % 4 == 0 {
                continue;
            }
            let pc = if to == addr(A) { &mut *a } else { &mut *b };
            let _ = pc.handle_input(Input::Receive(*now, Datagram::udp(from, to, &bytes)));
        }
    }
}
