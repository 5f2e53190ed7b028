//! The driver: timers fire exactly when cores ask, time jumps straight to the next thing,
//! handshakes survive loss through retransmission, links change mid-run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rtcwire_proto::{Datagram, SansIo, Transmit};
use rtcwire_sim::{Direction, DropCause, LinkConfig, Loss, Outcome, Outgoing, Probe, Sim};

/// Lends a queued datagram to the simulator the v2 way: bytes into its buffer.
fn send(o: Outgoing, buf: &mut Vec<u8>) -> Option<Transmit> {
    buf.extend_from_slice(&o.contents);
    Some(Transmit {
        source: o.source,
        destination: o.destination,
        ..Transmit::on_path(o.contents.len())
    })
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// A DTLS-like flight: sends "hello" without addresses and retransmits with exponential
/// backoff (1 s, 2 s, 4 s, ...) until it hears anything back.
struct Flight {
    rto: Duration,
    next: Option<Instant>,
    out: VecDeque<Outgoing>,
    sent_at: Vec<Instant>,
    done: bool,
}

#[derive(Debug, PartialEq)]
enum FlightEvent {
    Answered,
}

impl Flight {
    fn new(start: Instant) -> Self {
        Flight {
            rto: Duration::from_secs(1),
            next: Some(start),
            out: VecDeque::new(),
            sent_at: Vec::new(),
            done: false,
        }
    }
}

impl SansIo for Flight {
    type Event = FlightEvent;
    type Error = std::convert::Infallible;
    fn handle_read(&mut self, _: Instant, _: Datagram<'_>) -> Result<(), Self::Error> {
        self.done = true;
        self.next = None;
        Ok(())
    }
    fn poll_transmit(&mut self, _: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
        send(self.out.pop_front()?, buf)
    }
    fn poll_event(&mut self) -> Option<FlightEvent> {
        // Reported once.
        std::mem::take(&mut self.done).then_some(FlightEvent::Answered)
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.next
    }
    fn handle_timeout(&mut self, now: Instant) {
        let Some(t) = self.next.filter(|t| *t <= now) else {
            return;
        };
        assert_eq!(t, now, "the simulator fires timers exactly on time");
        self.out.push_back(Outgoing {
            source: None,
            destination: None,
            contents: b"hello".to_vec(),
        });
        self.sent_at.push(now);
        self.next = Some(now + self.rto);
        self.rto *= 2;
    }
}

#[test]
fn retransmission_timers_fire_exactly_and_time_jumps() {
    let mut sim = Sim::new(1);
    let start = sim.now();
    let a = sim.add_host(addr("10.0.0.1:1"), Flight::new(start));
    let b = sim.add_host(addr("10.0.0.2:1"), Probe::echo());
    let link = sim.link(a, b, LinkConfig::with_delay(Duration::from_millis(50)));
    // The first three flights are lost; the link comes back after 5 s.
    sim.set_link_up(link, false);
    let _ = sim.run_for(Duration::from_secs(5));
    sim.set_link_up(link, true);
    let out = sim.run_until(|s| !s.events(a).is_empty(), Duration::from_secs(60));
    assert!(out.is_done(), "{}", sim.report());
    let offsets: Vec<u64> = sim
        .endpoint(a)
        .sent_at
        .iter()
        .map(|t| (*t - start).as_millis() as u64)
        .collect();
    // Sent at 0, 1, 3 s (lost), then 7 s (answered 100 ms later).
    assert_eq!(offsets, [0, 1_000, 3_000, 7_000]);
    assert_eq!(sim.elapsed(), Duration::from_millis(7_100));
    assert_eq!(sim.events(a), [FlightEvent::Answered]);
    assert_eq!(sim.stats().dropped(DropCause::LinkDown), 3);
    // Four timer calls, not thousands of polling steps.
    assert_eq!(sim.stats().timeouts, 4);
}

#[test]
fn a_condition_that_already_holds_returns_at_once() {
    let mut sim = Sim::new(1);
    let start = sim.now();
    let _a = sim.add_host(addr("10.0.0.1:1"), Flight::new(start));
    let out = sim.run_until(|_| true, Duration::from_secs(60));
    assert_eq!(out, Outcome::Done);
    assert_eq!(sim.now(), start);
    assert_eq!(sim.stats().timeouts, 0);
}

#[test]
fn jitter_stays_within_its_bounds() {
    let mut sim = Sim::builder(21).exact_seed().build();
    let a = sim.add_host(addr("10.0.0.1:1"), Probe::new());
    let b = sim.add_host(addr("10.0.0.2:1"), Probe::new());
    let delay = Duration::from_millis(40);
    let jitter = Duration::from_millis(20);
    sim.link(a, b, LinkConfig::with_delay(delay).jitter(jitter));
    let start = sim.now();
    // Spaced wider than the jitter, so FIFO never holds one back.
    for i in 0..500u32 {
        let t = Outgoing {
            source: None,
            destination: None,
            contents: i.to_be_bytes().to_vec(),
        };
        sim.endpoint_mut(a)
            .send_at(start + Duration::from_millis(100) * i, t);
    }
    let _ = sim.run_for(Duration::from_secs(60));
    let extra: Vec<Duration> = sim
        .events(b)
        .iter()
        .map(|r| {
            let i = u32::from_be_bytes(r.contents[..4].try_into().unwrap());
            r.at - (start + Duration::from_millis(100) * i) - delay
        })
        .collect();
    assert_eq!(extra.len(), 500);
    assert!(extra.iter().all(|e| *e <= jitter));
    // Uniform over 0..=20 ms: both halves well used.
    let low = extra.iter().filter(|e| **e < jitter / 2).count();
    assert!((200..=300).contains(&low), "{low}");
}

#[test]
fn link_configuration_can_change_mid_run_per_direction() {
    let mut sim = Sim::new(1);
    let a = sim.add_host(addr("10.0.0.1:1"), Probe::new());
    let b = sim.add_host(addr("10.0.0.2:1"), Probe::new());
    let link = sim.link(a, b, LinkConfig::with_delay(Duration::from_millis(10)));
    sim.endpoint_mut(a).send("before");
    sim.endpoint_mut(b).send("before");
    let _ = sim.run_for(Duration::from_secs(1));
    // A one-way outage: everything from a to b is lost; b to a slows down.
    sim.link_config_mut(link, Direction::Forward).loss = Loss::Random(1.0);
    sim.link_config_mut(link, Direction::Backward).delay = Duration::from_millis(300);
    sim.endpoint_mut(a).send("after");
    sim.endpoint_mut(b).send("after");
    let _ = sim.run_for(Duration::from_secs(1));
    assert_eq!(sim.events(b).len(), 1);
    let at_a: Vec<Duration> = sim.events(a).iter().map(|r| r.at - sim.start()).collect();
    assert_eq!(
        at_a,
        [Duration::from_millis(10), Duration::from_millis(1_300)]
    );
    assert_eq!(sim.link_stats(link, Direction::Forward).dropped, 1);
    assert_eq!(sim.link_stats(link, Direction::Backward).dropped, 0);
}

/// Sends every datagram straight back, and records nothing.
struct Bouncer(VecDeque<Outgoing>);

impl SansIo for Bouncer {
    type Event = ();
    type Error = ();
    fn handle_read(&mut self, _: Instant, d: Datagram<'_>) -> Result<(), ()> {
        self.0.push_back(Outgoing {
            source: None,
            destination: d.source,
            contents: d.contents.to_vec(),
        });
        Ok(())
    }
    fn poll_transmit(&mut self, _: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
        send(self.0.pop_front()?, buf)
    }
    fn poll_event(&mut self) -> Option<()> {
        None
    }
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
    fn handle_timeout(&mut self, _: Instant) {}
}

#[test]
fn zero_delay_ping_pong_is_reported_as_stalled() {
    let mut sim = Sim::builder(1).trace_limit(100).build();
    let a = sim.add_host(addr("10.0.0.1:1"), Bouncer(VecDeque::new()));
    let b = sim.add_host(addr("10.0.0.2:1"), Bouncer(VecDeque::new()));
    sim.link(a, b, LinkConfig::default());
    sim.endpoint_mut(a).0.push_back(Outgoing {
        source: None,
        destination: None,
        contents: b"forever".to_vec(),
    });
    assert_eq!(sim.run_for(Duration::from_secs(1)), Outcome::Stalled);
    assert_eq!(sim.elapsed(), Duration::ZERO);
    assert!(sim.stats().delivered > 999_000);
}

#[test]
fn an_endpoint_taken_out_keeps_its_state_and_its_host_refuses_what_arrives() {
    let mut sim = Sim::new(1);
    let a = sim.add_host(addr("10.0.0.1:1"), Probe::new());
    let b = sim.add_host(addr("10.0.0.2:1"), Probe::new());
    sim.link(a, b, LinkConfig::with_delay(Duration::from_millis(5)));
    sim.endpoint_mut(a).send("one");
    let _ = sim.run_for(Duration::from_secs(1));
    let (probe, events) = sim.take_endpoint(b).expect("b's probe");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].contents, b"one");
    assert_eq!(probe.pending(), 0);
    assert!(sim.take_endpoint(b).is_none(), "taken once");
    sim.endpoint_mut(a).send("two");
    let _ = sim.run_for(Duration::from_secs(1));
    assert_eq!(
        sim.stats().rejected,
        1,
        "the emptied host refuses the datagram"
    );
}
