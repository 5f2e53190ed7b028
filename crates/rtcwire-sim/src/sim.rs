//! The simulator: topology (hosts, NATs, links), the virtual clock, the seeded RNG, access to
//! endpoints, counters and the trace.

use std::collections::{BinaryHeap, VecDeque};
use std::fmt;
use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use rtcwire_proto::{SansIo, SeededRng};

use crate::endpoint::{Driven, Host, Removed, Slot};
use crate::link::{Channel, Direction, LinkConfig, LinkStats};
use crate::nat::{Nat, NatConfig, NatMapping};
use crate::route::Scheduled;
use crate::trace::{Captured, Stats, TraceEntry};
use crate::Error;

/// The environment variable that overrides the seed of every [`Sim::new`], to replay a
/// failing run: `RTCWIRE_SIM_SEED=1234 cargo test -p rtcwire-ice some_test` (decimal, or hex
/// with `0x`).
pub const SEED_ENV: &str = "RTCWIRE_SIM_SEED";

/// The environment variable that makes a panicking test print the whole trace rather than
/// its last lines (`RTCWIRE_SIM_FULL_TRACE=1`).
pub const FULL_TRACE_ENV: &str = "RTCWIRE_SIM_FULL_TRACE";

/// Trace entries kept by default (the oldest are discarded beyond this).
const DEFAULT_TRACE_LIMIT: usize = 1_000_000;

/// Trace lines printed by [`Sim::report`].
const REPORT_TAIL: usize = 60;

/// A host in the simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostId(pub(crate) usize);

/// A NAT box in the simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NatId(pub(crate) usize);

/// A link in the simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkId(pub(crate) usize);

/// A router: a stand-in for "the Internet" that forwards between everything linked to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RouterId(pub(crate) usize);

impl fmt::Display for HostId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "host{}", self.0)
    }
}

impl fmt::Display for NatId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "nat{}", self.0)
    }
}

impl fmt::Display for RouterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "router{}", self.0)
    }
}

impl fmt::Display for LinkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "link{}", self.0)
    }
}

impl NatId {
    /// The NAT's private side, where the hosts behind it attach.
    #[must_use]
    pub fn inside(self) -> Attach {
        Attach::NatInside(self)
    }

    /// The NAT's public side, which owns its public IP address.
    #[must_use]
    pub fn outside(self) -> Attach {
        Attach::NatOutside(self)
    }
}

/// Something a link can join: a host, one side of a NAT, or a router.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Attach {
    /// A host (all its addresses).
    Host(HostId),
    /// The private side of a NAT.
    NatInside(NatId),
    /// The public side of a NAT.
    NatOutside(NatId),
    /// A router.
    Router(RouterId),
}

impl From<RouterId> for Attach {
    fn from(r: RouterId) -> Attach {
        Attach::Router(r)
    }
}

impl From<HostId> for Attach {
    fn from(h: HostId) -> Attach {
        Attach::Host(h)
    }
}

impl<T> From<Host<T>> for Attach {
    fn from(h: Host<T>) -> Attach {
        Attach::Host(h.id())
    }
}

pub(crate) struct HostState {
    pub(crate) ips: Vec<IpAddr>,
    pub(crate) primary: SocketAddr,
    pub(crate) default_peer: Option<SocketAddr>,
    pub(crate) endpoint: Box<dyn Driven>,
    /// Links leaving this host, with the direction that leads away from it.
    pub(crate) links: Vec<(LinkId, Direction)>,
}

pub(crate) struct NatState {
    pub(crate) nat: Nat,
    pub(crate) inside: Vec<(LinkId, Direction)>,
    pub(crate) outside: Vec<(LinkId, Direction)>,
}

pub(crate) struct RouterState {
    pub(crate) links: Vec<(LinkId, Direction)>,
}

pub(crate) struct LinkState {
    /// `[first, second]` as given to [`Sim::link`]; `Forward` goes from first to second.
    pub(crate) ends: [Attach; 2],
    /// Indexed by [`Direction::index`].
    pub(crate) channels: [Channel; 2],
}

/// Options for a [`Sim`]; start with [`Sim::builder`].
#[derive(Debug, Clone)]
pub struct SimBuilder {
    seed: u64,
    honour_env: bool,
    start: Option<Instant>,
    capture: bool,
    trace_limit: usize,
}

impl SimBuilder {
    /// Uses exactly this seed, ignoring [`SEED_ENV`] (for tests that compare seeds).
    #[must_use]
    pub fn exact_seed(mut self) -> Self {
        self.honour_env = false;
        self
    }

