//! The association: one SCTP association over a path that the layer below (DTLS) chose,
//! as a sans-IO core.

mod arena;
mod cc;
mod cookie;
mod handshake;
mod rack;
mod recv;
mod reset;
mod send;
mod tx;
mod types;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use ring::hmac;
use rtcwire_proto::{Datagram, Rng, SansIo, Transmit};

use crate::wire::{chunk_type, Chunk, GapBlock, Packet, StreamSsn};
use crate::Error;

pub use recv::Message;
pub use send::SendOptions;
pub use types::{AbortReason, Config, Event, State, Stats};

use recv::Receiver;
use reset::Reset;
use send::{SendQueue, Sent};

/// A pre-encoded reply chunk and the tag of the packet that must carry it.
struct Reply {
    vtag: u32,
    bytes: Vec<u8>,
}

/// Most replies queued (HEARTBEAT ACKs, INIT ACKs...): more are dropped, and the peer retries.
const MAX_REPLIES: usize = 16;
/// Most chunks looked at in one packet.
const MAX_CHUNKS_PER_PACKET: usize = 256;

/// An SCTP association (RFC 9260) for WebRTC: single-homed, datagrams from and to the
/// layer below (DTLS), time and randomness from the caller.
///
/// Create it with [`Association::new`]; the side that starts calls
/// [`connect`](Association::connect) (in WebRTC both may: the INIT collision is handled).
/// Then drive it as any [`SansIo`] core.
pub struct Association {
    config: Config,
    rng: Box<dyn Rng + Send>,
    cookie_key: hmac::Key,
    epoch: Instant,
    state: State,
    ended: bool,
    local_tag: u32,
    peer_tag: u32,
    local_initial_tsn: u32,

    // handshake
    init_chunk: Vec<u8>,
    cookie_echo: Vec<u8>,
    handshake_due: bool,
    handshake_retries: u32,
    handshake_rto: Duration,
    t1: Option<Instant>,

    // peer
    peer_forward_tsn: bool,
    peer_reconfig: bool,
    peer_zero_checksum: bool,
    use_idata: bool,
    peer_rwnd: usize,
    outbound_streams: u16,

    // sending
    queue: SendQueue,
    outstanding: VecDeque<Sent>,
    next_tsn: u64,
    cum_ack: u64,
    adv_ack: u64,
    flight: usize,
    cc: cc::Cc,
    rack: rack::Rack,
    fast_rtx_now: bool,
    forward_tsn_due: bool,
    has_pr: bool,
    t3: Option<Instant>,
    rto: Duration,
    srtt: Option<Duration>,
    rttvar: Duration,
    errors: u32,

    /// Where [`Association::send_slice`] copies messages.
    tx_arena: arena::Arena,
    /// When the arenas (this one and the receiver's) are given back if unused till then.
    arena_idle: Option<Instant>,

    // receiving
    rx: Option<Receiver>,
    sack_due: bool,
    sack_timer: Option<Instant>,
    unacked_packets: u32,

    // heartbeat
    hb_next: Option<Instant>,
    hb_pending: Option<(u64, Instant)>,
    hb_deadline: Option<Instant>,
    hb_due: bool,

    // shutdown
    t2: Option<Instant>,
    shutdown_due: bool,

    reset: Reset,
    replies: VecDeque<Reply>,
    events: VecDeque<Event>,
    stats: Stats,

    // scratch, reused per packet
    gaps: Vec<GapBlock>,
    dups: Vec<u32>,
    skipped: Vec<StreamSsn>,
    skipped_mid: Vec<crate::wire::StreamMid>,
}

