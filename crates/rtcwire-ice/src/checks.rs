//! The check list (RFC 8445 §6.1.2–§6.1.4, §7): pairing, pruning, pacing, triggered
//! checks, answering and verifying Binding requests, nomination and selection.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rtcwire_stun::{
    Attribute, Class, ErrorCode, IntegrityKey, Message, MessageBuilder, MessageType, Method,
    TransactionId,
};

use crate::agent::{Agent, Event, Pair, PairState, Purpose, Remote, Role, Selected, SelectedPair};
use crate::candidate::{priority, Candidate, CandidateKind, TcpType};
use crate::Error;

/// How long a check over TCP waits for its answer (it is sent once: TCP is reliable).
const TCP_CHECK_TIMEOUT: Duration = Duration::from_secs(8);

/// Builds a connectivity (or consent) check.
pub(crate) fn build_check(
    tid: TransactionId,
    username: &str,
    priority: u32,
    controlling: bool,
    tie_breaker: u64,
    use_candidate: bool,
    key: &IntegrityKey,
) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(108);
    let mut b = MessageBuilder::new(&mut out, MessageType::BINDING_REQUEST, tid)?;
    b.attr(&Attribute::Username(username))?
        .attr(&Attribute::Priority(priority))?;
    if controlling {
        b.attr(&Attribute::IceControlling(tie_breaker))?;
    } else {
        b.attr(&Attribute::IceControlled(tie_breaker))?;
    }
    if use_candidate {
        b.attr(&Attribute::UseCandidate)?;
    }
    b.message_integrity(key)?.fingerprint()?;
    b.finish();
    Ok(out)
}

/// Builds the answer to a Binding request: success with XOR-MAPPED-ADDRESS, or an error.
fn build_response(
    tid: TransactionId,
    result: Result<SocketAddr, u16>,
    key: &IntegrityKey,
) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(80);
    match result {
        Ok(mapped) => {
            let mut b = MessageBuilder::new(&mut out, MessageType::BINDING_SUCCESS, tid)?;
            b.attr(&Attribute::XorMappedAddress(mapped))?
                .message_integrity(key)?
                .fingerprint()?;
            b.finish();
        }
        Err(code) => {
            let mut b = MessageBuilder::new(&mut out, MessageType::BINDING_ERROR, tid)?;
            b.attr(&Attribute::ErrorCode(ErrorCode {
                code,
                reason: "Role Conflict",
            }))?
            .message_integrity(key)?
            .fingerprint()?;
            b.finish();
        }
    }
    Ok(out)
}

impl Agent {
    pub(crate) fn has_check_work(&self) -> bool {
        if self.config.lite || self.remote_key.is_none() {
            return false;
        }
        if !self.triggered.is_empty() {
            return self.txns.len() < self.config.max_transactions;
        }
        !self.nominated
            && self.txns.len() < self.config.max_transactions
            && self.pairs.iter().any(|p| {
                matches!(p.state, PairState::Waiting | PairState::Frozen) && self.relay_ready(p)
            })
    }

    /// Whether we may start an ordinary check on the pair: a relayed pair once the TURN
    /// server holds a permission for the peer; never from a passive TCP candidate (the peer
    /// connects to it; its checks trigger ours on that connection).
    fn relay_ready(&self, p: &Pair) -> bool {
        let Some(l) = self.locals.get(p.local) else {
            return false;
        };
        if l.cand.tcp_type == Some(TcpType::Passive) {
            return false;
        }
        match (l.relay, self.remotes.get(p.remote)) {
            (Some(a), Some(r)) => self.turn_permitted(a, r.cand.address),
            (None, _) => true,
            _ => false,
        }
    }

