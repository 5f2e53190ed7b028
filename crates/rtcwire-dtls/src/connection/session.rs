//! Handshake state shared by client and server: transcript, randoms, negotiated parameters,
//! and the steps both sides take the same way (peer certificate check, key derivation,
//! Finished).

use super::Core;
use crate::cert::{subject_public_key, Fingerprint, FingerprintAlgorithm, PublicKeyKind};
use crate::crypto::prf::{self, PrfHash};
use crate::crypto::suite::{Authentication, CipherSuite};
use crate::crypto::{self, KeyBlock};
use crate::handshake::reassembly::Complete;
use crate::handshake::{Certificate, HandshakeHeader, Message};
use crate::record::Protection;
use crate::Error;
use rtcwire_proto::{DtlsRole, KeyingMaterial, SrtpProfile};

/// The exporter label of RFC 5764 §4.2.
pub(crate) const SRTP_EXPORTER_LABEL: &[u8] = b"EXTRACTOR-dtls_srtp";

/// What is known once the hellos are exchanged: the randoms, the transcript so far and the
/// negotiated parameters. The handshake states below each hold exactly what they know
/// (rustls-style): nothing is a default standing in for a value not negotiated yet.
pub(crate) struct Negotiated {
    pub(crate) role: DtlsRole,
    /// Every handshake message so far, with unfragmented DTLS headers.
    pub(crate) transcript: Vec<u8>,
    pub(crate) client_random: [u8; 32],
    pub(crate) server_random: [u8; 32],
    pub(crate) suite: CipherSuite,
    pub(crate) ems: bool,
    pub(crate) srtp: Option<SrtpProfile>,
}

impl std::fmt::Debug for Negotiated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Negotiated")
            .field("role", &self.role)
            .field("suite", &self.suite)
            .field("ems", &self.ems)
            .field("srtp", &self.srtp)
            .finish_non_exhaustive()
    }
}

impl Negotiated {
    pub(crate) fn hash(&self) -> PrfHash {
        self.suite.prf_hash()
    }

    /// Adds a message we sent or received (with its message_seq) to the transcript.
    pub(crate) fn add(&mut self, msg: &Message, seq: u16) {
        self.transcript.extend_from_slice(&msg.to_bytes(seq));
    }

    /// Adds a received message exactly as it came (extension order and all).
    pub(crate) fn add_raw(&mut self, rx: &Complete) {
        let length = rx.body.len() as u32;
        HandshakeHeader {
            msg_type: rx.msg_type,
            length,
            message_seq: rx.seq,
            fragment_offset: 0,
            fragment_length: length,
        }
        .emit(&mut self.transcript);
        self.transcript.extend_from_slice(&rx.body);
    }

    /// Checks the peer's Certificate against the remote fingerprints and the suite; the
    /// handshake then knows who the peer is.
    pub(crate) fn authenticate(
        self,
        core: &Core,
        cert: &Certificate,
        need: Option<Authentication>,
    ) -> Result<Authenticated, Error> {
        let leaf = cert.chain.first().ok_or(Error::NoPeerCertificate)?;
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
        let spk = subject_public_key(leaf).ok_or(Error::BadCertificate("no public key found"))?;
        let ok = match need {
            // RFC 8422 §2: EdDSA certificates go with the ECDHE_ECDSA suites.
            Some(Authentication::Ecdsa) => {
                matches!(
                    spk.kind,
                    PublicKeyKind::EcdsaP256 | PublicKeyKind::EcdsaP384 | PublicKeyKind::Ed25519
                )
            }
            Some(Authentication::Rsa) => spk.kind == PublicKeyKind::Rsa,
            None => true,
        };
        if !ok {
            return Err(Error::BadCertificate(
                "key type does not fit the cipher suite",
            ));
        }
        Ok(Authenticated {
            n: self,
            peer_cert: leaf.clone(),
        })
    }
}

/// Secret bytes (a premaster secret) wiped when dropped; `Debug` shows only the length.
pub(crate) struct Secret(pub(crate) Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({} bytes)", self.0.len())
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.iter_mut().for_each(|b| *b = 0);
    }
}

/// Negotiated, and the peer's certificate checked against the SDP fingerprint.
#[derive(Debug)]
pub(crate) struct Authenticated {
    pub(crate) n: Negotiated,
    /// The peer's leaf certificate (DER).
    pub(crate) peer_cert: Vec<u8>,
}

