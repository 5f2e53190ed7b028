//! The driver: the sockets and the sessions, run by a task that waits on the sockets, the
//! earliest session deadline and the command channel. It lives behind a mutex that the
//! task takes only while it works (never across a wait): a lone session's handle takes
//! it too and runs its calls (`createOffer`, `setRemoteDescription`, ...) on the session
//! at once, on the caller's thread, instead of a round trip through the task. Data-channel
//! sends and a shared socket's sessions go through the command channel. The driver talks
//! back through channels and `watch`es.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::Waker;

use rtcwire::{
    ChannelId, Datagram, IceConnectionState, IceGatheringState, Input, Output, Payload,
    PeerConnectionState, SignalingState, TransceiverId,
};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::channel::ChannelInfo;
use crate::media::{FrameQueue, KeyframeRequests};
use crate::tcp::Tcp;
use crate::udp::Unsent;
use crate::Event;

/// Which session of a driver a command is for.
pub(crate) type ConnKey = u64;

/// Hashes a [`ConnKey`] by one multiplication: the keys come from our own counter, never
/// from a peer, so SipHash's flooding resistance buys nothing on a map looked up for
/// every datagram (it was ~1.5 % of a bulk transfer's CPU).
#[derive(Default, Clone, Copy)]
pub(crate) struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_u64(&mut self, n: u64) {
        // Fibonacci hashing; hashbrown takes its control bits from the top.
        self.0 = (self.0 ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// The sessions of a driver by key.
pub(crate) type ConnMap<V> = HashMap<ConnKey, V, std::hash::BuildHasherDefault<KeyHasher>>;

/// Work for the driver: run on a session's state between two inputs. What it returns
/// answers the caller once the session's output is drained, so states and events are
/// current when the caller resumes.
pub(crate) type Call = Box<dyn FnOnce(&mut Conn) -> Reply + Send>;

/// Sends a call's result back.
pub(crate) type Reply = Box<dyn FnOnce() + Send>;

pub(crate) enum Cmd {
    /// Run this on the session (then drain its output).
    Call(ConnKey, Call),
    /// A new session on a shared socket.
    Add(ConnKey, Box<Conn>),
    /// The last handle of the session was dropped: close it and free it.
    Release(ConnKey),
    /// A binary message for a channel (no closure, no boxed reply: what
    /// [`ChannelSender::send_bytes`](crate::ChannelSender::send_bytes) sends per message).
    Send(ConnKey, SendCmd),
}

/// One message of [`Cmd::Send`].
pub(crate) struct SendCmd {
    pub(crate) id: ChannelId,
    pub(crate) data: Payload,
    pub(crate) reply: ReplyTo,
}

/// Where the result of one send goes: number `seq` of a handle's [`SendReply`]. Dropped
/// unanswered (the driver ended), it answers [`Error::Closed`](crate::Error::Closed).
pub(crate) struct ReplyTo {
    slot: Option<Arc<SendReply>>,
    seq: u64,
}

impl ReplyTo {
    pub(crate) fn new(slot: Arc<SendReply>, seq: u64) -> Self {
        ReplyTo {
            slot: Some(slot),
            seq,
        }
    }

    pub(crate) fn answer(mut self, r: Result<(), crate::Error>) {
        if let Some(slot) = self.slot.take() {
            slot.answer(self.seq, r);
        }
    }
}

impl Drop for ReplyTo {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            slot.answer(self.seq, Err(crate::Error::Closed));
        }
    }
}

/// A sending handle's answer slot, reused for every message it sends: the driver puts
/// the result of send number `seq` in it and wakes the handle (a send whose caller gave
/// up leaves a stale result, which the next send skips by its number).
#[derive(Debug, Default)]
pub(crate) struct SendReply {
    result: std::sync::Mutex<Option<(u64, Result<(), crate::Error>)>>,
    ready: tokio::sync::Notify,
}

impl SendReply {
    fn answer(&self, seq: u64, r: Result<(), crate::Error>) {
        if let Ok(mut g) = self.result.lock() {
            *g = Some((seq, r));
        }
        self.ready.notify_one();
    }

