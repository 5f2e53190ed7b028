//! TCP in the driver: ICE-TCP (RFC 6544) and TURN over TCP or TLS (RFC 8656 §12.5).
//!
//! The sessions see whole messages tagged [`Transport::Tcp`](rtcwire::Transport) with the
//! addresses ICE knows: an ICE-TCP stream is named by its candidate pair (the passive
//! candidate's listening address and the peer's address of an accepted stream; the
//! active candidate's `ip:9` and the peer's passive candidate for one we opened), a TURN
//! stream by the allocation's base (a UDP host address) and the server's address.
//!
//! Everything runs in the driver: listeners, connects, reads and writes are polled by its
//! task with the other sources it waits on (no task per stream). ICE-TCP streams are framed with
//! RFC 4571 (16-bit length before each packet); TURN streams carry self-delimiting STUN
//! and ChannelData (padded to 4 bytes by the agent). TLS is rustls on ring, driven here
//! with the socket's `try_read`/`try_write`. Every buffer is capped ([`TcpLimits`]).

use std::future::Future;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rtcwire_stun::{next_frame, write_rfc4571, Framing};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::time::{Duration, Instant};

use crate::config::TcpLimits;

/// Largest TURN-over-TCP frame: a STUN message (20 + 65532 bytes) or a padded
/// ChannelData message (4 + 65535 + 1).
const MAX_TURN_FRAME: usize = 20 + 65_536;
/// Bytes of TLS records taken off the socket per read.
const TLS_READ: usize = 16 * 1024;
/// A connect (and TLS handshake) that takes longer fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Counters of the TCP side, per session ([`PeerConnection::tcp_stats`](crate::PeerConnection::tcp_stats)).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TcpStats {
    /// Streams accepted on a passive candidate's listener.
    pub accepted: u64,
    /// Streams we connected (active ICE-TCP candidates and TURN servers).
    pub connected: u64,
    /// Streams refused or not opened because [`TcpLimits::max_streams`] were open.
    pub over_limit: u64,
    /// Streams closed (by the peer, an error, or because their pair is gone).
    pub closed: u64,
    /// Connects (or TLS handshakes) that failed.
    pub connect_failures: u64,
    /// Messages received on TCP streams and given to the session.
    pub frames_in: u64,
    /// Messages written to TCP streams.
    pub frames_out: u64,
    /// ICE-TCP frames longer than [`TcpLimits::max_frame`], skipped unread.
    pub oversized: u64,
    /// Streams closed because their bytes could not be framed (TURN streams out of step,
    /// a TLS error).
    pub unframeable: u64,
    /// Messages dropped because their stream's write buffer was full.
    pub write_drops: u64,
    /// Messages for a TCP pair that has no stream (a passive one whose peer closed it).
    pub no_stream: u64,
}

/// What a stream carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// ICE-TCP, RFC 4571 framed.
    Ice,
    /// TURN over TCP or TLS.
    Turn,
}

type Connecting = Pin<Box<dyn Future<Output = std::io::Result<TcpStream>> + Send>>;

enum Io {
    Connecting(Connecting, Instant),
    Open(TcpStream),
    Closed,
}

/// One stream and its buffers.
pub(crate) struct Stream {
    /// The local address the session knows the stream by.
    pub(crate) local: SocketAddr,
    /// The remote address the session knows the stream by.
    pub(crate) remote: SocketAddr,
    pub(crate) kind: Kind,
    io: Io,
    tls: Option<Box<rustls::ClientConnection>>,
    /// Received bytes not yet framed: `rbuf[..rlen]`. Its size is the largest frame.
    pub(crate) rbuf: Vec<u8>,
    pub(crate) rlen: usize,
    /// Bytes of an oversized frame still to be skipped.
    pub(crate) skip: usize,
    /// Framed messages waiting for the socket: `out[out_pos..]`.
    out: Vec<u8>,
    out_pos: usize,
    opened: Instant,
    /// Messages framed off it so far.
    pub(crate) frames_in: u64,
}

