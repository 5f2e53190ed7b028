//! A session beside the driver: channels, tracks, its events, the backlog of a full receiver.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use rtcwire::{
    ChannelId, Event as CoreEvent, IceConnectionState, MediaKind, Payload, PeerConnectionState,
    SignalingState, TransceiverId,
};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::channel::{ChannelInfo, ChannelState, DataChannel};
use crate::driver::{Conn, ConnKey, ConnState, Delivery, Guard, Slot};
use crate::media::{FrameQueue, KeyframeRequests, Pushed, Track, Transceiver};
use crate::Event;

impl Conn {
    pub(crate) fn new(
        pc: rtcwire::PeerConnection,
        key: ConnKey,
        guard: &Arc<Guard>,
        config: &crate::Config,
    ) -> (
        Self,
        mpsc::UnboundedReceiver<Box<Event>>,
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
            timer_entry: None,
            span: tracing::debug_span!("peer_connection", id = key),
            guard: Arc::downgrade(guard),
            capacity: config.channel_capacity.max(1),
            mdns: config.mdns,
            closing: false,
            loss: config
                .test_loss
                .map(|l| Box::new(crate::loss::Dropper::pair(l))),
            tcp: crate::tcp::TcpStats::default(),
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

    /// After a description was applied: once the exchange is complete, the tracks of the
    /// transceivers it stopped (the peer's port 0) or rejected end as a local `stop()`
    /// ends them. (A peer that only stops sending leaves the track open, as a browser
    /// mutes its own: frames just stop.)
    pub(crate) fn end_stopped_tracks(&mut self) {
        if self.pc.signaling_state() != rtcwire::SignalingState::Stable {
            return;
        }
        let stopped: Vec<TransceiverId> = self
            .tracks
            .keys()
            .copied()
            .filter(|&id| self.pc.current_direction(id).is_none())
            .collect();
        for id in stopped {
            self.track_ended(id);
        }
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
                    let _ = events.send(Box::new(Event::ResolveHostname(name)));
                }
            }
        };
        tokio::spawn(tracing::Instrument::instrument(task, self.span.clone()));
    }

    fn emit(&self, e: Event) {
        // Nobody listening (the receiver was dropped) is fine.
        let _ = self.events.send(Box::new(e));
    }

    pub(crate) fn on_event(&mut self, e: CoreEvent) {
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

    pub(crate) fn flush_backlog(&mut self) {
        while let Some(d) = self.backlog.pop_front() {
            if let Some(d) = self.try_deliver(d) {
                self.backlog.push_front(d);
                return;
            }
        }
    }

    /// The sender whose room we wait for, when the backlog is stuck.
    pub(crate) fn blocked_sender(&self) -> Option<mpsc::Sender<Payload>> {
        match self.backlog.front()? {
            Delivery::Message(id, _) => self.channels.get(id).map(|s| s.tx.clone()),
            Delivery::Closed(_) => None,
        }
    }

    pub(crate) fn publish_buffered(&self) {
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
    pub(crate) fn finish(&mut self) {
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
