//! Receiver statistics (RFC 3550 §6.4.1 and appendix A.1, A.3, A.8) that produce report
//! blocks.

use crate::rtcp::ReportBlock;
use crate::seq::{to_q16, NtpTime, RtpClock};
use crate::Ssrc;
use std::time::{Duration, Instant};

/// Interarrival jitter estimator (RFC 3550 A.8), in timestamp units.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Jitter {
    last_transit: Option<i64>,
    jitter: f64,
}

impl Jitter {
    /// Feeds one packet: its arrival time expressed in the media clock's ticks (any
    /// origin) and its RTP timestamp.
    pub fn update(&mut self, arrival_ticks: u64, rtp_timestamp: u32) {
        // Transit differences only matter modulo 2^32 (both clocks wrap the same way).
        let transit = i64::from((arrival_ticks as u32).wrapping_sub(rtp_timestamp) as i32);
        if let Some(last) = self.last_transit {
            let d = (transit - last).unsigned_abs() as f64;
            self.jitter += (d - self.jitter) / 16.0;
        }
        self.last_transit = Some(transit);
    }

    /// The current estimate, as reported in a report block.
    pub fn value(&self) -> u32 {
        self.jitter as u32
    }
}

/// RFC 3550 A.1: largest forward jump taken as loss rather than a restart.
pub const MAX_DROPOUT: u16 = 3000;
/// RFC 3550 A.1: largest backward jump taken as reordering.
pub const MAX_MISORDER: u16 = 100;

/// Statistics about one received source, updated per packet, producing report blocks.
///
/// ```
/// use rtcwire_rtp::stats::ReceiverStats;
/// use rtcwire_rtp::Ssrc;
/// use std::time::Duration;
/// # let clock = rtcwire_sim::Sim::new(0);
/// let t0 = clock.now(); // arrival times come from the driver
/// let mut s = ReceiverStats::new(Ssrc(0xabc), 90_000);
/// for (i, seq) in [10u16, 11, 13, 14].into_iter().enumerate() {
///     s.on_packet(t0 + Duration::from_millis(33 * i as u64), seq, 3000 * i as u32);
/// }
/// let rb = s.report_block(t0 + Duration::from_secs(1));
/// assert_eq!(rb.cumulative_lost, 1);          // 12 never came
/// assert_eq!(rb.extended_highest_seq, 14);
/// assert_eq!(rb.fraction_lost, 51);           // 1 of 5 expected: 256 / 5
/// ```
#[derive(Debug, Clone)]
pub struct ReceiverStats {
    ssrc: Ssrc,
    clock: RtpClock,
    base_seq: u32,
    max_seq: u16,
    cycles: u32,
    bad_seq: u32,
    received: u64,
    expected_prior: u64,
    received_prior: u64,
    jitter: Jitter,
    epoch: Option<Instant>,
    last_sr: Option<(u32, Instant)>,
    started: bool,
    probation: u16,
    min_sequential: u16,
}

impl ReceiverStats {
    /// Statistics for `ssrc` whose media clock runs at `clock_rate` Hz.
    pub fn new(ssrc: Ssrc, clock_rate: u32) -> Self {
        ReceiverStats {
            ssrc,
            clock: RtpClock::new(clock_rate),
            base_seq: 0,
            max_seq: 0,
            cycles: 0,
            bad_seq: u32::MAX,
            received: 0,
            expected_prior: 0,
            received_prior: 0,
            jitter: Jitter::default(),
            epoch: None,
            last_sr: None,
            started: false,
            probation: 0,
            min_sequential: 0,
        }
    }

    /// Requires `packets` in-sequence packets before a source is counted (RFC 3550 A.1's
    /// probation, `MIN_SEQUENTIAL`), for sources not announced by signalling. Default 0:
    /// WebRTC sources are announced, so the first packet counts.
    pub fn with_probation(mut self, packets: u16) -> Self {
        self.probation = packets;
        self.min_sequential = packets;
        self
    }

    fn init_seq(&mut self, seq: u16) {
        self.base_seq = u32::from(seq);
        self.max_seq = seq;
        self.bad_seq = u32::MAX;
        self.cycles = 0;
        self.received = 0;
        self.received_prior = 0;
        self.expected_prior = 0;
    }

