//! Stream reset (RFC 6525): outgoing SSN reset requests we send (retransmitted until
//! answered), requests the peer sends (performed once every TSN before them arrived,
//! answered "in progress" until then), and the answer a WebRTC peer expects: when the peer
//! resets its outgoing stream, we reset ours.

use std::collections::{BTreeSet, VecDeque};
use std::time::Instant;

use super::{Association, Event, State};
use crate::wire::{List, ReConfig, ReconfigParam, ReconfigResult};
use crate::Error;

/// Most streams named in one request (keeps it well inside one packet).
const MAX_STREAMS_PER_REQUEST: usize = 256;
/// Most responses waiting to be sent.
const MAX_RESPONSES: usize = 8;
/// An add-streams request unanswered after this many transmissions fails. A peer may
/// ignore the parameter silently (its type's top bits say so, RFC 9260 §3.2.1; dcSCTP
/// does), so unlike a stream reset it does not count towards Association.Max.Retrans.
const MAX_ADD_SENDS: u32 = 5;

#[derive(Default)]
pub(crate) struct Reset {
    /// Our next request sequence number.
    next_seq: u32,
    /// The peer's last request sequence number processed, and our answer.
    peer_last_seq: u32,
    peer_last_result: Option<ReconfigResult>,
    /// Streams waiting to be named in a request.
    pending: BTreeSet<u16>,
    /// The request in flight: sequence number, streams, our last assigned TSN.
    in_flight: Option<(u32, Vec<u16>, u32)>,
    /// The request must be (re)sent.
    due: bool,
    pub(crate) timer: Option<Instant>,
    /// Streams whose reset we started (so the peer's answering reset is not answered).
    initiated: BTreeSet<u16>,
    /// Responses to send: request sequence number, result, next TSNs (SSN/TSN reset).
    responses: VecDeque<Response>,
    /// The next TSNs of our last SSN/TSN reset answer (repeated if the request is).
    peer_last_tsns: Option<(u32, u32)>,
    /// Outgoing streams to add (asked for, not yet requested).
    add_pending: u32,
    /// Our add-outgoing-streams request in flight: sequence number, count.
    add_in_flight: Option<(u32, u16)>,
    add_due: bool,
    /// Times the add request was sent.
    add_sent: u32,
}

type Response = (u32, ReconfigResult, Option<(u32, u32)>);

impl Reset {
    pub(crate) fn start(&mut self, our_initial_tsn: u32, peer_last_seq: u32) {
        self.next_seq = our_initial_tsn;
        self.peer_last_seq = peer_last_seq;
    }
}

impl Association {
    /// Resets outgoing streams (closing data channels): queued messages on them are still
    /// sent, then an outgoing SSN reset request goes out and is retransmitted until the peer
    /// answers. [`Event::OutgoingStreamsReset`] reports success. No new message is accepted
    /// on those streams meanwhile.
    pub fn reset_streams(&mut self, now: Instant, streams: &[u16]) -> Result<(), Error> {
        if self.state != State::Established {
            return Err(Error::NotEstablished);
        }
        if !self.peer_reconfig {
            return Err(Error::Unsupported("stream reset (RE-CONFIG)"));
        }
        for &s in streams {
            if s >= self.outbound_streams {
                return Err(Error::InvalidStream(s));
            }
        }
        for &s in streams {
            self.queue.streams.entry(s).or_default().resetting = true;
            self.reset.pending.insert(s);
            self.reset.initiated.insert(s);
        }
        self.maybe_start_reset(now);
        Ok(())
    }

