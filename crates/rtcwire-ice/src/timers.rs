//! Time: the state machine's derived state, retransmissions, pacing, consent freshness and
//! compaction after nomination.

use std::time::{Duration, Instant};

use rtcwire_proto::Transport;

use crate::agent::{
    Agent, GatheringState, IceState, PairState, Purpose, Role, Txn, BASE_RTO, CONSENT_MAX_SENDS,
};
use crate::candidate::CandidateKind;

impl Agent {
    /// Recomputes the state from what is known; emits `StateChanged` when it changes.
    pub(crate) fn update_state(&mut self, now: Instant) {
        if self.state == IceState::Closed {
            return;
        }
        // Consent (RFC 7675 §5.1): lost after `consent_timeout` without an authenticated
        // response; a lite agent, which sends no checks, counts the peer's checks instead.
        // Between two lite agents nobody sends checks: there is no consent to track.
        let lite_pair = self.config.lite && self.remote_lite;
        if let (Some(sel), false) = (&self.selected, lite_pair) {
            let fresh = if self.config.lite {
                sel.last_heard
            } else {
                sel.last_consent
            };
            if now.saturating_duration_since(fresh) >= self.config.consent_timeout {
                tracing::debug!("consent lost");
                self.selected = None;
                self.failed = true;
                self.prev_local = None;
            }
        }
        if self.selected.is_none() && !self.failed && self.checks_exhausted(now) {
            self.failed = true;
        }
        let s = if self.failed {
            IceState::Failed
        } else if let Some(sel) = &self.selected {
            if !lite_pair
                && now.saturating_duration_since(sel.last_heard.max(sel.last_consent))
                    >= self.config.disconnected_timeout
            {
                IceState::Disconnected
            } else if self.nominated
                && self.remote_end
                && self.gathering == GatheringState::Complete
            {
                IceState::Completed
            } else {
                IceState::Connected
            }
        } else if self.remotes.is_empty() && self.pairs.is_empty() {
            if self.state == IceState::New {
                IceState::New
            } else {
                IceState::Checking
            }
        } else {
            IceState::Checking
        };
        self.set_state(s);
    }

    /// Every pair failed, nothing is queued, and the peer will send nothing more (or has not
    /// for `checking_timeout`).
    pub(crate) fn checks_exhausted(&self, now: Instant) -> bool {
        if self.config.lite || self.remote_creds.is_none() {
            return false;
        }
        if self.remotes.is_empty() && !self.remote_end {
            return false;
        }
        let all_failed =
            self.pairs.iter().all(|p| p.state == PairState::Failed) && self.triggered.is_empty();
        let done = self.remote_end
            || self
                .last_remote_added
                .is_some_and(|t| now.saturating_duration_since(t) >= self.config.checking_timeout);
        all_failed && done && (self.local_end || !self.locals.is_empty())
    }

    pub(crate) fn wake(&mut self, now: Instant) {
        if self.next_check_at.is_none() {
            self.next_check_at = Some(now);
        }
    }

    pub(crate) fn lite_to_lite(&mut self, now: Instant) {
        // RFC 8445 §6.1.1 with two lite agents: nobody checks; both use the best pair (the
        // same one on both sides, as pair priorities are symmetric up to the last bit).
        if self.selected.is_some() || self.remote_key.is_none() {
            return;
        }
        let Some(best) = self.pairs.first().map(|p| p.id) else {
            return;
        };
        if let Some(p) = self.pairs.iter_mut().find(|p| p.id == best) {
            p.state = PairState::Succeeded;
            p.nominated = true;
        }
        self.select(now, best);
    }

    pub(crate) fn next_timeout(&self) -> Option<Instant> {
        if self.state == IceState::Closed {
            return self.turn_timeout();
        }
        let mut t: Option<Instant> = None;
        let mut at = |x: Instant| t = Some(t.map_or(x, |y| y.min(x)));
        for txn in &self.txns {
            at(txn.next);
        }
        if let Some(n) = self.next_check_at {
            if self.has_check_work() {
                at(n);
            }
        }
        let lite_pair = self.config.lite && self.remote_lite;
        if let (Some(sel), false) = (&self.selected, lite_pair) {
            if !self.config.lite && !sel.consent_in_flight {
                at(sel.next_consent);
            }
            let fresh = if self.config.lite {
                sel.last_heard
            } else {
                sel.last_consent
            };
            at(fresh + self.config.consent_timeout);
            let heard = sel.last_heard.max(sel.last_consent);
            if self.state != IceState::Disconnected {
                at(heard + self.config.disconnected_timeout);
            }
        } else if !self.failed && !self.remote_end {
            if let Some(l) = self.last_remote_added {
                if self.pairs.iter().all(|p| p.state == PairState::Failed) && !self.pairs.is_empty()
                {
                    at(l + self.config.checking_timeout);
                }
            }
        }
        if let Some(x) = self.turn_timeout() {
            at(x);
        }
        t
    }

