//! The driver's task: it takes the driver while it works, polls the sources it waits on
//! (commands, sockets, TCP, the earliest deadline, a full socket draining, a slow
//! receiver's channel) in turn, and gives the driver back before it waits.

use std::cmp::Reverse;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll};

use rtcwire::Input;
use tokio::time::{Duration, Instant};

use crate::driver::{lock, Cmd, Driver, Shared, EVENTS_PER_POLL, SOURCES};
use crate::udp::{poll_recv_any, poll_send_unsent};

impl Driver {
    /// Runs until the last session is gone (or, shared, the server too), taking the
    /// driver only while it works.
    pub(crate) async fn run(shared: Arc<Shared>) {
        std::future::poll_fn(|cx| match lock(&shared) {
            Some(mut d) => d.poll_run(cx),
            None => Poll::Ready(()),
        })
        .await;
    }

    /// Wakes the task after a direct call if the call made something due before what the
    /// task waits until (a timer, datagrams a full socket kept, a session to free).
    pub(crate) fn wake_if_needed(&mut self) {
        let sooner = self.next_deadline().is_some_and(|t| t < self.waiting_until);
        let needed = sooner
            || !self.unsent.is_empty()
            || !self.closing.is_empty()
            || !self.backlogged.is_empty();
        if let (true, Some(w)) = (needed, &self.waker) {
            w.wake_by_ref();
        }
    }