    /// Sends a request for the pending streams whose queues have drained, if none is in
    /// flight.
    pub(super) fn maybe_start_reset(&mut self, _now: Instant) {
        // One request of ours in flight at a time (RFC 6525 §5.1.1).
        if self.reset.in_flight.is_some() || self.reset.add_in_flight.is_some() {
            return;
        }
        if self.reset.add_pending > 0 {
            let n = u16::try_from(self.reset.add_pending).unwrap_or(u16::MAX);
            self.reset.add_pending -= u32::from(n);
            let seq = self.reset.next_seq;
            self.reset.next_seq = seq.wrapping_add(1);
            self.reset.add_in_flight = Some((seq, n));
            self.reset.add_due = true;
            self.reset.add_sent = 0;
            return;
        }
        if self.reset.pending.is_empty() {
            return;
        }
        let ready: Vec<u16> = self
            .reset
            .pending
            .iter()
            .copied()
            .filter(|&s| self.queue.stream_is_empty(s))
            .take(MAX_STREAMS_PER_REQUEST)
            .collect();
        if ready.is_empty() {
            return;
        }
        for s in &ready {
            self.reset.pending.remove(s);
        }
        let seq = self.reset.next_seq;
        self.reset.next_seq = seq.wrapping_add(1);
        let last_tsn = (self.next_tsn - 1) as u32;
        self.reset.in_flight = Some((seq, ready, last_tsn));
        self.reset.due = true;
    }

    /// Appends what RE-CONFIG chunks are due (responses first, then our request) while they
    /// fit under `limit`.
    pub(super) fn write_reconfig(&mut self, now: Instant, buf: &mut Vec<u8>, limit: usize) {
        let mut scratch = Vec::new();
        while let Some(&(seq, result, next_tsns)) = self.reset.responses.front() {
            scratch.clear();
            ReconfigParam::Response {
                response_seq: seq,
                result,
                next_tsns,
            }
            .emit(&mut scratch);
            if buf.len() + scratch.len() + 4 > limit {
                return;
            }
            ReConfig { params: &scratch }.emit(buf);
            self.reset.responses.pop_front();
        }
        if self.reset.add_due {
            if let Some((seq, n)) = self.reset.add_in_flight {
                scratch.clear();
                ReconfigParam::AddOutgoing {
                    request_seq: seq,
                    new_streams: n,
                }
                .emit(&mut scratch);
                if buf.len() + scratch.len() + 4 > limit {
                    return;
                }
                ReConfig { params: &scratch }.emit(buf);
                self.reset.timer = Some(super::later(now, self.rto));
                self.reset.add_sent += 1;
            }
            self.reset.add_due = false;
        }
        if !self.reset.due {
            return;
        }
        let Some((seq, streams, last_tsn)) = &self.reset.in_flight else {
            self.reset.due = false;
            return;
        };
        scratch.clear();
        ReconfigParam::OutgoingReset {
            request_seq: *seq,
            response_seq: self.reset.peer_last_seq,
            last_tsn: *last_tsn,
            streams: List::Items(streams),
        }
        .emit(&mut scratch);
        if buf.len() + scratch.len() + 4 > limit {
            return;
        }
        ReConfig { params: &scratch }.emit(buf);
        self.reset.due = false;
        self.reset.timer = Some(super::later(now, self.rto));
    }

    /// The reconfig timer expired: send the request again.
    pub(super) fn on_reconfig_timer(&mut self, now: Instant) {
        self.reset.timer = None;
        if let Some((seq, n)) = self.reset.add_in_flight {
            if self.reset.add_sent >= MAX_ADD_SENDS {
                self.reset.add_in_flight = None;
                // A peer that ignored the request still expects its sequence number
                // (one that performed it but lost every answer would take the next
                // request for a repeat: the lesser risk).
                self.reset.next_seq = seq;
                self.events.push_back(Event::AddStreamsFailed(n));
                self.maybe_start_reset(now);
            } else {
                self.reset.add_due = true;
            }
        } else if self.reset.in_flight.is_some() {
            self.errors += 1;
            if self.too_many_errors() {
                return;
            }
            self.reset.due = true;
        } else {
            self.maybe_start_reset(now);
        }
    }