impl Stream {
    fn new(local: SocketAddr, remote: SocketAddr, kind: Kind, io: Io, max_frame: usize) -> Self {
        let size = match kind {
            Kind::Ice => 2 + max_frame,
            Kind::Turn => MAX_TURN_FRAME,
        };
        Stream {
            local,
            remote,
            kind,
            io,
            tls: None,
            rbuf: vec![0; size],
            rlen: 0,
            skip: 0,
            out: Vec::new(),
            out_pos: 0,
            opened: Instant::now(),
            frames_in: 0,
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        matches!(self.io, Io::Closed)
    }

    pub(crate) fn framing(&self) -> Framing {
        match self.kind {
            Kind::Ice => Framing::Rfc4571,
            Kind::Turn => Framing::Turn,
        }
    }

    /// Whether there is something the socket could take now (what waits for a TLS
    /// handshake to finish does not count).
    fn has_output(&self) -> bool {
        match &self.tls {
            Some(t) => t.wants_write() || (!t.is_handshaking() && self.out_pos < self.out.len()),
            None => self.out_pos < self.out.len(),
        }
    }

    /// Writes what the socket takes now; `Err` closes the stream.
    fn flush(&mut self) -> std::io::Result<()> {
        let Io::Open(s) = &self.io else {
            return Ok(());
        };
        if let Some(tls) = self.tls.as_mut() {
            loop {
                while tls.wants_write() {
                    match tls.write_tls(&mut TryWrite(s)) {
                        Ok(_) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(()),
                        Err(e) => return Err(e),
                    }
                }
                // rustls holds no more than one write buffer's worth: ours moves in only
                // once the last went out.
                if tls.is_handshaking() || self.out_pos >= self.out.len() {
                    return Ok(());
                }
                let pending = self.out.get(self.out_pos..).unwrap_or_default();
                tls.writer().write_all(pending)?;
                self.out.clear();
                self.out_pos = 0;
            }
        }
        while let Some(pending) = self.out.get(self.out_pos..).filter(|p| !p.is_empty()) {
            match s.try_write(pending) {
                Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                Ok(n) => self.out_pos += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        self.out.clear();
        self.out_pos = 0;
        Ok(())
    }

    /// Queues one message (framed for the stream's kind), within the write cap.
    fn queue(&mut self, data: &[u8], cap: usize) -> bool {
        let framed = match self.kind {
            Kind::Ice => 2 + data.len(),
            Kind::Turn => data.len(),
        };
        if self.out.len() - self.out_pos + framed > cap {
            return false;
        }
        if self.out_pos > 0 {
            self.out.drain(..self.out_pos);
            self.out_pos = 0;
        }
        match self.kind {
            Kind::Ice => write_rfc4571(data, &mut self.out).is_ok(),
            Kind::Turn => {
                self.out.extend_from_slice(data);
                true
            }
        }
    }

    /// Reads what is there into `rbuf`: `Ready(Ok(true))` when bytes came, `Ok(false)` at
    /// the end of the stream, `Err` on an error, `Pending` when nothing is there (the
    /// waker registered with the socket).
    fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        scratch: &mut [u8],
    ) -> Poll<std::io::Result<bool>> {
        // Bounded: a stale readiness or a TLS record without plaintext takes a round each.
        for _ in 0..8 {
            let Io::Open(s) = &self.io else {
                return Poll::Pending;
            };
            if let Some(tls) = self.tls.as_mut() {
                // Plaintext rustls holds comes first.
                let Some(room) = self.rbuf.get_mut(self.rlen..).filter(|r| !r.is_empty()) else {
                    // No room: the driver frames what is there first.
                    return Poll::Pending;
                };
                match tls.reader().read(room) {
                    Ok(n) if n > 0 => {
                        self.rlen += n;
                        return Poll::Ready(Ok(true));
                    }
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(e) => return Poll::Ready(Err(e)),
                }
            } else if self.rlen >= self.rbuf.len() && self.skip == 0 {
                return Poll::Pending;
            }
            match s.poll_read_ready(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(())) => {}
            }
            let r = if self.tls.is_some() {
                s.try_read(scratch)
            } else if self.skip > 0 {
                // An oversized frame: read past it into the scratch space, unbuffered.
                let take = self.skip.min(scratch.len());
                match s.try_read(scratch.get_mut(..take).unwrap_or_default()) {
                    Ok(n) if n > 0 => {
                        self.skip -= n;
                        return Poll::Ready(Ok(true));
                    }
                    r => r,
                }
            } else {
                s.try_read(self.rbuf.get_mut(self.rlen..).unwrap_or_default())
            };
            match r {
                Ok(0) => return Poll::Ready(Ok(false)),
                Ok(n) => {
                    let Some(tls) = self.tls.as_mut() else {
                        self.rlen += n;
                        return Poll::Ready(Ok(true));
                    };
                    let mut got = scratch.get(..n).unwrap_or_default();
                    while !got.is_empty() {
                        tls.read_tls(&mut got)?;
                        tls.process_new_packets()
                            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
                    }
                    // Handshake messages to answer now; the plaintext on the next round.
                    self.flush()?;
                }
                // `try_read` cleared the stale readiness: the next round registers.
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// `std::io::Write` over a tokio stream's non-blocking writes (for rustls).
struct TryWrite<'a>(&'a TcpStream);

impl Write for TryWrite<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.try_write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A TURN server reached over TCP or TLS.
pub(crate) struct TurnTarget {
    pub(crate) addr: SocketAddr,
    /// For `turns:`: the client configuration and the name to verify.
    pub(crate) tls: Option<(
        Arc<rustls::ClientConfig>,
        rustls::pki_types::ServerName<'static>,
    )>,
}

/// What happened on the TCP side.
pub(crate) enum TcpEvent {
    /// A stream came in on listener `usize`.
    Accepted(TcpStream, SocketAddr, usize),
    /// Stream `usize` has new bytes in its read buffer.
    Readable(usize),
    /// Stream `usize` ended or failed.
    Closed(usize, std::io::Result<()>),
}

/// The listeners and streams of a driver.
pub(crate) struct Tcp {
    pub(crate) listeners: Vec<(TcpListener, SocketAddr)>,
    pub(crate) streams: Vec<Stream>,
    pub(crate) turn: Vec<TurnTarget>,
    /// Connect from these IPs for `tcptype active` candidates (port 9 in the candidate).
    pub(crate) active: Vec<IpAddr>,
    pub(crate) limits: TcpLimits,
    pub(crate) stats: TcpStats,
    scratch: Vec<u8>,
    first: usize,
    /// When ICE-TCP streams are next looked over.
    upkeep_at: Option<Instant>,
}

impl Tcp {
    pub(crate) fn new(limits: TcpLimits) -> Self {
        Tcp {
            listeners: Vec::new(),
            streams: Vec::new(),
            turn: Vec::new(),
            active: Vec::new(),
            limits,
            stats: TcpStats::default(),
            scratch: Vec::new(),
            first: 0,
            upkeep_at: None,
        }
    }

    /// When to look the ICE-TCP streams over next (`None`: there are none).
    pub(crate) fn next_upkeep(&self) -> Option<Instant> {
        self.upkeep_at
    }

    /// Whether the streams are due to be looked over at `now`; sets the next time.
    pub(crate) fn upkeep_due(&mut self, now: Instant) -> bool {
        let any = self.streams.iter().any(|s| s.kind == Kind::Ice);
        if !any {
            self.upkeep_at = None;
            return false;
        }
        // A quarter of the grace time (at least 50 ms): a stream goes at most that late.
        let tick = (self.limits.idle_grace / 4).max(Duration::from_millis(50));
        match self.upkeep_at {
            Some(t) if t > now => false,
            Some(_) => {
                self.upkeep_at = Some(now + tick);
                true
            }
            None => {
                self.upkeep_at = Some(now + tick);
                false
            }
        }
    }

    /// Whether there is anything to poll.
    pub(crate) fn is_active(&self) -> bool {
        !self.listeners.is_empty() || !self.streams.is_empty()
    }

    fn open_count(&self) -> usize {
        self.streams.iter().filter(|s| !s.is_closed()).count()
    }

    /// Sends one message of the session on the stream of (`local`, `remote`), opening it
    /// when it is ours to open (a TURN server, an active candidate).
    pub(crate) fn send(&mut self, local: SocketAddr, remote: SocketAddr, data: &[u8]) {
        let idx = match self
            .streams
            .iter()
            .position(|s| !s.is_closed() && s.local == local && s.remote == remote)
        {
            Some(i) => i,
            None => match self.open(local, remote) {
                Some(i) => i,
                None => return,
            },
        };
        let cap = self.limits.max_write_buffer;
        let Some(s) = self.streams.get_mut(idx) else {
            return;
        };
        if !s.queue(data, cap) {
            self.stats.write_drops += 1;
            return;
        }
        self.stats.frames_out += 1;
        if let Err(e) = s.flush() {
            tracing::debug!(error = %e, remote = %s.remote, "TCP write");
            s.io = Io::Closed;
            self.stats.closed += 1;
        }
    }

    /// Opens a stream the session asked for; its index.
    fn open(&mut self, local: SocketAddr, remote: SocketAddr) -> Option<usize> {
        let turn = self.turn.iter().find(|t| t.addr == remote);
        let active = local.port() == 9 && self.active.contains(&local.ip());
        if turn.is_none() && !active {
            self.stats.no_stream += 1;
            return None;
        }
        if self.open_count() >= self.limits.max_streams {
            self.stats.over_limit += 1;
            return None;
        }
        let (kind, bind_ip, tls) = match turn {
            Some(t) => (Kind::Turn, None, t.tls.clone()),
            None => (Kind::Ice, Some(local.ip()), None),
        };
        let fut: Connecting = Box::pin(async move {
            let socket = if remote.is_ipv4() {
                TcpSocket::new_v4()?
            } else {
                TcpSocket::new_v6()?
            };
            if let Some(ip) = bind_ip {
                socket.bind(SocketAddr::new(ip, 0))?;
            }
            let s = socket.connect(remote).await?;
            s.set_nodelay(true)?;
            Ok(s)
        });
        let mut s = Stream::new(
            local,
            remote,
            kind,
            Io::Connecting(fut, Instant::now()),
            self.limits.max_frame,
        );
        if let Some((config, name)) = tls {
            match rustls::ClientConnection::new(config, name) {
                Ok(mut c) => {
                    // Our own cap (`max_write_buffer`) bounds what goes in.
                    c.set_buffer_limit(None);
                    s.tls = Some(Box::new(c));
                }
                Err(e) => {
                    tracing::debug!(error = %e, "TLS client");
                    self.stats.connect_failures += 1;
                    return None;
                }
            }
        }
        tracing::debug!(%local, %remote, ?kind, "TCP connect");
        self.streams.push(s);
        Some(self.streams.len() - 1)
    }

    /// Takes a stream accepted on listener `li`.
    pub(crate) fn accepted(&mut self, s: TcpStream, peer: SocketAddr, li: usize) {
        let Some(&(_, local)) = self.listeners.get(li) else {
            return;
        };
        if self.open_count() >= self.limits.max_streams {
            self.stats.over_limit += 1;
            tracing::debug!(%peer, "TCP stream refused: too many");
            return;
        }
        let _ = s.set_nodelay(true);
        self.stats.accepted += 1;
        tracing::debug!(%local, %peer, "TCP stream accepted");
        self.streams.push(Stream::new(
            local,
            peer,
            Kind::Ice,
            Io::Open(s),
            self.limits.max_frame,
        ));
    }

    /// Closes stream `i` (the reason counted).
    pub(crate) fn close(&mut self, i: usize, why: &std::io::Result<()>) {
        if let Some(s) = self.streams.get_mut(i) {
            if !s.is_closed() {
                tracing::debug!(local = %s.local, remote = %s.remote, result = ?why, "TCP stream closed");
                s.io = Io::Closed;
                self.stats.closed += 1;
            }
        }
    }

    /// The driver ends: what the sockets take now goes (a TURN deallocation, a TLS
    /// close_notify), best effort; the streams close when dropped.
    pub(crate) fn shutdown(&mut self) {
        for s in &mut self.streams {
            if let Some(t) = s.tls.as_mut() {
                t.send_close_notify();
            }
            let _ = s.flush();
        }
    }

    /// Frees closed streams. Indices change: call only between events.
    pub(crate) fn prune(&mut self) {
        self.streams.retain(|s| !s.is_closed());
    }

    /// Closes ICE-TCP streams past their grace time that are not on the `selected` pair
    /// (once there is one) or never carried a message (an idle peer does not hold a slot).
    pub(crate) fn close_unselected(&mut self, selected: Option<(SocketAddr, SocketAddr)>) {
        let now = Instant::now();
        for i in 0..self.streams.len() {
            let Some(s) = self.streams.get(i) else { break };
            let off_pair = selected.is_some_and(|p| p != (s.local, s.remote));
            if s.kind == Kind::Ice
                && !s.is_closed()
                && (off_pair || s.frames_in == 0)
                && now.duration_since(s.opened) > self.limits.idle_grace
            {
                self.close(i, &Ok(()));
            }
        }
        self.prune();
    }

    /// Polls listeners, connects, writes and reads; returns the first event.
    pub(crate) fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<TcpEvent> {
        for (i, (l, _)) in self.listeners.iter().enumerate() {
            match l.poll_accept(cx) {
                Poll::Ready(Ok((s, peer))) => return Poll::Ready(TcpEvent::Accepted(s, peer, i)),
                Poll::Ready(Err(e)) => tracing::debug!(error = %e, "accept"),
                Poll::Pending => {}
            }
        }
        let n = self.streams.len();
        if n > 0 && self.scratch.len() < TLS_READ {
            // Only once there is a stream: an idle listener costs no buffer.
            self.scratch = vec![0; TLS_READ];
        }
        let first = self.first;
        for j in 0..n {
            let i = (first + j) % n;
            let Some(s) = self.streams.get_mut(i) else {
                continue;
            };
            if let Io::Connecting(fut, since) = &mut s.io {
                match fut.as_mut().poll(cx) {
                    Poll::Ready(Ok(tcp)) => {
                        s.io = Io::Open(tcp);
                        self.stats.connected += 1;
                        tracing::debug!(local = %s.local, remote = %s.remote, "TCP connected");
                    }
                    Poll::Ready(Err(e)) => {
                        self.stats.connect_failures += 1;
                        return Poll::Ready(TcpEvent::Closed(i, Err(e)));
                    }
                    Poll::Pending => {
                        if since.elapsed() > CONNECT_TIMEOUT {
                            self.stats.connect_failures += 1;
                            return Poll::Ready(TcpEvent::Closed(
                                i,
                                Err(std::io::ErrorKind::TimedOut.into()),
                            ));
                        }
                        continue;
                    }
                }
            }
            // Until the socket takes it all or says it is full (which registers the waker);
            // `try_write` clears a stale readiness, so a few rounds at most.
            for _ in 0..4 {
                if !s.has_output() {
                    break;
                }
                let Io::Open(t) = &s.io else { break };
                match t.poll_write_ready(cx) {
                    Poll::Ready(Ok(())) => {
                        if let Err(e) = s.flush() {
                            return Poll::Ready(TcpEvent::Closed(i, Err(e)));
                        }
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(TcpEvent::Closed(i, Err(e))),
                    Poll::Pending => break,
                }
            }
            match s.poll_read(cx, &mut self.scratch) {
                Poll::Ready(Ok(true)) => {
                    self.first = (i + 1) % n;
                    return Poll::Ready(TcpEvent::Readable(i));
                }
                Poll::Ready(Ok(false)) => return Poll::Ready(TcpEvent::Closed(i, Ok(()))),
                Poll::Ready(Err(e)) => return Poll::Ready(TcpEvent::Closed(i, Err(e))),
                Poll::Pending => {}
            }
        }
        Poll::Pending
    }
}

/// Where the next message lies in a stream's read buffer, for the driver's framing loop.
pub(crate) enum Next {
    /// A message at `rbuf[start..end]`, taking `consumed` bytes from the front.
    Frame {
        start: usize,
        end: usize,
        consumed: usize,
    },
    /// An ICE-TCP frame longer than the cap: skip `usize` bytes (all of it, prefix too).
    Oversized(usize),
    /// Wait for more bytes.
    More,
    /// The stream is out of step: close it.
    Broken,
}

/// Looks at the front of `buf` (a stream's unread bytes).
pub(crate) fn next(framing: Framing, buf: &[u8], max_frame: usize) -> Next {
    if framing == Framing::Rfc4571 {
        if let Some(&[a, b]) = buf.get(..2) {
            let len = usize::from(u16::from_be_bytes([a, b]));
            if len > max_frame {
                return Next::Oversized(2 + len);
            }
        }
    }
    match next_frame(framing, buf) {
        Ok(Some(span)) => Next::Frame {
            start: span.start,
            end: span.end,
            consumed: span.consumed,
        },
        Ok(None) => Next::More,
        Err(_) => Next::Broken,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_front() {
        // RFC 4571: a 3-byte packet, then the start of one too long for the cap.
        let buf = [0, 3, 20, 1, 2, 0x40, 0x00];
        assert!(matches!(
            next(Framing::Rfc4571, &buf, 100),
            Next::Frame {
                start: 2,
                end: 5,
                consumed: 5
            }
        ));
        assert!(matches!(
            next(Framing::Rfc4571, &buf[5..], 100),
            Next::Oversized(n) if n == 2 + 0x4000
        ));
        assert!(matches!(next(Framing::Rfc4571, &buf[..1], 100), Next::More));
        // TURN framing: ChannelData padded to 4; garbage is out of step.
        let cd = [0x40, 0x00, 0x00, 0x01, 0xaa, 0, 0, 0];
        assert!(matches!(
            next(Framing::Turn, &cd, 100),
            Next::Frame {
                start: 0,
                end: 5,
                consumed: 8
            }
        ));
        assert!(matches!(
            next(Framing::Turn, &[0xff, 1, 2, 3], 100),
            Next::Broken
        ));
    }
}
