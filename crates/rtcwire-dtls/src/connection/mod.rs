//! The DTLS connection: record input, handshake dispatch, flights and timers, application
//! data, events.

mod client;
mod cookie;
mod data;
mod input;
mod server;
mod session;
mod tls13;

use crate::alert::{Alert, AlertDescription, AlertLevel};
use crate::cert::Fingerprint;
use crate::config::Config;
use crate::crypto::rand::KeyRandom;
use crate::crypto::suite::CipherSuite;
use crate::flight::{self, Outgoing, RetransmitTimer};
use crate::handshake::reassembly::Reassembler;
use crate::handshake::Message;
use crate::record::{ContentType, RecordLayer};
use crate::Error;
use rtcwire_proto::{Datagram, DtlsRole, KeyingMaterial, Rng, SansIo, Transmit};
use session::Session;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// What the application should know.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// The handshake completed and the peer is authenticated by its fingerprint.
    Connected {
        /// SRTP keying material, when use_srtp was negotiated.
        srtp: Option<KeyingMaterial>,
        /// SHA-256 fingerprint of the peer's certificate.
        peer_fingerprint: Fingerprint,
        /// The negotiated cipher suite.
        cipher_suite: CipherSuite,
    },
    /// Application data from the peer (one record).
    ApplicationData(Vec<u8>),
    /// The peer sent close_notify, or we closed.
    Closed,
    /// The handshake or connection failed; the connection is closed.
    Error(Error),
}

/// Counters for what was dropped or repeated. Dropped records are never errors.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Records that failed to parse or authenticate.
    pub bad_records: u64,
    /// Records refused by the replay window.
    pub replayed_records: u64,
    /// Records for an epoch we have no keys for.
    pub unknown_epoch_records: u64,
    /// Handshake fragments that were inconsistent or out of window.
    pub dropped_fragments: u64,
    /// Flights retransmitted on timer expiry.
    pub timeout_retransmissions: u64,
    /// Flights retransmitted because the peer repeated its previous flight.
    pub triggered_retransmissions: u64,
    /// Datagrams refused whole by [`SansIo::handle_read`] (nothing readable, or closed).
    pub refused_datagrams: u64,
    /// Protected records dropped for their connection id (RFC 9146, RFC 9147 §9): not ours,
    /// or missing although ids were negotiated.
    pub wrong_cid_records: u64,
    /// Handshake records sent again (on the timer, or because the peer repeated its
    /// flight): with DTLS 1.3 partial ACKs only the records the peer did not acknowledge.
    pub retransmitted_records: u64,
    /// Bytes of the datagrams those re-sent records went out in.
    pub retransmitted_bytes: u64,
}

/// Whether the connection is still shaking hands, connected or done.
#[derive(Debug)]
// One per connection, moved once per handshake message: boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
enum State {
    Client(client::ClientState),
    Server(server::ServerState),
    /// DTLS 1.3, from the hellos on (handshake and connected).
    V13(Box<tls13::Engine>),
    Connected,
    Closed,
}

/// Everything but the handshake state, so state handlers can take the state by value and
/// borrow the rest.
pub(crate) struct Core {
    pub(crate) config: Arc<Config>,
    pub(crate) role: DtlsRole,
    rng: Box<dyn Rng + Send>,
    records: RecordLayer,
    reassembly: Reassembler,
    /// Our last flight, for retransmission.
    flight: Vec<Outgoing>,
    /// Next outgoing handshake message_seq.
    send_seq: u16,
    timer: RetransmitTimer,
    handshake_deadline: Option<Instant>,
    /// Sealed datagrams waiting for [`SansIo::poll_transmit`].
    out: VecDeque<Vec<u8>>,
    events: VecDeque<Event>,
    stats: Stats,
    scratch: Vec<u8>,
    /// Buffers handed back with [`Connection::recycle`], reused for records (bounded).
    spare: Vec<Vec<u8>>,
    /// Epoch-1 records that arrived before we could read them (bounded).
    early: Vec<Vec<u8>>,
    /// Sequence number of the last epoch-0 record read (a stateless server echoes it).
    last_read_seq: u64,
    /// First message_seq of the peer's last flight: seeing it again means our flight was lost.
    peer_flight_start: Option<u16>,
    remote: Option<SocketAddr>,
    /// When a repeated peer flight last made us resend ours (rate limit).
    last_triggered: Option<Instant>,
    /// DTLS 1.2's keys once connected (boxed: a 1.3 connection never has one).
    session: Option<Box<Session>>,
    /// HelloVerifyRequest cookie key, drawn once per connection (servers only).
    cookie_key: Option<ring::hmac::Key>,
    /// Records opened or buffered, to tell a refused datagram from an accepted one.
    accepted: u64,
    /// The one closing event (`Closed` or `Error`) has been queued.
    ended: bool,
    /// The connection ids both sides agreed on, once the hellos are exchanged.
    connection_ids: Option<ConnectionIds>,
    /// DTLS 1.3: when to acknowledge a partly received flight (RFC 9147 §7.1).
    ack_deadline: Option<Instant>,
}