    /// Sends one check: the triggered queue first, then the best waiting pair, unfreezing
    /// when nothing waits (RFC 8445 §6.1.4.2). Returns whether one was sent.
    pub(crate) fn send_next_check(&mut self, now: Instant) -> bool {
        if self.config.lite || self.remote_key.is_none() {
            return false;
        }
        // Bounded by the queue length: each step pops one entry.
        while let Some(id) = self.triggered.pop_front() {
            let Some(p) = self.pairs.iter().find(|p| p.id == id) else {
                continue;
            };
            let nominate = p.nominating;
            if p.state == PairState::InProgress && !nominate {
                continue;
            }
            if self.send_check(now, id, nominate).is_ok() {
                return true;
            }
            return false;
        }
        if self.nominated {
            return false;
        }
        let pick = self
            .pairs
            .iter()
            .find(|p| p.state == PairState::Waiting && self.relay_ready(p))
            .map(|p| p.id);
        let pick = pick.or_else(|| {
            // Unfreeze the best frozen pair whose foundation has nothing waiting or in
            // progress.
            self.pairs
                .iter()
                .filter(|p| p.state == PairState::Frozen && self.relay_ready(p))
                .find(|p| {
                    !self.pairs.iter().any(|q| {
                        matches!(q.state, PairState::Waiting | PairState::InProgress)
                            && self.same_foundation(q, p.local, p.remote)
                    })
                })
                .or_else(|| {
                    self.pairs
                        .iter()
                        .find(|p| p.state == PairState::Frozen && self.relay_ready(p))
                })
                .map(|p| p.id)
        });
        match pick {
            Some(id) => self.send_check(now, id, false).is_ok(),
            None => false,
        }
    }

    fn send_check(&mut self, now: Instant, id: u32, nominate: bool) -> Result<(), Error> {
        let (Some(rc), Some(key)) = (self.remote_creds.as_ref(), self.remote_key.as_ref()) else {
            return Err(Error::NotConnected);
        };
        let username = format!("{}:{}", rc.ufrag, self.local_creds.ufrag);
        let key = key.clone();
        let Some(p) = self.pairs.iter().find(|p| p.id == id) else {
            return Err(Error::NotConnected);
        };
        let (local, remote) = (p.local, p.remote);
        let (Some(l), Some(r)) = (self.locals.get(local), self.remotes.get(remote)) else {
            return Err(Error::NotConnected);
        };
        let prio = priority(CandidateKind::PeerReflexive, l.local_preference, 1);
        let l_is_tcp = l.cand.transport == rtcwire_proto::Transport::Tcp;
        let (source, dest) = (l.base, r.cand.address);
        let controlling = self.role == Role::Controlling;
        let tid = self.new_tid()?;
        let bytes = build_check(
            tid,
            &username,
            prio,
            controlling,
            self.tie_breaker,
            nominate,
            &key,
        )?;
        // RFC 8445 §14.3: RTO = max(500 ms, Ta × (waiting + in progress)).
        let busy = self
            .pairs
            .iter()
            .filter(|p| matches!(p.state, PairState::Waiting | PairState::InProgress))
            .count();
        let rto = (self
            .config
            .ta
            .saturating_mul(u32::try_from(busy).unwrap_or(u32::MAX)))
        .max(Duration::from_millis(500))
        .min(self.config.max_rto.max(Duration::from_millis(500)));
        // A new check on the pair replaces one in flight.
        self.txns
            .retain(|t| !matches!(t.purpose, Purpose::Check { pair, .. } if pair == id));
        let purpose = Purpose::Check {
            pair: id,
            nominate,
            generation: self.generation,
            controlling,
        };
        let (max, rto) = if l_is_tcp {
            // No retransmission over TCP (RFC 6544 §7.1); give up after a while.
            (1, TCP_CHECK_TIMEOUT)
        } else {
            (self.config.check_max_sends, rto)
        };
        self.start_txn(
            now,
            tid,
            purpose,
            Some(local),
            source,
            dest,
            bytes,
            max,
            rto,
        )?;
        self.stats.checks_sent += 1;
        if let Some(p) = self.pairs.iter_mut().find(|p| p.id == id) {
            if p.state != PairState::Succeeded {
                p.state = PairState::InProgress;
            }
        }
        tracing::trace!(pair = id, nominate, %dest, "check sent");
        Ok(())
    }

