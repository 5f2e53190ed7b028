//! Bandwidth estimates: both ways by REMB (draft-alvestrand-rmcat-remb, `goog-remb`): ours
//! from what arrives (see `media::bwe` for the estimator), sent once a report interval and
//! at once when the application changes its cap; the peer's, parsed. And our send-side
//! estimate from the peer's transport-cc feedback (`media::send_bwe`). The application
//! hears the smaller of the peer's REMB and our send-side estimate.

use rtcwire_rtp::rtcp::{List, Remb, Rtcp};
use rtcwire_rtp::Ssrc;

use super::*;
use crate::media::MediaKind;

/// Most SSRCs one REMB names (the field is 8 bits).
const MAX_REMB_SSRCS: usize = 255;

impl PeerConnection {
    /// Caps the receive-side estimate we advertise in REMB to `bits_per_second` (`None`:
    /// no cap, the estimate alone). Takes effect at once: a REMB with the new value leaves
    /// now when media flows (video negotiated with `goog-remb`), so a browser sending to
    /// us lowers its encoder's target to it.
    pub fn set_remb_cap(&mut self, bits_per_second: Option<u64>) -> Result<(), Error> {
        self.check_open()?;
        self.media.remb.cap = bits_per_second;
        if !self.media.transceivers.is_empty() && self.ensure_srtp() {
            let now = self.now;
            self.send_remb(now, true);
            self.pump(now);
        }
        Ok(())
    }

    /// The peer's estimate of what we may send, from its latest REMB (bit/s): what an
    /// application sets its encoders' total bitrate to. `None` until a REMB arrived.
    /// [`Event::BandwidthEstimate`] says when it changes.
    #[must_use]
    pub fn peer_bandwidth_estimate(&self) -> Option<u64> {
        self.media.peer_remb
    }

    /// What we may send in all (bit/s): our send-side estimate from the peer's
    /// transport-cc feedback, or the peer's REMB, the smaller when both exist. What an
    /// application sets its encoders' total target to; [`Event::BandwidthEstimate`] says
    /// when it changes. `None` before either exists (no video or audio sent yet).
    #[must_use]
    pub fn send_bandwidth_estimate(&self) -> Option<u64> {
        let ours = self.media.send_bwe.as_ref().and_then(|e| e.estimate());
        match (ours, self.media.peer_remb) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Announces [`send_bandwidth_estimate`](Self::send_bandwidth_estimate) when it
    /// changed.
    fn announce_estimate(&mut self) {
        let now = self.send_bandwidth_estimate();
        if now != self.media.announced_estimate {
            self.media.announced_estimate = now;
            if let Some(bitrate) = now {
                self.events.push_back(Event::BandwidthEstimate { bitrate });
            }
        }
    }

    /// A transport-cc feedback for what we sent.
    pub(super) fn on_transport_feedback(
        &mut self,
        now: Instant,
        fb: &rtcwire_rtp::rtcp::TransportFeedback<'_>,
    ) {
        let Some(e) = self.media.send_bwe.as_mut() else {
            return;
        };
        if e.on_feedback(now, fb).is_some() {
            self.announce_estimate();
        }
    }

    /// The estimate we last advertised in REMB (bit/s), if we sent one.
    #[must_use]
    pub fn local_bandwidth_estimate(&self) -> Option<u64> {
        self.media.remb_last_sent
    }

    /// A REMB from the peer.
    pub(super) fn handle_remb(&mut self, remb: &Remb<'_>) {
        self.media.remb_received += 1;
        self.media.peer_remb = Some(remb.bitrate);
        self.announce_estimate();
    }

    /// Our REMB for the video we receive on transceivers that negotiated `goog-remb`:
    /// the estimate updated (an interval ended) or, with `now_only`, as it stands (the
    /// cap changed). Nothing when no such transceiver receives.
    pub(super) fn send_remb(&mut self, now: Instant, now_only: bool) {
        let (mut expected, mut received) = (0u64, 0u64);
        // On the stack: feedback sent every second allocates nothing.
        let mut ssrcs = [Ssrc(0); MAX_REMB_SSRCS];
        let mut count = 0;
        let mut add = |s: u32| {
            if let Some(slot) = ssrcs.get_mut(count) {
                *slot = Ssrc(s);
                count += 1;
            }
        };
        let mut sender = None;
        let mut rsize = true;
        for t in &self.media.transceivers {
            if t.kind != MediaKind::Video || !t.receiving() || !t.codecs.iter().any(|c| c.remb) {
                continue;
            }
            sender.get_or_insert(t.send.ssrc);
            rsize &= t.rtcp_rsize;
            for r in &t.recv {
                expected = expected.saturating_add(r.stats.expected());
                received = received.saturating_add(r.stats.received());
                add(r.ssrc);
            }
            if t.recv.is_empty() {
                t.remote_ssrcs.iter().for_each(|(s, _)| add(*s));
            }
        }
        let Some(sender) = sender else {
            return;
        };
        let value = if now_only {
            self.media.remb.advertised()
        } else {
            self.media.remb.update(now, expected, received)
        };
        let Some(bitrate) = value else {
            return;
        };
        let ssrcs = ssrcs.get(..count).unwrap_or_default();
        if ssrcs.is_empty() {
            return;
        }
        // What the wire carries (18-bit mantissa, rounded down).
        let (exp, mantissa) = Remb::encode_bitrate(bitrate);
        let bitrate = u64::from(mantissa) << exp;
        let remb = Remb {
            sender_ssrc: Ssrc(sender),
            media_ssrc: Ssrc(0),
            bitrate,
            ssrcs: List::Items(ssrcs),
        };
        self.queue_feedback(Ssrc(sender), rsize, Rtcp::Remb(remb));
        self.media.remb_sent += 1;
        self.media.remb_last_sent = Some(bitrate);
    }
}