/// Connection ids in use (RFC 9146 for DTLS 1.2, RFC 9147 §9 for DTLS 1.3), see
/// [`ConfigBuilder::connection_id`](crate::ConfigBuilder::connection_id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionIds {
    /// Ours: the id the peer puts in the records it sends us (empty: none). A server that
    /// demultiplexes by id routes datagrams carrying it to this connection.
    pub local: Vec<u8>,
    /// The peer's: the id we put in the records we send (empty: none).
    pub remote: Vec<u8>,
}

const MAX_EARLY: usize = 8;
/// Recycled buffers kept for reuse.
const MAX_SPARE: usize = 4;
/// Recycled buffers larger than this are dropped rather than kept.
const MAX_SPARE_CAPACITY: usize = 2 * MAX_PLAINTEXT;
/// Largest application data record we send (RFC 5246 §6.2.1).
pub const MAX_PLAINTEXT: usize = 1 << 14;

impl Core {
    /// Fills `dest` from the injected source; a failing source stops the handshake.
    pub(crate) fn random(&mut self, dest: &mut [u8]) -> Result<(), Error> {
        self.rng.fill(dest).map_err(|_| Error::RandomSourceFailed)
    }

    /// The random source for ring key generation and signatures.
    pub(crate) fn key_random(&mut self) -> KeyRandom<'_> {
        if self.config.deterministic_keys {
            KeyRandom::Seeded(&mut *self.rng)
        } else {
            KeyRandom::System
        }
    }

    /// Queues a handshake message in our next flight and returns its message_seq.
    pub(crate) fn push(&mut self, epoch: u16, msg: &Message) -> u16 {
        let seq = self.send_seq;
        self.send_seq = self.send_seq.wrapping_add(1);
        let mut body = Vec::new();
        msg.emit_body(&mut body);
        self.flight.push(Outgoing::Handshake {
            epoch,
            msg_type: msg.kind().code(),
            seq,
            body,
        });
        seq
    }

    pub(crate) fn push_ccs(&mut self) {
        self.flight.push(Outgoing::ChangeCipherSpec);
    }

    pub(crate) fn new_flight(&mut self) {
        self.flight.clear();
    }

    pub(crate) fn set_send_seq(&mut self, seq: u16) {
        self.send_seq = seq;
    }

    /// Sends the current flight; with `arm`, starts its retransmission timer.
    pub(crate) fn send_flight(&mut self, now: Instant, arm: bool) -> Result<(), Error> {
        self.transmit_flight()?;
        if arm {
            self.timer.start(now);
        } else {
            self.timer.stop();
        }
        Ok(())
    }

    fn transmit_flight(&mut self) -> Result<(), Error> {
        let datagrams = flight::emit(&self.flight, self.config.mtu, &mut self.records)?;
        for d in datagrams {
            self.queue(d);
        }
        Ok(())
    }

    /// Sends the whole flight again (DTLS 1.2), counted in the stats.
    fn retransmit_flight(&mut self) -> Result<(), Error> {
        let mut pieces = Vec::new();
        let datagrams = flight::emit_pieces(
            &self.flight,
            None,
            self.config.mtu,
            &mut self.records,
            &mut pieces,
        )?;
        self.stats.retransmitted_records += pieces.len() as u64;
        for d in datagrams {
            self.stats.retransmitted_bytes += d.len() as u64;
            self.queue(d);
        }
        Ok(())
    }

    fn queue(&mut self, contents: Vec<u8>) {
        self.out.push_back(contents);
    }

    /// A buffer for one outgoing record: recycled when one is spare.
    fn buffer(&mut self) -> Vec<u8> {
        let mut d = self.spare.pop().unwrap_or_default();
        d.clear();
        d
    }

    /// Queues the closing event, once: a connection reports its end exactly one time.
    fn end(&mut self, e: Event) {
        if !self.ended {
            self.ended = true;
            self.events.push_back(e);
        }
    }

    fn keep_spare(&mut self, mut buf: Vec<u8>) {
        if self.spare.len() < MAX_SPARE
            && buf.capacity() > 0
            && buf.capacity() <= MAX_SPARE_CAPACITY
        {
            buf.clear();
            self.spare.push(buf);
        }
    }

    pub(crate) fn records(&mut self) -> &mut RecordLayer {
        &mut self.records
    }

    pub(crate) fn reassembly(&mut self) -> &mut Reassembler {
        &mut self.reassembly
    }

    pub(crate) fn set_peer_flight_start(&mut self, seq: u16) {
        self.peer_flight_start = Some(seq);
    }

    /// The handshake completed: keep the session, tell the application.
    pub(crate) fn connected(&mut self, hs: session::Keyed) -> Result<(), Error> {
        let s = hs.into_session()?;
        tracing::debug!(role = ?self.role, suite = %s.suite, srtp = ?s.srtp, "dtls connected");
        self.events.push_back(Event::Connected {
            srtp: s.srtp.clone(),
            peer_fingerprint: s.peer_fingerprint.clone(),
            cipher_suite: s.suite,
        });
        self.session = Some(Box::new(s));
        self.handshake_deadline = None;
        Ok(())
    }

    /// The hellos agreed on connection ids (`peer`: the id the peer asked for): the record
    /// layer puts and expects them from the first protected epoch on.
    pub(crate) fn use_connection_ids(&mut self, peer: &[u8]) {
        let local = self.config.connection_id.clone().unwrap_or_default();
        self.records.set_connection_ids(&local, peer);
        self.connection_ids = Some(ConnectionIds {
            local,
            remote: peer.to_vec(),
        });
    }

    pub(crate) fn stop_timer(&mut self) {
        self.timer.stop();
    }

    pub(crate) fn last_read_seq(&self) -> u64 {
        self.last_read_seq
    }

    pub(crate) fn remote(&self) -> Option<SocketAddr> {
        self.remote
    }

    pub(crate) fn cookie_key(&self) -> Option<&ring::hmac::Key> {
        self.cookie_key.as_ref()
    }

    fn send_alert(&mut self, level: AlertLevel, description: AlertDescription) {
        let epoch = self.records.write_epoch();
        let mut d = Vec::new();
        let body = Alert { level, description }.to_bytes();
        if self
            .records
            .seal(epoch, ContentType::Alert, &body, &mut d)
            .is_ok()
        {
            self.queue(d);
        }
    }
}

