//! Association setup (RFC 9260 §5): INIT, INIT ACK with a stateless signed cookie,
//! COOKIE ECHO, COOKIE ACK, the INIT collision of §5.2.1 and the restart of §5.2.2 /
//! §5.2.4 case A.

use std::time::Instant;

use rtcwire_proto::Rng as _;

use super::cookie::Cookie;
use super::recv::Receiver;
use super::{AbortReason, Association, Event, State};
use crate::wire::{chunk_type, param_type, CookieAck, Init, Param, Params};
use crate::Error;

const FEATURE_FORWARD_TSN: u8 = 1;
const FEATURE_RECONFIG: u8 = 2;
const FEATURE_ZERO_CHECKSUM: u8 = 4;
const FEATURE_IDATA: u8 = 8;
/// RFC 9653 error detection method: the lower layer is DTLS.
const EDMID_DTLS: u32 = 1;

/// What the peer supports, from its INIT / INIT ACK parameters.
fn features(params: &Params<'_>) -> u8 {
    let mut f = 0;
    for p in params.iter() {
        match p.typ {
            param_type::FORWARD_TSN_SUPPORTED => f |= FEATURE_FORWARD_TSN,
            param_type::ZERO_CHECKSUM_ACCEPTABLE if p.value == EDMID_DTLS.to_be_bytes() => {
                f |= FEATURE_ZERO_CHECKSUM;
            }
            param_type::SUPPORTED_EXTENSIONS => {
                for &c in p.value {
                    if c == chunk_type::FORWARD_TSN {
                        f |= FEATURE_FORWARD_TSN;
                    }
                    if c == chunk_type::RE_CONFIG {
                        f |= FEATURE_RECONFIG;
                    }
                    if c == chunk_type::I_DATA {
                        f |= FEATURE_IDATA;
                    }
                }
            }
            _ => {}
        }
    }
    f
}

impl Association {
    /// Starts the association: sends INIT. Fails if it is not idle or the random source
    /// fails.
    pub fn connect(&mut self, now: Instant) -> Result<(), Error> {
        if self.ended || self.state != State::Closed {
            return Err(Error::Closed);
        }
        let tag = self.nonzero_u32()?;
        let tsn = self.rng.next_u32().map_err(|_| Error::Rng)?;
        self.local_tag = tag;
        self.local_initial_tsn = tsn;
        let mut b = Vec::with_capacity(64);
        let mut params = Vec::with_capacity(32);
        self.our_params(&mut params);
        Init {
            initiate_tag: tag,
            a_rwnd: self.window_u32(),
            outbound_streams: self.config.streams,
            inbound_streams: self.config.streams,
            initial_tsn: tsn,
            params: Params(&params),
        }
        .emit(&mut b, chunk_type::INIT);
        self.init_chunk = b;
        self.state = State::CookieWait;
        self.handshake_due = true;
        self.handshake_retries = 0;
        self.handshake_rto = self.config.rto_initial;
        self.t1 = Some(super::later(now, self.handshake_rto));
        Ok(())
    }

    fn nonzero_u32(&mut self) -> Result<u32, Error> {
        for _ in 0..16 {
            let v = self.rng.next_u32().map_err(|_| Error::Rng)?;
            if v != 0 {
                return Ok(v);
            }
        }
        Err(Error::Rng)
    }

    fn window_u32(&self) -> u32 {
        u32::try_from(self.config.receive_window).unwrap_or(u32::MAX)
    }

    /// Our optional parameters: the extensions we support (PR-SCTP and RE-CONFIG, which
    /// Firefox and Chromium look for).
    fn our_params(&self, out: &mut Vec<u8>) {
        if self.config.interleaving {
            Param::emit(
                param_type::SUPPORTED_EXTENSIONS,
                &[
                    chunk_type::RE_CONFIG,
                    chunk_type::FORWARD_TSN,
                    chunk_type::I_DATA,
                    chunk_type::I_FORWARD_TSN,
                ],
                out,
            );
        } else {
            Param::emit(
                param_type::SUPPORTED_EXTENSIONS,
                &[chunk_type::RE_CONFIG, chunk_type::FORWARD_TSN],
                out,
            );
        }
        Param::emit(param_type::FORWARD_TSN_SUPPORTED, &[], out);
        if self.config.zero_checksum {
            Param::emit(
                param_type::ZERO_CHECKSUM_ACCEPTABLE,
                &EDMID_DTLS.to_be_bytes(),
                out,
            );
        }
    }

