//! The send-side bandwidth estimate from transport-wide feedback (transport-cc,
//! draft-holmer-rmcat-transport-wide-cc-extensions): what a browser that negotiated
//! transport-cc expects its peer to compute, since it then sends no REMB.
//!
//! Every video or audio packet we send carries a transport-wide sequence number; we keep
//! its send time and size. Each feedback says which of them arrived and when (in the
//! receiver's clock). From that, per update (at most one per [`MIN_INTERVAL`]):
//!
//! - the **acknowledged rate**: bytes of the packets reported received over the span of
//!   their arrival times, over this update's span (at least [`MIN_INTERVAL`]) and the
//!   previous one's;
//! - the **loss**: packets reported lost over packets reported, since the last update;
//! - the **queueing delay**: a packet's one-way delay (arrival − send, the two clocks'
//!   offset included) less the smallest one-way delay of the last 10 s (two 5 s buckets),
//!   which is that offset plus the path's own delay. A growing queue is what a link at
//!   capacity shows before it drops anything.
//!
//! The estimate then moves as the receive side's REMB estimate does with loss
//! (`bwe::next_estimate`: down to `rate × (1 − loss/2)` above 10 %, up 8 % below 2 %,
//! never far above what is used), and besides, when the queueing delay passes
//! [`OVERUSE_DELAY`], it drops to 85 % of the acknowledged rate, and it may not grow while
//! the queue is over [`GROW_DELAY`]. It starts at 300 kbit/s with the first feedback.

use std::time::{Duration, Instant};

use rtcwire_rtp::rtcp::{PacketStatus, TransportFeedback};

use super::bwe::{next_estimate, MAX_BITRATE, MIN_BITRATE};

/// Packets remembered (their transport-wide sequence number modulo this): half a second
/// of 20 Mbit/s video, far more than one feedback interval (~100 ms).
const HISTORY: usize = 1024;
/// Shortest interval between two updates, and shortest arrival span of one update. The
/// rate is taken over the spans of the last two updates (at least 400 ms: long enough
/// that one keyframe does not make it, for video at 30 frames a second with a keyframe a
/// second).
pub(crate) const MIN_INTERVAL: Duration = Duration::from_millis(200);
/// Queueing delay above which the link is taken to be overused.
pub(crate) const OVERUSE_DELAY: Duration = Duration::from_millis(40);
/// Queueing delay above which the estimate does not grow.
pub(crate) const GROW_DELAY: Duration = Duration::from_millis(15);
/// Each of the two buckets the smallest one-way delay is kept in.
const BASE_BUCKET: Duration = Duration::from_secs(5);

/// One packet sent: its sequence number (to tell it from an older one in its slot), size,
/// and send time in microseconds since the estimator's epoch (wraps after 71 minutes:
/// only differences of recent packets are taken).
#[derive(Debug, Clone, Copy, Default)]
struct Sent {
    seq: u16,
    size: u16,
    at_us: u32,
    valid: bool,
}

/// The send-side estimator.
#[derive(Debug)]
pub(crate) struct SendEstimator {
    epoch: Instant,
    history: Box<[Sent; HISTORY]>,
    /// Current estimate, bit/s (0 before any feedback).
    estimate: u64,
    /// Received bytes and the arrival span (µs, receiver's clock) they came over.
    acked_bytes: u64,
    acked_first: Option<i64>,
    acked_last: i64,
    /// The previous update's bytes and arrival span (µs).
    prev_bytes: u64,
    prev_span_us: u64,
    /// The last acknowledged rate measured, bit/s.
    pub(crate) acked_rate: u64,
    /// Packets reported lost and received since the last update.
    lost: u64,
    received: u64,
    last_update: Option<Instant>,
    /// Smallest one-way delay (µs) of the current and the previous bucket, and when the
    /// current one began.
    base: [Option<i64>; 2],
    bucket_start: Option<Instant>,
    /// The queueing delay of the newest packet reported, µs.
    pub(crate) queue_us: i64,
    /// Feedback packets taken, and the packets in them we had no record of.
    pub(crate) feedbacks: u64,
    pub(crate) unknown: u64,
}

impl SendEstimator {
    pub(crate) fn new(epoch: Instant) -> Self {
        SendEstimator {
            epoch,
            history: Box::new([Sent::default(); HISTORY]),
            estimate: 0,
            acked_bytes: 0,
            acked_first: None,
            acked_last: 0,
            prev_bytes: 0,
            prev_span_us: 0,
            acked_rate: 0,
            lost: 0,
            received: 0,
            last_update: None,
            base: [None, None],
            bucket_start: None,
            queue_us: 0,
            feedbacks: 0,
            unknown: 0,
        }
    }

    /// A packet with transport-wide sequence number `seq` and `size` bytes left now.
    pub(crate) fn on_sent(&mut self, now: Instant, seq: u16, size: usize) {
        let at = now.saturating_duration_since(self.epoch).as_micros() as u32;
        if let Some(slot) = self.history.get_mut(usize::from(seq) % HISTORY) {
            *slot = Sent {
                seq,
                size: u16::try_from(size).unwrap_or(u16::MAX),
                at_us: at,
                valid: true,
            };
        }
    }