    /// The instant the virtual clock starts at (by default, the real clock read once here).
    #[must_use]
    pub fn start(mut self, start: Instant) -> Self {
        self.start = Some(start);
        self
    }

    /// Keeps a copy of every delivered datagram, for [`Sim::write_pcap`].
    #[must_use]
    pub fn capture(mut self, on: bool) -> Self {
        self.capture = on;
        self
    }

    /// How many trace entries to keep (the oldest go first).
    #[must_use]
    pub fn trace_limit(mut self, entries: usize) -> Self {
        self.trace_limit = entries;
        self
    }

    /// Builds the simulator.
    #[must_use]
    pub fn build(self) -> Sim {
        let seed = if self.honour_env {
            seed_from_env().unwrap_or(self.seed)
        } else {
            self.seed
        };
        // The only reading of the real clock: a base the virtual clock adds durations to.
        // Runs depend only on durations since it, so they replay identically.
        #[allow(clippy::disallowed_methods)]
        let start = self.start.unwrap_or_else(Instant::now);
        Sim {
            seed,
            start,
            now: start,
            rng: SeededRng::new(seed),
            hosts: Vec::new(),
            nats: Vec::new(),
            routers: Vec::new(),
            links: Vec::new(),
            queue: BinaryHeap::new(),
            next_seq: 0,
            next_packet: 0,
            stats: Stats::default(),
            trace: VecDeque::new(),
            trace_limit: self.trace_limit,
            trace_discarded: 0,
            capture: self.capture.then(Vec::new),
        }
    }
}

/// Reads [`SEED_ENV`], decimal or `0x` hex; `None` when unset or unparsable.
#[must_use]
pub fn seed_from_env() -> Option<u64> {
    parse_seed(&std::env::var(SEED_ENV).ok()?)
}

fn parse_seed(v: &str) -> Option<u64> {
    let v = v.trim();
    match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => v.parse().ok(),
    }
}

/// A deterministic network of hosts running sans-IO endpoints, joined by links and NATs.
///
/// See the [crate documentation](crate) for an example. Everything random comes from one
/// [`SeededRng`], and time is a virtual clock that only [`run_until`](Sim::run_until) and
/// [`run_for`](Sim::run_for) move, so a seed replays a run exactly. If the thread panics
/// (a failed assertion) while a `Sim` is alive, its [`report`](Sim::report) — seed, counters
/// and the end of the trace — is printed to stderr as it is dropped.
pub struct Sim {
    pub(crate) seed: u64,
    pub(crate) start: Instant,
    pub(crate) now: Instant,
    pub(crate) rng: SeededRng,
    pub(crate) hosts: Vec<HostState>,
    pub(crate) nats: Vec<NatState>,
    pub(crate) routers: Vec<RouterState>,
    pub(crate) links: Vec<LinkState>,
    pub(crate) queue: BinaryHeap<Scheduled>,
    pub(crate) next_seq: u64,
    pub(crate) next_packet: u64,
    pub(crate) stats: Stats,
    pub(crate) trace: VecDeque<TraceEntry>,
    pub(crate) trace_limit: usize,
    pub(crate) trace_discarded: u64,
    pub(crate) capture: Option<Vec<Captured>>,
}

