//! rtcwire-sim: ICE restart after one side's address changes, with a steady media stream
//! both ways (one datagram every 20 ms). The moved host is taken off its link and put back
//! on the network at a new address: its old address is gone (datagrams to it are lost,
//! datagrams it still sends from it are refused by the simulator). Three cases:
//! - the side whose address changed restarts at once (it saw its interface change);
//! - the other side restarts, once it sees `disconnected`;
//! - make-before-break: a new address is added while the old path still works, the side
//!   restarts with it, and the stream has no gap while the old pair carries it until the
//!   new pair is nominated.
//!
//! Each prints the simulated time from the address change to data flowing both ways again.
//! Signalling (new credentials, trickled candidates) is instantaneous here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{addr, both_connected, config, connected, host, signal, Duo, Node};
use rtcwire_ice::{Event, IceState};
use rtcwire_sim::{Host, LinkConfig, LinkId, RouterId, Sim};

const EVERY: Duration = Duration::from_millis(20);
const OLD_A: &str = "10.0.0.1:5000";
const NEW_A: &str = "10.0.1.9:5000";
const B: &str = "10.0.0.2:6000";

fn lan() -> LinkConfig {
    LinkConfig::with_delay(Duration::from_millis(10))
}

struct Net {
    sim: Sim,
    duo: Duo,
    router: RouterId,
    a_link: LinkId,
}

/// A (controlling) and B (controlled) on one router, connected, each sending a media
/// stream to the other (A tags its datagrams `a`, B `b`).
fn connected_pair(seed: u64) -> Net {
    let mut sim = Sim::new(seed);
    let a = host(&mut sim, OLD_A, config(true), seed, "a");
    let b = host(&mut sim, B, config(false), seed, "b");
    let router = sim.add_router();
    let a_link = sim.link(a, router, lan());
    sim.link(b, router, lan());
    let mut duo = Duo::new(&mut sim, a, b);
    assert!(
        duo.run(&mut sim, Duration::from_secs(5), both_connected),
        "{}",
        sim.report()
    );
    let now = sim.now();
    sim.endpoint_mut(a).start_media(now, EVERY, b'a');
    sim.endpoint_mut(b).start_media(now, EVERY, b'b');
    // A second of media on the first pair.
    assert!(!duo.run(&mut sim, Duration::from_secs(1), |_, _| false));
    assert!(sim.endpoint(b).media_received(b'a').len() >= 45);
    assert!(sim.endpoint(a).media_received(b'b').len() >= 45);
    Net {
        sim,
        duo,
        router,
        a_link,
    }
}

/// Moves A to `NEW_A`: its link goes down for good and the agent, as it is, goes on in a
/// new host at the new address on the same router. Returns when it happened.
fn move_a(net: &mut Net) -> Instant {
    let Net {
        sim,
        duo,
        router,
        a_link,
    } = net;
    duo.shuttle(sim);
    sim.set_link_up(*a_link, false);
    let (node, left) = sim.take_endpoint(duo.a).unwrap();
    assert!(left.is_empty(), "events left behind: {left:?}");
    let moved = sim.add_host(addr(NEW_A), node);
    sim.link(moved, *router, lan());
    duo.a = moved;
    sim.now()
}

/// A's part of a restart: new credentials, the old host candidate gone and the new one
/// gathered (what a driver does when the interface changed).
fn restart_a(sim: &mut Sim, a: Host<Node>) -> rtcwire_ice::Credentials {
    let now = sim.now();
    let ag = &mut sim.endpoint_mut(a).agent;
    let creds = ag.restart(now).unwrap();
    ag.remove_host_candidate(addr(OLD_A));
    ag.add_host_candidate(now, addr(NEW_A)).unwrap();
    ag.end_of_local_candidates();
    creds
}

/// B's part (no address change): new credentials, same candidates.
fn restart_b(sim: &mut Sim, b: Host<Node>) -> rtcwire_ice::Credentials {
    let now = sim.now();
    sim.endpoint_mut(b).agent.restart(now).unwrap()
}

/// Both streams arrive on the new path after `since`.
fn resumed(s: &Sim, d: &Duo, since: Instant) -> bool {
    let new_a = addr(NEW_A);
    let at_b = s
        .endpoint(d.b)
        .media_received(b'a')
        .iter()
        .any(|(t, from, _)| *t > since && *from == new_a);
    let at_a = s
        .endpoint(d.a)
        .media_received(b'b')
        .iter()
        .any(|(t, _, _)| *t > since);
    at_b && at_a
}

