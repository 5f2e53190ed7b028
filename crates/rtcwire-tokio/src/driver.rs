//! The task that owns the sockets and the sessions: one `select!` over the sockets, the
//! earliest session deadline and the command channel. Handles talk to it by commands
//! (closures run on the session between inputs); it talks back through channels and
//! `watch`es. Nothing is locked.

use std::collections::{HashMap, VecDeque};
use std::future::poll_fn;
use std::io::IoSliceMut;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::task::Poll;

use rtcwire::{
    ChannelId, Datagram, Event as CoreEvent, IceConnectionState, IceGatheringState, Input,
    MediaKind, Output, Payload, PeerConnectionState, SignalingState, TransceiverId,
};
use tokio::io::Interest;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use tokio::time::{Duration, Instant};

use crate::channel::{ChannelInfo, ChannelState, DataChannel};
use crate::media::{FrameQueue, KeyframeRequests, Pushed, Track, Transceiver};
use crate::Event;

/// Which session of a driver a command is for.
pub(crate) type ConnKey = u64;

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
}

/// Held by every handle of a session ([`PeerConnection`](crate::PeerConnection) clones,
/// [`DataChannel`]s); the last one dropped closes the session.
#[derive(Debug)]
pub(crate) struct Guard {
    pub(crate) key: ConnKey,
    pub(crate) cmd: mpsc::UnboundedSender<Cmd>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.cmd.send(Cmd::Release(self.key));
    }
}

