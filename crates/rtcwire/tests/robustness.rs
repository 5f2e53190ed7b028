//! What a hostile or broken peer can do: a certificate that does not match the SDP
//! fingerprint, garbage datagrams, datagrams for someone else.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{addr, Duo, Signaling, ADDR_A, ADDR_B};
use rtcwire::{
    Certificate, Datagram, Error, Event, Input, Payload, PeerConnectionState, SessionDescription,
};
use rtcwire_sim::LinkConfig;

fn lan() -> LinkConfig {
    LinkConfig::with_delay(Duration::from_millis(5))
}

#[test]
fn a_certificate_that_does_not_match_the_fingerprint_fails_the_connection() {
    let mut duo = Duo::new(21, lan(), Signaling::Trickle);
    let chat = duo.with(true, |pc| {
        pc.create_data_channel("chat", Default::default()).unwrap()
    });
    let offer = duo.offer(true);
    let answer = duo.answer(false, offer, &[]);
    // A man in the middle's fingerprint instead of B's.
    let real = duo.sim.endpoint(duo.b).local_fingerprint().to_string();
    let other = Certificate::generate_self_signed()
        .unwrap()
        .fingerprint()
        .to_string();
    assert!(answer.sdp.contains(&real), "{real}\n{}", answer.sdp);
    let forged = SessionDescription::answer(answer.sdp.replace(&real, &other));
    duo.with(true, |pc| pc.set_remote_description(forged).unwrap());
    duo.with(true, |pc| pc.add_local_candidate(addr(ADDR_A)).unwrap());
    duo.with(false, |pc| pc.add_local_candidate(addr(ADDR_B)).unwrap());
    let ok = duo.run_until(Duration::from_secs(30), |d| {
        d.state(true) == PeerConnectionState::Failed
    });
    assert!(ok, "{}", duo.sim.report());
    assert!(!duo.opened(true).contains(&chat));
    assert!(!duo
        .log(false)
        .iter()
        .any(|e| matches!(e, Event::DataChannel { .. })));
    // B learns from the alert, or at the latest from its handshake timer.
    let ok = duo.run_until(Duration::from_secs(120), |d| {
        d.state(false) == PeerConnectionState::Failed
    });
    assert!(ok, "{}", duo.sim.report());
}

#[test]
fn garbage_datagrams_are_refused_counted_and_change_nothing() {
    let mut duo = Duo::new(22, lan(), Signaling::Trickle);
    let (ca, cb) = duo.connect_with_channel();
    let peer = addr(ADDR_B);
    let me = addr(ADDR_A);
    let stranger = addr("10.0.0.77:9999");
    let garbage: Vec<(std::net::SocketAddr, Vec<u8>)> = vec![
        (peer, vec![]),                                   // empty
        (peer, vec![0x80, 0x60, 0, 1, 0, 0, 0, 0]),       // RTP, fails SRTP
        (peer, vec![0x80, 200, 0, 1]),                    // RTCP, fails SRTCP
        (peer, vec![10, 1, 2]),                           // unassigned first byte
        (peer, vec![0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42]), // truncated STUN
        (
            peer,
            vec![23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9, 0, 4, 1, 2, 3, 4],
        ), // forged record
        (stranger, vec![23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9, 0, 0]), // not on a pair
        (stranger, b"hello".to_vec()),
    ];
    let now = duo.sim.now();
    let before = duo.sim.endpoint(duo.a).stats().refused_datagrams;
    for (from, bytes) in &garbage {
        let pc = duo.sim.endpoint_mut(duo.a);
        let r = pc.handle_input(Input::Receive(now, Datagram::udp(*from, me, bytes)));
        assert!(r.is_err(), "{bytes:?} from {from} accepted");
    }
    let stats = duo.sim.endpoint(duo.a).stats();
    assert_eq!(stats.refused_datagrams, before + garbage.len() as u64);
    // Empty, unassigned, "hello" (a QUIC first byte) and the truncated STUN message,
    // which ICE does not take as STUN and hands back as data.
    assert_eq!(stats.unhandled_kind, 4);
    // SRTP is keyed (DTLS negotiated use_srtp): RTP and RTCP fail its checks.
    assert_eq!(stats.refused_media, 2);
    // The session did not notice.
    assert_eq!(duo.state(true), PeerConnectionState::Connected);
    duo.with(true, |pc| pc.send_text(ca, "still here").unwrap());
    let ok = duo.run_until(Duration::from_secs(5), |d| {
        !d.messages(false, cb).is_empty()
    });
    assert!(ok, "{}", duo.sim.report());
    assert_eq!(
        duo.messages(false, cb),
        vec![Payload::Text("still here".into())]
    );
}

#[test]
fn input_before_a_remote_description_is_refused() {
    let mut duo = Duo::new(23, lan(), Signaling::Trickle);
    let now = duo.sim.now();
    let pc = duo.sim.endpoint_mut(duo.a);
    let record = [23u8, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0];
    let r = pc.handle_input(Input::Receive(
        now,
        Datagram::udp(addr(ADDR_B), addr(ADDR_A), &record),
    ));
    // A DTLS record is kept before the remote description only when ICE takes it (from an
    // address that passed its checks, to one of our candidates: a ClientHello may overtake
    // the answer); this one is neither.
    assert!(matches!(r, Err(Error::Ice(_))), "{r:?}");
    // STUN goes to ICE, which checks it (this one has no integrity: refused).
    let request = binding_request("whoever:x");
    let r = pc.handle_input(Input::Receive(
        now,
        Datagram::udp(addr(ADDR_B), addr(ADDR_A), &request),
    ));
    assert!(matches!(r, Err(Error::Ice(_))), "{r:?}");
    assert_eq!(pc.stats().refused_datagrams, 2);
}