    /// INIT: answer with INIT ACK and a signed cookie; keep no state (RFC 9260 §5.1.3), or,
    /// in COOKIE-WAIT / COOKIE-ECHOED, answer with our own tag (§5.2.1). In an established
    /// association (a peer that restarted, §5.2.2) the INIT ACK gets a new tag and TSN and
    /// the cookie the current tags as tie-tags; nothing changes until a COOKIE ECHO proves
    /// the peer (§5.2.4 case A).
    pub(super) fn on_init(&mut self, now: Instant, init: &Init<'_>) {
        let (tag, tsn, tie) = match self.state {
            State::Closed if !self.ended => {
                let Ok(tag) = self.nonzero_u32() else { return };
                let Ok(tsn) = self.rng.next_u32() else { return };
                (tag, tsn, (0, 0))
            }
            State::CookieWait => (self.local_tag, self.local_initial_tsn, (0, 0)),
            State::CookieEchoed => (
                self.local_tag,
                self.local_initial_tsn,
                (self.local_tag, self.peer_tag),
            ),
            State::Established
            | State::ShutdownPending
            | State::ShutdownSent
            | State::ShutdownReceived => {
                let Ok(tag) = self.nonzero_u32() else { return };
                let Ok(tsn) = self.rng.next_u32() else { return };
                (tag, tsn, (self.local_tag, self.peer_tag))
            }
            // §9.2: our SHUTDOWN COMPLETE was lost and the peer starts again: the INIT is
            // discarded and the SHUTDOWN ACK sent again.
            State::ShutdownAckSent => {
                self.shutdown_due = true;
                return;
            }
            State::Closed => return,
        };
        let cookie = Cookie {
            local_tag: tag,
            peer_tag: init.initiate_tag,
            local_initial_tsn: tsn,
            peer_initial_tsn: init.initial_tsn,
            peer_a_rwnd: init.a_rwnd,
            peer_outbound_streams: init.outbound_streams,
            peer_inbound_streams: init.inbound_streams,
            peer_features: features(&init.params),
            created_ms: self.now_ms(now),
            local_tie_tag: tie.0,
            peer_tie_tag: tie.1,
        }
        .seal(&self.cookie_key);
        let mut params = Vec::with_capacity(cookie.len() + 32);
        Param::emit(param_type::STATE_COOKIE, &cookie, &mut params);
        self.our_params(&mut params);
        let mut b = Vec::with_capacity(params.len() + 20);
        Init {
            initiate_tag: tag,
            a_rwnd: self.window_u32(),
            outbound_streams: self.config.streams,
            inbound_streams: self.config.streams,
            initial_tsn: tsn,
            params: Params(&params),
        }
        .emit(&mut b, chunk_type::INIT_ACK);
        self.push_reply(init.initiate_tag, b);
    }

    pub(super) fn on_init_ack(&mut self, now: Instant, ack: &Init<'_>) {
        if self.state != State::CookieWait {
            return;
        }
        let Some(cookie) = ack.params.find(param_type::STATE_COOKIE) else {
            return;
        };
        let mut b = Vec::with_capacity(cookie.len() + 8);
        crate::wire::CookieEcho { cookie }.emit(&mut b);
        self.cookie_echo = b;
        self.setup_tcb(
            now,
            ack.initiate_tag,
            ack.initial_tsn,
            ack.a_rwnd,
            ack.outbound_streams,
            ack.inbound_streams,
            features(&ack.params),
        );
        self.state = State::CookieEchoed;
        self.handshake_due = true;
        self.handshake_retries = 0;
        self.handshake_rto = self.config.rto_initial;
        self.t1 = Some(super::later(now, self.handshake_rto));
    }

