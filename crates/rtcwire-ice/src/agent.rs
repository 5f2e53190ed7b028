//! The agent: public API, state, timers and the [`SansIo`] implementation. Connectivity
//! checks live in [`crate::checks`], candidates in `gather`, the TURN client in [`crate::turn`].

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rtcwire_proto::{Datagram, Rng, SansIo, Transmit, Transport};
use rtcwire_stun::{
    Attribute, ChannelData, IntegrityKey, MessageBuilder, MessageType, TransactionId,
};

use crate::candidate::Candidate;
use crate::turn::Allocation;
use crate::Error;

pub use crate::types::{
    Config, Credentials, Event, GatheringState, IceState, Received, RemoteCandidateOutcome, Role,
    SelectedPair, Stats,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PairState {
    Frozen,
    Waiting,
    InProgress,
    Succeeded,
    Failed,
}

#[derive(Debug)]
pub(crate) struct Local {
    pub(crate) cand: Candidate,
    /// Where datagrams of this candidate leave from (for relayed: the allocation's base).
    pub(crate) base: SocketAddr,
    /// The allocation this relayed candidate lives on.
    pub(crate) relay: Option<usize>,
    pub(crate) local_preference: u16,
    pub(crate) removed: bool,
}

#[derive(Debug)]
pub(crate) struct Remote {
    pub(crate) cand: Candidate,
    /// The peer sent an authenticated request from it: data from it is accepted.
    pub(crate) authenticated: bool,
}

#[derive(Debug)]
pub(crate) struct Pair {
    pub(crate) id: u32,
    pub(crate) local: usize,
    pub(crate) remote: usize,
    pub(crate) priority: u64,
    pub(crate) state: PairState,
    pub(crate) nominated: bool,
    /// Controlled: the peer nominated this pair before our check on it succeeded.
    pub(crate) nominate_on_success: bool,
    /// Controlling: a check with USE-CANDIDATE is to be sent (or is in flight).
    pub(crate) nominating: bool,
}

#[derive(Debug)]
pub(crate) struct Selected {
    pub(crate) local: usize,
    pub(crate) local_cand: Candidate,
    pub(crate) remote_cand: Candidate,
    pub(crate) priority: u64,
    pub(crate) generation: u32,
    /// USERNAME and key for consent checks on this pair (kept across a restart).
    pub(crate) username: String,
    pub(crate) key: Arc<IntegrityKey>,
    pub(crate) last_consent: Instant,
    pub(crate) last_heard: Instant,
    pub(crate) next_consent: Instant,
    pub(crate) consent_in_flight: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    Check {
        pair: u32,
        nominate: bool,
        generation: u32,
        controlling: bool,
    },
    Consent,
    ServerBinding {
        local: usize,
        server: SocketAddr,
    },
    Turn {
        alloc: usize,
        op: crate::turn::TurnOp,
    },
}

#[derive(Debug)]
pub(crate) struct Txn {
    pub(crate) tid: TransactionId,
    pub(crate) purpose: Purpose,
    /// The local candidate it is sent from (`None`: straight from `source` to `dest`).
    pub(crate) via: Option<usize>,
    pub(crate) source: SocketAddr,
    pub(crate) dest: SocketAddr,
    pub(crate) bytes: Vec<u8>,
    pub(crate) sends: u32,
    pub(crate) max_sends: u32,
    pub(crate) rto: Duration,
    pub(crate) next: Instant,
}

#[derive(Debug)]
pub(crate) struct Outgoing {
    pub(crate) transport: Transport,
    pub(crate) source: SocketAddr,
    pub(crate) dest: SocketAddr,
    pub(crate) bytes: Vec<u8>,
}

/// Most datagrams queued for [`SansIo::poll_transmit`]; older ones are dropped beyond.
pub(crate) const MAX_QUEUED: usize = 256;
/// Most events queued; older ones are dropped beyond (a driver that never polls).
const MAX_EVENTS: usize = 1024;
/// Transmissions of one consent check.
pub(crate) const CONSENT_MAX_SENDS: u32 = 4;
/// How long data is still accepted on the previous selected pair after a switch: what was
/// in flight, and what the peer sends until it switches too (a round trip or so).
pub(crate) const PREV_PATH_GRACE: Duration = Duration::from_secs(5);
/// First retransmission timeout of consent checks and server transactions.
pub(crate) const BASE_RTO: Duration = Duration::from_millis(500);

/// A sans-IO ICE agent (one component: WebRTC bundles and muxes RTCP).
///
/// See the [crate documentation](crate) for the run loop.
pub struct Agent {
    pub(crate) config: Config,
    pub(crate) rng: Box<dyn Rng + Send>,
    pub(crate) role: Role,
    pub(crate) tie_breaker: u64,
    pub(crate) local_creds: Credentials,
    pub(crate) local_key: IntegrityKey,
    /// The credentials before an ICE restart, accepted until the new pair is selected.
    pub(crate) prev_local: Option<Box<(Credentials, IntegrityKey)>>,
    pub(crate) remote_creds: Option<Credentials>,
    /// Shared with the selected pair (344 bytes of HMAC state each otherwise).
    pub(crate) remote_key: Option<Arc<IntegrityKey>>,
    pub(crate) remote_lite: bool,
    pub(crate) locals: Vec<Local>,
    pub(crate) remotes: Vec<Remote>,
    pub(crate) prflx_count: usize,
    pub(crate) pairs: Vec<Pair>,
    pub(crate) next_pair_id: u32,
    pub(crate) triggered: VecDeque<u32>,
    pub(crate) txns: Vec<Txn>,
    pub(crate) out: VecDeque<Outgoing>,
    pub(crate) events: VecDeque<Event>,
    pub(crate) allocs: Vec<Allocation>,
    pub(crate) selected: Option<Selected>,
    pub(crate) state: IceState,
    pub(crate) gathering: GatheringState,
    pub(crate) local_end: bool,
    pub(crate) remote_end: bool,
    pub(crate) generation: u32,
    /// A pair was nominated in the current generation: no more ordinary checks.
    pub(crate) nominated: bool,
    pub(crate) failed: bool,
    pub(crate) next_check_at: Option<Instant>,
    pub(crate) last_remote_added: Option<Instant>,
    /// The latest `now` the agent was given: methods without a `now` (credentials) use it
    /// to schedule work.
    pub(crate) last_now: Option<Instant>,
    /// The selected pair's path before the last switch (local candidate, peer address,
    /// until when data from it is still accepted).
    pub(crate) prev_path: Option<(usize, SocketAddr, Instant)>,
    pub(crate) stats: Stats,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent")
            .field("role", &self.role)
            .field("state", &self.state)
            .field("locals", &self.locals.len())
            .field("remotes", &self.remotes.len())
            .field("pairs", &self.pairs.len())
            .field("txns", &self.txns.len())
            .finish_non_exhaustive()
    }
}

