//! A small deterministic two-party network for the association tests: a virtual clock that
//! jumps to the next arrival or timer, seeded loss, duplication, delay and jitter (which
//! reorders). Independent of rtcwire-sim so that it can also drive dcsctp.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

pub mod dc;
pub mod dc_interop;
pub mod pair;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

use rtcwire_proto::{Datagram, SansIo, SeededRng};
use rtcwire_sctp::{Association, Config};

/// One direction of the link.
#[derive(Debug, Clone, Copy)]
pub struct Link {
    pub delay: Duration,
    pub jitter: Duration,
    pub loss: f64,
    pub duplicate: f64,
    pub up: bool,
}

impl Link {
    pub fn clean(delay_ms: u64) -> Self {
        Link {
            delay: Duration::from_millis(delay_ms),
            jitter: Duration::ZERO,
            loss: 0.0,
            duplicate: 0.0,
            up: true,
        }
    }

    pub fn lossy(delay_ms: u64, loss: f64) -> Self {
        Link {
            jitter: Duration::from_millis(delay_ms / 2),
            loss,
            duplicate: loss / 2.0,
            ..Self::clean(delay_ms)
        }
    }
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct InFlight {
    at: Instant,
    seq: u64,
    to_b: bool,
    bytes: Vec<u8>,
}

pub struct Net<A: SansIo, B: SansIo> {
    pub a: A,
    pub b: B,
    pub now: Instant,
    pub start: Instant,
    pub a_to_b: Link,
    pub b_to_a: Link,
    pub a_events: Vec<A::Event>,
    pub b_events: Vec<B::Event>,
    pub delivered: u64,
    pub lost: u64,
    pub refused: u64,
    pub last_refusal: Option<String>,
    pub trace: bool,
    /// Packets sent with a zero checksum field (to B, to A).
    pub zero_checksums: (u64, u64),
    pub trace_lines: Vec<String>,
    rng: SeededRng,
    queue: BinaryHeap<Reverse<InFlight>>,
    seq: u64,
    buf: Vec<u8>,
}

pub fn start_instant() -> Instant {
    // Tests' virtual clocks start at one real reading; nothing sleeps.
    #[allow(clippy::disallowed_methods)]
    Instant::now()
}

pub fn assoc(config: Config, seed: u64, now: Instant) -> Association {
    Association::new(config, Box::new(SeededRng::derived(seed, "sctp")), now).unwrap()
}

impl<A, B> Net<A, B>
where
    A: SansIo,
    B: SansIo,
    A::Error: std::fmt::Debug,
    B::Error: std::fmt::Debug,
{
    pub fn new(a: A, b: B, now: Instant, link: Link, seed: u64) -> Self {
        Net {
            a,
            b,
            now,
            start: now,
            a_to_b: link,
            b_to_a: link,
            a_events: Vec::new(),
            b_events: Vec::new(),
            delivered: 0,
            lost: 0,
            refused: 0,
            last_refusal: None,
            trace: false,
            zero_checksums: (0, 0),
            trace_lines: Vec::new(),
            // SCTP_SEED_OFFSET=n replays every scenario on other seeds.
            rng: SeededRng::new(
                seed.wrapping_add(
                    std::env::var("SCTP_SEED_OFFSET")
                        .ok()
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0),
                ),
            ),
            queue: BinaryHeap::new(),
            seq: 0,
            buf: Vec::with_capacity(2048),
        }
    }

    pub fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    fn send(&mut self, to_b: bool, bytes: Vec<u8>) {
        let link = if to_b { self.a_to_b } else { self.b_to_a };
        if bytes.len() >= 12 && bytes[8..12] == [0, 0, 0, 0] {
            if to_b {
                self.zero_checksums.0 += 1;
            } else {
                self.zero_checksums.1 += 1;
            }
        }
        if self.trace {
            self.trace_lines.push(format!(
                "{:?} {} {}",
                self.now - self.start,
                if to_b { "A>B" } else { "B>A" },
                describe(&bytes)
            ));
        }
        if !link.up || self.rng.next_f64() < link.loss {
            self.lost += 1;
            return;
        }
        let copies = if self.rng.next_f64() < link.duplicate {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let jitter = if link.jitter.is_zero() {
                Duration::ZERO
            } else {
                link.jitter.mul_f64(self.rng.next_f64())
            };
            self.seq += 1;
            self.queue.push(Reverse(InFlight {
                at: self.now + link.delay + jitter,
                seq: self.seq,
                to_b,
                bytes: bytes.clone(),
            }));
        }
    }

