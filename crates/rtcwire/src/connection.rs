//! The [`PeerConnection`]: the cores as fields, the bytes moved between them by hand.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rtcwire_datachannel::{ChannelConfig, DataChannels, Reliability};
use rtcwire_dtls::{Certificate, Connection, SystemRng};
use rtcwire_ice::{Agent, IceState, Received};
use rtcwire_proto::{
    classify, Datagram, DtlsRole, Fingerprint, PacketKind, Rng, SansIo, SeededRng, Transmit,
};
use rtcwire_sctp::Association;
use rtcwire_sdp::{Sdp, Setup};

use crate::jsep::{self, LocalParams, RemoteParams};
use crate::types::{
    ChannelId, DataChannelInit, Event, IceCandidate, IceConnectionState, IceGatheringState, Input,
    Output, PeerConnectionState, SdpType, SessionDescription, SignalingState,
};
use crate::{Config, Error};

/// The mid of the data section in our offers.
const OFFER_MID: &str = "0";
/// Most data channels waiting for the transport to come up.
const MAX_PENDING_CHANNELS: usize = 1024;
/// Most local candidates remembered for the next description.
const MAX_LOCAL_CANDIDATES: usize = 32;
/// What [`Output::Timeout`] says when no core has a timer armed.
const IDLE: Duration = Duration::from_secs(3600);

/// Counters of what the session refused or dropped; for tests and `get_stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Datagrams refused by [`PeerConnection::handle_input`] (every `Err`).
    pub refused_datagrams: u64,
    /// Of those, datagrams of a kind the session does not take (RTP/RTCP for now, ZRTP,
    /// QUIC, unknown).
    pub unhandled_kind: u64,
    /// SCTP packets (inside authenticated DTLS records) the association refused.
    pub refused_sctp_packets: u64,
    /// DTLS records that could not be sent (no selected pair, ICE closed).
    pub unsendable_records: u64,
    /// SCTP packets DTLS would not take (not connected, closed).
    pub unsealable_packets: u64,
    /// Remote candidates (from SDP or trickle) ICE refused.
    pub refused_candidates: u64,
}

#[derive(Debug)]
struct ChannelEntry {
    /// The SCTP stream, once the channel exists on the association.
    stream: Option<u16>,
    /// What to open once SCTP is up (channels created before the transport).
    pending: Option<ChannelConfig>,
}

/// A sans-IO WebRTC peer connection (data channels; media comes next).
///
/// Drive it like str0m's `Rtc`: feed [`Input`]s with [`handle_input`](Self::handle_input),
/// then call [`poll_output`](Self::poll_output) until it returns [`Output::Timeout`]. The
/// application calls (`create_offer`, `create_data_channel`, `send_text`, ...) take effect
/// at the time of the last input; drain `poll_output` after them too. See the crate docs
/// for a whole session.
pub struct PeerConnection {
    seed: Option<u64>,
    now: Instant,
    ice_config: rtcwire_ice::Config,
    ice: Agent,
    certificate: Certificate,
    local_fingerprint: Fingerprint,
    dtls_mtu: usize,
    sctp_config: rtcwire_sctp::Config,
    dtls: Option<Connection>,
    dtls_config: Option<Arc<rtcwire_dtls::Config>>,
    dtls_role: Option<DtlsRole>,
    dtls_connected: bool,
    dtls_failed: bool,
    sctp: Option<Association>,
    channels: Option<DataChannels>,
    entries: BTreeMap<ChannelId, ChannelEntry>,
    by_stream: BTreeMap<u16, ChannelId>,
    next_channel: u32,
    signaling: SignalingState,
    /// We made the offer of the current exchange.
    offerer: Option<bool>,
    remote: Option<RemoteParams>,
    local_setup: Option<Setup>,
    local_hosts: Vec<SocketAddr>,
    local_candidates: Vec<String>,
    local_candidates_done: bool,
    end_of_local_called: bool,
    last_offer: Option<String>,
    last_answer: Option<String>,
    local_description: Option<SessionDescription>,
    remote_description: Option<SessionDescription>,
    session_id: u64,
    session_version: u64,
    ice_state: IceConnectionState,
    gathering: IceGatheringState,
    conn_state: PeerConnectionState,
    events: VecDeque<Event>,
    /// Datagrams sealed while closing (ICE is closed right after).
    last_words: VecDeque<(Transmit, Vec<u8>)>,
    sctp_packet: Vec<u8>,
    record: Vec<u8>,
    closed: bool,
    stats: Stats,
}

impl std::fmt::Debug for PeerConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerConnection")
            .field("signaling", &self.signaling)
            .field("ice", &self.ice_state)
            .field("state", &self.conn_state)
            .field("dtls_role", &self.dtls_role)
            .field("channels", &self.entries.len())
            .finish_non_exhaustive()
    }
}

fn rng_for(seed: Option<u64>, label: &str) -> Box<dyn Rng + Send> {
    match seed {
        Some(s) => Box::new(SeededRng::derived(s, label)),
        None => Box::new(SystemRng::new()),
    }
}

fn map_ice_state(s: IceState) -> IceConnectionState {
    match s {
        IceState::New => IceConnectionState::New,
        IceState::Checking => IceConnectionState::Checking,
        IceState::Connected => IceConnectionState::Connected,
        IceState::Completed => IceConnectionState::Completed,
        IceState::Disconnected => IceConnectionState::Disconnected,
        IceState::Failed => IceConnectionState::Failed,
        IceState::Closed => IceConnectionState::Closed,
    }
}