    /// The result of send number `seq`.
    pub(crate) async fn wait(&self, seq: u64) -> Result<(), crate::Error> {
        loop {
            if let Ok(mut g) = self.result.lock() {
                if let Some((s, _)) = g.as_ref() {
                    if *s == seq {
                        if let Some((_, r)) = g.take() {
                            return r;
                        }
                    }
                }
            }
            self.ready.notified().await;
        }
    }
}

/// An answer held until the socket drains (a writer waits like a blocking send would).
pub(crate) enum Deferred {
    Call(Reply),
    Send(ReplyTo, Result<(), crate::Error>),
}

impl Deferred {
    fn answer(self) {
        match self {
            Deferred::Call(reply) => reply(),
            Deferred::Send(to, r) => to.answer(r),
        }
    }
}

/// A driver and the task running it share it; see the module docs.
pub(crate) type Shared = Mutex<Driver>;

/// Takes the driver (`None` if a panic poisoned it: the session is gone then).
pub(crate) fn lock(shared: &Shared) -> Option<MutexGuard<'_, Driver>> {
    shared.lock().ok()
}

/// Held by every handle of a session ([`PeerConnection`](crate::PeerConnection) clones,
/// [`DataChannel`](crate::DataChannel)s); the last one dropped closes the session.
pub(crate) struct Guard {
    pub(crate) key: ConnKey,
    pub(crate) cmd: mpsc::UnboundedSender<Cmd>,
    /// A lone session's driver: calls run on it directly (a shared socket's sessions send
    /// them as commands, so one busy session does not hold up the others' callers).
    pub(crate) direct: Option<Arc<Shared>>,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("key", &self.key)
            .field("direct", &self.direct.is_some())
            .finish()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.cmd.send(Cmd::Release(self.key));
    }
}

impl Guard {
    /// Runs `f` on the session and returns its result: at once on this thread for a lone
    /// session (nothing allocated for the call itself: `write_frame` and `write_rtp` come
    /// this way per frame), in the driver's task for a shared socket's session.
    pub(crate) async fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Conn) -> R + Send + 'static,
    ) -> Result<R, crate::Error> {
        if let Some(shared) = &self.direct {
            let (r, drained) = {
                let mut d = lock(shared).ok_or(crate::Error::Closed)?;
                let r = d.run_now(self.key, f).ok_or(crate::Error::Closed)?;
                // A full socket: the caller waits until the driver has drained it, as a
                // blocking send would.
                let drained = (!d.unsent.is_empty()).then(|| {
                    let (tx, rx) = tokio::sync::oneshot::channel();
                    d.deferred.push(Deferred::Call(Box::new(move || {
                        let _ = tx.send(());
                    })));
                    rx
                });
                d.wake_if_needed();
                (r, drained)
            };
            if let Some(rx) = drained {
                rx.await.map_err(|_| crate::Error::Closed)?;
            }
            return Ok(r);
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        let call: Call = Box::new(move |c| {
            let r = f(c);
            Box::new(move || {
                let _ = tx.send(r);
            })
        });
        self.cmd
            .send(Cmd::Call(self.key, call))
            .map_err(|_| crate::Error::Closed)?;
        rx.await.map_err(|_| crate::Error::Closed)
    }
}

/// The session's states, published for the handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConnState {
    pub(crate) connection: PeerConnectionState,
    pub(crate) ice: IceConnectionState,
    pub(crate) gathering: IceGatheringState,
    pub(crate) signaling: SignalingState,
}

impl ConnState {
    pub(crate) fn new(pc: &rtcwire::PeerConnection) -> Self {
        ConnState {
            connection: pc.connection_state(),
            ice: pc.ice_connection_state(),
            gathering: pc.ice_gathering_state(),
            signaling: pc.signaling_state(),
        }
    }
}

/// What a channel's receiver gets, in order; kept while the receiver is full.
pub(crate) enum Delivery {
    Message(ChannelId, Payload),
    Closed(ChannelId),
}