    /// Drains both sides' transmits and events.
    pub fn drain(&mut self) {
        for _ in 0..100_000 {
            let mut any = false;
            self.buf.clear();
            if let Some(t) = self.a.poll_transmit(self.now, &mut self.buf) {
                assert_eq!(t.size, self.buf.len());
                let b = self.buf.clone();
                self.send(true, b);
                any = true;
            }
            self.buf.clear();
            if let Some(t) = self.b.poll_transmit(self.now, &mut self.buf) {
                assert_eq!(t.size, self.buf.len());
                let b = self.buf.clone();
                self.send(false, b);
                any = true;
            }
            while let Some(e) = self.a.poll_event() {
                self.a_events.push(e);
                any = true;
            }
            while let Some(e) = self.b.poll_event() {
                self.b_events.push(e);
                any = true;
            }
            if !any {
                return;
            }
        }
        panic!("drain did not settle");
    }

    /// One step: drain, then the next arrival or timer. False when nothing is left.
    pub fn step(&mut self) -> bool {
        self.drain();
        let arrival = self.queue.peek().map(|r| r.0.at);
        let timer = [self.a.poll_timeout(), self.b.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        let next = match (arrival, timer) {
            (None, None) => return false,
            (Some(a), Some(t)) => a.min(t),
            (Some(a), None) => a,
            (None, Some(t)) => t,
        };
        self.now = self.now.max(next);
        if arrival.is_some_and(|a| a <= self.now) {
            if let Some(Reverse(p)) = self.queue.pop() {
                let r = if p.to_b {
                    self.b
                        .handle_read(self.now, Datagram::on_path(&p.bytes))
                        .map_err(|e| format!("{e:?}"))
                } else {
                    self.a
                        .handle_read(self.now, Datagram::on_path(&p.bytes))
                        .map_err(|e| format!("{e:?}"))
                };
                self.delivered += 1;
                if let Err(e) = r {
                    self.refused += 1;
                    self.last_refusal = Some(e);
                }
            }
        } else {
            if self.a.poll_timeout().is_some_and(|t| t <= self.now) {
                self.a.handle_timeout(self.now);
            }
            if self.b.poll_timeout().is_some_and(|t| t <= self.now) {
                self.b.handle_timeout(self.now);
            }
        }
        true
    }

    /// Runs until `done` or `limit` of virtual time; true if `done` held.
    pub fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&mut Self) -> bool) -> bool {
        let end = self.now + limit;
        for _ in 0..50_000_000u64 {
            self.drain();
            if done(self) {
                return true;
            }
            if self.now > end || !self.step() {
                return done(self);
            }
        }
        false
    }
}

/// One line per packet: its chunks, briefly.
pub fn describe(bytes: &[u8]) -> String {
    use rtcwire_sctp::wire::{Chunk, Packet};
    let Ok(p) = Packet::parse(bytes) else {
        return "unparsable".into();
    };
    let mut out = Vec::new();
    for raw in p.chunks().flatten() {
        out.push(match Chunk::parse(&raw) {
            Ok(Chunk::Data(d)) => format!(
                "DATA(tsn {} s{} ssn{} f{:x} {}B)",
                d.tsn,
                d.stream,
                d.ssn,
                d.flags,
                d.payload.len()
            ),
            Ok(Chunk::Sack(s)) => format!(
                "SACK(cum {} gaps {:?} dups {:?})",
                s.cumulative_tsn_ack, s.gap_blocks, s.duplicate_tsns
            ),
            Ok(Chunk::ForwardTsn(f)) => format!("FWD({} {:?})", f.new_cumulative_tsn, f.streams),
            Ok(c) => format!("{:?}", c).chars().take(60).collect(),
            Err(e) => format!("ERR {e}"),
        });
    }
    out.join(" ")
}
