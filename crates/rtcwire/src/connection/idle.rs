//! What an idle session gives back. Buffers sized for traffic (DTLS's spare record buffers
//! and scratch, our record and packet buffers, media's packet pool) are released
//! [`IDLE_TRIM`] after the last DTLS or media datagram either way (a timeout of its own,
//! once per idle spell); the next datagram allocates them again. Consent checks (STUN) are
//! not traffic here, so an idle connection holds only its state, and a busy one never
//! trims.

use std::time::{Duration, Instant};

use super::PeerConnection;

/// How long without traffic before the buffers go: long enough that a conversation's
/// pauses keep them, short enough that a connection set up and left alone holds none a
/// few seconds later.
pub(super) const IDLE_TRIM: Duration = Duration::from_secs(2);

impl PeerConnection {
    /// A DTLS or media datagram went in or out.
    pub(super) fn note_traffic(&mut self, now: Instant) {
        self.traffic_at = now;
        self.trimmed = false;
    }

    /// When the buffers go, if they are held.
    pub(super) fn trim_deadline(&self) -> Option<Instant> {
        (!self.trimmed)
            .then(|| self.traffic_at.checked_add(IDLE_TRIM))
            .flatten()
    }

    /// Called on every timeout: trims once per idle spell.
    pub(super) fn trim_if_idle(&mut self, now: Instant) {
        if self.trimmed || now.saturating_duration_since(self.traffic_at) < IDLE_TRIM {
            return;
        }
        self.trimmed = true;
        if let Some(d) = self.dtls.as_mut() {
            d.shrink_buffers();
        }
        self.record = Vec::new();
        self.sctp_packet = Vec::new();
        if self.held_datagram.is_empty() {
            self.held_datagram = Vec::new();
        }
        if self.events.is_empty() {
            self.events = std::collections::VecDeque::new();
        }
        if self.last_words.is_empty() {
            self.last_words = std::collections::VecDeque::new();
        }
        let m = &mut self.media;
        m.pool = Vec::new();
        m.rx = Vec::new();
        m.nack_scratch = Vec::new();
        if m.out.is_empty() {
            m.out = std::collections::VecDeque::new();
        }
    }
}