pub(crate) struct Slot {
    pub(crate) tx: mpsc::Sender<Payload>,
    pub(crate) info: watch::Sender<ChannelInfo>,
}

/// Most outputs drained from one session in one go before the other branches get a turn.
const MAX_OUTPUTS_PER_DRIVE: usize = 4096;
/// Most bytes of datagrams parked for a session whose application is behind.
pub(crate) const MAX_PARKED_BYTES: usize = 256 * 1024;
/// Receive buffer: the largest UDP payload.
pub(crate) const RX_SIZE: usize = 65_536;
/// Buffers per batch for a driver of one session (a server's driver takes [`MAX_BATCH`]).
pub(crate) const SESSION_BATCH: usize = 4;

/// One session and what the driver keeps beside it.
pub(crate) struct Conn {
    pub(crate) pc: rtcwire::PeerConnection,
    /// Boxed events: the channel's first block has 32 slots, 88 bytes each unboxed.
    pub(crate) events: mpsc::UnboundedSender<Box<Event>>,
    pub(crate) state: watch::Sender<ConnState>,
    pub(crate) channels: HashMap<ChannelId, Slot>,
    /// The frame queue of each transceiver the peer sends on (one per [`Track`](crate::Track)).
    pub(crate) tracks: HashMap<TransceiverId, Arc<FrameQueue>>,
    /// The peer's keyframe requests, per transceiver with a handle.
    pub(crate) keyframes: HashMap<TransceiverId, watch::Sender<KeyframeRequests>>,
    pub(crate) track_capacity: usize,
    pub(crate) backlog: VecDeque<Delivery>,
    /// DTLS datagrams that arrived on a shared socket while `backlog` was stuck, fed in
    /// once it clears (what a socket's own kernel buffer does for a lone session).
    pub(crate) parked: VecDeque<(rtcwire::Transport, SocketAddr, SocketAddr, Vec<u8>)>,
    pub(crate) parked_bytes: usize,
    pub(crate) next_timeout: Instant,
    /// The deadline of this session's newest entry in the driver's timer heap, until that
    /// entry comes due (one entry per deadline, not one per drive).
    pub(crate) timer_entry: Option<Instant>,
    pub(crate) span: tracing::Span,
    pub(crate) guard: Weak<Guard>,
    pub(crate) capacity: usize,
    /// Resolve `.local` candidates here (else [`Event::ResolveHostname`] goes out).
    pub(crate) mdns: bool,
    /// Closed by the application: freed once its last datagrams are out.
    pub(crate) closing: bool,
    /// [`Config::test_loss`](crate::Config::test_loss): inbound and outbound droppers.
    pub(crate) loss: Option<Box<(crate::loss::Dropper, crate::loss::Dropper)>>,
    /// The driver's TCP counters, as last published.
    pub(crate) tcp: crate::tcp::TcpStats,
}

/// Counters of the driver (traced at debug level when it ends).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DriverStats {
    pub(crate) received: u64,
    pub(crate) sent: u64,
    pub(crate) send_errors: u64,
    /// Times a full kernel send buffer made the driver wait for the socket.
    send_waits: u64,
    pub(crate) unrouted: u64,
    pub(crate) refused: u64,
    /// DTLS datagrams of a session whose application is behind, dropped once its parking
    /// space is full (shared sockets).
    pub(crate) held_back: u64,
}

/// One bound UDP socket and its `quinn-udp` state. Receives are batched (`recvmmsg`,
/// GRO-coalesced buffers split by their stride); sends go straight to `sendmsg` (GSO when
/// the session batches equal-size datagrams), so a datagram leaves at once. When the
/// kernel buffer is full the datagram is kept and the driver waits for the socket to be
/// writable before it drains any session again. (tokio's own `try_send_to` refuses until the reactor has seen
/// the socket writable, which lost the first datagrams of every new socket.)
pub(crate) struct Sock {
    pub(crate) io: UdpSocket,
    pub(crate) state: quinn_udp::UdpSocketState,
}