    pub(crate) fn on_timeout(&mut self, now: Instant) {
        self.last_now = Some(now);
        if self.state == IceState::Closed {
            self.turn_timers(now);
            return;
        }
        self.retransmit(now);
        if self.next_check_at.is_some_and(|t| t <= now) {
            let sent = self.send_next_check(now);
            self.next_check_at = if sent {
                Some(now + self.config.ta)
            } else {
                None
            };
        }
        self.consent(now);
        self.turn_timers(now);
        self.update_state(now);
        self.compact();
    }

    /// Once a pair is nominated, drops the pairs that will never be checked (RFC 8445
    /// §8.1.2) and gives back the queues' spare capacity, so an idle connected agent holds
    /// little memory.
    pub(crate) fn compact(&mut self) {
        if !self.nominated {
            return;
        }
        let before = self.pairs.len();
        self.pairs
            .retain(|p| !matches!(p.state, PairState::Frozen | PairState::Waiting));
        if self.pairs.len() != before {
            let ids: Vec<u32> = self.pairs.iter().map(|p| p.id).collect();
            self.triggered.retain(|t| ids.contains(t));
        }
        self.pairs.shrink_to_fit();
        self.locals.shrink_to_fit();
        self.remotes.shrink_to_fit();
        self.triggered.shrink_to_fit();
        self.txns.shrink_to_fit();
        self.out.shrink_to_fit();
        self.events.shrink_to_fit();
    }

    pub(crate) fn retransmit(&mut self, now: Instant) {
        let mut i = 0;
        // Bounded: each step either advances `i` or removes one transaction.
        while i < self.txns.len() {
            let Some(t) = self.txns.get_mut(i) else {
                break;
            };
            if t.next > now {
                i += 1;
                continue;
            }
            if t.sends >= t.max_sends {
                let t = self.txns.swap_remove(i);
                self.on_txn_timeout(now, t);
                continue;
            }
            t.sends += 1;
            t.rto = t
                .rto
                .saturating_mul(2)
                .min(self.config.max_rto.max(BASE_RTO));
            t.next = now + t.rto;
            let (via, source, dest, bytes) = (t.via, t.source, t.dest, t.bytes.clone());
            self.stats.retransmits += 1;
            let _ = self.emit(via, source, dest, bytes);
            i += 1;
        }
    }

    pub(crate) fn on_txn_timeout(&mut self, now: Instant, t: Txn) {
        match t.purpose {
            Purpose::Check { pair, .. } => {
                if let Some(p) = self.pairs.iter_mut().find(|p| p.id == pair) {
                    if p.state == PairState::InProgress {
                        p.state = PairState::Failed;
                    }
                    p.nominating = false;
                }
                self.wake(now);
            }
            Purpose::Consent => {
                if let Some(s) = self.selected.as_mut() {
                    s.consent_in_flight = false;
                }
            }
            Purpose::ServerBinding { .. } => self.check_gathering_done(),
            Purpose::Turn { alloc, op } => self.turn_txn_timeout(now, alloc, op),
        }
    }

    pub(crate) fn consent(&mut self, now: Instant) {
        if self.config.lite {
            return;
        }
        let Some(sel) = self.selected.as_ref() else {
            return;
        };
        if sel.consent_in_flight || sel.next_consent > now {
            return;
        }
        let (local, dest, username, priority) = (
            sel.local,
            sel.remote_cand.address,
            sel.username.clone(),
            self.locals.get(sel.local).map_or(0, |l| {
                crate::candidate::priority(CandidateKind::PeerReflexive, l.local_preference, 1)
            }),
        );
        let key = sel.key.clone();
        // RFC 7675 §5.1: every 4–6 s (uniform), so consent checks of many flows do not align.
        let jitter = self.rng.next_u32().unwrap_or(0) % 401; // 0..=400 → 0.8..=1.2
        let next = now
            + self
                .config
                .consent_interval
                .mul_f64(0.8 + f64::from(jitter) / 1000.0);
        let Ok(tid) = self.new_tid() else {
            if let Some(s) = self.selected.as_mut() {
                s.next_consent = next;
            }
            return;
        };
        let controlling = self.role == Role::Controlling;
        let bytes = match crate::checks::build_check(
            tid,
            &username,
            priority,
            controlling,
            self.tie_breaker,
            false,
            &key,
        ) {
            Ok(b) => b,
            Err(_) => return,
        };
        let source = self.locals.get(local).map_or(dest, |l| l.base);
        let tcp = self
            .locals
            .get(local)
            .is_some_and(|l| l.cand.transport == Transport::Tcp);
        // Over TCP a consent check is sent once and answered or not within 5 s.
        let (sends, rto) = if tcp {
            (1, Duration::from_secs(5))
        } else {
            (CONSENT_MAX_SENDS, BASE_RTO)
        };
        let ok = self
            .start_txn(
                now,
                tid,
                Purpose::Consent,
                Some(local),
                source,
                dest,
                bytes,
                sends,
                rto,
            )
            .is_ok();
        self.stats.checks_sent += u64::from(ok);
        if let Some(s) = self.selected.as_mut() {
            s.next_consent = next;
            s.consent_in_flight = ok;
        }
    }
}