const ICE_CHARS: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn random_ice_string(rng: &mut dyn Rng, len: usize) -> Result<String, Error> {
    let mut bytes = [0u8; 32];
    let bytes = bytes.get_mut(..len).ok_or(Error::Rng)?;
    rng.fill(bytes)?;
    Ok(bytes
        .iter()
        .map(|b| char::from(ICE_CHARS[usize::from(b & 63)]))
        .collect())
}

fn check_credentials(c: &Credentials) -> Result<(), Error> {
    let ok = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
    };
    if !(4..=256).contains(&c.ufrag.len()) || !ok(&c.ufrag) {
        return Err(Error::BadCredentialFormat("ufrag must be 4-256 ice-chars"));
    }
    // RFC 8839 asks for at least 22 characters; some stacks send fewer, so accept >= 1 on
    // the remote side and only insist on ice-chars.
    if c.pwd.is_empty() || c.pwd.len() > 256 || !ok(&c.pwd) {
        return Err(Error::BadCredentialFormat("pwd must be 1-256 ice-chars"));
    }
    Ok(())
}

impl Agent {
    /// A new agent. Credentials and the tie-breaker come from `rng`; a failing source is an
    /// error.
    pub fn new(config: Config, mut rng: Box<dyn Rng + Send>) -> Result<Self, Error> {
        let local_creds = match &config.local_credentials {
            Some(c) => {
                check_credentials(c)?;
                c.clone()
            }
            None => Credentials {
                ufrag: random_ice_string(rng.as_mut(), 8)?,
                pwd: random_ice_string(rng.as_mut(), 24)?,
            },
        };
        let tie_breaker = rng.next_u64()?;
        let role = if config.controlling && !config.lite {
            Role::Controlling
        } else {
            Role::Controlled
        };
        let local_key = IntegrityKey::short_term(&local_creds.pwd);
        let allocs = config
            .turn_servers
            .iter()
            .map(|s| Allocation::new(s.clone()))
            .collect();
        Ok(Agent {
            config,
            rng,
            role,
            tie_breaker,
            local_creds,
            local_key,
            prev_local: None,
            remote_creds: None,
            remote_key: None,
            remote_lite: false,
            locals: Vec::new(),
            remotes: Vec::new(),
            prflx_count: 0,
            pairs: Vec::new(),
            next_pair_id: 0,
            triggered: VecDeque::new(),
            txns: Vec::new(),
            out: VecDeque::new(),
            events: VecDeque::new(),
            allocs,
            selected: None,
            state: IceState::New,
            gathering: GatheringState::New,
            local_end: false,
            remote_end: false,
            generation: 0,
            nominated: false,
            failed: false,
            next_check_at: None,
            last_remote_added: None,
            last_now: None,
            prev_path: None,
            stats: Stats::default(),
        })
    }

