//! The receive-side bandwidth estimate we advertise in REMB (draft-alvestrand-rmcat-remb).
//!
//! A loss-based AIMD on the received rate, updated once per interval (the report tick):
//!
//! - the rate is the video bytes received in the interval (retransmissions included, as
//!   they cost the link too) over its length;
//! - the loss is the fraction of the packets expected in the interval (from the streams'
//!   highest sequence numbers) that did not arrive;
//! - loss above 10 %: the estimate drops to `rate × (1 − loss/2)` (what got through,
//!   less half the loss, as RFC 8698's loss-based controllers do);
//! - loss below 2 %: the estimate grows by 8 % an interval, but never beyond
//!   `1.5 × rate + 10 kbit/s` (a sender that does not use what it is given is not told
//!   it may send far more: the same bound the receive-side estimators of browsers keep);
//! - in between: held.
//!
//! The first interval with media starts the estimate at the larger of the rate and
//! 300 kbit/s (a browser's usual start bitrate). The advertised value is the estimate
//! capped by the application's limit ([`crate::PeerConnection::set_remb_cap`]), kept
//! between 30 kbit/s and 100 Mbit/s.

use std::time::{Duration, Instant};

/// Lowest estimate advertised.
pub(crate) const MIN_BITRATE: u64 = 30_000;
/// Highest estimate advertised.
pub(crate) const MAX_BITRATE: u64 = 100_000_000;
/// The estimate of the first interval with media, unless the rate is higher.
const START_BITRATE: u64 = 300_000;
/// Shortest interval the rate is measured over.
const MIN_INTERVAL: Duration = Duration::from_millis(200);

/// The estimator's state.
#[derive(Debug, Default)]
pub(crate) struct RembEstimator {
    /// Current estimate, bit/s (0 before any media).
    estimate: u64,
    /// The application's cap.
    pub(crate) cap: Option<u64>,
    bytes: u64,
    since: Option<Instant>,
    /// Packets expected and received, summed over the streams, at the last update.
    expected: u64,
    received: u64,
    /// The last rate measured, bit/s.
    pub(crate) last_rate: u64,
}

impl RembEstimator {
    /// A received video packet of `len` bytes.
    pub(crate) fn on_packet(&mut self, now: Instant, len: usize) {
        self.since.get_or_insert(now);
        self.bytes = self.bytes.saturating_add(len as u64);
    }

    /// Ends an interval: `expected` and `received` are the packet totals of the video
    /// streams so far. Returns the value to advertise, or `None` when nothing arrived yet
    /// or the interval is too short to measure.
    pub(crate) fn update(&mut self, now: Instant, expected: u64, received: u64) -> Option<u64> {
        let since = self.since?;
        let elapsed = now.saturating_duration_since(since);
        if elapsed < MIN_INTERVAL {
            return self.advertised();
        }
        let micros = u64::try_from(elapsed.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        let rate = self.bytes.saturating_mul(8).saturating_mul(1_000_000) / micros;
        let d_expected = expected.saturating_sub(self.expected);
        let d_received = received.saturating_sub(self.received);
        let loss = if d_expected == 0 {
            0.0
        } else {
            d_expected.saturating_sub(d_received) as f64 / d_expected as f64
        };
        self.expected = expected;
        self.received = received;
        self.bytes = 0;
        self.since = Some(now);
        self.last_rate = rate;
        self.estimate = next_estimate(self.estimate, rate, loss);
        self.advertised()
    }

    /// The estimate as advertised (capped), once there is one.
    pub(crate) fn advertised(&self) -> Option<u64> {
        if self.estimate == 0 {
            return self.cap.map(|c| c.clamp(MIN_BITRATE, MAX_BITRATE));
        }
        Some(
            self.estimate
                .min(self.cap.unwrap_or(u64::MAX))
                .clamp(MIN_BITRATE, MAX_BITRATE),
        )
    }
}

/// One AIMD step (see the module docs); the send-side estimator takes the same step.
pub(crate) fn next_estimate(estimate: u64, rate: u64, loss: f64) -> u64 {
    let next = if estimate == 0 {
        rate.max(START_BITRATE)
    } else if loss > 0.10 {
        (rate as f64 * (1.0 - loss / 2.0)) as u64
    } else if loss < 0.02 {
        let grown = estimate.saturating_add(estimate * 8 / 100);
        let bound = rate.saturating_mul(3) / 2 + 10_000;
        // Growth is bounded by what the sender uses; an estimate already above the
        // bound is held, not cut (an idle moment is not congestion).
        if estimate >= bound {
            estimate
        } else {
            grown.min(bound)
        }
    } else {
        estimate
    };
    next.clamp(MIN_BITRATE, MAX_BITRATE)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::disallowed_methods)]
    use super::*;

    fn feed(e: &mut RembEstimator, at: Instant, bytes_per_s: u64) {
        e.on_packet(at, bytes_per_s as usize);
    }

    #[test]
    fn starts_at_300k_then_grows_8_percent_within_the_rate_bound() {
        let t0 = rtcwire_sim::Sim::new(0).now();
        let mut e = RembEstimator::default();
        assert_eq!(e.update(t0, 0, 0), None);
        feed(&mut e, t0, 125_000); // 1 Mbit/s over the next second
        let first = e.update(t0 + Duration::from_secs(1), 100, 100).unwrap();
        assert_eq!(first, 1_000_000);
        feed(&mut e, t0 + Duration::from_secs(1), 125_000);
        let second = e.update(t0 + Duration::from_secs(2), 200, 200).unwrap();
        assert_eq!(second, 1_080_000);
    }

    #[test]
    fn heavy_loss_cuts_to_the_rate_less_half_the_loss() {
        let t0 = rtcwire_sim::Sim::new(0).now();
        let mut e = RembEstimator::default();
        feed(&mut e, t0, 125_000);
        e.update(t0 + Duration::from_secs(1), 100, 100);
        feed(&mut e, t0 + Duration::from_secs(1), 62_500); // 500 kbit/s, 20 % lost
        let v = e.update(t0 + Duration::from_secs(2), 200, 180).unwrap();
        assert_eq!(v, 450_000);
    }

    #[test]
    fn the_cap_bounds_what_is_advertised() {
        let t0 = rtcwire_sim::Sim::new(0).now();
        let mut e = RembEstimator {
            cap: Some(150_000),
            ..RembEstimator::default()
        };
        assert_eq!(e.advertised(), Some(150_000));
        feed(&mut e, t0, 125_000);
        assert_eq!(e.update(t0 + Duration::from_secs(1), 10, 10), Some(150_000));
        e.cap = Some(1);
        assert_eq!(e.advertised(), Some(MIN_BITRATE));
    }

    #[test]
    fn an_idle_sender_keeps_its_estimate() {
        let t0 = rtcwire_sim::Sim::new(0).now();
        let mut e = RembEstimator::default();
        feed(&mut e, t0, 125_000);
        e.update(t0 + Duration::from_secs(1), 100, 100);
        feed(&mut e, t0 + Duration::from_secs(1), 1_000);
        assert_eq!(
            e.update(t0 + Duration::from_secs(2), 101, 101),
            Some(1_000_000)
        );
    }
}
