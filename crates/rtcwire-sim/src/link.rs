//! Links: one-way delay and jitter, a bandwidth-limited queue with tail drop, random and
//! bursty (Gilbert–Elliott) loss, duplication, reordering, MTU, and down/up.
//!
//! A link joins two attachment points and carries datagrams both ways; each direction is an
//! independent [`Channel`] with its own queue, loss state and counters.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rtcwire_proto::SeededRng;

use crate::trace::DropCause;

/// How datagrams are lost on a link, decided once per datagram after it has left the queue
/// (a lost datagram still used its share of the bandwidth).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub enum Loss {
    /// Nothing is lost.
    #[default]
    None,
    /// Each datagram is lost independently with this probability (0.0–1.0).
    Random(f64),
    /// Bursty loss: a two-state Markov chain (Gilbert–Elliott).
    GilbertElliott(GilbertElliott),
}

/// The Gilbert–Elliott loss model: a channel that is either *good* or *bad*, switching state
/// before each datagram, and losing datagrams with a per-state probability.
///
/// The long-run loss rate is `π_bad·loss_bad + (1 − π_bad)·loss_good` with
/// `π_bad = good_to_bad / (good_to_bad + bad_to_good)`; with `loss_bad = 1` and
/// `loss_good = 0` a burst lasts `1 / bad_to_good` datagrams on average.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GilbertElliott {
    /// Probability of moving from good to bad before a datagram.
    pub good_to_bad: f64,
    /// Probability of moving from bad to good before a datagram.
    pub bad_to_good: f64,
    /// Loss probability while good (often 0).
    pub loss_good: f64,
    /// Loss probability while bad (often 1).
    pub loss_bad: f64,
}

impl GilbertElliott {
    /// The classic Gilbert model: nothing lost while good, everything lost while bad.
    #[must_use]
    pub fn bursts(good_to_bad: f64, bad_to_good: f64) -> Self {
        GilbertElliott {
            good_to_bad,
            bad_to_good,
            loss_good: 0.0,
            loss_bad: 1.0,
        }
    }

    /// The long-run fraction of datagrams lost.
    #[must_use]
    pub fn mean_loss(&self) -> f64 {
        let denom = self.good_to_bad + self.bad_to_good;
        if denom <= 0.0 {
            return self.loss_good;
        }
        let pi_bad = self.good_to_bad / denom;
        pi_bad * self.loss_bad + (1.0 - pi_bad) * self.loss_good
    }
}

/// Reordering: a datagram picked with `probability` is held back `extra_delay` longer and
/// may be overtaken by later ones. Datagrams not picked keep their order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reorder {
    /// Chance that a datagram is held back (0.0–1.0).
    pub probability: f64,
    /// How much longer it is held.
    pub extra_delay: Duration,
}

/// The behaviour of one direction of a link. [`LinkConfig::default`] is a perfect link:
/// no delay, no loss, unlimited bandwidth, no MTU.
///
/// Stages, in the order a datagram meets them: link down → MTU → queue (bandwidth and tail
/// drop) → loss → delay + jitter (FIFO unless picked for reordering) → duplication.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LinkConfig {
    /// Fixed one-way propagation delay.
    pub delay: Duration,
    /// Extra delay drawn uniformly from `0..=jitter` for each datagram. Jitter never reorders
    /// datagrams by itself: a datagram never arrives before one sent earlier, unless it was
    /// picked by [`reorder`](Self::reorder).
    pub jitter: Duration,
    /// Transmission rate in bit/s (`None`: unlimited). Datagrams wait in a FIFO queue that
    /// drains at this rate; only the UDP payload counts.
    pub bandwidth_bps: Option<u64>,
    /// Queue capacity in bytes (payloads waiting or being sent); a datagram that would
    /// overflow it is dropped (tail drop). `None`: unbounded. Only meaningful with a
    /// bandwidth limit.
    pub queue_bytes: Option<usize>,
    /// How datagrams are lost.
    pub loss: Loss,
    /// Chance that a datagram is delivered twice (0.0–1.0). The copy arrives right after
    /// the original.
    pub duplicate: f64,
    /// Reordering, off when `None`.
    pub reorder: Option<Reorder>,
    /// Largest UDP payload the link carries, in bytes; larger ones are dropped and counted
    /// (no fragmentation). `None`: no limit. For an IPv4 path MTU of 1500 this is 1472.
    pub mtu: Option<usize>,
}

impl LinkConfig {
    /// A perfect link with this one-way delay.
    #[must_use]
    pub fn with_delay(delay: Duration) -> Self {
        LinkConfig {
            delay,
            ..LinkConfig::default()
        }
    }