impl Guard {
    /// Runs `f` on the session in the driver task and returns its result.
    pub(crate) async fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Conn) -> R + Send + 'static,
    ) -> Result<R, crate::Error> {
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
enum Delivery {
    Message(ChannelId, Payload),
    Closed(ChannelId),
}

struct Slot {
    tx: mpsc::Sender<Payload>,
    info: watch::Sender<ChannelInfo>,
}

/// Most outputs drained from one session in one go before the other branches get a turn.
const MAX_OUTPUTS_PER_DRIVE: usize = 4096;
/// Most bytes of datagrams parked for a session whose application is behind.
const MAX_PARKED_BYTES: usize = 256 * 1024;
/// Receive buffer: the largest UDP payload.
const RX_SIZE: usize = 65_536;
/// Buffers per batch for a driver of one session (a server's driver takes [`MAX_BATCH`]).
const SESSION_BATCH: usize = 4;

/// One session and what the driver keeps beside it.
pub(crate) struct Conn {
    pub(crate) pc: rtcwire::PeerConnection,
    events: mpsc::UnboundedSender<Event>,
    state: watch::Sender<ConnState>,
    channels: HashMap<ChannelId, Slot>,
    /// The frame queue of each transceiver the peer sends on (one per [`Track`]).
    tracks: HashMap<TransceiverId, Arc<FrameQueue>>,
    /// The peer's keyframe requests, per transceiver with a handle.
    keyframes: HashMap<TransceiverId, watch::Sender<KeyframeRequests>>,
    track_capacity: usize,
    backlog: VecDeque<Delivery>,
    /// DTLS datagrams that arrived on a shared socket while `backlog` was stuck, fed in
    /// once it clears (what a socket's own kernel buffer does for a lone session).
    parked: VecDeque<(SocketAddr, SocketAddr, Vec<u8>)>,
    parked_bytes: usize,
    next_timeout: Instant,
    span: tracing::Span,
    guard: Weak<Guard>,
    capacity: usize,
    /// Resolve `.local` candidates here (else [`Event::ResolveHostname`] goes out).
    mdns: bool,
    /// Closed by the application: freed once its last datagrams are out.
    pub(crate) closing: bool,
}

impl Conn {
    pub(crate) fn new(
        pc: rtcwire::PeerConnection,
        key: ConnKey,
        guard: &Arc<Guard>,
        config: &crate::Config,
    ) -> (
        Self,
        mpsc::UnboundedReceiver<Event>,
        watch::Receiver<ConnState>,
    ) {
        let (events, events_rx) = mpsc::unbounded_channel();
        let (state, state_rx) = watch::channel(ConnState::new(&pc));
        let conn = Conn {
            pc,
            events,
            state,
            channels: HashMap::new(),
            tracks: HashMap::new(),
            keyframes: HashMap::new(),
            track_capacity: config.track_capacity.max(1),
            backlog: VecDeque::new(),
            parked: VecDeque::new(),
            parked_bytes: 0,
            next_timeout: Instant::now(),
            span: tracing::debug_span!("peer_connection", id = key),
            guard: Arc::downgrade(guard),
            capacity: config.channel_capacity.max(1),
            mdns: config.mdns,
            closing: false,
        };
        (conn, events_rx, state_rx)
    }

    /// A handle for a channel the session knows as `id`.
    pub(crate) fn new_channel(
        &mut self,
        id: ChannelId,
        label: String,
        protocol: String,
        state: ChannelState,
    ) -> Option<DataChannel> {
        let guard = self.guard.upgrade()?;
        let (tx, rx) = mpsc::channel(self.capacity);
        let (info, info_rx) = watch::channel(ChannelInfo {
            state,
            stream_id: self.pc.channel_stream_id(id),
            buffered: 0,
        });
        self.channels.insert(id, Slot { tx, info });
        Some(DataChannel::new(id, label, protocol, guard, rx, info_rx))
    }

    /// A handle for a transceiver the session knows as `id`.
    pub(crate) fn transceiver(
        &mut self,
        id: TransceiverId,
        kind: MediaKind,
    ) -> Option<Transceiver> {
        let guard = self.guard.upgrade()?;
        let rx = if self.pc.connection_state() == PeerConnectionState::Closed {
            // No request will come: its sender is gone at once.
            watch::channel(KeyframeRequests::default()).1
        } else {
            self.keyframes
                .entry(id)
                .or_insert_with(|| watch::channel(KeyframeRequests::default()).0)
                .subscribe()
        };
        Some(Transceiver::new(id, kind, guard, rx))
    }

    /// A transceiver stopped: its track ends, and so does `next_keyframe_request`.
    pub(crate) fn track_ended(&mut self, id: TransceiverId) {
        if let Some(q) = self.tracks.remove(&id) {
            q.close();
        }
        self.keyframes.remove(&id);
    }

    fn on_frame(&mut self, f: rtcwire::MediaFrame) {
        let id = f.transceiver;
        let Some(q) = self.tracks.get(&id) else {
            return;
        };
        if Arc::strong_count(q) == 1 {
            // The application dropped the track: nobody reads it.
            self.tracks.remove(&id);
            return;
        }
        let keyframe = f.keyframe;
        if q.push(f, keyframe) == Pushed::DroppedAskKeyframe {
            tracing::debug!(%id, "track queue full: oldest frame dropped, keyframe asked for");
            if let Err(e) = self.pc.request_keyframe(id) {
                tracing::debug!(%id, error = %e, "keyframe request refused");
            }
        }
    }

    /// Marks a channel closing (the application closed it).
    pub(crate) fn channel_closing(&mut self, id: ChannelId) {
        if let Some(s) = self.channels.get(&id) {
            s.info.send_modify(|i| {
                if i.state != ChannelState::Closed {
                    i.state = ChannelState::Closing;
                }
            });
        }
    }

    /// Resolves a remote `.local` name by mDNS in a task of its own; the answer goes to the
    /// session, a failure to the application as [`Event::ResolveHostname`].
    fn resolve(&self, name: String) {
        let guard = self.guard.clone();
        let events = self.events.clone();
        let task = async move {
            let r = crate::mdns::resolve(&name).await;
            // The session may be gone meanwhile.
            let Some(guard) = guard.upgrade() else { return };
            match r {
                Ok(Some(ip)) => {
                    tracing::debug!(%name, %ip, "mDNS resolved");
                    let host = name.clone();
                    let done = guard.call(move |c| c.pc.resolve_hostname(&host, ip)).await;
                    if let Ok(Err(e)) | Err(e) = done.map(|r| r.map_err(crate::Error::from)) {
                        tracing::debug!(%name, error = %e, "resolved name refused");
                    }
                }
                other => {
                    tracing::debug!(%name, result = ?other, "mDNS did not resolve");
                    let _ = events.send(Event::ResolveHostname(name));
                }
            }
        };
        tokio::spawn(tracing::Instrument::instrument(task, self.span.clone()));
    }

    fn emit(&self, e: Event) {
        // Nobody listening (the receiver was dropped) is fine.
        let _ = self.events.send(e);
    }

    fn on_event(&mut self, e: CoreEvent) {
        match e {
            CoreEvent::IceCandidate(c) => self.emit(Event::IceCandidate(c)),
            CoreEvent::ResolveHostname(h) if self.mdns => self.resolve(h),
            CoreEvent::ResolveHostname(h) => self.emit(Event::ResolveHostname(h)),
            CoreEvent::IceGatheringStateChange(s) => {
                self.state.send_modify(|st| st.gathering = s);
                self.emit(Event::IceGatheringStateChange(s));
            }
            CoreEvent::IceConnectionStateChange(s) => {
                self.state.send_modify(|st| st.ice = s);
                self.emit(Event::IceConnectionStateChange(s));
            }
            CoreEvent::ConnectionStateChange(s) => {
                if s == PeerConnectionState::Closed {
                    // No more media: every track ends once its frames are taken, and
                    // `next_keyframe_request` ends (a task waiting on it lets go of its
                    // handle, so the session can be freed).
                    for (_, q) in self.tracks.drain() {
                        q.close();
                    }
                    self.keyframes.clear();
                }
                self.state.send_modify(|st| st.connection = s);
                self.emit(Event::ConnectionStateChange(s));
            }
            CoreEvent::SignalingStateChange(s) => {
                self.state.send_modify(|st| st.signaling = s);
                self.emit(Event::SignalingStateChange(s));
            }
            CoreEvent::NegotiationNeeded => self.emit(Event::NegotiationNeeded),
            CoreEvent::DataChannel {
                id,
                label,
                protocol,
                ..
            } => {
                if let Some(dc) = self.new_channel(id, label, protocol, ChannelState::Open) {
                    self.emit(Event::DataChannel(dc));
                }
            }
            CoreEvent::ChannelOpen(id) => {
                let stream = self.pc.channel_stream_id(id);
                if let Some(s) = self.channels.get(&id) {
                    s.info.send_modify(|i| {
                        i.state = ChannelState::Open;
                        i.stream_id = stream;
                    });
                }
            }
            CoreEvent::ChannelMessage { id, payload } => {
                self.deliver(Delivery::Message(id, payload));
            }
            CoreEvent::ChannelClosed(id) => self.deliver(Delivery::Closed(id)),
            // Buffered amounts are published after every drive.
            CoreEvent::ChannelBufferedAmountLow(_) => {}
            CoreEvent::Track {
                transceiver,
                kind,
                mid,
                stream_ids,
            } => {
                if let Some(t) = self.transceiver(transceiver, kind) {
                    let q = Arc::new(FrameQueue::new(self.track_capacity));
                    if let Some(old) = self.tracks.insert(transceiver, Arc::clone(&q)) {
                        old.close();
                    }
                    self.emit(Event::Track(Track::new(t, mid, stream_ids, q)));
                }
            }
            CoreEvent::MediaFrame(f) => self.on_frame(f),
            CoreEvent::KeyframeRequest { transceiver, kind } => {
                if let Some(tx) = self.keyframes.get(&transceiver) {
                    tx.send_modify(|k| {
                        k.count += 1;
                        k.last = Some(kind);
                    });
                }
                self.emit(Event::KeyframeRequest { transceiver, kind });
            }
            _ => {}
        }
    }

    fn deliver(&mut self, d: Delivery) {
        if self.backlog.is_empty() {
            if let Some(d) = self.try_deliver(d) {
                self.backlog.push_back(d);
            }
        } else {
            self.backlog.push_back(d);
        }
    }

    /// Delivers or gives the delivery back when the receiver is full.
    fn try_deliver(&mut self, d: Delivery) -> Option<Delivery> {
        match d {
            Delivery::Message(id, p) => {
                let slot = self.channels.get(&id)?;
                match slot.tx.try_send(p) {
                    Ok(()) => None,
                    Err(mpsc::error::TrySendError::Full(p)) => Some(Delivery::Message(id, p)),
                    // The application dropped the channel: nobody reads it.
                    Err(mpsc::error::TrySendError::Closed(_)) => None,
                }
            }
            Delivery::Closed(id) => {
                if let Some(slot) = self.channels.remove(&id) {
                    slot.info.send_modify(|i| {
                        i.state = ChannelState::Closed;
                        i.buffered = 0;
                    });
                }
                None
            }
        }
    }

    fn flush_backlog(&mut self) {
        while let Some(d) = self.backlog.pop_front() {
            if let Some(d) = self.try_deliver(d) {
                self.backlog.push_front(d);
                return;
            }
        }
    }

    /// The sender whose room we wait for, when the backlog is stuck.
    fn blocked_sender(&self) -> Option<mpsc::Sender<Payload>> {
        match self.backlog.front()? {
            Delivery::Message(id, _) => self.channels.get(id).map(|s| s.tx.clone()),
            Delivery::Closed(_) => None,
        }
    }

    fn publish_buffered(&self) {
        for (&id, slot) in &self.channels {
            let b = self.pc.buffered_amount(id);
            slot.info.send_if_modified(|i| {
                let changed = i.buffered != b;
                i.buffered = b;
                changed
            });
        }
    }

    /// Everything ends: channels closed, states final.
    fn finish(&mut self) {
        for (_, q) in self.tracks.drain() {
            q.close();
        }
        // Dropping the senders ends every `next_keyframe_request`.
        self.keyframes.clear();
        for (_, slot) in self.channels.drain() {
            slot.info.send_modify(|i| {
                i.state = ChannelState::Closed;
                i.buffered = 0;
            });
        }
        self.state.send_modify(|s| {
            s.connection = PeerConnectionState::Closed;
            s.signaling = SignalingState::Closed;
            s.ice = IceConnectionState::Closed;
        });
    }
}

/// Counters of the driver (traced at debug level when it ends).
#[derive(Debug, Default, Clone, Copy)]
struct DriverStats {
    received: u64,
    sent: u64,
    send_errors: u64,
    /// Times a full kernel send buffer made the driver wait for the socket.
    send_waits: u64,
    unrouted: u64,
    refused: u64,
    /// DTLS datagrams of a session whose application is behind, dropped once its parking
    /// space is full (shared sockets).
    held_back: u64,
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
        let state = quinn_udp::UdpSocketState::new((&socket).into())?;
        Ok(Sock {
            io: UdpSocket::from_std(socket)?,
            state,
        })
    }
}