    /// A STUN message that arrived on local candidate `local` from `src` (after TURN
    /// unwrapping when relayed).
    pub(crate) fn handle_stun_on(
        &mut self,
        now: Instant,
        local: usize,
        src: SocketAddr,
        msg: &Message<'_>,
    ) -> Result<(), Error> {
        if msg.has_fingerprint() {
            msg.verify_fingerprint()?;
        }
        let t = msg.message_type();
        if t.method != Method::BINDING {
            // TURN responses arrive through `turn_handle`; anything else is not ours.
            return Err(Error::UnexpectedMessage);
        }
        match t.class {
            Class::Request => self.on_request(now, local, src, msg),
            Class::Success | Class::Error => self.on_response(now, local, src, msg),
            Class::Indication => Ok(()), // keepalive (RFC 8445 §11)
        }
    }

    fn on_request(
        &mut self,
        now: Instant,
        local: usize,
        src: SocketAddr,
        msg: &Message<'_>,
    ) -> Result<(), Error> {
        let username = msg.username()?.ok_or(Error::MissingAttribute("USERNAME"))?;
        let ours = username.split(':').next().unwrap_or_default();
        let current = ours == self.local_creds.ufrag;
        let key = if current {
            &self.local_key
        } else {
            match self.prev_local.as_deref() {
                Some((c, k)) if c.ufrag == ours => k,
                _ => {
                    tracing::trace!(from = %src, username, "check for another ufrag");
                    self.stats.wrong_username += 1;
                    return Err(Error::WrongUsername);
                }
            }
        };
        if msg.verify_integrity(key).is_err() {
            self.stats.bad_integrity += 1;
            return Err(Error::BadCredentials);
        }
        let key = key.clone();
        let prio = msg.priority()?.ok_or(Error::MissingAttribute("PRIORITY"))?;
        let controlling = msg.ice_controlling()?;
        let controlled = msg.ice_controlled()?;
        let use_candidate = msg.use_candidate();
        self.stats.requests_received += 1;
        tracing::trace!(from = %src, use_candidate, current, "check received");
        let tid = msg.transaction_id();
        let source = self.locals.get(local).map_or(src, |l| l.base);

        // Role conflict (RFC 8445 §7.3.1.1). A lite agent is always controlled.
        if !self.config.lite {
            if let (Role::Controlling, Some(theirs)) = (self.role, controlling) {
                self.stats.role_conflicts += 1;
                if self.tie_breaker >= theirs {
                    let bytes = build_response(tid, Err(ErrorCode::ROLE_CONFLICT), &key)?;
                    return self.emit(Some(local), source, src, bytes);
                }
                self.set_role(Role::Controlled);
            } else if let (Role::Controlled, Some(theirs)) = (self.role, controlled) {
                self.stats.role_conflicts += 1;
                if self.tie_breaker >= theirs {
                    self.set_role(Role::Controlling);
                } else {
                    let bytes = build_response(tid, Err(ErrorCode::ROLE_CONFLICT), &key)?;
                    return self.emit(Some(local), source, src, bytes);
                }
            }
        }

        let bytes = build_response(tid, Ok(src), &key)?;
        self.emit(Some(local), source, src, bytes)?;

        if let Some(sel) = self.selected.as_mut() {
            if sel.local == local && sel.remote_cand.address == src {
                sel.last_heard = now;
            }
        }
        if !current {
            // A check or consent of the generation before a restart: answered, not paired.
            return Ok(());
        }

        // The remote candidate, learned as peer-reflexive if new (RFC 8445 §7.3.1.3).
        let transport = self
            .locals
            .get(local)
            .map_or(rtcwire_proto::Transport::Udp, |l| l.cand.transport);
        let remote = match self
            .remotes
            .iter()
            .position(|r| r.cand.address == src && r.cand.transport == transport)
        {
            Some(i) => i,
            None => {
                if self.prflx_count >= self.config.max_peer_reflexive
                    || self.remotes.len() >= self.config.max_remote_candidates
                {
                    self.stats.limit_drops += 1;
                    return Ok(());
                }
                let mut cand = Candidate::host(src, 0);
                cand.kind = CandidateKind::PeerReflexive;
                cand.priority = prio;
                cand.foundation = crate::candidate::foundation(
                    CandidateKind::PeerReflexive,
                    src.ip(),
                    None,
                    transport,
                );
                if transport == rtcwire_proto::Transport::Tcp {
                    // The peer connected to us: its end is active (RFC 6544 §7.2.1).
                    cand.transport = transport;
                    cand.tcp_type = Some(TcpType::Active);
                }
                self.remotes.push(Remote {
                    cand,
                    authenticated: true,
                });
                self.prflx_count += 1;
                self.remotes.len() - 1
            }
        };
        if let Some(r) = self.remotes.get_mut(remote) {
            r.authenticated = true;
        }
        let Some(id) = self.add_pair(local, remote, true) else {
            return Ok(());
        };
        let role = self.role;
        let lite = self.config.lite;
        let Some(p) = self.pairs.iter_mut().find(|p| p.id == id) else {
            return Ok(());
        };
        if lite {
            // A lite agent checks nothing: the full peer's nomination decides (§7.3.2? §8.2).
            if use_candidate {
                p.state = PairState::Succeeded;
                p.nominated = true;
                self.select(now, id);
            }
            return Ok(());
        }
        let nominate_now = use_candidate && role == Role::Controlled;
        match p.state {
            PairState::Succeeded => {
                if nominate_now {
                    p.nominated = true;
                    self.select(now, id);
                }
            }
            PairState::InProgress => {
                if nominate_now {
                    p.nominate_on_success = true;
                }
            }
            PairState::Frozen | PairState::Waiting | PairState::Failed => {
                p.state = PairState::Waiting;
                if nominate_now {
                    p.nominate_on_success = true;
                }
                if !self.triggered.contains(&id) {
                    self.triggered.push_back(id);
                }
                self.wake(now);
            }
        }
        Ok(())
    }