    fn poll_run(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.done {
            return Poll::Ready(());
        }
        if std::mem::take(&mut self.answered) {
            // The caller of a call woke on this thread and runs once the task yields; work
            // the call made due (a DTLS handshake's key shares) comes after it, or on
            // another worker that takes the task meanwhile.
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        for _ in 0..EVENTS_PER_POLL {
            let now = Instant::now();
            self.run_due(now);
            if self.conns.is_empty() && (self.exit_when_empty || self.cmd_closed) {
                self.shut();
                return Poll::Ready(());
            }
            if !self.poll_sources(cx, now) {
                if !self.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    self.waker = Some(cx.waker().clone());
                }
                return Poll::Pending;
            }
        }
        // Busy: let the executor run others, and come back.
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// The sessions' timers that are due, TCP upkeep, sessions freed.
    fn run_due(&mut self, now: Instant) {
        self.due.clear();
        while let Some(&Reverse((t, key))) = self.timers.peek() {
            if t > now {
                break;
            }
            self.timers.pop();
            let Some(c) = self.conns.get_mut(&key) else {
                continue;
            };
            if c.next_timeout == t {
                // Consumed: the drive below queues the next deadline, even an equal one.
                c.timer_entry = None;
                if !self.due.contains(&key) {
                    self.due.push(key);
                }
            }
        }
        for i in 0..self.due.len() {
            let key = self.due[i];
            if let Some(c) = self.conns.get_mut(&key) {
                let _g = c.span.clone().entered();
                let _ = c.pc.handle_input(Input::Timeout(now.into_std()));
            }
            self.drive_key(key);
        }
        if self.tcp.upkeep_due(now) {
            self.tcp_upkeep();
        }
        self.reap();
    }

    /// Polls each source once, starting with a different one each time; handles the
    /// first that is ready and says so (`false`: all pending, wakers registered).
    fn poll_sources(&mut self, cx: &mut Context<'_>, now: Instant) -> bool {
        let deadline = self
            .next_deadline()
            .unwrap_or_else(|| now + Duration::from_secs(3600));
        // ICE-TCP streams are looked over on a tick of their own while there are any.
        let deadline = self.tcp.next_upkeep().map_or(deadline, |t| t.min(deadline));
        // Backpressure. A session's own sockets stop being read while its application
        // is behind; a shared socket keeps being read for the others, and that session's
        // DTLS datagrams are dropped instead (SCTP sends them again).
        let held = !self.backlogged.is_empty();
        let reading = !(self.exit_when_empty && held);
        let conns = &self.conns;
        let blocked = self
            .backlogged
            .iter()
            .find_map(|k| conns.get(k).and_then(|c| c.blocked_sender()));
        let stuck = held && blocked.is_none();
        if blocked.is_none() {
            self.room = None;
        }
        let sending = !self.unsent.is_empty();
        self.turn = (self.turn + 1) % SOURCES;
        for k in 0..SOURCES {
            let fired = match (self.turn + k) % SOURCES {
                0 if !self.cmd_closed => match self.cmd_rx.poll_recv(cx) {
                    Poll::Ready(cmd) => {
                        // Its caller waits on this thread (a shared socket's session).
                        self.answered = matches!(cmd, Some(Cmd::Call(..)));
                        self.on_command(cmd);
                        true
                    }
                    Poll::Pending => false,
                },
                1 if reading => {
                    let first = self.first_socket;
                    let r = poll_recv_any(
                        cx,
                        &self.sockets,
                        &mut self.rx,
                        self.pooled,
                        &mut self.meta,
                        self.batch,
                        first,
                    );
                    match r {
                        Poll::Ready(r) => {
                            self.first_socket = (first + 1) % self.sockets.len().max(1);
                            self.on_batch(r);
                            true
                        }
                        Poll::Pending => false,
                    }
                }
                2 if self.tcp.is_active() && reading => match self.tcp.poll_event(cx) {
                    Poll::Ready(ev) => {
                        self.on_tcp(ev);
                        true
                    }
                    Poll::Pending => false,
                },
                // While sending waits, timers wait too (no session can be drained).
                3 if !sending => {
                    if self.sleep.deadline() != deadline {
                        self.sleep.as_mut().reset(deadline);
                    }
                    self.waiting_until = deadline;
                    self.sleep.as_mut().poll(cx).is_ready()
                }
                4 if sending => {
                    let (mut sent, mut errors) = (0, 0);
                    let r = poll_send_unsent(
                        cx,
                        &self.sockets,
                        &mut self.unsent,
                        &mut sent,
                        &mut errors,
                    );
                    self.stats.sent += sent;
                    self.stats.send_errors += errors;
                    if r.is_ready() {
                        self.on_sent();
                    }
                    r.is_ready()
                }
                5 if stuck => {
                    // A backlog that starts with a close can always go on.
                    self.flush_backlogs();
                    true
                }
                5 => match &blocked {
                    Some(tx) => {
                        // A wait for another channel (its session went, or the backlog
                        // that came first changed) is dropped for this one.
                        if !self.room.as_ref().is_some_and(|(c, _)| c.same_channel(tx)) {
                            let waited = tx.clone();
                            self.room = Some((
                                tx.clone(),
                                Box::pin(async move {
                                    let _ = waited.reserve_owned().await;
                                }),
                            ));
                        }
                        let ready = self
                            .room
                            .as_mut()
                            .is_some_and(|(_, room)| room.as_mut().poll(cx).is_ready());
                        if ready {
                            self.room = None;
                            self.flush_backlogs();
                            true
                        } else {
                            false
                        }
                    }
                    None => false,
                },
                _ => false,
            };
            if fired {
                return true;
            }
        }
        if sending {
            // Timers wait while sending waits; say so for direct callers.
            self.waiting_until = now + Duration::from_secs(3600);
        }
        false
    }

    /// The task ends: the sockets close, buffers go; calls and commands still to come
    /// find no session and answer [`Error::Closed`](crate::Error::Closed).
    fn shut(&mut self) {
        tracing::debug!(stats = ?self.stats, tcp = ?self.tcp.stats, "driver done");
        self.tcp.shutdown();
        self.done = true;
        self.cmd_rx.close();
        while let Ok(cmd) = self.cmd_rx.try_recv() {
            drop(cmd);
        }
        self.sockets = Vec::new();
        self.rx = Vec::new();
        self.tx = Vec::new();
        self.meta = Box::new([]);
        self.unsent.clear();
        self.deferred.clear();
        self.timers = std::collections::BinaryHeap::new();
        self.backlogged = Vec::new();
        self.closing = Vec::new();
        self.room = None;
        self.waker = None;
    }
}
