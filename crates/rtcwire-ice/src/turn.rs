//! The TURN client (RFC 8656) over UDP, TCP or TLS (the driver owns streams and TLS): Allocate with long-term credentials (401 → realm
//! and nonce, 438 stale nonce), Refresh before expiry, CreatePermission, ChannelBind and
//! ChannelData, Send/Data indications, deallocation on close. A relayed candidate takes
//! part in pairing like any other; checks and data through it are wrapped here.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use rtcwire_proto::{Transmit, Transport};
use rtcwire_stun::{
    Attribute, ChannelData, Class, ErrorCode, IntegrityKey, Message, MessageBuilder, MessageType,
    Method, MAX_CHANNEL, MIN_CHANNEL,
};

use crate::agent::{channel_data, send_indication, Agent, Purpose, Received, BASE_RTO};
use crate::candidate::{Candidate, CandidateKind};
use crate::Error;

/// A TURN server and the long-term credentials to use with it.
#[derive(Clone, PartialEq, Eq)]
pub struct TurnServer {
    /// Its address.
    pub addr: SocketAddr,
    /// How we reach it. [`Transport::Tcp`] covers TURN over TCP and over TLS: the driver
    /// owns the stream (and TLS), splits it with `rtcwire_stun::TcpFramer`
    /// (`Framing::Turn`), hands each message to the agent tagged TCP with the server as
    /// source, and writes what the agent sends to the server onto the stream as is.
    /// Requests are then sent once (the stream is reliable) and ChannelData is padded.
    /// The relay itself is UDP either way (REQUESTED-TRANSPORT 17).
    pub transport: Transport,
    /// The username.
    pub username: String,
    /// The password.
    pub password: String,
}

impl TurnServer {
    /// A TURN server reached over UDP.
    #[must_use]
    pub fn udp(addr: SocketAddr, username: &str, password: &str) -> Self {
        TurnServer {
            addr,
            transport: Transport::Udp,
            username: username.to_owned(),
            password: password.to_owned(),
        }
    }

    /// A TURN server reached over TCP (or TLS, which the driver terminates).
    #[must_use]
    pub fn tcp(addr: SocketAddr, username: &str, password: &str) -> Self {
        TurnServer {
            transport: Transport::Tcp,
            ..Self::udp(addr, username, password)
        }
    }
}

impl std::fmt::Debug for TurnServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TurnServer")
            .field("addr", &self.addr)
            .field("transport", &self.transport)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// Permissions last 300 s (RFC 8656 §9); refreshed a minute early.