/// Most receive buffers filled by one `recvmmsg`.
const MAX_BATCH: usize = 32;

pub(crate) struct Driver {
    sockets: Vec<Sock>,
    locals: Vec<SocketAddr>,
    conns: HashMap<ConnKey, Conn>,
    /// Remote address -> session, learned from `accepts` (shared sockets).
    routes: HashMap<SocketAddr, ConnKey>,
    cmd_rx: mpsc::UnboundedReceiver<Cmd>,
    cmd_closed: bool,
    /// One session on its own sockets: the task ends with it.
    exit_when_empty: bool,
    /// `batch` receive buffers of [`RX_SIZE`] back to back.
    rx: Vec<u8>,
    meta: [quinn_udp::RecvMeta; MAX_BATCH],
    batch: usize,
    tx: Vec<u8>,
    /// Datagrams a full kernel buffer refused (the rest of one transmit at most): sent
    /// first once the socket is writable; no session is drained meanwhile.
    unsent: VecDeque<Unsent>,
    /// Calls answered once `unsent` is out (their writers wait with it).
    deferred: Vec<Reply>,
    first_socket: usize,
    due: Vec<ConnKey>,
    stats: DriverStats,
    /// How many sessions the driver holds, for [`Server::sessions`](crate::Server::sessions).
    count: Arc<AtomicUsize>,
}

