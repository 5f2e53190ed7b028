//! NAT boxes behave as RFC 4787 says: mapping (§4.1), filtering (§5), timeout and refresh
//! (§4.3), hairpinning (§6); and the consequence ICE cares about: hole punching works
//! through cone NATs, and a symmetric NAT on both sides needs a relay.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rtcwire_proto::{Datagram, SansIo, Transmit};
use rtcwire_sim::{
    DropCause, Filtering, Host, LinkConfig, Mapping, NatConfig, NatId, Outcome, Probe, Sim,
};

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

const H: &str = "192.168.0.2:5000";
const PUBLIC: &str = "203.0.113.1";
const X: &str = "198.51.100.1:1000";
const X_OTHER_PORT: &str = "198.51.100.1:2000";
const Y: &str = "198.51.100.2:1000";

struct Net {
    sim: Sim,
    h: Host<Probe>,
    x: Host<Probe>,
    y: Host<Probe>,
    nat: NatId,
}

/// H behind a NAT; X and Y on the public side.
fn net(config: NatConfig) -> Net {
    let mut sim = Sim::new(4787);
    let h = sim.add_host(addr(H), Probe::new());
    let x = sim.add_host(addr(X), Probe::new());
    let y = sim.add_host(addr(Y), Probe::new());
    let nat = sim.add_nat(PUBLIC.parse().unwrap(), config);
    let wire = LinkConfig::with_delay(Duration::from_millis(5));
    sim.link(h, nat.inside(), wire);
    sim.link(nat.outside(), x, wire);
    sim.link(nat.outside(), y, wire);
    Net { sim, h, x, y, nat }
}

fn settle(sim: &mut Sim) {
    let _ = sim.run_for(Duration::from_secs(1));
}

/// Source addresses seen at `host`, in arrival order.
fn sources(sim: &Sim, host: Host<Probe>) -> Vec<SocketAddr> {
    sim.events(host).iter().map(|r| r.source).collect()
}

/// Row of the RFC 4787 table: what a NAT with these behaviours must do.
struct Row {
    mapping: Mapping,
    filtering: Filtering,
    /// H→X:1000 and H→X:2000 share a public address.
    same_mapping_other_port: bool,
    /// H→X and H→Y share a public address.
    same_mapping_other_ip: bool,
    /// After H→X:1000 only, X:2000 gets in.
    admits_other_port: bool,
    /// After H→X:1000 only, Y gets in.
    admits_other_ip: bool,
}

const TABLE: [Row; 9] = {
    use Filtering as F;
    use Mapping as M;
    const fn row(mapping: Mapping, filtering: Filtering, m: (bool, bool), f: (bool, bool)) -> Row {
        Row {
            mapping,
            filtering,
            same_mapping_other_port: m.0,
            same_mapping_other_ip: m.1,
            admits_other_port: f.0,
            admits_other_ip: f.1,
        }
    }
    [
        row(
            M::EndpointIndependent,
            F::EndpointIndependent,
            (true, true),
            (true, true),
        ),
        row(
            M::EndpointIndependent,
            F::AddressDependent,
            (true, true),
            (true, false),
        ),
        row(
            M::EndpointIndependent,
            F::AddressAndPortDependent,
            (true, true),
            (false, false),
        ),
        row(
            M::AddressDependent,
            F::EndpointIndependent,
            (true, false),
            (true, true),
        ),
        row(
            M::AddressDependent,
            F::AddressDependent,
            (true, false),
            (true, false),
        ),
        row(
            M::AddressDependent,
            F::AddressAndPortDependent,
            (true, false),
            (false, false),
        ),
        row(
            M::AddressAndPortDependent,
            F::EndpointIndependent,
            (false, false),
            (true, true),
        ),
        row(
            M::AddressAndPortDependent,
            F::AddressDependent,
            (false, false),
            (true, false),
        ),
        row(
            M::AddressAndPortDependent,
            F::AddressAndPortDependent,
            (false, false),
            (false, false),
        ),
    ]
};