    fn on_response(
        &mut self,
        now: Instant,
        local: usize,
        src: SocketAddr,
        msg: &Message<'_>,
    ) -> Result<(), Error> {
        let tid = msg.transaction_id();
        let i = self
            .txns
            .iter()
            .position(|t| t.tid == tid)
            .ok_or(Error::UnknownTransaction)?;
        let purpose = self
            .txns
            .get(i)
            .map(|t| t.purpose)
            .ok_or(Error::UnknownTransaction)?;
        match purpose {
            Purpose::ServerBinding { local: l, server } => {
                if src != server {
                    return Err(Error::UnknownTransaction);
                }
                self.txns.swap_remove(i);
                if let Ok(Some(mapped)) = msg.xor_mapped_address() {
                    let base = self.locals.get(l).map(|x| (x.base, x.local_preference));
                    if let Some((base, pref)) = base {
                        if mapped != base {
                            let c = Candidate::derived(
                                CandidateKind::ServerReflexive,
                                mapped,
                                base,
                                server.ip(),
                                pref,
                            );
                            self.add_gathered(c, base, None);
                        }
                    }
                }
                self.check_gathering_done();
                Ok(())
            }
            Purpose::Turn { .. } => Err(Error::UnexpectedMessage),
            Purpose::Consent => {
                let Some(sel) = self.selected.as_ref() else {
                    self.txns.swap_remove(i);
                    return Ok(());
                };
                if msg.verify_integrity(&sel.key).is_err() {
                    self.stats.bad_integrity += 1;
                    return Err(Error::BadCredentials);
                }
                self.txns.swap_remove(i);
                self.stats.responses_received += 1;
                if let Some(sel) = self.selected.as_mut() {
                    sel.consent_in_flight = false;
                    if msg.message_type().class == Class::Success
                        && sel.local == local
                        && sel.remote_cand.address == src
                    {
                        // Only an authenticated success refreshes consent (RFC 7675 §5.1).
                        sel.last_consent = now;
                        sel.last_heard = now;
                    }
                }
                Ok(())
            }
            Purpose::Check {
                pair,
                nominate,
                generation,
                controlling,
            } => {
                let key = self.remote_key.as_ref().ok_or(Error::BadCredentials)?;
                if msg.verify_integrity(key).is_err() {
                    self.stats.bad_integrity += 1;
                    return Err(Error::BadCredentials);
                }
                let t = self.txns.swap_remove(i);
                self.stats.responses_received += 1;
                if generation != self.generation {
                    return Ok(());
                }
                let Some(pi) = self.pairs.iter().position(|p| p.id == pair) else {
                    return Ok(());
                };
                // Non-symmetric addresses fail the check (RFC 8445 §7.2.5.2.1).
                if src != t.dest || t.via != Some(local) {
                    if let Some(p) = self.pairs.get_mut(pi) {
                        p.state = PairState::Failed;
                    }
                    return Ok(());
                }
                if msg.message_type().class == Class::Error {
                    let code = msg.error_code()?.map(|e| e.code);
                    if code == Some(ErrorCode::ROLE_CONFLICT) {
                        // RFC 8445 §7.2.5.1: switch to the opposite of what we sent and retry.
                        self.stats.role_conflicts += 1;
                        self.set_role(if controlling {
                            Role::Controlled
                        } else {
                            Role::Controlling
                        });
                        if let Some(p) = self.pairs.iter_mut().find(|p| p.id == pair) {
                            p.state = PairState::Waiting;
                        }
                        self.triggered.push_back(pair);
                        self.wake(now);
                    } else if let Some(p) = self.pairs.get_mut(pi) {
                        p.state = PairState::Failed;
                    }
                    return Ok(());
                }
                self.on_check_success(now, pair, nominate);
                Ok(())
            }
        }
    }

