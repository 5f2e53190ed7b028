//! The DTLS 1.3 engine's record side: flights, timers, datagrams, alerts, ACKs, key updates.

use crate::alert::{Alert, AlertDescription, AlertLevel};
use crate::cert::{fingerprint_of, FingerprintAlgorithm};
use crate::connection::{Core, Event};
use crate::crypto::kx::NamedGroup;
use crate::crypto::suite::CipherSuite;
use crate::flight;
use crate::v13::keys::{self, TrafficKeys};
use crate::v13::messages::{self as m13, Msg13};
use crate::v13::record::{self as rec, Drop13, Raw, RecordLayer13, Records13};
use crate::Error;
use rtcwire_proto::{DtlsRole, KeyingMaterial};
use std::time::Instant;

use super::{
    Engine, Hs, InPlace, MAX_CONNECTED_RETRIES, MAX_EPOCH, MAX_PEER_RECORDS, MAX_SENT_LOG,
};

impl Engine {
    pub(super) fn new(
        core: &Core,
        role: DtlsRole,
        suite: CipherSuite,
        group: NamedGroup,
        transcript: Vec<u8>,
        shared: &[u8],
    ) -> Result<Engine, Error> {
        let hash = suite.prf_hash();
        let hs_secret = keys::handshake_secret(hash, shared)?;
        // A running hash from here on: the messages themselves are not kept.
        let mut transcript_ctx = ring::digest::Context::new(hash.digest_alg());
        transcript_ctx.update(&transcript);
        drop(transcript);
        let th = transcript_ctx.clone().finish();
        let c_hs = keys::derive_secret(hash, &hs_secret, b"c hs traffic", th.as_ref())?;
        let s_hs = keys::derive_secret(hash, &hs_secret, b"s hs traffic", th.as_ref())?;
        let mut records = RecordLayer13::new(core.records.next_seq(0));
        if let Some(ids) = &core.connection_ids {
            records.set_connection_ids(&ids.local, &ids.remote);
        }
        let bulk = suite.bulk();
        let (w, r) = match role {
            DtlsRole::Client => (&c_hs, &s_hs),
            DtlsRole::Server => (&s_hs, &c_hs),
        };
        records.install_write(2, TrafficKeys::derive(hash, bulk, w)?);
        records.install_read(2, TrafficKeys::derive(hash, bulk, r)?);
        let master = keys::master_secret(hash, &hs_secret)?;
        Ok(Engine {
            role,
            suite,
            hash,
            records,
            transcript: transcript_ctx,
            hs: match role {
                DtlsRole::Client => Hs::ClientWaitEe,
                DtlsRole::Server => Hs::ServerWaitCert,
            },
            c_hs,
            s_hs,
            master: Some(master),
            c_ap: None,
            s_ap: None,
            exporter: None,
            srtp: None,
            peer_cert: Vec::new(),
            peer_fingerprint: None,
            cert_context: None,
            peer_records: Vec::new(),
            write_epoch: 3,
            read_epoch: 3,
            key_update_sent: None,
            last_ack: None,
            group,
            flight_ids: Vec::new(),
            acked: Vec::new(),
            first_pieces: Vec::new(),
            sent_log: Vec::new(),
        })
    }

    pub(super) fn th(&self) -> ring::digest::Digest {
        self.transcript.clone().finish()
    }

    /// Adds a message to the transcript in its TLS form (type, 24-bit length, body;
    /// RFC 9147 §5.2), as [`m13::transcript_form`] writes it.
    pub(super) fn add(&mut self, msg_type: u8, body: &[u8]) {
        let len = body.len().min(0xff_ffff) as u32;
        let [_, a, b, c] = len.to_be_bytes();
        self.transcript.update(&[msg_type, a, b, c]);
        self.transcript.update(body);
    }

    /// Queues a message in our flight and adds it to the transcript.
    pub(super) fn push(&mut self, core: &mut Core, epoch: u16, msg: &Msg13) {
        let mut body = Vec::new();
        msg.emit_body(&mut body);
        self.add(msg.code(), &body);
        let seq = core.send_seq;
        core.send_seq = core.send_seq.wrapping_add(1);
        core.flight.push(flight::Outgoing::Handshake {
            epoch,
            msg_type: msg.code(),
            seq,
            body,
        });
    }

