//! Writing packets (bundling control chunks, retransmissions and new DATA up to the MTU),
//! SACK processing with RTO (§6.3), fast retransmit and congestion control (§7.2), PR-SCTP
//! abandonment and FORWARD TSN (RFC 3758), timers, and the shutdown sequence (§9.2).

use std::time::Instant;

use rtcwire_proto::Transmit;

use super::send::{Lows, Sent};
use super::{AbortReason, Association, Event, State};
use crate::wire::{
    chunk_type, emit_chunk_header, finish_packet, padded, CommonHeader, ForwardTsn, Heartbeat,
    List, Sack, Shutdown, ShutdownAck, ShutdownComplete, DATA_HEADER_LEN, HEADER_LEN,
};

/// A DATA fragment is not started in a packet with less room than this (it goes whole into
/// the next packet instead).
const MIN_FRAGMENT: usize = 256;

impl Association {
    fn header(&self, buf: &mut Vec<u8>, vtag: u32) {
        CommonHeader {
            source_port: self.config.local_port,
            destination_port: self.config.remote_port,
            verification_tag: vtag,
        }
        .emit(buf);
    }

    fn finish(&mut self, buf: &mut Vec<u8>, start: usize) -> Option<Transmit> {
        if buf.len() <= start + HEADER_LEN {
            buf.truncate(start);
            return None;
        }
        // RFC 9653: to a peer that accepts it, packets of the association go with a zero
        // checksum (DTLS protects them); setup packets always carry the CRC.
        let zero = self.peer_zero_checksum
            && !self.ended
            && matches!(
                self.state,
                State::Established
                    | State::ShutdownPending
                    | State::ShutdownSent
                    | State::ShutdownReceived
                    | State::ShutdownAckSent
            );
        if !zero {
            finish_packet(buf.get_mut(start..)?);
        }
        self.stats.packets_sent += 1;
        Some(Transmit::on_path(buf.len() - start))
    }

    pub(super) fn write_packet(&mut self, now: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
        let start = buf.len();
        // Replies for another tag (INIT ACK before any association, ABORT...) go alone, and
        // so does an INIT ACK for the peer's tag (a restarting peer's, §5.2.2): RFC 9260
        // §6.10 never bundles INIT ACK, and a peer drops a packet that does.
        if let Some(r) = self.replies.front() {
            let init_ack = r.bytes.first() == Some(&chunk_type::INIT_ACK);
            if !self.has_tcb() || r.vtag != self.peer_tag || self.ended || init_ack {
                let r = self.replies.pop_front()?;
                self.header(buf, r.vtag);
                buf.extend_from_slice(&r.bytes);
                return self.finish(buf, start);
            }
        }
        if self.ended {
            return None;
        }
        if self.handshake_due {
            match self.state {
                State::CookieWait => {
                    self.handshake_due = false;
                    self.header(buf, 0);
                    buf.extend_from_slice(&self.init_chunk);
                    return self.finish(buf, start);
                }
                State::CookieEchoed => {
                    self.handshake_due = false;
                    self.header(buf, self.peer_tag);
                    buf.extend_from_slice(&self.cookie_echo);
                    return self.finish(buf, start);
                }
                _ => self.handshake_due = false,
            }
        }
        if !self.has_tcb() {
            return None;
        }
        self.header(buf, self.peer_tag);
        let limit = start + self.config.mtu;
        while let Some(r) = self.replies.front() {
            if buf.len() + r.bytes.len() > limit || r.bytes.first() == Some(&chunk_type::INIT_ACK) {
                break;
            }
            if let Some(r) = self.replies.pop_front() {
                buf.extend_from_slice(&r.bytes);
            }
        }
        let will_send_data = self.can_send_data();
        if self.sack_due || (self.sack_timer.is_some() && will_send_data) {
            self.write_sack(buf, limit);
        }
        if self.shutdown_due {
            self.write_shutdown(buf);
        }
        if self.forward_tsn_due {
            self.write_forward_tsn(buf, limit);
        }
        if self.reconfig_pending() {
            self.write_reconfig(now, buf, limit);
        }
        if self.hb_due && buf.len() + 16 <= limit {
            self.hb_due = false;
            let nonce = self
                .stats
                .packets_sent
                .wrapping_add(now.elapsed_since(self.epoch));
            Heartbeat {
                info: &nonce.to_be_bytes(),
            }
            .emit(buf, chunk_type::HEARTBEAT);
            self.hb_pending = Some((nonce, now));
            self.hb_deadline = Some(super::later(now, self.rto));
        }
        if will_send_data {
            self.write_data(now, buf, limit);
        }
        self.finish(buf, start)
    }