impl Authenticated {
    /// Derives the master secret from the premaster secret. Call right after the
    /// ClientKeyExchange entered the transcript (the EMS session hash ends there).
    pub(crate) fn derive_master(self, pre_master: &[u8]) -> Keyed {
        let n = &self.n;
        let session_hash = n.ems.then(|| n.hash().hash(&n.transcript));
        let master = prf::master_secret(
            n.hash(),
            pre_master,
            &n.client_random,
            &n.server_random,
            session_hash.as_ref().map(|h| h.as_ref()),
        );
        Keyed { a: self, master }
    }
}

/// Authenticated, with the master secret: record keys, Finished and the exporter follow.
pub(crate) struct Keyed {
    pub(crate) a: Authenticated,
    master: [u8; 48],
}

impl std::fmt::Debug for Keyed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyed")
            .field("negotiated", &self.a.n)
            .finish_non_exhaustive()
    }
}

impl Drop for Keyed {
    fn drop(&mut self) {
        self.master.iter_mut().for_each(|b| *b = 0);
    }
}

impl Keyed {
    pub(crate) fn add(&mut self, msg: &Message, seq: u16) {
        self.a.n.add(msg, seq);
    }

    pub(crate) fn add_raw(&mut self, rx: &Complete) {
        self.a.n.add_raw(rx);
    }

    pub(crate) fn transcript(&self) -> &[u8] {
        &self.a.n.transcript
    }

    /// `(write, read)` record protection for epoch 1.
    pub(crate) fn protections(&self) -> Result<(Protection, Protection), Error> {
        let n = &self.a.n;
        let bulk = n.suite.bulk();
        let kb = KeyBlock::derive(
            n.hash(),
            bulk,
            &self.master,
            &n.client_random,
            &n.server_random,
        );
        let client = Protection::new(bulk, &kb.client_key, &kb.client_iv)?;
        let server = Protection::new(bulk, &kb.server_key, &kb.server_iv)?;
        Ok(match n.role {
            DtlsRole::Client => (client, server),
            DtlsRole::Server => (server, client),
        })
    }

    /// `verify_data` for the Finished sent by `client` (true) or server, over the transcript
    /// as it stands.
    pub(crate) fn verify_data(&self, client: bool) -> [u8; 12] {
        prf::verify_data(self.a.n.hash(), &self.master, client, &self.a.n.transcript)
    }

    /// What the application keeps once connected.
    pub(crate) fn into_session(mut self) -> Result<Session, Error> {
        let n = &self.a.n;
        let srtp = match n.srtp {
            Some(p) => {
                let mut km = vec![0u8; p.keying_material_len()];
                crypto::export(
                    n.hash(),
                    &self.master,
                    SRTP_EXPORTER_LABEL,
                    &n.client_random,
                    &n.server_random,
                    &mut km,
                );
                Some(KeyingMaterial::new(p, km).map_err(|_| Error::Crypto)?)
            }
            None => None,
        };
        let peer_certificate = std::mem::take(&mut self.a.peer_cert);
        let n = &self.a.n;
        Ok(Session {
            suite: n.suite,
            srtp,
            peer_fingerprint: crate::cert::fingerprint_of(
                FingerprintAlgorithm::Sha256,
                &peer_certificate,
            )
            .ok_or(Error::Crypto)?,
            peer_certificate,
            master: self.master,
            client_random: n.client_random,
            server_random: n.server_random,
            ems: n.ems,
        })
    }
}

/// What remains of a completed handshake.
pub(crate) struct Session {
    pub(crate) suite: CipherSuite,
    pub(crate) srtp: Option<KeyingMaterial>,
    pub(crate) peer_fingerprint: Fingerprint,
    pub(crate) peer_certificate: Vec<u8>,
    master: [u8; 48],
    client_random: [u8; 32],
    server_random: [u8; 32],
    pub(crate) ems: bool,
}

impl Session {
    /// RFC 5705 exporter without context.
    pub(crate) fn export(&self, label: &[u8], out: &mut [u8]) {
        crypto::export(
            self.suite.prf_hash(),
            &self.master,
            label,
            &self.client_random,
            &self.server_random,
            out,
        );
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.master.iter_mut().for_each(|b| *b = 0);
    }
}

/// Constant-time equality for verify_data and cookies: the workspace's one.
pub(crate) use rtcwire_proto::ct_eq;
