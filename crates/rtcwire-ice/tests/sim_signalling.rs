//! rtcwire-sim: what signalling can do to the agents. Trickle that never sends
//! end-of-candidates (nomination must not wait for it), the W3C state sequence, a peer whose
//! host candidates are `.local` mDNS names, and an ICE restart started while a TURN
//! allocation is still in flight behind symmetric NATs. Each prints its simulated time to
//! connected.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::time::Duration;

use common::{addr, both_connected, config, lan_pair, restart_both, symmetric_nats_with_turn, Duo};
use rtcwire_ice::{CandidateKind, Event, GatheringState, IceState, RemoteCandidateOutcome};
use rtcwire_sim::{LinkConfig, Sim};

fn lan(seed: u64) -> (Sim, Duo) {
    lan_pair(seed, LinkConfig::with_delay(Duration::from_millis(5)))
}

fn exchange(sim: &mut Sim, duo: &mut Duo) {
    let (a, b) = (duo.a, duo.b);
    for h in [a, b] {
        sim.endpoint_mut(h).received.clear();
    }
    sim.endpoint_mut(a).outbox.push_back(b"ping".to_vec());
    sim.endpoint_mut(b).outbox.push_back(b"pong".to_vec());
    let ok = duo.run(sim, Duration::from_secs(2), |s, d| {
        s.endpoint(d.b).received.contains(&b"ping".to_vec())
            && s.endpoint(d.a).received.contains(&b"pong".to_vec())
    });
    assert!(ok, "data did not pass both ways\n{}", sim.report());
}

fn states(log: &[(Duration, Event)]) -> Vec<IceState> {
    log.iter()
        .filter_map(|(_, e)| match e {
            Event::StateChanged(s) => Some(*s),
            _ => None,
        })
        .collect()
}

#[test]
fn nomination_does_not_wait_for_end_of_candidates() {
    // Firefox stays in `checking` against an agent that waits for end-of-candidates before
    // nominating; here neither side ever hears it.
    let (mut sim, mut duo) = lan(41);
    duo.forward_eoc = false;
    let ok = duo.run(&mut sim, Duration::from_secs(5), both_connected);
    assert!(ok, "{}", sim.report());
    let t = duo.connected_at(true).max(duo.connected_at(false)).unwrap();
    println!("trickle without end-of-candidates: connected after {t:?} (simulated)");
    assert!(t < Duration::from_millis(200), "{t:?}");
    exchange(&mut sim, &mut duo);
    // Without the peer's end-of-candidates, `connected` it stays (W3C: `completed` needs
    // it), across consent checks.
    assert!(!duo.run(&mut sim, Duration::from_secs(20), |s, d| {
        s.endpoint(d.a).agent.state() != IceState::Connected
            || s.endpoint(d.b).agent.state() != IceState::Connected
    }));
    // Then end-of-candidates arrives: `completed`.
    let now = sim.now();
    for h in [duo.a, duo.b] {
        sim.endpoint_mut(h).agent.end_of_remote_candidates(now);
    }
    assert!(!duo.run(&mut sim, Duration::from_millis(10), |_, _| false));
    for (h, log) in [(duo.a, &duo.log_a), (duo.b, &duo.log_b)] {
        assert_eq!(sim.endpoint(h).agent.state(), IceState::Completed);
        // The W3C RTCIceTransport sequence, with no detour.
        assert_eq!(
            states(log),
            [IceState::Checking, IceState::Connected, IceState::Completed]
        );
        assert_eq!(
            log.iter()
                .filter(|(_, e)| matches!(e, Event::SelectedPairChanged(_)))
                .count(),
            1
        );
    }
}

#[test]
fn mdns_host_candidates_are_resolved_and_checked() {
    let (mut sim, mut duo) = lan(42);
    duo.mdns_b = true;
    let ok = duo.run(&mut sim, Duration::from_secs(5), both_connected);
    assert!(ok, "{}", sim.report());
    assert_eq!(duo.resolved, ["00001770-sim.local"]);
    let sel = sim.endpoint(duo.a).agent.selected_pair().unwrap();
    assert_eq!(sel.remote.address, addr("10.0.0.2:6000"));
    println!(
        "peer with mDNS host candidates: connected after {:?} (simulated), remote {:?} {}",
        duo.connected_at(true).unwrap(),
        sel.remote.kind,
        sel.remote.address
    );
    exchange(&mut sim, &mut duo);
    // An unresolved name alone never forms a pair.
    let mut lone =
        rtcwire_ice::Agent::new(config(true), Box::new(rtcwire_ice::SeededRng::new(42))).unwrap();
    let now = sim.now();
    lone.add_host_candidate(now, addr("10.0.0.1:5000")).unwrap();
    let c = rtcwire_ice::Candidate::parse(
        "candidate:1 1 udp 2122260223 0d2cd7c3-sim.local 6000 typ host",
    )
    .unwrap();
    assert_eq!(
        lone.add_remote_candidate(now, c).unwrap(),
        RemoteCandidateOutcome::NeedsResolution("0d2cd7c3-sim.local".into())
    );
    assert_eq!(lone.pair_count(), 0);
}

#[test]
fn restart_while_the_turn_allocation_is_in_flight() {
    // Symmetric NATs on both sides: only relayed paths work. Both agents restart while their
    // Allocate (and the STUN Binding) are still on the wire; the relayed candidates must
    // still be gathered, announced in the new generation and used.
    let (mut sim, mut duo, turn) = symmetric_nats_with_turn(43);
    let (a, b) = (duo.a, duo.b);
    // 30 ms in: the first Allocate got its 401 and the authenticated one is on its way
    // (a round trip to the servers is 44 ms).
    let _ = sim.run_for(Duration::from_millis(30));
    duo.shuttle(&mut sim);
    for h in [a, b] {
        let ag = &sim.endpoint(h).agent;
        assert_eq!(ag.gathering_state(), GatheringState::Gathering);
        assert!(!ag
            .local_candidates()
            .any(|c| c.kind == CandidateKind::Relayed));
    }
    let restart_at = sim.elapsed();
    restart_both(&mut sim, &duo);
    let ok = duo.run(&mut sim, Duration::from_secs(15), both_connected);
    assert!(ok, "{}", sim.report());
    let t = duo.connected_at(true).max(duo.connected_at(false)).unwrap();
    println!(
        "restart with TURN allocations in flight (symmetric NATs): connected {:?} after the restart (simulated)",
        t - restart_at
    );
    let sel = sim.endpoint(a).agent.selected_pair().unwrap();
    assert!(
        sel.local.kind == CandidateKind::Relayed || sel.remote.kind == CandidateKind::Relayed,
        "{sel:?}"
    );
    for (h, log) in [(a, &duo.log_a), (b, &duo.log_b)] {
        // Gathering finished after the restart, and the relayed candidate was announced.
        assert_eq!(
            sim.endpoint(h).agent.gathering_state(),
            GatheringState::Complete
        );
        assert!(log.iter().any(|(at, e)| *at >= restart_at
            && matches!(e, Event::LocalCandidate(c) if c.kind == CandidateKind::Relayed)));
        assert!(log
            .iter()
            .any(|(at, e)| *at >= restart_at && *e == Event::GatheringComplete));
    }
    exchange(&mut sim, &mut duo);
    // One allocation each: the restart did not leak or repeat one.
    assert_eq!(sim.endpoint(turn).allocations(), 2);
}