impl Driver {
    pub(crate) fn new(
        sockets: Vec<Sock>,
        locals: Vec<SocketAddr>,
        cmd_rx: mpsc::UnboundedReceiver<Cmd>,
        exit_when_empty: bool,
        count: Arc<AtomicUsize>,
    ) -> Self {
        Driver {
            sockets,
            locals,
            conns: HashMap::new(),
            routes: HashMap::new(),
            cmd_rx,
            cmd_closed: false,
            exit_when_empty,
            // Zeroed pages are only made resident as datagrams fill them.
            rx: vec![
                0;
                RX_SIZE
                    * if exit_when_empty {
                        SESSION_BATCH
                    } else {
                        MAX_BATCH
                    }
            ],
            meta: [quinn_udp::RecvMeta::default(); MAX_BATCH],
            batch: if exit_when_empty {
                SESSION_BATCH
            } else {
                MAX_BATCH
            },
            tx: Vec::with_capacity(2048),
            unsent: VecDeque::new(),
            deferred: Vec::new(),
            first_socket: 0,
            due: Vec::new(),
            stats: DriverStats::default(),
            count,
        }
    }

    pub(crate) fn insert(&mut self, key: ConnKey, conn: Conn) {
        self.conns.insert(key, conn);
        self.count.store(self.conns.len(), Ordering::Relaxed);
        self.drive_key(key);
    }

