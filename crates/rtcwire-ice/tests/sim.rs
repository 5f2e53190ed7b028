//! rtcwire-sim scenarios: two agents on a LAN, behind RFC 4787 NATs, under loss, losing
//! their link (disconnected → failed on RFC 7675 timing), and restarting ICE after an
//! address change. Each prints its simulated time to connected.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::time::Duration;

use common::{
    addr, behind_nats, both_connected, config, connected, host, lan_pair, restart_both, signal,
    symmetric_nats_with_turn, Duo, Node,
};
use rtcwire_ice::{CandidateKind, Config, Event, IceState};
use rtcwire_sim::{LinkConfig, Loss, NatConfig, Sim};

fn data_both_ways(sim: &mut Sim, duo: &mut Duo) {
    data_both_ways_n(sim, duo, 5, 5);
}

/// Sends `sent` datagrams each way; at least `need` must arrive (data is not retransmitted).
fn data_both_ways_n(sim: &mut Sim, duo: &mut Duo, sent: u8, need: usize) {
    let (a, b) = (duo.a, duo.b);
    for i in 0..sent {
        sim.endpoint_mut(a).outbox.push_back(vec![b'a', i]);
        sim.endpoint_mut(b).outbox.push_back(vec![b'b', i]);
    }
    let ok = duo.run(sim, Duration::from_secs(5), |s, d| {
        s.endpoint(d.a).received.len() >= need && s.endpoint(d.b).received.len() >= need
    });
    assert!(ok, "data did not pass both ways\n{}", sim.report());
    if need == usize::from(sent) {
        assert!(sim.endpoint(b).received.contains(&vec![b'a', sent - 1]));
        assert!(sim.endpoint(a).received.contains(&vec![b'b', sent - 1]));
    }
}

#[test]
fn two_agents_on_one_lan_connect_and_exchange_data() {
    let (mut sim, mut duo) = lan_pair(1, LinkConfig::with_delay(Duration::from_millis(5)));
    let ok = duo.run(&mut sim, Duration::from_secs(10), both_connected);
    assert!(ok, "{}", sim.report());
    let t = duo.connected_at(true).unwrap();
    println!("lan: connected after {t:?} (simulated)");
    assert!(t < Duration::from_millis(200), "{t:?}");
    data_both_ways(&mut sim, &mut duo);
    let sel = sim.endpoint(duo.a).agent.selected_pair().unwrap();
    assert_eq!(sel.local.kind, CandidateKind::Host);
    assert_eq!(sel.remote.address, addr("10.0.0.2:6000"));
    assert_eq!(
        sim.endpoint(duo.a).agent.selected_path(),
        Some((
            rtcwire_proto::Transport::Udp,
            addr("10.0.0.1:5000"),
            addr("10.0.0.2:6000")
        ))
    );
    // Both reach `completed`: both gathered and both got end-of-candidates.
    assert!(duo.run(&mut sim, Duration::from_secs(1), |s, d| {
        s.endpoint(d.a).agent.state() == IceState::Completed
            && s.endpoint(d.b).agent.state() == IceState::Completed
    }));
    assert_eq!(sim.endpoint(duo.a).agent.stats().bad_integrity, 0);
}

#[test]
fn connects_under_twenty_percent_loss() {
    let mut times = Vec::new();
    for seed in 1..=8 {
        let link = LinkConfig::with_delay(Duration::from_millis(20)).loss(Loss::Random(0.2));
        let (mut sim, mut duo) = lan_pair(seed, link);
        let ok = duo.run(&mut sim, Duration::from_secs(20), both_connected);
        assert!(ok, "seed {seed}\n{}", sim.report());
        let t = duo.connected_at(true).max(duo.connected_at(false)).unwrap();
        times.push(t);
        data_both_ways_n(&mut sim, &mut duo, 40, 20);
    }
    println!("20% loss, 20 ms links: connected after {times:?} (simulated, seeds 1..=8)");
}

