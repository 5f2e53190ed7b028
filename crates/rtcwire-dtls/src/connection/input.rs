//! Record input and handshake dispatch: datagrams to records, messages to the state handlers.

use crate::alert::{Alert, AlertDescription, AlertLevel};
use crate::handshake::reassembly::{Complete, Insert};
use crate::handshake::{HandshakeHeader, HandshakeType, Message};
use crate::record::{ContentType, Record, Records, Rejected};
use crate::Error;
use std::time::Instant;

use super::{client, server, tls13, Connection, Event, State, MAX_EARLY};

impl Connection {
    pub(super) fn fail(&mut self, e: Error) {
        if self.core.ended {
            return;
        }
        tracing::debug!(role = ?self.core.role, error = %e, "dtls handshake failed");
        if let Some(a) = e.alert() {
            if let State::V13(engine) = &mut self.state {
                engine.send_alert(&mut self.core, AlertLevel::Fatal, a);
            } else {
                self.core.send_alert(AlertLevel::Fatal, a);
            }
        }
        self.state = State::Closed;
        self.core.timer.stop();
        self.core.end(Event::Error(e));
    }

    /// Reads every record of a datagram. A fatal condition is reported through
    /// [`fail`](Self::fail) (one event) and stops the loop; the `Err` it travels as inside
    /// the state machine never leaves this function.
    pub(super) fn handle_datagram(&mut self, now: Instant, contents: &[u8]) {
        if let State::V13(e) = &mut self.state {
            let r = e.handle_datagram(&mut self.core, now, contents);
            self.after_v13(r);
            return;
        }
        let mut records = Records::with_cid(contents, self.core.records.read_cid_len());
        for rec in records.by_ref() {
            if let Err(e) = self.handle_record(now, &rec) {
                self.fail(e);
                return;
            }
            if matches!(self.state, State::Closed) {
                return;
            }
            if let State::V13(e) = &mut self.state {
                // The hellos switched us to DTLS 1.3: the rest of the datagram is 1.3 records.
                let rest = contents
                    .get(contents.len() - records.remaining()..)
                    .unwrap_or(&[]);
                let r = e.handle_datagram(&mut self.core, now, rest);
                self.after_v13(r);
                return;
            }
        }
        if records.remaining() > 0 {
            self.core.stats.bad_records += 1;
        }
    }

    /// A DTLS 1.3 step's outcome: a failure closes the connection; a close or fatal alert
    /// the engine reported ends the state too.
    pub(super) fn after_v13(&mut self, r: Result<(), Error>) {
        if let Err(e) = r {
            self.fail(e);
        } else if self.core.ended {
            self.state = State::Closed;
            self.core.timer.stop();
        }
    }

    fn handle_record(&mut self, now: Instant, rec: &Record<'_>) -> Result<(), Error> {
        if matches!(self.state, State::Closed) {
            return Ok(());
        }
        if rec.header.epoch == 1 && !self.core.records.can_read_epoch1() {
            if self.core.early.len() < MAX_EARLY {
                let mut raw = Vec::with_capacity(13 + rec.cid.len() + rec.fragment.len());
                rec.emit(&mut raw);
                self.core.early.push(raw);
                self.core.accepted += 1;
            } else {
                self.core.stats.unknown_epoch_records += 1;
            }
            return Ok(());
        }
        let mut scratch = std::mem::take(&mut self.core.scratch);
        if scratch.capacity() == 0 {
            // The last one left with an ApplicationData event.
            scratch = self.core.spare.pop().unwrap_or_default();
        }
        let res = self.handle_opened(now, rec, &mut scratch);
        self.core.scratch = scratch;
        res
    }