#[test]
fn rfc4787_mapping_and_filtering_table() {
    for row in TABLE {
        let what = format!("{:?} mapping, {:?} filtering", row.mapping, row.filtering);
        let cfg = NatConfig::new(row.mapping, row.filtering);

        // Mapping: one internal address:port talks to three destinations.
        let mut n = net(cfg);
        let (h, x, y) = (n.h, n.x, n.y);
        let p = n.sim.endpoint_mut(h);
        p.send_to(addr(X), "1");
        p.send_to(addr(X_OTHER_PORT), "2");
        p.send_to(addr(Y), "3");
        settle(&mut n.sim);
        let at_x = sources(&n.sim, x);
        let at_y = sources(&n.sim, y);
        assert_eq!(at_x.len(), 2, "{what}");
        assert_eq!(at_y.len(), 1, "{what}");
        for m in at_x.iter().chain(&at_y) {
            assert_eq!(
                m.ip(),
                PUBLIC.parse::<std::net::IpAddr>().unwrap(),
                "{what}"
            );
        }
        assert_eq!(at_x[0] == at_x[1], row.same_mapping_other_port, "{what}");
        assert_eq!(at_x[0] == at_y[0], row.same_mapping_other_ip, "{what}");
        let distinct = 1
            + usize::from(at_x[0] != at_x[1])
            + usize::from(at_x[0] != at_y[0] && at_x[1] != at_y[0]);
        assert_eq!(n.sim.nat_mappings(n.nat).len(), distinct, "{what}");

        // Filtering: H has sent to X:1000 only; who may answer on that mapping?
        let mut n = net(cfg);
        let (h, x, y) = (n.h, n.x, n.y);
        n.sim.endpoint_mut(h).send_to(addr(X), "open");
        settle(&mut n.sim);
        let m = sources(&n.sim, x)[0];
        n.sim
            .endpoint_mut(x)
            .send_from(addr(X), m, "same address and port");
        n.sim
            .endpoint_mut(x)
            .send_from(addr(X_OTHER_PORT), m, "same address");
        n.sim.endpoint_mut(y).send_from(addr(Y), m, "other address");
        settle(&mut n.sim);
        let got: Vec<(SocketAddr, Vec<u8>)> = n
            .sim
            .events(h)
            .iter()
            .map(|r| (r.source, r.contents.clone()))
            .collect();
        // The reply from where H sent always gets in, untranslated source, to H's port.
        assert_eq!(
            got[0],
            (addr(X), b"same address and port".to_vec()),
            "{what}"
        );
        assert_eq!(n.sim.events(h)[0].destination, addr(H));
        let other_port = got.iter().any(|(s, _)| *s == addr(X_OTHER_PORT));
        let other_ip = got.iter().any(|(s, _)| *s == addr(Y));
        assert_eq!(other_port, row.admits_other_port, "{what}");
        assert_eq!(other_ip, row.admits_other_ip, "{what}");
        let refused = u64::from(!row.admits_other_port) + u64::from(!row.admits_other_ip);
        assert_eq!(
            n.sim.stats().dropped(DropCause::NatFiltered),
            refused,
            "{what}"
        );

        // Nobody gets in where no mapping exists.
        n.sim
            .endpoint_mut(y)
            .send_to(SocketAddr::new(m.ip(), m.port().wrapping_add(7)), "stray");
        settle(&mut n.sim);
        assert_eq!(n.sim.stats().dropped(DropCause::NatNoMapping), 1, "{what}");
    }
}

#[test]
fn mapping_expires_after_idle_timeout_and_outbound_refreshes_it() {
    let timeout = Duration::from_secs(30);
    let mut n = net(NatConfig::port_restricted_cone().mapping_timeout(timeout));
    let (h, x) = (n.h, n.x);
    n.sim.endpoint_mut(h).send_to(addr(X), "open");
    settle(&mut n.sim);
    let m = sources(&n.sim, x)[0];

    // Outbound keep-alives every 20 s keep it for a minute and more.
    for _ in 0..4 {
        let _ = n.sim.run_for(Duration::from_secs(20));
        n.sim.endpoint_mut(h).send_to(addr(X), "keepalive");
    }
    settle(&mut n.sim);
    n.sim.endpoint_mut(x).send_to(m, "still there?");
    settle(&mut n.sim);
    assert_eq!(n.sim.events(h).len(), 1);
    assert_eq!(
        sources(&n.sim, x).last(),
        Some(&m),
        "refreshed, not replaced"
    );

    // Inbound traffic alone does not refresh (the default): it expires 30 s after the
    // last outbound datagram, however often X sends.
    for _ in 0..4 {
        let _ = n.sim.run_for(Duration::from_secs(10));
        n.sim.endpoint_mut(x).send_to(m, "in");
    }
    settle(&mut n.sim);
    assert_eq!(
        n.sim.events(h).len(),
        3,
        "two inbound before expiry, then dropped"
    );
    assert_eq!(n.sim.stats().dropped(DropCause::NatNoMapping), 2);
    assert!(n.sim.nat_mappings(n.nat).is_empty());

    // Sending again makes a new mapping, on a new port.
    n.sim.endpoint_mut(h).send_to(addr(X), "again");
    settle(&mut n.sim);
    let m2 = *sources(&n.sim, x).last().unwrap();
    assert_eq!(m2.ip(), m.ip());
    assert_ne!(m2.port(), m.port());
    assert_eq!(n.sim.nat_mappings(n.nat).len(), 1);
}