    fn sent(&self, seq: u16) -> Option<Sent> {
        self.history
            .get(usize::from(seq) % HISTORY)
            .filter(|s| s.valid && s.seq == seq)
            .copied()
    }

    /// One feedback. Returns the estimate when an update happened (see the module docs).
    pub(crate) fn on_feedback(&mut self, now: Instant, fb: &TransportFeedback<'_>) -> Option<u64> {
        self.feedbacks += 1;
        // Loss, from the statuses (bounded: a feedback reports at most 65535 packets).
        for p in fb.packets() {
            match (self.sent(p.seq), p.status) {
                (None, _) => self.unknown += 1,
                (Some(_), PacketStatus::NotReceived) => self.lost += 1,
                (Some(_), _) => self.received += 1,
            }
        }
        // Rate and queueing delay, from the arrivals.
        self.rotate_base(now);
        for (seq, arrival_us) in fb.arrivals() {
            let Some(sent) = self.sent(seq) else {
                continue;
            };
            // The span starts at the first arrival: that packet's bytes came before it.
            if self.acked_first.is_none() {
                self.acked_first = Some(arrival_us);
            } else {
                self.acked_bytes = self.acked_bytes.saturating_add(u64::from(sent.size));
            }
            self.acked_last = self.acked_last.max(arrival_us);
            let owd = arrival_us.saturating_sub(i64::from(sent.at_us));
            for b in &mut self.base {
                *b = Some(b.map_or(owd, |m| m.min(owd)));
            }
            let base = self.base.iter().flatten().min().copied().unwrap_or(owd);
            self.queue_us = owd.saturating_sub(base);
        }
        self.update(now)
    }

    /// Starts a new bucket of the smallest one-way delay every [`BASE_BUCKET`].
    fn rotate_base(&mut self, now: Instant) {
        let start = *self.bucket_start.get_or_insert(now);
        if now.saturating_duration_since(start) >= BASE_BUCKET {
            self.base = [None, self.base[0]];
            self.bucket_start = Some(now);
        }
    }

    fn update(&mut self, now: Instant) -> Option<u64> {
        if self
            .last_update
            .is_some_and(|t| now.saturating_duration_since(t) < MIN_INTERVAL)
        {
            return None;
        }
        let span_us = self
            .acked_first
            .map_or(0, |first| self.acked_last.saturating_sub(first));
        let span_us = u64::try_from(span_us).unwrap_or(0);
        if span_us < MIN_INTERVAL.as_micros() as u64 || self.lost + self.received == 0 {
            return None;
        }
        let bytes = self.acked_bytes.saturating_add(self.prev_bytes);
        let span = span_us.saturating_add(self.prev_span_us);
        self.acked_rate = bytes.saturating_mul(8).saturating_mul(1_000_000) / span;
        (self.prev_bytes, self.prev_span_us) = (self.acked_bytes, span_us);
        let loss = self.lost as f64 / (self.lost + self.received) as f64;
        let queue = Duration::from_micros(u64::try_from(self.queue_us).unwrap_or(0));
        let before = self.estimate;
        let mut next = next_estimate(self.estimate, self.acked_rate, loss);
        if queue > OVERUSE_DELAY {
            next = next.min(self.acked_rate.saturating_mul(85) / 100);
        } else if queue > GROW_DELAY && next > before && before > 0 {
            next = before;
        }
        self.estimate = next.clamp(MIN_BITRATE, MAX_BITRATE);
        // The next span starts where this one ended: every byte counts once, over the
        // time it took to arrive.
        self.acked_bytes = 0;
        self.acked_first = Some(self.acked_last);
        self.lost = 0;
        self.received = 0;
        self.last_update = Some(now);
        Some(self.estimate)
    }