    fn can_send_data(&self) -> bool {
        matches!(
            self.state,
            State::Established | State::ShutdownPending | State::ShutdownReceived
        ) && (self.outstanding.iter().any(|s| s.retransmit) || self.queue.has_data())
            && (self.flight < self.cc.cwnd || self.fast_rtx_now || self.rack.probe_now)
    }

    fn write_sack(&mut self, buf: &mut Vec<u8>, limit: usize) {
        let Some(rx) = self.rx.as_mut() else { return };
        rx.gap_blocks(&mut self.gaps);
        rx.take_dups(&mut self.dups);
        let room = limit.saturating_sub(buf.len() + 16);
        let max_items = room / 4;
        let g = self.gaps.len().min(max_items);
        let d = self.dups.len().min(max_items - g);
        Sack {
            cumulative_tsn_ack: rx.cum_tsn(),
            a_rwnd: rx.a_rwnd(),
            gap_blocks: List::Items(self.gaps.get(..g).unwrap_or(&[])),
            duplicate_tsns: List::Items(self.dups.get(..d).unwrap_or(&[])),
        }
        .emit(buf);
        self.sack_due = false;
        self.sack_timer = None;
        self.unacked_packets = 0;
    }

    fn write_shutdown(&mut self, buf: &mut Vec<u8>) {
        self.shutdown_due = false;
        match self.state {
            State::ShutdownSent => {
                let cum = self.rx.as_ref().map_or(0, |r| r.cum_tsn());
                Shutdown {
                    cumulative_tsn_ack: cum,
                }
                .emit(buf);
            }
            State::ShutdownAckSent => ShutdownAck.emit(buf),
            _ => {}
        }
    }

    fn write_forward_tsn(&mut self, buf: &mut Vec<u8>, limit: usize) {
        self.forward_tsn_due = false;
        if self.adv_ack <= self.cum_ack {
            return;
        }
        if self.use_idata {
            // I-FORWARD-TSN names ordered and unordered messages alike (RFC 8260 §2.3).
            self.skipped_mid.clear();
            for s in self.outstanding.iter() {
                if s.tsn > self.adv_ack {
                    break;
                }
                if !s.abandoned {
                    continue;
                }
                let unordered = s.flags & crate::wire::data_flags::UNORDERED != 0;
                match self
                    .skipped_mid
                    .iter_mut()
                    .find(|e| e.stream == s.stream && e.unordered == unordered)
                {
                    Some(e) => e.mid = s.mid,
                    None => self.skipped_mid.push(crate::wire::StreamMid {
                        stream: s.stream,
                        unordered,
                        mid: s.mid,
                    }),
                }
            }
            let room = limit.saturating_sub(buf.len() + 8) / 8;
            let n = self.skipped_mid.len().min(room);
            crate::wire::IForwardTsn {
                new_cumulative_tsn: self.adv_ack as u32,
                streams: List::Items(self.skipped_mid.get(..n).unwrap_or(&[])),
            }
            .emit(buf);
            return;
        }
        self.skipped.clear();
        for s in self.outstanding.iter() {
            if s.tsn > self.adv_ack {
                break;
            }
            if s.abandoned && s.flags & crate::wire::data_flags::UNORDERED == 0 {
                match self.skipped.iter_mut().find(|e| e.stream == s.stream) {
                    Some(e) => e.ssn = s.ssn,
                    None => self.skipped.push(crate::wire::StreamSsn {
                        stream: s.stream,
                        ssn: s.ssn,
                    }),
                }
            }
        }
        let room = limit.saturating_sub(buf.len() + 8) / 4;
        let n = self.skipped.len().min(room);
        ForwardTsn {
            new_cumulative_tsn: self.adv_ack as u32,
            streams: List::Items(self.skipped.get(..n).unwrap_or(&[])),
        }
        .emit(buf);
    }

