//! The DTLS 1.3 handshake and connection (RFC 9147 over RFC 8446), for both roles, behind
//! the same [`Connection`](super::Connection): it takes over from the DTLS 1.2 machinery
//! once the hellos show that both sides speak 1.3 (a server on a ClientHello offering 1.3,
//! a client on a ServerHello selecting it). Flights, the retransmission timer, the
//! reassembler, the output queue, events and stats are the connection's [`Core`]; the record
//! layer, the key schedule and the transcript are this engine's.

use super::session::ct_eq;
use super::{Core, Event};
use crate::alert::{Alert, AlertDescription, AlertLevel};
use crate::cert::{
    fingerprint_of, subject_public_key, Fingerprint, FingerprintAlgorithm, PublicKeyKind,
};
use crate::crypto::kx::NamedGroup;
use crate::crypto::prf::PrfHash;
use crate::crypto::suite::CipherSuite;
use crate::flight;
use crate::handshake::reassembly::{Complete, Insert};
use crate::handshake::{
    CertificateVerify, ClientHello, Extensions, HandshakeHeader, ServerHello, UseSrtp,
};
use crate::v13::keys::{self, Secret, TrafficKeys};
use crate::v13::kx::{self, Share13};
use crate::v13::messages::{self as m13, Msg13};
use crate::v13::record::{self as rec, Drop13, Raw, RecordLayer13, Records13};
use crate::Error;
use rtcwire_proto::{DtlsRole, KeyingMaterial, SrtpProfile};
use std::time::Instant;

/// Signature schemes we verify in DTLS 1.3 CertificateVerify, as offered.
pub(crate) const SCHEMES13: [u16; 5] = [0x0403, 0x0503, 0x0804, 0x0805, 0x0807];
/// Handshake record numbers of the peer's flight remembered for our ACK.
const MAX_PEER_RECORDS: usize = 32;
/// Retransmissions of a flight sent once connected before it is given up on.
const MAX_CONNECTED_RETRIES: u32 = 8;
/// Key updates a connection accepts from its peer (the epoch is 16 bits on our side).
const MAX_EPOCH: u16 = 0xfff0;

/// What a client offering DTLS 1.3 keeps until the ServerHello.
#[derive(Debug)]
pub(crate) struct Offer13 {
    pub(crate) shares: Vec<Share13>,
    /// After a HelloRetryRequest: the transcript so far (message_hash of the first hello,
    /// then the HelloRetryRequest) and the suite it chose.
    hrr: Option<(Vec<u8>, CipherSuite)>,
    /// The HelloRetryRequest's body (a repeated one is ignored).
    hrr_body: Vec<u8>,
}

impl Offer13 {
    /// Our key shares: the first configured group, and X25519 beside the hybrid (as
    /// Chromium does), so that a server without ML-KEM needs no HelloRetryRequest.
    pub(crate) fn new(core: &mut Core) -> Result<Offer13, Error> {
        let groups = core.config.dtls13_groups.clone();
        let mut want: Vec<NamedGroup> = groups.iter().copied().take(1).collect();
        if want.first() == Some(&NamedGroup::X25519MlKem768) && groups.contains(&NamedGroup::X25519)
        {
            want.push(NamedGroup::X25519);
        }
        let mut shares = Vec::new();
        for g in want {
            let mut seed = [0u8; 64];
            core.random(&mut seed)?;
            shares.push(Share13::generate(g, &mut core.key_random(), seed)?);
        }
        Ok(Offer13 {
            shares,
            hrr: None,
            hrr_body: Vec::new(),
        })
    }