    /// COOKIE ECHO: verify before changing anything; `Err` refuses the packet.
    pub(super) fn on_cookie_echo(
        &mut self,
        now: Instant,
        vtag: u32,
        cookie: &[u8],
    ) -> Result<(), Error> {
        let c = Cookie::open(&self.cookie_key, cookie)?;
        if vtag != c.local_tag {
            return Err(Error::WrongVerificationTag);
        }
        // A COOKIE ECHO repeated because our COOKIE ACKs were lost (§5.2.4 case D) is
        // answered however old its cookie: the association it names exists.
        let existing = self.has_tcb()
            && self.state != State::CookieEchoed
            && c.local_tag == self.local_tag
            && c.peer_tag == self.peer_tag;
        let age = self.now_ms(now).saturating_sub(c.created_ms);
        if !existing && u128::from(age) > self.config.cookie_lifetime.as_millis() {
            return Err(Error::StaleCookie);
        }
        let up = matches!(
            self.state,
            State::Established
                | State::ShutdownPending
                | State::ShutdownSent
                | State::ShutdownReceived
                | State::ShutdownAckSent
        );
        // §5.2.4 case A: both tags new, the tie-tags name this association: the peer
        // restarted.
        let restart = up
            && c.local_tag != self.local_tag
            && c.peer_tag != self.peer_tag
            && c.local_tie_tag == self.local_tag
            && c.peer_tie_tag == self.peer_tag;
        match self.state {
            State::Closed if !self.ended => {
                self.local_tag = c.local_tag;
                self.local_initial_tsn = c.local_initial_tsn;
                self.setup_tcb_from(now, &c);
                self.become_established(now);
            }
            State::CookieWait | State::CookieEchoed if c.local_tag == self.local_tag => {
                // INIT collision (§5.2.1 / §5.2.4 case B, D): our own INIT crossed theirs.
                if self.state == State::CookieWait || self.peer_tag != c.peer_tag {
                    self.setup_tcb_from(now, &c);
                }
                self.become_established(now);
            }
            State::ShutdownAckSent if restart => {
                // §5.2.4 A: no restart while shutting down; SHUTDOWN ACK again and an
                // ERROR "Cookie Received While Shutting Down", with the new peer's tag.
                let mut b = Vec::with_capacity(12);
                crate::wire::ShutdownAck.emit(&mut b);
                let cause =
                    crate::wire::abort_cause(crate::wire::cause::COOKIE_WHILE_SHUTTING_DOWN);
                crate::wire::ErrorChunk { causes: &cause }.emit(&mut b);
                self.push_reply(c.peer_tag, b);
                return Ok(());
            }
            _ if restart => self.restart(now, &c),
            _ if up && c.local_tag == self.local_tag && c.peer_tag != self.peer_tag => {
                // §5.2.4 case B after we got up by the other exchange of a collision: the
                // peer's association is the one this cookie names; take its tag and TSN.
                self.setup_peer_from(&c);
            }
            _ if self.has_tcb() && c.local_tag == self.local_tag && c.peer_tag == self.peer_tag => {
                // Case D: a retransmitted COOKIE ECHO, our COOKIE ACK was lost.
            }
            // Case C (a late COOKIE ECHO of an older exchange) and anything else: silently
            // discarded.
            _ => return Ok(()),
        }
        let mut b = Vec::with_capacity(4);
        CookieAck.emit(&mut b);
        self.push_reply(self.peer_tag, b);
        Ok(())
    }

    /// §5.2.4 case A: the peer restarted. Everything about the old association goes: its
    /// data in flight, sequence numbers, timers, measurements and congestion state; the
    /// association continues, established, with the new tags and TSNs of the cookie.
    fn restart(&mut self, now: Instant, c: &Cookie) {
        let old_peer = self.peer_tag;
        self.replies.retain(|r| r.vtag != old_peer);
        self.local_tag = c.local_tag;
        self.local_initial_tsn = c.local_initial_tsn;
        self.outstanding.clear();
        self.flight = 0;
        self.queue.restart();
        let mtu = self.config.mtu;
        self.cc = super::cc::Cc::new(
            self.config.initial_cwnd_mtus.max(1) * mtu,
            mtu,
            self.config.max_cwnd,
        );
        self.rack = super::rack::Rack::default();
        self.srtt = None;
        self.rttvar = std::time::Duration::ZERO;
        self.rto = self.config.rto_initial;
        self.errors = 0;
        self.fast_rtx_now = false;
        self.forward_tsn_due = false;
        self.shutdown_due = false;
        self.sack_due = false;
        self.sack_timer = None;
        self.unacked_packets = 0;
        self.t2 = None;
        self.t3 = None;
        self.hb_pending = None;
        self.hb_deadline = None;
        self.hb_due = false;
        self.reset = super::reset::Reset::default();
        self.setup_tcb_from(now, c);
        self.state = State::Established;
        self.hb_next = self.config.heartbeat_interval.map(|i| super::later(now, i));
        self.stats.restarts += 1;
        self.events.push_back(Event::Restarted);
    }