    fn write_data(&mut self, now: Instant, buf: &mut Vec<u8>, limit: usize) {
        let ignore_cwnd = std::mem::take(&mut self.fast_rtx_now);
        let data_header = if self.use_idata {
            crate::wire::IDATA_HEADER_LEN
        } else {
            DATA_HEADER_LEN
        };
        // Retransmissions first, in TSN order.
        let mut sent_any = false;
        for s in self.outstanding.iter_mut() {
            if !s.retransmit || s.abandoned || s.acked {
                continue;
            }
            let need = padded(4 + data_header + s.len());
            if buf.len() + need > limit {
                break;
            }
            if !ignore_cwnd && self.flight >= self.cc.cwnd {
                break;
            }
            write_data_chunk(buf, s, self.use_idata);
            s.retransmit = false;
            s.in_flight = true;
            s.misses = 0;
            s.transmissions += 1;
            s.sent_at = now;
            self.flight += s.len();
            self.stats.retransmissions += 1;
            sent_any = true;
        }
        // New data while the congestion and receive windows allow.
        let mut lows = Lows::default();
        let probe = std::mem::take(&mut self.rack.probe_now);
        while matches!(
            self.state,
            State::Established | State::ShutdownPending | State::ShutdownReceived
        ) && self.queue.has_data()
        {
            if self.flight >= self.cc.cwnd && !probe {
                break;
            }
            // Zero window: one chunk may probe when nothing is in flight.
            if self.peer_rwnd == 0 && self.flight > 0 {
                break;
            }
            // A multiple of four, so that the padded chunk stays within the MTU.
            let room = limit.saturating_sub(buf.len() + 4 + data_header) & !3;
            if room < MIN_FRAGMENT && buf.len() > HEADER_LEN {
                break;
            }
            let max = room.min(self.peer_rwnd.max(1).max(MIN_FRAGMENT));
            let Some(frag) = self.queue.next(max, now, &mut lows) else {
                break;
            };
            let s = Sent {
                tsn: self.next_tsn,
                stream: frag.stream,
                ssn: frag.ssn,
                ppid: frag.ppid,
                flags: frag.flags,
                data: frag.data,
                msg: frag.msg,
                mid: frag.mid,
                fsn: frag.fsn,
                max_retransmits: frag.max_retransmits,
                expires: frag.expires,
                sent_at: now,
                transmissions: 1,
                acked: false,
                retransmit: false,
                abandoned: false,
                in_flight: true,
                misses: 0,
            };
            write_data_chunk(buf, &s, self.use_idata);
            self.next_tsn += 1;
            self.flight += s.len();
            self.peer_rwnd = self.peer_rwnd.saturating_sub(s.len());
            self.stats.data_chunks_sent += 1;
            self.outstanding.push_back(s);
            sent_any = true;
        }
        self.push_lows(&lows);
        if sent_any {
            if self.t3.is_none() {
                self.t3 = Some(super::later(now, self.rto));
            }
            if self.rack.tlp.is_none() {
                self.arm_tlp(now);
            }
            if let Some(i) = self.config.heartbeat_interval {
                self.hb_next = Some(super::later(now, i));
            }
        }
        // Streams waiting for their queue to drain before a reset request.
        self.maybe_start_reset(now);
    }

    fn push_lows(&mut self, lows: &Lows) {
        if let Some(s) = lows.stream {
            self.events.push_back(Event::BufferedAmountLow(s));
        }
        if lows.total {
            self.events.push_back(Event::TotalBufferedAmountLow);
        }
    }

    /// SACK (RFC 9260 §6.2.1, §7.2): acknowledge, measure, detect loss, grow or cut the
    /// congestion window, move the PR-SCTP ack point.
    pub(super) fn on_sack(&mut self, now: Instant, s: &Sack<'_>) {
        if !matches!(
            self.state,
            State::Established
                | State::ShutdownPending
                | State::ShutdownSent
                | State::ShutdownReceived
                | State::ShutdownAckSent
        ) {
            return;
        }
        let cum = super::recv::unwrap_near(self.cum_ack, s.cumulative_tsn_ack);
        if cum < self.cum_ack || cum >= self.next_tsn {
            return;
        }
        self.ack_up_to(now, cum, s.a_rwnd, s.gap_blocks.iter());
    }

