//! Congestion control and loss recovery on rtcwire-sim: a bottleneck with a tail-drop queue
//! of one bandwidth-delay product. Random loss keeps most of the link (it is told apart from
//! congestive loss by the queueing delay); queue overflow is answered as congestion; two
//! flows sharing the bottleneck converge to fair shares; a lost tail is repaired by a
//! probe (TLP) before T3.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    clippy::disallowed_methods
)]

mod common;

use std::time::{Duration, Instant};

use bytes::Bytes;
use common::pair::{messages, pair};
use common::Link;
use rtcwire_proto::{Datagram, SansIo, SeededRng, Transmit};
use rtcwire_sctp::{Association, Config, Event, SendOptions};
use rtcwire_sim::{Direction, LinkConfig, LinkId, Loss, Sim};

const MESSAGE: usize = 64 * 1024;

fn config(port: u16) -> Config {
    Config {
        local_port: port,
        remote_port: port,
        max_message_size: 1 << 20,
        remote_max_message_size: 1 << 20,
        receive_window: 16 << 20,
        ..Config::default()
    }
}

/// One association: the sender keeps 1 MiB queued once `start` has passed; the receiver
/// counts delivered bytes.
struct Flow {
    assoc: Association,
    sender: bool,
    start: Instant,
    delivered: u64,
    payload: Bytes,
}

impl Flow {
    fn new(port: u16, seed: u64, sender: bool, now: Instant, start: Instant) -> Self {
        Flow {
            assoc: Association::new(config(port), Box::new(SeededRng::new(seed)), now).unwrap(),
            sender,
            start,
            delivered: 0,
            payload: Bytes::from(vec![0x5a; MESSAGE]),
        }
    }

    fn fill(&mut self, now: Instant) {
        if self.sender && now >= self.start && self.assoc.is_established() {
            while self.assoc.total_buffered_amount() < 1 << 20 {
                if self
                    .assoc
                    .send(now, 1, 53, self.payload.clone(), SendOptions::default())
                    .is_err()
                {
                    break;
                }
            }
        }
    }

    fn take_events(&mut self) {
        while let Some(e) = self.assoc.poll_event() {
            if let Event::Message(m) = e {
                self.delivered += m.data.len() as u64;
            }
        }
    }
}

/// The associations of one host, told apart by SCTP port (bytes 2..4 of the packet).
struct Flows(Vec<Flow>);

impl SansIo for Flows {
    type Event = ();
    type Error = rtcwire_sctp::Error;
    fn handle_read(&mut self, now: Instant, d: Datagram<'_>) -> Result<(), Self::Error> {
        let port = d
            .contents
            .get(2..4)
            .map(|p| u16::from_be_bytes([p[0], p[1]]));
        match self
            .0
            .iter_mut()
            .find(|f| Some(f.assoc.config().local_port) == port)
        {
            Some(f) => f.assoc.handle_read(now, d),
            None => Err(rtcwire_sctp::Error::WrongPort),
        }
    }
    fn poll_transmit(&mut self, now: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
        // Round robin would be fairer per call; the queue decides the shares anyway.
        for f in &mut self.0 {
            f.fill(now);
            if let Some(t) = f.assoc.poll_transmit(now, buf) {
                return Some(t);
            }
        }
        None
    }
    fn poll_event(&mut self) -> Option<()> {
        for f in &mut self.0 {
            f.take_events();
        }
        None
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.0.iter().filter_map(|f| f.assoc.poll_timeout()).min()
    }
    fn handle_timeout(&mut self, now: Instant) {
        for f in &mut self.0 {
            if f.assoc.poll_timeout().is_some_and(|t| t <= now) {
                f.assoc.handle_timeout(now);
            }
        }
    }
}

struct Bottleneck {
    sim: Sim,
    a: rtcwire_sim::Host<Flows>,
    b: rtcwire_sim::Host<Flows>,
    link: LinkId,
}

