//! Candidates: host candidates handed in by the driver, candidates gathered from STUN and
//! TURN servers, remote candidates from signalling (trickled or not), end-of-candidates.

use std::net::SocketAddr;
use std::time::Instant;

use rtcwire_proto::Transport;
use rtcwire_stun::{MessageBuilder, MessageType};

use crate::agent::{Agent, Local, Purpose, Remote, BASE_RTO};
use crate::candidate::{Candidate, CandidateKind};
use crate::turn::Allocation;
use crate::types::{Event, GatheringState, RemoteCandidateOutcome};
use crate::Error;

impl Agent {
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
}