impl Sock {
    pub(crate) fn new(socket: std::net::UdpSocket) -> std::io::Result<Sock> {
        crate::udp::hold_gro_on();
        let state = quinn_udp::UdpSocketState::new((&socket).into())?;
        Ok(Sock {
            io: UdpSocket::from_std(socket)?,
            state,
        })
    }
}

/// Most receive buffers filled by one `recvmmsg`.
pub(crate) const MAX_BATCH: usize = 32;

pub(crate) struct Driver {
    pub(crate) sockets: Vec<Sock>,
    pub(crate) locals: Vec<SocketAddr>,
    /// Boxed: a session is about 12 KiB, and a map of one holds room for several.
    pub(crate) conns: ConnMap<Box<Conn>>,
    /// Remote address -> session, learned from `accepts` (shared sockets).
    pub(crate) routes: HashMap<SocketAddr, ConnKey>,
    pub(crate) cmd_rx: mpsc::UnboundedReceiver<Cmd>,
    pub(crate) cmd_closed: bool,
    /// One session on its own sockets: the task ends with it.
    pub(crate) exit_when_empty: bool,
    /// `batch` receive buffers of [`RX_SIZE`] back to back: a shared socket's own; a lone
    /// session's driver borrows them from its thread's [`RxPool`] for each batch only.
    pub(crate) rx: Vec<u8>,
    /// The receive buffers come from the thread's pool (a lone session's driver).
    pub(crate) pooled: bool,
    /// One per receive buffer (`batch` of them): a lone session's driver has 4, not 32
    /// (2.3 KB inline before).
    pub(crate) meta: Box<[quinn_udp::RecvMeta]>,
    pub(crate) batch: usize,
    pub(crate) tx: Vec<u8>,
    /// Datagrams a full kernel buffer refused (the rest of one transmit at most): sent
    /// first once the socket is writable; no session is drained meanwhile.
    pub(crate) unsent: VecDeque<Unsent>,
    /// Calls answered once `unsent` is out (their writers wait with it).
    pub(crate) deferred: Vec<Deferred>,
    pub(crate) first_socket: usize,
    pub(crate) due: Vec<ConnKey>,
    /// Sessions fed datagrams of the current receive batch, drained after it.
    pub(crate) fed: Vec<ConnKey>,
    pub(crate) stats: DriverStats,
    /// How many sessions the driver holds, for [`Server::sessions`](crate::Server::sessions).
    pub(crate) count: Arc<AtomicUsize>,
    /// ICE-TCP listeners and streams, TURN-over-TCP/TLS streams (a lone session's driver).
    pub(crate) tcp: Tcp,
    /// Each session's deadline as last set (an entry is current while it equals the
    /// session's `next_timeout`; older ones are skipped): the due sessions and the next
    /// deadline without a pass over every session (a server's driver holds thousands).
    pub(crate) timers: BinaryHeap<Reverse<(Instant, ConnKey)>>,
    /// Sessions whose application is behind (non-empty backlog).
    pub(crate) backlogged: Vec<ConnKey>,
    /// Sessions closed by their application, freed once their output is out.
    pub(crate) closing: Vec<ConnKey>,
    /// A call was answered: let its caller go on before any work the call left due.
    pub(crate) answered: bool,
    /// The task's wait: its timer, waker, and what it waits until.
    pub(crate) sleep: Pin<Box<tokio::time::Sleep>>,
    pub(crate) waker: Option<Waker>,
    pub(crate) waiting_until: Instant,
    /// The source polled first next time (fairness, as `select!` gives).
    pub(crate) turn: usize,
    /// Room in the channel whose receiver is behind (the backlog's first message).
    pub(crate) room: Option<(mpsc::Sender<Payload>, Room)>,
    /// The task ended: sockets closed, nothing more runs.
    pub(crate) done: bool,
}

/// A wait for room in a channel's queue.
pub(crate) type Room = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The sources the task waits on, polled in turn.
pub(crate) const SOURCES: usize = 6;
/// Most events handled in one poll of the task before it yields to the executor.
pub(crate) const EVENTS_PER_POLL: usize = 64;

