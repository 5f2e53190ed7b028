//! The server's handshake states (RFC 6347 §4.2.4 flights 2, 4 and 6). Until a ClientHello
//! carries a valid cookie the server keeps no per-client state: it answers with a
//! HelloVerifyRequest computed from the hello itself.

use super::session::{ct_eq, Authenticated, Keyed, Negotiated};
use super::{cookie, Core};
use crate::crypto::kx::{KeyShare, NamedGroup};
use crate::crypto::sign::{self, SignatureScheme};
use crate::crypto::suite::Authentication;
use crate::flight::{self, Outgoing};
use crate::handshake::reassembly::Complete;
use crate::handshake::{
    Certificate, CertificateRequest, ClientHello, Extensions, Finished, HelloVerifyRequest,
    Message, ServerHello, ServerKeyExchange, UseSrtp, ECDSA_SIGN, RSA_SIGN,
};
use crate::record::{DTLS_1_0, DTLS_1_2};
use crate::{CipherSuite, Error};
use rtcwire_proto::{DtlsRole, SrtpProfile};
use std::time::Instant;

/// `TLS_EMPTY_RENEGOTIATION_INFO_SCSV` (RFC 5746 §3.3).
const RENEGOTIATION_SCSV: u16 = 0x00ff;

/// The server's handshake, between the first ClientHello and the client's Finished.
#[derive(Debug)]
#[allow(clippy::enum_variant_names)] // named by the awaited message, as rustls does
pub(crate) enum ServerState {
    /// Waiting for a ClientHello (with a valid cookie when cookies are on).
    ExpectClientHello,
    /// Sent flight 4; the client's Certificate comes next.
    ExpectCertificate { n: Negotiated, share: KeyShare },
    /// The ClientKeyExchange comes next.
    ExpectClientKeyExchange { a: Authenticated, share: KeyShare },
    /// The CertificateVerify comes next.
    ExpectCertificateVerify(Keyed),
    /// The client's Finished (epoch 1) comes next.
    ExpectFinished(Keyed),
}

impl ServerState {
    pub(crate) fn start() -> Self {
        ServerState::ExpectClientHello
    }
}

fn unexpected(expected: &'static str, got: &Message) -> Error {
    Error::UnexpectedMessage {
        expected,
        got: got.kind().name(),
    }
}

/// Handles one complete message. `Ok(None)` means connected.
pub(crate) fn handle(
    core: &mut Core,
    state: ServerState,
    now: Instant,
    msg: Message,
    rx: &Complete,
) -> Result<Option<ServerState>, Error> {
    use ServerState as S;
    Ok(Some(match (state, msg) {
        (S::ExpectClientHello, Message::ClientHello(ch)) => {
            if ch.version > DTLS_1_2 {
                // Larger is older in DTLS version numbering: 1.0 is 0xfeff.
                return Err(Error::UnsupportedVersion(ch.version));
            }
            if core.config.hello_verify && !cookie::verify(core.cookie_key(), core.remote(), &ch) {
                hello_verify(core, &ch, rx.seq)?;
                core.reassembly().expect_client_hello();
                return Ok(Some(S::ExpectClientHello));
            }
            let (n, share) = flight4(core, ch, rx, now)?;
            S::ExpectCertificate { n, share }
        }
        (S::ExpectCertificate { mut n, share }, Message::Certificate(c)) => {
            if c.chain.is_empty() {
                return Err(Error::NoPeerCertificate);
            }
            core.set_peer_flight_start(rx.seq);
            n.add_raw(rx);
            let a = n.authenticate(core, &c, None)?;
            S::ExpectClientKeyExchange { a, share }
        }
        (S::ExpectCertificate { .. }, Message::ClientKeyExchange(_)) => {
            return Err(Error::NoPeerCertificate)
        }
        (S::ExpectClientKeyExchange { mut a, share }, Message::ClientKeyExchange(cke)) => {
            let pre_master = super::session::Secret(share.agree(&cke.public)?);
            a.n.add_raw(rx);
            let hs = a.derive_master(&pre_master.0);
            let (_, read) = hs.protections()?;
            core.records().install_read(read);
            S::ExpectCertificateVerify(hs)
        }
        (S::ExpectCertificateVerify(mut hs), Message::CertificateVerify(cv)) => {
            let spk = crate::cert::subject_public_key(&hs.a.peer_cert)
                .ok_or(Error::BadCertificate("no public key found"))?;
            let scheme = SignatureScheme::from_id(cv.scheme)
                .filter(|s| s.fits(spk.kind))
                .ok_or(Error::NoCommonSignatureScheme)?;
            sign::verify(&spk, scheme, hs.transcript(), &cv.signature)?;
            hs.add_raw(rx);
            S::ExpectFinished(hs)
        }
        (S::ExpectFinished(mut hs), Message::Finished(f)) => {
            if !ct_eq(&hs.verify_data(true), &f.verify_data) {
                return Err(Error::FinishedMismatch);
            }
            hs.add_raw(rx);
            core.new_flight();
            core.push_ccs();
            let (write, _) = hs.protections()?;
            core.records().install_write(write);
            let m = Message::Finished(Finished {
                verify_data: hs.verify_data(false).to_vec(),
            });
            let s = core.push(1, &m);
            hs.add(&m, s);
            // The last flight: re-sent only when the client repeats its own (§4.2.4).
            core.send_flight(now, false)?;
            core.connected(hs)?;
            return Ok(None);
        }
        (S::ExpectClientHello, Message::ClientKeyExchange(_) | Message::Finished(_)) => {
            // Stray messages before any state exists are ignored, not fatal.
            return Ok(Some(S::ExpectClientHello));
        }
        (s, m) => {
            return Err(unexpected(
                match s {
                    S::ExpectClientHello => "ClientHello",
                    S::ExpectCertificate { .. } => "Certificate",
                    S::ExpectClientKeyExchange { .. } => "ClientKeyExchange",
                    S::ExpectCertificateVerify(_) => "CertificateVerify",
                    S::ExpectFinished(_) => "Finished",
                },
                &m,
            ))
        }
    }))
}