/// `flows` flows from A to B over one bottleneck of `mbps` with a one-BDP queue; flow `i`
/// starts sending `i * stagger` after setup.
fn bottleneck(mbps: u64, rtt_ms: u64, loss: f64, flows: u16, stagger: Duration) -> Bottleneck {
    let mut sim = Sim::builder(7).exact_seed().build();
    let now = sim.now();
    let bdp = (mbps * 1_000_000 / 8 * rtt_ms / 1000) as usize;
    let start = |i: u16| now + stagger * u32::from(i);
    let senders = (0..flows)
        .map(|i| Flow::new(5000 + i, u64::from(i) + 1, true, now, start(i)))
        .collect();
    let receivers = (0..flows)
        .map(|i| Flow::new(5000 + i, u64::from(i) + 100, false, now, now))
        .collect();
    let a = sim.add_host("10.0.0.1:5000".parse().unwrap(), Flows(senders));
    let b = sim.add_host("10.0.0.2:5000".parse().unwrap(), Flows(receivers));
    let cfg = LinkConfig::with_delay(Duration::from_millis(rtt_ms / 2))
        .bandwidth(mbps * 1_000_000, bdp.max(64 * 1024))
        .loss(if loss > 0.0 {
            Loss::Random(loss)
        } else {
            Loss::None
        });
    let link = sim.link(a, b, cfg);
    for f in &mut sim.endpoint_mut(a).0 {
        f.assoc.connect(now).unwrap();
    }
    let out = sim.run_until(
        |s| s.endpoint(a).0.iter().all(|f| f.assoc.is_established()),
        Duration::from_secs(10),
    );
    assert!(out.is_done(), "{out}");
    // Restart the staggering from setup.
    let now = sim.now();
    for (i, f) in sim.endpoint_mut(a).0.iter_mut().enumerate() {
        f.start = now + stagger * i as u32;
    }
    Bottleneck { sim, a, b, link }
}

impl Bottleneck {
    /// Runs for `d`; Mbit/s delivered per flow in that time.
    fn run(&mut self, d: Duration) -> Vec<f64> {
        let before: Vec<u64> = self
            .sim
            .endpoint(self.b)
            .0
            .iter()
            .map(|f| f.delivered)
            .collect();
        let _ = self.sim.run_for(d);
        self.sim
            .endpoint(self.b)
            .0
            .iter()
            .zip(before)
            .map(|(f, b)| (f.delivered - b) as f64 * 8.0 / d.as_secs_f64() / 1e6)
            .collect()
    }

    fn stats(&self, i: usize) -> rtcwire_sctp::Stats {
        self.sim.endpoint(self.a).0[i].assoc.stats()
    }
}

#[test]
fn one_percent_random_loss_keeps_most_of_the_link() {
    // 20 Mbit/s, 100 ms: the Reno bound at 1 % loss is ≈ 1.2 Mbit/s, plain CUBIC's about
    // the same (RFC 9438 §5.1). The goal of issue 12 is half the link.
    let mut n = bottleneck(20, 100, 0.01, 1, Duration::ZERO);
    let _ = n.run(Duration::from_secs(5));
    let rate = n.run(Duration::from_secs(15))[0];
    let st = n.stats(0);
    assert!(rate >= 10.0, "{rate:.1} Mbit/s of 20: {st:?}");
    assert!(st.random_loss_episodes > 10, "{st:?}");
    assert!(st.fast_retransmits > 10 && st.t3_expiries == 0, "{st:?}");
}

#[test]
fn heavy_random_loss_is_answered_as_congestion() {
    // 8 % loss is no longer "random" in the controller's sense (above 5 % a round): the
    // window comes down although the queue is empty.
    let mut n = bottleneck(20, 50, 0.08, 1, Duration::ZERO);
    let rate = n.run(Duration::from_secs(10))[0];
    let st = n.stats(0);
    assert!(st.congestion_episodes > 5, "{rate:.1} Mbit/s {st:?}");
    assert!(rate > 0.5, "{rate:.1} Mbit/s {st:?}");
}

