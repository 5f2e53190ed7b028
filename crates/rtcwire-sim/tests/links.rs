//! The link model: loss statistics, FIFO order, reordering, duplication, bandwidth and tail
//! drop, MTU, down/up, delay and jitter.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rtcwire_sim::{
    Direction, DropCause, GilbertElliott, Host, LinkConfig, LinkId, Loss, Outgoing, Probe, Sim,
};

const A: &str = "10.0.0.1:1000";
const B: &str = "10.0.0.2:2000";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Two probes joined by one link with `config` (same both ways).
fn pair(seed: u64, config: LinkConfig) -> (Sim, Host<Probe>, Host<Probe>, LinkId) {
    let mut sim = Sim::builder(seed).exact_seed().build();
    let a = sim.add_host(addr(A), Probe::new());
    let b = sim.add_host(addr(B), Probe::new());
    let link = sim.link(a, b, config);
    (sim, a, b, link)
}

/// Queues `count` datagrams from `a`, one every `gap` from now, each carrying its index
/// (big-endian u32) padded to `size` bytes.
fn paced(sim: &mut Sim, a: Host<Probe>, count: u32, gap: Duration, size: usize) {
    let start = sim.now();
    for i in 0..count {
        let mut contents = vec![0u8; size.max(4)];
        contents[..4].copy_from_slice(&i.to_be_bytes());
        let t = Outgoing {
            source: None,
            destination: None,
            contents,
        };
        sim.endpoint_mut(a).send_at(start + gap * i, t);
    }
}

fn indices(sim: &Sim, b: Host<Probe>) -> Vec<u32> {
    sim.events(b)
        .iter()
        .map(|r| u32::from_be_bytes(r.contents[..4].try_into().unwrap()))
        .collect()
}

fn run_out(sim: &mut Sim) {
    let outcome = sim.run_until(|_| false, Duration::from_secs(3600));
    assert_eq!(outcome, rtcwire_sim::Outcome::Idle, "{}", sim.report());
}

#[test]
fn random_loss_rate_is_within_statistical_bounds() {
    for seed in [1, 2, 3] {
        let (mut sim, a, b, _) = pair(seed, LinkConfig::default().loss(Loss::Random(0.1)));
        paced(&mut sim, a, 20_000, Duration::from_millis(1), 16);
        run_out(&mut sim);
        let lost = sim.stats().dropped(DropCause::Loss);
        // Binomial(20000, 0.1): mean 2000, sd 42.4; five sd either side.
        assert!((1_788..=2_212).contains(&lost), "seed {seed}: lost {lost}");
        assert_eq!(sim.events(b).len() as u64 + lost, 20_000);
        assert_eq!(sim.stats().dropped_total(), lost);
    }
}

/// Lengths of runs of consecutive lost indices.
fn loss_bursts(received: &[u32], sent: u32) -> Vec<u32> {
    let mut got = vec![false; sent as usize];
    for &i in received {
        got[i as usize] = true;
    }
    let mut bursts = Vec::new();
    let mut run = 0;
    for g in got {
        if g {
            if run > 0 {
                bursts.push(run);
            }
            run = 0;
        } else {
            run += 1;
        }
    }
    if run > 0 {
        bursts.push(run);
    }
    bursts
}

#[test]
fn gilbert_elliott_loses_in_bursts_at_the_predicted_rate() {
    let ge = GilbertElliott::bursts(0.01, 0.25);
    let (mut sim, a, b, _) = pair(11, LinkConfig::default().loss(Loss::GilbertElliott(ge)));
    let n = 40_000;
    paced(&mut sim, a, n, Duration::from_millis(1), 8);
    run_out(&mut sim);
    let lost = sim.stats().dropped(DropCause::Loss) as f64;
    let rate = lost / f64::from(n);
    // Predicted 0.01 / 0.26 = 3.85 %.
    assert!((rate - ge.mean_loss()).abs() < 0.01, "rate {rate}");
    let bursts = loss_bursts(&indices(&sim, b), n);
    let mean_burst = bursts.iter().sum::<u32>() as f64 / bursts.len() as f64;
    // Bursts last 1 / 0.25 = 4 datagrams on average; independent loss at this rate would
    // give about 1.04.
    assert!((3.0..5.0).contains(&mean_burst), "mean burst {mean_burst}");

    // The same rate without memory: bursts are short.
    let (mut sim, a, b, _) = pair(11, LinkConfig::default().loss(Loss::Random(rate)));
    paced(&mut sim, a, n, Duration::from_millis(1), 8);
    run_out(&mut sim);
    let bursts = loss_bursts(&indices(&sim, b), n);
    let mean_burst = bursts.iter().sum::<u32>() as f64 / bursts.len() as f64;
    assert!(mean_burst < 1.2, "mean burst {mean_burst}");
}

