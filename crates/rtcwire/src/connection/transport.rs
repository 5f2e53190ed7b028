//! The transport side of the session: datagrams out (ICE's own, DTLS's queue, SCTP packets
//! sealed in place) and the events moved between the cores (ICE → DTLS → SCTP).

use std::sync::Arc;
use std::time::Instant;

use rtcwire_datachannel::DataChannels;
use rtcwire_dtls::Connection;
use rtcwire_ice::IceState;
use rtcwire_proto::{Datagram, DtlsRole, SansIo, Transmit};
use rtcwire_sctp::Association;

use super::{map_ice_state, rng_for, PeerConnection, MAX_LOCAL_CANDIDATES};
use crate::jsep;
use crate::types::{Event, IceCandidate, IceGatheringState};
use crate::Error;

/// Most DTLS datagrams kept from before DTLS started (a hybrid ClientHello is two).
const MAX_EARLY_DTLS: usize = 8;
/// Most bytes of them.
const MAX_EARLY_DTLS_BYTES: usize = 16 * 1024;

/// Keeps a DTLS datagram that came on a valid pair before DTLS started: the peer's
/// ClientHello can overtake the answer that tells us our role (the peer may send on a
/// valid pair before nomination, RFC 8445 §12.1). Past the caps it is refused (the
/// peer's retransmission comes later).
pub(super) fn keep_early_dtls(early: &mut Vec<Vec<u8>>, contents: &[u8]) -> Result<(), Error> {
    let held: usize = early.iter().map(Vec::len).sum();
    if early.len() >= MAX_EARLY_DTLS || held + contents.len() > MAX_EARLY_DTLS_BYTES {
        return Err(Error::DtlsNotStarted);
    }
    early.push(contents.to_vec());
    Ok(())
}

/// Most datagrams in one batched transmit (see `set_transmit_batching`).
const MAX_BATCH_SEGMENTS: usize = 64;
/// Most bytes in one batched transmit (a UDP GSO send is one IP datagram's worth).
const MAX_BATCH_BYTES: usize = 60_000;

impl PeerConnection {
    /// The next datagram: ICE's own (checks, consent), then DTLS records (carrying SCTP
    /// packets) on the selected pair.
    pub(super) fn transmit(&mut self, now: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
        if let Some((t, data)) = self.last_words.pop_front() {
            buf.extend_from_slice(&data);
            return Some(t);
        }
        if self.closed {
            // A closed agent's queue holds only its TURN deallocations.
            return self.ice.poll_transmit(now, buf);
        }
        if let Some(t) = self.ice.poll_transmit(now, buf) {
            return Some(t);
        }
        // DTLS records wait inside DTLS until ICE has a pair to send them on.
        if !self.ice_has_pair {
            return None;
        }
        let t = self
            .transmit_dtls_queue(now, buf)
            .or_else(|| self.transmit_media(buf))
            .or_else(|| self.transmit_sctp(now, buf));
        if t.is_some() {
            self.note_traffic(now);
        }
        t
    }

    /// The handshake's CPU work (a ClientHello's key shares, a server's reply to one that
    /// came early) waits for the next timeout, due at once: the datagrams already queued
    /// (ICE's checks and answers) leave first, and a driver can answer its caller before
    /// the work is done.
    pub(super) fn dtls_work_due(&self) -> bool {
        !self.closed
            && match &self.dtls {
                Some(_) => !self.early_dtls.is_empty(),
                None => {
                    self.dtls_role == Some(DtlsRole::Client)
                        && self.ice_has_pair
                        && self.dtls_config.is_some()
                }
            }
    }

    /// Does the work [`dtls_work_due`](Self::dtls_work_due) held back.
    pub(super) fn dtls_work(&mut self, now: Instant) {
        if !self.dtls_work_due() {
            return;
        }
        let dtls = match (&mut self.dtls, &self.dtls_config) {
            (Some(dtls), _) => dtls,
            // Due without a connection: we are the client and ICE has a pair.
            (None, Some(cfg)) => self.dtls.insert(Connection::client(
                Arc::clone(cfg),
                rng_for(self.seed, "dtls"),
                now,
            )),
            (None, None) => return,
        };
        for d in std::mem::take(&mut self.early_dtls) {
            if let Err(e) = dtls.handle_read(now, Datagram::on_path(&d)) {
                self.stats.refused_datagrams += 1;
                tracing::trace!(error = %e, "early DTLS datagram refused");
            }
        }
    }