    pub(super) fn on_reconfig(&mut self, now: Instant, r: &ReConfig<'_>) {
        if !matches!(
            self.state,
            State::Established | State::ShutdownPending | State::ShutdownReceived
        ) {
            return;
        }
        for p in r.iter() {
            match p {
                ReconfigParam::OutgoingReset {
                    request_seq,
                    last_tsn,
                    streams,
                    ..
                } => self.on_peer_outgoing_reset(now, request_seq, last_tsn, &streams),
                ReconfigParam::IncomingReset {
                    request_seq,
                    streams,
                } => {
                    // The peer asks us to reset our outgoing streams (RFC 6525 §5.2.3): we
                    // answer "nothing to do" here, as dcSCTP does, and reset them with a
                    // request of our own once their queues drain.
                    let expected = self.reset.peer_last_seq.wrapping_add(1);
                    if request_seq == expected || request_seq == self.reset.peer_last_seq {
                        for s in streams.iter().take(MAX_STREAMS_PER_REQUEST) {
                            if s < self.outbound_streams && !self.reset.pending.contains(&s) {
                                self.queue.streams.entry(s).or_default().resetting = true;
                                self.reset.pending.insert(s);
                                self.reset.initiated.insert(s);
                            }
                        }
                        self.answer_request(request_seq, ReconfigResult::SuccessNothingToDo);
                        self.maybe_start_reset(now);
                    } else if self.reset.responses.len() < MAX_RESPONSES {
                        self.reset.responses.push_back((
                            request_seq,
                            ReconfigResult::ErrorBadSequenceNumber,
                            None,
                        ));
                    }
                }
                ReconfigParam::Response {
                    response_seq,
                    result,
                    ..
                } => self.on_reconfig_response(now, response_seq, result),
                ReconfigParam::SsnTsnReset { request_seq } => self.on_ssn_tsn_reset(request_seq),
                ReconfigParam::AddOutgoing {
                    request_seq,
                    new_streams,
                } => self.on_peer_add_outgoing(request_seq, new_streams),
                ReconfigParam::AddIncoming {
                    request_seq,
                    new_streams,
                } => self.on_peer_add_incoming(now, request_seq, new_streams),
                ReconfigParam::Other(_) => {}
            }
        }
    }

    fn answer_request(&mut self, seq: u32, result: ReconfigResult) {
        if seq == self.reset.peer_last_seq.wrapping_add(1) {
            self.reset.peer_last_seq = seq;
            self.reset.peer_last_result = Some(result);
            self.reset.peer_last_tsns = None;
        }
        if self.reset.responses.len() < MAX_RESPONSES {
            self.reset.responses.push_back((seq, result, None));
        }
    }

    fn on_peer_outgoing_reset(
        &mut self,
        now: Instant,
        seq: u32,
        last_tsn: u32,
        streams: &List<'_, u16>,
    ) {
        let expected = self.reset.peer_last_seq.wrapping_add(1);
        if seq == self.reset.peer_last_seq
            && self.reset.peer_last_result != Some(ReconfigResult::InProgress)
        {
            // A retransmission of a request already performed: the same answer.
            if let Some(r) = self.reset.peer_last_result {
                if self.reset.responses.len() < MAX_RESPONSES {
                    self.reset.responses.push_back((seq, r, None));
                }
            }
            return;
        }
        if seq != expected && seq != self.reset.peer_last_seq {
            if self.reset.responses.len() < MAX_RESPONSES {
                self.reset
                    .responses
                    .push_back((seq, ReconfigResult::ErrorBadSequenceNumber, None));
            }
            return;
        }
        let Some(rx) = self.rx.as_mut() else { return };
        self.reset.peer_last_seq = seq;
        self.reset.peer_last_tsns = None;
        if rx.unwrap(last_tsn) > rx.cum {
            // Deferred (RFC 6525 §5.2.2 E2): data before the reset is still missing.
            self.reset.peer_last_result = Some(ReconfigResult::InProgress);
            if self.reset.responses.len() < MAX_RESPONSES {
                self.reset
                    .responses
                    .push_back((seq, ReconfigResult::InProgress, None));
            }
            return;
        }
        let ids: Vec<u16> = streams.iter().take(usize::from(u16::MAX)).collect();
        rx.reset_streams(&ids);
        self.reset.peer_last_result = Some(ReconfigResult::SuccessPerformed);
        if self.reset.responses.len() < MAX_RESPONSES {
            self.reset
                .responses
                .push_back((seq, ReconfigResult::SuccessPerformed, None));
        }
        if self.config.answer_incoming_reset && self.peer_reconfig {
            let mut answer = Vec::new();
            for &s in &ids {
                if !self.reset.initiated.remove(&s) && s < self.outbound_streams {
                    answer.push(s);
                }
            }
            for s in answer {
                self.queue.streams.entry(s).or_default().resetting = true;
                self.reset.pending.insert(s);
            }
            self.maybe_start_reset(now);
        }
        self.events.push_back(Event::IncomingStreamsReset(ids));
    }