    /// Sets the jitter.
    #[must_use]
    pub fn jitter(mut self, jitter: Duration) -> Self {
        self.jitter = jitter;
        self
    }

    /// Sets the bandwidth in bit/s and the queue capacity in bytes.
    #[must_use]
    pub fn bandwidth(mut self, bps: u64, queue_bytes: usize) -> Self {
        self.bandwidth_bps = Some(bps);
        self.queue_bytes = Some(queue_bytes);
        self
    }

    /// Sets the loss model.
    #[must_use]
    pub fn loss(mut self, loss: Loss) -> Self {
        self.loss = loss;
        self
    }

    /// Sets the duplication probability.
    #[must_use]
    pub fn duplicate(mut self, probability: f64) -> Self {
        self.duplicate = probability;
        self
    }

    /// Enables reordering.
    #[must_use]
    pub fn reorder(mut self, probability: f64, extra_delay: Duration) -> Self {
        self.reorder = Some(Reorder {
            probability,
            extra_delay,
        });
        self
    }

    /// Sets the MTU (largest UDP payload carried).
    #[must_use]
    pub fn mtu(mut self, mtu: usize) -> Self {
        self.mtu = Some(mtu);
        self
    }
}

/// Counters of one direction of a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LinkStats {
    /// Datagrams offered to this direction.
    pub offered: u64,
    /// Datagrams (and copies) that reached the far end.
    pub arrived: u64,
    /// Payload bytes that reached the far end.
    pub arrived_bytes: u64,
    /// Datagrams dropped by this direction (loss, MTU, queue, down).
    pub dropped: u64,
    /// Copies made by duplication.
    pub duplicated: u64,
}

/// Which way along a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// From the first attachment point given to [`Sim::link`](crate::Sim::link) to the second.
    Forward,
    /// From the second to the first.
    Backward,
}

impl Direction {
    pub(crate) fn index(self) -> usize {
        match self {
            Direction::Forward => 0,
            Direction::Backward => 1,
        }
    }
}

/// What the channel decided for one datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Dropped now.
    Drop(DropCause),
    /// Arrives at `at`, and a copy at `copy` if duplicated.
    Arrive { at: Instant, copy: Option<Instant> },
}

/// One direction of a link: its configuration and state.
#[derive(Debug, Clone)]
pub(crate) struct Channel {
    pub(crate) config: LinkConfig,
    pub(crate) up: bool,
    pub(crate) stats: LinkStats,
    /// When the transmitter finishes sending what is queued.
    busy_until: Option<Instant>,
    /// (finish time, size) of datagrams still in the queue, oldest first.
    queue: VecDeque<(Instant, usize)>,
    queued_bytes: usize,
    /// Gilbert–Elliott state: `true` while bad.
    bad: bool,
    /// Latest arrival scheduled for a datagram that keeps FIFO order.
    last_arrival: Option<Instant>,
}

impl Channel {
    pub(crate) fn new(config: LinkConfig) -> Self {
        Channel {
            config,
            up: true,
            stats: LinkStats::default(),
            busy_until: None,
            queue: VecDeque::new(),
            queued_bytes: 0,
            bad: false,
            last_arrival: None,
        }
    }

    /// Runs one datagram of `len` payload bytes, offered at `now`, through every stage.
    pub(crate) fn offer(&mut self, now: Instant, len: usize, rng: &mut SeededRng) -> Verdict {
        self.stats.offered += 1;
        let verdict = self.decide(now, len, rng);
        match verdict {
            Verdict::Drop(_) => self.stats.dropped += 1,
            Verdict::Arrive { copy, .. } => {
                if copy.is_some() {
                    self.stats.duplicated += 1;
                }
            }
        }
        verdict
    }

    fn decide(&mut self, now: Instant, len: usize, rng: &mut SeededRng) -> Verdict {
        if !self.up {
            return Verdict::Drop(DropCause::LinkDown);
        }
        if self.config.mtu.is_some_and(|mtu| len > mtu) {
            return Verdict::Drop(DropCause::Mtu);
        }
        let Some(sent) = self.enqueue(now, len) else {
            return Verdict::Drop(DropCause::QueueFull);
        };
        if self.lose(rng) {
            return Verdict::Drop(DropCause::Loss);
        }
        let mut at = later(
            later(sent, self.config.delay),
            uniform(rng, self.config.jitter),
        );
        let held = match self.config.reorder {
            Some(r) if chance(rng, r.probability) => Some(r.extra_delay),
            _ => None,
        };
        if let Some(extra) = held {
            at = later(at, extra);
        } else {
            if let Some(last) = self.last_arrival {
                at = at.max(last);
            }
            self.last_arrival = Some(at);
        }
        let copy = chance(rng, self.config.duplicate).then_some(at);
        Verdict::Arrive { at, copy }
    }

