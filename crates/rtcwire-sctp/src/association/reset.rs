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
    responses: VecDeque<(u32, ReconfigResult)>,
}

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
        if self.reset.in_flight.is_some() || self.reset.pending.is_empty() {
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
        while let Some(&(seq, result)) = self.reset.responses.front() {
            scratch.clear();
            ReconfigParam::Response {
                response_seq: seq,
                result,
                next_tsns: None,
            }
            .emit(&mut scratch);
            if buf.len() + scratch.len() + 4 > limit {
                return;
            }
            ReConfig { params: &scratch }.emit(buf);
            self.reset.responses.pop_front();
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
        if self.reset.in_flight.is_some() {
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
                        self.reset
                            .responses
                            .push_back((request_seq, ReconfigResult::ErrorBadSequenceNumber));
                    }
                }
                ReconfigParam::Response {
                    response_seq,
                    result,
                    ..
                } => self.on_reconfig_response(now, response_seq, result),
                ReconfigParam::Other(_) => {}
            }
        }
    }

    fn answer_request(&mut self, seq: u32, result: ReconfigResult) {
        if seq == self.reset.peer_last_seq.wrapping_add(1) {
            self.reset.peer_last_seq = seq;
            self.reset.peer_last_result = Some(result);
        }
        if self.reset.responses.len() < MAX_RESPONSES {
            self.reset.responses.push_back((seq, result));
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
                    self.reset.responses.push_back((seq, r));
                }
            }
            return;
        }
        if seq != expected && seq != self.reset.peer_last_seq {
            if self.reset.responses.len() < MAX_RESPONSES {
                self.reset
                    .responses
                    .push_back((seq, ReconfigResult::ErrorBadSequenceNumber));
            }
            return;
        }
        let Some(rx) = self.rx.as_mut() else { return };
        self.reset.peer_last_seq = seq;
        if rx.unwrap(last_tsn) > rx.cum {
            // Deferred (RFC 6525 §5.2.2 E2): data before the reset is still missing.
            self.reset.peer_last_result = Some(ReconfigResult::InProgress);
            if self.reset.responses.len() < MAX_RESPONSES {
                self.reset
                    .responses
                    .push_back((seq, ReconfigResult::InProgress));
            }
            return;
        }
        let ids: Vec<u16> = streams.iter().take(usize::from(u16::MAX)).collect();
        rx.reset_streams(&ids);
        self.reset.peer_last_result = Some(ReconfigResult::SuccessPerformed);
        if self.reset.responses.len() < MAX_RESPONSES {
            self.reset
                .responses
                .push_back((seq, ReconfigResult::SuccessPerformed));
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
        self.reset.due || !self.reset.responses.is_empty()
    }
}