const PERMISSION_REFRESH: Duration = Duration::from_secs(240);
/// Channel bindings last 600 s (§12); refreshed a minute early.
const CHANNEL_REFRESH: Duration = Duration::from_secs(540);
/// Most permissions and channels per allocation.
const MAX_PEERS: usize = 32;
/// Most 401/438 retries in a row.
const MAX_AUTH_RETRIES: u8 = 3;
/// The lifetime asked for (RFC 8656 default 600 s).
const REQUESTED_LIFETIME: u32 = 600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TurnOp {
    Allocate,
    Refresh { lifetime: u32 },
    Permission(IpAddr),
    ChannelBind { peer: SocketAddr, number: u16 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AllocState {
    Idle,
    Allocating,
    Allocated,
    Failed,
    Released,
}

#[derive(Debug)]
struct Perm {
    ip: IpAddr,
    installed: bool,
    pending: bool,
    refresh_at: Instant,
}

#[derive(Debug)]
struct Chan {
    peer: SocketAddr,
    number: u16,
    bound: bool,
    pending: bool,
    refresh_at: Instant,
}

/// One allocation on one TURN server.
#[derive(Debug)]
pub(crate) struct Allocation {
    pub(crate) server: TurnServer,
    base: Option<SocketAddr>,
    realm: Option<String>,
    nonce: Option<String>,
    key: Option<IntegrityKey>,
    state: AllocState,
    relayed: Option<SocketAddr>,
    relay_local: Option<usize>,
    refresh_at: Option<Instant>,
    perms: Vec<Perm>,
    chans: Vec<Chan>,
    next_channel: u16,
    auth_retries: u8,
    refreshes: u32,
    stale_nonces: u32,
}

impl Allocation {
    pub(crate) fn new(server: TurnServer) -> Self {
        Allocation {
            server,
            base: None,
            realm: None,
            nonce: None,
            key: None,
            state: AllocState::Idle,
            relayed: None,
            relay_local: None,
            refresh_at: None,
            perms: Vec::new(),
            chans: Vec::new(),
            next_channel: MIN_CHANNEL,
            auth_retries: 0,
            refreshes: 0,
            stale_nonces: 0,
        }
    }

    pub(crate) fn is_gathering(&self) -> bool {
        matches!(self.state, AllocState::Allocating)
            || (self.state == AllocState::Idle && self.base.is_some())
    }
}

/// What the TURN client has done, for tests and stats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TurnStatus {
    /// The relayed address, once allocated.
    pub relayed: Option<SocketAddr>,
    /// Successful Refresh requests (not counting deallocation).
    pub refreshes: u32,
    /// Installed permissions.
    pub permissions: usize,
    /// Bound channels.
    pub channels: usize,
    /// 438 Stale Nonce answers recovered from (the request was sent again with the new nonce).
    pub stale_nonces: u32,
}

impl Agent {
    /// Status of the allocation on TURN server `index` (in [`Config::turn_servers`](crate::Config) order).
    #[must_use]
    pub fn turn_status(&self, index: usize) -> Option<TurnStatus> {
        self.allocs.get(index).map(|a| TurnStatus {
            relayed: a.relayed,
            refreshes: a.refreshes,
            permissions: a.perms.iter().filter(|p| p.installed).count(),
            channels: a.chans.iter().filter(|c| c.bound).count(),
            stale_nonces: a.stale_nonces,
        })
    }

    pub(crate) fn alloc_for(&self, src: SocketAddr, dest: Option<SocketAddr>) -> Option<usize> {
        self.allocs.iter().position(|a| {
            a.server.addr == src
                && a.base.is_some()
                && (dest.is_none()
                    || dest == a.base
                    || dest.is_some_and(|d| {
                        d.ip().is_unspecified() && a.base.is_some_and(|b| b.port() == d.port())
                    }))
        })
    }

    /// Starts the allocations that can use host candidate `host`.
    pub(crate) fn turn_start(&mut self, now: Instant, host: usize) -> Result<(), Error> {
        let Some(base) = self.locals.get(host).map(|l| l.base) else {
            return Ok(());
        };
        for a in 0..self.allocs.len() {
            let Some(al) = self.allocs.get_mut(a) else {
                break;
            };
            if al.state != AllocState::Idle
                || al.base.is_some()
                || al.server.addr.is_ipv4() != base.is_ipv4()
            {
                continue;
            }
            al.base = Some(base);
            al.state = AllocState::Allocating;
            self.turn_send(now, a, TurnOp::Allocate)?;
        }
        Ok(())
    }

    fn turn_send(&mut self, now: Instant, a: usize, op: TurnOp) -> Result<(), Error> {
        let tid = self.new_tid()?;
        let Some(al) = self.allocs.get(a) else {
            return Ok(());
        };
        let Some(base) = al.base else {
            return Ok(());
        };
        let method = match op {
            TurnOp::Allocate => Method::ALLOCATE,
            TurnOp::Refresh { .. } => Method::REFRESH,
            TurnOp::Permission(_) => Method::CREATE_PERMISSION,
            TurnOp::ChannelBind { .. } => Method::CHANNEL_BIND,
        };
        let mut bytes = Vec::with_capacity(160);
        let mut b = MessageBuilder::new(&mut bytes, MessageType::new(method, Class::Request), tid)?;
        match op {
            TurnOp::Allocate => {
                b.attr(&Attribute::RequestedTransport(17))?
                    .attr(&Attribute::Lifetime(REQUESTED_LIFETIME))?;
            }
            TurnOp::Refresh { lifetime } => {
                b.attr(&Attribute::Lifetime(lifetime))?;
            }
            TurnOp::Permission(ip) => {
                b.attr(&Attribute::XorPeerAddress(SocketAddr::new(ip, 0)))?;
            }
            TurnOp::ChannelBind { peer, number } => {
                b.attr(&Attribute::ChannelNumber(number))?
                    .attr(&Attribute::XorPeerAddress(peer))?;
            }
        }
        if let (Some(realm), Some(nonce), Some(key)) = (&al.realm, &al.nonce, &al.key) {
            b.attr(&Attribute::Username(&al.server.username))?
                .attr(&Attribute::Realm(realm))?
                .attr(&Attribute::Nonce(nonce))?
                .message_integrity(key)?;
        }
        b.fingerprint()?;
        b.finish();
        let server = al.server.addr;
        let purpose = Purpose::Turn { alloc: a, op };
        let (sends, rto) = match al.server.transport {
            Transport::Udp => (7, BASE_RTO),
            // Sent once over the stream; answered within 10 s or given up (RFC 8489 Ti is
            // 39.5 s; a TURN server that slow is of no use to ICE).
            Transport::Tcp => (1, Duration::from_secs(10)),
        };
        self.start_txn(now, tid, purpose, None, base, server, bytes, sends, rto)
    }

    /// A datagram from TURN server `a`: a response, a Data indication or ChannelData.
    pub(crate) fn turn_handle<'a>(
        &mut self,
        now: Instant,
        a: usize,
        contents: &'a [u8],
    ) -> Result<Received<'a>, Error> {
        let relay_local = self.allocs.get(a).and_then(|al| al.relay_local);
        if rtcwire_stun::is_stun(contents) {
            let msg = Message::parse(contents)?;
            let t = msg.message_type();
            if t.method == Method::DATA && t.class == Class::Indication {
                let peer = msg
                    .xor_peer_address()?
                    .ok_or(Error::MissingAttribute("XOR-PEER-ADDRESS"))?;
                let data = msg.data()?.ok_or(Error::MissingAttribute("DATA"))?;
                let local = relay_local.ok_or(Error::UnexpectedMessage)?;
                return self.relayed_in(now, local, peer, data);
            }
            if matches!(t.class, Class::Success | Class::Error) {
                let i = self
                    .txns
                    .iter()
                    .position(|x| {
                        x.tid == msg.transaction_id()
                            && matches!(x.purpose, Purpose::Turn { alloc, .. } if alloc == a)
                    })
                    .ok_or(Error::UnknownTransaction)?;
                let Some(Purpose::Turn { op, .. }) = self.txns.get(i).map(|x| x.purpose) else {
                    return Err(Error::UnknownTransaction);
                };
                self.turn_response(now, a, i, op, &msg)?;
                return Ok(Received::Stun);
            }
            return Err(Error::UnexpectedMessage);
        }
        let cd = ChannelData::parse(contents)?;
        let peer = self
            .allocs
            .get(a)
            .and_then(|al| al.chans.iter().find(|c| c.number == cd.number && c.bound))
            .map(|c| c.peer)
            .ok_or(Error::UnknownChannel(cd.number))?;
        let local = relay_local.ok_or(Error::UnexpectedMessage)?;
        self.relayed_in(now, local, peer, cd.data)
    }

    fn relayed_in<'a>(
        &mut self,
        now: Instant,
        local: usize,
        peer: SocketAddr,
        data: &'a [u8],
    ) -> Result<Received<'a>, Error> {
        if rtcwire_stun::is_stun(data) {
            let inner = Message::parse(data)?;
            self.handle_stun_on(now, local, peer, &inner)?;
            return Ok(Received::Stun);
        }
        self.data_from(now, local, peer, data)
    }

    fn turn_response(
        &mut self,
        now: Instant,
        a: usize,
        txn: usize,
        op: TurnOp,
        msg: &Message<'_>,
    ) -> Result<(), Error> {
        let Some(al) = self.allocs.get_mut(a) else {
            return Err(Error::UnknownTransaction);
        };
        if msg.message_type().class == Class::Error {
            let code = msg.error_code()?.map_or(0, |e| e.code);
            if code == ErrorCode::UNAUTHENTICATED || code == ErrorCode::STALE_NONCE {
                // 401 carries no integrity; 438 may. Take the realm and nonce and retry.
                if al.auth_retries >= MAX_AUTH_RETRIES {
                    self.txns.swap_remove(txn);
                    self.turn_failed(now, a, op);
                    return Ok(());
                }
                let realm = msg.realm()?.ok_or(Error::MissingAttribute("REALM"));
                let nonce = msg.nonce()?.ok_or(Error::MissingAttribute("NONCE"))?;
                if let Ok(realm) = realm {
                    if al.realm.as_deref() != Some(realm) || al.key.is_none() {
                        al.key = Some(IntegrityKey::long_term(
                            &al.server.username,
                            realm,
                            &al.server.password,
                        ));
                        al.realm = Some(realm.to_owned());
                    }
                }
                al.nonce = Some(nonce.to_owned());
                al.auth_retries += 1;
                if code == ErrorCode::STALE_NONCE {
                    al.stale_nonces += 1;
                }
                self.txns.swap_remove(txn);
                return self.turn_send(now, a, op);
            }
            if let Some(key) = &al.key {
                if msg.has_integrity() && msg.verify_integrity(key).is_err() {
                    return Err(Error::BadCredentials);
                }
            }
            tracing::debug!(code, ?op, "TURN error");
            self.txns.swap_remove(txn);
            self.turn_failed(now, a, op);
            return Ok(());
        }
        // Success: must be authenticated with our long-term key.
        let key = al.key.as_ref().ok_or(Error::BadCredentials)?;
        if msg.verify_integrity(key).is_err() {
            self.stats.bad_integrity += 1;
            return Err(Error::BadCredentials);
        }
        al.auth_retries = 0;
        self.txns.swap_remove(txn);
        match op {
            TurnOp::Allocate => {
                let relayed = msg
                    .xor_relayed_address()?
                    .ok_or(Error::MissingAttribute("XOR-RELAYED-ADDRESS"))?;
                let mapped = msg.xor_mapped_address()?;
                let lifetime = msg.lifetime()?.unwrap_or(REQUESTED_LIFETIME);
                let Some(al) = self.allocs.get_mut(a) else {
                    return Ok(());
                };
                al.state = AllocState::Allocated;
                al.relayed = Some(relayed);
                al.refresh_at = Some(now + refresh_delay(lifetime));
                let server = al.server.addr;
                let base = al.base.unwrap_or(relayed);
                let cand = Candidate::derived(
                    CandidateKind::Relayed,
                    relayed,
                    mapped.unwrap_or(base),
                    server.ip(),
                    65535,
                );
                let idx = self.add_gathered(cand, base, Some(a));
                if let Some(al) = self.allocs.get_mut(a) {
                    al.relay_local = idx;
                }
                self.check_gathering_done();
                self.turn_upkeep(now);
            }
            TurnOp::Refresh { lifetime } => {
                if lifetime == 0 {
                    al.state = AllocState::Released;
                    al.refresh_at = None;
                } else {
                    al.refreshes += 1;
                    let granted = msg.lifetime()?.unwrap_or(lifetime);
                    al.refresh_at = Some(now + refresh_delay(granted));
                }
            }
            TurnOp::Permission(ip) => {
                if let Some(p) = al.perms.iter_mut().find(|p| p.ip == ip) {
                    p.installed = true;
                    p.pending = false;
                    p.refresh_at = now + PERMISSION_REFRESH;
                }
                self.wake(now);
            }
            TurnOp::ChannelBind { peer, number } => {
                if let Some(c) = al
                    .chans
                    .iter_mut()
                    .find(|c| c.peer == peer && c.number == number)
                {
                    c.bound = true;
                    c.pending = false;
                    c.refresh_at = now + CHANNEL_REFRESH;
                }
            }
        }
        Ok(())
    }

    fn turn_failed(&mut self, _now: Instant, a: usize, op: TurnOp) {
        let Some(al) = self.allocs.get_mut(a) else {
            return;
        };
        match op {
            TurnOp::Allocate => {
                al.state = AllocState::Failed;
                self.check_gathering_done();
            }
            TurnOp::Refresh { .. } => {
                // The allocation may be gone; it expires on its own schedule.
                al.refresh_at = None;
            }
            TurnOp::Permission(ip) => al.perms.retain(|p| p.ip != ip),
            TurnOp::ChannelBind { peer, .. } => al.chans.retain(|c| c.peer != peer),
        }
    }

    pub(crate) fn turn_txn_timeout(&mut self, now: Instant, a: usize, op: TurnOp) {
        self.turn_failed(now, a, op);
    }

    /// Whether data to `peer` through allocation `a` may be sent (a permission exists).
    pub(crate) fn turn_permitted(&self, a: usize, peer: SocketAddr) -> bool {
        self.allocs
            .get(a)
            .is_some_and(|al| al.perms.iter().any(|p| p.ip == peer.ip() && p.installed))
    }

    /// Wraps `data` to `peer` for allocation `a` into `buf`: ChannelData when a channel is
    /// bound, a Send indication otherwise.
    pub(crate) fn turn_wrap_into(
        &mut self,
        a: usize,
        peer: SocketAddr,
        data: &[u8],
        buf: &mut Vec<u8>,
    ) -> Result<Transmit, Error> {
        let al = self.allocs.get(a).ok_or(Error::NotConnected)?;
        let (server, base) = (al.server.addr, al.base.ok_or(Error::NotConnected)?);
        let transport = al.server.transport;
        let channel = al
            .chans
            .iter()
            .find(|c| c.peer == peer && c.bound)
            .map(|c| c.number);
        let size = match channel {
            Some(n) => channel_data(n, data, transport, buf)?,
            None => {
                let tid = self.new_tid()?;
                send_indication(tid, peer, data, buf)?
            }
        };
        Ok(Transmit {
            transport,
            source: Some(base),
            destination: Some(server),
            size,
            segment_size: None,
        })
    }

    /// Requests the permissions relayed pairs need and a channel for the selected pair.
    pub(crate) fn turn_upkeep(&mut self, now: Instant) {
        if self.allocs.is_empty() {
            return;
        }
        let mut want: Vec<(usize, IpAddr)> = Vec::new();
        for p in &self.pairs {
            let (Some(l), Some(r)) = (self.locals.get(p.local), self.remotes.get(p.remote)) else {
                continue;
            };
            if let Some(a) = l.relay {
                if !want.contains(&(a, r.cand.address.ip())) {
                    want.push((a, r.cand.address.ip()));
                }
            }
        }
        for (a, ip) in want {
            let Some(al) = self.allocs.get_mut(a) else {
                continue;
            };
            if al.state != AllocState::Allocated || al.perms.iter().any(|p| p.ip == ip) {
                continue;
            }
            if al.perms.len() >= MAX_PEERS {
                self.stats.limit_drops += 1;
                continue;
            }
            al.perms.push(Perm {
                ip,
                installed: false,
                pending: true,
                refresh_at: now + PERMISSION_REFRESH,
            });
            let _ = self.turn_send(now, a, TurnOp::Permission(ip));
        }
        // A channel for the selected relayed pair: data then costs 4 bytes, not 36.
        let sel = self.selected.as_ref().and_then(|s| {
            self.locals
                .get(s.local)
                .and_then(|l| l.relay)
                .map(|a| (a, s.remote_cand.address))
        });
        if let Some((a, peer)) = sel {
            if let Some(al) = self.allocs.get_mut(a) {
                if al.state == AllocState::Allocated
                    && !al.chans.iter().any(|c| c.peer == peer)
                    && al.chans.len() < MAX_PEERS
                    && al.next_channel <= MAX_CHANNEL
                {
                    let number = al.next_channel;
                    al.next_channel += 1;
                    al.chans.push(Chan {
                        peer,
                        number,
                        bound: false,
                        pending: true,
                        refresh_at: now + CHANNEL_REFRESH,
                    });
                    let _ = self.turn_send(now, a, TurnOp::ChannelBind { peer, number });
                }
            }
        }
    }

    pub(crate) fn turn_timeout(&self) -> Option<Instant> {
        let mut t: Option<Instant> = None;
        let mut at = |x: Instant| t = Some(t.map_or(x, |y| y.min(x)));
        for al in &self.allocs {
            if al.state != AllocState::Allocated {
                continue;
            }
            if let Some(r) = al.refresh_at {
                at(r);
            }
            for p in al.perms.iter().filter(|p| p.installed && !p.pending) {
                at(p.refresh_at);
            }
            for c in al.chans.iter().filter(|c| c.bound && !c.pending) {
                at(c.refresh_at);
            }
        }
        t
    }

    pub(crate) fn turn_timers(&mut self, now: Instant) {
        for a in 0..self.allocs.len() {
            let mut ops = Vec::new();
            let Some(al) = self.allocs.get_mut(a) else {
                break;
            };
            if al.state != AllocState::Allocated {
                continue;
            }
            if al.refresh_at.is_some_and(|r| r <= now) {
                al.refresh_at = None;
                ops.push(TurnOp::Refresh {
                    lifetime: REQUESTED_LIFETIME,
                });
            }
            for p in al
                .perms
                .iter_mut()
                .filter(|p| p.installed && !p.pending && p.refresh_at <= now)
            {
                p.pending = true;
                ops.push(TurnOp::Permission(p.ip));
            }
            for c in al
                .chans
                .iter_mut()
                .filter(|c| c.bound && !c.pending && c.refresh_at <= now)
            {
                c.pending = true;
                ops.push(TurnOp::ChannelBind {
                    peer: c.peer,
                    number: c.number,
                });
            }
            for op in ops {
                if self.turn_send(now, a, op).is_err() {
                    // Transaction cap or random source: try again a second later.
                    if let Some(al) = self.allocs.get_mut(a) {
                        if matches!(op, TurnOp::Refresh { .. }) {
                            al.refresh_at = Some(now + Duration::from_secs(1));
                        }
                    }
                }
            }
        }
        self.turn_upkeep(now);
    }

    /// Releases every allocation (Refresh with LIFETIME 0, sent once, not retransmitted).
    pub(crate) fn turn_close(&mut self, now: Instant) {
        for a in 0..self.allocs.len() {
            if self
                .allocs
                .get(a)
                .is_some_and(|al| al.state == AllocState::Allocated)
            {
                let _ = self.turn_send(now, a, TurnOp::Refresh { lifetime: 0 });
                if let Some(al) = self.allocs.get_mut(a) {
                    al.state = AllocState::Released;
                }
            }
        }
        self.txns.clear();
    }
}

/// When to refresh an allocation of `lifetime` seconds: a minute early, or at half the
/// lifetime when it is short.
fn refresh_delay(lifetime: u32) -> Duration {
    let l = Duration::from_secs(u64::from(lifetime.max(1)));
    if l > Duration::from_secs(120) {
        l - Duration::from_secs(60)
    } else {
        l / 2
    }
}