    pub(crate) async fn run(mut self) {
        loop {
            let now = Instant::now();
            self.due.clear();
            self.due.extend(
                self.conns
                    .iter()
                    .filter(|(_, c)| c.next_timeout <= now)
                    .map(|(k, _)| *k),
            );
            for i in 0..self.due.len() {
                let key = self.due[i];
                if let Some(c) = self.conns.get_mut(&key) {
                    let _g = c.span.clone().entered();
                    let _ = c.pc.handle_input(Input::Timeout(now.into_std()));
                }
                self.drive_key(key);
            }
            self.reap();
            if self.conns.is_empty() && (self.exit_when_empty || self.cmd_closed) {
                tracing::debug!(stats = ?self.stats, "driver done");
                return;
            }
            let deadline = self
                .conns
                .values()
                .map(|c| c.next_timeout)
                .min()
                .unwrap_or_else(|| now + Duration::from_secs(3600));
            // Backpressure. A session's own sockets stop being read while its application
            // is behind; a shared socket keeps being read for the others, and that
            // session's DTLS datagrams are dropped instead (SCTP sends them again).
            let held = self.conns.values().any(|c| !c.backlog.is_empty());
            let reading = !(self.exit_when_empty && held);
            let blocked = if held {
                self.conns.values().find_map(Conn::blocked_sender)
            } else {
                None
            };
            let stuck = held && blocked.is_none();
            let sending = !self.unsent.is_empty();
            let sockets = &self.sockets;
            let unsent = &mut self.unsent;
            let rx = &mut self.rx;
            let meta = &mut self.meta;
            let batch = self.batch;
            let first = self.first_socket;
            tokio::select! {
                cmd = self.cmd_rx.recv(), if !self.cmd_closed => self.on_command(cmd),
                r = recv_any(sockets, rx, meta, batch, first), if reading => {
                    self.first_socket = (first + 1) % self.sockets.len().max(1);
                    self.on_batch(r);
                }
                // While sending waits, timers wait too (no session can be drained).
                () = tokio::time::sleep_until(deadline), if !sending => {}
                (sent, errors) = send_unsent(sockets, unsent), if sending => {
                    self.on_sent(sent, errors);
                }
                _ = async move {
                    match blocked {
                        Some(tx) => tx.reserve_owned().await.ok(),
                        None => std::future::pending().await,
                    }
                }, if blocked.is_some() => self.flush_backlogs(),
                // A backlog that starts with a close can always go on.
                () = std::future::ready(()), if stuck => self.flush_backlogs(),
            }
        }
    }