    /// Adds the 1.3 offer to a 1.2 ClientHello: suites, versions, groups, key shares.
    pub(crate) fn extend(&self, core: &Core, ch: &mut ClientHello) {
        let cfg = &core.config;
        let mut suites: Vec<u16> = cfg.dtls13_cipher_suites.iter().map(|s| s.id()).collect();
        suites.extend_from_slice(&ch.cipher_suites);
        ch.cipher_suites = suites;
        let mut groups: Vec<u16> = cfg.dtls13_groups.iter().map(|g| g.id()).collect();
        for g in ch.extensions.supported_groups.take().unwrap_or_default() {
            if !groups.contains(&g) {
                groups.push(g);
            }
        }
        ch.extensions.supported_groups = Some(groups);
        let mut sigs = ch
            .extensions
            .signature_algorithms
            .take()
            .unwrap_or_default();
        for s in SCHEMES13 {
            if !sigs.contains(&s) {
                sigs.push(s);
            }
        }
        ch.extensions.signature_algorithms = Some(sigs);
        m13::set_ext(
            &mut ch.extensions,
            m13::SUPPORTED_VERSIONS,
            m13::client_versions_body(&[m13::DTLS13, m13::DTLS12]),
        );
        let shares: Vec<(u16, &[u8])> = self
            .shares
            .iter()
            .map(|s| (s.group().id(), s.public()))
            .collect();
        m13::set_ext(
            &mut ch.extensions,
            m13::KEY_SHARE,
            m13::client_shares_body(&shares),
        );
    }
}

/// Whether a ClientHello offers DTLS 1.3.
pub(crate) fn offers_13(ch: &ClientHello) -> bool {
    m13::client_versions(&ch.extensions).is_some_and(|v| v.contains(&m13::DTLS13))
}

/// Whether a ServerHello selects DTLS 1.3.
pub(crate) fn selects_13(sh: &ServerHello) -> bool {
    m13::server_version(&sh.extensions) == Some(m13::DTLS13)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hs {
    ClientWaitEe,
    ClientWaitCertOrCr,
    ClientWaitCert,
    ClientWaitCv,
    ClientWaitFinished,
    ServerWaitCert,
    ServerWaitCv,
    ServerWaitFinished,
    Connected,
}

/// The DTLS 1.3 side of a connection.
pub(crate) struct Engine {
    role: DtlsRole,
    suite: CipherSuite,
    hash: PrfHash,
    records: RecordLayer13,
    transcript: Vec<u8>,
    hs: Hs,
    c_hs: Secret,
    s_hs: Secret,
    /// The master secret until the application secrets are derived from it.
    master: Option<Secret>,
    c_ap: Option<Secret>,
    s_ap: Option<Secret>,
    exporter: Option<Secret>,
    srtp: Option<SrtpProfile>,
    peer_cert: Vec<u8>,
    peer_fingerprint: Option<Fingerprint>,
    /// The CertificateRequest's context, once a server asked for our certificate.
    cert_context: Option<Vec<u8>>,
    /// Handshake record numbers of the peer's flight in protected epochs (for our ACK).
    peer_records: Vec<(u64, u64)>,
    /// The epoch application data goes out in (3, then one more per KeyUpdate).
    write_epoch: u16,
    /// The newest epoch we read application data in.
    read_epoch: u16,
    /// A KeyUpdate of ours waiting for its ACK: the record numbers it went out in.
    key_update_sent: Option<Vec<(u64, u64)>>,
    last_ack: Option<Instant>,
    group: NamedGroup,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dtls13")
            .field("role", &self.role)
            .field("suite", &self.suite)
            .field("group", &self.group)
            .field("state", &self.hs)
            .finish_non_exhaustive()
    }
}

fn unexpected(expected: &'static str, got: &Msg13) -> Error {
    Error::UnexpectedMessage {
        expected,
        got: got.name(),
    }
}

fn choose_srtp(core: &Core, offered: Option<&UseSrtp>) -> Option<SrtpProfile> {
    let offered = offered?;
    core.config
        .srtp_profiles
        .iter()
        .copied()
        .find(|p| p.dtls_id().is_some_and(|id| offered.profiles.contains(&id)))
}