#[test]
fn connects_directly_through_rfc4787_nats() {
    let cases: [(&str, NatConfig, NatConfig); 5] = [
        (
            "full-cone/full-cone",
            NatConfig::full_cone(),
            NatConfig::full_cone(),
        ),
        (
            "restricted/port-restricted",
            NatConfig::restricted_cone(),
            NatConfig::port_restricted_cone(),
        ),
        (
            "port-restricted/port-restricted",
            NatConfig::port_restricted_cone(),
            NatConfig::port_restricted_cone(),
        ),
        (
            "full-cone/symmetric",
            NatConfig::full_cone(),
            NatConfig::symmetric(),
        ),
        (
            "symmetric/restricted",
            NatConfig::symmetric(),
            NatConfig::restricted_cone(),
        ),
    ];
    for (name, na, nb) in cases {
        let (mut sim, mut duo) = behind_nats(3, na, nb);
        let ok = duo.run(&mut sim, Duration::from_secs(15), both_connected);
        assert!(ok, "{name}\n{}", sim.report());
        let t = duo.connected_at(true).max(duo.connected_at(false)).unwrap();
        let sel = sim.endpoint(duo.a).agent.selected_pair().unwrap();
        println!(
            "NAT {name}: connected after {t:?} (simulated), A's pair {} -> {} ({:?})",
            sel.local.address, sel.remote.address, sel.remote.kind
        );
        data_both_ways(&mut sim, &mut duo);
    }
}

#[test]
fn symmetric_to_port_restricted_fails_without_turn() {
    // RFC 4787: the symmetric NAT maps each destination to a new port, which the
    // port-restricted NAT filters (it only ever sent to the server-reflexive port): no
    // direct path exists, and without TURN the agents must reach `failed`.
    let (mut sim, mut duo) =
        behind_nats(4, NatConfig::symmetric(), NatConfig::port_restricted_cone());
    let ok = duo.run(&mut sim, Duration::from_secs(40), |s, d| {
        both_connected(s, d) || s.endpoint(d.a).agent.state() == IceState::Failed
    });
    assert!(ok, "neither connected nor failed\n{}", sim.report());
    assert_eq!(sim.endpoint(duo.a).agent.state(), IceState::Failed);
    println!(
        "NAT symmetric/port-restricted: A ended {:?} after {:?} (no TURN server configured)",
        sim.endpoint(duo.a).agent.state(),
        sim.elapsed()
    );
}

#[test]
fn link_down_goes_disconnected_then_failed_on_rfc7675_timing() {
    let mut sim = Sim::new(5);
    let a = host(&mut sim, "10.0.0.1:5000", config(true), 5, "a");
    let b = host(&mut sim, "10.0.0.2:6000", config(false), 5, "b");
    let link = sim.link(a, b, LinkConfig::with_delay(Duration::from_millis(5)));
    let mut duo = Duo::new(&mut sim, a, b);
    assert!(duo.run(&mut sim, Duration::from_secs(5), both_connected));
    // Consent keeps it alive for a while.
    assert!(!duo.run(&mut sim, Duration::from_secs(40), |s, d| !connected(s, d.a)));
    let down_at = sim.elapsed();
    sim.set_link_up(link, false);
    assert!(duo.run(&mut sim, Duration::from_secs(60), |s, d| {
        s.endpoint(d.a).agent.state() == IceState::Failed
            && s.endpoint(d.b).agent.state() == IceState::Failed
    }));
    let log = &duo.log_a;
    let t = |st: IceState| {
        log.iter()
            .rev()
            .find(|(_, e)| *e == Event::StateChanged(st))
            .map(|(t, _)| *t)
            .unwrap()
    };
    let (disc, failed) = (
        t(IceState::Disconnected) - down_at,
        t(IceState::Failed) - down_at,
    );
    println!("link down: disconnected after {disc:?}, failed after {failed:?} (simulated)");
    // The last consent response came at most ~6 s before the link went down.
    assert!(
        disc <= Duration::from_secs(8) && disc >= Duration::from_secs(2),
        "{disc:?}"
    );
    assert!(
        failed >= Duration::from_secs(24) && failed <= Duration::from_secs(30),
        "{failed:?}"
    );
    assert!(sim.endpoint(a).agent.selected_pair().is_none());
}

