//! rtcwire-sctp on rtcwire-sim, the project's deterministic network: 10 % loss with
//! duplication and reordering on both directions, several seeds; exactly-once and per-stream
//! order; PR-SCTP drops only partially reliable messages; a dead peer (link down) ends the
//! association on time.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

use std::collections::HashMap;
use std::time::Duration;

use rtcwire_proto::SeededRng;
use rtcwire_sctp::{AbortReason, Association, Config, Event, SendOptions};
use rtcwire_sim::{Host, LinkConfig, LinkId, Loss, Sim};

struct Pair {
    sim: Sim,
    a: Host<Association>,
    b: Host<Association>,
    link: LinkId,
}

fn config() -> Config {
    Config {
        max_message_size: 1 << 20,
        remote_max_message_size: 1 << 20,
        ..Config::default()
    }
}

fn hostile() -> LinkConfig {
    LinkConfig::with_delay(Duration::from_millis(25))
        .jitter(Duration::from_millis(5))
        .loss(Loss::Random(0.10))
        .duplicate(0.05)
        .reorder(0.10, Duration::from_millis(15))
}

fn pair(seed: u64, link: LinkConfig, cfg: Config) -> Pair {
    let mut sim = Sim::new(seed);
    let now = sim.now();
    let a = Association::new(
        cfg.clone(),
        Box::new(SeededRng::derived(seed, "sctp-a")),
        now,
    )
    .unwrap();
    let b = Association::new(cfg, Box::new(SeededRng::derived(seed, "sctp-b")), now).unwrap();
    let a = sim.add_host("10.0.0.1:5000".parse().unwrap(), a);
    let b = sim.add_host("10.0.0.2:5000".parse().unwrap(), b);
    let link = sim.link(a, b, link);
    sim.endpoint_mut(a).connect(now).unwrap();
    let out = sim.run_until(
        |s| s.endpoint(a).is_established() && s.endpoint(b).is_established(),
        Duration::from_secs(300),
    );
    assert!(out.is_done(), "{out}\n{}", sim.report());
    Pair { sim, a, b, link }
}

fn msgs(sim: &Sim, h: Host<Association>) -> Vec<&rtcwire_sctp::Message> {
    sim.events(h)
        .iter()
        .filter_map(|e| match e {
            Event::Message(m) => Some(m),
            _ => None,
        })
        .collect()
}

fn payload(stream: u16, i: usize, len: usize) -> Vec<u8> {
    let mut v = format!("{stream}:{i}:").into_bytes();
    v.resize(len.max(v.len()), (i % 251) as u8);
    v
}

fn index(data: &[u8]) -> (u16, usize) {
    let text = String::from_utf8_lossy(&data[..data.len().min(16)]).to_string();
    let mut p = text.split(':');
    (
        p.next().unwrap().parse().unwrap(),
        p.next().unwrap().parse().unwrap(),
    )
}

#[test]
fn hostile_link_every_message_exactly_once_in_order() {
    for seed in 1..=6u64 {
        // Even seeds with I-DATA interleaving (RFC 8260) negotiated.
        let cfg = Config {
            interleaving: seed % 2 == 0,
            ..config()
        };
        let mut p = pair(seed, hostile(), cfg);
        assert_eq!(p.sim.endpoint(p.a).uses_interleaving(), seed % 2 == 0);
        let now = p.sim.now();
        let n = 80;
        let len = |s: u16, i: usize| 1 + (i * 733 + usize::from(s) * 97) % 9000;
        for i in 0..n {
            for s in [0u16, 1, 3] {
                let opts = SendOptions {
                    unordered: s == 3,
                    ..SendOptions::default()
                };
                p.sim
                    .endpoint_mut(p.a)
                    .send(now, s, 53, payload(s, i, len(s, i)), opts)
                    .unwrap();
                p.sim
                    .endpoint_mut(p.b)
                    .send(now, s, 53, payload(s, i, len(s, i)), opts)
                    .unwrap();
            }
        }
        let total = n * 3;
        let (a, b) = (p.a, p.b);
        let out = p.sim.run_until(
            |s| msgs(s, a).len() >= total && msgs(s, b).len() >= total,
            Duration::from_secs(600),
        );
        assert!(out.is_done(), "seed {seed}: {out}\n{}", p.sim.report());
        let _ = p.sim.run_for(Duration::from_secs(5));
        for h in [a, b] {
            let ms = msgs(&p.sim, h);
            assert_eq!(ms.len(), total, "seed {seed}: duplicate delivery");
            let mut per: HashMap<u16, Vec<usize>> = HashMap::new();
            for m in ms {
                let (s, i) = index(&m.data);
                assert_eq!(s, m.stream);
                assert_eq!(m.data, payload(s, i, len(s, i)));
                per.entry(s).or_default().push(i);
            }
            for (s, mut v) in per {
                if s != 3 {
                    assert!(
                        v.windows(2).all(|w| w[0] < w[1]),
                        "seed {seed}: stream {s} out of order"
                    );
                }
                v.sort_unstable();
                assert_eq!(v, (0..n).collect::<Vec<_>>());
            }
        }
        let ls = p.sim.link_stats(p.link, rtcwire_sim::Direction::Forward);
        assert!(ls.dropped > 0 && ls.duplicated > 0, "{ls:?}");
    }
}