    fn on_reconfig_response(&mut self, now: Instant, seq: u32, result: ReconfigResult) {
        if let Some((add_seq, n)) = self.reset.add_in_flight {
            if add_seq == seq {
                self.on_add_response(now, n, result);
            }
            return;
        }
        let Some((in_flight, _, _)) = &self.reset.in_flight else {
            return;
        };
        if *in_flight != seq {
            return;
        }
        self.reset.timer = None;
        match result {
            ReconfigResult::InProgress => {
                // Ask again later with the same sequence number.
                self.reset.timer = Some(super::later(now, self.rto));
            }
            ReconfigResult::SuccessPerformed | ReconfigResult::SuccessNothingToDo => {
                let Some((_, streams, _)) = self.reset.in_flight.take() else {
                    return;
                };
                for s in &streams {
                    if let Some(out) = self.queue.streams.get_mut(s) {
                        out.next_ssn = 0;
                        out.next_mid = 0;
                        out.next_mid_unordered = 0;
                        out.resetting = false;
                    }
                }
                self.events.push_back(Event::OutgoingStreamsReset(streams));
                self.maybe_start_reset(now);
            }
            _ => {
                let Some((_, streams, _)) = self.reset.in_flight.take() else {
                    return;
                };
                for s in &streams {
                    if let Some(out) = self.queue.streams.get_mut(s) {
                        out.resetting = false;
                    }
                    self.reset.initiated.remove(s);
                }
                self.events.push_back(Event::StreamsResetFailed(streams));
                self.maybe_start_reset(now);
            }
        }
    }

    /// Whether reconfig output is waiting.
    pub(super) fn reconfig_pending(&self) -> bool {
        self.reset.due || self.reset.add_due || !self.reset.responses.is_empty()
    }

    /// Adds `n` outgoing streams (RFC 6525 §4.5): an add-outgoing-streams request goes out
    /// and is retransmitted until the peer answers. [`Event::OutgoingStreamsAdded`] reports
    /// the new count, [`Event::AddStreamsFailed`] a refusal or no answer after five
    /// transmissions (dcSCTP, Chromium's SCTP, ignores the request).
    pub fn add_streams(&mut self, now: Instant, n: u16) -> Result<(), Error> {
        if self.state != State::Established {
            return Err(Error::NotEstablished);
        }
        if !self.peer_reconfig {
            return Err(Error::Unsupported("stream reset (RE-CONFIG)"));
        }
        let total = u32::from(self.outbound_streams) + self.reset.add_pending + u32::from(n);
        let in_flight = self.reset.add_in_flight.map_or(0, |(_, k)| u32::from(k));
        if n == 0 || total + in_flight > u32::from(u16::MAX) {
            return Err(Error::TooMany { what: "streams" });
        }
        self.reset.add_pending += u32::from(n);
        self.maybe_start_reset(now);
        Ok(())
    }

    fn on_add_response(&mut self, now: Instant, n: u16, result: ReconfigResult) {
        self.reset.timer = None;
        match result {
            ReconfigResult::InProgress => {
                self.reset.timer = Some(super::later(now, self.rto));
                return;
            }
            ReconfigResult::SuccessPerformed | ReconfigResult::SuccessNothingToDo => {
                self.outbound_streams = self.outbound_streams.saturating_add(n);
                self.events
                    .push_back(Event::OutgoingStreamsAdded(self.outbound_streams));
            }
            _ => self.events.push_back(Event::AddStreamsFailed(n)),
        }
        self.reset.add_in_flight = None;
        self.maybe_start_reset(now);
    }

