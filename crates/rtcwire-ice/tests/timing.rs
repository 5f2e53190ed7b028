//! Timing rules: new checks paced at Ta (configurable), each check retransmitted with the
//! RTO doubling up to its cap for `check_max_sends` transmissions (RFC 8445 §14, RFC 8489
//! Rc = 7) before its pair fails and the agent reaches `failed`; consent checks keep going
//! out every 4–6 s while media flows (RFC 7675: traffic alone never stands for consent).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use common::{addr, both_connected, config, connected, host, Duo};
use rtcwire_ice::{Agent, Candidate, Config, IceState, SansIo, SeededRng};
use rtcwire_sim::{LinkConfig, Sim};
use rtcwire_stun::Message;

/// Each transaction's transmissions (time since the start, in order), and the agent at the
/// end, for an agent checking four pairs against a peer that never answers.
fn checks_into_the_void(cfg: Config) -> (BTreeMap<[u8; 12], Vec<Duration>>, Agent, Duration) {
    let start = Sim::new(1).now(); // a virtual instant: no wall clock here
    let mut agent = Agent::new(cfg, Box::new(SeededRng::new(5))).unwrap();
    agent
        .add_host_candidate(start, addr("10.0.0.1:5000"))
        .unwrap();
    agent.end_of_local_candidates();
    agent
        .set_remote_credentials("peer", "0123456789012345678901")
        .unwrap();
    for i in 0..4u16 {
        let c = Candidate::host(SocketAddr::from(([10, 0, 0, 2], 6000 + i)), 1);
        agent.add_remote_candidate(start, c).unwrap();
    }
    agent.end_of_remote_candidates(start);
    let mut sends: BTreeMap<[u8; 12], Vec<Duration>> = BTreeMap::new();
    let mut now = start;
    let mut buf = Vec::new();
    let mut failed_at = None;
    for _ in 0..10_000 {
        while let Some(t) = agent.poll_transmit(now, &mut buf) {
            let m = Message::parse(&buf[..t.size]).unwrap();
            sends
                .entry(m.transaction_id().0)
                .or_default()
                .push(now - start);
            buf.clear();
        }
        while agent.poll_event().is_some() {}
        if agent.state() == IceState::Failed {
            failed_at = Some(now - start);
            break;
        }
        let Some(next) = agent.poll_timeout() else {
            break;
        };
        assert!(next >= now, "timer in the past");
        now = next;
        agent.handle_timeout(now);
    }
    (sends, agent, failed_at.expect("never failed"))
}

fn first_sends(sends: &BTreeMap<[u8; 12], Vec<Duration>>) -> Vec<Duration> {
    let mut v: Vec<Duration> = sends.values().map(|s| s[0]).collect();
    v.sort();
    v
}

#[test]
fn checks_are_paced_at_ta_and_retransmitted_with_a_doubling_rto() {
    let cfg = config(true);
    let (ta, max_sends, max_rto) = (cfg.ta, cfg.check_max_sends, cfg.max_rto);
    let (sends, agent, failed_at) = checks_into_the_void(cfg);
    assert_eq!(sends.len(), 4, "one check per pair");
    let firsts = first_sends(&sends);
    for w in firsts.windows(2) {
        assert!(w[1] - w[0] >= ta, "new checks closer than Ta: {firsts:?}");
    }
    assert!(
        firsts[3] - firsts[0] <= ta * 3 + Duration::from_millis(1),
        "{firsts:?}"
    );
    for times in sends.values() {
        assert_eq!(times.len(), max_sends as usize, "{times:?}");
        let gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(
            gaps.windows(2).all(|g| g[1] >= g[0]),
            "RTO shrank: {gaps:?}"
        );
        assert!(gaps[0] >= Duration::from_millis(500), "{gaps:?}");
        assert_eq!(*gaps.last().unwrap(), max_rto, "{gaps:?}");
        assert_eq!(gaps[1], gaps[0] * 2, "{gaps:?}");
    }
    // Every pair failed after its last transmission timed out, the peer sent
    // end-of-candidates: `failed`.
    let last = sends.values().map(|t| *t.last().unwrap()).max().unwrap();
    assert!(
        failed_at > last && failed_at <= last + max_rto,
        "{failed_at:?}"
    );
    assert_eq!(agent.stats().checks_sent, 4);
    assert_eq!(agent.stats().retransmits, 4 * u64::from(max_sends - 1));
    println!("4 unanswered pairs: checks at {firsts:?}, failed after {failed_at:?}");
}

#[test]
fn ta_is_configurable() {
    let ta = Duration::from_millis(20);
    let (sends, _, _) = checks_into_the_void(Config { ta, ..config(true) });
    let firsts = first_sends(&sends);
    let gaps: Vec<Duration> = firsts.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        gaps.iter()
            .all(|g| *g >= ta && *g < Duration::from_millis(50)),
        "{gaps:?}"
    );
}

#[test]
fn consent_checks_go_out_while_media_flows() {
    let mut sim = Sim::new(51);
    let a = host(&mut sim, "10.0.0.1:5000", config(true), 51, "a");
    let b = host(&mut sim, "10.0.0.2:6000", config(false), 51, "b");
    sim.link(a, b, LinkConfig::with_delay(Duration::from_millis(5)));
    let mut duo = Duo::new(&mut sim, a, b);
    assert!(duo.run(&mut sim, Duration::from_secs(5), both_connected));
    let now = sim.now();
    sim.endpoint_mut(a)
        .start_media(now, Duration::from_millis(20), b'a');
    sim.endpoint_mut(b)
        .start_media(now, Duration::from_millis(20), b'b');
    let before = (sim.endpoint(a).agent.stats(), sim.endpoint(b).agent.stats());
    // A minute of media both ways; nothing but media and consent on the wire.
    assert!(
        !duo.run(&mut sim, Duration::from_secs(60), |s, d| !connected(s, d.a)
            || !connected(s, d.b))
    );
    for (h, was) in [(a, before.0), (b, before.1)] {
        let st = sim.endpoint(h).agent.stats();
        let (sent, answered) = (
            st.checks_sent - was.checks_sent,
            st.responses_received - was.responses_received,
        );
        // Every 4–6 s: 10 to 15 in a minute, each answered.
        assert!((10..=15).contains(&sent), "{sent} consent checks in 60 s");
        assert!(answered >= sent - 1, "{answered} of {sent} answered");
    }
    assert!(sim.endpoint(b).media_received(b'a').len() >= 2990);
    assert!(sim.endpoint(a).media_received(b'b').len() >= 2990);
    println!(
        "a minute of 50 datagrams/s each way: {} consent checks from A, {} from B, all answered",
        sim.endpoint(a).agent.stats().checks_sent - before.0.checks_sent,
        sim.endpoint(b).agent.stats().checks_sent - before.1.checks_sent
    );
}