/// A DTLS 1.3 or 1.2 client or server: one association with one peer.
///
/// See the [crate documentation](crate) for the run loop.
pub struct Connection {
    core: Core,
    state: State,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("role", &self.core.role)
            .field("state", &self.state)
            .field("stats", &self.core.stats)
            .finish_non_exhaustive()
    }
}

impl Connection {
    fn core(config: Arc<Config>, role: DtlsRole, rng: Box<dyn Rng + Send>) -> Core {
        Core {
            timer: RetransmitTimer::new(config.initial_rto),
            config,
            role,
            rng,
            records: RecordLayer::new(),
            reassembly: Reassembler::new(),
            flight: Vec::new(),
            send_seq: 0,
            handshake_deadline: None,
            out: VecDeque::new(),
            events: VecDeque::new(),
            stats: Stats::default(),
            scratch: Vec::new(),
            spare: Vec::new(),
            early: Vec::new(),
            last_read_seq: 0,
            peer_flight_start: None,
            remote: None,
            last_triggered: None,
            session: None,
            cookie_key: None,
            accepted: 0,
            ended: false,
            connection_ids: None,
            ack_deadline: None,
        }
    }

    /// A client; its first ClientHello is queued at once (drain [`SansIo::poll_transmit`]).
    pub fn client(config: Arc<Config>, rng: Box<dyn Rng + Send>, now: Instant) -> Connection {
        let mut core = Self::core(config, DtlsRole::Client, rng);
        core.handshake_deadline = Some(now + core.config.handshake_timeout);
        let state = match client::start(&mut core, now) {
            Ok(s) => State::Client(s),
            Err(e) => {
                core.end(Event::Error(e));
                State::Closed
            }
        };
        Connection { core, state }
    }

