//! The agent's public types: roles, states, events, configuration, counters.

use std::net::SocketAddr;
use std::time::Duration;

use crate::candidate::Candidate;
use crate::turn::TurnServer;

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
    /// [`Agent::close`](crate::Agent::close) was called.
    Closed,
}

/// Local gathering progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatheringState {
    /// Nothing gathered yet.
    New,
    /// Host candidates given; STUN/TURN answers may still come.
    Gathering,
    /// [`Agent::end_of_local_candidates`](crate::Agent::end_of_local_candidates) was called and every server answered or gave up.
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
    /// A datagram that is not STUN arrived on a valid pair. Only [`SansIo::handle_read`](rtcwire_proto::SansIo::handle_read)
    /// emits this (it has to copy); [`Agent::handle_datagram`](crate::Agent::handle_datagram) returns a borrow instead.
    Data {
        /// The remote address it came from (the peer, also when relayed).
        source: SocketAddr,
        /// The bytes.
        contents: Vec<u8>,
    },
}

/// What [`Agent::handle_datagram`](crate::Agent::handle_datagram) made of a datagram.
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
    /// Remote TCP candidates kept but not paired: no `tcptype` (RFC 6544 §4.5).
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
    /// [`Agent::resolve_remote_hostname`](crate::Agent::resolve_remote_hostname).
    NeedsResolution(String),
    /// Kept but not paired: component 2 under rtcp-mux, or TCP without `tcptype`.
    Ignored,
}
