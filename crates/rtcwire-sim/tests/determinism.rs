//! Same seed, same run, bit for bit; another seed, another run. Plus the virtual clock and
//! the driver's bookkeeping (default routes, events, counters, stalls).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rtcwire_proto::{Datagram, SansIo, SeededRng, Transmit};
use rtcwire_sim::{
    DropCause, GilbertElliott, LinkConfig, Loss, NatConfig, Outcome, Outgoing, PortAllocation,
    Probe, Sim, TraceEntry, TraceEvent,
};

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// A chatty core with its own seeded randomness: sends a random-sized datagram at random
/// intervals, and answers every third datagram it receives.
struct Chatter {
    rng: SeededRng,
    next: Option<Instant>,
    left: u32,
    seen: u32,
    out: VecDeque<Outgoing>,
}

impl Chatter {
    fn new(seed: u64, start: Instant) -> Self {
        Chatter {
            rng: SeededRng::new(seed),
            next: Some(start),
            left: 300,
            seen: 0,
            out: VecDeque::new(),
        }
    }
}

impl SansIo for Chatter {
    type Event = u32;
    type Error = String;
    fn handle_read(&mut self, _: Instant, d: Datagram<'_>) -> Result<(), String> {
        self.seen += 1;
        if d.contents.first() == Some(&0xff) {
            return Err("refusing 0xff".into());
        }
        if self.seen % 3 == 0 {
            self.out.push_back(Outgoing {
                source: d.destination,
                destination: d.source,
                contents: d.contents[..d.contents.len().min(50)].to_vec(),
            });
        }
        Ok(())
    }
    fn poll_transmit(&mut self, _: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
        let o = self.out.pop_front()?;
        buf.extend_from_slice(&o.contents);
        Some(Transmit {
            source: o.source,
            destination: o.destination,
            ..Transmit::on_path(o.contents.len())
        })
    }
    fn poll_event(&mut self) -> Option<u32> {
        None
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.next
    }
    fn handle_timeout(&mut self, now: Instant) {
        let Some(t) = self.next.filter(|t| *t <= now) else {
            return;
        };
        let len = 20 + (self.rng.next_u32() % 1_400) as usize;
        let mut contents = vec![0u8; len];
        self.rng.fill_bytes(&mut contents);
        contents[0] = if self.left % 50 == 0 {
            0xff
        } else {
            contents[0] % 0xff
        };
        self.out.push_back(Outgoing {
            source: None,
            destination: None,
            contents,
        });
        self.left -= 1;
        self.next = (self.left > 0)
            .then(|| t + Duration::from_micros(500 + u64::from(self.rng.next_u32() % 20_000)));
    }
}

/// Everything on: NATs with random ports, jitter, bursty loss, duplication, reordering,
/// bandwidth, MTU. Returns the trace and the counters.
fn scenario(seed: u64) -> (Vec<TraceEntry>, rtcwire_sim::Stats, Vec<u8>) {
    let mut sim = Sim::builder(seed).exact_seed().capture(true).build();
    let start = sim.now();
    let a = sim.add_host(addr("192.168.0.2:5000"), Chatter::new(1, start));
    let b = sim.add_host(addr("10.0.0.2:6000"), Chatter::new(2, start));
    let nat_cfg = NatConfig::port_restricted_cone().port_allocation(PortAllocation::Random);
    let na = sim.add_nat("203.0.113.1".parse().unwrap(), nat_cfg);
    let nb = sim.add_nat("203.0.113.2".parse().unwrap(), NatConfig::full_cone());
    let lan = LinkConfig::with_delay(Duration::from_millis(1)).jitter(Duration::from_millis(1));
    sim.link(a, na.inside(), lan);
    sim.link(b, nb.inside(), lan);
    let wan = LinkConfig::with_delay(Duration::from_millis(30))
        .jitter(Duration::from_millis(15))
        .bandwidth(2_000_000, 30_000)
        .loss(Loss::GilbertElliott(GilbertElliott::bursts(0.02, 0.3)))
        .duplicate(0.02)
        .reorder(0.05, Duration::from_millis(10))
        .mtu(1_300);
    sim.link(na.outside(), nb.outside(), wan);
    // b is full-cone: a can reach it once b has a mapping; a's NAT lets b in once a sent.
    sim.set_default_peer(a, addr("203.0.113.2:49152"));
    sim.set_default_peer(b, addr("203.0.113.1:1"));
    let out = sim.run_until(|_| false, Duration::from_secs(60));
    assert_eq!(out, Outcome::Idle, "{}", sim.report());
    (
        sim.trace().cloned().collect(),
        *sim.stats(),
        sim.pcap_bytes().unwrap(),
    )
}

#[test]
fn same_seed_gives_identical_traces() {
    let (t1, s1, pcap1) = scenario(42);
    let (t2, s2, pcap2) = scenario(42);
    assert_eq!(s1, s2);
    // Every delivered byte, address and timestamp is the same.
    assert_eq!(pcap1, pcap2);
    assert_eq!(t1.len(), t2.len());
    for (i, (x, y)) in t1.iter().zip(&t2).enumerate() {
        assert_eq!(x, y, "first difference at entry {i}");
    }
    // The scenario exercised what it claims to.
    for cause in [DropCause::Loss, DropCause::Mtu, DropCause::NatNoMapping] {
        assert!(s1.dropped(cause) > 0, "{cause}: {s1}");
    }
    assert!(
        s1.duplicated > 0 && s1.rejected > 0 && s1.delivered > 100,
        "{s1}"
    );
    assert!(t1
        .iter()
        .any(|e| matches!(e.event, TraceEvent::Translated { .. })));
}