    /// A server, waiting for a ClientHello. If the random source fails while drawing the
    /// cookie key, the connection starts closed with [`Event::Error`] queued.
    pub fn server(config: Arc<Config>, rng: Box<dyn Rng + Send>) -> Connection {
        let mut core = Self::core(config, DtlsRole::Server, rng);
        core.reassembly.expect_client_hello();
        let mut secret = [0u8; 32];
        let state = match core.random(&mut secret) {
            Ok(()) => {
                core.cookie_key = Some(ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &secret));
                State::Server(server::ServerState::start())
            }
            Err(e) => {
                core.end(Event::Error(e));
                State::Closed
            }
        };
        Connection { core, state }
    }

    /// Whether the handshake has completed and the connection is open.
    #[must_use]
    pub fn is_connected(&self) -> bool {
        match &self.state {
            State::Connected => true,
            State::V13(e) => e.is_connected(),
            _ => false,
        }
    }

    /// The protocol version in use once the hellos are exchanged: `Some(DTLS_1_3)` (0xfefc)
    /// or `Some(DTLS_1_2)` (0xfefd); `None` before.
    #[must_use]
    pub fn protocol_version(&self) -> Option<u16> {
        match &self.state {
            State::V13(_) => Some(0xfefc),
            State::Connected => Some(0xfefd),
            State::Client(client::ClientState::ExpectServerHello { .. }) => None,
            State::Client(_) => Some(0xfefd),
            State::Server(server::ServerState::ExpectClientHello) => None,
            State::Server(_) => Some(0xfefd),
            State::Closed => None,
        }
    }

    /// The key-exchange group of a DTLS 1.3 connection (X25519MLKEM768, X25519, ...).
    #[must_use]
    pub fn dtls13_group(&self) -> Option<crate::NamedGroup> {
        match &self.state {
            State::V13(e) => Some(e.group()),
            _ => None,
        }
    }

    /// The negotiated cipher suite once the hellos are exchanged (DTLS 1.3) or connected.
    #[must_use]
    pub fn cipher_suite(&self) -> Option<CipherSuite> {
        match &self.state {
            State::V13(e) => Some(e.suite()),
            _ => self.core.session.as_ref().map(|s| s.suite),
        }
    }

    /// DTLS 1.3 only: sends a KeyUpdate (RFC 9147 §8), asking the peer to update its keys
    /// too when `request_peer`. Our new keys are used once the peer acknowledges it.
    pub fn key_update(&mut self, now: Instant, request_peer: bool) -> Result<(), Error> {
        match &mut self.state {
            State::V13(e) => e.key_update(&mut self.core, now, request_peer),
            State::Closed => Err(Error::Closed),
            _ => Err(Error::NotConnected),
        }
    }

    /// The connection ids in use, once the hellos negotiated them (`None`: not negotiated,
    /// because one side did not ask; see
    /// [`ConfigBuilder::connection_id`](crate::ConfigBuilder::connection_id)).
    #[must_use]
    pub fn connection_ids(&self) -> Option<&ConnectionIds> {
        self.core.connection_ids.as_ref()
    }

    /// Whether the connection is closed (after close, close_notify, or a fatal error).
    #[must_use]
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    /// Drop and retransmission counters.
    #[must_use]
    pub fn stats(&self) -> Stats {
        self.core.stats
    }

    /// The peer's DER certificate, once connected.
    #[must_use]
    pub fn peer_certificate(&self) -> Option<&[u8]> {
        if let State::V13(e) = &self.state {
            return e.peer_certificate();
        }
        self.core
            .session
            .as_ref()
            .map(|s| s.peer_certificate.as_slice())
    }

    /// Whether the extended master secret (RFC 7627) is in use, once connected.
    #[must_use]
    pub fn extended_master_secret(&self) -> Option<bool> {
        self.core.session.as_ref().map(|s| s.ems)
    }

    /// Exports keying material (RFC 5705, no context) once connected.
    #[must_use]
    pub fn export_keying_material(&self, label: &[u8], len: usize) -> Option<Vec<u8>> {
        if let State::V13(e) = &self.state {
            let mut out = vec![0u8; len];
            return e.export(label, &[], &mut out).ok().map(|()| out);
        }
        let s = self.core.session.as_ref()?;
        let mut out = vec![0u8; len];
        s.export(label, &mut out);
        Some(out)
    }

    /// Sends close_notify and closes the connection.
    pub fn close(&mut self) {
        if matches!(self.state, State::Closed) {
            return;
        }
        if let State::V13(e) = &mut self.state {
            e.send_alert(
                &mut self.core,
                AlertLevel::Warning,
                AlertDescription::CloseNotify,
            );
        } else {
            self.core
                .send_alert(AlertLevel::Warning, AlertDescription::CloseNotify);
        }
        self.state = State::Closed;
        self.core.timer.stop();
        self.core.end(Event::Closed);
    }
}