#[test]
fn ice_restart_after_address_change_resumes_data() {
    let mut sim = Sim::new(6);
    let a = host(&mut sim, "10.0.0.1:5000", config(true), 6, "a");
    let b = host(&mut sim, "10.0.0.2:6000", config(false), 6, "b");
    sim.link(a, b, LinkConfig::with_delay(Duration::from_millis(10)));
    let mut duo = Duo::new(&mut sim, a, b);
    assert!(duo.run(&mut sim, Duration::from_secs(5), both_connected));
    data_both_ways(&mut sim, &mut duo);

    // A's host gets a new address; the old one is dropped from ICE, and both restart.
    sim.add_address(a, "10.0.0.9".parse().unwrap());
    let now = sim.now();
    let restart_at = sim.elapsed();
    let ca = {
        let ag = &mut sim.endpoint_mut(a).agent;
        let c = ag.restart(now).unwrap();
        ag.remove_host_candidate(addr("10.0.0.1:5000"));
        ag.add_host_candidate(now, addr("10.0.0.9:5000")).unwrap();
        ag.end_of_local_candidates();
        c
    };
    let cb = sim.endpoint_mut(b).agent.restart(now).unwrap();
    signal(&mut sim, a, b, &ca, &cb);
    // The old pair stays selected (and carries data) until the new one is nominated.
    assert!(sim.endpoint(a).agent.selected_pair().is_some());
    assert!(connected(&sim, a));
    sim.endpoint_mut(b).received.clear();
    sim.endpoint_mut(b).received_from.clear();
    sim.endpoint_mut(a)
        .outbox
        .push_back(b"during restart".to_vec());
    duo.log_a.clear();
    let ok = duo.run(&mut sim, Duration::from_secs(10), |s, d| {
        s.endpoint(d.a)
            .agent
            .selected_pair()
            .is_some_and(|p| p.local.address == addr("10.0.0.9:5000"))
            && s.endpoint(d.b)
                .agent
                .selected_pair()
                .is_some_and(|p| p.remote.address == addr("10.0.0.9:5000"))
    });
    assert!(ok, "{}", sim.report());
    // What A sent while the new generation was being checked went on the old pair.
    let i = sim
        .endpoint(b)
        .received
        .iter()
        .position(|d| d == b"during restart")
        .expect("data sent during the restart arrived");
    assert_eq!(sim.endpoint(b).received_from[i], addr("10.0.0.1:5000"));
    println!(
        "ICE restart: new pair selected {:?} after the restart (simulated)",
        sim.elapsed() - restart_at
    );
    sim.endpoint_mut(a).received.clear();
    sim.endpoint_mut(b).received.clear();
    sim.endpoint_mut(b).received_from.clear();
    data_both_ways(&mut sim, &mut duo);
    // And afterwards on the new one.
    assert!(sim
        .endpoint(b)
        .received_from
        .iter()
        .all(|s| *s == addr("10.0.0.9:5000")));
    assert!(connected(&sim, a) && connected(&sim, b));
}

#[test]
fn restart_during_gathering_does_not_wedge() {
    let (mut sim, mut duo) = behind_nats(7, NatConfig::full_cone(), NatConfig::full_cone());
    // Restart both right away, before the STUN server has answered.
    restart_both(&mut sim, &duo);
    let ok = duo.run(&mut sim, Duration::from_secs(15), both_connected);
    assert!(ok, "{}", sim.report());
    println!(
        "restart mid-gathering: connected after {:?} (simulated)",
        sim.elapsed()
    );
    data_both_ways(&mut sim, &mut duo);
}

