//! Shared by the ICE bench targets: two agents connected over a perfect in-memory wire, ours
//! and str0m's, each left idle for 20 s of consent checks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rtcwire_ice::{Agent, Config, IceState};
use rtcwire_proto::{Datagram, SansIo, SeededRng};

/// A socket address from text.
#[must_use]
pub fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Host address of the controlling agent.
pub const PA: &str = "10.0.0.1:5000";
/// Host address of the controlled agent.
pub const PB: &str = "10.0.0.2:6000";

/// Two rtcwire agents connected over a perfect in-memory wire, then idle for 20 s of
/// consent checks; returns them and the time.
#[must_use]
pub fn connected_pair() -> (Agent, Agent, Instant) {
    let mut now = rtcwire_sim::Sim::new(1).now();
    let (pa, pb) = (addr(PA), addr(PB));
    let config = Config {
        controlling: true,
        ..Config::default()
    };
    let mut a = Agent::new(config, Box::new(SeededRng::new(1))).unwrap();
    let mut b = Agent::new(Config::default(), Box::new(SeededRng::new(2))).unwrap();
    let (ca, cb) = (a.local_credentials().clone(), b.local_credentials().clone());
    a.set_remote_credentials(&cb.ufrag, &cb.pwd).unwrap();
    b.set_remote_credentials(&ca.ufrag, &ca.pwd).unwrap();
    let c = a.add_host_candidate(now, pa).unwrap();
    b.add_remote_candidate(now, c).unwrap();
    let c = b.add_host_candidate(now, pb).unwrap();
    a.add_remote_candidate(now, c).unwrap();
    a.end_of_local_candidates();
    b.end_of_local_candidates();
    a.end_of_remote_candidates(now);
    b.end_of_remote_candidates(now);
    let mut buf = Vec::new();
    let mut idle_until = None;
    for _ in 0..10_000 {
        while let Some(t) = a.poll_transmit(now, &mut buf) {
            let _ = b.handle_datagram(now, Datagram::udp(pa, t.destination.unwrap(), &buf));
            buf.clear();
        }
        while let Some(t) = b.poll_transmit(now, &mut buf) {
            let _ = a.handle_datagram(now, Datagram::udp(pb, t.destination.unwrap(), &buf));
            buf.clear();
        }
        while a.poll_event().is_some() || b.poll_event().is_some() {}
        if a.state() == IceState::Completed && b.state() == IceState::Completed {
            let until = *idle_until.get_or_insert(now + Duration::from_secs(20));
            if now >= until {
                break;
            }
        }
        now = [a.poll_timeout(), b.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(now + Duration::from_millis(10));
        a.handle_timeout(now);
        b.handle_timeout(now);
    }
    assert_eq!(a.state(), IceState::Completed);
    (a, b, now)
}

/// str0m's standalone agent (`is` 0.9), connected the same way.
pub mod str0m_is {
    use super::*;
    use is::stun::{StunMessage, StunPacket};
    use is::{Candidate, IceAgent, IceCreds};
    use str0m_proto::Protocol;

    /// Hands a transmit of one `is` agent to the other.
    pub fn deliver(to: &mut IceAgent, now: Instant, t: &str0m_proto::Transmit) {
        let packet = StunPacket {
            proto: Protocol::Udp,
            source: t.source,
            destination: t.destination,
            message: StunMessage::parse(&t.contents).unwrap(),
        };
        to.handle_packet(now, packet);
    }

    /// Two `is` agents connected the same way, then idle for 20 s of consent checks.
    #[must_use]
    pub fn connected_pair() -> (IceAgent, IceAgent, Instant) {
        let mut now = rtcwire_sim::Sim::new(1).now();
        let mut a = IceAgent::new(IceCreds::new());
        let mut b = IceAgent::new(IceCreds::new());
        a.set_controlling(true);
        b.set_controlling(false);
        a.set_remote_credentials(b.local_credentials().clone());
        b.set_remote_credentials(a.local_credentials().clone());
        let ca = a
            .add_local_candidate(Candidate::host(addr(PA), "udp").unwrap())
            .unwrap()
            .clone();
        let cb = b
            .add_local_candidate(Candidate::host(addr(PB), "udp").unwrap())
            .unwrap()
            .clone();
        a.add_remote_candidate(cb);
        b.add_remote_candidate(ca);
        let mut idle_until = None;
        for _ in 0..10_000 {
            while let Some(t) = a.poll_transmit() {
                deliver(&mut b, now, &t);
            }
            while let Some(t) = b.poll_transmit() {
                deliver(&mut a, now, &t);
            }
            while a.poll_event().is_some() || b.poll_event().is_some() {}
            if a.state().is_connected() && b.state().is_connected() {
                let until = *idle_until.get_or_insert(now + Duration::from_secs(20));
                if now >= until {
                    break;
                }
            }
            now = [a.poll_timeout(), b.poll_timeout()]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(now + Duration::from_millis(10));
            a.handle_timeout(now);
            b.handle_timeout(now);
        }
        assert!(a.state().is_connected() && b.state().is_connected());
        (a, b, now)
    }
}