    /// The retransmission timer fired. Once connected, a flight that is never acknowledged
    /// (the client's last one, a KeyUpdate) is re-sent on the timer a bounded number of
    /// times, then only when the peer repeats its flight: the connection itself is up.
    pub(crate) fn on_timer(&mut self, core: &mut Core) -> Result<(), Error> {
        if self.is_connected() && core.timer.count > MAX_CONNECTED_RETRIES {
            // Still re-sent when the peer shows it missed it (repeats its own flight).
            core.timer.stop();
            return Ok(());
        }
        self.retransmit(core)
    }

    /// Sends our flight again: only the records the peer has not acknowledged (with
    /// partial ACKs on), counted in the stats.
    pub(crate) fn retransmit(&mut self, core: &mut Core) -> Result<(), Error> {
        let (records, bytes) = self.send(core)?;
        core.stats.retransmitted_records += records;
        core.stats.retransmitted_bytes += bytes;
        Ok(())
    }

    /// Sends our flight with fresh record numbers.
    pub(crate) fn transmit(&mut self, core: &mut Core) -> Result<(), Error> {
        self.send(core).map(|_| ())
    }

    /// Sends what of our flight is not acknowledged; returns the records and bytes sent.
    fn send(&mut self, core: &mut Core) -> Result<(u64, u64), Error> {
        // A flight going out acknowledges the peer's implicitly (RFC 9147 §7).
        core.ack_deadline = None;
        let ids: Vec<u16> = core
            .flight
            .iter()
            .filter_map(|m| match m {
                flight::Outgoing::Handshake { seq, .. } => Some(*seq),
                flight::Outgoing::ChangeCipherSpec => None,
            })
            .collect();
        if ids != self.flight_ids {
            self.flight_ids = ids;
            self.acked = vec![Vec::new(); core.flight.len()];
            self.sent_log.clear();
            self.first_pieces.clear();
        }
        self.records.clear_sent();
        let mut pieces = Vec::new();
        // Re-sent: the fragments of the first transmission the peer has not acknowledged,
        // each as it was (RFC 9147 §7.1).
        let only: Option<Vec<flight::Piece>> =
            (core.config.partial_acks && !self.first_pieces.is_empty()).then(|| {
                self.first_pieces
                    .iter()
                    .filter(|p| {
                        !self
                            .acked
                            .get(p.msg)
                            .is_some_and(|a| flight::holds(a, p.start, p.end))
                    })
                    .copied()
                    .collect()
            });
        let datagrams = flight::emit_pieces(
            &core.flight,
            only.as_deref(),
            core.config.mtu,
            &mut self.records,
            &mut pieces,
        )?;
        if self.first_pieces.is_empty() {
            self.first_pieces.clone_from(&pieces);
        }
        let sent = self.records.sent();
        if sent.len() == pieces.len() {
            for (r, p) in sent.iter().zip(&pieces) {
                if self.sent_log.len() >= MAX_SENT_LOG {
                    self.sent_log.remove(0);
                }
                self.sent_log.push((*r, *p));
            }
        }
        let bytes = datagrams.iter().map(|d| d.len() as u64).sum();
        for d in datagrams {
            core.queue(d);
        }
        if let Some(ku) = &mut self.key_update_sent {
            // Every copy of our KeyUpdate sent so far (bounded), for matching the ACK.
            for r in self.records.sent() {
                if ku.len() < m13::MAX_ACKS && !ku.contains(r) {
                    ku.push(*r);
                }
            }
        }
        Ok((pieces.len() as u64, bytes))
    }

    /// Derives the application secrets and the exporter from the transcript through the
    /// server Finished, and installs epoch 3 both ways.
    pub(super) fn derive_application(&mut self) -> Result<(), Error> {
        let master = self.master.take().ok_or(Error::Crypto)?;
        let th = self.th();
        let c = keys::derive_secret(self.hash, &master, b"c ap traffic", th.as_ref())?;
        let s = keys::derive_secret(self.hash, &master, b"s ap traffic", th.as_ref())?;
        self.exporter = Some(keys::derive_secret(
            self.hash,
            &master,
            b"exp master",
            th.as_ref(),
        )?);
        let bulk = self.suite.bulk();
        let (w, r) = match self.role {
            DtlsRole::Client => (&c, &s),
            DtlsRole::Server => (&s, &c),
        };
        self.records
            .install_write(3, TrafficKeys::derive(self.hash, bulk, w)?);
        self.records
            .install_read(3, TrafficKeys::derive(self.hash, bulk, r)?);
        self.c_ap = Some(c);
        self.s_ap = Some(s);
        Ok(())
    }