    /// The estimate, once a feedback gave one.
    pub(crate) fn estimate(&self) -> Option<u64> {
        (self.estimate > 0).then_some(self.estimate)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use rtcwire_rtp::rtcp::TwccBuilder;
    use rtcwire_rtp::Ssrc;

    /// Packets a round: 600 ms of them, more than the shortest span a rate is taken over.
    const N: u16 = 150;

    /// Sends `n` packets of 1000 bytes every `gap`, from `first`; the receiver gets them
    /// `base_delay` later plus a queue growing by `queue_growth` per packet; one feedback
    /// for all of them. Returns the estimate after it.
    fn round(
        e: &mut SendEstimator,
        t0: Instant,
        first: u16,
        n: u16,
        gap: Duration,
        queue_growth: Duration,
        lost_every: Option<u16>,
    ) -> Option<u64> {
        let mut b = TwccBuilder::new(Ssrc(1), Ssrc(2));
        let start = t0 + gap * u32::from(first);
        for i in 0..n {
            let seq = first.wrapping_add(i);
            let at = start + gap * u32::from(i);
            e.on_sent(at, seq, 1000);
            if lost_every.is_some_and(|k| i % k == 2) {
                continue;
            }
            let arrival = at.saturating_duration_since(t0)
                + Duration::from_millis(30)
                + queue_growth * u32::from(first + i);
            b.push(seq, arrival.as_micros() as i64).unwrap();
        }
        let now = start + gap * u32::from(n) + Duration::from_millis(40);
        let fb = b.build(0);
        e.on_feedback(now, &fb)
    }

    #[test]
    fn a_clean_path_starts_at_300k_and_grows_with_what_is_used() {
        let t0 = rtcwire_sim::Sim::new(0).now();
        let mut e = SendEstimator::new(t0);
        let gap = Duration::from_millis(4); // 2 Mbit/s of 1000-byte packets
        let first = round(&mut e, t0, 0, N, gap, Duration::ZERO, None).unwrap();
        assert_eq!(
            first, 2_000_000,
            "the acknowledged rate, above the 300k start"
        );
        let second = round(&mut e, t0, N, N, gap, Duration::ZERO, None).unwrap();
        assert_eq!(second, 2_160_000, "8 % more");
        assert_eq!(e.queue_us, 0);
    }

    #[test]
    fn a_growing_queue_cuts_the_estimate_before_any_loss() {
        let t0 = rtcwire_sim::Sim::new(0).now();
        let mut e = SendEstimator::new(t0);
        let gap = Duration::from_millis(4);
        round(&mut e, t0, 0, N, gap, Duration::ZERO, None).unwrap();
        // Each packet waits 1 ms longer than the one before: the queue passes 40 ms.
        let cut = round(&mut e, t0, N, N, gap, Duration::from_micros(500), None).unwrap();
        assert!(
            e.queue_us > OVERUSE_DELAY.as_micros() as i64,
            "{}",
            e.queue_us
        );
        assert!(cut < 2_000_000, "{cut}");
        assert!(cut <= e.acked_rate * 85 / 100, "{cut} vs {}", e.acked_rate);
    }

    #[test]
    fn heavy_loss_cuts_the_estimate_by_half_the_loss() {
        let t0 = rtcwire_sim::Sim::new(0).now();
        let mut e = SendEstimator::new(t0);
        let gap = Duration::from_millis(4);
        round(&mut e, t0, 0, N, gap, Duration::ZERO, None).unwrap();
        // One in four lost (neither the first nor the last, which a feedback must
        // report): about 25 %.
        let cut = round(&mut e, t0, N, N, gap, Duration::ZERO, Some(4)).unwrap();
        let rate = e.acked_rate as f64;
        let loss = f64::from((0..N).filter(|i| i % 4 == 2).count() as u32) / f64::from(N);
        assert!(loss > 0.24 && loss < 0.26);
        let expected = rate * (1.0 - loss / 2.0);
        assert!((cut as f64 - expected).abs() < 2.0, "{cut} vs {expected}");
    }

    proptest::proptest! {
        /// Whatever is sent and whatever the feedback says (lost, reordered, repeated,
        /// packets never sent, arrival times anywhere): no panic, and the estimate stays
        /// within its bounds.
        #[test]
        fn any_feedback_keeps_the_estimate_within_bounds(
            sends in proptest::collection::vec((0u16..3000, 0u32..50_000, 0usize..1500), 0..200),
            feedbacks in proptest::collection::vec(
                proptest::collection::vec((0u16..3000, proptest::prelude::any::<Option<i32>>()), 0..100),
                1..20,
            ),
        ) {
            use proptest::prelude::*;
            let t0 = rtcwire_sim::Sim::new(0).now();
            let mut e = SendEstimator::new(t0);
            for &(seq, at_ms, size) in &sends {
                e.on_sent(t0 + Duration::from_millis(u64::from(at_ms)), seq, size);
            }
            for (k, fb) in feedbacks.iter().enumerate() {
                let mut b = TwccBuilder::new(Ssrc(1), Ssrc(2));
                for &(seq, arrival) in fb {
                    if let Some(a) = arrival {
                        let _ = b.push(seq, i64::from(a));
                    }
                }
                let now = t0 + Duration::from_millis(50_000 + 300 * k as u64);
                if let Some(v) = e.on_feedback(now, &b.build(0)) {
                    prop_assert!((MIN_BITRATE..=MAX_BITRATE).contains(&v), "{v}");
                }
            }
            if let Some(v) = e.estimate() {
                prop_assert!((MIN_BITRATE..=MAX_BITRATE).contains(&v), "{v}");
            }
        }
    }

    #[test]
    fn feedback_for_packets_never_sent_changes_nothing() {
        let t0 = rtcwire_sim::Sim::new(0).now();
        let mut e = SendEstimator::new(t0);
        let mut b = TwccBuilder::new(Ssrc(1), Ssrc(2));
        for i in 0..50u16 {
            b.push(i, i64::from(i) * 10_000).unwrap();
        }
        assert_eq!(
            e.on_feedback(t0 + Duration::from_secs(1), &b.build(0)),
            None
        );
        assert_eq!(e.unknown, 50);
        assert_eq!(e.estimate(), None);
    }
}