impl Driver {
    pub(crate) fn new(
        sockets: Vec<Sock>,
        locals: Vec<SocketAddr>,
        cmd_rx: mpsc::UnboundedReceiver<Cmd>,
        exit_when_empty: bool,
        count: Arc<AtomicUsize>,
    ) -> Self {
        let batch = if exit_when_empty {
            SESSION_BATCH
        } else {
            MAX_BATCH
        };
        Driver {
            sockets,
            locals,
            conns: ConnMap::default(),
            routes: HashMap::new(),
            cmd_rx,
            cmd_closed: false,
            exit_when_empty,
            // Zeroed pages are only made resident as datagrams fill them. A lone session
            // holds none while it waits: an idle connection costs no receive buffer.
            rx: if exit_when_empty {
                Vec::new()
            } else {
                vec![0; RX_SIZE * MAX_BATCH]
            },
            pooled: exit_when_empty,
            meta: vec![quinn_udp::RecvMeta::default(); batch].into_boxed_slice(),
            batch,
            tx: if exit_when_empty {
                Vec::new()
            } else {
                Vec::with_capacity(2048)
            },
            unsent: VecDeque::new(),
            deferred: Vec::new(),
            first_socket: 0,
            due: Vec::new(),
            fed: Vec::new(),
            stats: DriverStats::default(),
            count,
            tcp: Tcp::new(crate::TcpLimits::default()),
            answered: false,
            timers: BinaryHeap::new(),
            backlogged: Vec::new(),
            closing: Vec::new(),
            sleep: Box::pin(tokio::time::sleep_until(Instant::now())),
            waker: None,
            waiting_until: Instant::now(),
            turn: 0,
            room: None,
            done: false,
        }
    }

    pub(crate) fn insert(&mut self, key: ConnKey, mut conn: Box<Conn>) {
        // SCTP datagrams in GSO batches where every socket takes them.
        let gso = self
            .sockets
            .iter()
            .map(|s| s.state.max_gso_segments())
            .min()
            .unwrap_or(1);
        conn.pc.set_transmit_batching(gso);
        self.conns.insert(key, conn);
        self.count.store(self.conns.len(), Ordering::Relaxed);
        self.drive_key(key);
    }

    /// The datagrams a full send buffer held are out: every session is drained again
    /// and the calls that waited are answered.
    pub(crate) fn on_sent(&mut self) {
        if !self.unsent.is_empty() {
            return;
        }
        let keys: Vec<ConnKey> = self.conns.keys().copied().collect();
        for k in keys {
            self.drive_key(k);
            if !self.unsent.is_empty() {
                break;
            }
        }
        if self.unsent.is_empty() {
            for d in self.deferred.drain(..) {
                d.answer();
            }
        }
    }

    pub(crate) fn flush_backlogs(&mut self) {
        let mut resume = Vec::new();
        for k in std::mem::take(&mut self.backlogged) {
            let Some(c) = self.conns.get_mut(&k) else {
                continue;
            };
            c.flush_backlog();
            if !c.backlog.is_empty() {
                self.backlogged.push(k);
            } else if !c.parked.is_empty() {
                resume.push(k);
            }
        }
        for k in resume {
            self.unpark(k);
        }
    }

    /// Feeds a session the datagrams parked for it, until its application is behind again.
    fn unpark(&mut self, key: ConnKey) {
        loop {
            let Some(c) = self.conns.get_mut(&key) else {
                return;
            };
            if !c.backlog.is_empty() {
                return;
            }
            let Some((transport, from, local, data)) = c.parked.pop_front() else {
                return;
            };
            c.parked_bytes = c.parked_bytes.saturating_sub(data.len());
            {
                let _g = c.span.clone().entered();
                let mut d = Datagram::udp(from, local, &data);
                d.transport = transport;
                if let Err(e) =
                    c.pc.handle_input(Input::Receive(Instant::now().into_std(), d))
                {
                    self.stats.refused += 1;
                    tracing::trace!(error = %e, %from, "parked datagram refused");
                }
            }
            self.drive_key(key);
        }
    }