#[test]
fn queue_overflow_is_answered_as_congestion() {
    // No random loss: every loss is the queue overflowing, after the RTT grew, so every
    // loss episode reduces the window and none is taken as random.
    let mut n = bottleneck(20, 20, 0.0, 1, Duration::ZERO);
    let rate = n.run(Duration::from_secs(30))[0];
    let st = n.stats(0);
    let drops = n.sim.link_stats(n.link, Direction::Forward).dropped;
    assert!(drops > 0, "the queue never overflowed: {st:?}");
    assert!(st.congestion_episodes > 0, "{st:?}");
    assert_eq!(st.random_loss_episodes, 0, "{st:?}");
    assert!(rate > 18.0, "{rate:.1} Mbit/s of 20: {st:?}");
}

#[test]
fn two_flows_converge_to_fair_shares() {
    // The second flow starts 5 s after the first, which by then holds the whole link.
    let mut n = bottleneck(20, 40, 0.0, 2, Duration::from_secs(5));
    let _ = n.run(Duration::from_secs(35));
    let r = n.run(Duration::from_secs(25));
    let (s0, s1) = (n.stats(0), n.stats(1));
    let total = r[0] + r[1];
    let jain = total * total / (2.0 * (r[0] * r[0] + r[1] * r[1]));
    assert!(total > 18.0, "{r:?} {s0:?} {s1:?}");
    assert!(jain > 0.95, "Jain index {jain:.3}: {r:?} {s0:?} {s1:?}");
}

#[test]
fn two_flows_with_random_loss_share_fairly() {
    // Random loss and a shared queue: both flows see the same delay signal.
    let mut n = bottleneck(20, 40, 0.01, 2, Duration::from_secs(5));
    let _ = n.run(Duration::from_secs(35));
    let r = n.run(Duration::from_secs(25));
    let total = r[0] + r[1];
    let jain = total * total / (2.0 * (r[0] * r[0] + r[1] * r[1]));
    assert!(total > 10.0, "{r:?}");
    assert!(jain > 0.9, "Jain index {jain:.3}: {r:?}");
}

#[test]
fn lost_tail_is_repaired_by_a_probe_before_t3() {
    // 10 ms each way: PTO = 2·SRTT + delayed ack ≈ 240 ms, before RTO.Min (400 ms).
    let mut net = pair(Link::clean(10), 1);
    // Measure the RTT: packets in pairs are acknowledged at once (no delayed SACK).
    for _ in 0..40 {
        net.a
            .send(net.now, 1, 51, vec![1u8; 1000], SendOptions::default())
            .unwrap();
    }
    assert!(
        net.run_until(Duration::from_secs(5), |n| messages(&n.b_events).len()
            == 40)
    );
    assert!(net.run_until(Duration::from_secs(5), |n| n.a.stats().flight == 0));
    let srtt = net.a.stats().srtt.unwrap();
    assert!(srtt < Duration::from_millis(60), "{srtt:?}");
    // The only packet of the next message is lost: nothing behind it can reveal the loss.
    net.a_to_b.up = false;
    let sent = net.now;
    net.a
        .send(net.now, 1, 51, vec![2u8; 100], SendOptions::default())
        .unwrap();
    net.drain();
    net.a_to_b.up = true;
    assert_eq!(net.lost, 1);
    assert!(
        net.run_until(Duration::from_secs(5), |n| messages(&n.b_events).len()
            == 41)
    );
    let st = net.a.stats();
    assert!(
        net.now - sent < Duration::from_millis(400),
        "{:?}",
        net.now - sent
    );
    assert_eq!(st.t3_expiries, 0, "{st:?}");
    assert_eq!(st.tail_loss_probes, 1, "{st:?}");
    assert_eq!(st.retransmissions, 1, "{st:?}");
    assert_eq!(messages(&net.b_events)[40].data[..], [2u8; 100][..]);
}

#[test]
fn lost_retransmission_is_found_without_t3() {
    // Under steady random loss some retransmissions are lost too; RACK times them like first
    // transmissions, so none waits for T3.
    let mut n = bottleneck(20, 60, 0.03, 1, Duration::ZERO);
    let rate = n.run(Duration::from_secs(20))[0];
    let st = n.stats(0);
    assert!(st.retransmissions > 300, "{st:?}");
    assert_eq!(st.t3_expiries, 0, "{rate:.1} Mbit/s {st:?}");
}