#[test]
fn inbound_refresh_when_configured() {
    let mut cfg = NatConfig::full_cone().mapping_timeout(Duration::from_secs(30));
    cfg.inbound_refresh = true;
    let mut n = net(cfg);
    let (h, x) = (n.h, n.x);
    n.sim.endpoint_mut(h).send_to(addr(X), "open");
    settle(&mut n.sim);
    let m = sources(&n.sim, x)[0];
    for _ in 0..6 {
        let _ = n.sim.run_for(Duration::from_secs(20));
        n.sim.endpoint_mut(x).send_to(m, "in");
    }
    settle(&mut n.sim);
    assert_eq!(n.sim.events(h).len(), 6);
}

/// Two hosts behind one NAT, one public host.
fn lan(config: NatConfig) -> (Sim, Host<Probe>, Host<Probe>, Host<Probe>) {
    let mut sim = Sim::new(9);
    let h1 = sim.add_host(addr("192.168.0.2:5000"), Probe::new());
    let h2 = sim.add_host(addr("192.168.0.3:6000"), Probe::new());
    let x = sim.add_host(addr(X), Probe::new());
    let nat = sim.add_nat(PUBLIC.parse().unwrap(), config);
    let wire = LinkConfig::with_delay(Duration::from_millis(2));
    sim.link(h1, nat.inside(), wire);
    sim.link(h2, nat.inside(), wire);
    sim.link(nat.outside(), x, wire);
    (sim, h1, h2, x)
}

#[test]
fn hairpinning_loops_back_with_the_public_source() {
    for hairpin in [true, false] {
        let (mut sim, h1, h2, x) = lan(NatConfig::full_cone().hairpinning(hairpin));
        sim.endpoint_mut(h1).send_to(addr(X), "h1 out");
        settle(&mut sim);
        sim.endpoint_mut(h2).send_to(addr(X), "h2 out");
        settle(&mut sim);
        let got = sources(&sim, x);
        let (m1, m2) = (got[0], got[1]);
        assert_ne!(m1, m2);
        sim.endpoint_mut(h1).send_to(m2, "via the public address");
        settle(&mut sim);
        if hairpin {
            let r = &sim.events(h2)[0];
            // REQ-9: the source is H1's public mapping, not its private address.
            assert_eq!(r.source, m1);
            assert_eq!(r.destination, addr("192.168.0.3:6000"));
            assert_eq!(sim.stats().dropped_total(), 0);
        } else {
            assert!(sim.events(h2).is_empty());
            assert_eq!(sim.stats().dropped(DropCause::NatHairpin), 1);
        }
    }
}

#[test]
fn hosts_behind_one_nat_reach_each_other_directly() {
    let (mut sim, h1, h2, _x) = lan(NatConfig::symmetric());
    sim.endpoint_mut(h1)
        .send_to(addr("192.168.0.3:6000"), "lan");
    settle(&mut sim);
    assert_eq!(sources(&sim, h2), [addr("192.168.0.2:5000")]);
    assert!(!sim.trace_text().contains("translated"));
}

#[test]
fn private_addresses_are_unreachable_from_outside() {
    let (mut sim, h1, _h2, x) = lan(NatConfig::full_cone());
    sim.endpoint_mut(x)
        .send_to(addr("192.168.0.2:5000"), "knock");
    settle(&mut sim);
    assert!(sim.events(h1).is_empty());
    assert_eq!(sim.stats().dropped(DropCause::NoRoute), 1);
}

/// A toy TURN: forwards whatever one of its first two clients sends to the other.
#[derive(Default)]
struct Relay {
    clients: Vec<SocketAddr>,
    out: VecDeque<(Option<SocketAddr>, SocketAddr, Vec<u8>)>,
}

impl SansIo for Relay {
    type Event = ();
    type Error = std::convert::Infallible;
    fn handle_read(&mut self, _: Instant, d: Datagram<'_>) -> Result<(), Self::Error> {
        let Some(from) = d.source else {
            return Ok(());
        };
        if !self.clients.contains(&from) && self.clients.len() < 2 {
            self.clients.push(from);
        }
        if let Some(other) = self.clients.iter().find(|c| **c != from) {
            self.out
                .push_back((d.destination, *other, d.contents.to_vec()));
        }
        Ok(())
    }
    fn poll_transmit(&mut self, _: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
        let (source, to, bytes) = self.out.pop_front()?;
        buf.extend_from_slice(&bytes);
        Some(Transmit {
            source,
            destination: Some(to),
            ..Transmit::on_path(bytes.len())
        })
    }
    fn poll_event(&mut self) -> Option<()> {
        None
    }
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
    fn handle_timeout(&mut self, _: Instant) {}
}