    fn ack_up_to(
        &mut self,
        now: Instant,
        cum: u64,
        a_rwnd: u32,
        gaps: impl Iterator<Item = crate::wire::GapBlock>,
    ) {
        let flight_before = self.flight;
        let advanced = cum > self.cum_ack;
        let mut bytes_acked = 0usize;
        let mut rtt_from: Option<Instant> = None;
        let mut delivered = super::rack::Delivered::default();
        let mut delivered_cum = 0u64;
        while self.outstanding.front().is_some_and(|f| f.tsn <= cum) {
            let Some(f) = self.outstanding.pop_front() else {
                break;
            };
            if f.in_flight {
                self.flight -= f.len().min(self.flight);
            }
            if !f.acked && !f.abandoned {
                bytes_acked += f.len();
                delivered_cum += 1;
                if f.transmissions == 1 {
                    rtt_from = Some(rtt_from.map_or(f.sent_at, |t| t.max(f.sent_at)));
                }
                delivered.note(now, &f, self.rack.highest_delivered, self.cc.min_rtt);
            }
        }
        self.cum_ack = cum;
        self.adv_ack = self.adv_ack.max(cum);
        let mut highest_new: Option<u64> = None;
        let mut chunks_acked = 0u64;
        let base = cum + 1;
        let len = self.outstanding.len() as u64;
        let mut budget = self.outstanding.len() + 1024;
        for g in gaps.take(4096) {
            let (a, b) = (u64::from(g.start), u64::from(g.end));
            if a == 0 || a > b {
                continue;
            }
            let (from, to) = ((cum + a - base).min(len), (cum + b - base + 1).min(len));
            for i in from..to {
                if budget == 0 {
                    break;
                }
                budget -= 1;
                let Some(f) = self.outstanding.get_mut(i as usize) else {
                    break;
                };
                if f.acked {
                    continue;
                }
                f.acked = true;
                f.retransmit = false;
                if f.in_flight {
                    f.in_flight = false;
                    self.flight -= f.len().min(self.flight);
                }
                if !f.abandoned {
                    bytes_acked += f.len();
                    chunks_acked += 1;
                    if f.transmissions == 1 {
                        rtt_from = Some(rtt_from.map_or(f.sent_at, |t| t.max(f.sent_at)));
                    }
                    delivered.note(now, f, self.rack.highest_delivered, self.cc.min_rtt);
                }
                highest_new = Some(highest_new.map_or(f.tsn, |h| h.max(f.tsn)));
            }
        }
        chunks_acked += delivered_cum;
        self.stats.bytes_acked += bytes_acked as u64;
        if let Some(t) = rtt_from {
            // Karn: only chunks sent once are timed.
            self.rtt_sample(now.saturating_duration_since(t));
        }
        self.rack.update(&delivered);
        if let Some(h) = highest_new {
            self.rack.highest_delivered = self.rack.highest_delivered.max(h);
            // DupThresh (§7.2.4) for chunks sent once, alongside RACK's time rule.
            for f in self.outstanding.iter_mut() {
                if f.tsn >= h {
                    break;
                }
                if !f.acked && !f.abandoned && !f.retransmit && f.transmissions == 1 {
                    f.misses += 1;
                }
            }
        }
        self.detect_losses(now);
        let acked = super::cc::Acked {
            cum,
            next_tsn: self.next_tsn,
            chunks: chunks_acked,
            bytes: bytes_acked,
            flight_before,
        };
        self.cc.on_ack(now, &acked, self.srtt);
        if bytes_acked > 0 {
            // Something was delivered: the tail is moving, a new probe may be scheduled.
            self.rack.tlp_out = false;
            self.arm_tlp(now);
        }
        if advanced || (a_rwnd as usize) < self.config.mtu {
            // The peer is alive and acknowledging (even if only over abandoned or
            // gap-acknowledged chunks): clear the error counter (§8.3). A SACK that says
            // the window is closed counts too: unanswered zero-window probes must not end
            // an association whose reader is merely slow (§6.1 A).
            self.errors = 0;
        }
        self.peer_rwnd = (a_rwnd as usize).saturating_sub(self.flight);
        if self.outstanding.is_empty() {
            self.t3 = None;
        } else if advanced || bytes_acked > 0 {
            // Restarted by any delivery, gap-acknowledged too: while SACKs report progress
            // the path is alive and RACK finds losses (a lost retransmission included), so
            // T3 stays what it is for, a silent path (as TCP with SACK re-arms its RTO).
            self.t3 = Some(super::later(now, self.rto));
        }
        if self.has_pr && self.lifetime_check_due() {
            self.abandon_expired(now);
        }
        self.advance_ack_point();
        self.progress_shutdown(now);
        self.maybe_start_reset(now);
    }

    fn lifetime_check_due(&self) -> bool {
        self.outstanding.iter().any(|f| f.expires.is_some())
    }

