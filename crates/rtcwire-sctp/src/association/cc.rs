//! Congestion control: slow start with a delay-based exit (HyStart's idea), CUBIC
//! (RFC 9438) in congestion avoidance, and a loss response that tells random loss from
//! congestive loss.
//!
//! Why not plain CUBIC: on a 100 ms path with 1 % random loss, CUBIC's response function
//! (RFC 9438 §5.1, `1.054 · RTT^0.75 / p^0.75` segments, and the Reno-friendly
//! `1.22 / √p`) keeps about 6–12 segments in flight, ≈ 1 Mbit/s, whatever the link. Any
//! multiplicative decrease taken on every loss round caps it the same way, because at
//! 1 % a full 100 Mbit/s window loses about ten chunks per round trip.
//!
//! So a loss only counts as congestion when the path says so:
//! - **delay**: the smallest RTT of the current and the previous round is above the
//!   smallest RTT ever seen by more than an eighth (at least 2 ms). A bottleneck that drops
//!   because its queue is full has first filled that queue, so the RTT has grown (TCP
//!   Veno's idea: loss with an empty queue is random). A congestive loss gets CUBIC's
//!   reduction (β = 0.7, fast convergence), at most once per round trip (a loss episode,
//!   not a loss).
//! - **loss rate**: a round trip that lost more than 5 % of its chunks (and at least 3)
//!   gets the same reduction even without delay (a shallow buffer or a policer gives no
//!   delay signal; BBRv2 bounds its loss tolerance the same way, at 2 %).
//!
//! Random loss below that rate costs nothing but the retransmission. Slow start continues
//! through it and ends on the delay signal. A T3 timeout still collapses the window
//! (RFC 9260 §7.2.3).

use std::time::{Duration, Instant};

/// CUBIC's multiplicative decrease (RFC 9438 §4.6).
const BETA: f64 = 0.7;
/// CUBIC's constant C, in segments per second cubed (RFC 9438 §4.2).
const C: f64 = 0.4;
/// Reno-friendly additive increase, 3(1-β)/(1+β) (RFC 9438 §4.3).
const ALPHA: f64 = 3.0 * (1.0 - BETA) / (1.0 + BETA);
/// A round that loses more than 1/LOSS_RATE_DIV of its chunks is congested.
const LOSS_RATE_DIV: u64 = 20;
/// ... and at least this many chunks.
const LOSS_RATE_MIN: u64 = 3;

/// What one SACK did.
#[derive(Clone, Copy)]
pub(super) struct Acked {
    /// The cumulative TSN ack after it.
    pub(super) cum: u64,
    /// The next TSN to be sent.
    pub(super) next_tsn: u64,
    /// Chunks newly acknowledged (cumulatively or by gap blocks).
    pub(super) chunks: u64,
    /// Their payload bytes.
    pub(super) bytes: usize,
    /// Bytes in flight before the SACK.
    pub(super) flight_before: usize,
}

pub(super) struct Cc {
    pub(super) cwnd: usize,
    pub(super) ssthresh: usize,
    mtu: usize,
    max_cwnd: usize,
    /// Fraction of a byte of window growth not yet added.
    frac: f64,
    /// CUBIC: the window before the last reduction (bytes), the time to get back to it,
    /// the start of the current growth epoch and the Reno-friendly estimate (bytes).
    w_max: f64,
    k: f64,
    epoch: Option<Instant>,
    w_est: f64,
    pub(super) min_rtt: Option<Duration>,
    /// The current round trip ends when this TSN is cumulatively acknowledged.
    round_end: u64,
    round_rtt: Option<Duration>,
    prev_round_rtt: Option<Duration>,
    round_lost: u64,
    round_acked: u64,
    reduced_in_round: bool,
    /// After a reduction, no other until this TSN is acknowledged.
    recovery_end: Option<u64>,
    /// Highest TSN sent before the last reduction: losses at or below it (retransmissions
    /// of them included) belong to that episode.
    episode_tsn: u64,
    pub(super) random_loss_episodes: u64,
    pub(super) congestion_episodes: u64,
}

impl Cc {
    pub(super) fn new(initial: usize, mtu: usize, max_cwnd: usize) -> Self {
        Cc {
            cwnd: initial,
            ssthresh: usize::MAX,
            mtu,
            max_cwnd,
            frac: 0.0,
            w_max: 0.0,
            k: 0.0,
            epoch: None,
            w_est: 0.0,
            min_rtt: None,
            round_end: 0,
            round_rtt: None,
            prev_round_rtt: None,
            round_lost: 0,
            round_acked: 0,
            reduced_in_round: false,
            recovery_end: None,
            episode_tsn: 0,
            random_loss_episodes: 0,
            congestion_episodes: 0,
        }
    }

    pub(super) fn in_recovery(&self) -> bool {
        self.recovery_end.is_some()
    }

    pub(super) fn in_slow_start(&self) -> bool {
        self.cwnd <= self.ssthresh
    }

    /// An RTT sample (Karn: from a chunk sent once, or a heartbeat).
    pub(super) fn on_rtt(&mut self, r: Duration) {
        let min = self.min_rtt.map_or(r, |m| m.min(r));
        self.min_rtt = Some(min);
        self.round_rtt = Some(self.round_rtt.map_or(r, |m| m.min(r)));
        // Slow start ends when the path starts queueing (HyStart's delay-increase test):
        // once the RTT grows by a quarter over the smallest seen, the window has filled the
        // path, and doubling further would only overflow the bottleneck queue into a burst
        // of losses.
        if self.in_slow_start()
            && !self.in_recovery()
            && self.cwnd >= 16 * self.mtu
            && r > min + (min / 4).max(Duration::from_millis(4))
        {
            self.ssthresh = self.cwnd;
        }
    }