/// When data flowed both ways again: the later of the first arrivals after `since`.
fn resumed_at(sim: &Sim, duo: &Duo, since: Instant) -> Instant {
    let first = |v: Vec<(Instant, SocketAddr, u32)>| {
        v.into_iter()
            .map(|(t, _, _)| t)
            .find(|t| *t > since)
            .unwrap()
    };
    let at_b = first(sim.endpoint(duo.b).media_received(b'a'));
    let at_a = first(sim.endpoint(duo.a).media_received(b'b'));
    at_a.max(at_b)
}

/// Checks that both agents now use the new pair, said so in a `SelectedPairChanged` event
/// after `since`, and keep exchanging media on it.
fn assert_on_new_pair(net: &mut Net, since: Duration) {
    let Net { sim, duo, .. } = net;
    let (new_a, b) = (addr(NEW_A), addr(B));
    let sel_a = sim.endpoint(duo.a).agent.selected_pair().unwrap();
    let sel_b = sim.endpoint(duo.b).agent.selected_pair().unwrap();
    assert_eq!((sel_a.local.address, sel_a.remote.address), (new_a, b));
    assert_eq!((sel_b.local.address, sel_b.remote.address), (b, new_a));
    let announced = |log: &[(Duration, Event)], local: SocketAddr, remote: SocketAddr| {
        log.iter().any(|(t, e)| {
            *t >= since
                && matches!(e, Event::SelectedPairChanged(p)
                    if p.local.address == local && p.remote.address == remote)
        })
    };
    assert!(announced(&duo.log_a, new_a, b), "{:?}", duo.log_a);
    assert!(announced(&duo.log_b, b, new_a), "{:?}", duo.log_b);
    // Media keeps flowing on it for another two seconds, both ways, without a loss.
    let now = sim.now();
    assert!(!duo.run(sim, Duration::from_secs(2), |_, _| false));
    for (rx, tag, from) in [(duo.b, b'a', new_a), (duo.a, b'b', b)] {
        let got: Vec<_> = sim
            .endpoint(rx)
            .media_received(tag)
            .into_iter()
            .filter(|(t, _, _)| *t > now)
            .collect();
        assert!(got.len() >= 95, "{} of 100 arrived", got.len());
        assert!(got.iter().all(|(_, f, _)| *f == from));
        assert!(got.windows(2).all(|w| w[1].2 == w[0].2 + 1), "a gap");
    }
    assert!(connected(sim, duo.a) && connected(sim, duo.b));
}

#[test]
fn moved_side_restarts_and_media_resumes_on_the_new_address() {
    let mut net = connected_pair(31);
    let t0 = move_a(&mut net);
    let since = net.sim.elapsed();
    let (a, b) = (net.duo.a, net.duo.b);
    let ca = restart_a(&mut net.sim, a);
    let cb = restart_b(&mut net.sim, b);
    signal(&mut net.sim, net.duo.a, net.duo.b, &ca, &cb);
    let ok = net.duo.run(&mut net.sim, Duration::from_secs(10), |s, d| {
        resumed(s, d, t0)
    });
    assert!(ok, "{}", net.sim.report());
    let took = resumed_at(&net.sim, &net.duo, t0) - t0;
    println!(
        "address change, moved side restarts: media both ways again {took:?} after the change (simulated)"
    );
    // A few Ta and a round trip or two on 20 ms RTT links, nothing like a timeout.
    assert!(took < Duration::from_millis(500), "{took:?}");
    assert_on_new_pair(&mut net, since);
}

#[test]
fn other_side_restarts_after_disconnected_and_media_resumes() {
    let mut net = connected_pair(32);
    let t0 = move_a(&mut net);
    let since = net.sim.elapsed();
    // A does not notice; B hears nothing from A any more and goes `disconnected`.
    let ok = net.duo.run(&mut net.sim, Duration::from_secs(20), |s, d| {
        s.endpoint(d.b).agent.state() == IceState::Disconnected
    });
    assert!(ok, "{}", net.sim.report());
    let disc = net.sim.now() - t0;
    // Consent failing takes 30 s: this is `disconnected`, not `failed`.
    assert!(
        disc >= Duration::from_secs(2) && disc <= Duration::from_secs(9),
        "{disc:?}"
    );
    // B restarts (a new offer); A answers it, gathering from the interface it has now.
    let (a, b) = (net.duo.a, net.duo.b);
    let cb = restart_b(&mut net.sim, b);
    let ca = restart_a(&mut net.sim, a);
    signal(&mut net.sim, net.duo.a, net.duo.b, &ca, &cb);
    let restart_at = net.sim.now();
    let ok = net.duo.run(&mut net.sim, Duration::from_secs(10), |s, d| {
        resumed(s, d, restart_at)
    });
    assert!(ok, "{}", net.sim.report());
    let back = resumed_at(&net.sim, &net.duo, restart_at);
    println!(
        "address change, other side restarts on disconnected: disconnected after {disc:?}, media both ways again {:?} after the change ({:?} after the restart) (simulated)",
        back - t0,
        back - restart_at
    );
    assert!(back - restart_at < Duration::from_millis(500));
    // The disconnected side is connected again.
    assert!(net.duo.log_b.iter().any(|(t, e)| *t > disc + since
        && matches!(
            e,
            Event::StateChanged(IceState::Connected | IceState::Completed)
        )));
    assert_on_new_pair(&mut net, since);
}

