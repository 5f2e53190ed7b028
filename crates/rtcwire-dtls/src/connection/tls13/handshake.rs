//! The DTLS 1.3 engine's handshake side: reassembled handshake messages and what each one does.

use crate::connection::session::ct_eq;
use crate::connection::Core;
use crate::handshake::reassembly::{Complete, Insert};
use crate::handshake::{CertificateVerify, HandshakeHeader};
use crate::v13::keys::{self, TrafficKeys};
use crate::v13::messages::Msg13;
use crate::Error;
use rtcwire_proto::{DtlsRole, SrtpProfile};
use std::time::Instant;

use super::{check_fingerprint, signed_content, unexpected, verify13, Engine, Hs, MAX_EPOCH};

impl Engine {
    pub(super) fn handle_fragments(
        &mut self,
        core: &mut Core,
        now: Instant,
        epoch: u16,
        plain: &[u8],
    ) -> Result<(), Error> {
        let mut r = crate::codec::Reader::new(plain);
        // Bounded by the record length: each pass consumes at least a 12-byte header.
        while !r.is_empty() {
            let Some((h, frag)) = HandshakeHeader::parse(&mut r) else {
                core.stats.bad_records += 1;
                return Ok(());
            };
            // The hellos travel in the clear, everything else under handshake or
            // application keys.
            let hello = h.msg_type == 1 || h.msg_type == 2;
            if hello != (epoch == 0) {
                core.stats.dropped_fragments += 1;
                continue;
            }
            match core.reassembly.insert(&h, frag) {
                Insert::Accepted => {}
                Insert::Dropped => core.stats.dropped_fragments += 1,
                Insert::Old { first } => {
                    if first {
                        self.on_repeat(core, now)?;
                    }
                }
            }
        }
        while let Some(msg) = core.reassembly.pop() {
            self.handle_message(core, now, &msg)?;
            if core.ended {
                break;
            }
        }
        Ok(())
    }

    /// The peer repeated a message we already have: our answer was lost. A server that is
    /// connected re-sends its ACK; anyone else re-sends the flight. Rate-limited.
    fn on_repeat(&mut self, core: &mut Core, now: Instant) -> Result<(), Error> {
        let gap = core.config.initial_rto / 2;
        if core.last_triggered.is_some_and(|t| now < t + gap) {
            return Ok(());
        }
        core.last_triggered = Some(now);
        if self.is_connected() && self.role == DtlsRole::Server {
            let epoch = self.write_epoch;
            self.send_ack(core, now, epoch);
            return Ok(());
        }
        if core.flight.is_empty() {
            return Ok(());
        }
        core.stats.triggered_retransmissions += 1;
        self.retransmit(core)
    }

