//! Datagrams: batches received and routed to their session; those a full buffer refused.

use std::collections::VecDeque;
use std::io::IoSliceMut;
use std::net::SocketAddr;
use std::task::{Context, Poll};

use rtcwire::{Datagram, Input, Transport};
use tokio::io::Interest;
use tokio::time::Instant;

use crate::driver::{ConnKey, Driver, Sock, MAX_BATCH, MAX_PARKED_BYTES, RX_SIZE, SESSION_BATCH};

impl Driver {
    /// A batch from socket `i`: `n` buffers described by `self.meta`.
    pub(crate) fn on_batch(&mut self, r: (usize, std::io::Result<usize>)) {
        let (i, res) = r;
        let n = match res {
            Ok(n) => n.min(self.batch),
            Err(e) => {
                // ICMP errors (port unreachable) surface here on some systems; go on.
                tracing::trace!(error = %e, "recv");
                if self.pooled {
                    RxPool::give_back(&mut self.rx);
                }
                return;
            }
        };
        let Some(&bound) = self.locals.get(i) else {
            if self.pooled {
                RxPool::give_back(&mut self.rx);
            }
            return;
        };
        let rx = std::mem::take(&mut self.rx);
        // One reading of the clock for the batch (it was one per datagram: ~2 % of a bulk
        // transfer's CPU); the batch is handled without waiting.
        let now = Instant::now();
        for k in 0..n {
            let Some(meta) = self.meta.get(k).copied() else {
                break;
            };
            // A socket on the unspecified address learns the destination per datagram.
            let local = match meta.dst_ip {
                Some(ip) if bound.ip().is_unspecified() => SocketAddr::new(ip, bound.port()),
                _ => bound,
            };
            let start = k * RX_SIZE;
            let Some(buf) = rx.get(start..start + meta.len.min(RX_SIZE)) else {
                continue;
            };
            // GRO: equal-size datagrams from one sender, back to back.
            for contents in buf.chunks(meta.stride.max(1)) {
                if let Some(key) = self.feed_packet(now, Transport::Udp, meta.addr, local, contents)
                {
                    if !self.fed.contains(&key) {
                        self.fed.push(key);
                    }
                }
            }
        }
        self.rx = rx;
        // Each session's output once for the whole batch: one SACK for all its packets,
        // its answers in GSO batches.
        for i in 0..self.fed.len() {
            let key = self.fed[i];
            self.drive_key(key);
        }
        self.fed.clear();
        if self.pooled {
            RxPool::give_back(&mut self.rx);
        }
    }

    /// A datagram, or a message off a TCP stream, for the session it belongs to; the
    /// session is drained at once.
    pub(crate) fn on_packet(
        &mut self,
        transport: Transport,
        from: SocketAddr,
        local: SocketAddr,
        contents: &[u8],
    ) {
        if let Some(key) = self.feed_packet(Instant::now(), transport, from, local, contents) {
            self.drive_key(key);
        }
    }

    /// Hands a datagram (or a TCP message) to its session; returns the session to drain
    /// (not drained yet: a receive batch drains each of its sessions once, after it), if
    /// it took the datagram in. `now`: when its batch arrived.
    pub(crate) fn feed_packet(
        &mut self,
        now: Instant,
        transport: Transport,
        from: SocketAddr,
        local: SocketAddr,
        contents: &[u8],
    ) -> Option<ConnKey> {
        self.stats.received += 1;
        let mut d = Datagram::udp(from, local, contents);
        d.transport = transport;
        let key = if self.conns.len() == 1 {
            self.conns.keys().next().copied()
        } else {
            match self.routes.get(&from) {
                Some(k) if self.conns.get(k).is_some_and(|c| c.pc.accepts(&d)) => Some(*k),
                _ => {
                    let k = self
                        .conns
                        .iter()
                        .find(|(_, c)| c.pc.accepts(&d))
                        .map(|(k, _)| *k);
                    if let Some(k) = k {
                        self.routes.insert(from, k);
                    }
                    k
                }
            }
        };
        let Some(key) = key else {
            self.stats.unrouted += 1;
            tracing::trace!(%from, "datagram for no session");
            return None;
        };
        let c = self.conns.get_mut(&key)?;
        if c.loss.as_mut().is_some_and(|l| l.0.drops(contents)) {
            return None; // injected loss (tests only)
        }
        // RFC 7983: 20..=63 is DTLS. STUN still goes in (consent, keepalives).
        if (!c.backlog.is_empty() || !c.parked.is_empty())
            && contents.first().is_some_and(|b| (20..=63).contains(b))
        {
            if c.parked_bytes + contents.len() <= MAX_PARKED_BYTES {
                c.parked_bytes += contents.len();
                c.parked
                    .push_back((transport, from, local, contents.to_vec()));
            } else {
                // Beyond that, like a full socket buffer: SCTP sends it again.
                self.stats.held_back += 1;
            }
            return None;
        }
        {
            let _g = c.span.clone().entered();
            if let Err(e) = c.pc.handle_input(Input::Receive(now.into_std(), d)) {
                self.stats.refused += 1;
                tracing::trace!(error = %e, %from, "datagram refused");
            }
        }
        Some(key)
    }
}

