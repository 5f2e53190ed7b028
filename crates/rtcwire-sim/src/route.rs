//! Moving datagrams: from an endpoint onto a link, across NATs, and into the receiving
//! endpoint; with every step traced.

use std::cmp::Ordering;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;

use rtcwire_proto::{Datagram, Transmit, Transport};

use crate::link::{Direction, Verdict};
use crate::sim::{Attach, HostId, LinkId, NatId, Sim};
use crate::trace::{Captured, DropCause, TraceEntry, TraceEvent};

/// Links a datagram may cross before it is dropped as looping.
const MAX_HOPS: u8 = 16;

/// Datagrams taken from one endpoint in one drain, so a core that never stops sending
/// cannot hang the simulator.
pub(crate) const MAX_DRAIN: usize = 100_000;

/// A datagram in the network.
#[derive(Debug, Clone)]
pub(crate) struct Packet {
    pub(crate) id: u64,
    pub(crate) source: SocketAddr,
    pub(crate) destination: SocketAddr,
    pub(crate) transport: Transport,
    pub(crate) contents: Vec<u8>,
    pub(crate) hops: u8,
}

/// A datagram on a link, due to arrive at its far end at `at`.
#[derive(Debug)]
pub(crate) struct Scheduled {
    pub(crate) at: Instant,
    /// Tie-break: scheduling order.
    pub(crate) seq: u64,
    pub(crate) link: LinkId,
    pub(crate) dir: Direction,
    pub(crate) packet: Packet,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Scheduled {}

impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scheduled {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the earliest first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

impl Sim {
    /// Appends to the trace (and emits it as a `tracing` event at TRACE level, target
    /// `rtcwire_sim`, so it interleaves with the cores' own logs).
    pub(crate) fn record(&mut self, packet: &Packet, event: TraceEvent) {
        if self.trace_limit == 0 {
            self.trace_discarded += 1;
            return;
        }
        if self.trace.len() >= self.trace_limit {
            self.trace.pop_front();
            self.trace_discarded += 1;
        }
        let entry = TraceEntry {
            at: self.elapsed(),
            packet: packet.id,
            source: packet.source,
            destination: packet.destination,
            len: packet.contents.len(),
            event,
        };
        tracing::trace!(target: "rtcwire_sim", "{entry}");
        self.trace.push_back(entry);
    }

    fn drop_packet(&mut self, packet: &Packet, cause: DropCause, link: Option<LinkId>) {
        self.stats.count_drop(cause);
        self.record(packet, TraceEvent::Dropped { cause, link });
    }

    /// Sends and collects everything a host's endpoint has queued.
    pub(crate) fn drain_host(&mut self, host: HostId) {
        let now = self.now;
        for _ in 0..MAX_DRAIN {
            // The simulator keeps every datagram it carries, so each gets a buffer of its own.
            let mut buf = Vec::new();
            let Some(t) = self
                .hosts
                .get_mut(host.0)
                .and_then(|h| h.endpoint.poll_transmit(now, &mut buf))
            else {
                break;
            };
            match t.segment_size {
                Some(seg) if seg > 0 && seg < buf.len() => {
                    for chunk in buf.chunks(seg) {
                        self.send_from_host(host, t, chunk.to_vec());
                    }
                }
                _ => self.send_from_host(host, t, buf),
            }
        }
        if let Some(h) = self.hosts.get_mut(host.0) {
            h.endpoint.collect_events(MAX_DRAIN);
        }
    }

    fn send_from_host(&mut self, host: HostId, t: Transmit, contents: Vec<u8>) {
        let Some(h) = self.hosts.get(host.0) else {
            return;
        };
        let unspecified = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);
        let source = t.source.unwrap_or(h.primary);
        let destination = t.destination.or(h.default_peer);
        let bad_source = !h.ips.contains(&source.ip());
        self.next_packet += 1;
        let packet = Packet {
            id: self.next_packet,
            source,
            destination: destination.unwrap_or(unspecified),
            transport: t.transport,
            contents,
            hops: 0,
        };
        self.stats.sent += 1;
        self.stats.sent_bytes += packet.contents.len() as u64;
        self.record(&packet, TraceEvent::Sent { host });
        if destination.is_none() {
            self.drop_packet(&packet, DropCause::NoRoute, None);
        } else if bad_source || source.is_ipv4() != packet.destination.is_ipv4() {
            self.drop_packet(&packet, DropCause::BadAddress, None);
        } else {
            self.forward(Attach::Host(host), packet);
        }
    }

    /// Whether the node at `at` owns `ip` (hosts their addresses, NATs' public sides their
    /// public address).
    fn owns(&self, at: Attach, ip: IpAddr) -> bool {
        match at {
            Attach::Host(h) => self.hosts.get(h.0).is_some_and(|h| h.ips.contains(&ip)),
            Attach::NatOutside(n) => self.nats.get(n.0).is_some_and(|n| n.nat.public_ip == ip),
            Attach::NatInside(_) | Attach::Router(_) => false,
        }
    }

    fn far_end(&self, link: LinkId, dir: Direction) -> Option<Attach> {
        let l = self.links.get(link.0)?;
        match dir {
            Direction::Forward => Some(l.ends[1]),
            Direction::Backward => Some(l.ends[0]),
        }
    }

    /// The link to send a datagram for `ip` on, leaving from `at`: one whose far end owns
    /// `ip`, else (from a host or a NAT's outside) one leading to a gateway: a NAT's inside
    /// or a router.
    fn route(&self, at: Attach, ip: IpAddr) -> Option<(LinkId, Direction)> {
        let links: &[(LinkId, Direction)] = match at {
            Attach::Host(h) => &self.hosts.get(h.0)?.links,
            Attach::NatInside(n) => &self.nats.get(n.0)?.inside,
            Attach::NatOutside(n) => &self.nats.get(n.0)?.outside,
            Attach::Router(r) => &self.routers.get(r.0)?.links,
        };
        let direct = links
            .iter()
            .copied()
            .find(|&(l, d)| self.far_end(l, d).is_some_and(|far| self.owns(far, ip)));
        if direct.is_some() || matches!(at, Attach::NatInside(_) | Attach::Router(_)) {
            return direct;
        }
        links.iter().copied().find(|&(l, d)| {
            matches!(
                self.far_end(l, d),
                Some(Attach::NatInside(_) | Attach::Router(_))
            )
        })
    }

    /// Puts a datagram on the link from `at` towards its destination.
    fn forward(&mut self, at: Attach, mut packet: Packet) {
        packet.hops = packet.hops.saturating_add(1);
        if packet.hops > MAX_HOPS {
            self.drop_packet(&packet, DropCause::HopLimit, None);
            return;
        }
        let Some((link, dir)) = self.route(at, packet.destination.ip()) else {
            self.drop_packet(&packet, DropCause::NoRoute, None);
            return;
        };
        let now = self.now;
        let len = packet.contents.len();
        let verdict = match self
            .links
            .get_mut(link.0)
            .and_then(|l| l.channels.get_mut(dir.index()))
        {
            Some(ch) => ch.offer(now, len, &mut self.rng),
            None => Verdict::Drop(DropCause::NoRoute),
        };
        match verdict {
            Verdict::Drop(cause) => self.drop_packet(&packet, cause, Some(link)),
            Verdict::Arrive { at, copy } => {
                if let Some(copy_at) = copy {
                    self.stats.duplicated += 1;
                    self.record(&packet, TraceEvent::Duplicated { link });
                    let copy = packet.clone();
                    self.schedule(at, link, dir, packet);
                    self.schedule(copy_at, link, dir, copy);
                } else {
                    self.schedule(at, link, dir, packet);
                }
            }
        }
    }

    fn schedule(&mut self, at: Instant, link: LinkId, dir: Direction, packet: Packet) {
        self.next_seq += 1;
        self.queue.push(Scheduled {
            at,
            seq: self.next_seq,
            link,
            dir,
            packet,
        });
    }

    /// A datagram reaches the far end of its link (now).
    pub(crate) fn arrive(&mut self, s: Scheduled) {
        let Scheduled {
            link, dir, packet, ..
        } = s;
        let channel = self
            .links
            .get_mut(link.0)
            .and_then(|l| l.channels.get_mut(dir.index()));
        let Some(channel) = channel else {
            return;
        };
        if !channel.up {
            channel.stats.dropped += 1;
            self.drop_packet(&packet, DropCause::LinkDown, Some(link));
            return;
        }
        channel.stats.arrived += 1;
        channel.stats.arrived_bytes += packet.contents.len() as u64;
        match self.far_end(link, dir) {
            Some(Attach::Host(h)) => self.deliver(h, packet),
            Some(Attach::NatOutside(n)) => self.nat_from_outside(n, packet),
            Some(Attach::NatInside(n)) => self.nat_from_inside(n, packet),
            Some(Attach::Router(r)) => self.forward(Attach::Router(r), packet),
            None => {}
        }
    }

    fn deliver(&mut self, host: HostId, packet: Packet) {
        if !self.owns(Attach::Host(host), packet.destination.ip()) {
            self.drop_packet(&packet, DropCause::NoRoute, None);
            return;
        }
        self.stats.delivered += 1;
        self.stats.delivered_bytes += packet.contents.len() as u64;
        self.record(&packet, TraceEvent::Delivered { host });
        let at = self.elapsed();
        if let Some(cap) = &mut self.capture {
            cap.push(Captured {
                at,
                source: packet.source,
                destination: packet.destination,
                contents: packet.contents.clone(),
            });
        }
        let now = self.now;
        let result = match self.hosts.get_mut(host.0) {
            Some(h) => h.endpoint.handle_read(
                now,
                Datagram {
                    transport: packet.transport,
                    source: Some(packet.source),
                    destination: Some(packet.destination),
                    contents: &packet.contents,
                },
            ),
            None => Ok(()),
        };
        if let Err(error) = result {
            self.stats.rejected += 1;
            self.record(&packet, TraceEvent::Rejected { host, error });
        }
        self.drain_host(host);
    }

    fn translated(&mut self, nat: NatId, packet: &Packet, old: (SocketAddr, SocketAddr)) {
        self.record(
            packet,
            TraceEvent::Translated {
                nat,
                old_source: old.0,
                old_destination: old.1,
            },
        );
    }

    /// A datagram reaches a NAT's public side: let it in through a mapping, or drop it.
    fn nat_from_outside(&mut self, nat: NatId, mut packet: Packet) {
        let now = self.now;
        let Some(n) = self.nats.get_mut(nat.0) else {
            return;
        };
        if n.nat.public_ip != packet.destination.ip() {
            self.drop_packet(&packet, DropCause::NoRoute, None);
            return;
        }
        match n.nat.inbound(now, packet.source, packet.destination.port()) {
            Ok(internal) => {
                let old = (packet.source, packet.destination);
                packet.destination = internal;
                self.translated(nat, &packet, old);
                self.forward(Attach::NatInside(nat), packet);
            }
            Err(cause) => self.drop_packet(&packet, cause, None),
        }
    }

    /// A datagram reaches a NAT's private side: hairpin it, switch it to another inside
    /// host, or map it out.
    fn nat_from_inside(&mut self, nat: NatId, mut packet: Packet) {
        let now = self.now;
        let Some(n) = self.nats.get_mut(nat.0) else {
            return;
        };
        let old = (packet.source, packet.destination);
        if packet.destination.ip() == n.nat.public_ip {
            if !n.nat.config.hairpinning {
                self.drop_packet(&packet, DropCause::NatHairpin, None);
                return;
            }
            let mapped = n
                .nat
                .outbound(now, packet.source, packet.destination, &mut self.rng)
                .and_then(|external| {
                    let internal = n.nat.inbound(now, external, packet.destination.port())?;
                    Ok((external, internal))
                });
            match mapped {
                Ok((external, internal)) => {
                    packet.source = external;
                    packet.destination = internal;
                    self.translated(nat, &packet, old);
                    self.forward(Attach::NatInside(nat), packet);
                }
                Err(cause) => self.drop_packet(&packet, cause, None),
            }
            return;
        }
        if self
            .route(Attach::NatInside(nat), packet.destination.ip())
            .is_some()
        {
            // Another host on the same private side: switched, not translated.
            self.forward(Attach::NatInside(nat), packet);
            return;
        }
        let Some(n) = self.nats.get_mut(nat.0) else {
            return;
        };
        match n
            .nat
            .outbound(now, packet.source, packet.destination, &mut self.rng)
        {
            Ok(external) => {
                packet.source = external;
                self.translated(nat, &packet, old);
                self.forward(Attach::NatOutside(nat), packet);
            }
            Err(cause) => self.drop_packet(&packet, cause, None),
        }
    }
}
