//! NAT boxes with the behaviours of RFC 4787: mapping (§4.1) and filtering (§5), mapping
//! timeout and refresh (§4.3), hairpinning (§6), and the port assignment choices (§4.2).
//!
//! A NAT has one public IP address. Hosts linked to its [inside](crate::NatId::inside) reach
//! the rest of the network through it; datagrams from the inside get a public source
//! address:port (a *mapping*), and datagrams arriving at the public address are let in only
//! through a mapping and only if the filtering rule admits their sender.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use rtcwire_proto::SeededRng;

use crate::trace::DropCause;

/// When a NAT reuses a mapping (RFC 4787 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mapping {
    /// One mapping per internal address:port, whatever the destination (the only behaviour
    /// RFC 4787 REQ-1 allows; what ICE and STUN assume).
    EndpointIndependent,
    /// A new mapping per destination IP address.
    AddressDependent,
    /// A new mapping per destination IP address and port ("symmetric NAT").
    AddressAndPortDependent,
}

/// Which outside senders a mapping admits (RFC 4787 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Filtering {
    /// Anyone may send to the mapped address ("full cone").
    EndpointIndependent,
    /// Only IP addresses the internal endpoint has sent to through this mapping.
    AddressDependent,
    /// Only address:port pairs the internal endpoint has sent to through this mapping.
    AddressAndPortDependent,
}

/// How a NAT picks the public port of a new mapping (RFC 4787 §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PortAllocation {
    /// The next free port at or after [`NatConfig::first_port`], wrapping around.
    Sequential,
    /// A random free port in `first_port..=65535`, drawn from the simulation's RNG.
    Random,
    /// The internal port when it is free ("port preservation"), else sequential.
    Preserve,
}

/// The behaviour of a NAT box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NatConfig {
    /// When mappings are reused.
    pub mapping: Mapping,
    /// Who may send in through a mapping.
    pub filtering: Filtering,
    /// How long a mapping lives without being refreshed. RFC 4787 REQ-5 asks for at least
    /// two minutes and recommends five; the default is five.
    pub mapping_timeout: Duration,
    /// Whether datagrams from the inside to one of the NAT's own public mappings are looped
    /// back in (REQ-9). With it, the looped-back datagram carries the sender's public
    /// mapping as its source.
    pub hairpinning: bool,
    /// Whether inbound datagrams also refresh a mapping (outbound ones always do, REQ-6).
    pub inbound_refresh: bool,
    /// How public ports are chosen.
    pub port_allocation: PortAllocation,
    /// Lowest public port handed out.
    pub first_port: u16,
}

impl NatConfig {
    /// A NAT with these mapping and filtering behaviours and the defaults for the rest
    /// (five-minute timeout, hairpinning on, outbound-only refresh, sequential ports from
    /// 49152).
    #[must_use]
    pub fn new(mapping: Mapping, filtering: Filtering) -> Self {
        NatConfig {
            mapping,
            filtering,
            mapping_timeout: Duration::from_secs(300),
            hairpinning: true,
            inbound_refresh: false,
            port_allocation: PortAllocation::Sequential,
            first_port: 49152,
        }
    }

    /// "Full cone": endpoint-independent mapping and filtering.
    #[must_use]
    pub fn full_cone() -> Self {
        NatConfig::new(Mapping::EndpointIndependent, Filtering::EndpointIndependent)
    }

    /// "Restricted cone": endpoint-independent mapping, address-dependent filtering.
    #[must_use]
    pub fn restricted_cone() -> Self {
        NatConfig::new(Mapping::EndpointIndependent, Filtering::AddressDependent)
    }

    /// "Port-restricted cone": endpoint-independent mapping, address-and-port-dependent
    /// filtering. The most common home NAT; ICE gets through it without TURN.
    #[must_use]
    pub fn port_restricted_cone() -> Self {
        NatConfig::new(
            Mapping::EndpointIndependent,
            Filtering::AddressAndPortDependent,
        )
    }

    /// "Symmetric": address-and-port-dependent mapping and filtering. With one on both
    /// sides, only a relay (TURN) connects the two hosts.
    #[must_use]
    pub fn symmetric() -> Self {
        NatConfig::new(
            Mapping::AddressAndPortDependent,
            Filtering::AddressAndPortDependent,
        )
    }