    /// §5.2.4 case B in an established association: the peer's side of the collision
    /// won; its tag, TSN and features replace the ones we had (our sending side is the one
    /// of our INIT either way).
    fn setup_peer_from(&mut self, c: &Cookie) {
        self.peer_tag = c.peer_tag;
        self.peer_forward_tsn = c.peer_features & FEATURE_FORWARD_TSN != 0;
        self.peer_reconfig = c.peer_features & FEATURE_RECONFIG != 0;
        self.peer_zero_checksum = c.peer_features & FEATURE_ZERO_CHECKSUM != 0;
        self.rx = Some(Receiver::new(
            c.peer_initial_tsn,
            self.config.receive_window,
            self.config.max_message_size,
            self.config.streams.min(c.peer_outbound_streams),
        ));
        self.reset
            .start(self.local_initial_tsn, c.peer_initial_tsn.wrapping_sub(1));
    }

    fn setup_tcb_from(&mut self, now: Instant, c: &Cookie) {
        self.setup_tcb(
            now,
            c.peer_tag,
            c.peer_initial_tsn,
            c.peer_a_rwnd,
            c.peer_outbound_streams,
            c.peer_inbound_streams,
            c.peer_features,
        );
    }

    pub(super) fn on_cookie_ack(&mut self, now: Instant) {
        if self.state == State::CookieEchoed {
            self.become_established(now);
        }
    }

    fn become_established(&mut self, now: Instant) {
        self.state = State::Established;
        self.t1 = None;
        self.handshake_due = false;
        self.init_chunk = Vec::new();
        self.cookie_echo = Vec::new();
        self.hb_next = self.config.heartbeat_interval.map(|i| super::later(now, i));
        self.events.push_back(Event::Connected);
    }

    #[allow(clippy::too_many_arguments)]
    fn setup_tcb(
        &mut self,
        _now: Instant,
        peer_tag: u32,
        peer_initial_tsn: u32,
        peer_a_rwnd: u32,
        peer_os: u16,
        peer_mis: u16,
        features: u8,
    ) {
        self.peer_tag = peer_tag;
        self.peer_forward_tsn = features & FEATURE_FORWARD_TSN != 0;
        self.peer_reconfig = features & FEATURE_RECONFIG != 0;
        self.peer_zero_checksum = features & FEATURE_ZERO_CHECKSUM != 0;
        self.use_idata = self.config.interleaving && features & FEATURE_IDATA != 0;
        self.queue.interleave = self.use_idata;
        self.peer_rwnd = peer_a_rwnd as usize;
        // Slow start seeded from the peer's window, in both roles (RFC 9260 §7.2.1).
        self.cc.ssthresh = (peer_a_rwnd as usize).max(4 * self.config.mtu);
        self.outbound_streams = self.config.streams.min(peer_mis);
        self.rx = Some(Receiver::new(
            peer_initial_tsn,
            self.config.receive_window,
            self.config.max_message_size,
            self.config.streams.min(peer_os),
        ));
        self.next_tsn = (1u64 << 32) + u64::from(self.local_initial_tsn);
        self.cum_ack = self.next_tsn - 1;
        self.adv_ack = self.cum_ack;
        self.reset
            .start(self.local_initial_tsn, peer_initial_tsn.wrapping_sub(1));
    }

    /// T1-init / T1-cookie expired: send again, or give up.
    pub(super) fn on_t1(&mut self, now: Instant) {
        self.handshake_retries += 1;
        if self
            .config
            .max_init_retransmissions
            .is_some_and(|m| self.handshake_retries > m)
        {
            self.end(Some(AbortReason::SetupTimeout));
            return;
        }
        self.handshake_rto = self
            .handshake_rto
            .saturating_mul(2)
            .min(self.config.rto_max);
        self.handshake_due = true;
        self.t1 = Some(super::later(now, self.handshake_rto));
    }
}