    fn handle_opened(
        &mut self,
        now: Instant,
        rec: &Record<'_>,
        scratch: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let content_type = match self.core.records.open(rec, scratch) {
            Ok(ct) => {
                self.core.accepted += 1;
                ct
            }
            Err(Rejected::WrongCid) => {
                self.core.stats.wrong_cid_records += 1;
                return Ok(());
            }
            Err(Rejected::UnknownEpoch) => {
                self.core.stats.unknown_epoch_records += 1;
                return Ok(());
            }
            Err(Rejected::Replayed) => {
                self.core.stats.replayed_records += 1;
                return Ok(());
            }
            Err(Rejected::BadRecord) => {
                self.core.stats.bad_records += 1;
                return Ok(());
            }
        };
        let epoch = rec.header.epoch;
        if epoch == 0 {
            self.core.last_read_seq = rec.header.sequence;
        }
        self.handle_plain(now, epoch, content_type, scratch)
    }

    /// An opened record's content, by its (real) type.
    pub(super) fn handle_plain(
        &mut self,
        now: Instant,
        epoch: u16,
        content_type: ContentType,
        scratch: &mut Vec<u8>,
    ) -> Result<(), Error> {
        match content_type {
            ContentType::ApplicationData => {
                if epoch == 1 && matches!(self.state, State::Connected) {
                    // `scratch` holds exactly the plaintext: hand the buffer itself to the
                    // event (the next record opens into a fresh one).
                    self.core
                        .events
                        .push_back(Event::ApplicationData(std::mem::take(scratch)));
                } else {
                    self.core.stats.bad_records += 1;
                }
                Ok(())
            }
            ContentType::Alert => {
                match Alert::parse(scratch) {
                    Some(a) if a.description == AlertDescription::CloseNotify => {
                        if !matches!(self.state, State::Closed) {
                            self.core
                                .send_alert(AlertLevel::Warning, AlertDescription::CloseNotify);
                            self.state = State::Closed;
                            self.core.timer.stop();
                            self.core.end(Event::Closed);
                        }
                    }
                    Some(a) if a.level == AlertLevel::Fatal => {
                        self.state = State::Closed;
                        self.core.timer.stop();
                        self.core
                            .end(Event::Error(Error::AlertReceived(a.description)));
                    }
                    Some(_) => {}
                    None => self.core.stats.bad_records += 1,
                }
                Ok(())
            }
            // The epoch switch itself is keyed off the Finished that follows in epoch 1.
            ContentType::ChangeCipherSpec => Ok(()),
            ContentType::Handshake => self.handle_handshake_record(now, epoch, scratch),
            // Never the inner type of a record (the record layer refuses it).
            ContentType::Tls12Cid => {
                self.core.stats.bad_records += 1;
                Ok(())
            }
        }
    }

    fn handle_handshake_record(
        &mut self,
        now: Instant,
        epoch: u16,
        plain: &[u8],
    ) -> Result<(), Error> {
        let mut r = crate::codec::Reader::new(plain);
        // Bounded by the record length: each pass consumes at least a 12-byte header.
        while !r.is_empty() {
            let Some((h, frag)) = HandshakeHeader::parse(&mut r) else {
                self.core.stats.bad_records += 1;
                return Ok(());
            };
            // During the handshake Finished is the only message of epoch 1 and everything
            // else is clear; once connected, an encrypted hello (renegotiation) is let through
            // to be refused.
            let finished = h.msg_type == HandshakeType::Finished.code();
            let connected = matches!(self.state, State::Connected);
            if (epoch == 1) != finished && !(connected && epoch == 1) {
                self.core.stats.dropped_fragments += 1;
                continue;
            }
            match self.core.reassembly.insert(&h, frag) {
                Insert::Accepted => {}
                Insert::Dropped => self.core.stats.dropped_fragments += 1,
                Insert::Old { first } => {
                    if first && self.core.peer_flight_start == Some(h.message_seq) {
                        self.retransmit_on_repeat(now, h.message_seq)?;
                    }
                }
            }
        }
        while let Some(msg) = self.core.reassembly.pop() {
            self.handle_message(now, msg)?;
            if matches!(self.state, State::Closed) {
                break;
            }
        }
        Ok(())
    }

