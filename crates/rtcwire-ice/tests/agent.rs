//! Agent behaviour without the simulator: credentials on every message, consent only from
//! authenticated responses, browser candidates, demultiplexing helpers, close, caps.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rtcwire_ice::{
    Agent, Candidate, Config, Error, Event, IceState, Received, RemoteCandidateOutcome,
};
use rtcwire_proto::{Datagram, Rng, RngError, SansIo, SeededRng};
use rtcwire_stun::{Attribute, IntegrityKey, Message, MessageBuilder, MessageType, TransactionId};

const A: &str = "10.0.0.1:5000";
const B: &str = "10.0.0.2:6000";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn t0() -> Instant {
    rtcwire_sim::Sim::new(1).now() // a virtual instant; no wall clock in these tests
}

/// Two agents joined by a perfect wire the test controls.
struct Wire {
    a: Agent,
    b: Agent,
    now: Instant,
    b_to_a: bool,
    a_to_b: bool,
    /// Last Binding request A sent (bytes), for forging answers.
    last_a_request: Option<Vec<u8>>,
}

impl Wire {
    fn new() -> Wire {
        let now = t0();
        let mut a = Agent::new(
            Config {
                controlling: true,
                ..Config::default()
            },
            Box::new(SeededRng::new(1)),
        )
        .unwrap();
        let mut b = Agent::new(Config::default(), Box::new(SeededRng::new(2))).unwrap();
        let (ca, cb) = (a.local_credentials().clone(), b.local_credentials().clone());
        a.set_remote_credentials(&cb.ufrag, &cb.pwd).unwrap();
        b.set_remote_credentials(&ca.ufrag, &ca.pwd).unwrap();
        let a_cand = a.add_host_candidate(now, addr(A)).unwrap();
        let b_cand = b.add_host_candidate(now, addr(B)).unwrap();
        a.add_remote_candidate(now, b_cand).unwrap();
        b.add_remote_candidate(now, a_cand).unwrap();
        Wire {
            a,
            b,
            now,
            b_to_a: true,
            a_to_b: true,
            last_a_request: None,
        }
    }