    /// Records DTLS queued itself: handshake flights, alerts, close_notify.
    pub(super) fn transmit_dtls_queue(
        &mut self,
        now: Instant,
        buf: &mut Vec<u8>,
    ) -> Option<Transmit> {
        let dtls = self.dtls.as_mut()?;
        if let (Some((source, destination)), true) = (self.direct_path, buf.is_empty()) {
            // A UDP host pair needs no wrapping: DTLS hands its sealed record over by
            // trading buffers with the empty one lent to us, so nothing is copied.
            let t = dtls.poll_transmit(now, buf)?;
            return Some(Transmit::udp(source, destination, t.size));
        }
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

    /// Lets [`poll_output`](Self::poll_output) batch up to `segments` SCTP datagrams of
    /// equal size (the last may be shorter) into one [`Transmit`] with `segment_size` set,
    /// for a driver that sends such a batch in one call (UDP GSO); at most 64 datagrams
    /// and 60 000 bytes in all. Only on a UDP host pair. 1 (the default) sends one
    /// datagram per transmit; a caller that ignores `segment_size` must keep it at 1.
    pub fn set_transmit_batching(&mut self, segments: usize) {
        self.batch_segments = segments.clamp(1, MAX_BATCH_SEGMENTS);
    }

    /// SCTP packets, each written by the association straight after the record prefix and
    /// sealed in place by DTLS: on a UDP host pair in the lent buffer itself (no copy at
    /// all), on a relayed pair in one record buffer that ICE wraps for TURN.
    pub(super) fn transmit_sctp(&mut self, now: Instant, buf: &mut Vec<u8>) -> Option<Transmit> {
        let (Some(sctp), Some(dtls)) = (self.sctp.as_mut(), self.dtls.as_mut()) else {
            return None;
        };
        if !dtls.is_connected() {
            return None;
        }
        let prefix = dtls.record_prefix_len();
        if let Some((source, destination)) = self.direct_path {
            // Datagrams of one size back to back (the last may be shorter), one record
            // each, sealed in place in the lent buffer.
            let begin = buf.len();
            let (mut seg, mut count) = (0usize, 0usize);
            if !self.held_datagram.is_empty() {
                buf.extend_from_slice(&self.held_datagram);
                seg = self.held_datagram.len();
                count = 1;
                self.held_datagram.clear();
            }
            // Bounded: every pass takes one packet from the association, and a refused
            // seal is counted as a pass.
            for _ in 0..MAX_BATCH_SEGMENTS {
                if count >= self.batch_segments
                    || (count > 0 && buf.len() - begin + seg > MAX_BATCH_BYTES)
                {
                    break;
                }
                let start = buf.len();
                buf.resize(start + prefix, 0);
                if sctp.poll_transmit(now, buf).is_none() {
                    buf.truncate(start);
                    break;
                }
                if dtls.seal_in_place(buf, start).is_err() {
                    buf.truncate(start);
                    self.stats.unsealable_packets += 1;
                    continue;
                }
                let len = buf.len() - start;
                if count == 0 {
                    seg = len;
                } else if len > seg {
                    // Longer than the batch's segments: it starts the next transmit.
                    self.held_datagram
                        .extend_from_slice(buf.get(start..).unwrap_or(&[]));
                    buf.truncate(start);
                    break;
                }
                count += 1;
                if len < seg {
                    break;
                }
            }
            if count == 0 {
                return None;
            }
            let mut t = Transmit::udp(source, destination, buf.len() - begin);
            t.segment_size = (count > 1).then_some(seg);
            return Some(t);
        }
        self.held_datagram.clear();
        // Bounded: every pass takes one packet from the association.
        loop {
            self.record.clear();
            self.record.resize(prefix, 0);
            sctp.poll_transmit(now, &mut self.record)?;
            if dtls.seal_in_place(&mut self.record, 0).is_err() {
                self.stats.unsealable_packets += 1;
                continue;
            }
            match self.ice.send(&self.record, buf) {
                Ok(t) => return Some(t),
                Err(e) => {
                    self.stats.unsendable_records += 1;
                    tracing::debug!(error = %e, "DTLS record not sent");
                }
            }
        }
    }

    /// Moves every SCTP packet the association has into DTLS's queue (on close, so the
    /// ABORT leaves before close_notify).
    pub(super) fn seal_sctp(&mut self, now: Instant) {
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

    pub(super) fn pump(&mut self, now: Instant) {
        if self.closed {
            return;
        }
        self.pump_ice();
        self.maybe_start_dtls();
        self.pump_dtls(now);
        self.pump_sctp(now);
        self.pump_channels();
        self.update_connection_state();
    }

    pub(super) fn pump_ice(&mut self) {
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
                    if matches!(s, IceState::Failed | IceState::Closed) {
                        self.ice_has_pair = false;
                        self.direct_path = None;
                    }
                    let s = map_ice_state(s);
                    if s != self.ice_state {
                        self.ice_state = s;
                        self.events.push_back(Event::IceConnectionStateChange(s));
                    }
                }
                rtcwire_ice::Event::SelectedPairChanged(p) => {
                    self.ice_has_pair = true;
                    // Relayed (TURN) and TCP pairs go through `Agent::send`, which wraps.
                    self.direct_path = (p.local.kind == rtcwire_ice::CandidateKind::Host
                        && p.local.transport == rtcwire_proto::Transport::Udp)
                        .then_some((p.local.address, p.remote.address));
                    tracing::debug!(local = %p.local.address, remote = %p.remote.address, "selected pair");
                }
                _ => {}
            }
        }
    }

    pub(super) fn gathering_complete(&mut self) {
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

    /// The DTLS server is made when the exchange completes and waits for the ClientHello;
    /// the client starts its handshake once ICE has a pair, in [`dtls_work`](Self::dtls_work).
    pub(super) fn maybe_start_dtls(&mut self) {
        if self.dtls.is_some() || self.closed || self.dtls_role != Some(DtlsRole::Server) {
            return;
        }
        if let Some(cfg) = self.dtls_config.clone() {
            self.dtls = Some(Connection::server(cfg, rng_for(self.seed, "dtls")));
        }
    }

    pub(super) fn pump_dtls(&mut self, now: Instant) {
        loop {
            let Some(e) = self.dtls.as_mut().and_then(SansIo::poll_event) else {
                return;
            };
            match e {
                rtcwire_dtls::Event::Connected {
                    cipher_suite, srtp, ..
                } => {
                    self.dtls_connected = true;
                    self.cipher_suite = Some(cipher_suite);
                    if let Some(km) = srtp {
                        self.start_srtp(&km);
                    }
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

    pub(super) fn start_sctp(&mut self, now: Instant) {
        let (Some(role), Some(remote)) = (self.dtls_role, self.remote.as_ref()) else {
            return;
        };
        if self.sctp.is_some() || remote.data_index.is_none() {
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

    pub(super) fn pump_sctp(&mut self, now: Instant) {
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
}