    fn on_check_success(&mut self, now: Instant, id: u32, nominate: bool) {
        let role = self.role;
        let Some(p) = self.pairs.iter_mut().find(|p| p.id == id) else {
            return;
        };
        p.state = PairState::Succeeded;
        let (local, remote) = (p.local, p.remote);
        let select = if nominate && role == Role::Controlling {
            p.nominating = false;
            p.nominated = true;
            true
        } else if p.nominate_on_success && role == Role::Controlled {
            p.nominated = true;
            true
        } else {
            false
        };
        // Unfreeze the pairs of the same foundation (RFC 8445 §7.2.5.3.3).
        let f = |a: &Agent, l: usize, r: usize| {
            (
                a.locals.get(l).map(|x| x.cand.foundation.clone()),
                a.remotes.get(r).map(|x| x.cand.foundation.clone()),
            )
        };
        let fp = f(self, local, remote);
        for q in 0..self.pairs.len() {
            let (ql, qr, st) = match self.pairs.get(q) {
                Some(x) => (x.local, x.remote, x.state),
                None => break,
            };
            if st == PairState::Frozen && f(self, ql, qr) == fp {
                if let Some(x) = self.pairs.get_mut(q) {
                    x.state = PairState::Waiting;
                }
            }
        }
        if let Some(sel) = self.selected.as_mut() {
            if sel.local == local
                && self
                    .remotes
                    .get(remote)
                    .is_some_and(|r| r.cand.address == sel.remote_cand.address)
            {
                sel.last_heard = now;
            }
        }
        if select {
            self.select(now, id);
            return;
        }
        // RFC 8445 §12.1: before a pair is selected, data may go on any valid pair. The
        // DTLS handshake starts a round trip (or a whole signalling exchange) earlier than
        // it would wait for nomination; the nominated pair takes over when it comes.
        self.use_valid_pair(now, id);
        if role == Role::Controlling && !self.nominated && !self.pairs.iter().any(|p| p.nominating)
        {
            // Nominate the first valid pair at once: never wait for end-of-candidates
            // (Firefox stays in `checking` otherwise).
            if let Some(p) = self.pairs.iter_mut().find(|p| p.id == id) {
                p.nominating = true;
            }
            self.triggered.push_front(id);
            // At once, not at the next Ta tick: the pair was just validated, so this check
            // opens no new binding for Ta to pace, and waiting would add up to Ta (50 ms)
            // to every connection's setup.
            self.next_check_at = Some(now);
        }
    }