    /// Our credentials, to signal in `a=ice-ufrag` / `a=ice-pwd`.
    #[must_use]
    pub fn local_credentials(&self) -> &Credentials {
        &self.local_creds
    }

    /// The current role.
    #[must_use]
    pub fn role(&self) -> Role {
        self.role
    }

    /// The transport state.
    #[must_use]
    pub fn state(&self) -> IceState {
        self.state
    }

    /// The gathering state.
    #[must_use]
    pub fn gathering_state(&self) -> GatheringState {
        self.gathering
    }

    /// Counters.
    #[must_use]
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Whether this agent is ICE-lite.
    #[must_use]
    pub fn is_lite(&self) -> bool {
        self.config.lite
    }

    /// The configuration the agent was made with.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The selected pair, if any.
    #[must_use]
    pub fn selected_pair(&self) -> Option<SelectedPair> {
        self.selected.as_ref().map(|s| SelectedPair {
            local: s.local_cand.clone(),
            remote: s.remote_cand.clone(),
        })
    }

    /// The selected pair's path without cloning its candidates: the transport, the local
    /// address datagrams leave from (the TURN allocation's base when relayed) and the peer's
    /// address. Cheap enough to ask per datagram.
    #[must_use]
    pub fn selected_path(&self) -> Option<(Transport, SocketAddr, SocketAddr)> {
        let s = self.selected.as_ref()?;
        let l = self.locals.get(s.local)?;
        Some((l.cand.transport, l.base, s.remote_cand.address))
    }

    /// Number of candidate pairs in the check list (for tests and caps).
    #[must_use]
    pub fn pair_count(&self) -> usize {
        self.pairs.len()
    }

