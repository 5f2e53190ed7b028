//! The agent: public API, state, timers and the [`SansIo`] implementation. Connectivity
//! checks live in [`crate::checks`], the TURN client in [`crate::turn`].

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rtcwire_proto::{Datagram, Rng, SansIo, Transmit, Transport};
use rtcwire_stun::{
    Attribute, ChannelData, IntegrityKey, Message, MessageBuilder, MessageType, TransactionId,
};

use crate::candidate::{Candidate, CandidateKind};
use crate::turn::{Allocation, TurnServer};
use crate::Error;

/// Which side decides the nomination (RFC 8445 §6.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Nominates pairs with USE-CANDIDATE.
    Controlling,
    /// Accepts the peer's nomination.
    Controlled,
}

/// The ICE transport state, with the W3C `RTCIceTransportState` transitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IceState {
    /// No remote candidates yet.
    New,
    /// Checks are running; nothing is selected yet.
    Checking,
    /// A pair is nominated and selected; other checks or gathering may still go on.
    Connected,
    /// A pair is selected, local gathering is complete and the peer sent end-of-candidates.
    Completed,
    /// The selected pair has not been heard from for [`Config::disconnected_timeout`]; it may
    /// recover.
    Disconnected,
    /// Every pair failed (after end-of-candidates) or consent was lost: restart ICE.
    Failed,
    /// [`Agent::close`] was called.
    Closed,
}

/// Local gathering progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatheringState {
    /// Nothing gathered yet.
    New,
    /// Host candidates given; STUN/TURN answers may still come.
    Gathering,
    /// [`Agent::end_of_local_candidates`] was called and every server answered or gave up.
    Complete,
}

/// ICE credentials (`a=ice-ufrag`, `a=ice-pwd`).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The username fragment.
    pub ufrag: String,
    /// The password.
    pub pwd: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("ufrag", &self.ufrag)
            .field("pwd", &"..")
            .finish()
    }
}

/// The pair data flows on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectedPair {
    /// Our candidate.
    pub local: Candidate,
    /// The peer's candidate.
    pub remote: Candidate,
}

/// What the agent tells its driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A local candidate to signal to the peer (trickle ICE).
    LocalCandidate(Box<Candidate>),
    /// Gathering is complete: signal end-of-candidates.
    GatheringComplete,
    /// The transport state changed.
    StateChanged(IceState),
    /// Data now flows on this pair (first nomination, a better nomination, or the new pair
    /// after an ICE restart).
    SelectedPairChanged(Box<SelectedPair>),
    /// The role changed after a role conflict (RFC 8445 §7.3.1.1).
    RoleChanged(Role),
    /// A datagram that is not STUN arrived on a valid pair. Only [`SansIo::handle_read`]
    /// emits this (it has to copy); [`Agent::handle_datagram`] returns a borrow instead.
    Data {
        /// The remote address it came from (the peer, also when relayed).
        source: SocketAddr,
        /// The bytes.
        contents: Vec<u8>,
    },
}

/// What [`Agent::handle_datagram`] made of a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received<'a> {
    /// A STUN or TURN message the agent consumed.
    Stun,
    /// Application data (DTLS, SRTP, …) from `source` on a valid pair; unwrapped from
    /// TURN when it came through a relay.
    Data {
        /// The peer's address.
        source: SocketAddr,
        /// The data, borrowed from the datagram.
        contents: &'a [u8],
    },
}