    pub(crate) fn on_command(&mut self, cmd: Option<Cmd>) {
        match cmd {
            None => {
                // Every handle is gone: close what is left.
                self.cmd_closed = true;
                let keys: Vec<ConnKey> = self.conns.keys().copied().collect();
                for k in keys {
                    self.close_key(k);
                }
            }
            Some(Cmd::Call(key, f)) => {
                // No session: dropping `f` drops its reply sender, the caller sees `Closed`.
                let Some(reply) = self.run_now(key, f) else {
                    return;
                };
                if self.unsent.is_empty() {
                    reply();
                } else {
                    // A writer waits for the socket, like a blocking send would.
                    self.deferred.push(Deferred::Call(reply));
                }
            }
            Some(Cmd::Send(key, m)) => {
                let r = match self.conns.get_mut(&key) {
                    Some(c) => {
                        let _g = c.span.clone().entered();
                        let _ = c.pc.handle_input(Input::Timeout(Instant::now().into_std()));
                        c.pc.send_payload(m.id, m.data).map_err(crate::Error::from)
                    }
                    None => Err(crate::Error::Closed),
                };
                self.drive_key(key);
                if self.unsent.is_empty() {
                    m.reply.answer(r);
                } else {
                    self.deferred.push(Deferred::Send(m.reply, r));
                }
            }
            Some(Cmd::Add(key, conn)) => self.insert(key, conn),
            Some(Cmd::Release(key)) => self.close_key(key),
        }
    }

    /// Runs `f` on session `key` between two inputs and drains the session's output;
    /// `None` if there is no such session.
    pub(crate) fn run_now<R>(&mut self, key: ConnKey, f: impl FnOnce(&mut Conn) -> R) -> Option<R> {
        let c = self.conns.get_mut(&key)?;
        let r = {
            let _g = c.span.clone().entered();
            // The call takes effect now, not at the last input.
            let _ = c.pc.handle_input(Input::Timeout(Instant::now().into_std()));
            f(c)
        };
        self.drive_key(key);
        Some(r)
    }

    fn close_key(&mut self, key: ConnKey) {
        if let Some(c) = self.conns.get_mut(&key) {
            let _g = c.span.clone().entered();
            c.pc.close();
            c.closing = true;
        }
        self.drive_key(key);
    }

    /// Frees the sessions closed by the application once their output is out.
    pub(crate) fn reap(&mut self) {
        // A closing session's last datagrams may still be in it while sending waits.
        if self.closing.is_empty() || !self.unsent.is_empty() {
            return;
        }
        let before = self.conns.len();
        for k in std::mem::take(&mut self.closing) {
            if let Some(mut c) = self.conns.remove(&k) {
                // Messages still held back are dropped with the session.
                c.backlog.clear();
                c.finish();
            }
        }
        let conns = &self.conns;
        self.backlogged.retain(|k| conns.contains_key(k));
        if self.conns.len() != before {
            self.count.store(self.conns.len(), Ordering::Relaxed);
            let conns = &self.conns;
            self.routes.retain(|_, k| conns.contains_key(k));
        }
    }

    /// Drains a session's output: datagrams out, events to the handles, the next deadline.
    pub(crate) fn drive_key(&mut self, key: ConnKey) {
        // A lone session's driver borrows its thread's transmit buffer (no `await` until
        // it is given back): an idle connection holds none, a busy one no 64 KiB batch.
        let mut tx = std::mem::take(&mut self.tx);
        if self.pooled {
            crate::udp::TxPool::take(&mut tx);
        }
        self.drive_with(key, &mut tx);
        if self.pooled {
            crate::udp::TxPool::give_back(&mut tx);
        } else {
            self.tx = tx;
        }
        self.note(key);
    }

    /// Records what a drive left: the session's deadline, a backlog, a close.
    fn note(&mut self, key: ConnKey) {
        let Some(c) = self.conns.get_mut(&key) else {
            return;
        };
        if c.timer_entry != Some(c.next_timeout) {
            c.timer_entry = Some(c.next_timeout);
            self.timers.push(Reverse((c.next_timeout, key)));
        }
        if !c.backlog.is_empty() && !self.backlogged.contains(&key) {
            self.backlogged.push(key);
        }
        if c.closing && !self.closing.contains(&key) {
            self.closing.push(key);
        }
        if self.timers.len() > 2 * self.conns.len() + 8 {
            // Mostly entries a later drive replaced: keep one per session.
            self.timers.clear();
            for (k, c) in self.conns.iter_mut() {
                c.timer_entry = Some(c.next_timeout);
                self.timers.push(Reverse((c.next_timeout, *k)));
            }
        }
    }