    /// The check list, best pair first: (local address, remote address, pair priority).
    pub fn check_list(&self) -> impl Iterator<Item = (SocketAddr, SocketAddr, u64)> + '_ {
        self.pairs.iter().filter_map(|p| {
            let l = self.locals.get(p.local)?;
            let r = self.remotes.get(p.remote)?;
            Some((l.cand.address, r.cand.address, p.priority))
        })
    }

    /// An estimate of the heap and inline bytes the agent holds: its own size plus the
    /// capacity of every collection and string it owns (not counting allocator overhead
    /// and the boxed random source).
    #[must_use]
    pub fn memory_estimate(&self) -> usize {
        use std::mem::size_of;
        let cand = |c: &Candidate| {
            size_of::<Candidate>()
                + c.foundation.capacity()
                + c.hostname.as_ref().map_or(0, String::capacity)
                + c.extensions.capacity() * size_of::<(String, String)>()
                + c.extensions
                    .iter()
                    .map(|(a, b)| a.capacity() + b.capacity())
                    .sum::<usize>()
        };
        let mut n = size_of::<Agent>()
            + self.local_creds.ufrag.capacity()
            + self.local_creds.pwd.capacity()
            + self
                .remote_creds
                .as_ref()
                .map_or(0, |c| c.ufrag.capacity() + c.pwd.capacity())
            + self
                .prev_local
                .as_ref()
                .map_or(0, |_| size_of::<(Credentials, IntegrityKey)>())
            // The peer's key, shared with the selected pair.
            + self
                .remote_key
                .as_ref()
                .map_or(0, |_| size_of::<IntegrityKey>());
        n += self.locals.capacity() * size_of::<Local>()
            + self
                .locals
                .iter()
                .map(|l| cand(&l.cand) - size_of::<Candidate>())
                .sum::<usize>();
        n += self.remotes.capacity() * size_of::<Remote>()
            + self
                .remotes
                .iter()
                .map(|r| cand(&r.cand) - size_of::<Candidate>())
                .sum::<usize>();
        n += self.pairs.capacity() * size_of::<Pair>() + self.triggered.capacity() * 4;
        n += self.txns.capacity() * size_of::<Txn>()
            + self.txns.iter().map(|t| t.bytes.capacity()).sum::<usize>();
        n += self.out.capacity() * size_of::<Outgoing>()
            + self.out.iter().map(|o| o.bytes.capacity()).sum::<usize>();
        n += self.events.capacity() * size_of::<Event>();
        n += self.allocs.capacity() * size_of::<Allocation>();
        if let Some(s) = &self.selected {
            // Selected lives inline in the agent; count only what its fields own.
            n += cand(&s.local_cand) + cand(&s.remote_cand) - 2 * size_of::<Candidate>()
                + s.username.capacity();
        }
        n
    }

    /// Number of outstanding STUN transactions.
    #[must_use]
    pub fn transaction_count(&self) -> usize {
        self.txns.len()
    }

    /// Number of remembered peer-reflexive remote candidates.
    #[must_use]
    pub fn peer_reflexive_count(&self) -> usize {
        self.prflx_count
    }

    /// Number of remote candidates.
    #[must_use]
    pub fn remote_candidate_count(&self) -> usize {
        self.remotes.len()
    }

    /// Local candidates gathered so far (not removed).
    pub fn local_candidates(&self) -> impl Iterator<Item = &Candidate> {
        self.locals.iter().filter(|l| !l.removed).map(|l| &l.cand)
    }

    /// The peer's credentials (from its `a=ice-ufrag` / `a=ice-pwd`). Checks wait for them.
    pub fn set_remote_credentials(&mut self, ufrag: &str, pwd: &str) -> Result<(), Error> {
        let c = Credentials {
            ufrag: ufrag.to_owned(),
            pwd: pwd.to_owned(),
        };
        check_credentials(&c)?;
        self.remote_key = Some(Arc::new(IntegrityKey::short_term(pwd)));
        self.remote_creds = Some(c);
        // Checks (triggered ones from early requests too) were waiting for these.
        if let Some(now) = self.last_now {
            self.wake(now);
        }
        Ok(())
    }

    /// The peer is ICE-lite (`a=ice-lite`): a full agent then takes the controlling role
    /// (RFC 8445 §6.1.1). Between two lite agents, the pair with the highest priority is used
    /// without checks.
    pub fn set_remote_lite(&mut self, lite: bool) {
        self.remote_lite = lite;
        if lite && !self.config.lite && self.role != Role::Controlling {
            self.set_role(Role::Controlling);
        }
    }

    /// Starts an ICE restart: new local credentials (returned, to signal in a new offer or
    /// answer). The current selected pair keeps carrying data (and consent) until a pair of
    /// the new generation is nominated. Local candidates are emitted again for trickle.
    pub fn restart(&mut self, now: Instant) -> Result<Credentials, Error> {
        self.check_open()?;
        let creds = Credentials {
            ufrag: random_ice_string(self.rng.as_mut(), 8)?,
            pwd: random_ice_string(self.rng.as_mut(), 24)?,
        };
        let old_key = std::mem::replace(&mut self.local_key, IntegrityKey::short_term(&creds.pwd));
        let old = std::mem::replace(&mut self.local_creds, creds.clone());
        if self.selected.is_some() {
            self.prev_local = Some(Box::new((old, old_key)));
        }
        self.generation = self.generation.wrapping_add(1);
        self.remotes.clear();
        self.prflx_count = 0;
        self.pairs.clear();
        self.triggered.clear();
        self.txns
            .retain(|t| !matches!(t.purpose, Purpose::Check { .. }));
        self.remote_creds = None;
        self.remote_key = None;
        self.remote_end = false;
        self.nominated = false;
        self.failed = false;
        self.last_remote_added = Some(now);
        let again: Vec<Candidate> = self
            .locals
            .iter()
            .filter(|l| !(l.removed || self.config.relay_only && l.relay.is_none()))
            .map(|l| l.cand.clone())
            .collect();
        for c in again {
            self.push_event(Event::LocalCandidate(Box::new(c)));
        }
        if self.gathering == GatheringState::Complete {
            self.push_event(Event::GatheringComplete);
        }
        self.update_state(now);
        Ok(creds)
    }

    /// Closes the agent: TURN allocations are released (Refresh with lifetime 0, left in
    /// [`poll_transmit`](rtcwire_proto::SansIo::poll_transmit)), nothing else is sent, and
    /// the state becomes `closed`.
    pub fn close(&mut self, now: Instant) {
        if self.state == IceState::Closed {
            return;
        }
        self.txns.clear();
        self.pairs.clear();
        self.triggered.clear();
        // What was queued before goes unsent; what follows is only the deallocations.
        self.out.clear();
        self.turn_close(now);
        self.selected = None;
        self.set_state(IceState::Closed);
    }

    /// Whether a datagram is the agent's: a STUN message, or anything from one of our TURN
    /// servers (ChannelData and TURN responses). Cheap: looks at a few bytes only.
    #[must_use]
    pub fn accepts(&self, d: &Datagram<'_>) -> bool {
        if rtcwire_stun::is_stun(d.contents) {
            return true;
        }
        d.source
            .is_some_and(|s| self.allocs.iter().any(|a| a.server.addr == s))
    }

    /// Writes `data` for the selected pair into `buf` (appended; wrapped in ChannelData or a
    /// Send indication when the pair is relayed) and says where to send it.
    pub fn send(&mut self, data: &[u8], buf: &mut Vec<u8>) -> Result<Transmit, Error> {
        if self.state == IceState::Closed {
            return Err(Error::Closed);
        }
        let sel = self.selected.as_ref().ok_or(Error::NotConnected)?;
        let local = self.locals.get(sel.local).ok_or(Error::NotConnected)?;
        let dest = sel.remote_cand.address;
        match local.relay {
            None => {
                buf.extend_from_slice(data);
                Ok(Transmit {
                    transport: local.cand.transport,
                    source: Some(local.base),
                    destination: Some(dest),
                    size: data.len(),
                    segment_size: None,
                })
            }
            Some(a) => self.turn_wrap_into(a, dest, data, buf),
        }
    }

    pub(crate) fn push_event(&mut self, e: Event) {
        if self.events.len() >= MAX_EVENTS {
            self.events.pop_front();
        }
        self.events.push_back(e);
    }

    pub(crate) fn new_tid(&mut self) -> Result<TransactionId, Error> {
        let mut id = [0u8; 12];
        if self.rng.fill(&mut id).is_err() {
            self.stats.rng_failures += 1;
            return Err(Error::Rng);
        }
        Ok(TransactionId(id))
    }

    pub(crate) fn set_state(&mut self, s: IceState) {
        if self.state != s {
            tracing::debug!(from = ?self.state, to = ?s, "ice state");
            self.state = s;
            self.push_event(Event::StateChanged(s));
        }
    }

    /// Takes the controlling or the controlled role, as offer/answer decided (RFC 8445
    /// §6.1.1: the offerer controls). Meant for before the checks begin; pair priorities are
    /// recomputed, and candidates, TURN allocations and credentials stay as they are. An
    /// ICE-lite agent is always controlled and ignores `true`.
    pub fn set_controlling(&mut self, controlling: bool) {
        let role = if controlling && !self.config.lite {
            Role::Controlling
        } else {
            Role::Controlled
        };
        self.set_role(role);
    }

    pub(crate) fn set_role(&mut self, role: Role) {
        if self.role == role {
            return;
        }
        self.role = role;
        self.push_event(Event::RoleChanged(role));
        let controlling = role == Role::Controlling;
        for i in 0..self.pairs.len() {
            let prio = self.pair_prio(self.pairs[i].local, self.pairs[i].remote, controlling);
            if let Some(p) = self.pairs.get_mut(i) {
                p.priority = prio;
            }
        }
        self.sort_pairs();
    }
}