    /// Moves datagrams and time until `until` holds or `limit` passes.
    fn run(&mut self, limit: Duration, until: impl Fn(&Wire) -> bool) -> bool {
        let end = self.now + limit;
        for _ in 0..100_000 {
            let mut moved = true;
            while moved {
                moved = false;
                let mut buf = Vec::new();
                while let Some(t) = self.a.poll_transmit(self.now, &mut buf) {
                    if buf.first().is_some_and(|b| *b == 0) && buf.get(1) == Some(&1) {
                        self.last_a_request = Some(buf.clone());
                    }
                    if self.a_to_b && t.destination == Some(addr(B)) {
                        let _ = self
                            .b
                            .handle_datagram(self.now, Datagram::udp(addr(A), addr(B), &buf));
                        moved = true;
                    }
                    buf.clear();
                }
                while let Some(t) = self.b.poll_transmit(self.now, &mut buf) {
                    if self.b_to_a && t.destination == Some(addr(A)) {
                        let _ = self
                            .a
                            .handle_datagram(self.now, Datagram::udp(addr(B), addr(A), &buf));
                        moved = true;
                    }
                    buf.clear();
                }
            }
            while self.a.poll_event().is_some() || self.b.poll_event().is_some() {}
            if until(self) {
                return true;
            }
            let next = [self.a.poll_timeout(), self.b.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            let Some(next) = next else { return false };
            if next > end {
                self.now = end;
                return until(self);
            }
            self.now = self.now.max(next);
            self.a.handle_timeout(self.now);
            self.b.handle_timeout(self.now);
        }
        false
    }
}

fn connected(a: &Agent) -> bool {
    matches!(a.state(), IceState::Connected | IceState::Completed)
}

fn request(tid: [u8; 12], username: &str, key: &IntegrityKey, use_candidate: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut b =
        MessageBuilder::new(&mut out, MessageType::BINDING_REQUEST, TransactionId(tid)).unwrap();
    b.attr(&Attribute::Username(username)).unwrap();
    b.attr(&Attribute::Priority(0x6e00_01ff)).unwrap();
    b.attr(&Attribute::IceControlling(7)).unwrap();
    if use_candidate {
        b.attr(&Attribute::UseCandidate).unwrap();
    }
    b.message_integrity(key).unwrap().fingerprint().unwrap();
    b.finish();
    out
}

#[test]
fn request_with_wrong_password_is_dropped_counted_and_never_answered() {
    let mut b = Agent::new(Config::default(), Box::new(SeededRng::new(2))).unwrap();
    let now = t0();
    b.add_host_candidate(now, addr(B)).unwrap();
    while b.poll_event().is_some() {}
    let user = format!("{}:peer", b.local_credentials().ufrag);
    let bad = request(
        [1; 12],
        &user,
        &IntegrityKey::short_term("not-the-password-at-all"),
        true,
    );
    let r = b.handle_datagram(now, Datagram::udp(addr(A), addr(B), &bad));
    assert_eq!(r, Err(Error::BadCredentials));
    assert_eq!(b.stats().bad_integrity, 1);
    assert!(
        b.poll_transmit(now, &mut Vec::new()).is_none(),
        "answered a forged request"
    );
    assert_eq!(
        b.remote_candidate_count(),
        0,
        "learned a candidate from a forged request"
    );
    // Another ufrag: dropped too.
    let other = request(
        [2; 12],
        "someone:else",
        &IntegrityKey::short_term("x"),
        false,
    );
    assert_eq!(
        b.handle_datagram(now, Datagram::udp(addr(A), addr(B), &other)),
        Err(Error::WrongUsername)
    );
    // The right password is answered with success and XOR-MAPPED-ADDRESS.
    let pwd = b.local_credentials().pwd.clone();
    let good = request([3; 12], &user, &IntegrityKey::short_term(&pwd), false);
    assert_eq!(
        b.handle_datagram(now, Datagram::udp(addr(A), addr(B), &good)),
        Ok(Received::Stun)
    );
    let mut buf = Vec::new();
    let t = b.poll_transmit(now, &mut buf).unwrap();
    assert_eq!(t.destination, Some(addr(A)));
    let resp = Message::parse(&buf).unwrap();
    assert_eq!(resp.message_type(), MessageType::BINDING_SUCCESS);
    resp.verify_integrity(&IntegrityKey::short_term(&pwd))
        .unwrap();
    assert_eq!(resp.xor_mapped_address().unwrap(), Some(addr(A)));
    assert_eq!(b.peer_reflexive_count(), 1);
}

#[test]
fn forged_response_is_refused_and_does_not_validate_the_pair() {
    let mut w = Wire::new();
    w.b_to_a = false;
    assert!(!w.run(Duration::from_millis(100), |w| connected(&w.a)));
    let req = w.last_a_request.clone().expect("A sent a check");
    let req = Message::parse(&req).unwrap();
    let mut forged = Vec::new();
    let mut b = MessageBuilder::new(
        &mut forged,
        MessageType::BINDING_SUCCESS,
        req.transaction_id(),
    )
    .unwrap();
    b.attr(&Attribute::XorMappedAddress(addr(A))).unwrap();
    b.message_integrity(&IntegrityKey::short_term("wrong-password-wrong-pwd"))
        .unwrap();
    b.fingerprint().unwrap();
    b.finish();
    let before = w.a.transaction_count();
    assert_eq!(
        w.a.handle_datagram(w.now, Datagram::udp(addr(B), addr(A), &forged)),
        Err(Error::BadCredentials)
    );
    assert_eq!(
        w.a.transaction_count(),
        before,
        "the transaction must stay open"
    );
    assert!(!connected(&w.a));
    assert_eq!(w.a.stats().bad_integrity, 1);
    // Still connects once B's real answers arrive.
    w.b_to_a = true;
    assert!(w.run(Duration::from_secs(5), |w| connected(&w.a)
        && connected(&w.b)));
}

#[test]
fn only_authenticated_responses_refresh_consent() {
    let mut w = Wire::new();
    assert!(w.run(Duration::from_secs(5), |w| connected(&w.a)
        && connected(&w.b)));
    let mut data = Vec::new();
    let t = w.a.send(b"media", &mut data).unwrap();
    assert_eq!(t.destination, Some(addr(B)));
    // B goes silent for STUN; the attacker (or a broken peer) keeps sending media and
    // answers every consent check with a forged response.
    w.b_to_a = false;
    let start = w.now;
    let mut forged_answers = 0;
    let mut data_accepted = 0;
    for _ in 0..200 {
        let _ = w.run(Duration::from_millis(500), |_| false);
        if let Some(req) = w.last_a_request.take() {
            let req = Message::parse(&req).unwrap();
            let mut forged = Vec::new();
            let mut b = MessageBuilder::new(
                &mut forged,
                MessageType::BINDING_SUCCESS,
                req.transaction_id(),
            )
            .unwrap();
            b.attr(&Attribute::XorMappedAddress(addr(A))).unwrap();
            b.message_integrity(&IntegrityKey::short_term("forged-forged-forged-22"))
                .unwrap();
            b.fingerprint().unwrap();
            b.finish();
            if w.a
                .handle_datagram(w.now, Datagram::udp(addr(B), addr(A), &forged))
                .is_err()
            {
                forged_answers += 1;
            }
        }
        if w.a.selected_pair().is_some() {
            let r =
                w.a.handle_datagram(w.now, Datagram::udp(addr(B), addr(A), &[0x80, 0, 0, 1]));
            data_accepted += u32::from(matches!(r, Ok(Received::Data { .. })));
        }
        if w.a.state() == IceState::Failed {
            break;
        }
    }
    assert_eq!(w.a.state(), IceState::Failed);
    let lost_after = w.now - start;
    assert!(
        lost_after >= Duration::from_secs(25) && lost_after <= Duration::from_secs(31),
        "{lost_after:?}"
    );
    assert!(forged_answers > 3 && data_accepted > 10);
    assert!(
        w.a.send(b"x", &mut Vec::new()).is_err(),
        "must stop sending without consent"
    );
}

#[test]
fn data_from_an_unknown_address_is_refused() {
    let mut w = Wire::new();
    assert!(w.run(Duration::from_secs(5), |w| connected(&w.a)));
    let r = w.a.handle_datagram(
        w.now,
        Datagram::udp(addr("10.9.9.9:1"), addr(A), &[0x80, 1, 2, 3]),
    );
    assert_eq!(r, Err(Error::UnknownSource(addr("10.9.9.9:1"))));
    let r =
        w.a.handle_datagram(w.now, Datagram::udp(addr(B), addr(A), &[0x80, 1, 2, 3]));
    assert!(matches!(
        r,
        Ok(Received::Data {
            contents: [0x80, 1, 2, 3],
            ..
        })
    ));
    // Arriving on an address we have no candidate for.
    let r = w.a.handle_datagram(
        w.now,
        Datagram::udp(addr(B), addr("10.0.0.1:5999"), &[0x80]),
    );
    assert!(matches!(r, Err(Error::UnknownDestination(_))));
}

#[test]
fn everything_a_browser_sends_is_accepted() {
    let now = t0();
    let mut a = Agent::new(
        Config {
            controlling: true,
            ..Config::default()
        },
        Box::new(SeededRng::new(3)),
    )
    .unwrap();
    a.add_host_candidate(now, addr(A)).unwrap();
    a.add_host_candidate(now, addr("[2001:db8::1]:5000"))
        .unwrap();
    let lines = [
        ("candidate:1 1 udp 2122260223 192.0.2.10 54400 typ host generation 0 ufrag abcd network-id 1", RemoteCandidateOutcome::Added),
        ("candidate:2 1 udp 2122262783 2001:db8::10 54401 typ host generation 0 ufrag abcd network-id 2", RemoteCandidateOutcome::Added),
        ("candidate:1 2 udp 2122260222 192.0.2.10 54402 typ host generation 0", RemoteCandidateOutcome::Ignored),
        ("candidate:3 1 tcp 1518280447 192.0.2.10 9 typ host tcptype active generation 0", RemoteCandidateOutcome::Added),
        ("candidate:4 1 tcp 1518214911 192.0.2.10 54403 typ host tcptype passive", RemoteCandidateOutcome::Added),
        ("candidate:5 1 udp 2122260223 0d2cd7c3-4ad2-4a71-9a0b-4d7d2b7b8f7c.local 54404 typ host generation 0", RemoteCandidateOutcome::NeedsResolution("0d2cd7c3-4ad2-4a71-9a0b-4d7d2b7b8f7c.local".into())),
        ("candidate:6 1 udp 1686052607 203.0.113.5 54405 typ srflx raddr 0.0.0.0 rport 0 generation 0 network-cost 999", RemoteCandidateOutcome::Added),
        ("candidate:1 1 udp 2122260223 192.0.2.10 54400 typ host generation 0", RemoteCandidateOutcome::Duplicate),
    ];
    a.set_remote_credentials("abcd", "0123456789012345678901")
        .unwrap();
    for (line, want) in lines {
        let c = Candidate::parse(line).unwrap();
        assert_eq!(a.add_remote_candidate(now, c).unwrap(), want, "{line}");
    }
    let s = a.stats();
    assert_eq!((s.ignored_component2, s.ignored_tcp), (1, 0));
    // IPv4 pairs with IPv4, IPv6 with IPv6.
    assert_eq!(a.pair_count(), 3);
    a.resolve_remote_hostname(
        now,
        "0d2cd7c3-4ad2-4a71-9a0b-4d7d2b7b8f7c.local",
        "192.0.2.11".parse().unwrap(),
    )
    .unwrap();
    assert_eq!(a.pair_count(), 4);
    assert!(a
        .check_list()
        .any(|(_, r, _)| r == addr("192.0.2.11:54404")));
    // A local passive TCP candidate pairs with the remote active one (RFC 6544 §6.2).
    a.add_tcp_host_candidate(now, addr("10.0.0.1:4443"), rtcwire_ice::TcpType::Passive)
        .unwrap();
    assert_eq!(a.pair_count(), 5);
    assert!(a
        .check_list()
        .any(|(l, r, _)| l == addr("10.0.0.1:4443") && r == addr("192.0.2.10:9")));
    // A TCP candidate without tcptype cannot be paired.
    let bare = Candidate::parse("candidate:7 1 tcp 1518280447 192.0.2.10 5555 typ host").unwrap();
    assert_eq!(
        a.add_remote_candidate(now, bare).unwrap(),
        RemoteCandidateOutcome::Ignored
    );
    assert_eq!(a.stats().ignored_tcp, 1);
    // A candidate of another generation (other ufrag) is ignored.
    let old =
        Candidate::parse("candidate:9 1 udp 2122260223 192.0.2.99 1 typ host ufrag zzzz").unwrap();
    assert_eq!(
        a.add_remote_candidate(now, old).unwrap(),
        RemoteCandidateOutcome::Ignored
    );
}

#[test]
fn checks_without_use_candidate_do_not_disturb_the_nominated_pair() {
    let mut w = Wire::new();
    assert!(w.run(Duration::from_secs(5), |w| connected(&w.a)
        && connected(&w.b)));
    let before = w.b.selected_pair().unwrap();
    // A valid check (no USE-CANDIDATE) from another address of the peer.
    let user = format!(
        "{}:{}",
        w.b.local_credentials().ufrag,
        w.a.local_credentials().ufrag
    );
    let key = IntegrityKey::short_term(&w.b.local_credentials().pwd.clone());
    let req = request([5; 12], &user, &key, false);
    let r =
        w.b.handle_datagram(w.now, Datagram::udp(addr("10.0.0.1:5001"), addr(B), &req));
    assert_eq!(r, Ok(Received::Stun));
    // Consent and keepalive traffic for a minute.
    assert!(!w.run(Duration::from_secs(60), |w| !connected(&w.b)));
    assert_eq!(w.b.selected_pair().unwrap(), before);
    assert_eq!(w.a.stats().bad_integrity + w.b.stats().bad_integrity, 0);
}

#[test]
fn accepts_is_cheap_and_preparsed_stun_is_handled_once() {
    let mut w = Wire::new();
    assert!(w.run(Duration::from_secs(5), |w| connected(&w.b)));
    let user = format!(
        "{}:{}",
        w.b.local_credentials().ufrag,
        w.a.local_credentials().ufrag
    );
    let key = IntegrityKey::short_term(&w.b.local_credentials().pwd.clone());
    let req = request([6; 12], &user, &key, false);
    let d = Datagram::udp(addr(A), addr(B), &req);
    assert!(w.b.accepts(&d));
    assert!(!w
        .b
        .accepts(&Datagram::udp(addr(A), addr(B), &[22, 254, 253, 0, 0])));
    let msg = Message::parse(&req).unwrap();
    let before = w.b.stats().requests_received;
    w.b.handle_stun(w.now, &d, &msg).unwrap();
    assert_eq!(w.b.stats().requests_received, before + 1);
}

#[test]
fn close_stops_everything() {
    let mut w = Wire::new();
    assert!(w.run(Duration::from_secs(5), |w| connected(&w.a)));
    w.a.close(w.now);
    let mut states = Vec::new();
    while let Some(e) = w.a.poll_event() {
        if let Event::StateChanged(s) = e {
            states.push(s);
        }
    }
    assert_eq!(states, vec![IceState::Closed]);
    assert_eq!(w.a.poll_timeout(), None);
    assert_eq!(
        w.a.handle_read(w.now, Datagram::udp(addr(B), addr(A), &[0x80])),
        Err(Error::Closed)
    );
    assert!(w.a.send(b"x", &mut Vec::new()).is_err());
}

struct Broken;
impl Rng for Broken {
    fn fill(&mut self, _: &mut [u8]) -> Result<(), RngError> {
        Err(RngError)
    }
}

#[test]
fn a_failing_random_source_is_an_error() {
    assert_eq!(
        Agent::new(Config::default(), Box::new(Broken)).err(),
        Some(Error::Rng)
    );
}

#[test]
fn caps_hold_under_a_flood_of_peer_reflexive_checks() {
    let now = t0();
    let config = Config {
        max_peer_reflexive: 4,
        max_pairs: 8,
        max_transactions: 8,
        ..Config::default()
    };
    let mut b = Agent::new(config, Box::new(SeededRng::new(9))).unwrap();
    b.add_host_candidate(now, addr(B)).unwrap();
    b.set_remote_credentials("peer", "0123456789012345678901")
        .unwrap();
    let user = format!("{}:peer", b.local_credentials().ufrag);
    let key = IntegrityKey::short_term(&b.local_credentials().pwd.clone());
    for i in 0..200u16 {
        let src = SocketAddr::from(([10, 1, (i >> 8) as u8, i as u8], 4000 + i));
        let req = request([i as u8; 12], &user, &key, i % 2 == 0);
        let _ = b.handle_datagram(
            now + Duration::from_millis(u64::from(i)),
            Datagram::udp(src, addr(B), &req),
        );
        b.handle_timeout(now + Duration::from_millis(u64::from(i)));
        while b.poll_transmit(now, &mut Vec::new()).is_some() {}
        assert!(b.peer_reflexive_count() <= 4);
        assert!(b.pair_count() <= 8);
        assert!(b.transaction_count() <= 8);
    }
    assert!(b.stats().limit_drops > 0);
}

#[test]
fn checks_arriving_before_the_peers_credentials_are_answered_then_returned() {
    // Trickle: B hears A's checks before the answer with A's credentials reached it.
    let now = t0();
    let mut a = Agent::new(
        Config {
            controlling: true,
            ..Config::default()
        },
        Box::new(SeededRng::new(1)),
    )
    .unwrap();
    let mut b = Agent::new(Config::default(), Box::new(SeededRng::new(2))).unwrap();
    let (ca, cb) = (a.local_credentials().clone(), b.local_credentials().clone());
    a.set_remote_credentials(&cb.ufrag, &cb.pwd).unwrap();
    a.add_host_candidate(now, addr(A)).unwrap();
    let bc = b.add_host_candidate(now, addr(B)).unwrap();
    a.add_remote_candidate(now, bc).unwrap();
    let mut w = Wire {
        a,
        b,
        now,
        b_to_a: true,
        a_to_b: true,
        last_a_request: None,
    };
    // A's checks reach B, which answers (it needs only its own password) but cannot check back.
    assert!(!w.run(Duration::from_millis(300), |w| connected(&w.b)));
    assert!(w.b.stats().requests_received > 0);
    assert!(w.b.peer_reflexive_count() == 1);
    // The credentials arrive: B's triggered check goes out without any other prompt.
    w.b.set_remote_credentials(&ca.ufrag, &ca.pwd).unwrap();
    assert!(w
        .b
        .poll_timeout()
        .is_some_and(|t| t <= w.now + Duration::from_millis(1)));
    assert!(w.run(Duration::from_secs(5), |w| connected(&w.a)
        && connected(&w.b)));
}

/// A browser on this host has a LAN address and loopback; we listen on 127.0.0.1 only. Its
/// LAN candidate is never paired with our loopback one from signalling alone (that path
/// would lead off the host), but once its authenticated check arrives over that very path
/// the pair is proven: it is answered, checked back, and data from it is accepted (Chromium
/// then sends its DTLS that way; refusing it stalled the session).
#[test]
fn a_check_from_a_lan_address_to_our_loopback_proves_the_pair() {
    let now = t0();
    let local = addr("127.0.0.1:4000");
    let lan = addr("10.77.0.1:5000");
    let mut b = Agent::new(Config::default(), Box::new(SeededRng::new(2))).unwrap();
    b.set_remote_credentials("peer", "peerpasswordlongenough1234")
        .unwrap();
    b.add_host_candidate(now, local).unwrap();
    let mut signalled = Candidate::host(lan, 1);
    signalled.priority = 2_122_194_687;
    b.add_remote_candidate(now, signalled).unwrap();
    while b.poll_event().is_some() {}

    // Signalling alone: no check towards the LAN address, and its data is refused.
    let mut buf = Vec::new();
    let mut later = now;
    for _ in 0..20 {
        while let Some(t) = b.poll_transmit(later, &mut buf) {
            assert_ne!(
                t.destination,
                Some(lan),
                "checked a loopback-to-LAN pair unprompted"
            );
            buf.clear();
        }
        later += Duration::from_millis(50);
        b.handle_timeout(later);
    }
    assert_eq!(
        b.handle_datagram(later, Datagram::udp(lan, local, &[0x17, 0xfe, 0xfd])),
        Err(Error::UnknownSource(lan))
    );

    // The browser's nominating check over that path.
    let user = format!("{}:peer", b.local_credentials().ufrag);
    let pwd = b.local_credentials().pwd.clone();
    let check = request([9; 12], &user, &IntegrityKey::short_term(&pwd), true);
    assert_eq!(
        b.handle_datagram(later, Datagram::udp(lan, local, &check)),
        Ok(Received::Stun)
    );
    let mut answered = false;
    let mut checked_back = false;
    for _ in 0..20 {
        while let Some(t) = b.poll_transmit(later, &mut buf) {
            if t.destination == Some(lan) {
                match Message::parse(&buf).unwrap().message_type() {
                    MessageType::BINDING_SUCCESS => answered = true,
                    MessageType::BINDING_REQUEST => checked_back = true,
                    _ => {}
                }
            }
            buf.clear();
        }
        later += Duration::from_millis(50);
        b.handle_timeout(later);
    }
    assert!(answered, "the check was not answered");
    assert!(checked_back, "no triggered check on the proven pair");
    assert!(matches!(
        b.handle_datagram(later, Datagram::udp(lan, local, &[0x17, 0xfe, 0xfd])),
        Ok(Received::Data { .. })
    ));
}