    /// Feeds a received packet. Returns `false` if the packet was not counted: a jump of
    /// more than [`MAX_DROPOUT`] is taken as a restart only once the next packet confirms it
    /// (RFC 3550 A.1).
    pub fn on_packet(&mut self, now: Instant, seq: u16, rtp_timestamp: u32) -> bool {
        let epoch = *self.epoch.get_or_insert(now);
        let arrival = self.clock.ticks(now.saturating_duration_since(epoch));
        let udelta = seq.wrapping_sub(self.max_seq);
        let counted = if !self.started {
            self.started = true;
            self.init_seq(seq);
            if self.probation == 0 {
                self.received = 1;
                true
            } else {
                self.probation -= 1;
                false
            }
        } else if self.probation > 0 {
            // RFC 3550 A.1: the source is valid once enough packets came in sequence.
            if seq == self.max_seq.wrapping_add(1) {
                self.probation -= 1;
                self.max_seq = seq;
                if self.probation == 0 {
                    self.init_seq(seq);
                    self.received = 1;
                    true
                } else {
                    false
                }
            } else {
                self.init_seq(seq);
                self.probation = self.min_sequential.saturating_sub(1);
                false
            }
        } else if udelta < MAX_DROPOUT {
            if seq < self.max_seq {
                self.cycles = self.cycles.wrapping_add(1 << 16);
            }
            self.max_seq = seq;
            self.received += 1;
            true
        } else if udelta <= u16::MAX - MAX_MISORDER {
            // A very large jump: restart if the next packet follows it.
            if u32::from(seq) == self.bad_seq {
                self.init_seq(seq);
                self.received += 1;
                true
            } else {
                self.bad_seq = u32::from(seq.wrapping_add(1));
                false
            }
        } else {
            // Duplicate or reordered: counted as received.
            self.received += 1;
            true
        };
        if counted {
            self.jitter.update(arrival, rtp_timestamp);
        }
        counted
    }

    /// Records a sender report from this source, for LSR/DLSR.
    pub fn on_sender_report(&mut self, now: Instant, ntp: NtpTime) {
        self.last_sr = Some((ntp.middle32(), now));
    }

    /// Extended highest sequence number received.
    pub fn extended_highest_seq(&self) -> u32 {
        self.cycles.wrapping_add(u32::from(self.max_seq))
    }

    /// Packets expected so far.
    pub fn expected(&self) -> u64 {
        let ext = u64::from(self.cycles) + u64::from(self.max_seq);
        (ext + 1).saturating_sub(u64::from(self.base_seq))
    }

    /// Packets received (duplicates included, per RFC 3550).
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Cumulative loss (may be negative with duplicates).
    pub fn lost(&self) -> i64 {
        self.expected() as i64 - self.received as i64
    }

    /// Jitter in timestamp units.
    pub fn jitter(&self) -> u32 {
        self.jitter.value()
    }

    /// A report block for this source, as of `now`, and starts the next reporting
    /// interval (fraction lost is per interval).
    pub fn report_block(&mut self, now: Instant) -> ReportBlock {
        let expected = self.expected();
        let expected_interval = expected.saturating_sub(self.expected_prior);
        let received_interval = self.received.saturating_sub(self.received_prior);
        self.expected_prior = expected;
        self.received_prior = self.received;
        let lost_interval = expected_interval as i64 - received_interval as i64;
        let fraction_lost = if expected_interval == 0 || lost_interval <= 0 {
            0
        } else {
            ((lost_interval as u64) << 8) / expected_interval
        };
        let (last_sr, dlsr) = match self.last_sr {
            Some((lsr, at)) => (lsr, to_q16(now.saturating_duration_since(at))),
            None => (0, 0),
        };
        ReportBlock {
            ssrc: self.ssrc,
            fraction_lost: fraction_lost.min(255) as u8,
            cumulative_lost: ReportBlock::clamp_lost(self.lost()),
            extended_highest_seq: self.extended_highest_seq(),
            jitter: self.jitter(),
            last_sr,
            delay_since_last_sr: dlsr,
        }
    }

    /// How long since the last sender report, if any.
    pub fn since_last_sr(&self, now: Instant) -> Option<Duration> {
        self.last_sr
            .map(|(_, at)| now.saturating_duration_since(at))
    }
}