impl SansIo for Agent {
    type Event = Event;
    type Error = Error;

    fn handle_read(&mut self, now: Instant, d: Datagram<'_>) -> Result<(), Error> {
        match self.handle_datagram(now, d)? {
            Received::Stun => Ok(()),
            Received::Data { source, contents } => {
                self.push_event(Event::Data {
                    source,
                    contents: contents.to_vec(),
                });
                Ok(())
            }
        }
    }

    fn poll_transmit(&mut self, _now: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
        let o = self.out.pop_front()?;
        buf.extend_from_slice(&o.bytes);
        Some(Transmit {
            transport: o.transport,
            source: Some(o.source),
            destination: Some(o.dest),
            size: o.bytes.len(),
            segment_size: None,
        })
    }

    fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.next_timeout()
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.on_timeout(now);
    }
}

/// Wraps data for a relayed send into `buf`: used by [`Agent::send`] and for checks.
pub(crate) fn send_indication(
    tid: TransactionId,
    peer: SocketAddr,
    data: &[u8],
    buf: &mut Vec<u8>,
) -> Result<usize, Error> {
    let mut b = MessageBuilder::new(
        buf,
        MessageType::new(rtcwire_stun::Method::SEND, rtcwire_stun::Class::Indication),
        tid,
    )?;
    b.attr(&Attribute::XorPeerAddress(peer))?
        .attr(&Attribute::Data(data))?;
    Ok(b.finish())
}