#[test]
fn jitter_without_reordering_keeps_fifo_order() {
    let cfg = LinkConfig::with_delay(Duration::from_millis(20)).jitter(Duration::from_millis(50));
    let (mut sim, a, b, _) = pair(5, cfg);
    paced(&mut sim, a, 2_000, Duration::from_millis(1), 8);
    run_out(&mut sim);
    let got = indices(&sim, b);
    assert_eq!(got, (0..2_000).collect::<Vec<_>>());
    // Jitter did spread arrivals: some gaps differ from the 1 ms send spacing.
    let at: Vec<Instant> = sim.events(b).iter().map(|r| r.at).collect();
    let first = sim.start() + Duration::from_millis(20);
    assert!(at[0] >= first && at[0] <= first + Duration::from_millis(50));
    assert!(at
        .windows(2)
        .any(|w| w[1] - w[0] != Duration::from_millis(1)));
    assert!(at.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn reordering_lets_later_datagrams_overtake() {
    let cfg =
        LinkConfig::with_delay(Duration::from_millis(10)).reorder(0.05, Duration::from_millis(5));
    let (mut sim, a, b, _) = pair(6, cfg);
    paced(&mut sim, a, 2_000, Duration::from_millis(1), 8);
    run_out(&mut sim);
    let got = indices(&sim, b);
    assert_eq!(got.len(), 2_000, "reordering loses nothing");
    let inversions = got.windows(2).filter(|w| w[0] > w[1]).count();
    // About 5 % are held back 5 ms, so each is overtaken by the next few.
    assert!((50..=150).contains(&inversions), "{inversions}");
    let mut sorted = got.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..2_000).collect::<Vec<_>>());
}

#[test]
fn duplication_delivers_extra_copies() {
    let (mut sim, a, b, link) = pair(8, LinkConfig::default().duplicate(0.2));
    paced(&mut sim, a, 5_000, Duration::from_millis(1), 8);
    run_out(&mut sim);
    let dups = sim.stats().duplicated;
    // Binomial(5000, 0.2): mean 1000, sd 28.
    assert!((860..=1_140).contains(&dups), "{dups}");
    assert_eq!(sim.events(b).len() as u64, 5_000 + dups);
    assert_eq!(sim.link_stats(link, Direction::Forward).duplicated, dups);
    // A copy arrives right after its original.
    let got = indices(&sim, b);
    let mut dedup = got.clone();
    dedup.dedup();
    assert_eq!(dedup, (0..5_000).collect::<Vec<_>>());
}

#[test]
fn bandwidth_cap_paces_a_burst() {
    // 1 Mbit/s, 1000-byte datagrams: one every 8 ms.
    let cfg = LinkConfig::with_delay(Duration::from_millis(5)).bandwidth(1_000_000, 1_000_000);
    let (mut sim, a, b, link) = pair(2, cfg);
    paced(&mut sim, a, 200, Duration::ZERO, 1_000);
    run_out(&mut sim);
    let at: Vec<Duration> = sim.events(b).iter().map(|r| r.at - sim.start()).collect();
    assert_eq!(at.len(), 200);
    assert_eq!(at[0], Duration::from_millis(8 + 5));
    for w in at.windows(2) {
        assert_eq!(w[1] - w[0], Duration::from_millis(8));
    }
    // The whole burst took 1.6 s to cross: 1.6 Mbit at 1 Mbit/s.
    assert_eq!(at[199], Duration::from_millis(1_600 + 5));
    let st = sim.link_stats(link, Direction::Forward);
    assert_eq!(st.arrived_bytes, 200_000);
    // The reverse direction has its own, idle queue.
    assert_eq!(sim.link_stats(link, Direction::Backward).offered, 0);
}