fn check_fingerprint(core: &Core, leaf: &[u8]) -> Result<(), Error> {
    let fps = &core.config.remote_fingerprints;
    if fps.is_empty() {
        return Err(Error::NoRemoteFingerprint);
    }
    if !fps
        .iter()
        .any(|fp| crate::cert::fingerprint_matches(fp, leaf))
    {
        return Err(Error::FingerprintMismatch);
    }
    Ok(())
}

/// The content a CertificateVerify signs (RFC 8446 §4.4.3).
fn signed_content(server: bool, transcript_hash: &[u8]) -> Vec<u8> {
    let mut v = vec![0x20u8; 64];
    v.extend_from_slice(if server {
        b"TLS 1.3, server CertificateVerify"
    } else {
        b"TLS 1.3, client CertificateVerify"
    });
    v.push(0);
    v.extend_from_slice(transcript_hash);
    v
}

/// Verifies a TLS 1.3 CertificateVerify signature: ECDSA bound to its curve, RSA-PSS,
/// Ed25519.
fn verify13(cert: &[u8], scheme: u16, msg: &[u8], sig: &[u8]) -> Result<(), Error> {
    use ring::signature as s;
    let spk = subject_public_key(cert).ok_or(Error::BadCertificate("no public key found"))?;
    let alg: &dyn s::VerificationAlgorithm = match (scheme, spk.kind) {
        (0x0403, PublicKeyKind::EcdsaP256) => &s::ECDSA_P256_SHA256_ASN1,
        (0x0503, PublicKeyKind::EcdsaP384) => &s::ECDSA_P384_SHA384_ASN1,
        (0x0804, PublicKeyKind::Rsa) => &s::RSA_PSS_2048_8192_SHA256,
        (0x0805, PublicKeyKind::Rsa) => &s::RSA_PSS_2048_8192_SHA384,
        (0x0807, PublicKeyKind::Ed25519) => &s::ED25519,
        _ => return Err(Error::NoCommonSignatureScheme),
    };
    s::UnparsedPublicKey::new(alg, spk.key)
        .verify(msg, sig)
        .map_err(|_| Error::BadSignature)
}