    /// The peer repeated its last flight: ours was lost, send it again (RFC 6347 §4.2.4).
    /// At most once per half initial timeout, so that duplicated or forged copies of an old
    /// fragment (several per datagram) cannot amplify into a storm of flights.
    fn retransmit_on_repeat(&mut self, now: Instant, seq: u16) -> Result<(), Error> {
        let gap = self.core.config.initial_rto / 2;
        if self.core.flight.is_empty() || self.core.last_triggered.is_some_and(|t| now < t + gap) {
            return Ok(());
        }
        self.core.last_triggered = Some(now);
        tracing::trace!(seq, "peer repeated its flight; retransmitting ours");
        self.core.stats.triggered_retransmissions += 1;
        self.core.retransmit_flight()
    }

    fn handle_message(&mut self, now: Instant, m: Complete) -> Result<(), Error> {
        if let State::V13(_) = &self.state {
            // Complete messages left from the record that switched us.
            return Ok(());
        }
        let msg = Message::parse(m.msg_type, &m.body)?;
        let state = std::mem::replace(&mut self.state, State::Closed);
        let state = match (state, &msg) {
            (State::Server(server::ServerState::ExpectClientHello), Message::ClientHello(ch))
                if self.core.config.dtls13 && tls13::offers_13(ch) =>
            {
                self.state = match tls13::server_accept(&mut self.core, ch, &m, now)? {
                    tls13::Accepted::Engine(e) => State::V13(e),
                    tls13::Accepted::Retried => {
                        State::Server(server::ServerState::ExpectClientHello)
                    }
                };
                return Ok(());
            }
            (
                State::Client(client::ClientState::ExpectServerHello {
                    client_random,
                    hello,
                    cookie_seen,
                    offer13: Some(offer),
                }),
                Message::ServerHello(sh),
            ) => {
                if tls13::selects_13(sh) && tls13::is_hrr(sh) {
                    let (ch2, offer) =
                        tls13::client_on_hrr(&mut self.core, *offer, &hello, sh, &m, now)?;
                    self.state = State::Client(client::ClientState::ExpectServerHello {
                        client_random,
                        hello: Box::new(ch2),
                        cookie_seen,
                        offer13: Some(Box::new(offer)),
                    });
                    return Ok(());
                }
                if tls13::selects_13(sh) {
                    let e = tls13::client_on_server_hello(&mut self.core, *offer, &hello, sh, &m)?;
                    self.state = State::V13(Box::new(e));
                    return Ok(());
                }
                State::Client(client::ClientState::ExpectServerHello {
                    client_random,
                    hello,
                    cookie_seen,
                    offer13: Some(offer),
                })
            }
            (s, _) => s,
        };
        let result = match state {
            State::Client(s) => client::handle(&mut self.core, s, now, msg, &m)
                .map(|o| o.map_or(State::Connected, State::Client)),
            State::Server(s) => server::handle(&mut self.core, s, now, msg, &m)
                .map(|o| o.map_or(State::Connected, State::Server)),
            State::Connected => {
                // A hello after the handshake is a renegotiation attempt: refuse it.
                if matches!(msg, Message::HelloRequest | Message::ClientHello(_)) {
                    self.core
                        .send_alert(AlertLevel::Warning, AlertDescription::NoRenegotiation);
                }
                Ok(State::Connected)
            }
            State::V13(e) => Ok(State::V13(e)),
            State::Closed => Ok(State::Closed),
        };
        match result {
            Ok(s) => {
                self.state = s;
                self.replay_early(now)
            }
            Err(e) => Err(e),
        }
    }

    /// Processes epoch-1 records buffered before the keys existed.
    fn replay_early(&mut self, now: Instant) -> Result<(), Error> {
        if self.core.early.is_empty() || !self.core.records.can_read_epoch1() {
            return Ok(());
        }
        let early = std::mem::take(&mut self.core.early);
        let cid_len = self.core.records.read_cid_len();
        for raw in early {
            if let Some(rec) = Records::with_cid(&raw, cid_len).next() {
                self.handle_record(now, &rec)?;
            }
        }
        Ok(())
    }
}
