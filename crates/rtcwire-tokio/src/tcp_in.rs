//! The driver's side of TCP: stream events, messages framed off the read buffers and
//! given to the session, streams closed when their pair is gone.

use crate::driver::Driver;
use crate::tcp::{next, Next, TcpEvent};

/// Most messages framed off one stream per event (then the other branches get a turn).
const MAX_FRAMES_PER_READ: usize = 256;

impl Driver {
    pub(crate) fn on_tcp(&mut self, ev: TcpEvent) {
        match ev {
            TcpEvent::Accepted(s, peer, li) => self.tcp.accepted(s, peer, li),
            TcpEvent::Readable(i) => self.on_tcp_readable(i),
            TcpEvent::Closed(i, why) => {
                // A TLS error (a refused certificate, a bad record) comes as InvalidData.
                if why
                    .as_ref()
                    .is_err_and(|e| e.kind() == std::io::ErrorKind::InvalidData)
                {
                    self.tcp.stats.unframeable += 1;
                }
                self.tcp.close(i, &why);
                self.tcp.prune();
            }
        }
        self.publish_tcp_stats();
    }

    /// Frames what stream `i` holds and gives each message to the session.
    fn on_tcp_readable(&mut self, i: usize) {
        let max_frame = self.tcp.limits.max_frame;
        let Some(s) = self.tcp.streams.get_mut(i) else {
            return;
        };
        let (local, remote, framing) = (s.local, s.remote, s.framing());
        // Taken out while the session runs (it may queue replies on this same stream).
        let mut rbuf = std::mem::take(&mut s.rbuf);
        let mut rlen = s.rlen;
        let mut skip = s.skip;
        let mut start = 0;
        let mut broken = false;
        let mut frames = 0;
        for _ in 0..MAX_FRAMES_PER_READ {
            let avail = rbuf.get(start..rlen).unwrap_or_default();
            if skip > 0 {
                // The part of an oversized frame that was already buffered.
                let n = skip.min(avail.len());
                skip -= n;
                start += n;
                if skip > 0 {
                    break;
                }
                continue;
            }
            match next(framing, avail, max_frame) {
                Next::Frame {
                    start: a,
                    end: b,
                    consumed,
                } => {
                    if let Some(frame) = avail.get(a..b) {
                        self.tcp.stats.frames_in += 1;
                        let refused = self.stats.refused;
                        self.on_packet(rtcwire::Transport::Tcp, remote, local, frame);
                        if self.stats.refused == refused {
                            frames += 1;
                        }
                    }
                    start += consumed;
                }
                Next::Oversized(n) => {
                    self.tcp.stats.oversized += 1;
                    tracing::debug!(%remote, len = n - 2, "oversized ICE-TCP frame skipped");
                    skip = n;
                }
                Next::More => break,
                Next::Broken => {
                    self.tcp.stats.unframeable += 1;
                    broken = true;
                    break;
                }
            }
        }
        // What is left moves to the front.
        rbuf.copy_within(start..rlen, 0);
        rlen -= start;
        let stream = self.tcp.streams.get_mut(i);
        if let Some(s) = stream {
            s.rbuf = rbuf;
            s.rlen = rlen;
            s.skip = skip;
            s.frames_in += frames;
        }
        if broken {
            self.tcp
                .close(i, &Err(std::io::ErrorKind::InvalidData.into()));
            self.tcp.prune();
        }
    }

    /// On the session's timer: ICE-TCP streams off the selected pair close after a grace
    /// time.
    pub(crate) fn tcp_upkeep(&mut self) {
        let selected = self
            .conns
            .values()
            .next()
            .and_then(|c| c.pc.ice_agent().selected_path())
            .map(|(_, l, r)| (l, r));
        self.tcp.close_unselected(selected);
        self.publish_tcp_stats();
    }

    /// The counters go to the session (one per driver when TCP is on).
    fn publish_tcp_stats(&mut self) {
        let stats = self.tcp.stats;
        for c in self.conns.values_mut() {
            c.tcp = stats;
        }
    }
}