/// Tunables. `Default` follows RFC 8445, RFC 7675 and libwebrtc where they give a value.
#[derive(Debug, Clone)]
pub struct Config {
    /// Start in the controlling role (the offerer, usually).
    pub controlling: bool,
    /// Be an ICE-lite agent (RFC 8445 §2.5): no checks sent, always controlled.
    pub lite: bool,
    /// Pacing of new checks (RFC 8445 §14.2 Ta). libwebrtc paces at about 50 ms.
    pub ta: Duration,
    /// Transmissions of one check before its pair fails (RFC 8489 Rc = 7).
    pub check_max_sends: u32,
    /// Upper bound on the retransmission timeout of checks (the RTO doubles up to it).
    pub max_rto: Duration,
    /// Mean interval of consent checks (RFC 7675 §5.1: 5 s, randomised ±20 %).
    pub consent_interval: Duration,
    /// Consent is lost when no authenticated response arrived for this long (RFC 7675: 30 s).
    pub consent_timeout: Duration,
    /// `disconnected` when nothing authenticated was heard on the selected pair for this long.
    pub disconnected_timeout: Duration,
    /// When every pair failed but the peer never sent end-of-candidates, `failed` after this
    /// long without a new remote candidate.
    pub checking_timeout: Duration,
    /// STUN servers for server-reflexive candidates.
    pub stun_servers: Vec<SocketAddr>,
    /// TURN servers for relayed candidates.
    pub turn_servers: Vec<TurnServer>,
    /// Pair only relayed local candidates (W3C `iceTransportPolicy: "relay"`).
    pub relay_only: bool,
    /// Cap on candidate pairs (RFC 8445 §6.1.2.5 recommends 100).
    pub max_pairs: usize,
    /// Cap on outstanding STUN transactions.
    pub max_transactions: usize,
    /// Cap on remote candidates (signalled and peer-reflexive together).
    pub max_remote_candidates: usize,
    /// Cap on remembered peer-reflexive remote candidates.
    pub max_peer_reflexive: usize,
    /// Cap on local candidates.
    pub max_local_candidates: usize,
    /// Local credentials to use instead of random ones.
    pub local_credentials: Option<Credentials>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            controlling: false,
            lite: false,
            ta: Duration::from_millis(50),
            check_max_sends: 7,
            max_rto: Duration::from_millis(1500),
            consent_interval: Duration::from_secs(5),
            consent_timeout: Duration::from_secs(30),
            disconnected_timeout: Duration::from_secs(8),
            checking_timeout: Duration::from_secs(15),
            stun_servers: Vec::new(),
            turn_servers: Vec::new(),
            relay_only: false,
            max_pairs: 100,
            max_transactions: 64,
            max_remote_candidates: 64,
            max_peer_reflexive: 16,
            max_local_candidates: 16,
            local_credentials: None,
        }
    }
}

/// Counters of what the agent dropped or did, for stats and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Binding requests sent (checks and consent checks, first transmissions).
    pub checks_sent: u64,
    /// Retransmissions of any transaction.
    pub retransmits: u64,
    /// Authenticated Binding requests received.
    pub requests_received: u64,
    /// Authenticated responses received.
    pub responses_received: u64,
    /// Requests or responses whose MESSAGE-INTEGRITY failed (dropped, never answered).
    pub bad_integrity: u64,
    /// Requests for another ufrag.
    pub wrong_username: u64,
    /// Role conflicts resolved (487 sent or role switched).
    pub role_conflicts: u64,
    /// Remote candidates ignored: component 2 under rtcp-mux.
    pub ignored_component2: u64,
    /// Remote TCP candidates kept but not paired (ICE-TCP is not implemented).
    pub ignored_tcp: u64,
    /// Inputs dropped because a cap was reached.
    pub limit_drops: u64,
    /// Datagrams refused (any `Err` from `handle_read`).
    pub refused: u64,
    /// Times the random source failed.
    pub rng_failures: u64,
}

