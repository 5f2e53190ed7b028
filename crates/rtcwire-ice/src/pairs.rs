//! Pairing (RFC 8445 §6.1.2): pair priorities and order, which local and remote candidates
//! may pair, adding a pair under the pair limit with redundant-pair pruning, and the
//! foundation rule that unfreezes checks.

use crate::agent::{Agent, Pair, PairState, Role};
use crate::candidate::{pair_priority, CandidateKind, TcpType};

impl Agent {
    pub(crate) fn pair_prio(&self, local: usize, remote: usize, controlling: bool) -> u64 {
        let l = self.locals.get(local).map_or(0, |l| l.cand.priority);
        let r = self.remotes.get(remote).map_or(0, |r| r.cand.priority);
        if controlling {
            pair_priority(l, r)
        } else {
            pair_priority(r, l)
        }
    }

    pub(crate) fn sort_pairs(&mut self) {
        self.pairs.sort_by_key(|p| std::cmp::Reverse(p.priority));
    }

    /// Whether `local` and `remote` make a pair worth checking. `proven`: the peer's check
    /// came over it, so the path works whatever the addresses suggest.
    pub(crate) fn pairable(&self, local: usize, remote: usize, proven: bool) -> bool {
        let (Some(l), Some(r)) = (self.locals.get(local), self.remotes.get(remote)) else {
            return false;
        };
        // Server-reflexive local candidates are replaced by their base, which makes their
        // pairs redundant with the host's (RFC 8445 §6.1.2.4): they are never paired.
        let relay_policy_ok = !self.config.relay_only || l.relay.is_some();
        // RFC 6544 §6.2: active pairs with passive, simultaneous-open with itself.
        let tcp_ok = matches!(
            (l.cand.transport, l.cand.tcp_type, r.cand.tcp_type),
            (rtcwire_proto::Transport::Udp, _, _)
                | (_, Some(TcpType::Active), Some(TcpType::Passive))
                | (_, Some(TcpType::Passive), Some(TcpType::Active))
                | (_, Some(TcpType::So), Some(TcpType::So))
        );
        !l.removed
            && !r.cand.is_unresolved()
            && matches!(l.cand.kind, CandidateKind::Host | CandidateKind::Relayed)
            && relay_policy_ok
            && tcp_ok
            && l.cand.transport == r.cand.transport
            && l.cand.address.is_ipv4() == r.cand.address.is_ipv4()
            // Loopback reaches only this host: not paired with another address unless a
            // check over it proved otherwise (a browser on this host checks from its LAN
            // address to our 127.0.0.1, then sends its data that way).
            && (proven
                || r.cand.address.ip().is_loopback() == l.cand.address.ip().is_loopback()
                || l.relay.is_some())
            && r.cand.address.port() != 0
    }

    pub(crate) fn pair_local(&mut self, local: usize) {
        for r in 0..self.remotes.len() {
            self.add_pair(local, r, false);
        }
    }

    pub(crate) fn pair_remote(&mut self, remote: usize) {
        for l in 0..self.locals.len() {
            self.add_pair(l, remote, false);
        }
    }

    /// Adds a pair unless it is redundant; keeps the list under `max_pairs` by dropping the
    /// lowest-priority pair not yet checked (RFC 8445 §6.1.2.5).
    pub(crate) fn add_pair(&mut self, local: usize, remote: usize, proven: bool) -> Option<u32> {
        if !self.pairable(local, remote, proven) {
            return None;
        }
        if let Some(p) = self
            .pairs
            .iter()
            .find(|p| p.local == local && p.remote == remote)
        {
            return Some(p.id);
        }
        let priority = self.pair_prio(local, remote, self.role == Role::Controlling);
        if self.pairs.len() >= self.config.max_pairs {
            let victim = self
                .pairs
                .iter()
                .enumerate()
                .filter(|(_, p)| matches!(p.state, PairState::Frozen | PairState::Waiting))
                .min_by_key(|(_, p)| p.priority)
                .map(|(i, p)| (i, p.priority, p.id));
            match victim {
                Some((i, prio, id)) if prio < priority => {
                    self.pairs.remove(i);
                    self.triggered.retain(|t| *t != id);
                }
                _ => {
                    self.stats.limit_drops += 1;
                    return None;
                }
            }
        }
        let id = self.next_pair_id;
        self.next_pair_id = self.next_pair_id.wrapping_add(1);
        // Frozen unless no other pair shares its foundation (RFC 8445 §6.1.2.6).
        let foundation_busy = self
            .pairs
            .iter()
            .any(|p| self.same_foundation(p, local, remote));
        self.pairs.push(Pair {
            id,
            local,
            remote,
            priority,
            state: if foundation_busy {
                PairState::Frozen
            } else {
                PairState::Waiting
            },
            nominated: false,
            nominate_on_success: false,
            nominating: false,
        });
        self.sort_pairs();
        Some(id)
    }

    pub(crate) fn same_foundation(&self, p: &Pair, local: usize, remote: usize) -> bool {
        let f = |l: usize, r: usize| {
            (
                self.locals.get(l).map(|x| x.cand.foundation.as_str()),
                self.remotes.get(r).map(|x| x.cand.foundation.as_str()),
            )
        };
        f(p.local, p.remote) == f(local, remote)
    }
}