    pub(super) fn connected(&mut self, core: &mut Core) -> Result<(), Error> {
        let fp =
            fingerprint_of(FingerprintAlgorithm::Sha256, &self.peer_cert).ok_or(Error::Crypto)?;
        let srtp = match self.srtp {
            Some(p) => {
                let mut km = vec![0u8; p.keying_material_len()];
                self.export(
                    crate::connection::session::SRTP_EXPORTER_LABEL,
                    &[],
                    &mut km,
                )?;
                Some(KeyingMaterial::new(p, km).map_err(|_| Error::Crypto)?)
            }
            None => None,
        };
        tracing::debug!(role = ?self.role, suite = %self.suite, group = ?self.group, srtp = ?self.srtp, "dtls 1.3 connected");
        core.events.push_back(Event::Connected {
            srtp,
            peer_fingerprint: fp.clone(),
            cipher_suite: self.suite,
        });
        self.peer_fingerprint = Some(fp);
        self.hs = Hs::Connected;
        core.handshake_deadline = None;
        Ok(())
    }

    pub(crate) fn is_connected(&self) -> bool {
        self.hs == Hs::Connected
    }

    pub(crate) fn suite(&self) -> CipherSuite {
        self.suite
    }

    pub(crate) fn group(&self) -> NamedGroup {
        self.group
    }

    pub(crate) fn peer_certificate(&self) -> Option<&[u8]> {
        self.is_connected().then_some(self.peer_cert.as_slice())
    }

    /// TLS 1.3 exporter (RFC 8446 §7.5).
    pub(crate) fn export(&self, label: &[u8], context: &[u8], out: &mut [u8]) -> Result<(), Error> {
        let e = self.exporter.as_ref().ok_or(Error::NotConnected)?;
        keys::export(self.hash, e, label, context, out)
    }

    pub(crate) fn send_alert(
        &mut self,
        core: &mut Core,
        level: AlertLevel,
        description: AlertDescription,
    ) {
        let epoch = if self.is_connected() {
            self.write_epoch
        } else if self.records.can_write(2) {
            2
        } else {
            0
        };
        let body = Alert { level, description }.to_bytes();
        let mut d = Vec::new();
        if self
            .records
            .seal(epoch, rec::CT_ALERT, &body, &mut d)
            .is_ok()
        {
            core.queue(d);
        }
    }

    /// Bytes in front of the plaintext of an application data record.
    pub(crate) fn record_prefix_len(&self) -> usize {
        self.records.prefix_len(self.write_epoch)
    }

    /// Bytes an application data record adds to its plaintext.
    pub(crate) fn record_overhead(&self) -> usize {
        self.records.record_overhead(self.write_epoch)
    }

    /// Seals application data whose plaintext is `buf[start + prefix..]`.
    pub(crate) fn seal_in_place(&mut self, buf: &mut Vec<u8>, start: usize) -> Result<(), Error> {
        self.records
            .seal_in_place(self.write_epoch, rec::CT_APPLICATION_DATA, buf, start)
    }

    pub(super) fn send_ack(&mut self, core: &mut Core, now: Instant, epoch: u16) {
        let mut body = Vec::new();
        m13::emit_ack(&self.peer_records, &mut body);
        let mut d = Vec::new();
        if self.records.seal(epoch, rec::CT_ACK, &body, &mut d).is_ok() {
            core.queue(d);
            self.last_ack = Some(now);
        }
        core.ack_deadline = None;
    }

    /// The ACK timer fired: part of the peer's flight arrived and the rest has not, so we
    /// acknowledge what we have, for the peer to re-send only the rest (RFC 9147 §7.1).
    pub(crate) fn on_ack_timer(&mut self, core: &mut Core, now: Instant) {
        core.ack_deadline = None;
        if !self.is_connected() && !self.peer_records.is_empty() && self.records.can_write(2) {
            self.send_ack(core, now, 2);
        }
    }

    // ---- input --------------------------------------------------------------------------

