//! Loss detection after RACK-TLP (RFC 8985), on TSNs instead of TCP sequence numbers.
//!
//! - **RACK**: a chunk is lost when a chunk sent after it has been delivered (cumulatively
//!   or by a gap block) and more than the RTT of that delivery plus a reordering window has
//!   passed since it was sent. The window is a quarter of the smallest RTT, and zero in
//!   recovery while no reordering has been seen (§6.2). A chunk that is not yet due arms the
//!   reorder timer. Retransmissions are timed like first transmissions, so a lost
//!   retransmission is found after one more round trip instead of at T3.
//! - **DupThresh** (RFC 9260 §7.2.4) still marks a chunk sent once after three miss
//!   indications while no reordering has been seen.
//! - **TLP**: when data is outstanding and no SACK delivered anything for a probe timeout
//!   (2·SRTT, plus the delayed-ack time when a single packet is in flight), one packet is
//!   sent regardless of the congestion window: new data if some is queued, else the
//!   highest outstanding chunk again. Its SACK then reveals a lost tail to RACK instead of
//!   leaving it to T3 (a second, longer, backed-off timer that also collapses the window).

use std::time::{Duration, Instant};

use super::send::Sent;
use super::Association;

#[derive(Default)]
pub(super) struct Rack {
    /// Send time and TSN of the most recently sent chunk known delivered.
    xmit: Option<(Instant, u64)>,
    /// The RTT of that delivery.
    rtt: Duration,
    /// Highest TSN known delivered.
    pub(super) highest_delivered: u64,
    pub(super) reordering_seen: bool,
    pub(super) timer: Option<Instant>,
    pub(super) tlp: Option<Instant>,
    /// A probe was sent and nothing has been delivered since.
    pub(super) tlp_out: bool,
    /// The next packet may carry new data beyond the congestion window (the probe).
    pub(super) probe_now: bool,
}

/// What one SACK delivered, for RACK.
#[derive(Default)]
pub(super) struct Delivered {
    latest: Option<(Instant, u64)>,
    rtt: Duration,
    reordered: bool,
}

impl Delivered {
    /// Chunk `f` was newly delivered at `now`.
    pub(super) fn note(
        &mut self,
        now: Instant,
        f: &Sent,
        highest_delivered: u64,
        min_rtt: Option<Duration>,
    ) {
        let rtt = now.saturating_duration_since(f.sent_at);
        if f.transmissions <= 1 {
            // A chunk sent once arriving below one delivered before: the path reorders.
            if f.tsn < highest_delivered {
                self.reordered = true;
            }
        } else if min_rtt.is_some_and(|m| rtt < m) {
            // Sooner than any round trip: the SACK is for an earlier transmission.
            return;
        }
        let key = (f.sent_at, f.tsn);
        if self.latest.is_none_or(|l| key > l) {
            self.latest = Some(key);
            self.rtt = rtt;
        }
    }
}

impl Rack {
    pub(super) fn update(&mut self, d: &Delivered) {
        self.reordering_seen |= d.reordered;
        if let Some(l) = d.latest {
            if self.xmit.is_none_or(|x| l > x) {
                self.xmit = Some(l);
                self.rtt = d.rtt;
            }
        }
    }
}

impl Association {
    /// Marks for retransmission what RACK or DupThresh finds lost; arms the reorder timer
    /// for what may still arrive.
    pub(super) fn detect_losses(&mut self, now: Instant) {
        self.rack.timer = None;
        let Some(xmit) = self.rack.xmit else { return };
        let min = self.cc.min_rtt.unwrap_or(self.rack.rtt);
        let reo = if !self.rack.reordering_seen && self.cc.in_recovery() {
            Duration::ZERO
        } else {
            (min / 4).min(self.srtt.unwrap_or(min))
        };
        let window = self.rack.rtt.saturating_add(reo);
        let dup_thresh = !self.rack.reordering_seen;
        let (mut lost, mut lost_bytes, mut highest) = (0u64, 0usize, 0u64);
        let mut next_timer: Option<Instant> = None;
        for f in self.outstanding.iter_mut() {
            if f.acked || f.abandoned || f.retransmit || !f.in_flight {
                continue;
            }
            let key = (f.sent_at, f.tsn);
            if key >= xmit {
                // First transmissions go out in TSN order and retransmissions after their
                // originals: everything from here on was sent later.
                if f.transmissions <= 1 {
                    break;
                }
                continue;
            }
            let due = super::later(f.sent_at, window);
            if now >= due || (dup_thresh && f.transmissions <= 1 && f.misses >= 3) {
                f.retransmit = true;
                f.in_flight = false;
                lost += 1;
                lost_bytes += f.len();
                highest = highest.max(f.tsn);
            } else {
                next_timer = Some(next_timer.map_or(due, |t| t.min(due)));
            }
        }
        self.rack.timer = next_timer;
        if lost > 0 {
            self.flight -= lost_bytes.min(self.flight);
            self.stats.fast_retransmits += 1;
            self.cc.on_loss(lost, highest, self.next_tsn);
            self.fast_rtx_now = true;
            if self.has_pr {
                self.abandon_expired(now);
            }
        }
    }

    /// Arms the tail loss probe if data is in flight and no probe is out.
    pub(super) fn arm_tlp(&mut self, now: Instant) {
        self.rack.tlp = None;
        if self.rack.tlp_out || self.flight == 0 {
            return;
        }
        let Some(srtt) = self.srtt else { return };
        let mut pto = srtt.saturating_mul(2);
        if self.flight <= self.config.mtu {
            pto = pto.saturating_add(self.config.delayed_ack);
        }
        let at = super::later(now, pto.max(Duration::from_millis(10)));
        if self.t3.is_some_and(|t3| at >= t3) {
            return;
        }
        self.rack.tlp = Some(at);
    }

    /// The probe timeout fired: send one packet beyond the congestion window.
    pub(super) fn on_tlp(&mut self) {
        self.rack.tlp = None;
        self.rack.tlp_out = true;
        self.stats.tail_loss_probes += 1;
        if self.queue.has_data() && self.peer_rwnd > 0 {
            self.rack.probe_now = true;
            return;
        }
        let last = self
            .outstanding
            .iter_mut()
            .rev()
            .find(|f| !f.acked && !f.abandoned && !f.retransmit && f.in_flight);
        if let Some(f) = last {
            f.retransmit = true;
            f.in_flight = false;
            let n = f.len();
            self.flight -= n.min(self.flight);
            self.fast_rtx_now = true;
        }
    }
}