/// What adding a remote candidate did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteCandidateOutcome {
    /// Paired (or kept for pairing).
    Added,
    /// Same address as one already known: nothing new.
    Duplicate,
    /// Its address is a host name (`.local` mDNS): resolve it and call
    /// [`Agent::resolve_remote_hostname`].
    NeedsResolution(String),
    /// Kept but not paired: component 2 under rtcp-mux, or TCP (not implemented).
    Ignored,
}

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
    pub(crate) key: IntegrityKey,
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
const MAX_QUEUED: usize = 256;
/// Most events queued; older ones are dropped beyond (a driver that never polls).
const MAX_EVENTS: usize = 1024;
/// Transmissions of one consent check.
const CONSENT_MAX_SENDS: u32 = 4;
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
    pub(crate) remote_key: Option<IntegrityKey>,
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

    /// The selected pair, if any.
    #[must_use]
    pub fn selected_pair(&self) -> Option<SelectedPair> {
        self.selected.as_ref().map(|s| SelectedPair {
            local: s.local_cand.clone(),
            remote: s.remote_cand.clone(),
        })
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
                .map_or(0, |_| size_of::<(Credentials, IntegrityKey)>());
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
        self.remote_key = Some(IntegrityKey::short_term(pwd));
        self.remote_creds = Some(c);
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

    /// Adds a host candidate: a local address the driver has a socket on (UDP). Starts
    /// STUN and TURN gathering from it. Emits [`Event::LocalCandidate`].
    pub fn add_host_candidate(
        &mut self,
        now: Instant,
        address: SocketAddr,
    ) -> Result<Candidate, Error> {
        self.check_open()?;
        if let Some(l) = self.locals.iter().find(|l| {
            !l.removed
                && l.base == address
                && l.relay.is_none()
                && l.cand.transport == Transport::Udp
        }) {
            return Ok(l.cand.clone());
        }
        if self.locals.len() >= self.config.max_local_candidates {
            self.stats.limit_drops += 1;
            return Err(Error::Limit("local candidates"));
        }
        let hosts = self
            .locals
            .iter()
            .filter(|l| l.cand.kind == CandidateKind::Host && l.cand.transport == Transport::Udp)
            .count();
        // First-given first; IPv6 and IPv4 alternate only as the caller orders them.
        let pref =
            65535u16.saturating_sub(u16::try_from(hosts).unwrap_or(u16::MAX).saturating_mul(256));
        let cand = Candidate::host(address, pref);
        self.locals.push(Local {
            cand: cand.clone(),
            base: address,
            relay: None,
            local_preference: pref,
            removed: false,
        });
        let idx = self.locals.len() - 1;
        if self.gathering == GatheringState::New {
            self.gathering = GatheringState::Gathering;
        }
        if !self.config.relay_only {
            self.push_event(Event::LocalCandidate(Box::new(cand.clone())));
            self.pair_local(idx);
        }
        let servers: Vec<SocketAddr> = self
            .config
            .stun_servers
            .iter()
            .copied()
            .filter(|s| s.is_ipv4() == address.is_ipv4())
            .collect();
        if !self.config.relay_only {
            for server in servers {
                let tid = self.new_tid()?;
                let mut bytes = Vec::with_capacity(28);
                let mut b = MessageBuilder::new(&mut bytes, MessageType::BINDING_REQUEST, tid)?;
                b.fingerprint()?;
                b.finish();
                let purpose = Purpose::ServerBinding { local: idx, server };
                self.start_txn(now, tid, purpose, None, address, server, bytes, 7, BASE_RTO)?;
            }
        }
        self.turn_start(now, idx)?;
        self.check_gathering_done();
        self.wake(now);
        Ok(cand)
    }

    /// Adds a TCP host candidate (ICE-TCP, RFC 6544). `Passive`: the driver listens on
    /// `address`; `Active`: the driver opens connections from `address`'s IP (the candidate
    /// is signalled with port 9) and reports datagrams on them with this candidate's address
    /// (port 9) as destination. The driver owns the connections and the RFC 4571 framing:
    /// the agent sends and receives whole messages tagged [`Transport::Tcp`], and keeps no
    /// retransmission timer for them (TCP is reliable). UDP candidates are preferred.
    pub fn add_tcp_host_candidate(
        &mut self,
        now: Instant,
        address: SocketAddr,
        tcp_type: crate::TcpType,
    ) -> Result<Candidate, Error> {
        self.check_open()?;
        let address = match tcp_type {
            crate::TcpType::Active => SocketAddr::new(address.ip(), 9),
            _ => address,
        };
        if let Some(l) = self
            .locals
            .iter()
            .find(|l| !l.removed && l.base == address && l.cand.transport == Transport::Tcp)
        {
            return Ok(l.cand.clone());
        }
        if self.locals.len() >= self.config.max_local_candidates {
            self.stats.limit_drops += 1;
            return Err(Error::Limit("local candidates"));
        }
        // RFC 6544 §4.2: local preference = 2^13 × direction-pref + other-pref, with
        // direction-pref 6 (active), 4 (passive), 2 (so) for host candidates.
        let direction: u16 = match tcp_type {
            crate::TcpType::Active => 6,
            crate::TcpType::Passive => 4,
            crate::TcpType::So => 2,
        };
        let pref = (direction << 13) | 8191;
        let mut cand = Candidate::host(address, pref);
        cand.transport = Transport::Tcp;
        cand.tcp_type = Some(tcp_type);
        cand.foundation =
            crate::candidate::foundation(CandidateKind::Host, address.ip(), None, Transport::Tcp);
        self.locals.push(Local {
            cand: cand.clone(),
            base: address,
            relay: None,
            local_preference: pref,
            removed: false,
        });
        let idx = self.locals.len() - 1;
        if self.gathering == GatheringState::New {
            self.gathering = GatheringState::Gathering;
        }
        if !self.config.relay_only {
            self.push_event(Event::LocalCandidate(Box::new(cand.clone())));
            self.pair_local(idx);
        }
        self.check_gathering_done();
        self.wake(now);
        Ok(cand)
    }

    /// Removes a host candidate (the interface went away). Its pairs go; a relayed
    /// candidate allocated from it stays until its server stops answering.
    pub fn remove_host_candidate(&mut self, address: SocketAddr) {
        let Some(idx) = self
            .locals
            .iter()
            .position(|l| !l.removed && l.base == address && l.relay.is_none())
        else {
            return;
        };
        if let Some(l) = self.locals.get_mut(idx) {
            l.removed = true;
        }
        let gone: Vec<u32> = self
            .pairs
            .iter()
            .filter(|p| p.local == idx)
            .map(|p| p.id)
            .collect();
        self.pairs.retain(|p| p.local != idx);
        self.triggered.retain(|id| !gone.contains(id));
        self.txns
            .retain(|t| t.via != Some(idx) || matches!(t.purpose, Purpose::Consent));
    }

    /// The driver will add no more host candidates: once the servers answered, gathering is
    /// complete ([`Event::GatheringComplete`]).
    pub fn end_of_local_candidates(&mut self) {
        self.local_end = true;
        self.check_gathering_done();
    }

    /// Adds a remote candidate (trickle: at any time). Component-2 candidates (rtcp-mux)
    /// and TCP candidates are kept out of pairing and counted.
    pub fn add_remote_candidate(
        &mut self,
        now: Instant,
        cand: Candidate,
    ) -> Result<RemoteCandidateOutcome, Error> {
        self.check_open()?;
        if cand.component != 1 {
            self.stats.ignored_component2 += 1;
            return Ok(RemoteCandidateOutcome::Ignored);
        }
        if cand.transport == Transport::Tcp && cand.tcp_type.is_none() {
            // A TCP candidate without tcptype cannot be paired (RFC 6544 §4.5).
            self.stats.ignored_tcp += 1;
            return Ok(RemoteCandidateOutcome::Ignored);
        }
        if let Some(ufrag) = cand.extension("ufrag") {
            if self.remote_creds.as_ref().is_some_and(|c| c.ufrag != ufrag) {
                // A candidate of another ICE generation (before or after a restart).
                return Ok(RemoteCandidateOutcome::Ignored);
            }
        }
        if cand.is_unresolved() {
            let name = cand.hostname.clone().unwrap_or_default();
            if self.remotes.len() >= self.config.max_remote_candidates {
                self.stats.limit_drops += 1;
                return Err(Error::Limit("remote candidates"));
            }
            self.remotes.push(Remote {
                cand,
                authenticated: false,
            });
            return Ok(RemoteCandidateOutcome::NeedsResolution(name));
        }
        self.insert_remote(now, cand)
    }

    fn insert_remote(
        &mut self,
        now: Instant,
        cand: Candidate,
    ) -> Result<RemoteCandidateOutcome, Error> {
        if let Some(r) = self
            .remotes
            .iter_mut()
            .find(|r| r.cand.address == cand.address && r.cand.transport == cand.transport)
        {
            if r.cand.kind == CandidateKind::PeerReflexive {
                // The signalled candidate replaces what we learned from a check.
                r.cand.kind = cand.kind;
                r.cand.foundation = cand.foundation;
                r.cand.priority = cand.priority;
                r.cand.related = cand.related;
                self.prflx_count = self.prflx_count.saturating_sub(1);
            }
            return Ok(RemoteCandidateOutcome::Duplicate);
        }
        if self.remotes.len() >= self.config.max_remote_candidates {
            self.stats.limit_drops += 1;
            return Err(Error::Limit("remote candidates"));
        }
        self.remotes.push(Remote {
            cand,
            authenticated: false,
        });
        self.last_remote_added = Some(now);
        let idx = self.remotes.len() - 1;
        self.pair_remote(idx);
        self.turn_upkeep(now);
        if self.remote_lite && self.config.lite {
            self.lite_to_lite(now);
        }
        self.wake(now);
        self.update_state(now);
        Ok(RemoteCandidateOutcome::Added)
    }

    /// Supplies the address a remote host name (`.local`) resolved to; its candidate is then
    /// paired and checked.
    pub fn resolve_remote_hostname(
        &mut self,
        now: Instant,
        hostname: &str,
        ip: std::net::IpAddr,
    ) -> Result<(), Error> {
        let mut newly = Vec::new();
        for i in 0..self.remotes.len() {
            let Some(r) = self.remotes.get_mut(i) else {
                break;
            };
            if r.cand.is_unresolved() && r.cand.hostname.as_deref() == Some(hostname) {
                r.cand.resolve(ip);
                newly.push(i);
            }
        }
        for i in newly {
            let addr = self.remotes.get(i).map(|r| r.cand.address);
            let dup = self
                .remotes
                .iter()
                .enumerate()
                .any(|(j, r)| j != i && Some(r.cand.address) == addr);
            if !dup {
                self.last_remote_added = Some(now);
                self.pair_remote(i);
            }
        }
        self.wake(now);
        self.update_state(now);
        Ok(())
    }

    /// The peer signalled end-of-candidates.
    pub fn end_of_remote_candidates(&mut self, now: Instant) {
        self.remote_end = true;
        self.update_state(now);
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

    /// Closes the agent: TURN allocations are released (Refresh with lifetime 0), nothing
    /// else is sent, and the state becomes `closed`.
    pub fn close(&mut self, now: Instant) {
        if self.state == IceState::Closed {
            return;
        }
        self.txns.clear();
        self.pairs.clear();
        self.triggered.clear();
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

    /// Feeds one datagram; returns application data as a borrow (no copy). Use this from a
    /// session; [`SansIo::handle_read`] wraps it.
    pub fn handle_datagram<'a>(
        &mut self,
        now: Instant,
        d: Datagram<'a>,
    ) -> Result<Received<'a>, Error> {
        let r = self.handle_datagram_inner(now, d);
        if r.is_err() {
            self.stats.refused += 1;
        } else {
            self.turn_upkeep(now);
        }
        self.update_state(now);
        r
    }

    fn handle_datagram_inner<'a>(
        &mut self,
        now: Instant,
        d: Datagram<'a>,
    ) -> Result<Received<'a>, Error> {
        self.check_open()?;
        let src = d.source.ok_or(Error::MissingAddress)?;
        if let Some(a) = self.alloc_for(src, d.destination) {
            return self.turn_handle(now, a, d.contents);
        }
        let local = self.local_for(d.destination, d.transport, src)?;
        if rtcwire_stun::is_stun(d.contents) {
            let msg = Message::parse(d.contents)?;
            self.handle_stun_on(now, local, src, &msg)?;
            return Ok(Received::Stun);
        }
        self.data_from(local, src, d.contents)
    }

    /// Feeds a STUN message the session already parsed (so it is parsed once). `d` is the
    /// datagram it came in.
    pub fn handle_stun(
        &mut self,
        now: Instant,
        d: &Datagram<'_>,
        msg: &Message<'_>,
    ) -> Result<(), Error> {
        let r = (|| {
            self.check_open()?;
            let src = d.source.ok_or(Error::MissingAddress)?;
            if let Some(a) = self.alloc_for(src, d.destination) {
                return self.turn_handle(now, a, d.contents).map(|_| ());
            }
            let local = self.local_for(d.destination, d.transport, src)?;
            self.handle_stun_on(now, local, src, msg)
        })();
        if r.is_err() {
            self.stats.refused += 1;
        } else {
            self.turn_upkeep(now);
        }
        self.update_state(now);
        r
    }

    pub(crate) fn data_from<'a>(
        &self,
        local: usize,
        src: SocketAddr,
        contents: &'a [u8],
    ) -> Result<Received<'a>, Error> {
        let on_selected = self
            .selected
            .as_ref()
            .is_some_and(|s| s.local == local && s.remote_cand.address == src);
        let on_valid = self.pairs.iter().any(|p| {
            p.local == local
                && self.remotes.get(p.remote).is_some_and(|r| {
                    r.cand.address == src && (p.state == PairState::Succeeded || r.authenticated)
                })
        });
        if on_selected || on_valid {
            Ok(Received::Data {
                source: src,
                contents,
            })
        } else {
            Err(Error::UnknownSource(src))
        }
    }

    fn local_for(
        &self,
        dest: Option<SocketAddr>,
        transport: Transport,
        _src: SocketAddr,
    ) -> Result<usize, Error> {
        let is_host = |l: &Local| !l.removed && l.relay.is_none() && l.cand.transport == transport;
        if let Some(d) = dest {
            if let Some(i) = self.locals.iter().position(|l| is_host(l) && l.base == d) {
                return Ok(i);
            }
            // A socket bound to a wildcard address may not know the exact local IP.
            if d.ip().is_unspecified() {
                if let Some(i) = self
                    .locals
                    .iter()
                    .position(|l| is_host(l) && l.base.port() == d.port())
                {
                    return Ok(i);
                }
            }
        }
        Err(Error::UnknownDestination(dest))
    }

    fn check_open(&self) -> Result<(), Error> {
        if self.state == IceState::Closed {
            Err(Error::Closed)
        } else {
            Ok(())
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

    /// Queues `bytes` to `dest` from local candidate `via` (through its TURN allocation when
    /// relayed) or, with `via == None`, straight from `source`.
    pub(crate) fn emit(
        &mut self,
        via: Option<usize>,
        source: SocketAddr,
        dest: SocketAddr,
        bytes: Vec<u8>,
    ) -> Result<(), Error> {
        let relay = via.and_then(|i| self.locals.get(i)).and_then(|l| l.relay);
        let (source, dest, bytes, transport) = match relay {
            Some(a) => {
                let mut wrapped = Vec::with_capacity(bytes.len() + 40);
                let t = self.turn_wrap_into(a, dest, &bytes, &mut wrapped)?;
                (
                    t.source.unwrap_or(source),
                    t.destination.unwrap_or(dest),
                    wrapped,
                    t.transport,
                )
            }
            None => {
                let transport = match via.and_then(|i| self.locals.get(i)) {
                    Some(l) => l.cand.transport,
                    // Our own requests to a server: TURN over TCP goes on its stream.
                    None => self
                        .allocs
                        .iter()
                        .find(|a| a.server.addr == dest)
                        .map_or(Transport::Udp, |a| a.server.transport),
                };
                (source, dest, bytes, transport)
            }
        };
        if self.out.len() >= MAX_QUEUED {
            self.out.pop_front();
            self.stats.limit_drops += 1;
        }
        self.out.push_back(Outgoing {
            transport,
            source,
            dest,
            bytes,
        });
        Ok(())
    }

    /// Sends a new transaction and remembers it for retransmission.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn start_txn(
        &mut self,
        now: Instant,
        tid: TransactionId,
        purpose: Purpose,
        via: Option<usize>,
        source: SocketAddr,
        dest: SocketAddr,
        bytes: Vec<u8>,
        max_sends: u32,
        rto: Duration,
    ) -> Result<(), Error> {
        if self.txns.len() >= self.config.max_transactions {
            self.stats.limit_drops += 1;
            return Err(Error::Limit("transactions"));
        }
        self.emit(via, source, dest, bytes.clone())?;
        self.txns.push(Txn {
            tid,
            purpose,
            via,
            source,
            dest,
            bytes,
            sends: 1,
            max_sends,
            rto,
            next: now + rto,
        });
        Ok(())
    }

    pub(crate) fn set_state(&mut self, s: IceState) {
        if self.state != s {
            tracing::debug!(from = ?self.state, to = ?s, "ice state");
            self.state = s;
            self.push_event(Event::StateChanged(s));
        }
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

    pub(crate) fn check_gathering_done(&mut self) {
        if self.gathering == GatheringState::Complete || !self.local_end {
            return;
        }
        let pending = self
            .txns
            .iter()
            .any(|t| matches!(t.purpose, Purpose::ServerBinding { .. }))
            || self.allocs.iter().any(Allocation::is_gathering);
        if !pending {
            self.gathering = GatheringState::Complete;
            self.push_event(Event::GatheringComplete);
        }
    }

    /// Adds a local candidate found by gathering (srflx or relayed) and signals it.
    pub(crate) fn add_gathered(
        &mut self,
        cand: Candidate,
        base: SocketAddr,
        relay: Option<usize>,
    ) -> Option<usize> {
        if self
            .locals
            .iter()
            .any(|l| !l.removed && l.cand.address == cand.address && l.cand.kind == cand.kind)
        {
            return None;
        }
        if self.locals.len() >= self.config.max_local_candidates {
            self.stats.limit_drops += 1;
            return None;
        }
        self.push_event(Event::LocalCandidate(Box::new(cand.clone())));
        self.locals.push(Local {
            local_preference: 65535,
            cand,
            base,
            relay,
            removed: false,
        });
        let idx = self.locals.len() - 1;
        self.pair_local(idx);
        Some(idx)
    }

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
    fn checks_exhausted(&self, now: Instant) -> bool {
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

    fn lite_to_lite(&mut self, now: Instant) {
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

    fn next_timeout(&self) -> Option<Instant> {
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

    fn on_timeout(&mut self, now: Instant) {
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
    fn compact(&mut self) {
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

    fn retransmit(&mut self, now: Instant) {
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
            t.rto = (t.rto * 2).min(self.config.max_rto.max(BASE_RTO));
            t.next = now + t.rto;
            let (via, source, dest, bytes) = (t.via, t.source, t.dest, t.bytes.clone());
            self.stats.retransmits += 1;
            let _ = self.emit(via, source, dest, bytes);
            i += 1;
        }
    }

    fn on_txn_timeout(&mut self, now: Instant, t: Txn) {
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

    fn consent(&mut self, now: Instant) {
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
    Ok(ChannelData { number, data }.encode(t, buf)?)
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