    /// Reads every record of a datagram.
    pub(crate) fn handle_datagram(
        &mut self,
        core: &mut Core,
        now: Instant,
        contents: &[u8],
    ) -> Result<(), Error> {
        // The connection's scratch buffer (or a recycled one, when the last left with an
        // ApplicationData event): no allocation per record in steady state.
        let mut plain = std::mem::take(&mut core.scratch);
        if plain.capacity() == 0 {
            plain = core.spare.pop().unwrap_or_default();
        }
        let r = self.records_of(core, now, contents, &mut plain);
        core.scratch = plain;
        self.drop_spent_keys();
        r
    }

    /// A connected server holds no handshake keys (epoch 2) between datagrams: it writes
    /// nothing more in epoch 2, and reads in it only a copy of the client's last flight
    /// (our ACK was lost), for which [`Self::revive_handshake_read`] derives the keys again
    /// from the kept secret. ~1.6 KB of expanded keys less per idle connection. (A client
    /// drops its own once the server acknowledges its last flight, in `handle_ack`.)
    fn drop_spent_keys(&mut self) {
        if self.role == DtlsRole::Server && self.is_connected() {
            if self.records.can_write(2) {
                self.records.retire_write(2);
            }
            if self.records.can_read(2) {
                self.records.retire_read(2);
            }
        }
    }

    /// The bookkeeping of a flight that is done with (acknowledged, or answered by the
    /// peer's last flight), with its room: a new flight starts it afresh.
    pub(super) fn forget_flight(&mut self) {
        self.flight_ids = Vec::new();
        self.acked = Vec::new();
        self.first_pieces = Vec::new();
        self.sent_log = Vec::new();
    }

    /// A protected record in epoch 2 reaching a connected server (before any key update):
    /// the client re-sent its last flight. Installs the client's handshake read keys again
    /// for this datagram (dropped after it by [`Self::drop_spent_keys`]); its replay window
    /// starts afresh, which at worst answers one more copy with one more ACK.
    fn revive_handshake_read(&mut self, header: &[u8]) {
        let epoch2 = header.first().is_some_and(|b| b & 3 == 2);
        if !epoch2
            || self.role != DtlsRole::Server
            || !self.is_connected()
            || self.read_epoch != 3
            || self.records.can_read(2)
        {
            return;
        }
        if let Ok(k) = TrafficKeys::derive(self.hash, self.suite.bulk(), &self.c_hs) {
            self.records.install_read(2, k);
        }
    }

    fn records_of(
        &mut self,
        core: &mut Core,
        now: Instant,
        contents: &[u8],
        plain: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let mut records = Records13::with_cid(contents, self.records.read_cid_len());
        for r in records.by_ref() {
            match r {
                Raw::Plain {
                    content_type,
                    epoch,
                    sequence,
                    fragment,
                } => {
                    match self.records.accept_plain(epoch, sequence) {
                        Ok(()) => {}
                        Err(Drop13::Replayed) => {
                            core.stats.replayed_records += 1;
                            continue;
                        }
                        Err(_) => {
                            core.stats.unknown_epoch_records += 1;
                            continue;
                        }
                    }
                    core.accepted += 1;
                    match content_type {
                        crate::record::ContentType::Handshake => {
                            self.handle_fragments(core, now, 0, fragment)?;
                        }
                        crate::record::ContentType::Alert => self.handle_alert(core, fragment),
                        _ => core.stats.bad_records += 1,
                    }
                }
                Raw::Cipher { header, body } => {
                    if plain.capacity() == 0 {
                        *plain = core.spare.pop().unwrap_or_default();
                    }
                    self.revive_handshake_read(header);
                    let o = match self.records.open(header, body, plain) {
                        Ok(o) => o,
                        Err(Drop13::UnknownEpoch) => {
                            core.stats.unknown_epoch_records += 1;
                            continue;
                        }
                        Err(Drop13::Replayed) => {
                            core.stats.replayed_records += 1;
                            continue;
                        }
                        Err(Drop13::Bad) => {
                            core.stats.bad_records += 1;
                            continue;
                        }
                        Err(Drop13::WrongCid) => {
                            core.stats.wrong_cid_records += 1;
                            continue;
                        }
                    };
                    core.accepted += 1;
                    self.on_content(core, now, o, plain)?;
                }
            }
            if core.ended {
                return Ok(());
            }
        }
        if records.remaining() > 0 {
            core.stats.bad_records += 1;
        }
        Ok(())
    }