#[test]
fn partial_reliability_drops_only_what_policy_allows() {
    for seed in 10..13u64 {
        let mut p = pair(seed, hostile(), config());
        let now = p.sim.now();
        let n = 150;
        for i in 0..n {
            let pr = SendOptions {
                max_retransmits: Some(0),
                ..SendOptions::default()
            };
            p.sim
                .endpoint_mut(p.a)
                .send(now, 2, 53, payload(2, i, 700), pr)
                .unwrap();
            p.sim
                .endpoint_mut(p.a)
                .send(now, 4, 53, payload(4, i, 300), SendOptions::default())
                .unwrap();
        }
        let (a, b) = (p.a, p.b);
        let out = p.sim.run_until(
            |s| {
                msgs(s, b).iter().filter(|m| m.stream == 4).count() == n
                    && s.endpoint(a).stats().flight == 0
                    && s.endpoint(a).total_buffered_amount() == 0
            },
            Duration::from_secs(600),
        );
        assert!(out.is_done(), "seed {seed}: {out}");
        let _ = p.sim.run_for(Duration::from_secs(5));
        let ms = msgs(&p.sim, b);
        let pr: Vec<usize> = ms
            .iter()
            .filter(|m| m.stream == 2)
            .map(|m| index(&m.data).1)
            .collect();
        assert!(
            pr.windows(2).all(|w| w[0] < w[1]),
            "PR stream out of order or duplicated"
        );
        let abandoned = p.sim.endpoint(a).stats().abandoned_messages as usize;
        assert!(abandoned > 0 && pr.len() < n);
        assert!(
            pr.len() + abandoned >= n,
            "{} delivered + {abandoned} abandoned < {n}",
            pr.len()
        );
        assert_eq!(ms.iter().filter(|m| m.stream == 4).count(), n);
    }
}

#[test]
fn dead_peer_ends_the_association_on_time() {
    let cfg = Config {
        max_retransmissions: Some(5),
        rto_max: Duration::from_secs(3),
        heartbeat_interval: Some(Duration::from_secs(2)),
        ..config()
    };
    let mut p = pair(20, LinkConfig::with_delay(Duration::from_millis(20)), cfg);
    // Traffic first, so the RTO is measured (then clamped to RTO.Min 400 ms).
    let now = p.sim.now();
    p.sim
        .endpoint_mut(p.a)
        .send(now, 0, 53, vec![1; 1000], SendOptions::default())
        .unwrap();
    let (a, b) = (p.a, p.b);
    assert!(p
        .sim
        .run_until(|s| msgs(s, b).len() == 1, Duration::from_secs(5))
        .is_done());
    let _ = p.sim.run_for(Duration::from_millis(500));
    p.sim.set_link_up(p.link, false);
    let t0 = p.sim.now();
    let now = p.sim.now();
    p.sim
        .endpoint_mut(a)
        .send(now, 0, 53, vec![2; 1000], SendOptions::default())
        .unwrap();
    let out = p.sim.run_until(
        |s| s.endpoint(a).is_closed() && s.endpoint(b).is_closed(),
        Duration::from_secs(120),
    );
    assert!(out.is_done(), "{out}");
    let took = p.sim.now() - t0;
    // Sender: RTO 0.4 s doubling to the 3 s cap, six expiries: 0.4+0.8+1.6+3+3+3 = 11.8 s.
    assert!(
        p.sim.events(a).last() == Some(&Event::Aborted(AbortReason::MaxRetransmissions)),
        "{:?}",
        p.sim.events(a).last()
    );
    assert!(took < Duration::from_secs(20), "{took:?}");
    assert_eq!(
        p.sim.events(b).last(),
        Some(&Event::Aborted(AbortReason::MaxRetransmissions))
    );
}
