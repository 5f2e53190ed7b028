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

mod channels;
mod idle;
mod media;
mod media_bwe;
mod media_recv;
mod media_rtcp;
mod media_send;
mod signaling;
mod stats;
mod transport;

pub use stats::{
    BandwidthStats, DataChannelState, DataChannelStats, InboundRtpStats, OutboundRtpStats,
    RemoteOutboundRtpStats, StatsReport, TransportStats,
};

use crate::media::TransceiverId;

use crate::jsep::{self, LocalParams, RemoteParams};
use crate::types::{
    ChannelId, DataChannelInit, Event, IceCandidate, IceConnectionState, IceGatheringState, Input,
    Output, PeerConnectionState, SdpType, SessionDescription, SignalingState, TrackEndReason,
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
    /// Of those, datagrams of a kind the session does not take (RTP/RTCP before SRTP is
    /// keyed, ZRTP,
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
    /// Of the refused datagrams, SRTP/SRTCP packets that failed authentication or replay
    /// checks, or whose RTP/RTCP did not parse or belonged to no transceiver.
    pub refused_media: u64,
    /// Transport-wide congestion control feedback packets we sent (for media we got).
    pub twcc_feedback_sent: u64,
    /// Transport-wide congestion control feedback packets the peer sent us.
    pub twcc_feedback_received: u64,
    /// Media packets dropped before leaving (send queue full, SRTP refused to protect).
    pub dropped_media_packets: u64,
}

/// One m-line of the session, in order (JSEP keeps m-lines across exchanges).
#[derive(Debug, Clone)]
struct Slot {
    mid: String,
    kind: SlotKind,
}

#[derive(Debug, Clone)]
enum SlotKind {
    /// The data-channel section.
    Data,
    /// An audio or video section.
    Media(TransceiverId),
    /// A section we rejected (port 0), kept as the peer wrote it.
    Rejected {
        kind: rtcwire_sdp::MediaKind<'static>,
        proto: String,
        formats: Vec<String>,
    },
}

#[derive(Debug)]
struct ChannelEntry {
    /// The SCTP stream, once the channel exists on the association.
    stream: Option<u16>,
    /// What to open once SCTP is up (channels created before the transport).
    pending: Option<ChannelConfig>,
    label: String,
    protocol: String,
    messages_sent: u64,
    bytes_sent: u64,
    messages_received: u64,
    bytes_received: u64,
}

impl ChannelEntry {
    fn new(
        stream: Option<u16>,
        pending: Option<ChannelConfig>,
        label: &str,
        protocol: &str,
    ) -> Self {
        ChannelEntry {
            stream,
            pending,
            label: label.to_owned(),
            protocol: protocol.to_owned(),
            messages_sent: 0,
            bytes_sent: 0,
            messages_received: 0,
            bytes_received: 0,
        }
    }
}

