//! Topologies beyond two hosts: routers, nested NATs, multi-homed hosts, routing loops, and
//! the trace limit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::time::Duration;

use rtcwire_sim::{DropCause, LinkConfig, NatConfig, Probe, Sim, TraceEvent};

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn settle(sim: &mut Sim) {
    let _ = sim.run_for(Duration::from_secs(1));
}

#[test]
fn a_router_joins_many_public_hosts_and_nats() {
    let mut sim = Sim::new(3);
    let internet = sim.add_router();
    let wan = LinkConfig::with_delay(Duration::from_millis(10));
    let servers: Vec<_> = (1..=3)
        .map(|i| {
            let s = sim.add_host(addr(&format!("198.51.100.{i}:3478")), Probe::reflector());
            sim.link(s, internet, wan);
            s
        })
        .collect();
    let nat = sim.add_nat("203.0.113.9".parse().unwrap(), NatConfig::full_cone());
    sim.link(nat.outside(), internet, wan);
    let h = sim.add_host(addr("192.168.7.2:4000"), Probe::new());
    sim.link(
        h,
        nat.inside(),
        LinkConfig::with_delay(Duration::from_millis(1)),
    );

    for s in &servers {
        let to = sim.host_addr(*s);
        sim.endpoint_mut(h).send_to(to, "?");
    }
    settle(&mut sim);
    let answers: Vec<_> = sim.events(h).iter().map(|r| r.contents.clone()).collect();
    assert_eq!(answers, vec![b"203.0.113.9:49152".to_vec(); 3]);
    // Out and back: two WAN hops and the LAN each way.
    assert_eq!(
        sim.events(h)[0].at - sim.start(),
        Duration::from_millis(2 * (1 + 10 + 10))
    );
    // Server to server through the router, too.
    let to = sim.host_addr(servers[1]);
    sim.endpoint_mut(servers[0]).send_to(to, "hi");
    settle(&mut sim);
    assert!(sim.events(servers[1]).iter().any(|r| r.contents == b"hi"));
    // Nothing owns this address: the router has nowhere to send it.
    sim.endpoint_mut(servers[0])
        .send_to(addr("192.0.2.1:1"), "lost");
    settle(&mut sim);
    assert_eq!(sim.stats().dropped(DropCause::NoRoute), 1);
}

#[test]
fn nested_nats_translate_twice() {
    let mut sim = Sim::new(6);
    let server = sim.add_host(addr("198.51.100.1:3478"), Probe::reflector());
    // A carrier-grade NAT with a home NAT behind it, on 100.64.0.0/10.
    let cgn = sim.add_nat("203.0.113.1".parse().unwrap(), NatConfig::symmetric());
    let home = sim.add_nat(
        "100.64.0.5".parse().unwrap(),
        NatConfig::port_restricted_cone(),
    );
    let h = sim.add_host(addr("192.168.1.2:5000"), Probe::new());
    let wire = LinkConfig::with_delay(Duration::from_millis(3));
    sim.link(h, home.inside(), wire);
    sim.link(home.outside(), cgn.inside(), wire);
    sim.link(cgn.outside(), server, wire);
    let to = sim.host_addr(server);
    sim.endpoint_mut(h).send_to(to, "?");
    settle(&mut sim);
    assert_eq!(sim.events(h)[0].contents, b"203.0.113.1:49152");
    assert_eq!(sim.events(h)[0].source, to);
    let translations = sim
        .trace()
        .filter(|e| matches!(e.event, TraceEvent::Translated { .. }))
        .count();
    assert_eq!(translations, 4, "two NATs, out and back");
    assert_eq!(sim.nat_mappings(home)[0].external, addr("100.64.0.5:49152"));
}

#[test]
fn a_multi_homed_host_sends_from_either_address() {
    let mut sim = Sim::new(2);
    let a = sim.add_host(addr("10.0.0.1:5000"), Probe::new());
    sim.add_address(a, "2001:db8::1".parse().unwrap());
    let b4 = sim.add_host(addr("10.0.0.2:5000"), Probe::echo());
    let b6 = sim.add_host(addr("[2001:db8::2]:5000"), Probe::echo());
    sim.link(a, b4, LinkConfig::default());
    sim.link(a, b6, LinkConfig::default());
    let p = sim.endpoint_mut(a);
    p.send_from(addr("10.0.0.1:6000"), addr("10.0.0.2:5000"), "v4");
    p.send_from(addr("[2001:db8::1]:6000"), addr("[2001:db8::2]:5000"), "v6");
    settle(&mut sim);
    let got: Vec<_> = sim
        .events(a)
        .iter()
        .map(|r| (r.destination, r.contents.clone()))
        .collect();
    assert_eq!(
        got,
        [
            (addr("10.0.0.1:6000"), b"v4".to_vec()),
            (addr("[2001:db8::1]:6000"), b"v6".to_vec())
        ]
    );
    // The first link made b4 a's default peer.
    sim.endpoint_mut(a).send("default");
    settle(&mut sim);
    assert_eq!(sim.events(b4).last().unwrap().contents, b"default");
}

#[test]
fn a_routing_loop_between_nats_is_cut_by_the_hop_limit() {
    let mut sim = Sim::new(1);
    let h = sim.add_host(addr("192.168.0.2:1"), Probe::new());
    let n1 = sim.add_nat("100.64.0.1".parse().unwrap(), NatConfig::full_cone());
    let n2 = sim.add_nat("100.64.0.2".parse().unwrap(), NatConfig::full_cone());
    sim.link(h, n1.inside(), LinkConfig::default());
    // Each NAT's outside leads to the other's inside: a datagram for an unknown address
    // goes round and round.
    sim.link(n1.outside(), n2.inside(), LinkConfig::default());
    sim.link(n2.outside(), n1.inside(), LinkConfig::default());
    sim.endpoint_mut(h).send_to(addr("198.51.100.1:1"), "round");
    settle(&mut sim);
    assert_eq!(sim.stats().dropped(DropCause::HopLimit), 1);
    assert_eq!(sim.stats().delivered, 0);
}

#[test]
fn the_trace_keeps_the_latest_entries_up_to_its_limit() {
    let mut sim = Sim::builder(1).trace_limit(10).build();
    let a = sim.add_host(addr("10.0.0.1:1"), Probe::new());
    let b = sim.add_host(addr("10.0.0.2:1"), Probe::new());
    sim.link(a, b, LinkConfig::default());
    for i in 0..20u8 {
        sim.endpoint_mut(a).send(vec![i]);
    }
    settle(&mut sim);
    assert_eq!(sim.trace().len(), 10);
    let last = sim.trace().last().unwrap();
    assert_eq!(last.packet, 20);
    assert!(matches!(last.event, TraceEvent::Delivered { .. }));
    assert!(sim.report().contains("... 30 earlier trace entries"));
}