#[test]
fn sustained_overload_is_capped_and_tail_dropped() {
    // Offer 2 Mbit/s for 5 s to a 1 Mbit/s link with a 20 kB queue.
    let cfg = LinkConfig::default().bandwidth(1_000_000, 20_000);
    let (mut sim, a, b, _) = pair(3, cfg);
    paced(&mut sim, a, 1_250, Duration::from_millis(4), 1_000);
    run_out(&mut sim);
    let at: Vec<Duration> = sim.events(b).iter().map(|r| r.at - sim.start()).collect();
    // In every one-second window, at most 1 Mbit (125 datagrams) plus the one in flight.
    for w in 0..5u64 {
        let lo = Duration::from_secs(w);
        let hi = lo + Duration::from_secs(1);
        let n = at.iter().filter(|t| **t > lo && **t <= hi).count();
        assert!(n <= 126, "window {w}: {n}");
        if w > 0 {
            assert!(n >= 124, "link should stay busy, window {w}: {n}");
        }
    }
    let dropped = sim.stats().dropped(DropCause::QueueFull);
    assert_eq!(dropped + at.len() as u64, 1_250);
    // About half is dropped: 5 s at 1 Mbit/s ≈ 625 datagrams, plus the 20 queued.
    assert!((600..=630).contains(&dropped), "{dropped}");
}

#[test]
fn oversize_datagrams_are_dropped_and_counted() {
    let (mut sim, a, b, link) = pair(1, LinkConfig::default().mtu(1_200));
    for size in [1_199, 1_200, 1_201, 1_500, 100] {
        sim.endpoint_mut(a).send(vec![0u8; size]);
    }
    run_out(&mut sim);
    let sizes: Vec<usize> = sim.events(b).iter().map(|r| r.contents.len()).collect();
    assert_eq!(sizes, [1_199, 1_200, 100]);
    assert_eq!(sim.stats().dropped(DropCause::Mtu), 2);
    assert_eq!(sim.link_stats(link, Direction::Forward).dropped, 2);
    assert!(sim.trace_text().contains("DROPPED (mtu) on link0"));
}

#[test]
fn link_down_drops_everything_until_it_comes_back() {
    let (mut sim, a, b, link) = pair(4, LinkConfig::with_delay(Duration::from_millis(30)));
    // One datagram every 10 ms for 3 s.
    paced(&mut sim, a, 300, Duration::from_millis(10), 8);
    let _ = sim.run_for(Duration::from_millis(1_000));
    sim.set_link_up(link, false);
    assert!(!sim.link_is_up(link));
    let _ = sim.run_for(Duration::from_millis(1_000));
    sim.set_link_up(link, true);
    run_out(&mut sim);
    let got = indices(&sim, b);
    // Sent up to 0.97 s: arrived by the cut at 1.0 s. Sent in (0.97, 2.0]: lost, in flight
    // or sent while down (the one due at 2.0 s went before the link came back). After: all
    // arrive.
    let expected: Vec<u32> = (0..98).chain(201..300).collect();
    assert_eq!(got, expected);
    assert_eq!(sim.stats().dropped(DropCause::LinkDown), 103);
}

#[test]
fn asymmetric_delay_and_echo_round_trip() {
    let mut sim = Sim::new(1);
    let a = sim.add_host(addr(A), Probe::new());
    let b = sim.add_host(addr(B), Probe::echo());
    sim.link_asymmetric(
        a,
        b,
        LinkConfig::with_delay(Duration::from_millis(10)),
        LinkConfig::with_delay(Duration::from_millis(70)),
    );
    sim.endpoint_mut(a).send("hi");
    let out = sim.run_until(|s| !s.events(a).is_empty(), Duration::from_secs(1));
    assert!(out.is_done());
    assert_eq!(sim.elapsed(), Duration::from_millis(80));
    let r = &sim.events(a)[0];
    assert_eq!((r.source, r.destination), (addr(B), addr(A)));
    assert_eq!(r.contents, b"hi");
}

#[test]
fn run_until_stops_at_the_deadline_without_real_time() {
    let (mut sim, a, _b, _) = pair(1, LinkConfig::with_delay(Duration::from_secs(3600)));
    sim.endpoint_mut(a).send("slow");
    let out = sim.run_until(|_| false, Duration::from_secs(10));
    assert_eq!(out, rtcwire_sim::Outcome::Deadline);
    assert_eq!(sim.elapsed(), Duration::from_secs(10));
    let out = sim.run_until(|s| s.stats().delivered == 1, Duration::from_secs(7200));
    assert!(out.is_done());
    assert_eq!(sim.elapsed(), Duration::from_secs(3600));
}