    fn handle_message(
        &mut self,
        core: &mut Core,
        now: Instant,
        rx: &Complete,
    ) -> Result<(), Error> {
        let msg = Msg13::parse(rx.msg_type, &rx.body)?;
        match (self.hs, msg) {
            (Hs::ClientWaitEe, Msg13::EncryptedExtensions(e)) => {
                self.srtp = match &e.use_srtp {
                    None => None,
                    Some(u) => match u.profiles.as_slice() {
                        [id] => Some(
                            SrtpProfile::from_dtls_id(*id)
                                .filter(|p| core.config.srtp_profiles.contains(p))
                                .ok_or(Error::BadSrtpNegotiation)?,
                        ),
                        _ => return Err(Error::BadSrtpNegotiation),
                    },
                };
                self.add(rx.msg_type, &rx.body);
                self.hs = Hs::ClientWaitCertOrCr;
            }
            (Hs::ClientWaitCertOrCr, Msg13::CertificateRequest { context, .. }) => {
                self.cert_context = Some(context);
                self.add(rx.msg_type, &rx.body);
                self.hs = Hs::ClientWaitCert;
            }
            (Hs::ClientWaitCertOrCr | Hs::ClientWaitCert, Msg13::Certificate { chain, .. }) => {
                let leaf = chain.into_iter().next().ok_or(Error::NoPeerCertificate)?;
                check_fingerprint(core, &leaf)?;
                self.peer_cert = leaf;
                self.add(rx.msg_type, &rx.body);
                self.hs = Hs::ClientWaitCv;
            }
            (Hs::ClientWaitCv, Msg13::CertificateVerify(cv)) => {
                let content = signed_content(true, self.th().as_ref());
                verify13(&self.peer_cert, cv.scheme, &content, &cv.signature)?;
                self.add(rx.msg_type, &rx.body);
                self.hs = Hs::ClientWaitFinished;
            }
            (Hs::ClientWaitFinished, Msg13::Finished(v)) => {
                let expected = keys::finished(self.hash, &self.s_hs, self.th().as_ref())?;
                if !ct_eq(&expected, &v) {
                    return Err(Error::FinishedMismatch);
                }
                self.add(rx.msg_type, &rx.body);
                self.derive_application()?;
                core.flight.clear();
                if let Some(context) = self.cert_context.clone() {
                    let cert = Msg13::Certificate {
                        context,
                        chain: vec![core.config.certificate.der().to_vec()],
                    };
                    self.push(core, 2, &cert);
                    self.push_certificate_verify(core, false)?;
                }
                let fin = keys::finished(self.hash, &self.c_hs, self.th().as_ref())?;
                self.push(core, 2, &Msg13::Finished(fin));
                self.transmit(core)?;
                // Re-sent on the timer until the server's ACK (RFC 9147 §5.8.1).
                core.timer.start(now);
                self.peer_records.clear();
                self.connected(core)?;
            }
            (Hs::ServerWaitCert, Msg13::Certificate { chain, .. }) => {
                // The client's flight acknowledges ours.
                core.timer.stop();
                let leaf = chain.into_iter().next().ok_or(Error::NoPeerCertificate)?;
                check_fingerprint(core, &leaf)?;
                self.peer_cert = leaf;
                self.add(rx.msg_type, &rx.body);
                self.hs = Hs::ServerWaitCv;
            }
            (Hs::ServerWaitCert, Msg13::Finished(_)) => return Err(Error::NoPeerCertificate),
            (Hs::ServerWaitCv, Msg13::CertificateVerify(cv)) => {
                let content = signed_content(false, self.th().as_ref());
                verify13(&self.peer_cert, cv.scheme, &content, &cv.signature)?;
                self.add(rx.msg_type, &rx.body);
                self.hs = Hs::ServerWaitFinished;
            }
            (Hs::ServerWaitFinished, Msg13::Finished(v)) => {
                let expected = keys::finished(self.hash, &self.c_hs, self.th().as_ref())?;
                if !ct_eq(&expected, &v) {
                    return Err(Error::FinishedMismatch);
                }
                self.add(rx.msg_type, &rx.body);
                core.timer.stop();
                core.flight.clear();
                self.forget_flight();
                self.connected(core)?;
                let epoch = self.write_epoch;
                self.send_ack(core, now, epoch);
            }
            (Hs::Connected, Msg13::KeyUpdate { request }) => {
                if self.read_epoch >= MAX_EPOCH {
                    return Err(Error::IllegalParameter("too many key updates"));
                }
                let (cur, bulk) = match self.role {
                    DtlsRole::Client => {
                        (self.s_ap.as_ref().ok_or(Error::Crypto)?, self.suite.bulk())
                    }
                    DtlsRole::Server => {
                        (self.c_ap.as_ref().ok_or(Error::Crypto)?, self.suite.bulk())
                    }
                };
                let next = keys::next_traffic_secret(self.hash, cur)?;
                let k = TrafficKeys::derive(self.hash, bulk, &next)?;
                match self.role {
                    DtlsRole::Client => self.s_ap = Some(next),
                    DtlsRole::Server => self.c_ap = Some(next),
                }
                self.read_epoch += 1;
                self.records.install_read(self.read_epoch, k);
                let last = self.peer_records.last().copied();
                self.peer_records.clear();
                self.peer_records.extend(last);
                let epoch = self.write_epoch;
                self.send_ack(core, now, epoch);
                self.peer_records.clear();
                if request {
                    self.key_update(core, now, false)?;
                }
            }
            (Hs::Connected, Msg13::NewConnectionId { cids, immediate }) => {
                // RFC 9147 §9, minimally: with ids in use and `cid_immediate`, our records
                // carry the first new id from now on; spare ids are not kept. Acknowledged
                // either way.
                let in_use = core
                    .connection_ids
                    .as_ref()
                    .is_some_and(|ids| !ids.remote.is_empty());
                if let (true, true, Some(first)) = (in_use, immediate, cids.first()) {
                    if !first.is_empty() {
                        self.records.set_write_cid(first);
                        if let Some(ids) = &mut core.connection_ids {
                            ids.remote.clone_from(first);
                        }
                    }
                }
                self.ack_last(core, now);
            }
            (Hs::Connected, Msg13::RequestConnectionId { .. }) => {
                // We hand out no further ids (a SHOULD of RFC 9147 §9): acknowledged only.
                self.ack_last(core, now);
            }
            (Hs::Connected, Msg13::NewSessionTicket) => {
                let last = self.peer_records.last().copied();
                self.peer_records.clear();
                self.peer_records.extend(last);
                let epoch = self.write_epoch;
                self.send_ack(core, now, epoch);
                self.peer_records.clear();
            }
            (Hs::Connected, Msg13::ClientHello(_)) => {
                // No renegotiation in 1.3: a stray hello is ignored.
            }
            (s, m) => {
                return Err(unexpected(
                    match s {
                        Hs::ClientWaitEe => "EncryptedExtensions",
                        Hs::ClientWaitCertOrCr => "CertificateRequest",
                        Hs::ClientWaitCert | Hs::ServerWaitCert => "Certificate",
                        Hs::ClientWaitCv | Hs::ServerWaitCv => "CertificateVerify",
                        Hs::ClientWaitFinished | Hs::ServerWaitFinished => "Finished",
                        Hs::Connected => "a post-handshake message",
                    },
                    &m,
                ))
            }
        }
        Ok(())
    }

    /// Acknowledges the record of the post-handshake message just handled.
    fn ack_last(&mut self, core: &mut Core, now: Instant) {
        let last = self.peer_records.last().copied();
        self.peer_records.clear();
        self.peer_records.extend(last);
        let epoch = self.write_epoch;
        self.send_ack(core, now, epoch);
        self.peer_records.clear();
    }

    pub(super) fn push_certificate_verify(
        &mut self,
        core: &mut Core,
        server: bool,
    ) -> Result<(), Error> {
        let content = signed_content(server, self.th().as_ref());
        let config = core.config.clone();
        let signature = config.signing_key.sign(&content, &mut core.key_random())?;
        let cv = Msg13::CertificateVerify(CertificateVerify {
            scheme: config.signing_key.scheme().id(),
            signature,
        });
        self.push(core, 2, &cv);
        Ok(())
    }
}