/// Keeps Linux's UDP GRO machinery switched on for the life of the process.
///
/// The first socket that turns on `UDP_GRO` (quinn-udp does, for every socket we make)
/// enables a static branch in the kernel, and closing the last one disables it; each flip
/// rewrites kernel code and stops every CPU with an inter-processor interrupt. A process
/// that makes and drops connections one after another (no other GRO socket open between
/// them) paid that twice per socket: ~15 % of the CPU of `connect_profile` and 0.6-1.2 ms
/// of wall time per connection set up and closed, some of it landing on the other core's
/// handshake. One unbound socket with GRO on (it has no port, so it never receives),
/// made with the first socket and never closed, keeps the branch on. IPv6 first: it
/// holds the IPv6 branch and the IPv4 one.
pub(crate) fn hold_gro_on() {
    static ANCHOR: std::sync::OnceLock<Option<std::net::UdpSocket>> = std::sync::OnceLock::new();
    ANCHOR.get_or_init(|| {
        use socket2::{Domain, Protocol, Socket, Type};
        [Domain::IPV6, Domain::IPV4].into_iter().find_map(|d| {
            let s: std::net::UdpSocket = Socket::new(d, Type::DGRAM, Some(Protocol::UDP))
                .ok()?
                .into();
            quinn_udp::UdpSocketState::new((&s).into()).ok()?;
            Some(s)
        })
    });
}

/// A datagram (or GSO batch) a full kernel buffer refused.
pub(crate) struct Unsent {
    pub(crate) socket: usize,
    pub(crate) destination: SocketAddr,
    pub(crate) data: Vec<u8>,
    pub(crate) segment_size: Option<usize>,
}

/// Sends the refused datagrams in order as their sockets become writable, counting into
/// `sent` and `errors` (anything but a full buffer fails for good); ready once all are out.
pub(crate) fn poll_send_unsent(
    cx: &mut Context<'_>,
    sockets: &[Sock],
    unsent: &mut VecDeque<Unsent>,
    sent: &mut u64,
    errors: &mut u64,
) -> Poll<()> {
    let mut spins = 0;
    while let Some(u) = unsent.front() {
        let Some(s) = sockets.get(u.socket) else {
            unsent.pop_front();
            *errors += 1;
            continue;
        };
        match s.io.poll_send_ready(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Err(e)) => {
                tracing::trace!(error = %e, "send readiness");
                unsent.pop_front();
                *errors += 1;
                continue;
            }
            Poll::Ready(Ok(())) => {}
        }
        let transmit = quinn_udp::Transmit {
            destination: u.destination,
            ecn: None,
            contents: &u.data,
            segment_size: u.segment_size,
            src_ip: None,
        };
        // `try_io` clears a stale readiness, so the next poll registers the waker.
        match s.io.try_io(Interest::WRITABLE, || {
            s.state.try_send((&s.io).into(), &transmit)
        }) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                spins += 1;
                if spins >= 4 {
                    // Still "ready" yet full: come back through the executor.
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
            }
            Err(e) => {
                tracing::trace!(error = %e, "send");
                unsent.pop_front();
                *errors += 1;
            }
            Ok(()) => {
                unsent.pop_front();
                *sent += 1;
            }
        }
    }
    Poll::Ready(())
}

