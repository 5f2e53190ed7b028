//! Datagrams in and out: demultiplexing to the local candidate or TURN allocation, data on
//! valid pairs, the outgoing queue and transactions.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rtcwire_proto::{Datagram, Transport};
use rtcwire_stun::{Message, TransactionId};

use crate::agent::{
    Agent, IceState, Local, Outgoing, PairState, Purpose, Received, Txn, MAX_QUEUED,
};
use crate::Error;

impl Agent {
    /// Feeds one datagram; returns application data as a borrow (no copy). Use this from a
    /// session; [`SansIo::handle_read`](rtcwire_proto::SansIo::handle_read) wraps it.
    pub fn handle_datagram<'a>(
        &mut self,
        now: Instant,
        d: Datagram<'a>,
    ) -> Result<Received<'a>, Error> {
        self.last_now = Some(now);
        let r = self.handle_datagram_inner(now, d);
        if r.is_err() {
            self.stats.refused += 1;
        } else {
            self.turn_upkeep(now);
        }
        self.update_state(now);
        r
    }

    pub(crate) fn handle_datagram_inner<'a>(
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
        self.data_from(now, local, src, d.contents)
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
        now: Instant,
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
        // The path used before the last switch, for data still in flight on it or sent by
        // a peer that switches a round trip later.
        let on_previous = self
            .prev_path
            .is_some_and(|(l, r, until)| l == local && r == src && now < until);
        if on_selected || on_valid || on_previous {
            Ok(Received::Data {
                source: src,
                contents,
            })
        } else {
            Err(Error::UnknownSource(src))
        }
    }

    pub(crate) fn local_for(
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
            // A host candidate removed for the next generation (an ICE restart onto a new
            // interface) still receives on the selected pair until the new pair takes over,
            // and for a short while after on the previous pair.
            let in_use = self
                .selected
                .as_ref()
                .map(|s| s.local)
                .into_iter()
                .chain(self.prev_path.map(|(l, _, _)| l));
            for i in in_use {
                if self.locals.get(i).is_some_and(|l| {
                    l.removed && l.relay.is_none() && l.cand.transport == transport && l.base == d
                }) {
                    return Ok(i);
                }
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

    pub(crate) fn check_open(&self) -> Result<(), Error> {
        if self.state == IceState::Closed {
            Err(Error::Closed)
        } else {
            Ok(())
        }
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
}