    /// PR-SCTP: gives up messages whose policy ran out (their unsent rest too).
    pub(super) fn abandon_expired(&mut self, now: Instant) {
        let mut msgs: Vec<u64> = Vec::new();
        for f in self.outstanding.iter() {
            if !f.acked && !f.abandoned && f.expired(now) && !msgs.contains(&f.msg) {
                msgs.push(f.msg);
            }
        }
        if msgs.is_empty() {
            return;
        }
        let mut lows = Lows::default();
        for m in &msgs {
            let mut last = None;
            let mut last_ids = None;
            for f in self.outstanding.iter_mut().filter(|f| f.msg == *m) {
                f.abandoned = true;
                f.retransmit = false;
                if f.in_flight {
                    f.in_flight = false;
                    self.flight -= f.len().min(self.flight);
                }
                last = Some((
                    f.stream,
                    f.ssn,
                    f.ppid,
                    f.flags,
                    f.max_retransmits,
                    f.expires,
                ));
                last_ids = Some((f.mid, f.fsn));
            }
            let stream = last.map_or(0, |l| l.0);
            if last.is_some() && self.queue.discard_current(*m, stream, &mut lows) {
                // The message's end was never sent. The peer may hold its first fragments
                // and even acknowledge past them, so an abandoned placeholder END with a
                // TSN of its own keeps the FORWARD TSN (and its stream / SSN entry) needed
                // until the peer has it — as dcSCTP does.
                if let Some((stream, ssn, ppid, flags, max_retransmits, expires)) = last {
                    let unordered = flags & crate::wire::data_flags::UNORDERED;
                    self.outstanding.push_back(Sent {
                        tsn: self.next_tsn,
                        stream,
                        ssn,
                        ppid,
                        flags: crate::wire::data_flags::END | unordered,
                        data: bytes::Bytes::new(),
                        msg: *m,
                        mid: last_ids.map_or(0, |i| i.0),
                        fsn: last_ids.map_or(0, |i| i.1.wrapping_add(1)),
                        max_retransmits,
                        expires,
                        sent_at: now,
                        transmissions: 0,
                        acked: false,
                        retransmit: false,
                        abandoned: true,
                        in_flight: false,
                        misses: 0,
                    });
                    self.next_tsn += 1;
                    if self.t3.is_none() {
                        self.t3 = Some(super::later(now, self.rto));
                    }
                }
            }
        }
        self.push_lows(&lows);
        self.stats.abandoned_messages += msgs.len() as u64;
        self.advance_ack_point();
    }

    fn advance_ack_point(&mut self) {
        let mut t = self.adv_ack.max(self.cum_ack);
        for f in self.outstanding.iter() {
            if f.tsn <= t {
                continue;
            }
            if f.tsn == t + 1 && f.abandoned {
                t = f.tsn;
            } else {
                break;
            }
        }
        if t > self.adv_ack {
            self.adv_ack = t;
        }
        if self.adv_ack > self.cum_ack {
            self.forward_tsn_due = true;
        }
    }

    pub(super) fn too_many_errors(&mut self) -> bool {
        if self
            .config
            .max_retransmissions
            .is_some_and(|m| self.errors > m)
        {
            self.end(Some(AbortReason::MaxRetransmissions));
            return true;
        }
        false
    }

    fn on_t3(&mut self, now: Instant) {
        self.stats.t3_expiries += 1;
        self.errors += 1;
        if self.too_many_errors() {
            return;
        }
        self.rto = self.rto.saturating_mul(2).min(self.config.rto_max);
        self.cc.on_timeout(self.next_tsn);
        self.rack.timer = None;
        self.rack.tlp = None;
        self.rack.tlp_out = false;
        for f in self.outstanding.iter_mut() {
            if !f.acked && !f.abandoned {
                f.retransmit = true;
                f.in_flight = false;
                f.misses = 0;
            }
        }
        self.flight = 0;
        if self.has_pr {
            self.abandon_expired(now);
        }
        if self.adv_ack > self.cum_ack {
            self.forward_tsn_due = true;
        }
        self.fast_rtx_now = true;
        self.t3 = if self.outstanding.is_empty() {
            None
        } else {
            Some(super::later(now, self.rto))
        };
    }