/// Flight 2: a HelloVerifyRequest, sent once and forgotten (the client retransmits).
fn hello_verify(core: &mut Core, ch: &ClientHello, seq: u16) -> Result<(), Error> {
    let hvr = Message::HelloVerifyRequest(HelloVerifyRequest {
        version: DTLS_1_0,
        cookie: cookie::compute(core.cookie_key(), core.remote(), ch)?,
    });
    let mut body = Vec::new();
    hvr.emit_body(&mut body);
    let msg = [Outgoing::Handshake {
        epoch: 0,
        msg_type: hvr.kind().code(),
        seq,
        body,
    }];
    // RFC 6347 §4.2.1: the HelloVerifyRequest reuses the ClientHello's record number.
    let rseq = core.last_read_seq();
    core.records().set_epoch0_seq(rseq);
    let mtu = core.config.mtu;
    for d in flight::emit(&msg, mtu, core.records())? {
        core.queue(d);
    }
    Ok(())
}

fn choose_suite(core: &Core, ch: &ClientHello) -> Result<CipherSuite, Error> {
    core.config
        .cipher_suites
        .iter()
        .copied()
        .filter(|s| s.authentication() == Authentication::Ecdsa)
        .find(|s| ch.cipher_suites.contains(&s.id()))
        .ok_or(Error::NoCommonCipherSuite)
}

fn choose_group(core: &Core, ext: &Extensions) -> Result<NamedGroup, Error> {
    let theirs = ext
        .supported_groups
        .clone()
        .unwrap_or_else(|| vec![NamedGroup::Secp256r1.id()]);
    core.config
        .groups
        .iter()
        .copied()
        .find(|g| theirs.contains(&g.id()))
        .ok_or(Error::NoCommonGroup)
}

/// Our preference order decides among the profiles the client offers.
fn choose_srtp(core: &Core, ext: &Extensions) -> Option<SrtpProfile> {
    let offered = ext.use_srtp.as_ref()?;
    core.config
        .srtp_profiles
        .iter()
        .copied()
        .find(|p| p.dtls_id().is_some_and(|id| offered.profiles.contains(&id)))
}