    /// What an opened record carried.
    fn on_content(
        &mut self,
        core: &mut Core,
        now: Instant,
        o: rec::Opened,
        plain: &mut Vec<u8>,
    ) -> Result<(), Error> {
        match o.content_type {
            rec::CT_HANDSHAKE => {
                if self.peer_records.len() < MAX_PEER_RECORDS {
                    self.peer_records.push((u64::from(o.epoch), o.seq));
                }
                let was_connected = self.is_connected();
                self.handle_fragments(core, now, o.epoch, plain)?;
                // Part of a flight: unless it completes (our answer then goes out and
                // disarms this), acknowledge what arrived after a quarter of the timeout.
                if core.config.partial_acks && !was_connected && !self.is_connected() {
                    let more = self.peer_records.len() < MAX_PEER_RECORDS;
                    if more && core.ack_deadline.is_none() && !self.peer_records.is_empty() {
                        core.ack_deadline = Some(now + core.config.initial_rto / 4);
                    }
                }
            }
            rec::CT_ALERT => self.handle_alert(core, plain),
            rec::CT_ACK => match m13::parse_ack(plain) {
                Some(acks) => self.handle_ack(core, &acks),
                None => core.stats.bad_records += 1,
            },
            rec::CT_APPLICATION_DATA if o.epoch >= 3 && self.is_connected() => {
                core.events
                    .push_back(Event::ApplicationData(std::mem::take(plain)));
            }
            _ => core.stats.bad_records += 1,
        }
        Ok(())
    }

    /// The zero-copy way in for a datagram that is one protected record: opened where it
    /// lies; application data is handed back as its range, anything else handled here.
    pub(crate) fn read_in_place(
        &mut self,
        core: &mut Core,
        now: Instant,
        datagram: &mut [u8],
    ) -> InPlace {
        let mut recs = Records13::with_cid(datagram, self.records.read_cid_len());
        let Some(Raw::Cipher { header, .. }) = recs.next() else {
            return InPlace::NotSingle;
        };
        if recs.remaining() != 0 {
            return InPlace::NotSingle;
        }
        let hlen = header.len();
        let mut hdr = [0u8; rec::MAX_UNIFIED_LEN];
        let Some(h) = hdr.get_mut(..hlen) else {
            return InPlace::NotSingle;
        };
        h.copy_from_slice(header);
        let Some(body) = datagram.get_mut(hlen..) else {
            return InPlace::NotSingle;
        };
        self.revive_handshake_read(&hdr[..hlen]);
        let (o, n) = match self.records.open_in_place(&hdr[..hlen], body) {
            Ok(x) => x,
            Err(d) => {
                self.drop_spent_keys();
                match d {
                    Drop13::UnknownEpoch => core.stats.unknown_epoch_records += 1,
                    Drop13::Replayed => core.stats.replayed_records += 1,
                    Drop13::Bad => core.stats.bad_records += 1,
                    Drop13::WrongCid => core.stats.wrong_cid_records += 1,
                }
                return InPlace::Refused;
            }
        };
        core.accepted += 1;
        if o.content_type == rec::CT_APPLICATION_DATA && o.epoch >= 3 && self.is_connected() {
            return InPlace::Data(hlen..hlen + n);
        }
        let mut plain = body.get(..n).unwrap_or_default().to_vec();
        let r = self.on_content(core, now, o, &mut plain);
        self.drop_spent_keys();
        InPlace::Handled(r)
    }

    fn handle_alert(&mut self, core: &mut Core, body: &[u8]) {
        match Alert::parse(body) {
            Some(a) if a.description == AlertDescription::CloseNotify => {
                if !core.ended {
                    self.send_alert(core, AlertLevel::Warning, AlertDescription::CloseNotify);
                    core.timer.stop();
                    core.end(Event::Closed);
                }
            }
            Some(a) if a.level == AlertLevel::Fatal => {
                core.timer.stop();
                core.end(Event::Error(Error::AlertReceived(a.description)));
            }
            Some(_) => {}
            None => core.stats.bad_records += 1,
        }
    }