    /// Sets the mapping timeout.
    #[must_use]
    pub fn mapping_timeout(mut self, timeout: Duration) -> Self {
        self.mapping_timeout = timeout;
        self
    }

    /// Turns hairpinning on or off.
    #[must_use]
    pub fn hairpinning(mut self, on: bool) -> Self {
        self.hairpinning = on;
        self
    }

    /// Sets the port allocation.
    #[must_use]
    pub fn port_allocation(mut self, allocation: PortAllocation) -> Self {
        self.port_allocation = allocation;
        self
    }
}

/// What identifies a mapping: the internal address, plus as much of the destination as the
/// mapping behaviour looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct MapKey {
    internal: SocketAddr,
    remote_ip: Option<IpAddr>,
    remote_port: Option<u16>,
}

#[derive(Debug, Clone)]
struct Entry {
    key: MapKey,
    last_used: Instant,
    /// Remote address:ports the internal endpoint has sent to through this mapping.
    contacted: BTreeSet<SocketAddr>,
}

/// A NAT's state: its configuration, public address and mapping table.
#[derive(Debug, Clone)]
pub(crate) struct Nat {
    pub(crate) config: NatConfig,
    pub(crate) public_ip: IpAddr,
    by_port: BTreeMap<u16, Entry>,
    by_key: BTreeMap<MapKey, u16>,
    next_port: u16,
}

/// A public mapping as seen from outside, for tests and traces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NatMapping {
    /// The internal address:port.
    pub internal: SocketAddr,
    /// The public address:port it is mapped to.
    pub external: SocketAddr,
}

/// Random draws before falling back to a sequential search for a free port.
const RANDOM_PORT_TRIES: usize = 64;

impl Nat {
    pub(crate) fn new(public_ip: IpAddr, config: NatConfig) -> Self {
        Nat {
            config,
            public_ip,
            by_port: BTreeMap::new(),
            by_key: BTreeMap::new(),
            next_port: config.first_port,
        }
    }

    /// Translates the source of a datagram going out from `internal` to `remote`: the
    /// public address to use, creating or refreshing the mapping.
    pub(crate) fn outbound(
        &mut self,
        now: Instant,
        internal: SocketAddr,
        remote: SocketAddr,
        rng: &mut SeededRng,
    ) -> Result<SocketAddr, DropCause> {
        let key = MapKey {
            internal,
            remote_ip: match self.config.mapping {
                Mapping::EndpointIndependent => None,
                _ => Some(remote.ip()),
            },
            remote_port: match self.config.mapping {
                Mapping::AddressAndPortDependent => Some(remote.port()),
                _ => None,
            },
        };
        let port = match self.by_key.get(&key).copied() {
            Some(port) if !self.expired(port, now) => port,
            _ => {
                self.purge_expired(now);
                let port = self
                    .allocate(internal.port(), rng)
                    .ok_or(DropCause::NatNoMapping)?;
                self.by_key.insert(key, port);
                self.by_port.insert(
                    port,
                    Entry {
                        key,
                        last_used: now,
                        contacted: BTreeSet::new(),
                    },
                );
                port
            }
        };
        if let Some(entry) = self.by_port.get_mut(&port) {
            entry.last_used = now;
            entry.contacted.insert(remote);
        }
        Ok(SocketAddr::new(self.public_ip, port))
    }

    /// Translates the destination of a datagram arriving from `remote` at public `port`:
    /// the internal address, if a live mapping exists and its filter admits `remote`.
    pub(crate) fn inbound(
        &mut self,
        now: Instant,
        remote: SocketAddr,
        port: u16,
    ) -> Result<SocketAddr, DropCause> {
        if self.expired(port, now) {
            self.remove(port);
        }
        let filtering = self.config.filtering;
        let refresh = self.config.inbound_refresh;
        let entry = self.by_port.get_mut(&port).ok_or(DropCause::NatNoMapping)?;
        let admitted = match filtering {
            Filtering::EndpointIndependent => true,
            Filtering::AddressDependent => entry.contacted.iter().any(|c| c.ip() == remote.ip()),
            Filtering::AddressAndPortDependent => entry.contacted.contains(&remote),
        };
        if !admitted {
            return Err(DropCause::NatFiltered);
        }
        if refresh {
            entry.last_used = now;
        }
        Ok(entry.key.internal)
    }