    /// Puts the datagram in the transmit queue; returns when it has been fully sent, or
    /// `None` when the queue is full.
    fn enqueue(&mut self, now: Instant, len: usize) -> Option<Instant> {
        let Some(bps) = self.config.bandwidth_bps.filter(|&b| b > 0) else {
            return Some(now);
        };
        while let Some(&(done, size)) = self.queue.front() {
            if done > now {
                break;
            }
            self.queue.pop_front();
            self.queued_bytes = self.queued_bytes.saturating_sub(size);
        }
        if let Some(cap) = self.config.queue_bytes {
            if self.queued_bytes.saturating_add(len) > cap {
                return None;
            }
        }
        let start = self.busy_until.map_or(now, |b| b.max(now));
        let bits = (len as u128) * 8;
        let nanos = (bits * 1_000_000_000).div_ceil(u128::from(bps));
        let done = later(
            start,
            Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX)),
        );
        self.busy_until = Some(done);
        self.queue.push_back((done, len));
        self.queued_bytes = self.queued_bytes.saturating_add(len);
        Some(done)
    }

    fn lose(&mut self, rng: &mut SeededRng) -> bool {
        match self.config.loss {
            Loss::None => false,
            Loss::Random(p) => chance(rng, p),
            Loss::GilbertElliott(ge) => {
                let flip = if self.bad {
                    ge.bad_to_good
                } else {
                    ge.good_to_bad
                };
                if chance(rng, flip) {
                    self.bad = !self.bad;
                }
                chance(rng, if self.bad { ge.loss_bad } else { ge.loss_good })
            }
        }
    }
}

/// `t + d`, saturating at about a century later instead of overflowing: a configuration
/// with absurd delays must not panic the simulator.
pub(crate) fn later(t: Instant, d: Duration) -> Instant {
    const FAR: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
    t.checked_add(d.min(FAR))
        .or_else(|| t.checked_add(Duration::from_secs(1)))
        .unwrap_or(t)
}

/// `true` with probability `p`. Draws from `rng` only when `0 < p < 1`, so a link without
/// the feature leaves the random stream untouched.
fn chance(rng: &mut SeededRng, p: f64) -> bool {
    if p <= 0.0 {
        false
    } else if p >= 1.0 {
        true
    } else {
        rng.next_f64() < p
    }
}

/// A duration drawn uniformly from `0..=max` (no draw when `max` is zero).
fn uniform(rng: &mut SeededRng, max: Duration) -> Duration {
    let n = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX);
    if n == 0 {
        return Duration::ZERO;
    }
    Duration::from_nanos(rng.next_u64() % n.saturating_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtcwire_proto::SeededRng;

    fn t0() -> Instant {
        #[allow(clippy::disallowed_methods)]
        Instant::now()
    }

    #[test]
    fn tail_drop_counts_bytes_in_service_and_waiting() {
        let now = t0();
        let mut ch = Channel::new(LinkConfig::default().bandwidth(8_000, 3_000));
        let mut rng = SeededRng::new(1);
        let verdicts: Vec<_> = (0..5).map(|_| ch.offer(now, 1_000, &mut rng)).collect();
        assert!(matches!(verdicts[2], Verdict::Arrive { .. }));
        assert_eq!(verdicts[3], Verdict::Drop(DropCause::QueueFull));
        // 1000 bytes at 8 kbit/s take one second each.
        assert_eq!(
            verdicts[2],
            Verdict::Arrive {
                at: now + Duration::from_secs(3),
                copy: None
            }
        );
        // After the first has gone, there is room for one more.
        let later = now + Duration::from_secs(1);
        assert_eq!(
            ch.offer(later, 1_000, &mut rng),
            Verdict::Arrive {
                at: now + Duration::from_secs(4),
                copy: None
            }
        );
    }

    #[test]
    fn gilbert_elliott_mean_loss_formula() {
        let ge = GilbertElliott::bursts(0.01, 0.24);
        assert!((ge.mean_loss() - 0.04).abs() < 1e-12);
    }

    #[test]
    fn absurd_delays_saturate_instead_of_overflowing() {
        let now = t0();
        let mut ch = Channel::new(LinkConfig::with_delay(Duration::MAX).jitter(Duration::MAX));
        let mut rng = SeededRng::new(1);
        match ch.offer(now, 10, &mut rng) {
            Verdict::Arrive { at, .. } => assert!(at > now + Duration::from_secs(1_000_000)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn perfect_link_draws_no_randomness() {
        let now = t0();
        let mut ch = Channel::new(LinkConfig::default());
        let mut rng = SeededRng::new(9);
        let _ = ch.offer(now, 10, &mut rng);
        assert_eq!(rng, SeededRng::new(9));
    }
}