struct TwoNats {
    sim: Sim,
    a: Host<Probe>,
    b: Host<Probe>,
    stun: Host<Probe>,
    relay: Host<Relay>,
}

fn two_nats(nat_a: NatConfig, nat_b: NatConfig) -> TwoNats {
    let mut sim = Sim::new(8445);
    let a = sim.add_host(addr("192.168.1.10:4000"), Probe::new());
    let b = sim.add_host(addr("10.1.1.10:4000"), Probe::new());
    let stun = sim.add_host(addr("198.51.100.50:3478"), Probe::reflector());
    let relay = sim.add_host(addr("198.51.100.60:3478"), Relay::default());
    let na = sim.add_nat("203.0.113.1".parse().unwrap(), nat_a);
    let nb = sim.add_nat("203.0.113.2".parse().unwrap(), nat_b);
    let lan = LinkConfig::with_delay(Duration::from_millis(1));
    let wan = LinkConfig::with_delay(Duration::from_millis(20));
    sim.link(a, na.inside(), lan);
    sim.link(b, nb.inside(), lan);
    for public in [na.outside(), nb.outside()] {
        sim.link(public, stun, wan);
        sim.link(public, relay, wan);
    }
    sim.link(na.outside(), nb.outside(), wan);
    TwoNats {
        sim,
        a,
        b,
        stun,
        relay,
    }
}

/// Learns each host's server-reflexive address, then both punch towards the other's.
/// Returns how many punches each side received.
fn hole_punch(t: &mut TwoNats) -> (usize, usize) {
    let stun = t.sim.host_addr(t.stun);
    let (a, b) = (t.a, t.b);
    t.sim.endpoint_mut(a).send_to(stun, "binding");
    t.sim.endpoint_mut(b).send_to(stun, "binding");
    let out = t.sim.run_until(
        |s| !s.events(a).is_empty() && !s.events(b).is_empty(),
        Duration::from_secs(1),
    );
    assert_eq!(out, Outcome::Done, "{}", t.sim.report());
    let srflx = |s: &Sim, h: Host<Probe>| -> SocketAddr {
        std::str::from_utf8(&s.events(h)[0].contents)
            .unwrap()
            .parse()
            .unwrap()
    };
    let (ra, rb) = (srflx(&t.sim, a), srflx(&t.sim, b));
    let _ = t.sim.take_events(a);
    let _ = t.sim.take_events(b);
    for _ in 0..5 {
        t.sim.endpoint_mut(a).send_to(rb, "punch from a");
        t.sim.endpoint_mut(b).send_to(ra, "punch from b");
        let _ = t.sim.run_for(Duration::from_millis(100));
    }
    (t.sim.events(a).len(), t.sim.events(b).len())
}

#[test]
fn hole_punching_works_through_cone_nats() {
    for cfg in [
        NatConfig::full_cone(),
        NatConfig::restricted_cone(),
        NatConfig::port_restricted_cone(),
    ] {
        let mut t = two_nats(cfg, cfg);
        let (at_a, at_b) = hole_punch(&mut t);
        // The first punch each way may hit the other NAT's filter; the rest get through.
        assert!(at_a >= 4 && at_b >= 4, "{cfg:?}: {at_a} {at_b}");
    }
}

#[test]
fn symmetric_nat_on_both_sides_needs_a_relay() {
    let mut t = two_nats(NatConfig::symmetric(), NatConfig::symmetric());
    let (at_a, at_b) = hole_punch(&mut t);
    assert_eq!((at_a, at_b), (0, 0));
    assert!(t.sim.stats().dropped(DropCause::NatFiltered) >= 9);

    // Through the relay (TURN-like), they talk.
    let relay = t.sim.host_addr(t.relay);
    let (a, b) = (t.a, t.b);
    t.sim.endpoint_mut(a).send_to(relay, "allocate a");
    t.sim.endpoint_mut(b).send_to(relay, "hello from b");
    let _ = t.sim.run_for(Duration::from_millis(200));
    t.sim.endpoint_mut(a).send_to(relay, "hello from a");
    let _ = t.sim.run_for(Duration::from_millis(200));
    let got_a: Vec<_> = t.sim.events(a).iter().map(|r| r.contents.clone()).collect();
    let got_b: Vec<_> = t.sim.events(b).iter().map(|r| r.contents.clone()).collect();
    assert_eq!(got_a, [b"hello from b".to_vec()]);
    assert_eq!(got_b, [b"hello from a".to_vec()]);
    assert!(t.sim.events(a).iter().all(|r| r.source == relay));
}