/// A sans-IO WebRTC peer connection: data channels, audio and video.
///
/// Drive it like str0m's `Rtc`: feed [`Input`]s with [`handle_input`](Self::handle_input),
/// then call [`poll_output`](Self::poll_output) until it returns [`Output::Timeout`]. The
/// application calls (`create_offer`, `create_data_channel`, `send_text`, ...) take effect
/// at the time of the last input; drain `poll_output` after them too. See the crate docs
/// for a whole session.
pub struct PeerConnection {
    seed: Option<u64>,
    now: Instant,
    ice: Agent,
    certificate: Certificate,
    local_fingerprint: Fingerprint,
    dtls_mtu: usize,
    /// `Config::srtp_profiles`.
    srtp_profiles: Option<Vec<rtcwire_proto::SrtpProfile>>,
    sctp_config: rtcwire_sctp::Config,
    dtls: Option<Connection>,
    dtls_config: Option<Arc<rtcwire_dtls::Config>>,
    dtls_role: Option<DtlsRole>,
    dtls_connected: bool,
    /// ICE has selected a pair (cheaper to ask than `Agent::selected_pair`, which clones).
    ice_has_pair: bool,
    /// Source and destination of the selected pair when it is UDP between host
    /// candidates' bases: DTLS records then go straight into the caller's buffer.
    direct_path: Option<(SocketAddr, SocketAddr)>,
    cipher_suite: Option<rtcwire_dtls::CipherSuite>,
    dtls_failed: bool,
    sctp: Option<Association>,
    channels: Option<DataChannels>,
    /// Boxed: a map node has room for 11 values, and a session has a channel or two.
    entries: BTreeMap<ChannelId, Box<ChannelEntry>>,
    by_stream: BTreeMap<u16, ChannelId>,
    next_channel: u32,
    signaling: SignalingState,
    /// We made the offer of the current exchange.
    offerer: Option<bool>,
    remote: Option<RemoteParams>,
    /// The remote description before the pending remote offer (for rollback).
    prev_remote: Option<Box<RemoteParams>>,
    prev_remote_description: Option<SessionDescription>,
    prev_local_description: Option<SessionDescription>,
    prev_offerer: Option<bool>,
    /// The certificate fingerprints the DTLS association was set up with.
    remote_fingerprints: Vec<Fingerprint>,
    /// `restart_ice` was called: the next offer restarts ICE.
    ice_restart_pending: bool,
    /// `negotiationneeded` was sent for the first data channel.
    negotiation_needed_sent: bool,
    local_setup: Option<Setup>,
    /// Host candidates the driver gave: UDP (`None`) or TCP with its `tcptype`; given again
    /// to a new agent after a role change.
    local_hosts: Vec<(SocketAddr, Option<rtcwire_ice::TcpType>)>,
    /// Remote `.local` names announced with [`Event::ResolveHostname`] (at most 16).
    hostnames_asked: Vec<String>,
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
    /// Most datagrams [`poll_output`](Self::poll_output) batches into one transmit for
    /// segmentation offload (1: no batching); see
    /// [`set_transmit_batching`](Self::set_transmit_batching).
    batch_segments: usize,
    /// A sealed SCTP datagram longer than the batch it came after: it goes first next time.
    held_datagram: Vec<u8>,
    /// DTLS datagrams that came on a valid pair before DTLS started (a ClientHello racing
    /// the answer): read once it starts (see `transport.rs`).
    early_dtls: Vec<Vec<u8>>,
    record: Vec<u8>,
    closed: bool,
    stats: Stats,
    /// The m-lines of the session, in order.
    slots: Vec<Slot>,
    /// The m-lines and transceiver count before a pending remote offer (for rollback).
    prev_slots: Option<(Vec<Slot>, usize)>,
    media: media::MediaState,
    media_rng: Box<dyn Rng + Send>,
    /// When a DTLS or media datagram last went in or out (see `idle.rs`).
    traffic_at: Instant,
    /// The buffers were given back since then.
    trimmed: bool,
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
        let ice = Agent::new(ice_config, rng_for(config.seed, "ice"))?;
        let mut sdp_rng = rng_for(config.seed, "sdp");
        // RFC 8866: the session id fits in 63 bits.
        let session_id = sdp_rng.next_u64().map_err(|_| Error::RandomSource)? >> 1;
        Ok(PeerConnection {
            seed: config.seed,
            now,
            ice,
            certificate,
            local_fingerprint,
            dtls_mtu: config.dtls_mtu,
            srtp_profiles: config.srtp_profiles.clone(),
            sctp_config: config.sctp,
            dtls: None,
            dtls_config: None,
            dtls_role: None,
            dtls_connected: false,
            ice_has_pair: false,
            direct_path: None,
            cipher_suite: None,
            dtls_failed: false,
            sctp: None,
            channels: None,
            entries: BTreeMap::new(),
            by_stream: BTreeMap::new(),
            next_channel: 0,
            signaling: SignalingState::Stable,
            offerer: None,
            remote: None,
            prev_remote: None,
            prev_remote_description: None,
            prev_local_description: None,
            prev_offerer: None,
            remote_fingerprints: Vec::new(),
            ice_restart_pending: false,
            negotiation_needed_sent: false,
            local_setup: None,
            local_hosts: Vec::new(),
            hostnames_asked: Vec::new(),
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
            sctp_packet: Vec::new(),
            batch_segments: 1,
            held_datagram: Vec::new(),
            early_dtls: Vec::new(),
            record: Vec::new(),
            closed: false,
            stats: Stats::default(),
            slots: Vec::new(),
            prev_slots: None,
            media: media::MediaState {
                transport_cc: config.transport_cc,
                wall_clock: config.wall_clock.map(|unix| (now, unix)),
                ..media::MediaState::default()
            },
            media_rng: rng_for(config.seed, "media"),
            traffic_at: now,
            trimmed: false,
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
        Output::Timeout(
            self.next_timeout()
                .unwrap_or_else(|| now.checked_add(IDLE).unwrap_or(now)),
        )
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
            if matches!(
                e,
                Error::Srtp(_)
                    | Error::Rtp(_)
                    | Error::UnroutablePacket(_)
                    | Error::UnknownPayloadType(_)
            ) {
                self.stats.refused_media += 1;
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
            // Checks may come before the answer does (trickle): ICE answers them and
            // keeps what it learned for when the credentials arrive.
            PacketKind::Stun | PacketKind::ChannelData => {}
            PacketKind::Dtls => {}
            PacketKind::Rtp | PacketKind::Rtcp if self.media.srtp_keys.is_some() => {}
            other => return Err(Error::UnhandledPacket(other)),
        }
        match self.ice.handle_datagram(now, d)? {
            Received::Stun => Ok(()),
            Received::Data { contents, .. } => {
                // Traffic (`note_traffic`, by field: `contents` may borrow the agent).
                self.traffic_at = now;
                self.trimmed = false;
                let kind = classify(contents);
                if matches!(kind, PacketKind::Rtp | PacketKind::Rtcp) {
                    return self.receive_srtp(now, contents, kind == PacketKind::Rtcp);
                }
                if kind != PacketKind::Dtls {
                    return Err(Error::UnhandledPacket(kind));
                }
                let Some(dtls) = self.dtls.as_mut() else {
                    return transport::keep_early_dtls(&mut self.early_dtls, contents);
                };
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
        self.media_timeout(now);
        self.dtls_work(now);
        self.pump(now);
        self.trim_if_idle(now);
    }

    fn next_timeout(&self) -> Option<Instant> {
        if self.closed {
            return None;
        }
        [
            self.dtls_work_due().then_some(self.now),
            self.ice.poll_timeout(),
            self.dtls.as_ref().and_then(SansIo::poll_timeout),
            self.sctp.as_ref().and_then(SansIo::poll_timeout),
            self.media_next_timeout(),
            self.trim_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn remote_closed(&mut self, now: Instant) {
        self.close_all_channels();
        if let Some(s) = self.sctp.as_mut() {
            s.abort();
        }
        self.ice.close(now);
        self.closed = true;
        if self.ice_state != IceConnectionState::Closed {
            self.ice_state = IceConnectionState::Closed;
            self.events
                .push_back(Event::IceConnectionStateChange(IceConnectionState::Closed));
        }
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

    // ----- closing ----------------------------------------------------------------------

    /// `close()`: every channel closed by resetting its stream (RFC 8831 §6.7: one SCTP
    /// RE-CONFIG request for all of them, so the peer sees them close), then DTLS
    /// close_notify, ICE closed; the last datagrams are still handed out by
    /// `poll_output`, then nothing. Without channels, or with a peer that cannot reset
    /// streams, SCTP ABORT tells the peer instead.
    pub fn close(&mut self) {
        if self.closed {
            return;
        }
        let now = self.now;
        self.early_dtls = Vec::new();
        let streams: Vec<u16> = self.entries.values().filter_map(|e| e.stream).collect();
        self.close_all_channels();
        if let Some(s) = self.sctp.as_mut() {
            if streams.is_empty() || s.reset_streams(now, &streams).is_err() {
                s.abort();
            }
        }
        if self.ice_has_pair {
            self.seal_sctp(now);
            self.say_bye();
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

    /// Part of `close()`: an RTCP BYE for every stream we sent on (RFC 3550 §6.6), so
    /// the peer ends those tracks at once instead of waiting for a timeout; media still
    /// queued is dropped. The BYEs go out before DTLS's close_notify.
    fn say_bye(&mut self) {
        self.media.out.clear();
        for index in 0..self.media.transceivers.len() {
            self.send_bye(index);
        }
        let mut out = Vec::new();
        while let Some(t) = self.transmit_media(&mut out) {
            self.last_words.push_back((t, std::mem::take(&mut out)));
        }
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