    /// Whether the path is queueing: the recent RTT is well above the smallest.
    fn queueing(&self) -> bool {
        let (Some(min), Some(recent)) = (
            self.min_rtt,
            match (self.round_rtt, self.prev_round_rtt) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
        ) else {
            return false;
        };
        recent > min + (min / 8).max(Duration::from_millis(2))
    }

    /// `lost` chunks, the highest TSN among them `highest`, were found lost by loss
    /// detection (not T3). `next_tsn` is the next TSN to be sent.
    pub(super) fn on_loss(&mut self, lost: u64, highest: u64, next_tsn: u64) {
        if self.congestion_episodes > 0 && highest <= self.episode_tsn {
            // The tail of an episode already answered.
            return;
        }
        self.round_lost += lost;
        if self.in_recovery() {
            return;
        }
        if self.queueing() {
            self.reduce(next_tsn);
        } else {
            self.random_loss_episodes += 1;
        }
    }

    fn reduce(&mut self, next_tsn: u64) {
        let cwnd = self.cwnd as f64;
        // Fast convergence (RFC 9438 §4.7): a flow whose window shrank since the last
        // reduction leaves room to newer flows.
        self.w_max = if cwnd < self.w_max {
            cwnd * (1.0 + BETA) / 2.0
        } else {
            cwnd
        };
        self.ssthresh = ((cwnd * BETA) as usize).max(4 * self.mtu);
        self.cwnd = self.ssthresh;
        self.epoch = None;
        self.frac = 0.0;
        self.recovery_end = Some(next_tsn.saturating_sub(1));
        self.episode_tsn = next_tsn.saturating_sub(1);
        self.reduced_in_round = true;
        self.congestion_episodes += 1;
    }

    /// T3-rtx expired (RFC 9260 §7.2.3, RFC 9438 §4.8).
    pub(super) fn on_timeout(&mut self, next_tsn: u64) {
        let cwnd = self.cwnd as f64;
        self.w_max = cwnd;
        self.ssthresh = ((cwnd * BETA) as usize).max(4 * self.mtu);
        self.cwnd = self.mtu;
        self.epoch = None;
        self.frac = 0.0;
        self.recovery_end = None;
        self.episode_tsn = next_tsn.saturating_sub(1);
        self.congestion_episodes += 1;
    }

    /// A SACK was processed (see [`Acked`]); `srtt` is the smoothed RTT.
    pub(super) fn on_ack(&mut self, now: Instant, a: &Acked, srtt: Option<Duration>) {
        let Acked {
            cum,
            next_tsn,
            chunks,
            bytes,
            flight_before,
        } = *a;
        self.round_acked += chunks;
        if self.recovery_end.is_some_and(|e| cum >= e) {
            self.recovery_end = None;
        }
        if cum >= self.round_end {
            self.end_round(next_tsn);
        }
        if bytes == 0 || self.in_recovery() {
            return;
        }
        // Only a window that is used grows (RFC 9260 §7.2.1, RFC 9438 §4.2).
        if flight_before + self.mtu < self.cwnd {
            return;
        }
        if self.in_slow_start() {
            self.cwnd += bytes.min(self.mtu);
        } else {
            self.cubic(now, bytes, srtt);
        }
        self.cwnd = self.cwnd.min(self.max_cwnd);
    }

    fn end_round(&mut self, next_tsn: u64) {
        let total = self.round_lost + self.round_acked;
        if !self.reduced_in_round
            && self.round_lost >= LOSS_RATE_MIN
            && self.round_lost * LOSS_RATE_DIV > total
        {
            self.reduce(next_tsn);
        }
        self.prev_round_rtt = self.round_rtt.take();
        self.round_lost = 0;
        self.round_acked = 0;
        self.reduced_in_round = false;
        self.round_end = next_tsn.saturating_sub(1);
    }

    /// Congestion avoidance (RFC 9438 §4.2–4.4), per SACK.
    fn cubic(&mut self, now: Instant, bytes: usize, srtt: Option<Duration>) {
        let mtu = self.mtu as f64;
        let cwnd = self.cwnd as f64;
        let epoch = match self.epoch {
            Some(e) => e,
            None => {
                self.epoch = Some(now);
                if cwnd < self.w_max {
                    self.k = ((self.w_max - cwnd) / mtu / C).cbrt();
                } else {
                    self.k = 0.0;
                    self.w_max = cwnd;
                }
                self.w_est = cwnd;
                now
            }
        };
        let t = now.saturating_duration_since(epoch).as_secs_f64();
        let rtt = srtt.map_or(0.0, |d| d.as_secs_f64());
        let w_cubic = |t: f64| (C * (t - self.k).powi(3)) * mtu + self.w_max;
        let target = w_cubic(t + rtt).clamp(cwnd, 1.5 * cwnd);
        self.w_est += ALPHA * (bytes as f64 / cwnd) * mtu;
        let grow = if w_cubic(t) < self.w_est {
            (self.w_est - cwnd).max(0.0)
        } else {
            (target - cwnd) * (bytes as f64 / cwnd)
        };
        self.frac += grow;
        let whole = self.frac.floor();
        self.frac -= whole;
        self.cwnd += whole as usize;
    }
}