    fn handle_ack(&mut self, core: &mut Core, acks: &[(u64, u64)]) {
        let covered =
            |sent: &[(u64, u64)]| !sent.is_empty() && sent.iter().all(|r| acks.contains(r));
        if let Some(ku) = &self.key_update_sent {
            // One message in one record per copy: any copy acknowledged will do.
            if ku.iter().any(|r| acks.contains(r)) {
                self.key_update_sent = None;
                core.flight.clear();
                core.timer.stop();
                if let Some(next) = self.next_write_keys() {
                    self.write_epoch += 1;
                    self.records.install_write(self.write_epoch, next);
                }
                return;
            }
        }
        // Our flight (all of its records, or only those in protected epochs: the
        // ServerHello's epoch-0 record is implicitly acknowledged by the peer's keys).
        let sent: Vec<(u64, u64)> = self
            .records
            .sent()
            .iter()
            .copied()
            .filter(|(e, _)| *e != 0)
            .collect();
        let all = core.config.partial_acks && self.note_acks(core, acks);
        if all || covered(&sent) {
            core.timer.stop();
            if self.is_connected() {
                core.flight.clear();
                self.forget_flight();
                if self.role == DtlsRole::Client {
                    // The server has our last flight: nothing more is read or written in
                    // epoch 2 (a copy of the server's flight would have no answer now).
                    self.records.retire_write(2);
                    self.records.retire_read(2);
                }
            }
        }
    }

    /// Marks the fragments of our flight the ACK names (RFC 9147 §7.1: a later
    /// retransmission skips them); returns whether the whole flight is acknowledged.
    fn note_acks(&mut self, core: &Core, acks: &[(u64, u64)]) -> bool {
        if self.acked.len() != core.flight.len() || core.flight.is_empty() {
            return false;
        }
        for (r, p) in &self.sent_log {
            if acks.contains(r) {
                if let Some(a) = self.acked.get_mut(p.msg) {
                    flight::add_range(a, p.start, p.end);
                }
            }
        }
        core.flight
            .iter()
            .zip(&mut self.acked)
            .all(|(m, a)| match m {
                // The peer has our epoch-0 messages if it writes ACKs under handshake keys.
                flight::Outgoing::Handshake { epoch: 0, body, .. } => {
                    flight::add_range(a, 0, body.len());
                    true
                }
                flight::Outgoing::Handshake { body, .. } => flight::covers(a, body.len()),
                flight::Outgoing::ChangeCipherSpec => true,
            })
    }

    fn next_write_keys(&mut self) -> Option<TrafficKeys> {
        let (cur, bulk) = match self.role {
            DtlsRole::Client => (self.c_ap.as_ref()?, self.suite.bulk()),
            DtlsRole::Server => (self.s_ap.as_ref()?, self.suite.bulk()),
        };
        let next = keys::next_traffic_secret(self.hash, cur).ok()?;
        let k = TrafficKeys::derive(self.hash, bulk, &next).ok()?;
        match self.role {
            DtlsRole::Client => self.c_ap = Some(next),
            DtlsRole::Server => self.s_ap = Some(next),
        }
        Some(k)
    }

    /// Sends a KeyUpdate (RFC 9147 §8); our write keys change once it is acknowledged.
    pub(crate) fn key_update(
        &mut self,
        core: &mut Core,
        now: Instant,
        request: bool,
    ) -> Result<(), Error> {
        if !self.is_connected() {
            return Err(Error::NotConnected);
        }
        if self.key_update_sent.is_some() || self.write_epoch >= MAX_EPOCH {
            return Ok(());
        }
        core.flight.clear();
        let epoch = self.write_epoch;
        self.push_untracked(core, epoch, &Msg13::KeyUpdate { request });
        self.key_update_sent = Some(Vec::new());
        self.transmit(core)?;
        core.timer.start(now);
        Ok(())
    }

    /// Queues a post-handshake message (not part of the transcript).
    pub(super) fn push_untracked(&mut self, core: &mut Core, epoch: u16, msg: &Msg13) {
        let mut body = Vec::new();
        msg.emit_body(&mut body);
        let seq = core.send_seq;
        core.send_seq = core.send_seq.wrapping_add(1);
        core.flight.push(flight::Outgoing::Handshake {
            epoch,
            msg_type: msg.code(),
            seq,
            body,
        });
    }
}