    /// Whether `seq` is the peer's next request, or a repeat of its last one (answered
    /// again, the same way); anything else is answered "bad sequence number".
    fn fresh_request(&mut self, seq: u32) -> bool {
        if seq == self.reset.peer_last_seq.wrapping_add(1) {
            return true;
        }
        let answer = if seq == self.reset.peer_last_seq {
            self.reset
                .peer_last_result
                .map(|r| (seq, r, self.reset.peer_last_tsns))
        } else {
            Some((seq, ReconfigResult::ErrorBadSequenceNumber, None))
        };
        if let Some(a) = answer {
            if self.reset.responses.len() < MAX_RESPONSES {
                self.reset.responses.push_back(a);
            }
        }
        false
    }

    fn answer_with(&mut self, seq: u32, result: ReconfigResult, tsns: Option<(u32, u32)>) {
        self.reset.peer_last_seq = seq;
        self.reset.peer_last_result = Some(result);
        self.reset.peer_last_tsns = tsns;
        if self.reset.responses.len() < MAX_RESPONSES {
            self.reset.responses.push_back((seq, result, tsns));
        }
    }

    /// The peer adds outgoing streams, our incoming ones (RFC 6525 §5.2.5).
    fn on_peer_add_outgoing(&mut self, seq: u32, n: u16) {
        if !self.fresh_request(seq) {
            return;
        }
        let Some(rx) = self.rx.as_mut() else { return };
        let total = u32::from(rx.inbound_streams) + u32::from(n);
        match u16::try_from(total) {
            Ok(total) if n > 0 => {
                rx.inbound_streams = total;
                self.answer_with(seq, ReconfigResult::SuccessPerformed, None);
                self.events.push_back(Event::IncomingStreamsAdded(total));
            }
            _ => self.answer_with(seq, ReconfigResult::Denied, None),
        }
    }

    /// The peer asks us to add outgoing streams (RFC 6525 §5.2.6): we do, with a request
    /// of our own, and answer this one "performed" if the count fits.
    fn on_peer_add_incoming(&mut self, now: Instant, seq: u32, n: u16) {
        if !self.fresh_request(seq) {
            return;
        }
        let queued =
            self.reset.add_pending + self.reset.add_in_flight.map_or(0, |(_, k)| u32::from(k));
        let total = u32::from(self.outbound_streams) + queued + u32::from(n);
        if n == 0 || total > u32::from(u16::MAX) {
            self.answer_with(seq, ReconfigResult::Denied, None);
            return;
        }
        self.reset.add_pending += u32::from(n);
        self.answer_with(seq, ReconfigResult::SuccessPerformed, None);
        self.maybe_start_reset(now);
    }

    /// SSN/TSN reset (RFC 6525 §5.2.4): both directions start new TSNs and every stream's
    /// sequence numbers start again. Performed only when nothing of ours is in flight and
    /// no message is half sent ("in progress" otherwise: the peer asks again), and when
    /// no request of ours is out.
    fn on_ssn_tsn_reset(&mut self, seq: u32) {
        if !self.fresh_request(seq) {
            return;
        }
        if self.reset.in_flight.is_some() || self.reset.add_in_flight.is_some() {
            self.answer_with(seq, ReconfigResult::ErrorRequestAlreadyInProgress, None);
            return;
        }
        if !self.outstanding.is_empty() || self.queue.mid_message() {
            // Not recorded as the last answer: the repeat must be looked at afresh.
            if self.reset.responses.len() < MAX_RESPONSES {
                self.reset
                    .responses
                    .push_back((seq, ReconfigResult::InProgress, None));
            }
            return;
        }
        let Some(rx) = self.rx.as_mut() else { return };
        // G1: the peer's next TSN, far from anything it used; G4: what we held goes as
        // after a FORWARD TSN over every stream.
        let receiver_next = rx.cum_tsn().wrapping_add(1 << 31);
        rx.restart_at(receiver_next);
        // G2, G3: ours continues where it is (nothing is outstanding).
        let sender_next = self.next_tsn as u32;
        // G5.
        self.queue.reset_all_sequence_numbers();
        self.answer_with(
            seq,
            ReconfigResult::SuccessPerformed,
            Some((sender_next, receiver_next)),
        );
        self.events.push_back(Event::AssociationReset);
    }
}