#[test]
fn restart_with_the_old_path_up_has_no_gap() {
    let mut net = connected_pair(33);
    // A gains a second interface (the old one still works) and restarts onto it,
    // dropping the old host candidate from the new generation.
    let moved = net.duo.a;
    net.sim.add_address(moved, addr(NEW_A).ip());
    let t0 = net.sim.now();
    let since = net.sim.elapsed();
    let (a, b) = (net.duo.a, net.duo.b);
    let ca = restart_a(&mut net.sim, a);
    let cb = restart_b(&mut net.sim, b);
    signal(&mut net.sim, net.duo.a, net.duo.b, &ca, &cb);
    // Until the new pair is nominated, the old one is selected and connected.
    assert_eq!(
        net.sim
            .endpoint(a)
            .agent
            .selected_pair()
            .unwrap()
            .local
            .address,
        addr(OLD_A)
    );
    assert!(connected(&net.sim, a) && connected(&net.sim, b));
    let ok = net.duo.run(&mut net.sim, Duration::from_secs(10), |s, d| {
        resumed(s, d, t0)
    });
    assert!(ok, "{}", net.sim.report());
    let switch_at = |log: &[(Duration, Event)]| {
        log.iter()
            .find(|(t, e)| *t >= since && matches!(e, Event::SelectedPairChanged(_)))
            .map(|(t, _)| *t - since)
            .unwrap()
    };
    let switched = switch_at(&net.duo.log_a).max(switch_at(&net.duo.log_b));
    // Two more seconds of media, on the new pair.
    assert_on_new_pair(&mut net, since);
    // No datagram of either stream was lost, and none came late: every number from the
    // last second before the restart to the end arrived, in order, at most one interval
    // plus the link's jitter-free delay apart.
    for (rx, tx, tag) in [(b, a, b'a'), (a, b, b'b')] {
        let got: Vec<_> = net
            .sim
            .endpoint(rx)
            .media_received(tag)
            .into_iter()
            .filter(|(t, _, _)| *t + Duration::from_secs(1) > t0)
            .collect();
        let sent = net.sim.endpoint(tx).media.as_ref().unwrap();
        let (sent, unsent) = (sent.seq, sent.unsent);
        assert!(
            got.windows(2).all(|w| w[1].2 == w[0].2 + 1),
            "stream {} has a gap: {:?}",
            tag as char,
            got.windows(2)
                .find(|w| w[1].2 != w[0].2 + 1)
                .map(|w| (w[0].2, w[1].2))
        );
        let gap = got.windows(2).map(|w| w[1].0 - w[0].0).max().unwrap();
        assert!(gap <= EVERY + Duration::from_millis(1), "{gap:?}");
        assert!(got.last().unwrap().2 + 3 >= sent);
        assert_eq!(unsent, 0);
    }
    // Neither agent refused a datagram: what came on the old path after a side switched
    // was still taken.
    assert_eq!(
        (net.sim.endpoint(a).refused, net.sim.endpoint(b).refused),
        (0, 0)
    );
    let old_then_new = net
        .sim
        .endpoint(b)
        .media_received(b'a')
        .iter()
        .filter(|(t, _, _)| *t > t0)
        .map(|(_, from, _)| *from)
        .collect::<Vec<_>>();
    assert_eq!(
        old_then_new.first(),
        Some(&addr(OLD_A)),
        "old pair used during the restart"
    );
    assert!(
        old_then_new
            .windows(2)
            .all(|w| !(w[0] == addr(NEW_A) && w[1] == addr(OLD_A))),
        "A's stream switched back to the old address"
    );
    println!(
        "restart with the old path up: new pair selected on both sides {switched:?} after the restart, no datagram lost (simulated)"
    );
}