    /// The earliest current deadline (older entries dropped on the way).
    pub(crate) fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(&Reverse((t, key))) = self.timers.peek() {
            if self.conns.get(&key).is_some_and(|c| c.next_timeout == t) {
                return Some(t);
            }
            self.timers.pop();
        }
        None
    }

    fn drive_with(&mut self, key: ConnKey, tx: &mut Vec<u8>) {
        let Some(c) = self.conns.get_mut(&key) else {
            return;
        };
        if !self.unsent.is_empty() {
            // The socket is full: output stays in the session until it drains.
            c.next_timeout = Instant::now();
            return;
        }
        let _g = c.span.clone().entered();
        let mut next = None;
        for _ in 0..MAX_OUTPUTS_PER_DRIVE {
            tx.clear();
            match c.pc.poll_output(tx) {
                Output::Transmit(t) if t.transport == rtcwire::Transport::Tcp => {
                    let (Some(src), Some(dest)) = (t.source, t.destination) else {
                        continue;
                    };
                    let data = tx.get(..t.size).unwrap_or(tx);
                    self.tcp.send(src, dest, data);
                    c.tcp = self.tcp.stats;
                }
                Output::Transmit(t) => {
                    let Some(dest) = t.destination else { continue };
                    let idx = t
                        .source
                        .and_then(|s| self.locals.iter().position(|&l| l == s))
                        .unwrap_or(0);
                    let Some(sock) = self.sockets.get(idx) else {
                        continue;
                    };
                    let data = tx.get(..t.size).unwrap_or(tx);
                    let seg = t.segment_size.filter(|&s| s > 0 && s < data.len());
                    let segments = seg.map_or(1, |s| data.len().div_ceil(s));
                    // One GSO send when the socket takes that many segments, else each
                    // (always each under injected loss: it drops datagram by datagram).
                    let whole = segments <= sock.state.max_gso_segments() && c.loss.is_none();
                    let step = if whole {
                        data.len()
                    } else {
                        seg.unwrap_or(data.len())
                    };
                    let segment_size = if whole { seg } else { None };
                    for chunk in data.chunks(step.max(1)) {
                        if c.loss.as_mut().is_some_and(|l| l.1.drops(chunk)) {
                            continue; // injected loss (tests only)
                        }
                        if !self.unsent.is_empty() {
                            // Behind a refused one: keep the order.
                            self.unsent.push_back(Unsent {
                                socket: idx,
                                destination: dest,
                                data: chunk.to_vec(),
                                segment_size,
                            });
                            continue;
                        }
                        let transmit = quinn_udp::Transmit {
                            destination: dest,
                            ecn: None,
                            contents: chunk,
                            segment_size,
                            src_ip: None,
                        };
                        match sock.state.try_send((&sock.io).into(), &transmit) {
                            Ok(()) => self.stats.sent += 1,
                            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                                // The kernel buffer is full: keep it, wait for room.
                                self.stats.send_waits += 1;
                                self.unsent.push_back(Unsent {
                                    socket: idx,
                                    destination: dest,
                                    data: chunk.to_vec(),
                                    segment_size,
                                });
                            }
                            Err(e) => {
                                self.stats.send_errors += 1;
                                tracing::trace!(error = %e, %dest, "send");
                            }
                        }
                    }
                    if !self.unsent.is_empty() {
                        break;
                    }
                }
                Output::Event(e) => c.on_event(e),
                Output::Timeout(t) => {
                    next = Some(Instant::from_std(t));
                    break;
                }
            }
        }
        // Cut short: come back at once.
        c.next_timeout = next.unwrap_or_else(Instant::now);
        c.publish_buffered();
    }
}