impl fmt::Debug for Sim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sim")
            .field("seed", &self.seed)
            .field("elapsed", &self.elapsed())
            .field("hosts", &self.hosts.len())
            .field("nats", &self.nats.len())
            .field("routers", &self.routers.len())
            .field("links", &self.links.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Sim {
    /// A simulator seeded with `seed`, or with [`SEED_ENV`] when that is set.
    #[must_use]
    pub fn new(seed: u64) -> Sim {
        Sim::builder(seed).build()
    }

    /// Options beyond the seed.
    #[must_use]
    pub fn builder(seed: u64) -> SimBuilder {
        SimBuilder {
            seed,
            honour_env: true,
            start: None,
            capture: false,
            trace_limit: DEFAULT_TRACE_LIMIT,
        }
    }

    /// The seed this run uses.
    #[must_use]
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The virtual clock.
    #[must_use]
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Where the virtual clock started.
    #[must_use]
    pub fn start(&self) -> Instant {
        self.start
    }

    /// Simulated time since the start.
    #[must_use]
    pub fn elapsed(&self) -> Duration {
        self.now.saturating_duration_since(self.start)
    }

    /// Adds a host that owns `addr`'s IP and runs `endpoint`. Datagrams the endpoint sends
    /// without a source leave from `addr`; any datagram for one of the host's IPs is handed
    /// to it, whatever the port.
    pub fn add_host<T>(&mut self, addr: SocketAddr, endpoint: T) -> Host<T>
    where
        T: SansIo + 'static,
        T::Event: 'static,
        T::Error: fmt::Debug,
    {
        let id = HostId(self.hosts.len());
        self.hosts.push(HostState {
            ips: vec![addr.ip()],
            primary: addr,
            default_peer: None,
            endpoint: Box::new(Slot {
                core: endpoint,
                events: Vec::new(),
            }),
            links: Vec::new(),
        });
        Host::new(id)
    }

    /// Gives a host another IP address (a second interface, for ICE).
    pub fn add_address(&mut self, host: impl Into<HostId>, ip: IpAddr) {
        let h = self.host_state(host.into());
        if !h.ips.contains(&ip) {
            h.ips.push(ip);
        }
    }

    /// The address a host sends from by default.
    #[must_use]
    pub fn host_addr(&self, host: impl Into<HostId>) -> SocketAddr {
        let id = host.into();
        self.hosts
            .get(id.0)
            .map_or_else(|| foreign_id(&id), |h| h.primary)
    }

    /// Where a host's datagrams without a destination go (layers like DTLS and SCTP leave
    /// it to the driver). [`link`](Sim::link) sets this for two hosts joined directly.
    pub fn set_default_peer(&mut self, host: impl Into<HostId>, peer: SocketAddr) {
        self.host_state(host.into()).default_peer = Some(peer);
    }

    /// Adds a NAT box with public IP `public_ip`. Join hosts to its
    /// [`inside`](NatId::inside) and the rest of the network to its
    /// [`outside`](NatId::outside).
    pub fn add_nat(&mut self, public_ip: IpAddr, config: NatConfig) -> NatId {
        let id = NatId(self.nats.len());
        self.nats.push(NatState {
            nat: Nat::new(public_ip, config),
            inside: Vec::new(),
            outside: Vec::new(),
        });
        id
    }

    /// Adds a router: it forwards each datagram to the link whose far end owns the
    /// destination (a host's IP, a NAT's public IP), so a dozen public hosts and NATs need
    /// one link each to it rather than one to each other. Hosts and NATs' public sides use
    /// a router they are linked to as their gateway. Routers do not forward to routers.
    pub fn add_router(&mut self) -> RouterId {
        self.routers.push(RouterState { links: Vec::new() });
        RouterId(self.routers.len() - 1)
    }

    /// Joins `a` and `b` with a link that behaves as `config` in both directions.
    ///
    /// When both are hosts without a default peer yet, each becomes the other's.
    pub fn link(
        &mut self,
        a: impl Into<Attach>,
        b: impl Into<Attach>,
        config: LinkConfig,
    ) -> LinkId {
        self.link_asymmetric(a, b, config, config)
    }

    /// Joins `a` and `b` with a link that behaves as `forward` from `a` to `b` and as
    /// `backward` from `b` to `a`.
    pub fn link_asymmetric(
        &mut self,
        a: impl Into<Attach>,
        b: impl Into<Attach>,
        forward: LinkConfig,
        backward: LinkConfig,
    ) -> LinkId {
        let (a, b) = (a.into(), b.into());
        let id = LinkId(self.links.len());
        self.links.push(LinkState {
            ends: [a, b],
            channels: [Channel::new(forward), Channel::new(backward)],
        });
        self.attach(a, (id, Direction::Forward));
        self.attach(b, (id, Direction::Backward));
        if let (Attach::Host(ha), Attach::Host(hb)) = (a, b) {
            let (pa, pb) = (self.host_addr(ha), self.host_addr(hb));
            let sa = self.host_state(ha);
            sa.default_peer.get_or_insert(pb);
            let sb = self.host_state(hb);
            sb.default_peer.get_or_insert(pa);
        }
        id
    }

    fn attach(&mut self, at: Attach, leaving: (LinkId, Direction)) {
        match at {
            Attach::Host(h) => self.host_state(h).links.push(leaving),
            Attach::NatInside(n) => self.nat_state(n).inside.push(leaving),
            Attach::NatOutside(n) => self.nat_state(n).outside.push(leaving),
            Attach::Router(r) => match self.routers.get_mut(r.0) {
                Some(r) => r.links.push(leaving),
                None => foreign_id(&r),
            },
        }
    }

    /// Brings a link down (everything sent, and everything in flight, is dropped) or up.
    pub fn set_link_up(&mut self, link: LinkId, up: bool) {
        for ch in &mut self.link_state(link).channels {
            ch.up = up;
        }
    }

    /// Whether a link is up.
    #[must_use]
    pub fn link_is_up(&self, link: LinkId) -> bool {
        self.links
            .get(link.0)
            .is_some_and(|l| l.channels.iter().all(|c| c.up))
    }

    /// The configuration of one direction of a link, to change it mid-run (the queue and
    /// loss state are kept).
    pub fn link_config_mut(&mut self, link: LinkId, dir: Direction) -> &mut LinkConfig {
        let ls = self.link_state(link);
        let [fwd, back] = &mut ls.channels;
        match dir {
            Direction::Forward => &mut fwd.config,
            Direction::Backward => &mut back.config,
        }
    }

    /// Counters of one direction of a link.
    #[must_use]
    pub fn link_stats(&self, link: LinkId, dir: Direction) -> LinkStats {
        self.links
            .get(link.0)
            .and_then(|l| l.channels.get(dir.index()))
            .map(|c| c.stats)
            .unwrap_or_default()
    }

    /// A NAT's live mappings, in public-port order.
    #[must_use]
    pub fn nat_mappings(&self, nat: NatId) -> Vec<NatMapping> {
        self.nats
            .get(nat.0)
            .map(|n| n.nat.mappings(self.now))
            .unwrap_or_default()
    }

    /// The endpoint of a host.
    ///
    /// # Panics
    /// If the handle comes from another `Sim`.
    #[must_use]
    pub fn endpoint<T: 'static + SansIo>(&self, host: Host<T>) -> &T {
        match self.slot::<T>(host.id()) {
            Some(s) => &s.core,
            None => foreign_id(&host),
        }
    }

    /// The endpoint of a host, to call its application-side methods. Whatever it queues is
    /// sent at the current time when the simulation runs on.
    ///
    /// # Panics
    /// If the handle comes from another `Sim`.
    pub fn endpoint_mut<T: 'static + SansIo>(&mut self, host: Host<T>) -> &mut T {
        match self.slot_mut::<T>(host.id()) {
            Some(s) => &mut s.core,
            None => foreign_id(&host),
        }
    }

    /// The endpoint of a host by untyped id, if it is a `T`.
    pub fn try_endpoint_mut<T: 'static + SansIo>(&mut self, host: HostId) -> Option<&mut T> {
        self.slot_mut::<T>(host).map(|s| &mut s.core)
    }

    /// The events a host's endpoint has emitted so far, oldest first.
    ///
    /// # Panics
    /// If the handle comes from another `Sim`.
    #[must_use]
    pub fn events<T: 'static + SansIo>(&self, host: Host<T>) -> &[T::Event] {
        match self.slot::<T>(host.id()) {
            Some(s) => &s.events,
            None => foreign_id(&host),
        }
    }

    /// Takes the events emitted so far, leaving none.
    ///
    /// # Panics
    /// If the handle comes from another `Sim`.
    pub fn take_events<T: 'static + SansIo>(&mut self, host: Host<T>) -> Vec<T::Event> {
        match self.slot_mut::<T>(host.id()) {
            Some(s) => std::mem::take(&mut s.events),
            None => foreign_id(&host),
        }
    }

    /// Takes a host's endpoint out of the simulation, with the events it emitted that were
    /// not taken yet, so that a test can go on driving it by hand. The host stays, refusing
    /// whatever reaches it. `None` if the handle is foreign or the endpoint was taken already.
    pub fn take_endpoint<T: 'static + SansIo>(
        &mut self,
        host: Host<T>,
    ) -> Option<(T, Vec<T::Event>)> {
        self.slot::<T>(host.id())?;
        let h = self.hosts.get_mut(host.id().0)?;
        let endpoint = std::mem::replace(&mut h.endpoint, Box::new(Removed));
        let slot = endpoint.into_any().downcast::<Slot<T>>().ok()?;
        let Slot { core, events } = *slot;
        Some((core, events))
    }

    fn slot<T: 'static + SansIo>(&self, id: HostId) -> Option<&Slot<T>> {
        self.hosts
            .get(id.0)?
            .endpoint
            .as_any()
            .downcast_ref::<Slot<T>>()
    }

    fn slot_mut<T: 'static + SansIo>(&mut self, id: HostId) -> Option<&mut Slot<T>> {
        self.hosts
            .get_mut(id.0)?
            .endpoint
            .as_any_mut()
            .downcast_mut::<Slot<T>>()
    }

    /// Counters of the run so far.
    #[must_use]
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The trace so far, oldest first (at most the builder's trace limit).
    pub fn trace(&self) -> impl ExactSizeIterator<Item = &TraceEntry> + '_ {
        self.trace.iter()
    }

    /// The whole trace, one entry per line, after a header line with the seed.
    #[must_use]
    pub fn trace_text(&self) -> String {
        let mut s = format!(
            "# rtcwire-sim trace, seed {seed} (replay with {SEED_ENV}={seed})\n",
            seed = self.seed
        );
        if self.trace_discarded > 0 {
            let _ = writeln!(s, "# ... {} earlier entries", self.trace_discarded);
        }
        for e in &self.trace {
            let _ = writeln!(s, "{e}");
        }
        s
    }

    /// Seed, clock, counters and the last lines of the trace: what a failing test should
    /// print.
    #[must_use]
    pub fn report(&self) -> String {
        let mut s = format!(
            "rtcwire-sim: seed {seed} (replay with {SEED_ENV}={seed}), at +{:?}\n  {}\n",
            self.elapsed(),
            self.stats,
            seed = self.seed,
        );
        let skip = self.trace.len().saturating_sub(REPORT_TAIL);
        let earlier = self.trace_discarded + skip as u64;
        if earlier > 0 {
            let _ = writeln!(s, "  ... {earlier} earlier trace entries");
        }
        for e in self.trace.iter().skip(skip) {
            let _ = writeln!(s, "  {e}");
        }
        s
    }

    /// Writes every delivered datagram as a pcap file (raw IPv4/IPv6 + UDP, simulated
    /// addresses and times) that Wireshark and `tshark -r` open.
    ///
    /// # Errors
    /// [`Error::CaptureOff`] unless the sim was built with [`SimBuilder::capture`];
    /// [`Error::Io`] if the file cannot be written.
    pub fn write_pcap(&self, path: impl AsRef<std::path::Path>) -> Result<(), Error> {
        let bytes = self.pcap_bytes()?;
        std::fs::write(path, bytes)?;
        Ok(())
    }

    /// The pcap file [`write_pcap`](Sim::write_pcap) writes, as bytes.
    ///
    /// # Errors
    /// [`Error::CaptureOff`] unless the sim was built with [`SimBuilder::capture`].
    pub fn pcap_bytes(&self) -> Result<Vec<u8>, Error> {
        let captured = self.capture.as_deref().ok_or(Error::CaptureOff)?;
        Ok(crate::pcap::file(captured))
    }

    pub(crate) fn host_state(&mut self, id: HostId) -> &mut HostState {
        match self.hosts.get_mut(id.0) {
            Some(h) => h,
            None => foreign_id(&id),
        }
    }

    fn nat_state(&mut self, id: NatId) -> &mut NatState {
        match self.nats.get_mut(id.0) {
            Some(n) => n,
            None => foreign_id(&id),
        }
    }

    fn link_state(&mut self, id: LinkId) -> &mut LinkState {
        match self.links.get_mut(id.0) {
            Some(l) => l,
            None => foreign_id(&id),
        }
    }
}