    /// Live mappings, in public-port order.
    pub(crate) fn mappings(&self, now: Instant) -> Vec<NatMapping> {
        self.by_port
            .iter()
            .filter(|(port, _)| !self.expired(**port, now))
            .map(|(port, e)| NatMapping {
                internal: e.key.internal,
                external: SocketAddr::new(self.public_ip, *port),
            })
            .collect()
    }

    fn expired(&self, port: u16, now: Instant) -> bool {
        self.by_port.get(&port).is_some_and(|e| {
            now.saturating_duration_since(e.last_used) >= self.config.mapping_timeout
        })
    }

    fn remove(&mut self, port: u16) {
        if let Some(e) = self.by_port.remove(&port) {
            self.by_key.remove(&e.key);
        }
    }

    fn purge_expired(&mut self, now: Instant) {
        let dead: Vec<u16> = self
            .by_port
            .keys()
            .copied()
            .filter(|p| self.expired(*p, now))
            .collect();
        for port in dead {
            self.remove(port);
        }
    }

    fn allocate(&mut self, internal_port: u16, rng: &mut SeededRng) -> Option<u16> {
        let first = self.config.first_port.max(1);
        let free = |p: u16, table: &BTreeMap<u16, Entry>| p >= first && !table.contains_key(&p);
        match self.config.port_allocation {
            PortAllocation::Preserve if free(internal_port, &self.by_port) => {
                return Some(internal_port)
            }
            PortAllocation::Random => {
                let span = u32::from(u16::MAX - first) + 1;
                for _ in 0..RANDOM_PORT_TRIES {
                    let p = u16::try_from(u32::from(first) + rng.next_u32() % span).ok()?;
                    if free(p, &self.by_port) {
                        return Some(p);
                    }
                }
            }
            _ => {}
        }
        // Sequential search, at most once around the range.
        let span = usize::from(u16::MAX - first) + 1;
        let mut p = self.next_port.max(first);
        for _ in 0..span {
            let candidate = p;
            p = if p == u16::MAX { first } else { p + 1 };
            if free(candidate, &self.by_port) {
                self.next_port = p;
                return Some(candidate);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtcwire_proto::SeededRng;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn table_is_bounded_by_the_port_range() {
        #[allow(clippy::disallowed_methods)]
        let now = Instant::now();
        let mut cfg = NatConfig::symmetric();
        cfg.first_port = 65530;
        let mut nat = Nat::new("203.0.113.1".parse().unwrap(), cfg);
        let mut rng = SeededRng::new(1);
        let inside = addr("10.0.0.2:5000");
        let got: Vec<_> = (0..8)
            .map(|i| {
                nat.outbound(
                    now,
                    inside,
                    SocketAddr::new("198.51.100.1".parse().unwrap(), 1000 + i),
                    &mut rng,
                )
            })
            .collect();
        assert_eq!(got.iter().filter(|r| r.is_ok()).count(), 6);
        assert_eq!(got[6], Err(DropCause::NatNoMapping));
    }

    #[test]
    fn random_and_preserving_allocation() {
        #[allow(clippy::disallowed_methods)]
        let now = Instant::now();
        let mut rng = SeededRng::new(3);
        let inside = addr("10.0.0.2:50000");
        let mut nat = Nat::new(
            "203.0.113.1".parse().unwrap(),
            NatConfig::symmetric().port_allocation(PortAllocation::Preserve),
        );
        let a = nat
            .outbound(now, inside, addr("198.51.100.1:1"), &mut rng)
            .unwrap();
        let b = nat
            .outbound(now, inside, addr("198.51.100.1:2"), &mut rng)
            .unwrap();
        assert_eq!(a.port(), 50000);
        assert_ne!(b.port(), 50000);
        let mut nat = Nat::new(
            "203.0.113.1".parse().unwrap(),
            NatConfig::symmetric().port_allocation(PortAllocation::Random),
        );
        let ports: BTreeSet<u16> = (0..50)
            .map(|i| {
                nat.outbound(
                    now,
                    inside,
                    addr(&format!("198.51.100.1:{}", i + 1)),
                    &mut rng,
                )
                .unwrap()
                .port()
            })
            .collect();
        assert_eq!(ports.len(), 50);
        assert!(ports.iter().all(|p| *p >= 49152));
        // Not simply sequential.
        assert!(ports
            .iter()
            .zip(ports.iter().skip(1))
            .any(|(a, b)| b - a > 1));
    }
}