impl PeerConnection {
    /// A new session at `now`. Fails only if the certificate cannot be generated or the
    /// random source fails.
    pub fn new(config: Config, now: Instant) -> Result<Self, Error> {
        let certificate = match config.certificate {
            Some(c) => c,
            None => Certificate::generate_self_signed().map_err(Error::Certificate)?,
        };
        let local_fingerprint = certificate.fingerprint();
        let ice_config = rtcwire_ice::Config {
            controlling: true,
            ..config.ice
        };
        let ice = Agent::new(ice_config.clone(), rng_for(config.seed, "ice"))?;
        let mut sdp_rng = rng_for(config.seed, "sdp");
        // RFC 8866: the session id fits in 63 bits.
        let session_id = sdp_rng.next_u64().map_err(|_| Error::RandomSource)? >> 1;
        Ok(PeerConnection {
            seed: config.seed,
            now,
            ice_config,
            ice,
            certificate,
            local_fingerprint,
            dtls_mtu: config.dtls_mtu,
            sctp_config: config.sctp,
            dtls: None,
            dtls_config: None,
            dtls_role: None,
            dtls_connected: false,
            dtls_failed: false,
            sctp: None,
            channels: None,
            entries: BTreeMap::new(),
            by_stream: BTreeMap::new(),
            next_channel: 0,
            signaling: SignalingState::Stable,
            offerer: None,
            remote: None,
            local_setup: None,
            local_hosts: Vec::new(),
            local_candidates: Vec::new(),
            local_candidates_done: false,
            end_of_local_called: false,
            last_offer: None,
            last_answer: None,
            local_description: None,
            remote_description: None,
            session_id,
            session_version: 0,
            ice_state: IceConnectionState::New,
            gathering: IceGatheringState::New,
            conn_state: PeerConnectionState::New,
            events: VecDeque::new(),
            last_words: VecDeque::new(),
            sctp_packet: Vec::with_capacity(1500),
            record: Vec::with_capacity(1500),
            closed: false,
            stats: Stats::default(),
        })
    }

    // ----- run loop ------------------------------------------------------------------

    /// Feeds one input. `Err` means only that this datagram was refused, counted and
    /// dropped; the session is unchanged. Drain [`poll_output`](Self::poll_output) after.
    pub fn handle_input(&mut self, input: Input<'_>) -> Result<(), Error> {
        match input {
            Input::Receive(now, d) => self.receive(now, d),
            Input::Timeout(now) => {
                self.timeout(now);
                Ok(())
            }
        }
    }

    /// The next thing to do: a datagram written into `buf` (appended; send
    /// `buf[..size]` of a cleared buffer), an event, or the time of the next
    /// [`Input::Timeout`]. Call until it returns [`Output::Timeout`].
    pub fn poll_output(&mut self, buf: &mut Vec<u8>) -> Output {
        let now = self.now;
        if let Some(t) = self.transmit(now, buf) {
            return Output::Transmit(t);
        }
        if let Some(e) = self.events.pop_front() {
            return Output::Event(e);
        }
        Output::Timeout(self.next_timeout().unwrap_or(now + IDLE))
    }

    /// Whether a datagram that arrived on a shared socket belongs to this session: a STUN
    /// message whose USERNAME starts with our ufrag, or anything else on the 5-tuple of one
    /// of our candidate pairs.
    #[must_use]
    pub fn accepts(&self, d: &Datagram<'_>) -> bool {
        if self.closed {
            return false;
        }
        if classify(d.contents) == PacketKind::Stun {
            let Ok(msg) = rtcwire_stun::Message::parse(d.contents) else {
                return false;
            };
            if let Ok(Some(user)) = msg.username() {
                let ours = &self.ice.local_credentials().ufrag;
                return user
                    .split_once(':')
                    .is_some_and(|(local, _)| local == ours.as_str());
            }
            // A response or indication carries no USERNAME: go by the 5-tuple.
        }
        let (Some(src), Some(dst)) = (d.source, d.destination) else {
            return false;
        };
        self.ice
            .check_list()
            .any(|(local, remote, _)| remote == src && local == dst)
            || self.ice.accepts(d) && classify(d.contents) != PacketKind::Stun
    }

    fn receive(&mut self, now: Instant, d: Datagram<'_>) -> Result<(), Error> {
        self.now = self.now.max(now);
        let r = self.receive_inner(now, d);
        if let Err(e) = &r {
            self.stats.refused_datagrams += 1;
            if matches!(e, Error::UnhandledPacket(_)) {
                self.stats.unhandled_kind += 1;
            }
            tracing::trace!(error = %e, "datagram refused");
        }
        self.pump(now);
        r
    }

    fn receive_inner(&mut self, now: Instant, d: Datagram<'_>) -> Result<(), Error> {
        if self.closed {
            return Err(Error::Closed);
        }
        match classify(d.contents) {
            PacketKind::Stun | PacketKind::ChannelData | PacketKind::Dtls => {}
            other => return Err(Error::UnhandledPacket(other)),
        }
        if self.remote.is_none() {
            return Err(Error::NoRemoteDescription);
        }
        match self.ice.handle_datagram(now, d)? {
            Received::Stun => Ok(()),
            Received::Data { contents, .. } => {
                let kind = classify(contents);
                if kind != PacketKind::Dtls {
                    return Err(Error::UnhandledPacket(kind));
                }
                let dtls = self.dtls.as_mut().ok_or(Error::DtlsNotStarted)?;
                dtls.handle_read(now, Datagram::on_path(contents))?;
                Ok(())
            }
        }
    }