impl std::fmt::Debug for Association {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Association")
            .field("state", &self.state)
            .field("ended", &self.ended)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl Association {
    /// A new association, listening for an INIT. `now` is the epoch its state cookies are
    /// timed from. Fails only if the random source fails.
    pub fn new(config: Config, mut rng: Box<dyn Rng + Send>, now: Instant) -> Result<Self, Error> {
        let mut key = [0u8; 32];
        rng.fill(&mut key).map_err(|_| Error::Rng)?;
        let cookie_key = hmac::Key::new(hmac::HMAC_SHA256, &key);
        let mtu = config.mtu;
        let rto = config.rto_initial;
        Ok(Association {
            queue: SendQueue::new(
                config.send_buffer,
                config.stream_send_buffer,
                config.total_buffered_amount_low,
            ),
            cc: cc::Cc::new(config.initial_cwnd_mtus.max(1) * mtu, mtu, config.max_cwnd),
            rack: rack::Rack::default(),
            handshake_rto: rto,
            outbound_streams: config.streams,
            config,
            rng,
            cookie_key,
            epoch: now,
            state: State::Closed,
            ended: false,
            local_tag: 0,
            peer_tag: 0,
            local_initial_tsn: 0,
            init_chunk: Vec::new(),
            cookie_echo: Vec::new(),
            handshake_due: false,
            handshake_retries: 0,
            t1: None,
            peer_forward_tsn: false,
            peer_reconfig: false,
            peer_zero_checksum: false,
            use_idata: false,
            peer_rwnd: 0,
            outstanding: VecDeque::new(),
            next_tsn: 0,
            cum_ack: 0,
            adv_ack: 0,
            flight: 0,
            fast_rtx_now: false,
            forward_tsn_due: false,
            has_pr: false,
            t3: None,
            rto,
            srtt: None,
            rttvar: Duration::ZERO,
            errors: 0,
            tx_arena: arena::Arena::default(),
            arena_idle: None,
            rx: None,
            sack_due: false,
            sack_timer: None,
            unacked_packets: 0,
            hb_next: None,
            hb_pending: None,
            hb_deadline: None,
            hb_due: false,
            t2: None,
            shutdown_due: false,
            reset: Reset::default(),
            replies: VecDeque::new(),
            events: VecDeque::new(),
            stats: Stats::default(),
            gaps: Vec::new(),
            dups: Vec::new(),
            skipped: Vec::new(),
            skipped_mid: Vec::new(),
        })
    }

    /// The state.
    #[must_use]
    pub fn state(&self) -> State {
        self.state
    }

    /// Whether the association has ended (gracefully or not): it takes no more input.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.ended
    }