    pub(super) fn on_timeout(&mut self, now: Instant) {
        if self.ended {
            return;
        }
        if self.t1.is_some_and(|t| t <= now) {
            self.t1 = None;
            self.on_t1(now);
        }
        if self.t3.is_some_and(|t| t <= now) {
            self.t3 = None;
            self.on_t3(now);
        }
        if self.rack.timer.is_some_and(|t| t <= now) {
            self.detect_losses(now);
        }
        if self.rack.tlp.is_some_and(|t| t <= now) {
            self.on_tlp();
        }
        if self.ended {
            return;
        }
        if self.t2.is_some_and(|t| t <= now) {
            self.errors += 1;
            if self.too_many_errors() {
                return;
            }
            self.rto = self.rto.saturating_mul(2).min(self.config.rto_max);
            self.shutdown_due = true;
            self.t2 = Some(super::later(now, self.rto));
        }
        if self.sack_timer.is_some_and(|t| t <= now) {
            self.sack_timer = None;
            self.sack_due = true;
        }
        if self.hb_deadline.is_some_and(|t| t <= now) {
            self.hb_deadline = None;
            self.hb_pending = None;
            self.errors += 1;
            if self.too_many_errors() {
                return;
            }
            self.rto = self.rto.saturating_mul(2).min(self.config.rto_max);
            self.hb_next = Some(now);
        }
        if self.hb_next.is_some_and(|t| t <= now) {
            self.hb_next = self.config.heartbeat_interval.map(|i| super::later(now, i));
            if self.state == State::Established
                && self.outstanding.is_empty()
                && self.hb_pending.is_none()
            {
                self.hb_due = true;
            }
        }
        if self.reset.timer.is_some_and(|t| t <= now) {
            self.on_reconfig_timer(now);
        }
    }

    /// Moves the shutdown sequence on once everything queued is acknowledged.
    pub(super) fn progress_shutdown(&mut self, now: Instant) {
        let drained = self.outstanding.is_empty() && self.queue.is_empty();
        match self.state {
            State::ShutdownPending if drained => {
                self.state = State::ShutdownSent;
                self.shutdown_due = true;
                self.t2 = Some(super::later(now, self.rto));
            }
            State::ShutdownReceived if drained => {
                self.state = State::ShutdownAckSent;
                self.shutdown_due = true;
                self.t2 = Some(super::later(now, self.rto));
            }
            _ => {}
        }
    }

    pub(super) fn on_shutdown(&mut self, now: Instant, cum_tsn_ack: u32) {
        match self.state {
            State::Established | State::ShutdownPending | State::ShutdownReceived => {
                let cum = super::recv::unwrap_near(self.cum_ack, cum_tsn_ack);
                if cum >= self.cum_ack && cum < self.next_tsn {
                    let a_rwnd = u32::try_from(self.peer_rwnd + self.flight).unwrap_or(u32::MAX);
                    self.ack_up_to(now, cum, a_rwnd, std::iter::empty());
                }
                if self.state != State::ShutdownAckSent {
                    self.state = State::ShutdownReceived;
                }
                self.progress_shutdown(now);
            }
            State::ShutdownSent => {
                // Both sides shut down at once (§9.2).
                self.state = State::ShutdownAckSent;
                self.shutdown_due = true;
                self.t2 = Some(super::later(now, self.rto));
            }
            _ => {}
        }
    }

    pub(super) fn on_shutdown_ack(&mut self) {
        if matches!(self.state, State::ShutdownSent | State::ShutdownAckSent) {
            let mut b = Vec::with_capacity(4);
            ShutdownComplete {
                tag_reflected: false,
            }
            .emit(&mut b);
            self.push_reply(self.peer_tag, b);
            self.end(None);
            self.events.push_back(Event::Closed);
        }
    }
}

fn write_data_chunk(buf: &mut Vec<u8>, s: &Sent, idata: bool) {
    let start = buf.len();
    if idata {
        let begin = s.flags & crate::wire::data_flags::BEGIN != 0;
        emit_chunk_header(
            buf,
            chunk_type::I_DATA,
            s.flags,
            crate::wire::IDATA_HEADER_LEN + s.len(),
        );
        let ppid_or_fsn = if begin { s.ppid } else { s.fsn };
        crate::wire::emit_idata_header(buf, s.tsn as u32, s.stream, s.mid, ppid_or_fsn);
    } else {
        emit_chunk_header(buf, chunk_type::DATA, s.flags, DATA_HEADER_LEN + s.len());
        crate::wire::emit_data_header(buf, s.tsn as u32, s.stream, s.ssn, s.ppid);
    }
    buf.extend_from_slice(&s.data);
    let len = buf.len() - start;
    buf.resize(start + padded(len), 0);
}

trait ElapsedSince {
    fn elapsed_since(&self, epoch: Instant) -> u64;
}

impl ElapsedSince for Instant {
    fn elapsed_since(&self, epoch: Instant) -> u64 {
        u64::try_from(self.saturating_duration_since(epoch).as_nanos()).unwrap_or(u64::MAX)
    }
}