    /// Sends on valid pair `id` until a pair is nominated: when nothing is selected yet, or
    /// the pair in use (not nominated, this generation) has a lower priority. A pair
    /// selected before an ICE restart stays until the new generation nominates one.
    fn use_valid_pair(&mut self, now: Instant, id: u32) {
        if self.config.lite || self.nominated {
            return;
        }
        let Some(p) = self.pairs.iter().find(|p| p.id == id) else {
            return;
        };
        if let Some(s) = &self.selected {
            if s.generation != self.generation || s.priority >= p.priority {
                return;
            }
        }
        self.select_pair(now, id, false);
    }

    /// Makes pair `id` the selected one (after nomination), if it beats the current one of
    /// this generation.
    pub(crate) fn select(&mut self, now: Instant, id: u32) {
        self.select_pair(now, id, true);
    }

    fn select_pair(&mut self, now: Instant, id: u32, nominated: bool) {
        let Some(p) = self.pairs.iter().find(|p| p.id == id) else {
            return;
        };
        let (local, remote, priority) = (p.local, p.remote, p.priority);
        if let (Some(s), true) = (&self.selected, nominated) {
            if s.generation == self.generation && s.priority >= priority && self.nominated {
                if s.local == local
                    && self
                        .remotes
                        .get(remote)
                        .is_some_and(|r| r.cand.address == s.remote_cand.address)
                {
                    return;
                }
                if s.priority > priority {
                    return;
                }
            }
        }
        let (Some(l), Some(r), Some(rc)) = (
            self.locals.get(local),
            self.remotes.get(remote),
            self.remote_creds.as_ref(),
        ) else {
            return;
        };
        let Some(key) = self.remote_key.clone() else {
            return;
        };
        let sel = Selected {
            local,
            local_cand: l.cand.clone(),
            remote_cand: r.cand.clone(),
            priority,
            generation: self.generation,
            username: format!("{}:{}", rc.ufrag, self.local_creds.ufrag),
            key,
            last_consent: now,
            last_heard: now,
            next_consent: now + self.config.consent_interval,
            consent_in_flight: false,
        };
        let changed = self.selected.as_ref().is_none_or(|s| {
            s.local != sel.local
                || s.remote_cand.address != sel.remote_cand.address
                || s.generation != sel.generation
        });
        let event = SelectedPair {
            local: sel.local_cand.clone(),
            remote: sel.remote_cand.clone(),
        };
        // Consent of the previous pair is no longer needed.
        self.txns.retain(|t| !matches!(t.purpose, Purpose::Consent));
        if changed {
            self.prev_path = self.selected.as_ref().map(|s| {
                (
                    s.local,
                    s.remote_cand.address,
                    now + crate::agent::PREV_PATH_GRACE,
                )
            });
        }
        self.selected = Some(sel);
        self.prev_local = None;
        self.failed = false;
        if nominated {
            self.nominated = true;
            // Nothing else needs checking in this generation (RFC 8445 §8.1.2).
            self.triggered.retain(|t| *t == id);
        }
        if changed {
            tracing::debug!(local = %event.local.address, remote = %event.remote.address, "selected pair");
            self.push_event(Event::SelectedPairChanged(Box::new(event)));
        }
        self.update_state(now);
    }
}