    /// Whether messages can be sent.
    #[must_use]
    pub fn is_established(&self) -> bool {
        self.state == State::Established
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Sets the largest message we send (the peer's SDP `a=max-message-size`; 0 there means
    /// no limit, pass `usize::MAX`).
    pub fn set_remote_max_message_size(&mut self, size: usize) {
        self.config.remote_max_message_size = size;
    }

    /// Counters and current values.
    #[must_use]
    pub fn stats(&self) -> Stats {
        Stats {
            cwnd: self.cc.cwnd,
            ssthresh: self.cc.ssthresh,
            random_loss_episodes: self.cc.random_loss_episodes,
            congestion_episodes: self.cc.congestion_episodes,
            peer_rwnd: self.peer_rwnd,
            rwnd: self.rx.as_ref().map_or(0, |r| r.a_rwnd() as usize),
            flight: self.flight,
            srtt: self.srtt,
            rto: self.rto,
            abandoned_messages: self.stats.abandoned_messages + self.queue.abandoned_unsent,
            buffer_blocks: self.tx_arena.blocks_allocated
                + self.rx.as_ref().map_or(0, |r| r.arena.blocks_allocated),
            ..self.stats
        }
    }

    /// Whether packets to the peer go without a checksum (it announced RFC 9653 with the
    /// DTLS method).
    #[must_use]
    pub fn sends_zero_checksum(&self) -> bool {
        self.peer_zero_checksum
    }

    /// Whether I-DATA (RFC 8260 interleaving) is in use: both sides offered it.
    #[must_use]
    pub fn uses_interleaving(&self) -> bool {
        self.use_idata
    }

    /// Whether the peer supports PR-SCTP (FORWARD TSN).
    #[must_use]
    pub fn peer_supports_partial_reliability(&self) -> bool {
        self.peer_forward_tsn
    }

    /// Starts a graceful shutdown: what is queued is sent, then SHUTDOWN.
    pub fn shutdown(&mut self, now: Instant) {
        match self.state {
            State::Established => {
                self.state = State::ShutdownPending;
                self.progress_shutdown(now);
            }
            State::Closed | State::CookieWait | State::CookieEchoed if !self.ended => {
                self.end(None);
                self.events.push_back(Event::Closed);
            }
            _ => {}
        }
    }

    /// Aborts: sends ABORT (if there is a peer) and closes at once. Reports
    /// [`Event::Aborted`]`(Local)`.
    pub fn abort(&mut self) {
        if self.ended {
            return;
        }
        if self.peer_tag != 0 {
            let mut b = Vec::with_capacity(8);
            let cause = crate::wire::abort_cause(crate::wire::cause::USER_ABORT);
            crate::wire::Abort {
                tag_reflected: false,
                causes: &cause,
            }
            .emit(&mut b);
            self.replies.push_back(Reply {
                vtag: self.peer_tag,
                bytes: b,
            });
        }
        self.end(Some(AbortReason::Local));
    }

    /// Ends the association; a reason makes it an [`Event::Aborted`].
    fn end(&mut self, reason: Option<AbortReason>) {
        if self.ended {
            return;
        }
        self.ended = true;
        self.state = State::Closed;
        self.t1 = None;
        self.t2 = None;
        self.t3 = None;
        self.sack_timer = None;
        self.hb_next = None;
        self.hb_deadline = None;
        self.reset.timer = None;
        self.rack.timer = None;
        self.rack.tlp = None;
        self.sack_due = false;
        self.handshake_due = false;
        self.release_arenas();
        if let Some(r) = reason {
            self.events.push_back(Event::Aborted(r));
        }
    }

    /// Gives the message buffers back (what the application or the send queue still
    /// references stays alive until dropped).
    fn release_arenas(&mut self) {
        self.tx_arena.release();
        if let Some(rx) = self.rx.as_mut() {
            rx.release_arena();
        }
        self.arena_idle = None;
    }

    fn has_tcb(&self) -> bool {
        !matches!(self.state, State::Closed | State::CookieWait)
    }

    fn push_reply(&mut self, vtag: u32, bytes: Vec<u8>) {
        if self.replies.len() < MAX_REPLIES {
            self.replies.push_back(Reply { vtag, bytes });
        }
    }

    fn now_ms(&self, now: Instant) -> u64 {
        u64::try_from(now.saturating_duration_since(self.epoch).as_millis()).unwrap_or(u64::MAX)
    }

    /// Validates a whole packet before anything changes: checksum, ports, every chunk
    /// parses, the verification tag rules of RFC 9260 §8.5.
    fn check_packet(&self, p: &Packet<'_>) -> Result<(), Error> {
        if p.header.destination_port != self.config.local_port
            || p.header.source_port != self.config.remote_port
        {
            return Err(Error::WrongPort);
        }
        let mut first = None;
        let mut count = 0usize;
        for raw in p.chunks() {
            let raw = raw?;
            let chunk = Chunk::parse(&raw)?;
            count += 1;
            if count > MAX_CHUNKS_PER_PACKET {
                return Err(Error::TooMany { what: "chunks" });
            }
            if first.is_none() {
                first = Some((raw.typ, raw.flags));
                if let Chunk::Init(i) = chunk {
                    if i.initiate_tag == 0 || i.outbound_streams == 0 || i.inbound_streams == 0 {
                        return Err(Error::BadLength {
                            what: "INIT field",
                            length: 0,
                        });
                    }
                }
            }
        }
        let vtag = p.header.verification_tag;
        match first {
            None => Ok(()),
            Some((chunk_type::INIT, _)) => {
                if count != 1 {
                    return Err(Error::UnexpectedChunk(chunk_type::INIT));
                }
                if vtag != 0 {
                    return Err(Error::WrongVerificationTag);
                }
                Ok(())
            }
            // Checked against the cookie's content.
            Some((chunk_type::COOKIE_ECHO, _)) => Ok(()),
            Some((chunk_type::ABORT | chunk_type::SHUTDOWN_COMPLETE, flags)) if flags & 1 != 0 => {
                if self.peer_tag == 0 || vtag != self.peer_tag {
                    return Err(Error::WrongVerificationTag);
                }
                Ok(())
            }
            Some((chunk_type::ABORT, _)) => {
                if self.local_tag == 0 || vtag != self.local_tag {
                    return Err(Error::WrongVerificationTag);
                }
                Ok(())
            }
            Some((chunk_type::INIT_ACK, _)) => {
                if self.state != State::CookieWait || vtag != self.local_tag {
                    return Err(Error::WrongVerificationTag);
                }
                Ok(())
            }
            Some(_) => {
                if !self.has_tcb() || vtag != self.local_tag {
                    return Err(Error::WrongVerificationTag);
                }
                Ok(())
            }
        }
    }

    fn on_chunk(&mut self, now: Instant, vtag: u32, chunk: Chunk<'_>, data_seen: &mut DataSeen) {
        match chunk {
            Chunk::Init(i) => self.on_init(now, &i),
            Chunk::InitAck(i) => self.on_init_ack(now, &i.0),
            Chunk::CookieEcho(_) => {} // handled first, in handle_read
            Chunk::CookieAck(_) => self.on_cookie_ack(now),
            Chunk::Data(d) => self.on_data(&d, data_seen),
            Chunk::Sack(s) => self.on_sack(now, &s),
            Chunk::Heartbeat(h) => {
                if h.info.len() <= 512 {
                    let mut b = Vec::with_capacity(h.info.len() + 8);
                    crate::wire::Heartbeat { info: h.info }.emit(&mut b, chunk_type::HEARTBEAT_ACK);
                    self.push_reply(self.peer_tag, b);
                }
            }
            Chunk::HeartbeatAck(h) => self.on_heartbeat_ack(now, h.0.info),
            Chunk::Abort(a) => self.end(Some(AbortReason::PeerAbort(a.first_cause()))),
            Chunk::Shutdown(s) => self.on_shutdown(now, s.cumulative_tsn_ack),
            Chunk::ShutdownAck(_) => self.on_shutdown_ack(),
            Chunk::ShutdownComplete(_) => {
                if self.state == State::ShutdownAckSent {
                    self.end(None);
                    self.events.push_back(Event::Closed);
                }
            }
            Chunk::Error(e) => {
                tracing::debug!(cause = ?e.first_cause(), "sctp: peer reported an error");
            }
            Chunk::ForwardTsn(f) => {
                if let Some(rx) = self.rx.as_mut() {
                    rx.forward(
                        f.new_cumulative_tsn,
                        f.streams.iter().map(|s| (s.stream, s.ssn)),
                    );
                    self.sack_due = true;
                    self.collect_messages();
                }
            }
            Chunk::ReConfig(r) => self.on_reconfig(now, &r),
            Chunk::IData(d) => self.on_idata(&d, data_seen),
            Chunk::IForwardTsn(f) => {
                if let (true, Some(rx)) = (self.use_idata, self.rx.as_mut()) {
                    rx.iforward(f.new_cumulative_tsn, f.streams.iter());
                    self.sack_due = true;
                    self.collect_messages();
                }
            }
            Chunk::Unknown(_) => {}
        }
        let _ = vtag;
    }

    fn on_data(&mut self, d: &crate::wire::Data<'_>, seen: &mut DataSeen) {
        // DATA after I-DATA was negotiated is a protocol violation: ignored.
        if self.use_idata {
            return;
        }
        self.on_any_data(d.flags, seen, |rx| rx.accept(d));
    }

    fn on_idata(&mut self, d: &crate::wire::IData<'_>, seen: &mut DataSeen) {
        if !self.use_idata {
            return;
        }
        self.on_any_data(d.flags, seen, |rx| rx.accept_idata(d));
    }

    fn on_any_data(
        &mut self,
        flags: u8,
        seen: &mut DataSeen,
        accept: impl FnOnce(&mut Receiver) -> recv::Accept,
    ) {
        if !matches!(
            self.state,
            State::Established | State::ShutdownPending | State::ShutdownSent
        ) {
            return;
        }
        let Some(rx) = self.rx.as_mut() else { return };
        seen.any = true;
        if flags & crate::wire::data_flags::IMMEDIATE != 0 {
            seen.immediate = true;
        }
        match accept(rx) {
            recv::Accept::InOrder => {}
            recv::Accept::OutOfOrder | recv::Accept::Duplicate | recv::Accept::Dropped => {
                seen.immediate = true;
            }
            recv::Accept::TooLarge => {
                let cause = crate::wire::abort_cause(crate::wire::cause::OUT_OF_RESOURCE);
                let mut b = Vec::with_capacity(8);
                crate::wire::Abort {
                    tag_reflected: false,
                    causes: &cause,
                }
                .emit(&mut b);
                self.push_reply(self.peer_tag, b);
                self.end(Some(AbortReason::MessageTooLarge));
                return;
            }
        }
        if rx.has_gaps() {
            seen.immediate = true;
        }
        self.collect_messages();
    }

    /// Moves delivered messages into the event queue (the bytes stay counted against the
    /// receive window until the application takes them).
    fn collect_messages(&mut self) {
        let Some(rx) = self.rx.as_mut() else { return };
        while let Some(m) = rx.delivered.pop_front() {
            self.stats.messages_received += 1;
            self.events.push_back(Event::Message(m));
        }
    }

    fn on_heartbeat_ack(&mut self, now: Instant, info: &[u8]) {
        let Some((nonce, sent)) = self.hb_pending else {
            return;
        };
        if info.get(..8) == Some(&nonce.to_be_bytes()[..]) {
            self.hb_pending = None;
            self.hb_deadline = None;
            self.errors = 0;
            self.rtt_sample(now.saturating_duration_since(sent));
        }
    }

    fn rtt_sample(&mut self, r: Duration) {
        self.cc.on_rtt(r);
        // RFC 9260 §6.3.1 with alpha 1/8, beta 1/4.
        match self.srtt {
            None => {
                self.srtt = Some(r);
                self.rttvar = r / 2;
            }
            Some(s) => {
                let diff = s.abs_diff(r);
                self.rttvar = (self.rttvar.saturating_mul(3) / 4).saturating_add(diff / 4);
                self.srtt = Some((s.saturating_mul(7) / 8).saturating_add(r / 8));
            }
        }
        let srtt = self.srtt.unwrap_or(r);
        // max-then-min rather than clamp: a configuration with min > max must not panic.
        self.rto = srtt
            .saturating_add(self.rttvar.saturating_mul(4))
            .max(self.config.rto_min)
            .min(self.config.rto_max);
    }
}

/// `now + d` for timers, with `d` capped at a day so that no configuration can overflow
/// the clock (or make a timer fire at once instead).
pub(crate) fn later(now: Instant, d: Duration) -> Instant {
    let d = d.min(Duration::from_secs(86_400));
    now.checked_add(d).unwrap_or(now)
}

#[derive(Default)]
struct DataSeen {
    any: bool,
    immediate: bool,
}

impl SansIo for Association {
    type Event = Event;
    type Error = Error;

    fn handle_read(&mut self, now: Instant, d: Datagram<'_>) -> Result<(), Error> {
        if self.ended {
            // §8.4 (5): a SHUTDOWN ACK for an association that is gone (our SHUTDOWN
            // COMPLETE was lost) is answered with SHUTDOWN COMPLETE, T bit set, its tag
            // reflected; the peer would otherwise retransmit until it gives up.
            if let Ok(p) = Packet::parse_checked(d.contents) {
                let first = p.chunks().next().and_then(Result::ok);
                if first.is_some_and(|c| c.typ == chunk_type::SHUTDOWN_ACK)
                    && p.header.verification_tag == self.local_tag
                    && self.replies.len() < MAX_REPLIES
                {
                    let mut b = Vec::with_capacity(4);
                    crate::wire::ShutdownComplete {
                        tag_reflected: true,
                    }
                    .emit(&mut b);
                    self.replies.push_back(Reply {
                        vtag: p.header.verification_tag,
                        bytes: b,
                    });
                    return Ok(());
                }
            }
            self.stats.packets_refused += 1;
            return Err(Error::Closed);
        }
        // RFC 9653: once we announced it (in our INIT or in an INIT ACK), a zero checksum
        // field means "not computed"; an INIT must still carry a real one.
        let is_init = d.contents.get(crate::wire::HEADER_LEN) == Some(&chunk_type::INIT);
        let zero_ok = self.config.zero_checksum && !is_init;
        let packet = match Packet::parse(d.contents).and_then(|p| {
            if !(zero_ok && p.checksum == 0) {
                let actual = crate::wire::checksum(d.contents);
                if actual != p.checksum {
                    return Err(Error::BadChecksum {
                        expected: p.checksum,
                        actual,
                    });
                }
            }
            self.check_packet(&p)?;
            Ok(p)
        }) {
            Ok(p) => p,
            Err(e) => {
                self.stats.packets_refused += 1;
                return Err(e);
            }
        };
        let vtag = packet.header.verification_tag;
        let mut chunks = packet.chunks().flatten();
        let mut seen = DataSeen::default();
        // COOKIE ECHO comes first in its packet and is checked before anything changes.
        let mut first = chunks.next();
        if let Some(raw) = first.filter(|r| r.typ == chunk_type::COOKIE_ECHO) {
            if let Err(e) = self.on_cookie_echo(now, vtag, raw.value) {
                self.stats.packets_refused += 1;
                return Err(e);
            }
            first = None;
            if vtag != self.local_tag {
                self.stats.packets_received += 1;
                return Ok(());
            }
        }
        self.stats.packets_received += 1;
        for raw in first.into_iter().chain(chunks).take(MAX_CHUNKS_PER_PACKET) {
            if self.ended {
                break;
            }
            let Ok(chunk) = Chunk::parse(&raw) else { break };
            if let Chunk::Unknown(u) = chunk {
                // RFC 9260 §3.2: the top bit says whether to skip or stop.
                if u.typ & 0x80 == 0 {
                    break;
                }
                continue;
            }
            self.on_chunk(now, vtag, chunk, &mut seen);
        }
        if seen.any && !self.ended {
            if self.rx.as_ref().is_some_and(|r| r.arena.holds()) {
                self.arena_idle = Some(later(now, arena::IDLE));
            }
            self.unacked_packets += 1;
            if seen.immediate || self.unacked_packets >= 2 || self.state != State::Established {
                self.sack_due = true;
            } else if self.sack_timer.is_none() {
                let delay = self.config.delayed_ack.min(self.rto / 2);
                self.sack_timer = Some(later(now, delay));
            }
        }
        Ok(())
    }

    fn poll_transmit(&mut self, now: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
        self.write_packet(now, buf)
    }

    fn poll_event(&mut self) -> Option<Event> {
        let e = self.events.pop_front()?;
        if let (Event::Message(m), Some(rx)) = (&e, self.rx.as_mut()) {
            let before = rx.a_rwnd();
            rx.release(m.data.len());
            // Reopening a window the peer may be waiting on: tell it (RFC 9260 §6.2).
            if before < self.config.mtu as u32 && rx.a_rwnd() >= self.config.mtu as u32 {
                self.sack_due = true;
            }
        }
        Some(e)
    }

    fn poll_timeout(&self) -> Option<Instant> {
        if self.ended {
            return None;
        }
        [
            self.t1,
            self.t2,
            self.t3,
            self.sack_timer,
            self.hb_next,
            self.hb_deadline,
            self.reset.timer,
            self.rack.timer,
            self.rack.tlp,
            self.arena_idle,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn handle_timeout(&mut self, now: Instant) {
        if self.arena_idle.is_some_and(|t| t <= now) {
            self.release_arenas();
        }
        self.on_timeout(now);
    }
}