impl SansIo for Connection {
    type Event = Event;
    type Error = Error;

    /// Feeds one datagram. Follows the crate-wide error rule: `Err` means the datagram was
    /// refused and counted in [`Connection::stats`] (nothing in it could be read, or the
    /// connection is closed) and nothing else changed. A handshake or connection failure is
    /// never an `Err` here: it is reported once, as [`Event::Error`], and the connection is
    /// closed.
    fn handle_read(&mut self, now: Instant, datagram: Datagram<'_>) -> Result<(), Error> {
        if matches!(self.state, State::Closed) {
            self.core.stats.refused_datagrams += 1;
            return Err(Error::Closed);
        }
        if self.core.remote.is_none() {
            self.core.remote = datagram.source;
        }
        let accepted = self.core.accepted;
        self.handle_datagram(now, datagram.contents);
        if self.core.accepted == accepted {
            self.core.stats.refused_datagrams += 1;
            return Err(Error::DatagramRefused);
        }
        Ok(())
    }

    /// Appends the next datagram to `buf`. When `buf` is empty the connection trades
    /// buffers with the caller instead of copying (the caller's empty buffer becomes a
    /// spare for a later record), so a driver that lends one buffer and clears it after
    /// each send neither copies nor allocates.
    fn poll_transmit(&mut self, _now: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
        let mut d = self.core.out.pop_front()?;
        let size = d.len();
        if buf.is_empty() {
            std::mem::swap(buf, &mut d);
        } else {
            buf.extend_from_slice(&d);
        }
        self.core.keep_spare(d);
        Some(Transmit::on_path(size))
    }

    fn poll_event(&mut self) -> Option<Event> {
        self.core.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        if matches!(self.state, State::Closed) {
            return None;
        }
        [
            self.core.timer.deadline(),
            self.core.handshake_deadline,
            self.core.ack_deadline,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn handle_timeout(&mut self, now: Instant) {
        if matches!(self.state, State::Closed) {
            return;
        }
        if self.core.handshake_deadline.is_some_and(|d| d <= now) && !self.is_connected() {
            self.fail(Error::HandshakeTimeout);
            return;
        }
        if self.core.ack_deadline.is_some_and(|d| d <= now) {
            match &mut self.state {
                State::V13(e) => e.on_ack_timer(&mut self.core, now),
                _ => self.core.ack_deadline = None,
            }
        }
        if self.core.timer.deadline().is_some_and(|d| d <= now) {
            self.core.stats.timeout_retransmissions += 1;
            self.core.timer.backoff(now);
            let r = match &mut self.state {
                State::V13(e) => e.on_timer(&mut self.core),
                _ => self.core.retransmit_flight(),
            };
            if let Err(e) = r {
                self.fail(e);
            }
        }
    }
}
