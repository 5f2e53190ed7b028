//! Sequence number and timestamp unwrapping, NTP time, and RTP clock conversions.

use std::time::Duration;

/// Extends 16-bit RTP sequence numbers to 64 bits, following wraps in both directions.
/// A number is placed at the extension closest to the highest one seen, so reordered
/// packets from before a wrap land before it. The first number is placed in the second
/// cycle (`65536 + seq`) so that late packets from before it never go below zero.
///
/// ```
/// use rtcwire_rtp::seq::SeqUnwrapper;
/// let mut u = SeqUnwrapper::default();
/// assert_eq!(u.unwrap(65534), 65536 + 65534);
/// assert_eq!(u.unwrap(1), 2 * 65536 + 1);      // wrapped forward
/// assert_eq!(u.unwrap(65535), 65536 + 65535);  // late packet from before the wrap
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SeqUnwrapper {
    last: Option<u64>,
}

impl SeqUnwrapper {
    /// The 64-bit value of `seq`.
    pub fn unwrap(&mut self, seq: u16) -> u64 {
        let v = match self.last {
            None => u64::from(seq) + (1 << 16),
            Some(last) => {
                let delta = seq.wrapping_sub(last as u16) as i16;
                last.checked_add_signed(i64::from(delta))
                    .unwrap_or(u64::from(seq))
            }
        };
        if self.last.is_none_or(|l| v > l) {
            self.last = Some(v);
        }
        v
    }

    /// The highest value seen.
    pub fn highest(&self) -> Option<u64> {
        self.last
    }
}

/// Extends 32-bit RTP timestamps to 64 bits, like [`SeqUnwrapper`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimestampUnwrapper {
    last: Option<u64>,
}

impl TimestampUnwrapper {
    /// The 64-bit value of `ts`.
    pub fn unwrap(&mut self, ts: u32) -> u64 {
        let v = match self.last {
            None => u64::from(ts) + (1 << 32), // room to go backwards past zero
            Some(last) => {
                let delta = ts.wrapping_sub(last as u32) as i32;
                last.checked_add_signed(i64::from(delta))
                    .unwrap_or(u64::from(ts))
            }
        };
        if self.last.is_none_or(|l| v > l) {
            self.last = Some(v);
        }
        v
    }
}

/// Whether sequence number `a` comes after `b` (RFC 1982 serial arithmetic).
pub fn seq_newer(a: u16, b: u16) -> bool {
    a != b && a.wrapping_sub(b) < 0x8000
}

/// An RTP media clock: converts between durations and timestamp ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RtpClock {
    /// Ticks per second (90 000 for video, 48 000 for Opus, 8 000 for G.711).
    pub rate: u32,
}

impl RtpClock {
    /// A clock of `rate` Hz.
    pub const fn new(rate: u32) -> Self {
        RtpClock { rate }
    }

    /// Ticks in `d`, rounded down.
    pub fn ticks(&self, d: Duration) -> u64 {
        (d.as_nanos() * u128::from(self.rate) / 1_000_000_000) as u64
    }

    /// Duration of `ticks`.
    pub fn duration(&self, ticks: u64) -> Duration {
        if self.rate == 0 {
            return Duration::ZERO;
        }
        let nanos = u128::from(ticks) * 1_000_000_000 / u128::from(self.rate);
        Duration::from_nanos(nanos.min(u128::from(u64::MAX)) as u64)
    }
}

/// A 64-bit NTP timestamp: seconds since 1900-01-01 in 32.32 fixed point (RFC 5905).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct NtpTime(pub u64);

/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
pub const NTP_UNIX_OFFSET_SECS: u64 = 2_208_988_800;

impl NtpTime {
    /// The NTP time of a moment given as a duration since the Unix epoch (the caller reads
    /// its wall clock; this crate never does).
    pub fn from_unix(since_epoch: Duration) -> Self {
        let secs = since_epoch.as_secs().wrapping_add(NTP_UNIX_OFFSET_SECS);
        let frac = (u64::from(since_epoch.subsec_nanos()) << 32) / 1_000_000_000;
        NtpTime((secs << 32) | frac)
    }

    /// Back to a duration since the Unix epoch (saturating at zero).
    pub fn to_unix(self) -> Duration {
        let secs = (self.0 >> 32).saturating_sub(NTP_UNIX_OFFSET_SECS);
        let nanos = ((self.0 & 0xffff_ffff) * 1_000_000_000) >> 32;
        Duration::new(secs, nanos as u32)
    }

    /// The middle 32 bits, as used by LSR in report blocks (RFC 3550 §6.4.1).
    pub fn middle32(self) -> u32 {
        (self.0 >> 16) as u32
    }
}

/// Converts a duration to the 1/65536 s units of DLSR/DLRR, saturating.
pub fn to_q16(d: Duration) -> u32 {
    let v = d.as_nanos() * 65_536 / 1_000_000_000;
    v.min(u128::from(u32::MAX)) as u32
}

/// Converts 1/65536 s units back to a duration.
pub fn from_q16(v: u32) -> Duration {
    Duration::from_nanos(u64::from(v) * 1_000_000_000 / 65_536)
}

/// Round-trip time from a report block (RFC 3550 §6.4.1): `arrival` is the middle 32 bits
/// of the NTP time the report arrived at; `None` if the block has no LSR.
pub fn round_trip_time(arrival_middle32: u32, last_sr: u32, dlsr: u32) -> Option<Duration> {
    if last_sr == 0 {
        return None;
    }
    let rtt = arrival_middle32.wrapping_sub(last_sr).wrapping_sub(dlsr);
    // A negative result (clock skew) shows up as a huge value: treat as unknown.
    (rtt < 0x8000_0000).then(|| from_q16(rtt))
}