#[test]
fn another_seed_gives_another_run() {
    let (t1, _, pcap1) = scenario(42);
    let (t2, _, pcap2) = scenario(43);
    assert_ne!(t1, t2);
    assert_ne!(pcap1, pcap2);
}

#[test]
fn time_is_virtual() {
    let mut sim = Sim::new(1);
    let a = sim.add_host(addr("10.0.0.1:1"), Probe::new());
    let b = sim.add_host(addr("10.0.0.2:1"), Probe::new());
    sim.link(a, b, LinkConfig::with_delay(Duration::from_secs(86_400)));
    sim.endpoint_mut(a).send("tomorrow");
    let out = sim.run_until(|s| s.stats().delivered == 1, Duration::from_secs(100_000));
    assert!(out.is_done());
    // A simulated day passed; the delivery happened exactly a day after the start.
    assert_eq!(sim.elapsed(), Duration::from_secs(86_400));
    assert_eq!(
        sim.events(b)[0].at,
        sim.start() + Duration::from_secs(86_400)
    );
}

#[test]
fn a_given_start_instant_is_used() {
    let base = Sim::new(0).start() + Duration::from_secs(1_000);
    let sim = Sim::builder(0).start(base).build();
    assert_eq!(sim.now(), base);
    assert_eq!(sim.elapsed(), Duration::ZERO);
}

#[test]
fn transmit_without_destination_and_no_default_peer_is_dropped() {
    let mut sim = Sim::new(1);
    let a = sim.add_host(addr("10.0.0.1:1"), Probe::new());
    sim.endpoint_mut(a).send("nowhere");
    sim.endpoint_mut(a)
        .send_from(addr("10.9.9.9:1"), addr("10.0.0.2:1"), "spoofed");
    sim.endpoint_mut(a)
        .send_to(addr("[2001:db8::1]:1"), "wrong family");
    let _ = sim.run_for(Duration::from_secs(1));
    assert_eq!(sim.stats().sent, 3);
    assert_eq!(sim.stats().dropped(DropCause::NoRoute), 1);
    assert_eq!(sim.stats().dropped(DropCause::BadAddress), 2);
}

#[test]
fn endpoint_errors_are_counted_and_traced() {
    let mut sim = Sim::new(1);
    let start = sim.now();
    let a = sim.add_host(addr("10.0.0.1:1"), Probe::new());
    let b = sim.add_host(addr("10.0.0.2:1"), Chatter::new(3, start));
    sim.link(a, b, LinkConfig::default());
    sim.endpoint_mut(b).next = None;
    sim.endpoint_mut(a).send(vec![0xff, 1, 2]);
    sim.endpoint_mut(a).send(vec![0x01, 1, 2]);
    let _ = sim.run_for(Duration::from_secs(1));
    assert_eq!(sim.stats().rejected, 1);
    assert_eq!(sim.endpoint(b).seen, 2);
    assert!(sim
        .trace_text()
        .contains("rejected by host1: \"refusing 0xff\""));
}

/// A core whose timer never moves forward.
struct Stuck(Instant);

impl SansIo for Stuck {
    type Event = ();
    type Error = ();
    fn handle_read(&mut self, _: Instant, _: Datagram<'_>) -> Result<(), ()> {
        Ok(())
    }
    fn poll_transmit(&mut self, _: Instant, _: &mut Vec<u8>) -> Option<Transmit> {
        None
    }
    fn poll_event(&mut self) -> Option<()> {
        None
    }
    fn poll_timeout(&self) -> Option<Instant> {
        Some(self.0)
    }
    fn handle_timeout(&mut self, _: Instant) {}
}

#[test]
fn a_timer_that_never_advances_is_reported_as_stalled() {
    let mut sim = Sim::new(1);
    let t = sim.now() + Duration::from_millis(5);
    let _ = sim.add_host(addr("10.0.0.1:1"), Stuck(t));
    assert_eq!(sim.run_for(Duration::from_secs(1)), Outcome::Stalled);
    assert_eq!(sim.elapsed(), Duration::from_millis(5));
}

#[test]
fn report_names_the_seed_and_env_var() {
    let mut sim = Sim::builder(1234).exact_seed().build();
    let a = sim.add_host(addr("10.0.0.1:1"), Probe::new());
    let b = sim.add_host(addr("10.0.0.2:1"), Probe::new());
    sim.link(a, b, LinkConfig::default());
    sim.endpoint_mut(a).send("x");
    let _ = sim.run_for(Duration::from_millis(1));
    let r = sim.report();
    assert!(
        r.starts_with("rtcwire-sim: seed 1234 (replay with RTCWIRE_SIM_SEED=1234)"),
        "{r}"
    );
    assert!(r.contains("delivered to host1"), "{r}");
    assert!(sim
        .trace_text()
        .starts_with("# rtcwire-sim trace, seed 1234 (replay with RTCWIRE_SIM_SEED=1234)\n"));
    assert_eq!(sim.seed(), 1234);
}

#[test]
fn events_are_collected_and_can_be_taken() {
    let mut sim = Sim::new(1);
    let a = sim.add_host(addr("10.0.0.1:1"), Probe::new());
    let b = sim.add_host(addr("10.0.0.2:1"), Probe::new());
    sim.link(a, b, LinkConfig::default());
    for i in 0..3u8 {
        sim.endpoint_mut(a).send(vec![i]);
    }
    let _ = sim.run_for(Duration::from_millis(1));
    assert_eq!(sim.events(b).len(), 3);
    let taken = sim.take_events(b);
    assert_eq!(
        taken.iter().map(|r| r.contents[0]).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    assert!(sim.events(b).is_empty());
    assert!(sim.try_endpoint_mut::<Probe>(b.id()).is_some());
    assert!(sim.try_endpoint_mut::<Stuck>(b.id()).is_none());
}