/// Flight 4: ServerHello, Certificate, ServerKeyExchange, CertificateRequest,
/// ServerHelloDone.
fn flight4(
    core: &mut Core,
    ch: ClientHello,
    rx: &Complete,
    now: Instant,
) -> Result<(Negotiated, KeyShare), Error> {
    let suite = choose_suite(core, &ch)?;
    let group = choose_group(core, &ch.extensions)?;
    let key = &core.config.signing_key;
    let scheme = key.scheme();
    if ch
        .extensions
        .signature_algorithms
        .as_ref()
        .is_some_and(|a| !a.contains(&scheme.id()))
    {
        return Err(Error::NoCommonSignatureScheme);
    }
    if ch
        .extensions
        .renegotiation_info
        .as_ref()
        .is_some_and(|r| !r.is_empty())
    {
        return Err(Error::RenegotiationRefused);
    }
    let secure_renegotiation = ch.extensions.renegotiation_info.is_some()
        || ch.cipher_suites.contains(&RENEGOTIATION_SCSV);

    if core.handshake_deadline.is_none() {
        core.handshake_deadline = Some(now + core.config.handshake_timeout);
    }
    let mut server_random = [0u8; 32];
    core.random(&mut server_random)?;
    if core.config.dtls13 {
        // RFC 8446 §4.1.3: we could have done 1.3; a client that offered it will notice.
        if let Some(tail) = server_random.get_mut(24..) {
            tail.copy_from_slice(&crate::v13::messages::DOWNGRADE_TLS12);
        }
    }
    let mut hs = Negotiated {
        role: DtlsRole::Server,
        transcript: Vec::new(),
        client_random: ch.random,
        server_random,
        suite,
        ems: ch.extensions.extended_master_secret,
        srtp: choose_srtp(core, &ch.extensions),
    };
    hs.add_raw(rx);

    // Our counter follows the client's (ServerHello answers hello `seq`); records continue
    // from the hello's record number.
    let seq = rx.seq;
    core.set_send_seq(seq);
    let rseq = core.last_read_seq();
    core.records().set_epoch0_seq(rseq);
    core.reassembly().expect(seq.wrapping_add(1));
    core.set_peer_flight_start(seq);
    core.new_flight();

    // RFC 9146 §3: ids only when both ask; ours goes in the ServerHello.
    let connection_id = match (
        core.config.connection_id.clone(),
        &ch.extensions.connection_id,
    ) {
        (Some(ours), Some(peer)) => {
            core.use_connection_ids(peer);
            Some(ours)
        }
        _ => None,
    };
    let sh = Message::ServerHello(ServerHello {
        version: DTLS_1_2,
        random: hs.server_random,
        session_id: Vec::new(),
        cipher_suite: suite.id(),
        compression_method: 0,
        extensions: Extensions {
            extended_master_secret: hs.ems,
            renegotiation_info: secure_renegotiation.then(Vec::new),
            ec_point_formats: ch.extensions.ec_point_formats.as_ref().map(|_| vec![0]),
            use_srtp: hs.srtp.and_then(|p| p.dtls_id()).map(|id| UseSrtp {
                profiles: vec![id],
                mki: Vec::new(),
            }),
            connection_id,
            ..Extensions::default()
        },
    });
    let s = core.push(0, &sh);
    hs.add(&sh, s);

    let cert = Message::Certificate(Certificate {
        chain: vec![core.config.certificate.der().to_vec()],
    });
    let s = core.push(0, &cert);
    hs.add(&cert, s);

    let share = KeyShare::generate(group, &mut core.key_random())?;
    let params = ServerKeyExchange::params_of(group.id(), share.public());
    let mut signed = Vec::with_capacity(64 + params.len());
    signed.extend_from_slice(&hs.client_random);
    signed.extend_from_slice(&hs.server_random);
    signed.extend_from_slice(&params);
    let config = core.config.clone();
    let signature = config.signing_key.sign(&signed, &mut core.key_random())?;
    let ske = Message::ServerKeyExchange(ServerKeyExchange {
        group: share.group().id(),
        public: share.public().to_vec(),
        scheme: scheme.id(),
        signature,
    });
    let s = core.push(0, &ske);
    hs.add(&ske, s);

    let cr = Message::CertificateRequest(CertificateRequest {
        certificate_types: vec![ECDSA_SIGN, RSA_SIGN],
        signature_algorithms: SignatureScheme::ALL.iter().map(|s| s.id()).collect(),
        authorities: Vec::new(),
    });
    let s = core.push(0, &cr);
    hs.add(&cr, s);

    let s = core.push(0, &Message::ServerHelloDone);
    hs.add(&Message::ServerHelloDone, s);
    core.send_flight(now, true)?;
    Ok((hs, share))
}