#[test]
fn role_conflict_is_resolved() {
    for both_controlling in [true, false] {
        let mut sim = Sim::new(8);
        let a = host(&mut sim, "10.0.0.1:5000", config(both_controlling), 8, "a");
        let b = host(&mut sim, "10.0.0.2:6000", config(both_controlling), 8, "b");
        sim.link(a, b, LinkConfig::with_delay(Duration::from_millis(5)));
        let mut duo = Duo::new(&mut sim, a, b);
        assert!(
            duo.run(&mut sim, Duration::from_secs(10), both_connected),
            "both_controlling={both_controlling}\n{}",
            sim.report()
        );
        println!(
            "role conflict (both {}): connected after {:?} (simulated)",
            if both_controlling {
                "controlling"
            } else {
                "controlled"
            },
            duo.connected_at(true).max(duo.connected_at(false)).unwrap()
        );
        assert_ne!(sim.endpoint(a).agent.role(), sim.endpoint(b).agent.role());
        assert!(
            sim.endpoint(a).agent.stats().role_conflicts
                + sim.endpoint(b).agent.stats().role_conflicts
                > 0
        );
        data_both_ways(&mut sim, &mut duo);
    }
}

#[test]
fn full_agent_connects_to_lite_agent() {
    let mut sim = Sim::new(9);
    let a = host(&mut sim, "10.0.0.1:5000", config(false), 9, "a");
    let lite = Config {
        lite: true,
        ..Config::default()
    };
    let b = host(&mut sim, "10.0.0.2:6000", lite, 9, "b");
    sim.link(a, b, LinkConfig::with_delay(Duration::from_millis(5)));
    sim.endpoint_mut(a).agent.set_remote_lite(true);
    let mut duo = Duo::new(&mut sim, a, b);
    assert!(
        duo.run(&mut sim, Duration::from_secs(5), both_connected),
        "{}",
        sim.report()
    );
    println!(
        "full -> lite: connected after {:?} (simulated)",
        duo.connected_at(true).unwrap()
    );
    data_both_ways(&mut sim, &mut duo);
    // The lite side keeps consent from the full side's checks.
    assert!(!duo.run(&mut sim, Duration::from_secs(60), |s, d| !connected(s, d.b)));
}

#[test]
fn two_lite_agents_use_the_best_pair_without_checks() {
    let mut sim = Sim::new(10);
    let lite = || Config {
        lite: true,
        ..Config::default()
    };
    let a = host(&mut sim, "10.0.0.1:5000", lite(), 10, "a");
    let b = host(&mut sim, "10.0.0.2:6000", lite(), 10, "b");
    sim.link(a, b, LinkConfig::with_delay(Duration::from_millis(5)));
    sim.endpoint_mut(a).agent.set_remote_lite(true);
    sim.endpoint_mut(b).agent.set_remote_lite(true);
    let mut duo = Duo::new(&mut sim, a, b);
    assert!(duo.run(&mut sim, Duration::from_secs(1), both_connected));
    assert_eq!(sim.endpoint(a).agent.stats().checks_sent, 0);
    data_both_ways(&mut sim, &mut duo);
    // No consent to lose between two lite agents.
    assert!(!duo.run(&mut sim, Duration::from_secs(60), |s, d| !connected(s, d.a)));
}