    fn timeout(&mut self, now: Instant) {
        self.now = self.now.max(now);
        if self.closed {
            return;
        }
        self.ice.handle_timeout(now);
        if let Some(d) = self.dtls.as_mut() {
            d.handle_timeout(now);
        }
        if let Some(s) = self.sctp.as_mut() {
            s.handle_timeout(now);
        }
        self.pump(now);
    }

    fn next_timeout(&self) -> Option<Instant> {
        if self.closed {
            return None;
        }
        [
            self.ice.poll_timeout(),
            self.dtls.as_ref().and_then(SansIo::poll_timeout),
            self.sctp.as_ref().and_then(SansIo::poll_timeout),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The next datagram: ICE's own (checks, consent), then DTLS records (carrying SCTP
    /// packets) on the selected pair.
    fn transmit(&mut self, now: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
        if let Some((t, data)) = self.last_words.pop_front() {
            buf.extend_from_slice(&data);
            return Some(t);
        }
        if self.closed {
            return None;
        }
        if let Some(t) = self.ice.poll_transmit(now, buf) {
            return Some(t);
        }
        // DTLS records wait inside DTLS until ICE has a pair to send them on.
        self.ice.selected_pair()?;
        self.seal_sctp(now);
        let dtls = self.dtls.as_mut()?;
        loop {
            self.record.clear();
            let t = dtls.poll_transmit(now, &mut self.record)?;
            let record = self.record.get(..t.size).unwrap_or(&self.record);
            match self.ice.send(record, buf) {
                Ok(t) => return Some(t),
                Err(e) => {
                    self.stats.unsendable_records += 1;
                    tracing::debug!(error = %e, "DTLS record not sent");
                }
            }
        }
    }

    /// Moves every SCTP packet the association has into DTLS records.
    fn seal_sctp(&mut self, now: Instant) {
        let (Some(sctp), Some(dtls)) = (self.sctp.as_mut(), self.dtls.as_mut()) else {
            return;
        };
        if !dtls.is_connected() {
            return;
        }
        loop {
            self.sctp_packet.clear();
            let Some(t) = sctp.poll_transmit(now, &mut self.sctp_packet) else {
                return;
            };
            let packet = self.sctp_packet.get(..t.size).unwrap_or(&self.sctp_packet);
            // SCTP writes into a Vec; DTLS seals in its own record buffer: one copy.
            let sent = dtls.send_with(packet.len(), |room| {
                let n = room.len().min(packet.len());
                if let (Some(dst), Some(src)) = (room.get_mut(..n), packet.get(..n)) {
                    dst.copy_from_slice(src);
                }
                n
            });
            if sent.is_err() {
                self.stats.unsealable_packets += 1;
            }
        }
    }

    // ----- moving events between the cores -----------------------------------------

    fn pump(&mut self, now: Instant) {
        self.pump_ice(now);
        self.maybe_start_dtls(now);
        self.pump_dtls(now);
        self.pump_sctp(now);
        self.pump_channels();
        self.update_connection_state();
    }

    fn pump_ice(&mut self, now: Instant) {
        while let Some(e) = self.ice.poll_event() {
            match e {
                rtcwire_ice::Event::LocalCandidate(c) => {
                    let line = c.to_string();
                    if self.local_candidates.len() < MAX_LOCAL_CANDIDATES
                        && !self.local_candidates.contains(&line)
                    {
                        self.local_candidates.push(line.clone());
                    }
                    if self.gathering == IceGatheringState::New {
                        self.gathering = IceGatheringState::Gathering;
                        self.events.push_back(Event::IceGatheringStateChange(
                            IceGatheringState::Gathering,
                        ));
                    }
                    self.events.push_back(Event::IceCandidate(IceCandidate {
                        candidate: line,
                        sdp_mid: Some(self.data_mid().to_owned()),
                        sdp_m_line_index: Some(self.data_m_line_index()),
                    }));
                }
                rtcwire_ice::Event::GatheringComplete => self.gathering_complete(),
                rtcwire_ice::Event::StateChanged(s) => {
                    let s = map_ice_state(s);
                    if s != self.ice_state {
                        self.ice_state = s;
                        self.events.push_back(Event::IceConnectionStateChange(s));
                    }
                }
                rtcwire_ice::Event::SelectedPairChanged(p) => {
                    tracing::debug!(local = %p.local.address, remote = %p.remote.address, "selected pair");
                }
                _ => {}
            }
        }
        let _ = now;
    }

    fn gathering_complete(&mut self) {
        if self.local_candidates_done {
            return;
        }
        self.local_candidates_done = true;
        self.gathering = IceGatheringState::Complete;
        self.events
            .push_back(Event::IceGatheringStateChange(IceGatheringState::Complete));
        let mid = Some(self.data_mid().to_owned());
        self.events
            .push_back(Event::IceCandidate(IceCandidate::end_of_candidates(mid)));
    }

    /// The DTLS client starts its handshake once ICE has a pair; the server is made when
    /// the exchange completes and waits for the ClientHello.
    fn maybe_start_dtls(&mut self, now: Instant) {
        if self.dtls.is_some() || self.closed {
            return;
        }
        let (Some(role), Some(cfg)) = (self.dtls_role, self.dtls_config.clone()) else {
            return;
        };
        let rng = rng_for(self.seed, "dtls");
        match role {
            DtlsRole::Server => self.dtls = Some(Connection::server(cfg, rng)),
            DtlsRole::Client => {
                if self.ice.selected_pair().is_some() {
                    self.dtls = Some(Connection::client(cfg, rng, now));
                }
            }
        }
    }

    fn pump_dtls(&mut self, now: Instant) {
        loop {
            let Some(e) = self.dtls.as_mut().and_then(SansIo::poll_event) else {
                return;
            };
            match e {
                rtcwire_dtls::Event::Connected { .. } => {
                    self.dtls_connected = true;
                    self.start_sctp(now);
                }
                rtcwire_dtls::Event::ApplicationData(data) => {
                    if let Some(sctp) = self.sctp.as_mut() {
                        if sctp.handle_read(now, Datagram::on_path(&data)).is_err() {
                            self.stats.refused_sctp_packets += 1;
                        }
                    }
                    if let Some(d) = self.dtls.as_mut() {
                        d.recycle(data);
                    }
                }
                rtcwire_dtls::Event::Closed => {
                    // close_notify from the peer (our own close() returns before this).
                    self.remote_closed(now);
                }
                rtcwire_dtls::Event::Error(e) => {
                    tracing::debug!(error = %e, "DTLS failed");
                    self.dtls_failed = true;
                    self.close_all_channels();
                }
                _ => {}
            }
        }
    }

    fn start_sctp(&mut self, now: Instant) {
        let (Some(role), Some(remote)) = (self.dtls_role, self.remote.as_ref()) else {
            return;
        };
        if self.sctp.is_some() {
            return;
        }
        let remote_max = match remote.max_message_size {
            None => jsep::DEFAULT_REMOTE_MAX_MESSAGE_SIZE,
            // 0: no limit; our send buffer is the limit then.
            Some(0) => self.sctp_config.send_buffer,
            Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
        };
        let config = rtcwire_sctp::Config {
            local_port: jsep::DEFAULT_SCTP_PORT,
            remote_port: remote.sctp_port,
            remote_max_message_size: remote_max,
            ..self.sctp_config.clone()
        };
        match Association::new(config, rng_for(self.seed, "sctp"), now) {
            Ok(mut a) => {
                // Both may send INIT (the association handles the collision); the DTLS
                // client starts, as browsers do.
                if role == DtlsRole::Client {
                    if let Err(e) = a.connect(now) {
                        tracing::debug!(error = %e, "SCTP connect failed");
                    }
                }
                self.sctp = Some(a);
                self.channels = Some(DataChannels::new(role));
            }
            Err(e) => {
                tracing::debug!(error = %e, "SCTP association not created");
                self.dtls_failed = true;
            }
        }
    }

    fn pump_sctp(&mut self, now: Instant) {
        loop {
            let (Some(sctp), Some(channels)) = (self.sctp.as_mut(), self.channels.as_mut()) else {
                return;
            };
            let Some(e) = sctp.poll_event() else {
                return;
            };
            match channels.handle_event(sctp, now, e) {
                Some(rtcwire_sctp::Event::Connected) => self.open_pending_channels(now),
                Some(rtcwire_sctp::Event::Closed | rtcwire_sctp::Event::Aborted(_)) => {
                    self.close_all_channels();
                }
                _ => {}
            }
        }
    }

    fn pump_channels(&mut self) {
        loop {
            let Some(e) = self.channels.as_mut().and_then(DataChannels::poll_event) else {
                return;
            };
            match e {
                rtcwire_datachannel::Event::ChannelOpened {
                    id,
                    label,
                    protocol,
                    ordered,
                    ..
                } => {
                    let cid = self.new_channel_id();
                    self.entries.insert(
                        cid,
                        ChannelEntry {
                            stream: Some(id),
                            pending: None,
                        },
                    );
                    self.by_stream.insert(id, cid);
                    self.events.push_back(Event::DataChannel {
                        id: cid,
                        label,
                        protocol,
                        ordered,
                    });
                }
                rtcwire_datachannel::Event::Open(stream) => {
                    if let Some(&cid) = self.by_stream.get(&stream) {
                        self.events.push_back(Event::ChannelOpen(cid));
                    }
                }
                rtcwire_datachannel::Event::Message { id, payload } => {
                    if let Some(&cid) = self.by_stream.get(&id) {
                        self.events
                            .push_back(Event::ChannelMessage { id: cid, payload });
                    }
                }
                rtcwire_datachannel::Event::BufferedAmountLow(stream) => {
                    if let Some(&cid) = self.by_stream.get(&stream) {
                        self.events.push_back(Event::ChannelBufferedAmountLow(cid));
                    }
                }
                rtcwire_datachannel::Event::Closed(stream) => {
                    if let Some(cid) = self.by_stream.remove(&stream) {
                        self.entries.remove(&cid);
                        self.events.push_back(Event::ChannelClosed(cid));
                    }
                }
                _ => {}
            }
        }
    }

    fn new_channel_id(&mut self) -> ChannelId {
        let id = ChannelId(self.next_channel);
        self.next_channel = self.next_channel.wrapping_add(1);
        id
    }

    fn open_pending_channels(&mut self, now: Instant) {
        let (Some(sctp), Some(channels)) = (self.sctp.as_mut(), self.channels.as_mut()) else {
            return;
        };
        let mut failed = Vec::new();
        for (&cid, entry) in self.entries.iter_mut() {
            let Some(config) = entry.pending.take() else {
                continue;
            };
            match channels.open(sctp, now, config) {
                Ok(stream) => {
                    entry.stream = Some(stream);
                    self.by_stream.insert(stream, cid);
                }
                Err(e) => {
                    tracing::debug!(error = %e, %cid, "data channel could not be opened");
                    failed.push(cid);
                }
            }
        }
        for cid in failed {
            self.entries.remove(&cid);
            self.events.push_back(Event::ChannelClosed(cid));
        }
        // Pre-negotiated channels are open at once.
        let negotiated: Vec<ChannelId> = self
            .entries
            .iter()
            .filter(|(_, e)| {
                e.stream.is_some_and(|s| {
                    channels.state(s) == Some(rtcwire_datachannel::ChannelState::Open)
                })
            })
            .map(|(&c, _)| c)
            .collect();
        for cid in negotiated {
            self.events.push_back(Event::ChannelOpen(cid));
        }
    }

    fn close_all_channels(&mut self) {
        let ids: Vec<ChannelId> = self.entries.keys().copied().collect();
        self.entries.clear();
        self.by_stream.clear();
        for cid in ids {
            self.events.push_back(Event::ChannelClosed(cid));
        }
    }

    fn remote_closed(&mut self, now: Instant) {
        self.close_all_channels();
        if let Some(s) = self.sctp.as_mut() {
            s.abort();
        }
        self.ice.close(now);
        self.closed = true;
        self.set_connection_state(PeerConnectionState::Closed);
    }

    fn update_connection_state(&mut self) {
        if self.closed {
            return;
        }
        let dtls_closed = self.dtls.as_ref().is_some_and(Connection::is_closed);
        let s = if self.dtls_failed || self.ice_state == IceConnectionState::Failed {
            PeerConnectionState::Failed
        } else if self.ice_state == IceConnectionState::Disconnected {
            PeerConnectionState::Disconnected
        } else if matches!(
            self.ice_state,
            IceConnectionState::Connected | IceConnectionState::Completed
        ) && self.dtls_connected
            && !dtls_closed
        {
            PeerConnectionState::Connected
        } else if self.ice_state != IceConnectionState::New || self.dtls.is_some() {
            PeerConnectionState::Connecting
        } else {
            PeerConnectionState::New
        };
        self.set_connection_state(s);
    }

    fn set_connection_state(&mut self, s: PeerConnectionState) {
        if s != self.conn_state {
            self.conn_state = s;
            self.events.push_back(Event::ConnectionStateChange(s));
        }
    }

    fn set_signaling(&mut self, s: SignalingState) {
        if s != self.signaling {
            self.signaling = s;
            self.events.push_back(Event::SignalingStateChange(s));
        }
    }

    // ----- signaling -----------------------------------------------------------------

    fn data_mid(&self) -> &str {
        self.remote
            .as_ref()
            .filter(|_| self.offerer == Some(false))
            .and_then(RemoteParams::data_mid)
            .unwrap_or(OFFER_MID)
    }

    fn data_m_line_index(&self) -> u16 {
        self.remote
            .as_ref()
            .filter(|_| self.offerer == Some(false))
            .and_then(|r| r.data_index)
            .and_then(|i| u16::try_from(i).ok())
            .unwrap_or(0)
    }

    fn local_params(&mut self, setup: Setup) -> LocalParams<'_> {
        self.session_version += 1;
        let creds = self.ice.local_credentials();
        LocalParams {
            session_id: self.session_id,
            session_version: self.session_version,
            ufrag: &creds.ufrag,
            pwd: &creds.pwd,
            fingerprint: self.local_fingerprint.clone(),
            setup,
            sctp_port: jsep::DEFAULT_SCTP_PORT,
            max_message_size: u64::try_from(self.sctp_config.max_message_size).unwrap_or(u64::MAX),
            candidates: &self.local_candidates,
            end_of_candidates: self.local_candidates_done,
        }
    }

    /// `createOffer`: one data-channel section (`m=application ... webrtc-datachannel`,
    /// mid "0", BUNDLEd), our ICE credentials, `a=ice-options:trickle`, the candidates
    /// gathered so far, our certificate's fingerprint and `a=setup:actpass`.
    pub fn create_offer(&mut self) -> Result<SessionDescription, Error> {
        self.check_open()?;
        match self.signaling {
            SignalingState::Stable if self.remote.is_none() => {}
            SignalingState::HaveLocalOffer => {}
            SignalingState::Stable => return Err(Error::Unsupported("renegotiation")),
            _ => return Err(Error::WrongState("createOffer while answering an offer")),
        }
        let text = jsep::write_offer(OFFER_MID, &self.local_params(Setup::ActPass))?;
        self.last_offer = Some(text.clone());
        Ok(SessionDescription::offer(text))
    }

    /// `createAnswer`: accepts the offer's data section (`a=setup:active`, we are the DTLS
    /// client, unless the offer was `active`), rejects every other section (port 0, same
    /// mid, `a=inactive`: media comes in a later version).
    pub fn create_answer(&mut self) -> Result<SessionDescription, Error> {
        self.check_open()?;
        if self.signaling != SignalingState::HaveRemoteOffer {
            return Err(Error::WrongState("createAnswer needs a remote offer"));
        }
        let remote = self
            .remote
            .clone()
            .ok_or(Error::WrongState("createAnswer needs a remote offer"))?;
        let setup = match remote.setup {
            Some(Setup::Active) => Setup::Passive,
            _ => Setup::Active,
        };
        let text = jsep::write_answer(&remote, &self.local_params(setup))?;
        self.local_setup = Some(setup);
        self.last_answer = Some(text.clone());
        Ok(SessionDescription::answer(text))
    }

    /// `setLocalDescription` with a description this session created (the last
    /// `create_offer` or `create_answer`; SDP munging is not supported).
    pub fn set_local_description(&mut self, desc: SessionDescription) -> Result<(), Error> {
        self.check_open()?;
        let invalid = Error::InvalidState {
            sdp_type: desc.sdp_type,
            state: self.signaling,
        };
        match desc.sdp_type {
            SdpType::Offer => {
                if !matches!(
                    self.signaling,
                    SignalingState::Stable | SignalingState::HaveLocalOffer
                ) {
                    return Err(invalid);
                }
                if self.last_offer.as_deref() != Some(desc.sdp.as_str()) {
                    return Err(Error::NotOurDescription(SdpType::Offer));
                }
                self.offerer = Some(true);
                self.local_description = Some(desc);
                self.set_signaling(SignalingState::HaveLocalOffer);
            }
            SdpType::Answer => {
                if self.signaling != SignalingState::HaveRemoteOffer {
                    return Err(invalid);
                }
                if self.last_answer.as_deref() != Some(desc.sdp.as_str()) {
                    return Err(Error::NotOurDescription(SdpType::Answer));
                }
                self.local_description = Some(desc);
                self.set_signaling(SignalingState::Stable);
                self.negotiated()?;
            }
            SdpType::Pranswer => return Err(Error::Unsupported("pranswer")),
            SdpType::Rollback => return Err(Error::Unsupported("rollback")),
        }
        let now = self.now;
        self.pump(now);
        Ok(())
    }

    /// `setRemoteDescription`. An offer must have a usable data section
    /// (`m=application ... UDP/DTLS/SCTP webrtc-datachannel`) for the session to connect;
    /// other sections are noted, to be rejected in the answer.
    pub fn set_remote_description(&mut self, desc: SessionDescription) -> Result<(), Error> {
        self.check_open()?;
        let invalid = Error::InvalidState {
            sdp_type: desc.sdp_type,
            state: self.signaling,
        };
        match desc.sdp_type {
            SdpType::Offer => {
                if self.signaling != SignalingState::Stable {
                    return Err(invalid);
                }
                if self.remote.is_some() {
                    return Err(Error::Unsupported("renegotiation"));
                }
            }
            SdpType::Answer => {
                if self.signaling != SignalingState::HaveLocalOffer {
                    return Err(invalid);
                }
            }
            SdpType::Pranswer => return Err(Error::Unsupported("pranswer")),
            SdpType::Rollback => return Err(Error::Unsupported("rollback")),
        }
        let sdp = Sdp::parse(&desc.sdp)?;
        let params = jsep::read_remote(&sdp)?;
        if desc.sdp_type == SdpType::Answer && params.data_index.is_none() {
            return Err(Error::BadDescription("the answer rejects the data section"));
        }
        if desc.sdp_type == SdpType::Offer {
            // We answer: ICE is controlled. Nothing was checked yet, so the agent is
            // rebuilt with the same credentials and host candidates.
            self.become_controlled()?;
        }
        if params.data_index.is_some() {
            self.ice
                .set_remote_credentials(&params.ufrag, &params.pwd)?;
            self.ice.set_remote_lite(params.ice_lite);
        }
        let now = self.now;
        let has_data = params.data_index.is_some();
        let candidates = params.candidates.clone();
        let end = params.end_of_candidates;
        self.remote = Some(params);
        self.remote_description = Some(desc.clone());
        if has_data {
            for line in &candidates {
                self.add_remote_candidate_line(now, line);
            }
            if end {
                self.ice.end_of_remote_candidates(now);
            }
        }
        match desc.sdp_type {
            SdpType::Offer => {
                self.offerer = Some(false);
                self.set_signaling(SignalingState::HaveRemoteOffer);
            }
            _ => {
                self.set_signaling(SignalingState::Stable);
                self.negotiated()?;
            }
        }
        self.pump(now);
        Ok(())
    }

    fn become_controlled(&mut self) -> Result<(), Error> {
        let config = rtcwire_ice::Config {
            controlling: false,
            local_credentials: Some(self.ice.local_credentials().clone()),
            ..self.ice_config.clone()
        };
        let mut ice = Agent::new(config, rng_for(self.seed, "ice"))?;
        for &addr in &self.local_hosts {
            ice.add_host_candidate(self.now, addr)?;
        }
        if self.end_of_local_called {
            ice.end_of_local_candidates();
        }
        // Its candidates were signalled by the old agent already.
        while let Some(e) = ice.poll_event() {
            if let rtcwire_ice::Event::GatheringComplete = e {
                self.gathering_complete();
            }
        }
        self.ice = ice;
        Ok(())
    }

    fn add_remote_candidate_line(&mut self, now: Instant, line: &str) {
        let ok = rtcwire_ice::Candidate::parse(line)
            .and_then(|c| self.ice.add_remote_candidate(now, c))
            .is_ok();
        if !ok {
            self.stats.refused_candidates += 1;
        }
    }

    /// Both descriptions are applied: fix the DTLS role and the peer's fingerprints.
    fn negotiated(&mut self) -> Result<(), Error> {
        let remote = self
            .remote
            .as_ref()
            .ok_or(Error::WrongState("no remote description"))?;
        if remote.data_index.is_none() {
            // Nothing accepted: no transport to start.
            return Ok(());
        }
        let role = match (self.offerer, self.local_setup) {
            (Some(false), Some(Setup::Passive)) => DtlsRole::Server,
            (Some(false), _) => DtlsRole::Client,
            _ => jsep::our_role_from_remote_setup(remote.setup),
        };
        let mut b = rtcwire_dtls::Config::builder(self.certificate.clone())
            .mtu(self.dtls_mtu)
            .deterministic_keys(self.seed.is_some());
        for fp in &remote.fingerprints {
            b = b.remote_fingerprint(fp.clone());
        }
        let cfg = b.build().map_err(Error::Certificate)?;
        self.dtls_config = Some(Arc::new(cfg));
        self.dtls_role = Some(role);
        Ok(())
    }

    /// `addIceCandidate`: a trickled remote candidate, or end-of-candidates when
    /// `candidate` is empty. Candidates of any BUNDLEd mid go to the one transport.
    /// `.local` (mDNS) candidates are kept until resolved; resolving them is the driver's
    /// job and not wired yet.
    pub fn add_ice_candidate(&mut self, candidate: &IceCandidate) -> Result<(), Error> {
        self.check_open()?;
        if self.remote.is_none() {
            return Err(Error::WrongState(
                "addIceCandidate needs a remote description",
            ));
        }
        let now = self.now;
        if candidate.is_end_of_candidates() {
            self.ice.end_of_remote_candidates(now);
        } else {
            let c = rtcwire_ice::Candidate::parse(&candidate.candidate)?;
            if let Err(e) = self.ice.add_remote_candidate(now, c) {
                self.stats.refused_candidates += 1;
                return Err(e.into());
            }
        }
        self.pump(now);
        Ok(())
    }

    /// Adds a local host candidate: an address the driver has a UDP socket on. Emitted as
    /// [`Event::IceCandidate`] (trickle) and put in later descriptions.
    pub fn add_local_candidate(&mut self, address: SocketAddr) -> Result<(), Error> {
        self.check_open()?;
        let now = self.now;
        self.ice.add_host_candidate(now, address)?;
        if !self.local_hosts.contains(&address) {
            self.local_hosts.push(address);
        }
        self.pump(now);
        Ok(())
    }

    /// The driver has no more local addresses: gathering completes (once STUN/TURN
    /// servers answered) and end-of-candidates is emitted.
    pub fn end_of_local_candidates(&mut self) {
        if self.closed {
            return;
        }
        self.end_of_local_called = true;
        self.ice.end_of_local_candidates();
        let now = self.now;
        self.pump(now);
    }

    // ----- data channels --------------------------------------------------------------

    /// `createDataChannel`. Before the transport is up the channel waits and is opened
    /// (DCEP, or pre-negotiated) when SCTP connects; [`Event::ChannelOpen`] follows.
    pub fn create_data_channel(
        &mut self,
        label: &str,
        init: DataChannelInit,
    ) -> Result<ChannelId, Error> {
        self.check_open()?;
        let reliability = match (init.max_retransmits, init.max_packet_life_time) {
            (Some(_), Some(_)) => return Err(Error::BothReliabilityLimits),
            (Some(n), None) => Reliability::MaxRetransmits(u32::from(n)),
            (None, Some(ms)) => Reliability::MaxLifetimeMs(u32::from(ms)),
            (None, None) => Reliability::Reliable,
        };
        let config = ChannelConfig {
            label: label.to_owned(),
            protocol: init.protocol,
            ordered: init.ordered,
            reliability,
            negotiated: init.negotiated,
            ..ChannelConfig::default()
        };
        let now = self.now;
        let up = self.sctp.as_ref().is_some_and(Association::is_established);
        if up {
            let (Some(sctp), Some(channels)) = (self.sctp.as_mut(), self.channels.as_mut()) else {
                return Err(Error::WrongState("no SCTP association"));
            };
            let negotiated = config.negotiated.is_some();
            let stream = channels.open(sctp, now, config)?;
            let cid = self.new_channel_id();
            self.entries.insert(
                cid,
                ChannelEntry {
                    stream: Some(stream),
                    pending: None,
                },
            );
            self.by_stream.insert(stream, cid);
            if negotiated {
                self.events.push_back(Event::ChannelOpen(cid));
            }
            self.pump(now);
            return Ok(cid);
        }
        let pending = self
            .entries
            .values()
            .filter(|e| e.pending.is_some())
            .count();
        if pending >= MAX_PENDING_CHANNELS {
            return Err(Error::TooManyChannels);
        }
        let cid = self.new_channel_id();
        self.entries.insert(
            cid,
            ChannelEntry {
                stream: None,
                pending: Some(config),
            },
        );
        Ok(cid)
    }

    fn channel_stream(&self, id: ChannelId) -> Result<u16, Error> {
        let e = self.entries.get(&id).ok_or(Error::NoSuchChannel(id))?;
        e.stream.ok_or(Error::ChannelNotOpen(id))
    }

    /// The SCTP stream id of a channel (`RTCDataChannel.id`), once it has one.
    #[must_use]
    pub fn channel_stream_id(&self, id: ChannelId) -> Option<u16> {
        self.entries.get(&id).and_then(|e| e.stream)
    }

    /// Sends a text message (`send(string)`); an empty string is sent as WebRTC's empty
    /// message.
    pub fn send_text(&mut self, id: ChannelId, text: &str) -> Result<(), Error> {
        self.check_open()?;
        let stream = self.channel_stream(id)?;
        let now = self.now;
        let (Some(sctp), Some(channels)) = (self.sctp.as_mut(), self.channels.as_mut()) else {
            return Err(Error::ChannelNotOpen(id));
        };
        channels.send_text(sctp, now, stream, text)?;
        Ok(())
    }

    /// Sends a binary message (`send(ArrayBuffer)`).
    pub fn send_binary(&mut self, id: ChannelId, data: &[u8]) -> Result<(), Error> {
        self.check_open()?;
        let stream = self.channel_stream(id)?;
        let now = self.now;
        let (Some(sctp), Some(channels)) = (self.sctp.as_mut(), self.channels.as_mut()) else {
            return Err(Error::ChannelNotOpen(id));
        };
        channels.send_binary(sctp, now, stream, data.to_vec())?;
        Ok(())
    }

    /// `bufferedAmount`: bytes queued on the channel and not yet sent.
    #[must_use]
    pub fn buffered_amount(&self, id: ChannelId) -> usize {
        match (
            self.channel_stream(id),
            self.sctp.as_ref(),
            self.channels.as_ref(),
        ) {
            (Ok(stream), Some(sctp), Some(channels)) => channels.buffered_amount(sctp, stream),
            _ => 0,
        }
    }

    /// `bufferedAmountLowThreshold`.
    pub fn set_buffered_amount_low_threshold(
        &mut self,
        id: ChannelId,
        bytes: usize,
    ) -> Result<(), Error> {
        let stream = self.channel_stream(id)?;
        let (Some(sctp), Some(channels)) = (self.sctp.as_mut(), self.channels.as_mut()) else {
            return Err(Error::ChannelNotOpen(id));
        };
        channels.set_buffered_amount_low_threshold(sctp, stream, bytes);
        Ok(())
    }

    /// `RTCDataChannel.close()`: resets the channel's stream; [`Event::ChannelClosed`]
    /// follows on both sides once the peer reset its side too. A channel still waiting for
    /// the transport is dropped at once.
    pub fn close_channel(&mut self, id: ChannelId) -> Result<(), Error> {
        self.check_open()?;
        let entry = self.entries.get(&id).ok_or(Error::NoSuchChannel(id))?;
        let Some(stream) = entry.stream else {
            self.entries.remove(&id);
            self.events.push_back(Event::ChannelClosed(id));
            return Ok(());
        };
        let now = self.now;
        let (Some(sctp), Some(channels)) = (self.sctp.as_mut(), self.channels.as_mut()) else {
            return Err(Error::ChannelNotOpen(id));
        };
        channels.close(sctp, now, stream)?;
        self.pump(now);
        Ok(())
    }

    // ----- closing ----------------------------------------------------------------------

    /// `close()`: every channel closed (SCTP ABORT tells the peer), DTLS close_notify,
    /// ICE closed; the last datagrams are still handed out by `poll_output`, then nothing.
    pub fn close(&mut self) {
        if self.closed {
            return;
        }
        let now = self.now;
        self.close_all_channels();
        if let Some(s) = self.sctp.as_mut() {
            s.abort();
        }
        if self.ice.selected_pair().is_some() {
            self.seal_sctp(now);
        }
        if let Some(d) = self.dtls.as_mut() {
            d.close();
            loop {
                self.record.clear();
                let Some(t) = d.poll_transmit(now, &mut self.record) else {
                    break;
                };
                let record = self.record.get(..t.size).unwrap_or(&self.record);
                let mut out = Vec::with_capacity(record.len() + 64);
                if let Ok(t) = self.ice.send(record, &mut out) {
                    self.last_words.push_back((t, out));
                }
            }
        }
        self.ice.close(now);
        self.closed = true;
        self.ice_state = IceConnectionState::Closed;
        self.events
            .push_back(Event::IceConnectionStateChange(IceConnectionState::Closed));
        self.set_signaling(SignalingState::Closed);
        self.set_connection_state(PeerConnectionState::Closed);
    }

    fn check_open(&self) -> Result<(), Error> {
        if self.closed {
            Err(Error::Closed)
        } else {
            Ok(())
        }
    }

    // ----- state ---------------------------------------------------------------------

    /// `signalingState`.
    #[must_use]
    pub fn signaling_state(&self) -> SignalingState {
        self.signaling
    }

    /// `iceConnectionState`.
    #[must_use]
    pub fn ice_connection_state(&self) -> IceConnectionState {
        self.ice_state
    }

    /// `iceGatheringState`.
    #[must_use]
    pub fn ice_gathering_state(&self) -> IceGatheringState {
        self.gathering
    }

    /// `connectionState`.
    #[must_use]
    pub fn connection_state(&self) -> PeerConnectionState {
        self.conn_state
    }

    /// `localDescription`.
    #[must_use]
    pub fn local_description(&self) -> Option<&SessionDescription> {
        self.local_description.as_ref()
    }

    /// `remoteDescription`.
    #[must_use]
    pub fn remote_description(&self) -> Option<&SessionDescription> {
        self.remote_description.as_ref()
    }

    /// Our certificate's SHA-256 fingerprint (what our descriptions carry).
    #[must_use]
    pub fn local_fingerprint(&self) -> &Fingerprint {
        &self.local_fingerprint
    }

    /// Our DTLS role, once both descriptions are applied.
    #[must_use]
    pub fn dtls_role(&self) -> Option<DtlsRole> {
        self.dtls_role
    }

    /// Refusal and drop counters.
    #[must_use]
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The ICE agent (read-only: selected pair, its stats).
    #[must_use]
    pub fn ice_agent(&self) -> &Agent {
        &self.ice
    }

    /// The DTLS connection, once started (read-only: its stats).
    #[must_use]
    pub fn dtls_connection(&self) -> Option<&Connection> {
        self.dtls.as_ref()
    }

    /// The SCTP association, once DTLS is connected (read-only: its stats).
    #[must_use]
    pub fn sctp_association(&self) -> Option<&Association> {
        self.sctp.as_ref()
    }
}

/// The session as a [`SansIo`] core, so rtcwire-sim and generic drivers can run it.
/// `poll_output` is this, in one call.
impl SansIo for PeerConnection {
    type Event = Event;
    type Error = Error;

    fn handle_read(&mut self, now: Instant, datagram: Datagram<'_>) -> Result<(), Error> {
        self.receive(now, datagram)
    }

    fn poll_transmit(&mut self, now: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
        self.now = self.now.max(now);
        self.transmit(now, buf)
    }

    fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.next_timeout()
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.timeout(now);
    }
}