    /// The datagrams a full send buffer held are out: every session is drained again
    /// and the calls that waited are answered.
    fn on_sent(&mut self, sent: u64, errors: u64) {
        self.stats.sent += sent;
        self.stats.send_errors += errors;
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
            for reply in self.deferred.drain(..) {
                reply();
            }
        }
    }

    fn flush_backlogs(&mut self) {
        let mut resume = Vec::new();
        for (&k, c) in self.conns.iter_mut() {
            c.flush_backlog();
            if c.backlog.is_empty() && !c.parked.is_empty() {
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
            let Some((from, local, data)) = c.parked.pop_front() else {
                return;
            };
            c.parked_bytes = c.parked_bytes.saturating_sub(data.len());
            {
                let _g = c.span.clone().entered();
                let d = Datagram::udp(from, local, &data);
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

    fn on_command(&mut self, cmd: Option<Cmd>) {
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
                let Some(c) = self.conns.get_mut(&key) else {
                    // Dropping `f` drops its reply sender: the caller sees `Closed`.
                    return;
                };
                let reply = {
                    let _g = c.span.clone().entered();
                    // The call takes effect now, not at the last input.
                    let _ = c.pc.handle_input(Input::Timeout(Instant::now().into_std()));
                    f(c)
                };
                self.drive_key(key);
                if self.unsent.is_empty() {
                    reply();
                } else {
                    // A writer waits for the socket, like a blocking send would.
                    self.deferred.push(reply);
                }
            }
            Some(Cmd::Add(key, conn)) => self.insert(key, *conn),
            Some(Cmd::Release(key)) => self.close_key(key),
        }
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
    fn reap(&mut self) {
        let before = self.conns.len();
        // A closing session's last datagrams may still be in it while sending waits.
        let waiting = !self.unsent.is_empty();
        self.conns.retain(|_, c| {
            if c.closing && !waiting {
                // Messages still held back are dropped with the session.
                c.backlog.clear();
                c.finish();
                false
            } else {
                true
            }
        });
        if self.conns.len() != before {
            self.count.store(self.conns.len(), Ordering::Relaxed);
            let conns = &self.conns;
            self.routes.retain(|_, k| conns.contains_key(k));
        }
    }

    /// A batch from socket `i`: `n` buffers described by `self.meta`.
    fn on_batch(&mut self, r: (usize, std::io::Result<usize>)) {
        let (i, res) = r;
        let n = match res {
            Ok(n) => n.min(self.batch),
            Err(e) => {
                // ICMP errors (port unreachable) surface here on some systems; go on.
                tracing::trace!(error = %e, "recv");
                return;
            }
        };
        let Some(&bound) = self.locals.get(i) else {
            return;
        };
        let rx = std::mem::take(&mut self.rx);
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
                self.on_datagram(meta.addr, local, contents);
            }
        }
        self.rx = rx;
    }

    fn on_datagram(&mut self, from: SocketAddr, local: SocketAddr, contents: &[u8]) {
        self.stats.received += 1;
        let d = Datagram::udp(from, local, contents);
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
            return;
        };
        let Some(c) = self.conns.get_mut(&key) else {
            return;
        };
        // RFC 7983: 20..=63 is DTLS. STUN still goes in (consent, keepalives).
        if (!c.backlog.is_empty() || !c.parked.is_empty())
            && contents.first().is_some_and(|b| (20..=63).contains(b))
        {
            if c.parked_bytes + contents.len() <= MAX_PARKED_BYTES {
                c.parked_bytes += contents.len();
                c.parked.push_back((from, local, contents.to_vec()));
            } else {
                // Beyond that, like a full socket buffer: SCTP sends it again.
                self.stats.held_back += 1;
            }
            return;
        }
        {
            let _g = c.span.clone().entered();
            if let Err(e) =
                c.pc.handle_input(Input::Receive(Instant::now().into_std(), d))
            {
                self.stats.refused += 1;
                tracing::trace!(error = %e, %from, "datagram refused");
            }
        }
        self.drive_key(key);
    }

    /// Drains a session's output: datagrams out, events to the handles, the next deadline.
    fn drive_key(&mut self, key: ConnKey) {
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
            self.tx.clear();
            match c.pc.poll_output(&mut self.tx) {
                Output::Transmit(t) => {
                    let Some(dest) = t.destination else { continue };
                    let idx = t
                        .source
                        .and_then(|s| self.locals.iter().position(|&l| l == s))
                        .unwrap_or(0);
                    let Some(sock) = self.sockets.get(idx) else {
                        continue;
                    };
                    let data = self.tx.get(..t.size).unwrap_or(&self.tx);
                    let seg = t.segment_size.filter(|&s| s > 0 && s < data.len());
                    let segments = seg.map_or(1, |s| data.len().div_ceil(s));
                    // One GSO send when the socket takes that many segments, else each.
                    let whole = segments <= sock.state.max_gso_segments();
                    let step = if whole {
                        data.len()
                    } else {
                        seg.unwrap_or(data.len())
                    };
                    let segment_size = if whole { seg } else { None };
                    for chunk in data.chunks(step.max(1)) {
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

/// A datagram (or GSO batch) a full kernel buffer refused.
struct Unsent {
    socket: usize,
    destination: SocketAddr,
    data: Vec<u8>,
    segment_size: Option<usize>,
}

/// Sends the refused datagrams in order as their sockets become writable; returns how
/// many went and how many failed for good (anything but a full buffer).
async fn send_unsent(sockets: &[Sock], unsent: &mut VecDeque<Unsent>) -> (u64, u64) {
    let (mut sent, mut errors) = (0, 0);
    poll_fn(|cx| {
        let mut spins = 0;
        while let Some(u) = unsent.front() {
            let Some(s) = sockets.get(u.socket) else {
                unsent.pop_front();
                errors += 1;
                continue;
            };
            match s.io.poll_send_ready(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => {
                    tracing::trace!(error = %e, "send readiness");
                    unsent.pop_front();
                    errors += 1;
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
                    errors += 1;
                }
                Ok(()) => {
                    unsent.pop_front();
                    sent += 1;
                }
            }
        }
        Poll::Ready(())
    })
    .await;
    (sent, errors)
}

/// Waits for datagrams on any socket (starting with `first`, for fairness): fills up to
/// `batch` buffers of `buf` and their `meta`; returns the socket and how many.
async fn recv_any(
    sockets: &[Sock],
    buf: &mut [u8],
    meta: &mut [quinn_udp::RecvMeta; MAX_BATCH],
    batch: usize,
    first: usize,
) -> (usize, std::io::Result<usize>) {
    let n = sockets.len();
    poll_fn(|cx| {
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
                let mut chunks = buf.chunks_mut(RX_SIZE);
                let mut iovs: [IoSliceMut<'_>; MAX_BATCH] =
                    std::array::from_fn(|_| IoSliceMut::new(chunks.next().unwrap_or(&mut [])));
                let take = batch.min(MAX_BATCH);
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
        Poll::Pending
    })
    .await
}