/// Appends a ChannelData message.
pub(crate) fn channel_data(
    number: u16,
    data: &[u8],
    transport: Transport,
    buf: &mut Vec<u8>,
) -> Result<usize, Error> {
    // Over TCP, ChannelData is padded to a multiple of 4 (RFC 8656 §12.5).
    let t = match transport {
        Transport::Udp => rtcwire_stun::Transport::Udp,
        Transport::Tcp => rtcwire_stun::Transport::Tcp,
    };
    Ok(ChannelData { number, data }.emit(t, buf)?)
}

#[cfg(test)]
mod size_tests {
    #[test]
    #[allow(clippy::print_stdout)]
    fn sizes() {
        use std::mem::size_of;
        println!(
            "Agent {} Config {} IntegrityKey {} Candidate {} Local {} Remote {} Pair {} Txn {} Outgoing {} Event {} Selected {} Allocation {}",
            size_of::<super::Agent>(),
            size_of::<super::Config>(),
            size_of::<rtcwire_stun::IntegrityKey>(),
            size_of::<crate::Candidate>(),
            size_of::<super::Local>(),
            size_of::<super::Remote>(),
            size_of::<super::Pair>(),
            size_of::<super::Txn>(),
            size_of::<super::Outgoing>(),
            size_of::<super::Event>(),
            size_of::<super::Selected>(),
            size_of::<crate::turn::Allocation>(),
        );
    }
}