impl Engine {
    fn new(
        core: &Core,
        role: DtlsRole,
        suite: CipherSuite,
        group: NamedGroup,
        transcript: Vec<u8>,
        shared: &[u8],
    ) -> Result<Engine, Error> {
        let hash = suite.prf_hash();
        let hs_secret = keys::handshake_secret(hash, shared)?;
        let th = ring::digest::digest(hash.digest_alg(), &transcript);
        let c_hs = keys::derive_secret(hash, &hs_secret, b"c hs traffic", th.as_ref())?;
        let s_hs = keys::derive_secret(hash, &hs_secret, b"s hs traffic", th.as_ref())?;
        let mut records = RecordLayer13::new(core.records.next_seq(0));
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
            transcript,
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
        })
    }

    fn th(&self) -> ring::digest::Digest {
        ring::digest::digest(self.hash.digest_alg(), &self.transcript)
    }

    fn add(&mut self, msg_type: u8, body: &[u8]) {
        m13::transcript_form(msg_type, body, &mut self.transcript);
    }

    /// Queues a message in our flight and adds it to the transcript.
    fn push(&mut self, core: &mut Core, epoch: u16, msg: &Msg13) {
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
        self.transmit(core)
    }

    /// Sends (or re-sends) our flight with fresh record numbers.
    pub(crate) fn transmit(&mut self, core: &mut Core) -> Result<(), Error> {
        self.records.clear_sent();
        let datagrams = flight::emit(&core.flight, core.config.mtu, &mut self.records)?;
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
        Ok(())
    }

    /// Derives the application secrets and the exporter from the transcript through the
    /// server Finished, and installs epoch 3 both ways.
    fn derive_application(&mut self) -> Result<(), Error> {
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

    fn connected(&mut self, core: &mut Core) -> Result<(), Error> {
        let fp =
            fingerprint_of(FingerprintAlgorithm::Sha256, &self.peer_cert).ok_or(Error::Crypto)?;
        let srtp = match self.srtp {
            Some(p) => {
                let mut km = vec![0u8; p.keying_material_len()];
                self.export(super::session::SRTP_EXPORTER_LABEL, &[], &mut km)?;
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

    /// Seals application data whose plaintext is `buf[start + prefix..]`.
    pub(crate) fn seal_in_place(&mut self, buf: &mut Vec<u8>, start: usize) -> Result<(), Error> {
        self.records
            .seal_in_place(self.write_epoch, rec::CT_APPLICATION_DATA, buf, start)
    }

    fn send_ack(&mut self, core: &mut Core, now: Instant, epoch: u16) {
        let mut body = Vec::new();
        m13::emit_ack(&self.peer_records, &mut body);
        let mut d = Vec::new();
        if self.records.seal(epoch, rec::CT_ACK, &body, &mut d).is_ok() {
            core.queue(d);
            self.last_ack = Some(now);
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
        r
    }

    fn records_of(
        &mut self,
        core: &mut Core,
        now: Instant,
        contents: &[u8],
        plain: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let mut records = Records13::new(contents);
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
                self.handle_fragments(core, now, o.epoch, plain)?;
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
        let mut recs = Records13::new(datagram);
        let Some(Raw::Cipher { header, .. }) = recs.next() else {
            return InPlace::NotSingle;
        };
        if recs.remaining() != 0 {
            return InPlace::NotSingle;
        }
        let hlen = header.len();
        let mut hdr = [0u8; rec::UNIFIED_LEN];
        let Some(h) = hdr.get_mut(..hlen) else {
            return InPlace::NotSingle;
        };
        h.copy_from_slice(header);
        let Some(body) = datagram.get_mut(hlen..) else {
            return InPlace::NotSingle;
        };
        let (o, n) = match self.records.open_in_place(&hdr[..hlen], body) {
            Ok(x) => x,
            Err(d) => {
                match d {
                    Drop13::UnknownEpoch => core.stats.unknown_epoch_records += 1,
                    Drop13::Replayed => core.stats.replayed_records += 1,
                    Drop13::Bad => core.stats.bad_records += 1,
                }
                return InPlace::Refused;
            }
        };
        core.accepted += 1;
        if o.content_type == rec::CT_APPLICATION_DATA && o.epoch >= 3 && self.is_connected() {
            return InPlace::Data(hlen..hlen + n);
        }
        let mut plain = body.get(..n).unwrap_or_default().to_vec();
        InPlace::Handled(self.on_content(core, now, o, &mut plain))
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
        if covered(&sent) {
            core.timer.stop();
            if self.is_connected() {
                core.flight.clear();
            }
        }
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
    fn push_untracked(&mut self, core: &mut Core, epoch: u16, msg: &Msg13) {
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

    fn handle_fragments(
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
        self.transmit(core)
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
                        Hs::Connected => "KeyUpdate",
                    },
                    &m,
                ))
            }
        }
        Ok(())
    }

    fn push_certificate_verify(&mut self, core: &mut Core, server: bool) -> Result<(), Error> {
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

/// The transcript's stand-in for the first ClientHello after a HelloRetryRequest (RFC 8446
/// §4.4.1): message_hash, then the hash of that hello.
fn message_hash(hash: &[u8], out: &mut Vec<u8>) {
    m13::transcript_form(m13::MESSAGE_HASH, hash, out);
}

/// Whether a ServerHello is a HelloRetryRequest.
pub(crate) fn is_hrr(sh: &ServerHello) -> bool {
    sh.random == m13::HRR_RANDOM
}

/// A client that offered 1.3 got a HelloRetryRequest: the second ClientHello (same hello
/// with the asked-for key share and the server's cookie) goes out, and the offer now holds
/// the transcript so far.
pub(crate) fn client_on_hrr(
    core: &mut Core,
    mut offer: Offer13,
    hello: &ClientHello,
    hrr: &ServerHello,
    rx: &Complete,
    now: Instant,
) -> Result<(ClientHello, Offer13), Error> {
    if offer.hrr.is_some() {
        if offer.hrr_body == rx.body {
            // A copy of the one we answered (the network duplicated it, or the server
            // answered a retransmitted first hello): our second hello is out already.
            core.reassembly.expect_any();
            return Ok((hello.clone(), offer));
        }
        return Err(Error::IllegalParameter("second HelloRetryRequest"));
    }
    let suite = CipherSuite::from_id(hrr.cipher_suite)
        .filter(|s| core.config.dtls13_cipher_suites.contains(s))
        .ok_or(Error::NoCommonCipherSuite)?;
    if hrr.version != m13::DTLS12
        || hrr.session_id != hello.session_id
        || hrr.compression_method != 0
    {
        return Err(Error::IllegalParameter("legacy HelloRetryRequest fields"));
    }
    let mut ch2 = hello.clone();
    let group = m13::hrr_group(&hrr.extensions);
    let cookie = m13::cookie(&hrr.extensions);
    if group.is_none() && cookie.is_none() {
        return Err(Error::IllegalParameter("HelloRetryRequest changes nothing"));
    }
    if let Some(gid) = group {
        let g = NamedGroup::from_id(gid)
            .filter(|g| core.config.dtls13_groups.contains(g))
            .ok_or(Error::IllegalParameter(
                "HelloRetryRequest group not offered",
            ))?;
        if offer.shares.iter().any(|s| s.group() == g) {
            return Err(Error::IllegalParameter(
                "HelloRetryRequest for a group we sent",
            ));
        }
        let mut seed = [0u8; 64];
        core.random(&mut seed)?;
        offer.shares = vec![Share13::generate(g, &mut core.key_random(), seed)?];
        let shares: Vec<(u16, &[u8])> = offer
            .shares
            .iter()
            .map(|s| (s.group().id(), s.public()))
            .collect();
        m13::set_ext(
            &mut ch2.extensions,
            m13::KEY_SHARE,
            m13::client_shares_body(&shares),
        );
    }
    if let Some(c) = cookie {
        m13::set_ext(&mut ch2.extensions, m13::COOKIE, m13::cookie_body(c));
    }
    let mut ch1 = Vec::new();
    hello.emit(&mut ch1);
    let mut ch1_form = Vec::new();
    m13::transcript_form(1, &ch1, &mut ch1_form);
    let h = ring::digest::digest(suite.prf_hash().digest_alg(), &ch1_form);
    let mut prefix = Vec::new();
    message_hash(h.as_ref(), &mut prefix);
    m13::transcript_form(2, &rx.body, &mut prefix);
    offer.hrr = Some((prefix, suite));
    offer.hrr_body = rx.body.clone();
    core.flight.clear();
    core.push(0, &crate::handshake::Message::ClientHello(ch2.clone()));
    core.reassembly.expect_any();
    core.send_flight(now, true)?;
    Ok((ch2, offer))
}

/// A client that offered 1.3 got a ServerHello selecting it.
pub(crate) fn client_on_server_hello(
    core: &mut Core,
    mut offer: Offer13,
    hello: &ClientHello,
    sh: &ServerHello,
    rx: &Complete,
) -> Result<Engine, Error> {
    let suite = CipherSuite::from_id(sh.cipher_suite)
        .filter(|s| core.config.dtls13_cipher_suites.contains(s))
        .ok_or(Error::NoCommonCipherSuite)?;
    if sh.version != m13::DTLS12 {
        return Err(Error::IllegalParameter("ServerHello legacy_version"));
    }
    if offer.hrr.as_ref().is_some_and(|(_, s)| *s != suite) {
        return Err(Error::IllegalParameter(
            "suite changed after HelloRetryRequest",
        ));
    }
    if sh.session_id != hello.session_id || sh.compression_method != 0 {
        return Err(Error::IllegalParameter("legacy ServerHello fields"));
    }
    let (gid, key) =
        m13::server_share(&sh.extensions).ok_or(Error::IllegalParameter("no key_share"))?;
    let prefix = offer.hrr.take().map(|(p, _)| p).unwrap_or_default();
    let share = offer
        .shares
        .into_iter()
        .find(|s| s.group().id() == gid)
        .ok_or(Error::IllegalParameter(
            "key_share for a group we did not offer",
        ))?;
    let group = share.group();
    let shared = keys_secret(share.agree(key)?);
    let mut transcript = prefix;
    let mut ch_body = Vec::new();
    hello.emit(&mut ch_body);
    m13::transcript_form(1, &ch_body, &mut transcript);
    m13::transcript_form(2, &rx.body, &mut transcript);
    core.timer.stop();
    core.flight.clear();
    core.peer_flight_start = Some(rx.seq);
    Engine::new(core, DtlsRole::Client, suite, group, transcript, &shared.0)
}

/// Wiped on drop.
struct SharedSecret(Vec<u8>);

impl Drop for SharedSecret {
    fn drop(&mut self) {
        self.0.iter_mut().for_each(|b| *b = 0);
    }
}

fn keys_secret(v: Vec<u8>) -> SharedSecret {
    SharedSecret(v)
}

/// What [`Engine::read_in_place`] did.
pub(crate) enum InPlace {
    /// Not a datagram of one protected record: take the ordinary path.
    NotSingle,
    /// Dropped and counted.
    Refused,
    /// Application data, at this range of the datagram.
    Data(std::ops::Range<usize>),
    /// Something else, handled (or a failure to report).
    Handled(Result<(), Error>),
}

/// What a server did with a 1.3 ClientHello.
pub(crate) enum Accepted {
    /// Answered with its flight: the connection is DTLS 1.3 from here.
    Engine(Box<Engine>),
    /// Sent a stateless HelloRetryRequest and forgot the hello.
    Retried,
}

/// The HelloRetryRequest a server sends (and rebuilds, byte for byte, from the cookie).
fn hrr_message(
    session_id: &[u8],
    suite: CipherSuite,
    group: Option<NamedGroup>,
    cookie: &[u8],
) -> Vec<u8> {
    let mut ext = Extensions::default();
    m13::set_ext(
        &mut ext,
        m13::SUPPORTED_VERSIONS,
        m13::DTLS13.to_be_bytes().to_vec(),
    );
    if let Some(g) = group {
        m13::set_ext(&mut ext, m13::KEY_SHARE, g.id().to_be_bytes().to_vec());
    }
    m13::set_ext(&mut ext, m13::COOKIE, m13::cookie_body(cookie));
    let mut body = Vec::new();
    ServerHello {
        version: m13::DTLS12,
        random: m13::HRR_RANDOM,
        session_id: session_id.to_vec(),
        cipher_suite: suite.id(),
        compression_method: 0,
        extensions: ext,
    }
    .emit(&mut body);
    body
}

const COOKIE_MAC_LEN: usize = 32;

fn cookie_mac(core: &Core, state: &[u8]) -> Result<ring::hmac::Tag, Error> {
    let key = core.cookie_key.as_ref().ok_or(Error::Crypto)?;
    let mut ctx = ring::hmac::Context::with_key(key);
    match core.remote {
        Some(std::net::SocketAddr::V4(a)) => {
            ctx.update(&a.ip().octets());
            ctx.update(&a.port().to_be_bytes());
        }
        Some(std::net::SocketAddr::V6(a)) => {
            ctx.update(&a.ip().octets());
            ctx.update(&a.port().to_be_bytes());
        }
        None => {}
    }
    ctx.update(state);
    Ok(ctx.sign())
}

/// The stateless cookie: suite, group (0: none), the first hello's hash, and a MAC over
/// them and the peer's address.
fn make_cookie(
    core: &Core,
    suite: CipherSuite,
    group: Option<NamedGroup>,
    ch1_hash: &[u8],
) -> Result<Vec<u8>, Error> {
    let mut c = Vec::with_capacity(5 + ch1_hash.len() + COOKIE_MAC_LEN);
    c.extend_from_slice(&suite.id().to_be_bytes());
    c.extend_from_slice(&group.map_or(0, |g| g.id()).to_be_bytes());
    c.push(ch1_hash.len() as u8);
    c.extend_from_slice(ch1_hash);
    let tag = cookie_mac(core, &c)?;
    c.extend_from_slice(tag.as_ref());
    Ok(c)
}

/// Opens a cookie of ours: `(suite, group, first hello's hash)`.
fn open_cookie(core: &Core, c: &[u8]) -> Option<(CipherSuite, Option<NamedGroup>, Vec<u8>)> {
    let split = c.len().checked_sub(COOKIE_MAC_LEN)?;
    let (state, mac) = c.split_at(split);
    let tag = cookie_mac(core, state).ok()?;
    if !ct_eq(tag.as_ref(), mac) {
        return None;
    }
    let suite = CipherSuite::from_id(u16::from_be_bytes([*state.first()?, *state.get(1)?]))?;
    let gid = u16::from_be_bytes([*state.get(2)?, *state.get(3)?]);
    let group = if gid == 0 {
        None
    } else {
        Some(NamedGroup::from_id(gid)?)
    };
    let hlen = usize::from(*state.get(4)?);
    let hash = state
        .get(5..5 + hlen)
        .filter(|h| h.len() + 5 == state.len())?;
    Some((suite, group, hash.to_vec()))
}

/// A server got a ClientHello offering 1.3: answers with its whole flight (ServerHello in
/// the clear, then EncryptedExtensions, CertificateRequest, Certificate, CertificateVerify,
/// Finished under the handshake keys).
pub(crate) fn server_accept(
    core: &mut Core,
    ch: &ClientHello,
    rx: &Complete,
    now: Instant,
) -> Result<Accepted, Error> {
    let cfg = core.config.clone();
    let retried =
        m13::cookie(&ch.extensions).and_then(|c| open_cookie(core, c).map(|o| (o, c.to_vec())));
    let suite = match &retried {
        Some(((s, ..), _)) => Some(*s).filter(|s| ch.cipher_suites.contains(&s.id())),
        None => cfg
            .dtls13_cipher_suites
            .iter()
            .copied()
            .find(|s| ch.cipher_suites.contains(&s.id())),
    }
    .ok_or(Error::NoCommonCipherSuite)?;
    let scheme = cfg.signing_key.scheme().id();
    if !ch
        .extensions
        .signature_algorithms
        .as_ref()
        .is_some_and(|a| a.contains(&scheme))
    {
        return Err(Error::NoCommonSignatureScheme);
    }
    let shares = m13::client_shares(&ch.extensions)?;
    let found = cfg
        .dtls13_groups
        .iter()
        .filter(|g| match &retried {
            Some(((_, Some(want), _), _)) => *g == want,
            _ => true,
        })
        .find_map(|g| {
            shares
                .iter()
                .find(|(id, _)| *id == g.id())
                .map(|(_, k)| (*g, *k))
        });
    let mut transcript = Vec::new();
    match (&retried, found) {
        (Some(((_, group, hash), cookie)), Some(_)) => {
            message_hash(hash, &mut transcript);
            let hrr = hrr_message(&ch.session_id, suite, *group, cookie);
            m13::transcript_form(2, &hrr, &mut transcript);
        }
        (Some(_), None) => {
            return Err(Error::IllegalParameter(
                "no key share after HelloRetryRequest",
            ))
        }
        (None, found) => {
            // Ask for another share when none fits, and for a cookie when we check return
            // routability (the 1.3 form of HelloVerifyRequest).
            let want = match found {
                Some(_) => None,
                None => {
                    let offered = ch.extensions.supported_groups.clone().unwrap_or_default();
                    Some(
                        cfg.dtls13_groups
                            .iter()
                            .copied()
                            .find(|g| offered.contains(&g.id()))
                            .ok_or(Error::NoCommonGroup)?,
                    )
                }
            };
            if want.is_some() || cfg.hello_verify {
                let mut ch1 = Vec::new();
                m13::transcript_form(1, &rx.body, &mut ch1);
                let h = ring::digest::digest(suite.prf_hash().digest_alg(), &ch1);
                let cookie = make_cookie(core, suite, want, h.as_ref())?;
                let body = hrr_message(&ch.session_id, suite, want, &cookie);
                let msg = [flight::Outgoing::Handshake {
                    epoch: 0,
                    msg_type: 2,
                    seq: rx.seq,
                    body,
                }];
                let mtu = cfg.mtu;
                for d in flight::emit(&msg, mtu, &mut core.records)? {
                    core.queue(d);
                }
                core.reassembly.expect_client_hello();
                return Ok(Accepted::Retried);
            }
        }
    }
    let (group, client_key) = found.ok_or(Error::NoCommonGroup)?;
    if core.handshake_deadline.is_none() {
        core.handshake_deadline = Some(now + cfg.handshake_timeout);
    }
    let mut m = [0u8; 32];
    core.random(&mut m)?;
    let (public, shared) = kx::respond(group, client_key, &mut core.key_random(), m)?;
    let shared = keys_secret(shared);
    let mut random = [0u8; 32];
    core.random(&mut random)?;
    let mut ext = Extensions::default();
    m13::set_ext(
        &mut ext,
        m13::SUPPORTED_VERSIONS,
        m13::DTLS13.to_be_bytes().to_vec(),
    );
    m13::set_ext(
        &mut ext,
        m13::KEY_SHARE,
        m13::server_share_body(group.id(), &public),
    );
    let sh = ServerHello {
        version: m13::DTLS12,
        random,
        session_id: ch.session_id.clone(),
        cipher_suite: suite.id(),
        compression_method: 0,
        extensions: ext,
    };
    let mut sh_body = Vec::new();
    sh.emit(&mut sh_body);
    m13::transcript_form(1, &rx.body, &mut transcript);
    m13::transcript_form(2, &sh_body, &mut transcript);

    let mut e = Engine::new(core, DtlsRole::Server, suite, group, transcript, &shared.0)?;
    // The ServerHello answers hello `rx.seq` (0, or 1 after a HelloRetryRequest).
    core.send_seq = rx.seq;
    core.reassembly.expect(rx.seq.wrapping_add(1));
    core.peer_flight_start = Some(rx.seq);
    core.flight.clear();
    let seq = core.send_seq;
    core.send_seq = core.send_seq.wrapping_add(1);
    core.flight.push(flight::Outgoing::Handshake {
        epoch: 0,
        msg_type: 2,
        seq,
        body: sh_body,
    });
    e.srtp = choose_srtp(core, ch.extensions.use_srtp.as_ref());
    let ee = Msg13::EncryptedExtensions(Extensions {
        use_srtp: e.srtp.and_then(|p| p.dtls_id()).map(|id| UseSrtp {
            profiles: vec![id],
            mki: Vec::new(),
        }),
        ..Extensions::default()
    });
    e.push(core, 2, &ee);
    let cr = Msg13::CertificateRequest {
        context: Vec::new(),
        ext: Extensions {
            signature_algorithms: Some(SCHEMES13.to_vec()),
            ..Extensions::default()
        },
    };
    e.push(core, 2, &cr);
    let cert = Msg13::Certificate {
        context: Vec::new(),
        chain: vec![cfg.certificate.der().to_vec()],
    };
    e.push(core, 2, &cert);
    e.push_certificate_verify(core, true)?;
    let fin = keys::finished(e.hash, &e.s_hs, e.th().as_ref())?;
    e.push(core, 2, &Msg13::Finished(fin));
    e.derive_application()?;
    e.transmit(core)?;
    core.timer.start(now);
    Ok(Accepted::Engine(Box::new(e)))
}