#[test]
fn accepts_knows_its_own_datagrams() {
    let mut duo = Duo::new(24, lan(), Signaling::Trickle);
    let _ = duo.connect_with_channel();
    let a = duo.sim.endpoint(duo.a);
    let (peer, me) = (addr(ADDR_B), addr(ADDR_A));
    let record = [23u8, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9, 0, 0];
    assert!(
        a.accepts(&Datagram::udp(peer, me, &record)),
        "on the selected 5-tuple"
    );
    assert!(!a.accepts(&Datagram::udp(addr("10.9.9.9:1"), me, &record)));
    assert!(!a.accepts(&Datagram::udp(peer, addr("10.0.0.1:5001"), &record)));
    // A binding request naming our ufrag (USERNAME "ours:theirs").
    let ufrag = a.ice_agent().local_credentials().ufrag.clone();
    let request = binding_request(&format!("{ufrag}:x"));
    assert!(a.accepts(&Datagram::udp(addr("10.9.9.9:1"), me, &request)));
    let request = binding_request("someoneelse:x");
    assert!(!a.accepts(&Datagram::udp(peer, me, &request)));
}

/// A STUN binding request with only a USERNAME.
fn binding_request(username: &str) -> Vec<u8> {
    let mut user = username.as_bytes().to_vec();
    let len = user.len();
    while user.len() % 4 != 0 {
        user.push(0);
    }
    let mut m = vec![0x00, 0x01];
    m.extend_from_slice(&u16::try_from(4 + user.len()).unwrap().to_be_bytes());
    m.extend_from_slice(&[0x21, 0x12, 0xa4, 0x42]);
    m.extend_from_slice(&[7; 12]);
    m.extend_from_slice(&[0x00, 0x06]);
    m.extend_from_slice(&u16::try_from(len).unwrap().to_be_bytes());
    m.extend_from_slice(&user);
    m
}

/// Two sessions on an in-memory wire, drained with a lent buffer that already holds
/// `prefix` bytes: every datagram is appended after them (so the DTLS records take the
/// copying path through ICE, not the buffer trade), and the channel still opens.
fn in_memory_session(prefix: usize) {
    use rtcwire::{Config, DataChannelInit, Output, PeerConnection};
    use std::net::SocketAddr;
    let (ca, cb) = common::certificates().clone();
    #[allow(clippy::disallowed_methods)] // virtual time below starts anywhere
    let start = std::time::Instant::now();
    let (addr_a, addr_b) = (addr(ADDR_A), addr(ADDR_B));
    let mut a = PeerConnection::new(Config::seeded(1, ca), start).unwrap();
    let mut b = PeerConnection::new(Config::seeded(2, cb), start).unwrap();
    let chat = a
        .create_data_channel("chat", DataChannelInit::default())
        .unwrap();
    let offer = a.create_offer().unwrap();
    a.set_local_description(offer.clone()).unwrap();
    b.set_remote_description(offer).unwrap();
    let answer = b.create_answer().unwrap();
    b.set_local_description(answer.clone()).unwrap();
    a.set_remote_description(answer).unwrap();
    a.add_local_candidate(addr_a).unwrap();
    b.add_local_candidate(addr_b).unwrap();
    let mut now = start;
    let mut wire: Vec<(SocketAddr, SocketAddr, Vec<u8>)> = Vec::new();
    let drain = |pc: &mut PeerConnection, wire: &mut Vec<_>, events: &mut Vec<Event>| {
        let mut buf = Vec::new();
        loop {
            buf.clear();
            buf.resize(prefix, 0xee);
            match pc.poll_output(&mut buf) {
                Output::Transmit(t) => {
                    assert_eq!(buf.len(), prefix + t.size, "appended after the prefix");
                    assert!(buf[..prefix].iter().all(|&b| b == 0xee));
                    wire.push((
                        t.source.unwrap(),
                        t.destination.unwrap(),
                        buf[prefix..].to_vec(),
                    ));
                }
                Output::Event(e) => events.push(e),
                Output::Timeout(t) => return t,
            }
        }
    };
    let (mut ea, mut eb) = (Vec::new(), Vec::new());
    for _ in 0..1000 {
        let next = drain(&mut a, &mut wire, &mut ea).min(drain(&mut b, &mut wire, &mut eb));
        for e in ea.drain(..) {
            match e {
                Event::IceCandidate(c) => b.add_ice_candidate(&c).unwrap(),
                Event::ChannelOpen(id) if id == chat => return,
                _ => {}
            }
        }
        for e in eb.drain(..) {
            if let Event::IceCandidate(c) = e {
                a.add_ice_candidate(&c).unwrap();
            }
        }
        if wire.is_empty() {
            now = now.max(next);
            a.handle_input(Input::Timeout(now)).unwrap();
            b.handle_input(Input::Timeout(now)).unwrap();
        }
        for (from, to, bytes) in wire.drain(..) {
            let pc = if to == addr_a { &mut a } else { &mut b };
            let _ = pc.handle_input(Input::Receive(now, Datagram::udp(from, to, &bytes)));
        }
    }
    panic!("the channel did not open");
}

#[test]
fn datagrams_are_appended_to_a_lent_buffer_that_is_not_empty() {
    in_memory_session(5);
}

#[test]
fn datagrams_fill_an_empty_lent_buffer() {
    in_memory_session(0);
}