impl Drop for Sim {
    #[allow(clippy::print_stderr)]
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}", self.report());
            if std::env::var(FULL_TRACE_ENV).is_ok_and(|v| v == "1") {
                eprintln!("{}", self.trace_text());
            } else {
                eprintln!("(set {FULL_TRACE_ENV}=1 for the whole trace)");
            }
        }
    }
}

/// Ids and handles are only ever made by the `Sim` they index into; one from another `Sim`
/// is a bug in the test.
#[allow(clippy::panic)]
fn foreign_id(id: &dyn fmt::Debug) -> ! {
    panic!("rtcwire-sim: {id:?} does not belong to this Sim (or has another endpoint type)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_parse_as_decimal_or_hex() {
        assert_eq!(parse_seed("1234"), Some(1234));
        assert_eq!(parse_seed(" 0xff\n"), Some(255));
        assert_eq!(parse_seed("0XDEADbeef"), Some(0xdead_beef));
        assert_eq!(parse_seed("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_seed("-1"), None);
        assert_eq!(parse_seed("seed"), None);
        assert_eq!(parse_seed(""), None);
    }

    #[test]
    fn exact_seed_ignores_the_environment() {
        // Whatever RTCWIRE_SIM_SEED holds, an exact seed is kept.
        assert_eq!(Sim::builder(77).exact_seed().build().seed(), 77);
        let honoured = Sim::new(77).seed();
        assert_eq!(honoured, seed_from_env().unwrap_or(77));
    }
}