/// Receive buffers of the drivers of lone sessions, one set per thread: a driver takes
/// them when a socket is readable and gives them back once the batch is handled (no
/// `await` in between), so one set serves every driver the thread runs and an idle
/// connection holds none.
pub(crate) struct RxPool;

thread_local! {
    static RX_POOL: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl RxPool {
    /// Fills an empty `buf` with the thread's buffers (or new zeroed ones).
    fn take(buf: &mut Vec<u8>) {
        if buf.len() >= RX_SIZE * SESSION_BATCH {
            return;
        }
        let pooled = RX_POOL.with(|p| std::mem::take(&mut *p.borrow_mut()));
        *buf = if pooled.len() >= RX_SIZE * SESSION_BATCH {
            pooled
        } else {
            vec![0; RX_SIZE * SESSION_BATCH]
        };
    }

    /// Hands `buf` back to the thread (kept if the thread has none).
    pub(crate) fn give_back(buf: &mut Vec<u8>) {
        let b = std::mem::take(buf);
        RX_POOL.with(|p| {
            let mut p = p.borrow_mut();
            if p.is_empty() {
                *p = b;
            }
        });
    }
}

/// The transmit buffer of the drivers of lone sessions, one per thread (as [`RxPool`]):
/// taken for one drain of a session's output, given back after it.
pub(crate) struct TxPool;

thread_local! {
    static TX_POOL: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl TxPool {
    /// Fills an empty `buf` with the thread's buffer (if it has one).
    pub(crate) fn take(buf: &mut Vec<u8>) {
        if buf.capacity() == 0 {
            *buf = TX_POOL.with(|p| std::mem::take(&mut *p.borrow_mut()));
        }
    }

    /// Hands `buf` back to the thread (kept if the thread has none).
    pub(crate) fn give_back(buf: &mut Vec<u8>) {
        let b = std::mem::take(buf);
        TX_POOL.with(|p| {
            let mut p = p.borrow_mut();
            if p.capacity() == 0 {
                *p = b;
            }
        });
    }
}

/// Datagrams from any socket (starting with `first`, for fairness): fills up to `batch`
/// buffers of `buf` and their `meta`; returns the socket and how many. A `pooled`
/// driver's `buf` is empty while it waits, filled from the thread's [`RxPool`] when a
/// socket is readable, and given back if nothing was there.
pub(crate) fn poll_recv_any(
    cx: &mut Context<'_>,
    sockets: &[Sock],
    buf: &mut Vec<u8>,
    pooled: bool,
    meta: &mut [quinn_udp::RecvMeta],
    batch: usize,
    first: usize,
) -> Poll<(usize, std::io::Result<usize>)> {
    let n = sockets.len();
    for j in 0..n {
        let i = (first + j) % n;
        let Some(s) = sockets.get(i) else { continue };
        // Ready, then read; a stale readiness is cleared by `try_io` and polled again
        // (which registers the waker when nothing is there).
        for attempt in 0..4 {
            let ready = match s.io.poll_recv_ready(cx) {
                Poll::Pending => break,
                Poll::Ready(r) => r,
            };
            if let Err(e) = ready {
                return Poll::Ready((i, Err(e)));
            }
            if pooled {
                RxPool::take(buf);
            }
            let mut chunks = buf.chunks_mut(RX_SIZE);
            let mut iovs: [IoSliceMut<'_>; MAX_BATCH] =
                std::array::from_fn(|_| IoSliceMut::new(chunks.next().unwrap_or(&mut [])));
            let take = batch.min(MAX_BATCH).min(meta.len());
            let r = s.io.try_io(Interest::READABLE, || {
                s.state
                    .recv((&s.io).into(), &mut iovs[..take], &mut meta[..take])
            });
            match r {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if attempt == 3 {
                        // Still "ready" yet empty: come back through the executor.
                        cx.waker().wake_by_ref();
                    }
                }
                r => return Poll::Ready((i, r)),
            }
        }
    }
    if pooled {
        RxPool::give_back(buf);
    }
    Poll::Pending
}