#[test]
fn ice_tcp_active_to_passive_over_the_simulator_and_udp_preferred() {
    // The simulator carries the TCP tag but no connection: the drivers' part (connect,
    // accept, RFC 4571 framing) is assumed; active checks appear from port 9 as a driver
    // reporting the candidate's address would show them.
    let mut sim = Sim::new(11);
    let a = sim.add_host(addr("10.0.0.1:5000"), Node::new(config(true), 11, "a"));
    let b = sim.add_host(addr("10.0.0.2:6000"), Node::new(config(false), 11, "b"));
    sim.link(a, b, LinkConfig::with_delay(Duration::from_millis(5)));
    let now = sim.now();
    let ca = sim
        .endpoint_mut(a)
        .agent
        .add_tcp_host_candidate(now, addr("10.0.0.1:5000"), rtcwire_ice::TcpType::Active)
        .unwrap();
    assert_eq!(ca.address.port(), 9);
    sim.endpoint_mut(b)
        .agent
        .add_tcp_host_candidate(now, addr("10.0.0.2:4443"), rtcwire_ice::TcpType::Passive)
        .unwrap();
    for h in [a, b] {
        sim.endpoint_mut(h).agent.end_of_local_candidates();
    }
    let mut duo = Duo::new(&mut sim, a, b);
    assert!(
        duo.run(&mut sim, Duration::from_secs(5), both_connected),
        "{}",
        sim.report()
    );
    let sel = sim.endpoint(a).agent.selected_pair().unwrap();
    assert_eq!(sel.local.transport, rtcwire_proto::Transport::Tcp);
    assert_eq!(sel.remote.address, addr("10.0.0.2:4443"));
    println!(
        "ICE-TCP active->passive: connected after {:?} (simulated)",
        duo.connected_at(true).unwrap()
    );
    data_both_ways(&mut sim, &mut duo);

    // With UDP candidates as well, the UDP pair wins.
    let mut sim = Sim::new(12);
    let a = host(&mut sim, "10.0.0.1:5000", config(true), 12, "a");
    let b = host(&mut sim, "10.0.0.2:6000", config(false), 12, "b");
    sim.link(a, b, LinkConfig::with_delay(Duration::from_millis(5)));
    let now = sim.now();
    sim.endpoint_mut(a)
        .agent
        .add_tcp_host_candidate(now, addr("10.0.0.1:5000"), rtcwire_ice::TcpType::Active)
        .unwrap();
    sim.endpoint_mut(b)
        .agent
        .add_tcp_host_candidate(now, addr("10.0.0.2:4443"), rtcwire_ice::TcpType::Passive)
        .unwrap();
    let mut duo = Duo::new(&mut sim, a, b);
    assert!(duo.run(&mut sim, Duration::from_secs(5), both_connected));
    let sel = sim.endpoint(a).agent.selected_pair().unwrap();
    assert_eq!(sel.local.transport, rtcwire_proto::Transport::Udp);
}

#[test]
fn symmetric_to_symmetric_connects_only_through_turn() {
    let (mut sim, mut duo, turn) = symmetric_nats_with_turn(13);
    let (a, b) = (duo.a, duo.b);
    let ok = duo.run(&mut sim, Duration::from_secs(20), both_connected);
    assert!(ok, "{}", sim.report());
    let sel = sim.endpoint(a).agent.selected_pair().unwrap();
    assert!(
        sel.local.kind == CandidateKind::Relayed || sel.remote.kind == CandidateKind::Relayed,
        "symmetric NATs on both sides leave only relayed paths: {sel:?}"
    );
    println!(
        "NAT symmetric/symmetric via TURN: connected after {:?} (simulated), A's pair {:?} {} -> {:?} {}",
        duo.connected_at(true).max(duo.connected_at(false)).unwrap(),
        sel.local.kind,
        sel.local.address,
        sel.remote.kind,
        sel.remote.address
    );
    data_both_ways(&mut sim, &mut duo);
    // Closing releases the allocations (Refresh with LIFETIME 0).
    assert_eq!(sim.endpoint(turn).allocations(), 2);
    let now = sim.now();
    sim.endpoint_mut(a).agent.close(now);
    sim.endpoint_mut(b).agent.close(now);
    let _ = sim.run_for(Duration::from_secs(1));
    assert_eq!(sim.endpoint(turn).allocations(), 0);
}

#[test]
fn same_seed_same_run() {
    let run = || {
        let link = LinkConfig::with_delay(Duration::from_millis(20)).loss(Loss::Random(0.2));
        let (mut sim, mut duo) = lan_pair(21, link);
        assert!(duo.run(&mut sim, Duration::from_secs(20), both_connected));
        let _ = sim.run_for(Duration::from_secs(12));
        (sim.trace_text(), sim.elapsed())
    };
    let (t1, e1) = run();
    let (t2, e2) = run();
    assert_eq!(e1, e2);
    assert!(t1 == t2, "two runs with one seed differ");
}
